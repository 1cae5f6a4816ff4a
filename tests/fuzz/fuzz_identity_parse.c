/* libFuzzer target: sbprov_identity_parse() on arbitrary bytes, then
 * everything that consumes a parsed identity (canonical JSON, digest, ID
 * templates), with invariants checked on the way. Built and run by
 * tests/fuzz/run-fuzzer.sh. */
#include "fuzz_check.h"

#include <sbprov/sbprov.h>
#include <sbprov/identity.h>

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_known(sbprov_result rc, const sbprov_result *allowed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rc == allowed[i])
            return 1;
    return 0;
}

static void try_template(const sbprov_identity *id, const char *tpl)
{
    static const sbprov_result allowed[] = { SBPROV_OK, SBPROV_ENOTFOUND, SBPROV_EPARSE, SBPROV_EID, SBPROV_EBUFS };
    char out[160];
    size_t len = 0;
    sbprov_result rc = sbprov_identity_format_id(out, sizeof out, &len, id, tpl);
    CHECK(is_known(rc, allowed, sizeof allowed / sizeof allowed[0]));
    CHECK(rc != SBPROV_EBUFS); /* an ID is at most 128 characters */
    if (rc == SBPROV_OK)
        CHECK(len == strlen(out) && len >= 1 && len <= 128);
    CHECK(sbprov_last_error()[0] != '\0' || rc == SBPROV_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbprov_identity *id = NULL;
    sbprov_result rc = sbprov_identity_parse(&id, (const char *)data, size);
    char small[8], digest[SBPROV_IDENTITY_DIGEST_SIZE], *json, tpl[2100];
    size_t needed = 0, len = 0, count;

    if (rc != SBPROV_OK) {
        CHECK(rc == SBPROV_EPARSE && id == NULL);
        CHECK(strncmp(sbprov_last_error(), "line ", 5) == 0);
        return 0;
    }
    count = sbprov_identity_count(id);
    CHECK(count <= 256);
    if (count == 0) {
        CHECK(sbprov_identity_canonical_json(small, sizeof small, &needed, id) == SBPROV_EINVAL);
        sbprov_identity_free(id);
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = sbprov_identity_name(id, i);
        size_t nv = sbprov_identity_value_count(id, i);
        CHECK(name != NULL && name[0] != '\0' && strchr(name, '=') == NULL && strlen(name) <= 1024);
        CHECK(nv >= 1 && nv <= 256);
        CHECK(sbprov_identity_get(id, name) == sbprov_identity_value(id, i, 0));
        for (size_t v = 0; v < nv; v++) {
            const char *value = sbprov_identity_value(id, i, v);
            CHECK(value != NULL && strlen(value) <= 4096 && strpbrk(value, "\r\n") == NULL);
        }
        CHECK(sbprov_identity_value(id, i, nv) == NULL);
    }
    CHECK(sbprov_identity_name(id, count) == NULL);

    /* Size query, then the real call; the JSON must parse as an object. */
    rc = sbprov_identity_canonical_json(small, 1, &needed, id);
    CHECK(rc == SBPROV_EBUFS && needed >= 8);
    json = malloc(needed);
    CHECK(json != NULL);
    CHECK(sbprov_identity_canonical_json(json, needed, &len, id) == SBPROV_OK);
    CHECK(len + 1 == needed && json[0] == '{' && json[len - 1] == '}' && strlen(json) == len);
    cJSON *doc = cJSON_ParseWithLength(json, len);
    CHECK(doc != NULL && cJSON_IsObject(doc));
    CHECK((size_t)cJSON_GetArraySize(doc) <= count);
    cJSON_Delete(doc);
    free(json);

    CHECK(sbprov_identity_digest(digest, sizeof digest, &len, id) == SBPROV_OK);
    CHECK(len == 64 && strspn(digest, "0123456789abcdef") == 64);

    /* Templates naming the first attribute, and the first value as a template. */
    const char *name = sbprov_identity_name(id, 0);
    snprintf(tpl, sizeof tpl, "{%s}", name);
    try_template(id, tpl);
    snprintf(tpl, sizeof tpl, "gw-{%s:compact}", name);
    try_template(id, tpl);
    snprintf(tpl, sizeof tpl, "{%s:lower}-{{x}}", name);
    try_template(id, tpl);
    try_template(id, sbprov_identity_value(id, 0, 0));
    sbprov_identity_free(id);
    return 0;
}
