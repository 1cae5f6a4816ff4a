/* Helpers shared by the CMocka unit tests. */
#ifndef SBPROV_TEST_UTIL_H
#define SBPROV_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sbprov/sbprov.h>

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Assert a call fails with `code` and its detail message contains `needle`. */
#define assert_fails_with(call, code, needle)                                              \
    do {                                                                                   \
        sbprov_clear_error();                                                              \
        sbprov_result rc_ = (call);                                                        \
        if (rc_ != (code))                                                                 \
            fail_msg("%s: expected %d, got %d (%s)", #call, (int)(code), (int)rc_,         \
                     sbprov_last_error());                                                 \
        if (strstr(sbprov_last_error(), (needle)) == NULL)                                 \
            fail_msg("%s: message '%s' lacks '%s'", #call, sbprov_last_error(), (needle)); \
    } while (0)

#define assert_ok(call)                                                                     \
    do {                                                                                    \
        sbprov_result rc_ = (call);                                                         \
        if (rc_ != SBPROV_OK)                                                               \
            fail_msg("%s: failed with %d (%s)", #call, (int)rc_, sbprov_last_error());       \
    } while (0)

/* Decode lowercase/uppercase hex into out (returns the byte count). */
static inline size_t test_hex(uint8_t *out, const char *hex)
{
    size_t n = 0;
    for (; hex[2 * n] != '\0'; n++) {
        unsigned int b;
        if (sscanf(hex + 2 * n, "%2x", &b) != 1)
            break;
        out[n] = (uint8_t)b;
    }
    return n;
}

/* Read a whole file into a NUL-terminated heap buffer (free() it); the test
 * fails if the file cannot be read. `len` may be NULL. */
static inline char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

/* Parse a JSON file of the shared vectors directory ($SBPROV_VECTORS or the
 * configured default); skips the calling test when the file is absent. */
static inline cJSON *test_vectors_json(const char *name)
{
    char path[1024];
    const char *dir = getenv("SBPROV_VECTORS");
    char *text;
    cJSON *root;
    FILE *probe;

    snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : SBPROV_TEST_VECTORS_DIR, name);
    probe = fopen(path, "rb");
    if (probe == NULL) {
        print_message("vector file %s not found: skipped\n", path);
        skip();
    }
    fclose(probe);
    text = test_slurp(path, NULL);
    root = cJSON_Parse(text);
    free(text);
    if (root == NULL)
        fail_msg("%s is not valid JSON", path);
    return root;
}

#endif
