/* The IoT Hub identity registry over HTTPS (azure_http.h): create or update,
 * read and delete device identities with symmetric keys, etags honoured. */
#include "azure_conn.h"

#include "error.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGISTRY_RETRY_MS 60000u
#define ETAG_MAX 256

struct sbprov_azure_registry {
    sbprov__azure_conn conn;
    uint32_t retry_timeout_ms;
};

struct sbprov_azure_device {
    char *id, *etag, *status, *primary, *secondary;
};

void sbprov_azure_registry_free(sbprov_azure_registry *reg)
{
    if (reg == NULL)
        return;
    sbprov__azure_conn_free(&reg->conn);
    free(reg);
}

sbprov_result sbprov_azure_registry_new(sbprov_azure_registry **out, const char *connstr, size_t len,
                                        const sbprov_azure_hub_options *opts)
{
    sbprov_azure_hub_options o;
    sbprov_azure_connstr *cs = NULL;
    sbprov_azure_registry *reg;
    const char *host, *policy, *key;
    char endpoint[300];
    sbprov_result rc;

    if (out == NULL || connstr == NULL)
        return sbprov__fail(SBPROV_EINVAL, "registry: NULL argument");
    *out = NULL;
    if ((rc = sbprov__azure_hub_options_load(&o, opts)) != SBPROV_OK ||
        (rc = sbprov_azure_connstr_parse(&cs, connstr, len)) != SBPROV_OK)
        return rc;
    host = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_HOST_NAME);
    policy = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME);
    key = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY);
    if (host == NULL || policy == NULL || key == NULL || sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_DEVICE_ID)) {
        sbprov_azure_connstr_free(cs);
        return sbprov__fail(SBPROV_ECONNSTR, "registry: a service connection string is needed (HostName, "
                            "SharedAccessKeyName and SharedAccessKey; no DeviceId)");
    }
    snprintf(endpoint, sizeof endpoint, "https://%s", host);
    if ((reg = calloc(1, sizeof *reg)) == NULL) {
        sbprov_azure_connstr_free(cs);
        return sbprov__fail(SBPROV_ENOMEM, "registry: out of memory");
    }
    /* A service token is scoped to the hub (sr = host name) and names its policy. */
    rc = sbprov__azure_conn_init(&reg->conn, o.endpoint, endpoint, o.http, host, policy, key, strlen(key),
                                 o.token_ttl_s, o.max_clock_skew_s, "azure registry");
    reg->retry_timeout_ms = o.retry_timeout_ms != 0 ? o.retry_timeout_ms : REGISTRY_RETRY_MS;
    sbprov_azure_connstr_free(cs);
    if (rc != SBPROV_OK) {
        sbprov_azure_registry_free(reg);
        return rc;
    }
    *out = reg;
    return SBPROV_OK;
}

sbprov_result sbprov_azure_registry_last_response(sbprov_http_response_info *out, sbprov_azure_registry *reg)
{
    return sbprov__http_last_response(out, reg != NULL ? reg->conn.http : NULL, reg != NULL ? &reg->conn.mu : NULL,
                                      "registry last response");
}

void sbprov_azure_registry_cancel(sbprov_azure_registry *reg)
{
    if (reg != NULL)
        sbprov__http_cancel(reg->conn.http);
}

void sbprov_azure_device_free(sbprov_azure_device *d)
{
    if (d == NULL)
        return;
    if (d->primary != NULL)
        OPENSSL_cleanse(d->primary, strlen(d->primary));
    if (d->secondary != NULL)
        OPENSSL_cleanse(d->secondary, strlen(d->secondary));
    free(d->id);
    free(d->etag);
    free(d->status);
    free(d->primary);
    free(d->secondary);
    free(d);
}

static char *dup_str(const cJSON *v, int *failed)
{
    char *s = NULL;
    if (cJSON_IsString(v) && (s = strdup(v->valuestring)) == NULL)
        *failed = 1;
    return s;
}

/* The parsed answer holds the keys: wipe them before cJSON frees them. */
static void wipe_keys(const cJSON *sym)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, sym)
        if (cJSON_IsString(k))
            OPENSSL_cleanse(k->valuestring, strlen(k->valuestring));
}

