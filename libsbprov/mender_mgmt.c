/* The Mender management client: login or token, preauthorization, auth-set
 * status, decommissioning and counting. Device descriptions and listing are
 * in mender_devices.c. */
#include "mender_internal.h"

#include "error.h"
#include "text.h"
#include "options.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_PATH "/api/management/v1/useradm/auth/login"
#define DEVICES_PATH "/api/management/v2/devauth/devices"

sbprov_result sbprov_mender_mgmt_new(sbprov_mender_mgmt **out, const char *server_url,
                                     const sbprov_http_options *http)
{
    sbprov_http_options o;
    sbprov_mender_mgmt *m;
    sbprov_result rc;

    if (out == NULL || server_url == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender management: NULL argument");
    *out = NULL;
    if ((rc = sbprov__http_options_copy(&o, http)) != SBPROV_OK)
        return rc;
    if ((m = calloc(1, sizeof *m)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "mender management: out of memory");
    pthread_mutex_init(&m->mu, NULL);
    if ((rc = sbprov__http_base_url(&m->base_url, server_url, o.allow_http, "mender server")) != SBPROV_OK ||
        (rc = sbprov__http_new(&m->http, &o, "mender management")) != SBPROV_OK) {
        sbprov_mender_mgmt_free(m);
        return rc;
    }
    *out = m;
    return SBPROV_OK;
}

static void drop_token(sbprov_mender_mgmt *m)
{
    if (m->token != NULL) {
        OPENSSL_cleanse(m->token, strlen(m->token));
        free(m->token);
        m->token = NULL;
    }
}

void sbprov_mender_mgmt_free(sbprov_mender_mgmt *m)
{
    if (m == NULL)
        return;
    drop_token(m);
    sbprov__http_free(m->http);
    free(m->base_url);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void sbprov_mender_mgmt_cancel(sbprov_mender_mgmt *m)
{
    if (m != NULL)
        sbprov__http_cancel(m->http);
}

sbprov_result sbprov_mender_mgmt_last_response(sbprov_http_response_info *out, sbprov_mender_mgmt *m)
{
    return sbprov__http_last_response(out, m != NULL ? m->http : NULL, m != NULL ? &m->mu : NULL,
                                      "mender management last response");
}

sbprov_result sbprov_mender_mgmt_set_token(sbprov_mender_mgmt *m, const char *token)
{
    char *copy;
    size_t i, n;

    if (m == NULL || token == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender management token: NULL argument");
    n = strlen(token);
    for (i = 0; i < n; i++)
        if (token[i] <= 0x20 || token[i] >= 0x7f)
            break;
    if (n == 0 || i < n || n > SBPROV__MENDER_TOKEN_MAX)
        return sbprov__fail(SBPROV_EINVAL, "mender management token: empty, too long or not printable ASCII");
    if ((copy = strdup(token)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "mender management token: out of memory");
    pthread_mutex_lock(&m->mu);
    drop_token(m);
    m->token = copy;
    pthread_mutex_unlock(&m->mu);
    return SBPROV_OK;
}

sbprov_result sbprov_mender_mgmt_login(sbprov_mender_mgmt *m, const char *user, const char *password,
                                       size_t password_len)
{
    static const char what[] = "mender login";
    sbprov__http_request req = {0};
    sbprov__http_response resp;
    char *url, *pass, *token = NULL;
    size_t token_len = 0, i;
    sbprov_result rc;

    if (m == NULL || user == NULL || (password == NULL && password_len != 0))
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    for (i = 0; user[i] != '\0'; i++)
        if ((unsigned char)user[i] < 0x20 || user[i] == ':' || user[i] == 0x7f)
            return sbprov__fail(SBPROV_EINVAL, "%s: the user name holds ':' or a control character", what);
    if (i == 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: empty user name", what);
    if (password_len > 0 && memchr(password, '\0', password_len) != NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: the password holds a NUL byte", what);
    url = sbprov__http_url(m->base_url, LOGIN_PATH, NULL, "");
    pass = malloc(password_len + 1);
    if (url == NULL || pass == NULL) {
        free(url);
        free(pass);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    if (password_len > 0)
        memcpy(pass, password, password_len);
    pass[password_len] = '\0';
    req.method = "POST";
    req.url = url;
    req.accept = "application/jwt, application/json";
    req.basic_user = user;
    req.basic_password = pass;
    pthread_mutex_lock(&m->mu);
    rc = sbprov__http_perform(&resp, m->http, &req);
    OPENSSL_cleanse(pass, password_len + 1);
    free(pass);
    free(url);
    if (rc == SBPROV_OK) {
        if (resp.info.status == 200)
            rc = sbprov__mender_take_token(&token, &token_len, resp.body, resp.body_len, what);
        else
            rc = sbprov__http_status_fail(&resp, what);
        if (rc == SBPROV_OK) {
            drop_token(m);
            m->token = token;
        }
        sbprov__http_response_free(&resp);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

sbprov_result sbprov__mender_mgmt_call(sbprov__http_response *resp, sbprov_mender_mgmt *m, const char *method,
                                       const char *path, const char *body, const char *what)
{
    sbprov__http_request req = {0};
    char *url, *auth;
    size_t n;
    sbprov_result rc;

    if (m->token == NULL)
        return sbprov__fail(SBPROV_EAUTH, "%s: not logged in (log in or set a token first)", what);
    n = strlen(m->token) + 8;
    url = sbprov__http_url(m->base_url, path, NULL, "");
    auth = malloc(n);
    if (url == NULL || auth == NULL) {
        free(url);
        free(auth);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    snprintf(auth, n, "Bearer %s", m->token);
    req.method = method;
    req.url = url;
    req.accept = "application/json";
    req.authorization = auth;
    if (body != NULL) {
        req.content_type = "application/json";
        req.body = body;
        req.body_len = strlen(body);
    }
    rc = sbprov__http_perform(resp, m->http, &req);
    OPENSSL_cleanse(auth, n);
    free(auth);
    free(url);
    return rc;
}

/* The preauthorization body: identity_data as an object, the SPKI PEM, force. */
static sbprov_result preauth_body(char **out, const sbprov_identity *identity, const sbprov_key *key, int force)
{
    char *json = NULL, *pem = NULL;
    cJSON *o = NULL, *id = NULL;
    sbprov_result rc;

    *out = NULL;
    if ((rc = sbprov__mender_identity_json(&json, identity)) == SBPROV_OK &&
        (rc = sbprov__mender_public_pem(&pem, key)) == SBPROV_OK) {
        if ((id = cJSON_Parse(json)) != NULL && (o = cJSON_CreateObject()) != NULL &&
            cJSON_AddItemToObject(o, "identity_data", id) && (id = NULL, cJSON_AddStringToObject(o, "pubkey", pem)) &&
            (!force || cJSON_AddTrueToObject(o, "force") != NULL))
            *out = cJSON_PrintUnformatted(o);
        if (*out == NULL)
            rc = sbprov__fail(SBPROV_ENOMEM, "mender preauthorize: out of memory");
    }
    cJSON_Delete(id);
    cJSON_Delete(o);
    free(json);
    free(pem);
    return rc;
}

sbprov_result sbprov_mender_mgmt_preauthorize(char *buf, size_t buf_size, size_t *out_len, int *existed,
                                              sbprov_mender_mgmt *m, const sbprov_identity *identity,
                                              const sbprov_key *key, unsigned flags)
{
    static const char what[] = "mender preauthorize";
    char id[SBPROV__MENDER_ID_MAX + 1];
    sbprov__http_response resp;
    sbprov_mender_device *dev = NULL;
    char *body;
    int found = 0;
    sbprov_result rc;

    if (existed != NULL)
        *existed = 0;
    if (m == NULL || identity == NULL || key == NULL || (buf == NULL && buf_size != 0))
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if ((flags & ~SBPROV_MENDER_PREAUTH_FORCE) != 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: unknown flags 0x%x", what, flags);
    if (sbprov_identity_count(identity) == 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: the identity has no attributes", what);
    if ((rc = preauth_body(&body, identity, key, (flags & SBPROV_MENDER_PREAUTH_FORCE) != 0)) != SBPROV_OK)
        return rc;
    pthread_mutex_lock(&m->mu);
    rc = sbprov__mender_mgmt_call(&resp, m, "POST", DEVICES_PATH, body, what);
    pthread_mutex_unlock(&m->mu);
    cJSON_free(body);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status == 201 && !(flags & SBPROV_MENDER_PREAUTH_FORCE)) {
        rc = sbprov__mender_id_from_location(id, sizeof id, resp.location, what);
    } else if (resp.info.status == 201 || resp.info.status == 409) {
        /* 409: the body is the existing device. 201 with force: Location names
         * a fresh, unused ID (a server quirk), so look the device up. */
        found = resp.info.status == 409;
        rc = found ? sbprov__mender_device_parse(&dev, &resp, what) : sbprov_mender_mgmt_find_device(&dev, m, identity);
        if (rc == SBPROV_OK)
            snprintf(id, sizeof id, "%s", sbprov_mender_device_id(dev));
        sbprov_mender_device_free(dev);
    } else {
        rc = sbprov__http_status_fail(&resp, what);
    }
    sbprov__http_response_free(&resp);
    if (rc != SBPROV_OK)
        return rc;
    if (existed != NULL)
        *existed = found;
    return sbprov__text_copy(buf, buf_size, out_len, id, strlen(id));
}

/* "/api/.../devices/<id>[/auth/<aid>[/status]]" */
static sbprov_result device_path(char *out, size_t size, const char *id, const char *aid, const char *tail,
                                 const char *what)
{
    sbprov_result rc;
    if ((rc = sbprov__mender_check_id(id, what)) != SBPROV_OK ||
        (aid != NULL && (rc = sbprov__mender_check_id(aid, what)) != SBPROV_OK))
        return rc;
    snprintf(out, size, "%s/%s%s%s%s", DEVICES_PATH, id, aid ? "/auth/" : "", aid ? aid : "", tail);
    return SBPROV_OK;
}

/* Perform a call that answers 204 on success. */
static sbprov_result no_content_call(sbprov_mender_mgmt *m, const char *method, const char *path, const char *body,
                                     const char *what)
{
    sbprov__http_response resp;
    sbprov_result rc;

    pthread_mutex_lock(&m->mu);
    rc = sbprov__mender_mgmt_call(&resp, m, method, path, body, what);
    pthread_mutex_unlock(&m->mu);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status != 204 && resp.info.status != 200)
        rc = sbprov__http_status_fail(&resp, what);
    sbprov__http_response_free(&resp);
    return rc;
}

sbprov_result sbprov_mender_mgmt_set_auth_status(sbprov_mender_mgmt *m, const char *device_id,
                                                 const char *auth_set_id, const char *status)
{
    static const char what[] = "mender auth set status";
    char path[512], body[64];
    sbprov_result rc;

    if (m == NULL || device_id == NULL || auth_set_id == NULL || status == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if (strcmp(status, "accepted") != 0 && strcmp(status, "rejected") != 0 && strcmp(status, "pending") != 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: '%.32s' is not accepted, rejected or pending", what, status);
    if ((rc = device_path(path, sizeof path, device_id, auth_set_id, "/status", what)) != SBPROV_OK)
        return rc;
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    return no_content_call(m, "PUT", path, body, what);
}

sbprov_result sbprov_mender_mgmt_decommission(sbprov_mender_mgmt *m, const char *id)
{
    static const char what[] = "mender decommission";
    char path[512];
    sbprov_result rc;

    if (m == NULL || id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if ((rc = device_path(path, sizeof path, id, NULL, "", what)) != SBPROV_OK)
        return rc;
    return no_content_call(m, "DELETE", path, NULL, what);
}

sbprov_result sbprov__mender_check_status(const char *status, const char *what)
{
    static const char *const known[] = {"pending", "accepted", "rejected", "preauthorized", "noauth"};
    if (status == NULL)
        return SBPROV_OK;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(status, known[i]) == 0)
            return SBPROV_OK;
    return sbprov__fail(SBPROV_EINVAL, "%s: unknown device status '%.32s'", what, status);
}

sbprov_result sbprov_mender_mgmt_count(uint64_t *out, sbprov_mender_mgmt *m, const char *status)
{
    static const char what[] = "mender device count";
    char path[128];
    sbprov__http_response resp;
    cJSON *j = NULL, *c;
    sbprov_result rc;

    if (out == NULL || m == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL argument", what);
    if ((rc = sbprov__mender_check_status(status, what)) != SBPROV_OK)
        return rc;
    snprintf(path, sizeof path, "%s/count%s%s", DEVICES_PATH, status ? "?status=" : "", status ? status : "");
    pthread_mutex_lock(&m->mu);
    rc = sbprov__mender_mgmt_call(&resp, m, "GET", path, NULL, what);
    pthread_mutex_unlock(&m->mu);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status != 200)
        rc = sbprov__http_status_fail(&resp, what);
    else if ((rc = sbprov__http_json(&j, &resp, cJSON_Object, what)) == SBPROV_OK) {
        c = cJSON_GetObjectItemCaseSensitive(j, "count");
        if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble > 9007199254740992.0 ||
            c->valuedouble != (double)(uint64_t)c->valuedouble)
            rc = sbprov__fail(SBPROV_ERESPONSE, "%s: the answer holds no count", what);
        else
            *out = (uint64_t)c->valuedouble;
        cJSON_Delete(j);
    }
    sbprov__http_response_free(&resp);
    return rc;
}
