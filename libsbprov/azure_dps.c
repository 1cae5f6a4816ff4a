/* DPS registration over HTTPS with a symmetric key: PUT register, then poll
 * the operation until it is no longer "assigning" (azure_http.h). */
#include "azure_conn.h"

#include "error.h"
#include "options.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SIZE (offsetof(sbprov_azure_dps_options, max_clock_skew_s) + sizeof(uint32_t))
#define POLL_DEFAULT_S 3
#define POLL_MAX_S 300
#define OPERATION_ID_MAX 256

struct sbprov_azure_dps {
    sbprov__azure_conn conn;
    char *id_scope, *registration_id;
};

struct sbprov_azure_dps_result {
    char *status, *hub, *device_id, *substatus, *error_message, *json;
    int32_t error_code;
};

sbprov_result sbprov_azure_dps_options_init(sbprov_azure_dps_options *opts, size_t struct_size)
{
    return sbprov__options_init(opts, struct_size, FIRST_SIZE, "dps options");
}

void sbprov_azure_dps_free(sbprov_azure_dps *dps)
{
    if (dps == NULL)
        return;
    sbprov__azure_conn_free(&dps->conn);
    free(dps->id_scope);
    free(dps->registration_id);
    free(dps);
}

sbprov_result sbprov_azure_dps_new(sbprov_azure_dps **out, const char *id_scope, const char *registration_id,
                                   const char *key, size_t key_len, const sbprov_azure_dps_options *opts)
{
    sbprov_azure_dps_options o;
    sbprov_azure_dps *dps;
    char resource[SBPROV_AZURE_RESOURCE_URI_MAX_LEN + 1];
    sbprov_result rc;

    if (out == NULL || id_scope == NULL || registration_id == NULL || key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "dps: NULL argument");
    *out = NULL;
    rc = opts == NULL ? sbprov_azure_dps_options_init(&o, sizeof o)
                      : sbprov__options_load(&o, opts, FIRST_SIZE, sizeof o, "dps options");
    if (rc != SBPROV_OK)
        return rc;
    /* Checks the ID scope and the registration ID. */
    if ((rc = sbprov_azure_dps_registration_uri(resource, sizeof resource, NULL, id_scope, registration_id)) !=
        SBPROV_OK)
        return rc;
    if ((dps = calloc(1, sizeof *dps)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "dps: out of memory");
    rc = sbprov__azure_conn_init(&dps->conn, o.endpoint, SBPROV_AZURE_DPS_ENDPOINT, o.http, resource, "registration",
                                 key, key_len, o.token_ttl_s, o.max_clock_skew_s, "azure dps");
    if (rc == SBPROV_OK && ((dps->id_scope = strdup(id_scope)) == NULL ||
                            (dps->registration_id = strdup(registration_id)) == NULL))
        rc = sbprov__fail(SBPROV_ENOMEM, "dps: out of memory");
    if (rc != SBPROV_OK) {
        sbprov_azure_dps_free(dps);
        return rc;
    }
    *out = dps;
    return SBPROV_OK;
}

void sbprov_azure_dps_cancel(sbprov_azure_dps *dps)
{
    if (dps != NULL)
        sbprov__http_cancel(dps->conn.http);
}

sbprov_result sbprov_azure_dps_last_response(sbprov_http_response_info *out, sbprov_azure_dps *dps)
{
    return sbprov__http_last_response(out, dps != NULL ? dps->conn.http : NULL, dps != NULL ? &dps->conn.mu : NULL,
                                      "dps last response");
}

void sbprov_azure_dps_result_free(sbprov_azure_dps_result *r)
{
    if (r == NULL)
        return;
    free(r->status);
    free(r->hub);
    free(r->device_id);
    free(r->substatus);
    free(r->error_message);
    free(r->json);
    free(r);
}

static char *dup_field(const cJSON *o, const char *name, int *failed)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    char *s = NULL;
    if (cJSON_IsString(v) && (s = strdup(v->valuestring)) == NULL)
        *failed = 1;
    return s;
}

