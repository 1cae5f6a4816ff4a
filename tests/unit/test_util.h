/* Helpers shared by the CMocka unit tests. */
#ifndef SBPROV_TEST_UTIL_H
#define SBPROV_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sbprov/sbprov.h>

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

/* Read a file below the shared vectors directory; NULL if it is absent. */
static inline char *test_read_vector_file(const char *name)
{
    char path[1024];
    const char *dir = getenv("SBPROV_VECTORS");
    FILE *f;
    long size;
    char *buf;

    snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : SBPROV_TEST_VECTORS_DIR, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1);
    if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size)
        buf[size] = '\0';
    fclose(f);
    return buf;
}

#endif
