/* Devices as the management API describes them: parsing a Device object,
 * getting one, listing pages, finding one by identity. */
#include "mender_internal.h"

#include "error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICES_PATH "/api/management/v2/devauth/devices"
#define FIND_PAGE_SIZE 500

typedef struct auth_set {
    char *id, *status, *pubkey;
} auth_set;

struct sbprov_mender_device {
    char *id, *status, *identity_json, *json;
    auth_set *sets;
    size_t n_sets;
};

struct sbprov_mender_device_list {
    sbprov_mender_device **items;
    size_t count;
    int has_next;
};

void sbprov_mender_device_free(sbprov_mender_device *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_sets; i++) {
        free(d->sets[i].id);
        free(d->sets[i].status);
        free(d->sets[i].pubkey);
    }
    free(d->sets);
    free(d->id);
    free(d->status);
    free(d->identity_json);
    free(d->json);
    free(d);
}

static char *dup_string(const cJSON *o, const char *name, int *failed)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    char *s = strdup(cJSON_IsString(v) ? v->valuestring : "");
    if (s == NULL)
        *failed = 1;
    return s;
}

/* Identity data in canonical form (as sbprov_identity_canonical_json()) when
 * every value is a string or an array of strings; else cJSON's rendering. */
static char *identity_text(const cJSON *data)
{
    sbprov_identity *id = NULL;
    const cJSON *attr, *v;
    char *out = NULL;
    int ok = cJSON_IsObject(data) && sbprov_identity_new(&id) == SBPROV_OK;

    cJSON_ArrayForEach(attr, data) {
        if (!ok)
            break;
        if (cJSON_IsString(attr))
            ok = sbprov_identity_add(id, attr->string, attr->valuestring) == SBPROV_OK;
        else if (cJSON_IsArray(attr) && cJSON_GetArraySize(attr) > 0)
            cJSON_ArrayForEach(v, attr) ok = ok && cJSON_IsString(v) &&
                                             sbprov_identity_add(id, attr->string, v->valuestring) == SBPROV_OK;
        else
            ok = 0;
    }
    if (ok && sbprov__mender_identity_json(&out, id) != SBPROV_OK)
        out = NULL;
    sbprov_identity_free(id);
    sbprov_clear_error();
    return out != NULL ? out : cJSON_PrintUnformatted(data);
}

static sbprov_result device_from_json(sbprov_mender_device **out, const cJSON *o, const char *what)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id"), *sets, *s;
    sbprov_mender_device *d;
    int failed = 0;

    *out = NULL;
    if (!cJSON_IsObject(o) || !cJSON_IsString(id) || sbprov__mender_check_id(id->valuestring, what) != SBPROV_OK)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the answer is not a device (no valid id)", what);
    if ((d = calloc(1, sizeof *d)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    d->id = dup_string(o, "id", &failed);
    d->status = dup_string(o, "status", &failed);
    d->identity_json = identity_text(cJSON_GetObjectItemCaseSensitive(o, "identity_data"));
    d->json = cJSON_PrintUnformatted(o);
    sets = cJSON_GetObjectItemCaseSensitive(o, "auth_sets");
    if (cJSON_IsArray(sets) && cJSON_GetArraySize(sets) > 0 &&
        (d->sets = calloc((size_t)cJSON_GetArraySize(sets), sizeof *d->sets)) == NULL)
        failed = 1;
    cJSON_ArrayForEach(s, sets) {
        if (d->sets == NULL || !cJSON_IsObject(s) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "id")))
            continue;
        d->sets[d->n_sets].id = dup_string(s, "id", &failed);
        d->sets[d->n_sets].status = dup_string(s, "status", &failed);
        d->sets[d->n_sets].pubkey = dup_string(s, "pubkey", &failed);
        d->n_sets++;
    }
    if (failed || d->identity_json == NULL || d->json == NULL) {
        sbprov_mender_device_free(d);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    *out = d;
    return SBPROV_OK;
}

sbprov_result sbprov__mender_device_parse(sbprov_mender_device **out, const sbprov__http_response *resp,
                                          const char *what)
{
    cJSON *j = NULL;
    sbprov_result rc = sbprov__http_json(&j, resp, cJSON_Object, what);

    if (rc == SBPROV_OK)
        rc = device_from_json(out, j, what);
    cJSON_Delete(j);
    return rc;
}