/* The final answer: {"operationId","status","registrationState":{...}}. */
sbprov_result sbprov__azure_dps_result_parse(sbprov_azure_dps_result **out, const sbprov__http_response *resp,
                                             const char *what)
{
    cJSON *j = NULL;
    const cJSON *state, *code;
    sbprov_azure_dps_result *r;
    int failed = 0;
    sbprov_result rc = sbprov__http_json(&j, resp, cJSON_Object, what);

    *out = NULL;
    if (rc != SBPROV_OK)
        return rc;
    state = cJSON_GetObjectItemCaseSensitive(j, "registrationState");
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "status")) || (state != NULL && !cJSON_IsObject(state))) {
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the answer has no status", what);
    }
    if ((r = calloc(1, sizeof *r)) == NULL) {
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    r->status = dup_field(j, "status", &failed);
    r->hub = dup_field(state, "assignedHub", &failed);
    r->device_id = dup_field(state, "deviceId", &failed);
    r->substatus = dup_field(state, "substatus", &failed);
    r->error_message = dup_field(state, "errorMessage", &failed);
    code = cJSON_GetObjectItemCaseSensitive(state, "errorCode");
    if (cJSON_IsNumber(code) && code->valuedouble >= -2147483648.0 && code->valuedouble <= 2147483647.0)
        r->error_code = (int32_t)code->valuedouble;
    r->json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (failed || r->json == NULL) {
        sbprov_azure_dps_result_free(r);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    if (strcmp(r->status, "assigned") == 0 && (r->hub == NULL || r->device_id == NULL ||
                                               sbprov_azure_check_device_id(r->device_id) != SBPROV_OK)) {
        sbprov_azure_dps_result_free(r);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: assigned, but without a valid hub and device ID", what);
    }
    *out = r;
    return SBPROV_OK;
}

/* The register request body: {"registrationId": ..., "payload": <payload>}.
 * The payload is checked to be exactly one JSON value and then sent as the
 * caller wrote it (re-printing would turn big integers into doubles). The
 * registration ID needs no escaping (sbprov_azure_check_registration_id()). */
static sbprov_result register_body(char **out, const char *registration_id, const char *payload_json)
{
    const char *end = NULL;
    cJSON *payload = NULL;
    size_t n;

    *out = NULL;
    if (payload_json != NULL) {
        payload = cJSON_ParseWithOpts(payload_json, &end, 1);
        if (payload == NULL)
            return sbprov__fail(SBPROV_EPARSE, "dps register: the payload is not one JSON value (at byte %zu)",
                                end != NULL ? (size_t)(end - payload_json) : (size_t)0);
        cJSON_Delete(payload);
    }
    n = strlen(registration_id) + (payload_json != NULL ? strlen(payload_json) : 0) + 40;
    if ((*out = malloc(n)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "dps register: out of memory");
    if (payload_json != NULL)
        snprintf(*out, n, "{\"registrationId\":\"%s\",\"payload\":%s}", registration_id, payload_json);
    else
        snprintf(*out, n, "{\"registrationId\":\"%s\"}", registration_id);
    return SBPROV_OK;
}

/* The operation ID of a 202 answer, checked before it goes into a URL. */
static sbprov_result operation_id(char *out, size_t size, const sbprov__http_response *resp, const char *what)
{
    cJSON *j = NULL;
    const cJSON *id;
    sbprov_result rc = sbprov__http_json(&j, resp, cJSON_Object, what);

    if (rc != SBPROV_OK)
        return rc;
    id = cJSON_GetObjectItemCaseSensitive(j, "operationId");
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0' || strlen(id->valuestring) >= size ||
        strspn(id->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") !=
            strlen(id->valuestring))
        rc = sbprov__fail(SBPROV_ERESPONSE, "%s: the answer has no usable operationId", what);
    else
        strcpy(out, id->valuestring);
    cJSON_Delete(j);
    return rc;
}

static sbprov_result dps_fail(const sbprov__http_response *resp, const char *what)
{
    return sbprov__azure_status_fail(resp, what);
}

static sbprov_result do_register(sbprov_azure_dps_result **out, sbprov_azure_dps *dps, const char *payload_json,
                                 uint64_t deadline)
{
    static const char what[] = "dps register";
    char op[OPERATION_ID_MAX], path_tail[OPERATION_ID_MAX + 64];
    char *body = NULL, *url = NULL, *poll_url = NULL, *before;
    sbprov__http_request req = {0};
    sbprov__http_response resp;
    size_t n;
    sbprov_result rc;

    if ((rc = register_body(&body, dps->registration_id, payload_json)) != SBPROV_OK)
        return rc;
    n = strlen(dps->id_scope) + 32;
    if ((before = malloc(n)) == NULL) {
        free(body);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    snprintf(before, n, "/%s/registrations/", dps->id_scope);
    url = sbprov__http_url(dps->conn.base_url, before, dps->registration_id,
                            "/register?api-version=" SBPROV_AZURE_DPS_API_VERSION);
    if (url == NULL) {
        rc = sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
        goto out;
    }
    req.method = "PUT";
    req.url = url;
    req.content_type = "application/json; charset=utf-8";
    req.accept = "application/json";
    req.body = body;
    req.body_len = strlen(body);
    if ((rc = sbprov__azure_request_retry(&resp, &dps->conn, &req, deadline)) != SBPROV_OK)
        goto out;
    for (;;) {
        int st = resp.info.status;
        if (st == 200) {
            rc = sbprov__azure_dps_result_parse(out, &resp, what);
            if (rc == SBPROV_OK && strcmp(sbprov_azure_dps_result_status(*out), "assigning") == 0) {
                sbprov_azure_dps_result_free(*out);
                *out = NULL;
                st = 202; /* still assigning: poll on */
            } else {
                break;
            }
        }
        if (st != 202) {
            rc = dps_fail(&resp, what);
            break;
        }
        if (poll_url == NULL) {
            if ((rc = operation_id(op, sizeof op, &resp, what)) != SBPROV_OK)
                break;
            snprintf(path_tail, sizeof path_tail, "/operations/%s?api-version=" SBPROV_AZURE_DPS_API_VERSION, op);
            if ((poll_url = sbprov__http_url(dps->conn.base_url, before, dps->registration_id, path_tail)) == NULL) {
                rc = sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
                break;
            }
        }
        /* DPS sends Retry-After: 3; out of range or absent means 3 s. */
        int32_t ra = resp.info.retry_after_s;
        uint64_t wait = (uint64_t)(ra >= 1 && ra <= POLL_MAX_S ? ra : POLL_DEFAULT_S) * 1000u;
        sbprov__http_response_free(&resp);
        if (sbprov__monotonic_ms() + wait >= deadline) {
            rc = sbprov__fail(SBPROV_ETIMEOUT, "%s: %s is still being assigned when the time is up", what,
                              dps->registration_id);
            goto out;
        }
        if ((rc = sbprov__http_sleep(dps->conn.http, wait)) != SBPROV_OK)
            goto out;
        memset(&req, 0, sizeof req);
        req.method = "GET";
        req.url = poll_url;
        req.accept = "application/json";
        if ((rc = sbprov__azure_request_retry(&resp, &dps->conn, &req, deadline)) != SBPROV_OK)
            goto out;
    }
    sbprov__http_response_free(&resp);
out:
    free(body);
    free(before);
    free(url);
    free(poll_url);
    return rc;
}

sbprov_result sbprov_azure_dps_register(sbprov_azure_dps_result **out, sbprov_azure_dps *dps,
                                        const char *payload_json, uint32_t timeout_ms)
{
    sbprov_result rc;

    if (out == NULL || dps == NULL)
        return sbprov__fail(SBPROV_EINVAL, "dps register: NULL argument");
    *out = NULL;
    if (timeout_ms == 0)
        return sbprov__fail(SBPROV_EINVAL, "dps register: timeout_ms is required (> 0)");
    pthread_mutex_lock(&dps->conn.mu);
    rc = do_register(out, dps, payload_json, sbprov__monotonic_ms() + timeout_ms);
    pthread_mutex_unlock(&dps->conn.mu);
    if (rc == SBPROV_OK)
        sbprov__log(SBPROV_LOG_INFO, "dps: %s %s (hub %s)", dps->registration_id, (*out)->status,
                    (*out)->hub != NULL ? (*out)->hub : "-");
    return rc;
}

const char *sbprov_azure_dps_result_status(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->status : NULL;
}

const char *sbprov_azure_dps_result_hub(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->hub : NULL;
}

const char *sbprov_azure_dps_result_device_id(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->device_id : NULL;
}

const char *sbprov_azure_dps_result_substatus(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->substatus : NULL;
}

int32_t sbprov_azure_dps_result_error_code(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->error_code : 0;
}

const char *sbprov_azure_dps_result_error_message(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->error_message : NULL;
}

const char *sbprov_azure_dps_result_json(const sbprov_azure_dps_result *r)
{
    return r != NULL ? r->json : NULL;
}
