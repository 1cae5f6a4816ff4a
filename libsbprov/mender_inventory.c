/* Device inventory (attribute sets and their upload) and the update check
 * (deployments/next, v2 with the v1 fallback). */
#include "mender_internal.h"

#include "error.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INVENTORY_PATH "/api/devices/v1/inventory/device/attributes"
#define NEXT_V2_PATH "/api/devices/v2/deployments/device/deployments/next"
#define NEXT_V1_PATH "/api/devices/v1/deployments/device/deployments/next"
#define NEXT_PARAM_MAX 4096

typedef struct attr {
    char *name;
    cJSON *value; /* a string, a number, or an array of one kind */
} attr;

struct sbprov_inventory {
    attr items[SBPROV_INVENTORY_MAX];
    size_t count;
};

struct sbprov_mender_update {
    char *id, *artifact_name, *uri, *json;
};

sbprov_result sbprov_inventory_new(sbprov_inventory **out)
{
    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "inventory: NULL argument");
    if ((*out = calloc(1, sizeof **out)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "inventory: out of memory");
    return SBPROV_OK;
}

void sbprov_inventory_free(sbprov_inventory *inv)
{
    if (inv == NULL)
        return;
    for (size_t i = 0; i < inv->count; i++) {
        free(inv->items[i].name);
        cJSON_Delete(inv->items[i].value);
    }
    free(inv);
}

size_t sbprov_inventory_count(const sbprov_inventory *inv)
{
    return inv != NULL ? inv->count : 0;
}