/* A Device from the registry: {"deviceId","etag","status","authentication":{"symmetricKey":{...}}}. */
sbprov_result sbprov__azure_device_parse(sbprov_azure_device **out, const sbprov__http_response *resp,
                                         const char *what)
{
    cJSON *j = NULL;
    const cJSON *sym;
    sbprov_azure_device *d;
    int failed = 0;
    sbprov_result rc = sbprov__http_json(&j, resp, cJSON_Object, what);

    *out = NULL;
    if (rc != SBPROV_OK)
        return rc;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "deviceId")) ||
        sbprov_azure_check_device_id(cJSON_GetObjectItemCaseSensitive(j, "deviceId")->valuestring) != SBPROV_OK) {
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the answer is not a device (no valid deviceId)", what);
    }
    sym = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "authentication"), "symmetricKey");
    if ((d = calloc(1, sizeof *d)) == NULL) {
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    d->id = dup_str(cJSON_GetObjectItemCaseSensitive(j, "deviceId"), &failed);
    d->etag = dup_str(cJSON_GetObjectItemCaseSensitive(j, "etag"), &failed);
    d->status = dup_str(cJSON_GetObjectItemCaseSensitive(j, "status"), &failed);
    d->primary = dup_str(cJSON_GetObjectItemCaseSensitive(sym, "primaryKey"), &failed);
    d->secondary = dup_str(cJSON_GetObjectItemCaseSensitive(sym, "secondaryKey"), &failed);
    wipe_keys(sym);
    cJSON_Delete(j);
    if (failed || (d->etag == NULL && (d->etag = strdup("")) == NULL) ||
        (d->status == NULL && (d->status = strdup("")) == NULL)) {
        sbprov_azure_device_free(d);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    *out = d;
    return SBPROV_OK;
}

/* The device body with symmetric keys (given, or generated here). */
static sbprov_result device_body(char **out, const char *device_id, const char *primary, const char *secondary,
                                 const char *etag)
{
    char gen[2][SBPROV_AZURE_KEY_B64_SIZE(SBPROV_AZURE_KEY_DEFAULT_BYTES)];
    cJSON *o = cJSON_CreateObject(), *auth, *sym;
    sbprov_result rc = SBPROV_OK;

    *out = NULL;
    /* Given keys must be valid SAS keys: the signer checks them as the hub would use them. */
    for (int i = 0; i < 2 && rc == SBPROV_OK; i++) {
        const char *k = i == 0 ? primary : secondary;
        sbprov_azure_sas_signer *s = NULL;
        if (k != NULL)
            rc = sbprov_azure_sas_signer_new(&s, k, strlen(k));
        else
            rc = sbprov_azure_generate_key(gen[i], sizeof gen[i], NULL, 0);
        sbprov_azure_sas_signer_free(s);
    }
    if (rc == SBPROV_OK && o != NULL && cJSON_AddStringToObject(o, "deviceId", device_id) != NULL &&
        cJSON_AddStringToObject(o, "status", "enabled") != NULL &&
        (etag == NULL || cJSON_AddStringToObject(o, "etag", etag) != NULL) &&
        (auth = cJSON_AddObjectToObject(o, "authentication")) != NULL &&
        cJSON_AddStringToObject(auth, "type", "sas") != NULL &&
        (sym = cJSON_AddObjectToObject(auth, "symmetricKey")) != NULL &&
        cJSON_AddStringToObject(sym, "primaryKey", primary != NULL ? primary : gen[0]) != NULL &&
        cJSON_AddStringToObject(sym, "secondaryKey", secondary != NULL ? secondary : gen[1]) != NULL &&
        cJSON_AddObjectToObject(o, "capabilities") != NULL)
        *out = cJSON_PrintUnformatted(o);
    if (rc == SBPROV_OK && *out == NULL)
        rc = sbprov__fail(SBPROV_ENOMEM, "registry: out of memory");
    wipe_keys(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "authentication"),
                                               "symmetricKey"));
    cJSON_Delete(o);
    OPENSSL_cleanse(gen, sizeof gen);
    return rc;
}

/* One registry call, 429 and 5xx retried. */
static sbprov_result registry_call(sbprov__http_response *resp, sbprov_azure_registry *reg, const char *method,
                                   const char *device_id, const char *if_match, const char *body, const char *what)
{
    sbprov__http_request req = {0};
    char hdr[ETAG_MAX + 16];
    const char *headers[1] = {hdr};
    char *url;
    sbprov_result rc;

    url = sbprov__http_url(reg->conn.base_url, "/devices/", device_id, "?api-version=" SBPROV_AZURE_HUB_API_VERSION);
    if (url == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    req.method = method;
    req.url = url;
    req.accept = "application/json";
    if (body != NULL) {
        req.content_type = "application/json; charset=utf-8";
        req.body = body;
        req.body_len = strlen(body);
    }
    if (if_match != NULL) {
        /* The device JSON carries the etag bare; If-Match wants it quoted. */
        int quote = strcmp(if_match, "*") != 0 && if_match[0] != '"';
        snprintf(hdr, sizeof hdr, "If-Match: %s%s%s", quote ? "\"" : "", if_match, quote ? "\"" : "");
        req.headers = headers;
        req.header_count = 1;
    }
    pthread_mutex_lock(&reg->conn.mu);
    rc = sbprov__azure_request_retry(resp, &reg->conn, &req, sbprov__monotonic_ms() + reg->retry_timeout_ms);
    pthread_mutex_unlock(&reg->conn.mu);
    free(url);
    return rc;
}

/* An etag as sent in If-Match: "*", or quoted as the hub gives it. */
static sbprov_result check_etag(const char *etag, const char *what)
{
    size_t n = etag != NULL ? strlen(etag) : 0;
    if (etag == NULL)
        return SBPROV_OK;
    if (n == 0 || n >= ETAG_MAX)
        return sbprov__fail(SBPROV_EINVAL, "%s: the etag is empty or too long", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)etag[i] < 0x21 || (unsigned char)etag[i] > 0x7e)
            return sbprov__fail(SBPROV_EINVAL, "%s: the etag is not printable ASCII", what);
    return SBPROV_OK;
}

