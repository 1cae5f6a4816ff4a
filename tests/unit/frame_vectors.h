/* Reading tests/frame/vectors.json (made by the Python reference) in the C
 * frame tests: one copy of the loading and field helpers. */
#ifndef SBPROV_TEST_FRAME_VECTORS_H
#define SBPROV_TEST_FRAME_VECTORS_H

#include "test_util.h"

#ifndef SBPROV_FRAME_VECTORS
#  error "SBPROV_FRAME_VECTORS (the path of tests/frame/vectors.json) is not defined"
#endif

static cJSON *vectors(void)
{
    char *text = test_slurp(SBPROV_FRAME_VECTORS, NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (root == NULL)
        fail_msg("%s is not valid JSON", SBPROV_FRAME_VECTORS);
    return root;
}

static cJSON *get(const cJSON *o, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL)
        fail_msg("vector lacks '%s'", name);
    return v;
}

static int64_t get_int(const cJSON *o, const char *name)
{
    cJSON *v = get(o, name);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    assert_true(cJSON_IsNumber(v));
    return (int64_t)v->valuedouble;
}

static const char *get_str(const cJSON *o, const char *name)
{
    cJSON *v = get(o, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* Hex to a heap buffer (free() it). */
static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    assert_non_null(out);
    assert_int_equal(test_hex(out, hex), n);
    *len = n;
    return out;
}

#endif