/* 1 if s (n bytes) is valid UTF-8; with `printable`, also free of control characters. */
static int utf8_ok(const char *s, size_t n, int printable)
{
    for (size_t i = 0, k; i < n; i += k) {
        if ((k = sbprov__utf8_sequence((const unsigned char *)s + i, n - i)) == 0)
            return 0;
        if (printable && k == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
            return 0;
    }
    return 1;
}

static sbprov_result check_new_attr(const sbprov_inventory *inv, const char *name, const void *values,
                                    size_t count)
{
    size_t n;

    if (inv == NULL || name == NULL || values == NULL || count == 0)
        return sbprov__fail(SBPROV_EINVAL, "inventory: NULL argument or no values");
    n = strlen(name);
    if (n == 0 || n > SBPROV_INVENTORY_NAME_MAX || !utf8_ok(name, n, 1))
        return sbprov__fail(SBPROV_EID, "inventory: attribute name '%.64s' must be 1 to %d bytes of printable UTF-8",
                            name, SBPROV_INVENTORY_NAME_MAX);
    for (size_t i = 0; i < inv->count; i++)
        if (strcmp(inv->items[i].name, name) == 0)
            return sbprov__fail(SBPROV_EEXISTS, "inventory: attribute '%.64s' is already in the set", name);
    if (inv->count == SBPROV_INVENTORY_MAX)
        return sbprov__fail(SBPROV_EINVAL, "inventory: at most %d attributes per update (the server's limit)",
                            SBPROV_INVENTORY_MAX);
    return SBPROV_OK;
}

static sbprov_result add(sbprov_inventory *inv, const char *name, cJSON *value)
{
    char *copy = value != NULL ? strdup(name) : NULL;

    if (copy == NULL) {
        cJSON_Delete(value);
        return sbprov__fail(SBPROV_ENOMEM, "inventory: out of memory");
    }
    inv->items[inv->count].name = copy;
    inv->items[inv->count].value = value;
    inv->count++;
    return SBPROV_OK;
}

sbprov_result sbprov_inventory_add_strings(sbprov_inventory *inv, const char *name, const char *const *values,
                                           size_t count)
{
    sbprov_result rc = check_new_attr(inv, name, values, count);
    cJSON *v;

    if (rc != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < count; i++)
        if (values[i] == NULL || !utf8_ok(values[i], strlen(values[i]), 0))
            return sbprov__fail(SBPROV_EINVAL, "inventory: value %zu of '%.64s' is NULL or not UTF-8", i, name);
    v = count == 1 ? cJSON_CreateString(values[0]) : cJSON_CreateStringArray((const char *const *)values, (int)count);
    return add(inv, name, v);
}

sbprov_result sbprov_inventory_add_numbers(sbprov_inventory *inv, const char *name, const double *values,
                                           size_t count)
{
    sbprov_result rc = check_new_attr(inv, name, values, count);
    cJSON *v;

    if (rc != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(values[i]))
            return sbprov__fail(SBPROV_EINVAL, "inventory: value %zu of '%.64s' is not a finite number", i, name);
    v = count == 1 ? cJSON_CreateNumber(values[0]) : cJSON_CreateDoubleArray(values, (int)count);
    return add(inv, name, v);
}

static char *inventory_json(const sbprov_inventory *inv)
{
    cJSON *arr = cJSON_CreateArray();
    char *text = NULL;
    size_t i;

    for (i = 0; arr != NULL && i < inv->count; i++) {
        cJSON *o = cJSON_CreateObject(), *v = cJSON_Duplicate(inv->items[i].value, 1);
        if (o == NULL || v == NULL || cJSON_AddStringToObject(o, "name", inv->items[i].name) == NULL ||
            !cJSON_AddItemToObject(o, "value", v) || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            break;
        }
    }
    if (arr != NULL && i == inv->count)
        text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return text;
}

/* A device request: JSON body (or none), with the device token. */
static sbprov_result device_call(sbprov__http_response *resp, sbprov_mender *m, const char *method,
                                 const char *path, const char *body, const char *what)
{
    sbprov__http_request req = {0};
    char *url = sbprov__http_url(m->base_url, path, NULL, "");
    sbprov_result rc;

    if (url == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    req.method = method;
    req.url = url;
    req.accept = "application/json";
    if (body != NULL) {
        req.content_type = "application/json";
        req.body = body;
        req.body_len = strlen(body);
    }
    rc = sbprov__mender_device_request(resp, m, &req, what);
    free(url);
    return rc;
}

sbprov_result sbprov_mender_update_inventory(sbprov_mender *m, const sbprov_inventory *inv,
                                             sbprov_inventory_mode mode)
{
    static const char what[] = "mender inventory";
    sbprov__http_response resp;
    char *body;
    sbprov_result rc;

    if (m == NULL || inv == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if (inv->count == 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: no attributes to send", what);
    if (mode != SBPROV_INVENTORY_REPLACE && mode != SBPROV_INVENTORY_MERGE)
        return sbprov__fail(SBPROV_EINVAL, "%s: unknown mode %d", what, (int)mode);
    if ((body = inventory_json(inv)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    pthread_mutex_lock(&m->mu);
    rc = device_call(&resp, m, mode == SBPROV_INVENTORY_REPLACE ? "PUT" : "PATCH", INVENTORY_PATH, body, what);
    pthread_mutex_unlock(&m->mu);
    cJSON_free(body);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status != 200 && resp.info.status != 204)
        rc = sbprov__http_status_fail(&resp, what);
    sbprov__http_response_free(&resp);
    return rc;
}

static const char *string_at(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

void sbprov_mender_update_free(sbprov_mender_update *u)
{
    if (u == NULL)
        return;
    free(u->id);
    free(u->artifact_name);
    free(u->uri);
    free(u->json);
    free(u);
}

sbprov_result sbprov__mender_update_parse(sbprov_mender_update **out, const sbprov__http_response *resp,
                                          const char *what)
{
    cJSON *j = NULL;
    const char *id, *name, *uri;
    sbprov_mender_update *u;
    sbprov_result rc = sbprov__http_json(&j, resp, cJSON_Object, what);

    if (rc != SBPROV_OK)
        return rc;
    id = string_at(j, "id", NULL, NULL);
    name = string_at(j, "artifact", "artifact_name", NULL);
    uri = string_at(j, "artifact", "source", "uri");
    if (id == NULL || name == NULL || uri == NULL) {
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the deployment lacks %s", what,
                            id == NULL ? "its id" : name == NULL ? "artifact.artifact_name" : "artifact.source.uri");
    }
    if ((u = calloc(1, sizeof *u)) == NULL || (u->id = strdup(id)) == NULL ||
        (u->artifact_name = strdup(name)) == NULL || (u->uri = strdup(uri)) == NULL ||
        (u->json = cJSON_PrintUnformatted(j)) == NULL) {
        sbprov_mender_update_free(u);
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    cJSON_Delete(j);
    *out = u;
    return SBPROV_OK;
}

/* The v1 GET path with its URL-encoded query. */
static char *next_v1_path(const char *artifact_name, const char *device_type)
{
    sbprov__text t;
    size_t need = strlen(NEXT_V1_PATH) + 40 + 3 * (strlen(artifact_name) + strlen(device_type));
    char *buf = malloc(need);

    if (buf == NULL)
        return NULL;
    sbprov__text_init(&t, buf, need);
    sbprov__text_append_str(&t, NEXT_V1_PATH "?artifact_name=");
    sbprov__text_append_url_encoded(&t, artifact_name, strlen(artifact_name));
    sbprov__text_append_str(&t, "&device_type=");
    sbprov__text_append_url_encoded(&t, device_type, strlen(device_type));
    if (sbprov__text_finish(&t, NULL) != SBPROV_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

sbprov_result sbprov_mender_check_update(sbprov_mender_update **out, sbprov_mender *m, const char *artifact_name,
                                         const char *device_type)
{
    static const char what[] = "mender update check";
    sbprov__http_response resp;
    char *body = NULL, *path = NULL;
    cJSON *req = NULL, *provides;
    sbprov_result rc;

    if (out == NULL || m == NULL || artifact_name == NULL || device_type == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    *out = NULL;
    if (artifact_name[0] == '\0' || strlen(artifact_name) > NEXT_PARAM_MAX || device_type[0] == '\0' ||
        strlen(device_type) > NEXT_PARAM_MAX)
        return sbprov__fail(SBPROV_EINVAL, "%s: artifact name and device type must be 1 to %d bytes", what,
                            NEXT_PARAM_MAX);
    if ((req = cJSON_CreateObject()) == NULL || (provides = cJSON_AddObjectToObject(req, "device_provides")) == NULL ||
        cJSON_AddStringToObject(provides, "device_type", device_type) == NULL ||
        cJSON_AddStringToObject(provides, "artifact_name", artifact_name) == NULL ||
        (body = cJSON_PrintUnformatted(req)) == NULL || (path = next_v1_path(artifact_name, device_type)) == NULL) {
        cJSON_Delete(req);
        cJSON_free(body);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    cJSON_Delete(req);

    pthread_mutex_lock(&m->mu);
    rc = device_call(&resp, m, "POST", NEXT_V2_PATH, body, what);
    if (rc == SBPROV_OK && resp.info.status == 404) { /* no v2 route (the open-source server) */
        sbprov__http_response_free(&resp);
        rc = device_call(&resp, m, "GET", path, NULL, what);
    }
    pthread_mutex_unlock(&m->mu);
    cJSON_free(body);
    free(path);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status == 200)
        rc = sbprov__mender_update_parse(out, &resp, what);
    else if (resp.info.status != 204)
        rc = sbprov__http_status_fail(&resp, what);
    sbprov__http_response_free(&resp);
    return rc;
}

const char *sbprov_mender_update_id(const sbprov_mender_update *u)
{
    return u != NULL ? u->id : NULL;
}

const char *sbprov_mender_update_artifact_name(const sbprov_mender_update *u)
{
    return u != NULL ? u->artifact_name : NULL;
}

const char *sbprov_mender_update_uri(const sbprov_mender_update *u)
{
    return u != NULL ? u->uri : NULL;
}

const char *sbprov_mender_update_json(const sbprov_mender_update *u)
{
    return u != NULL ? u->json : NULL;
}
