/* libFuzzer target: what libsbprov reads from Azure's answers, on arbitrary
 * bytes. The first input byte picks the claimed content type and the HTTP
 * status; the rest is the body, read as
 *   - a DPS operation result (assigned, failed, disabled ...),
 *   - an IoT Hub registry Device (with its keys),
 *   - the error body of an unexpected status (errorCode, message).
 * Every call must end in one of its documented results; nothing may crash,
 * leak or read out of bounds. Built and run by tests/fuzz/run-fuzzer.sh. */
#include "azure_conn.h"
#include "fuzz_check.h"

#include <sbprov/sbprov.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const media[] = {"application/json", "text/plain", "", "application/json"};
static const int statuses[] = {200, 202, 400, 401, 404, 409, 412, 429, 500, 503, 204, 302};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbprov__http_response resp;
    sbprov_azure_dps_result *r = NULL;
    sbprov_azure_device *d = NULL;
    char *text;
    size_t len;
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
    resp.info.status = statuses[data[0] % 12];
    resp.info.retry_after_s = (data[0] & 0x10) ? 3 : -1;
    resp.body = text;
    resp.body_len = len;
    snprintf(resp.media_type, sizeof resp.media_type, "%s", media[(data[0] >> 5) % 4]);

    rc = sbprov__azure_dps_result_parse(&r, &resp, "fuzz");
    CHECK(rc == SBPROV_OK || rc == SBPROV_ERESPONSE || rc == SBPROV_ENOMEM);
    if (rc == SBPROV_OK) {
        CHECK(sbprov_azure_dps_result_status(r) != NULL && sbprov_azure_dps_result_json(r) != NULL);
        if (strcmp(sbprov_azure_dps_result_status(r), "assigned") == 0)
            CHECK(sbprov_azure_check_device_id(sbprov_azure_dps_result_device_id(r)) == SBPROV_OK &&
                  sbprov_azure_dps_result_hub(r) != NULL);
        sbprov_azure_dps_result_free(r);
    }
    rc = sbprov__azure_device_parse(&d, &resp, "fuzz");
    CHECK(rc == SBPROV_OK || rc == SBPROV_ERESPONSE || rc == SBPROV_ENOMEM);
    if (rc == SBPROV_OK) {
        CHECK(sbprov_azure_check_device_id(sbprov_azure_device_id(d)) == SBPROV_OK);
        CHECK(sbprov_azure_device_etag(d) != NULL && sbprov_azure_device_status(d) != NULL);
        sbprov_azure_device_free(d);
    }
    rc = sbprov__azure_status_fail(&resp, "fuzz");
    CHECK(rc < 0 && strlen(sbprov_last_error()) < 4096);
    free(text);
    return 0;
}