sbprov_result sbprov_azure_registry_put_device(sbprov_azure_device **out, sbprov_azure_registry *reg,
                                               const char *device_id, const char *primary_key,
                                               const char *secondary_key, const char *etag)
{
    static const char what[] = "registry put device";
    sbprov__http_response resp;
    sbprov_azure_device *current = NULL;
    char *body = NULL;
    sbprov_result rc;

    if (out != NULL)
        *out = NULL;
    if (reg == NULL || device_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if ((rc = sbprov_azure_check_device_id(device_id)) != SBPROV_OK || (rc = check_etag(etag, what)) != SBPROV_OK)
        return rc;
    /* An update keeps the keys it is not given: read them first. */
    if (etag != NULL && (primary_key == NULL || secondary_key == NULL)) {
        if ((rc = sbprov_azure_registry_get_device(&current, reg, device_id)) != SBPROV_OK)
            return rc;
        if (primary_key == NULL)
            primary_key = current->primary;
        if (secondary_key == NULL)
            secondary_key = current->secondary;
    }
    rc = device_body(&body, device_id, primary_key, secondary_key, etag);
    sbprov_azure_device_free(current);
    if (rc != SBPROV_OK)
        return rc;
    rc = registry_call(&resp, reg, "PUT", device_id, etag, body, what);
    OPENSSL_cleanse(body, strlen(body));
    cJSON_free(body);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status == 200 || resp.info.status == 201) {
        sbprov_azure_device *d = NULL;
        rc = sbprov__azure_device_parse(&d, &resp, what);
        if (rc == SBPROV_OK && out != NULL)
            *out = d;
        else
            sbprov_azure_device_free(d);
    } else {
        rc = sbprov__azure_status_fail(&resp, what);
    }
    if (resp.body != NULL)
        OPENSSL_cleanse(resp.body, resp.body_len);
    sbprov__http_response_free(&resp);
    return rc;
}

sbprov_result sbprov_azure_registry_get_device(sbprov_azure_device **out, sbprov_azure_registry *reg,
                                               const char *device_id)
{
    static const char what[] = "registry get device";
    sbprov__http_response resp;
    sbprov_result rc;

    if (out == NULL || reg == NULL || device_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    *out = NULL;
    if ((rc = sbprov_azure_check_device_id(device_id)) != SBPROV_OK ||
        (rc = registry_call(&resp, reg, "GET", device_id, NULL, NULL, what)) != SBPROV_OK)
        return rc;
    rc = resp.info.status == 200 ? sbprov__azure_device_parse(out, &resp, what)
                                 : sbprov__azure_status_fail(&resp, what);
    if (resp.body != NULL)
        OPENSSL_cleanse(resp.body, resp.body_len);
    sbprov__http_response_free(&resp);
    return rc;
}

sbprov_result sbprov_azure_registry_delete_device(sbprov_azure_registry *reg, const char *device_id,
                                                  const char *etag)
{
    static const char what[] = "registry delete device";
    sbprov__http_response resp;
    sbprov_result rc;

    if (reg == NULL || device_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if ((rc = sbprov_azure_check_device_id(device_id)) != SBPROV_OK || (rc = check_etag(etag, what)) != SBPROV_OK ||
        (rc = registry_call(&resp, reg, "DELETE", device_id, etag != NULL ? etag : "*", NULL, what)) != SBPROV_OK)
        return rc;
    if (resp.info.status != 204 && resp.info.status != 200)
        rc = sbprov__azure_status_fail(&resp, what);
    sbprov__http_response_free(&resp);
    return rc;
}

const char *sbprov_azure_device_id(const sbprov_azure_device *d)
{
    return d != NULL ? d->id : NULL;
}

const char *sbprov_azure_device_etag(const sbprov_azure_device *d)
{
    return d != NULL ? d->etag : NULL;
}

const char *sbprov_azure_device_status(const sbprov_azure_device *d)
{
    return d != NULL ? d->status : NULL;
}

const char *sbprov_azure_device_primary_key(const sbprov_azure_device *d)
{
    return d != NULL ? d->primary : NULL;
}

const char *sbprov_azure_device_secondary_key(const sbprov_azure_device *d)
{
    return d != NULL ? d->secondary : NULL;
}
