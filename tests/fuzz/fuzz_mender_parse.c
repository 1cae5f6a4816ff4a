/* libFuzzer target: everything libsbprov reads from a Mender server's
 * answers, on arbitrary bytes. The first input byte picks the content type
 * the "server" claims (application/json, application/jwt, text/html, none);
 * the rest is the body, which goes in turn through
 *   - the token reader and the JWT claims decoder (200 of an auth request),
 *   - the Device parser (409 of a preauthorization, GET device),
 *   - the device list parser (GET devices),
 *   - the deployment parser (200 of deployments/next),
 *   - the error-body reader of an unexpected status,
 *   - the Location and Link header readers (the body as a header value).
 * Every call must end in one of its documented results; nothing may crash,
 * leak or read out of bounds. Built and run by tests/fuzz/run-fuzzer.sh. */
#include "mender_internal.h"
#include "fuzz_check.h"

#include <sbprov/sbprov.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const media[] = {"application/json", "application/jwt", "text/html", ""};

static int documented(sbprov_result rc)
{
    return rc == SBPROV_OK || rc == SBPROV_ERESPONSE || rc == SBPROV_ENOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbprov__http_response resp;
    sbprov_mender_device *dev = NULL;
    sbprov_mender_device_list *list = NULL;
    sbprov_mender_update *upd = NULL;
    char *token = NULL, *text, sub[SBPROV__MENDER_ID_MAX + 1], id[SBPROV__MENDER_ID_MAX + 1];
    size_t token_len = 0, len;
    int64_t exp;
    sbprov_result rc;

    if (size == 0)
        return 0;
    len = size - 1;
    if ((text = malloc(len + 1)) == NULL)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    memset(&resp, 0, sizeof resp);
    resp.info.struct_size = sizeof resp.info;
    resp.info.status = 200 + data[0] % 400;
    resp.info.retry_after_s = -1;
    resp.body = text;
    resp.body_len = len;
    snprintf(resp.media_type, sizeof resp.media_type, "%s", media[data[0] % 4]);
    resp.link_next = data[0] & 0x80;

    rc = sbprov__mender_take_token(&token, &token_len, text, len, "fuzz");
    CHECK(documented(rc));
    if (rc == SBPROV_OK) {
        CHECK(token_len == strlen(token) && token_len > 0);
        rc = sbprov__jwt_claims(&exp, sub, sizeof sub, token, token_len, "fuzz");
        CHECK(documented(rc));
        CHECK(strlen(sub) < sizeof sub);
        free(token);
    }
    rc = sbprov__mender_device_parse(&dev, &resp, "fuzz");
    CHECK(documented(rc));
    if (rc == SBPROV_OK) {
        CHECK(sbprov__mender_check_id(sbprov_mender_device_id(dev), "fuzz") == SBPROV_OK);
        CHECK(sbprov_mender_device_status(dev) != NULL && sbprov_mender_device_identity_json(dev) != NULL);
        for (size_t i = 0; i < sbprov_mender_device_auth_set_count(dev); i++)
            CHECK(sbprov_mender_device_auth_set_id(dev, i) != NULL);
        sbprov_mender_device_free(dev);
    }
    rc = sbprov__mender_device_list_parse(&list, &resp, "fuzz");
    CHECK(documented(rc));
    if (rc == SBPROV_OK) {
        for (size_t i = 0; i < sbprov_mender_device_list_count(list); i++)
            CHECK(sbprov_mender_device_list_get(list, i) != NULL);
        sbprov_mender_device_list_free(list);
    }
    rc = sbprov__mender_update_parse(&upd, &resp, "fuzz");
    CHECK(documented(rc));
    if (rc == SBPROV_OK) {
        CHECK(sbprov_mender_update_id(upd)[0] != '\0' && sbprov_mender_update_uri(upd)[0] != '\0');
        sbprov_mender_update_free(upd);
    }
    rc = sbprov__http_status_fail(&resp, "fuzz");
    CHECK(rc < 0 && strlen(sbprov_last_error()) < 4096);
    rc = sbprov__mender_id_from_location(id, sizeof id, text, "fuzz");
    CHECK(documented(rc));
    if (rc == SBPROV_OK)
        CHECK(sbprov__mender_check_id(id, "fuzz") == SBPROV_OK);
    (void)sbprov__http_link_has_next(text, len);
    free(text);
    return 0;
}