sbprov_result sbprov_mender_mgmt_get_device(sbprov_mender_device **out, sbprov_mender_mgmt *m, const char *id)
{
    static const char what[] = "mender get device";
    char path[256];
    sbprov__http_response resp;
    sbprov_result rc;

    if (out == NULL || m == NULL || id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    *out = NULL;
    if ((rc = sbprov__mender_check_id(id, what)) != SBPROV_OK)
        return rc;
    snprintf(path, sizeof path, "%s/%s", DEVICES_PATH, id);
    pthread_mutex_lock(&m->mu);
    rc = sbprov__mender_mgmt_call(&resp, m, "GET", path, NULL, what);
    pthread_mutex_unlock(&m->mu);
    if (rc != SBPROV_OK)
        return rc;
    rc = resp.info.status == 200 ? sbprov__mender_device_parse(out, &resp, what)
                                 : sbprov__http_status_fail(&resp, what);
    sbprov__http_response_free(&resp);
    return rc;
}

void sbprov_mender_device_list_free(sbprov_mender_device_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        sbprov_mender_device_free(list->items[i]);
    free(list->items);
    free(list);
}

sbprov_result sbprov__mender_device_list_parse(sbprov_mender_device_list **out, const sbprov__http_response *resp,
                                               const char *what)
{
    sbprov_mender_device_list *list = NULL;
    cJSON *j = NULL, *item;
    sbprov_result rc = sbprov__http_json(&j, resp, cJSON_Array, what);

    *out = NULL;
    if (rc == SBPROV_OK && (list = calloc(1, sizeof *list)) == NULL)
        rc = sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    if (rc == SBPROV_OK) {
        list->has_next = resp->link_next;
        if (cJSON_GetArraySize(j) > 0 &&
            (list->items = calloc((size_t)cJSON_GetArraySize(j), sizeof *list->items)) == NULL)
            rc = sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
        cJSON_ArrayForEach(item, j) {
            if (rc != SBPROV_OK || (rc = device_from_json(&list->items[list->count], item, what)) != SBPROV_OK)
                break;
            list->count++;
        }
        if (rc != SBPROV_OK)
            sbprov_mender_device_list_free(list);
        else
            *out = list;
    }
    cJSON_Delete(j);
    return rc;
}

sbprov_result sbprov_mender_mgmt_list_devices(sbprov_mender_device_list **out, sbprov_mender_mgmt *m,
                                              const char *status, uint32_t page, uint32_t per_page)
{
    static const char what[] = "mender list devices";
    char path[256];
    sbprov__http_response resp;
    sbprov_result rc;

    if (out == NULL || m == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    *out = NULL;
    if ((rc = sbprov__mender_check_status(status, what)) != SBPROV_OK)
        return rc;
    if (page == 0 || per_page == 0 || per_page > 500)
        return sbprov__fail(SBPROV_EINVAL, "%s: page must be >= 1 and per_page 1 to 500", what);
    snprintf(path, sizeof path, "%s?page=%u&per_page=%u%s%s", DEVICES_PATH, page, per_page,
             status ? "&status=" : "", status ? status : "");
    pthread_mutex_lock(&m->mu);
    rc = sbprov__mender_mgmt_call(&resp, m, "GET", path, NULL, what);
    pthread_mutex_unlock(&m->mu);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status != 200) {
        rc = sbprov__http_status_fail(&resp, what);
        sbprov__http_response_free(&resp);
        return rc;
    }
    rc = sbprov__mender_device_list_parse(out, &resp, what);
    sbprov__http_response_free(&resp);
    return rc;
}

sbprov_result sbprov_mender_mgmt_find_device(sbprov_mender_device **out, sbprov_mender_mgmt *m,
                                             const sbprov_identity *identity)
{
    static const char what[] = "mender find device";
    char *want = NULL;
    uint32_t page;
    sbprov_result rc;

    if (out == NULL || m == NULL || identity == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    *out = NULL;
    if ((rc = sbprov__mender_identity_json(&want, identity)) != SBPROV_OK)
        return rc;
    for (page = 1;; page++) {
        sbprov_mender_device_list *list = NULL;
        int more;
        if ((rc = sbprov_mender_mgmt_list_devices(&list, m, NULL, page, FIND_PAGE_SIZE)) != SBPROV_OK)
            break;
        for (size_t i = 0; i < list->count && *out == NULL; i++)
            if (strcmp(list->items[i]->identity_json, want) == 0) {
                *out = list->items[i];
                list->items[i] = NULL; /* taken; freeing NULL is a no-op */
            }
        more = list->has_next && list->count > 0;
        sbprov_mender_device_list_free(list);
        if (*out != NULL)
            break;
        if (!more) {
            rc = sbprov__fail(SBPROV_ENOTFOUND, "%s: no device has the identity %.200s", what, want);
            break;
        }
    }
    free(want);
    return rc;
}

size_t sbprov_mender_device_list_count(const sbprov_mender_device_list *list)
{
    return list != NULL ? list->count : 0;
}

const sbprov_mender_device *sbprov_mender_device_list_get(const sbprov_mender_device_list *list, size_t index)
{
    return list != NULL && index < list->count ? list->items[index] : NULL;
}

int sbprov_mender_device_list_has_next(const sbprov_mender_device_list *list)
{
    return list != NULL && list->has_next;
}

const char *sbprov_mender_device_id(const sbprov_mender_device *d)
{
    return d != NULL ? d->id : NULL;
}

const char *sbprov_mender_device_status(const sbprov_mender_device *d)
{
    return d != NULL ? d->status : NULL;
}

const char *sbprov_mender_device_identity_json(const sbprov_mender_device *d)
{
    return d != NULL ? d->identity_json : NULL;
}

const char *sbprov_mender_device_json(const sbprov_mender_device *d)
{
    return d != NULL ? d->json : NULL;
}

size_t sbprov_mender_device_auth_set_count(const sbprov_mender_device *d)
{
    return d != NULL ? d->n_sets : 0;
}

const char *sbprov_mender_device_auth_set_id(const sbprov_mender_device *d, size_t index)
{
    return d != NULL && index < d->n_sets ? d->sets[index].id : NULL;
}

const char *sbprov_mender_device_auth_set_status(const sbprov_mender_device *d, size_t index)
{
    return d != NULL && index < d->n_sets ? d->sets[index].status : NULL;
}

const char *sbprov_mender_device_auth_set_pubkey(const sbprov_mender_device *d, size_t index)
{
    return d != NULL && index < d->n_sets ? d->sets[index].pubkey : NULL;
}
