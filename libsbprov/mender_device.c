/* The Mender device client: creation, authentication (one attempt and
 * until accepted, on Mender's schedule), the token and its renewal. */
#include "mender_internal.h"

#include "error.h"
#include "text.h"
#include "keys_internal.h"
#include "options.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_SIZE (offsetof(sbprov_mender_options, renew_margin_s) + sizeof(uint32_t))
#define WAIT_FIRST_SIZE (offsetof(sbprov_mender_wait_options, tries_per_interval) + sizeof(uint32_t))
#define AUTH_PATH "/api/devices/v1/authentication/auth_requests"
#define LAST_ATTEMPT_MIN_MS 200 /* no last attempt with less time than this left */

sbprov_result sbprov_mender_options_init(sbprov_mender_options *opts, size_t struct_size)
{
    return sbprov__options_init(opts, struct_size, FIRST_SIZE, "mender options");
}

sbprov_result sbprov_mender_wait_options_init(sbprov_mender_wait_options *opts, size_t struct_size)
{
    sbprov_result rc = sbprov__options_init(opts, struct_size, WAIT_FIRST_SIZE, "mender wait options");
    if (rc == SBPROV_OK) {
        opts->first_interval_ms = 60000;
        opts->max_interval_ms = 300000;
        opts->tries_per_interval = 3;
    }
    return rc;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void drop_token(sbprov_mender *m)
{
    if (m->token != NULL) {
        OPENSSL_cleanse(m->token, m->token_len);
        free(m->token);
    }
    m->token = NULL;
    m->token_len = 0;
    m->token_exp = 0;
    m->device_id[0] = '\0';
}

/* Adopt a token (taking ownership of `token`) after checking its claims. */
static sbprov_result adopt_token(sbprov_mender *m, char *token, size_t len, const char *what)
{
    int64_t exp;
    char sub[SBPROV__MENDER_ID_MAX + 1];
    sbprov_result rc = sbprov__jwt_claims(&exp, sub, sizeof sub, token, len, what);

    if (rc != SBPROV_OK) {
        OPENSSL_cleanse(token, len);
        free(token);
        return rc;
    }
    drop_token(m);
    m->token = token;
    m->token_len = len;
    m->token_exp = exp;
    strcpy(m->device_id, sub);
    return SBPROV_OK;
}

/* The token needs renewing: none, or it expires within the margin. */
static int token_stale(const sbprov_mender *m)
{
    return m->token == NULL || (m->token_exp != 0 && m->token_exp - now_s() <= (int64_t)m->renew_margin_s);
}

/* A token kept in the store from an earlier run, if it is still fresh. */
static sbprov_result load_stored_token(sbprov_mender *m)
{
    void *value = NULL;
    size_t len = 0;
    char *token = NULL;
    size_t token_len = 0;
    sbprov_result rc = sbprov_store_get_alloc(&value, &len, m->store, m->token_entry);

    if (rc == SBPROV_ENOTFOUND)
        return SBPROV_OK;
    if (rc != SBPROV_OK)
        return rc;
    /* A stored token that is not a JWT is ignored (and replaced at the next authentication). */
    if (sbprov__mender_take_token(&token, &token_len, value, len, "stored mender token") == SBPROV_OK &&
        adopt_token(m, token, token_len, "stored mender token") == SBPROV_OK && token_stale(m))
        drop_token(m);
    OPENSSL_cleanse(value, len);
    sbprov_free(value);
    sbprov_clear_error();
    return SBPROV_OK;
}

static char *dup_opt(const char *s, int *failed)
{
    char *d = NULL;
    if (s != NULL && (d = strdup(s)) == NULL)
        *failed = 1;
    return d;
}

void sbprov_mender_free(sbprov_mender *m)
{
    if (m == NULL)
        return;
    drop_token(m);
    sbprov__http_free(m->http);
    free(m->base_url);
    free(m->id_data);
    sbprov_key_free(m->key);
    free(m->pubkey_pem);
    if (m->tenant_token != NULL) {
        OPENSSL_cleanse(m->tenant_token, strlen(m->tenant_token));
        free(m->tenant_token);
    }
    free(m->tier);
    free(m->token_entry);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

sbprov_result sbprov_mender_new(sbprov_mender **out, const char *server_url, const sbprov_identity *identity,
                                const sbprov_key *key, const sbprov_mender_options *opts)
{
    sbprov_mender_options o;
    sbprov_http_options http;
    sbprov_mender *m;
    sbprov_result rc;
    int failed = 0;

    if (out == NULL || server_url == NULL || identity == NULL || key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender: NULL argument");
    *out = NULL;
    rc = opts == NULL ? sbprov_mender_options_init(&o, sizeof o)
                      : sbprov__options_load(&o, opts, FIRST_SIZE, sizeof o, "mender options");
    if (rc != SBPROV_OK)
        return rc;
    if (sbprov_identity_count(identity) == 0)
        return sbprov__fail(SBPROV_EID, "mender: the identity has no attributes");
    if (!sbprov_key_has_private(key))
        return sbprov__fail(SBPROV_EKEY, "mender: the device key has no private part (it signs auth requests)");
    if (o.token_entry != NULL && o.token_store == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender: token_entry without token_store");
    if ((rc = sbprov__http_options_copy(&http, o.http)) != SBPROV_OK)
        return rc;
    if ((m = calloc(1, sizeof *m)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "mender: out of memory");
    pthread_mutex_init(&m->mu, NULL);
    if ((rc = sbprov__http_base_url(&m->base_url, server_url, http.allow_http, "mender server")) != SBPROV_OK ||
        (rc = sbprov__mender_identity_json(&m->id_data, identity)) != SBPROV_OK ||
        (rc = sbprov__mender_public_pem(&m->pubkey_pem, key)) != SBPROV_OK ||
        (rc = sbprov__key_ref(&m->key, key, "mender")) != SBPROV_OK ||
        (rc = sbprov__http_new(&m->http, &http, "mender")) != SBPROV_OK)
        goto fail;
    m->tenant_token = dup_opt(o.tenant_token, &failed);
    m->tier = dup_opt(o.tier == NULL ? "standard" : o.tier[0] == '\0' ? NULL : o.tier, &failed);
    m->token_entry = dup_opt(o.token_entry != NULL ? o.token_entry : "mender.jwt", &failed);
    m->store = o.token_store;
    m->renew_margin_s = o.renew_margin_s != 0 ? o.renew_margin_s : 300;
    if (failed) {
        rc = sbprov__fail(SBPROV_ENOMEM, "mender: out of memory");
        goto fail;
    }
    if (m->store != NULL && (rc = load_stored_token(m)) != SBPROV_OK) /* also checks the entry name */
        goto fail;
    *out = m;
    return SBPROV_OK;
fail:
    sbprov_mender_free(m);
    return rc;
}

/* The auth request body: built once, signed as these exact bytes. */
static char *auth_body(const sbprov_mender *m)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;

    if (o != NULL && cJSON_AddStringToObject(o, "id_data", m->id_data) != NULL &&
        cJSON_AddStringToObject(o, "pubkey", m->pubkey_pem) != NULL &&
        (m->tenant_token == NULL || cJSON_AddStringToObject(o, "tenant_token", m->tenant_token) != NULL) &&
        (m->tier == NULL || cJSON_AddStringToObject(o, "tier", m->tier) != NULL))
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return body;
}

sbprov_result sbprov__mender_authenticate_locked(sbprov_mender_auth_status *status, sbprov_mender *m,
                                                 uint32_t timeout_ms)
{
    char sig[1100], sig_header[1200];
    const char *headers[1] = {sig_header};
    char *body = NULL, *url = NULL, *token = NULL;
    size_t token_len = 0;
    sbprov__http_response resp;
    sbprov__http_request req = {0};
    sbprov_result rc;

    *status = SBPROV_MENDER_PENDING;
    body = auth_body(m);
    url = sbprov__http_url(m->base_url, AUTH_PATH, NULL, "");
    if (body == NULL || url == NULL) {
        rc = sbprov__fail(SBPROV_ENOMEM, "mender auth: out of memory");
        goto out;
    }
    if ((rc = sbprov_key_sign(sig, sizeof sig, NULL, m->key, body, strlen(body))) != SBPROV_OK)
        goto out;
    snprintf(sig_header, sizeof sig_header, "X-MEN-Signature: %s", sig);
    req.method = "POST";
    req.url = url;
    req.content_type = "application/json";
    req.accept = "application/json, application/jwt";
    req.body = body;
    req.body_len = strlen(body);
    req.headers = headers;
    req.header_count = 1;
    req.timeout_ms = timeout_ms;
    if ((rc = sbprov__http_perform(&resp, m->http, &req)) != SBPROV_OK)
        goto out;
    if (resp.info.status == 200) {
        rc = sbprov__mender_take_token(&token, &token_len, resp.body, resp.body_len, "mender auth");
        if (rc == SBPROV_OK)
            rc = adopt_token(m, token, token_len, "mender auth");
        if (rc == SBPROV_OK && m->store != NULL)
            rc = sbprov_store_put(m->store, m->token_entry, m->token, m->token_len);
        if (rc == SBPROV_OK) {
            *status = SBPROV_MENDER_ACCEPTED;
            sbprov__log(SBPROV_LOG_INFO, "mender: device %s accepted by %s", m->device_id, m->base_url);
        }
    } else if (resp.info.status == 401) {
        sbprov__log(SBPROV_LOG_INFO, "mender: %s answered 401: not accepted yet (pending)", m->base_url);
    } else {
        rc = sbprov__http_status_fail(&resp, "mender auth");
    }
    sbprov__http_response_free(&resp);
out:
    OPENSSL_cleanse(sig_header, sizeof sig_header);
    free(body);
    free(url);
    return rc;
}

sbprov_result sbprov_mender_authenticate(sbprov_mender_auth_status *status, sbprov_mender *m)
{
    sbprov_result rc;

    if (status == NULL || m == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender auth: NULL argument");
    pthread_mutex_lock(&m->mu);
    rc = sbprov__mender_authenticate_locked(status, m, 0);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* A failure that another attempt may cure. */
static int retryable(sbprov_result rc)
{
    return rc == SBPROV_ENETWORK || rc == SBPROV_ETIMEOUT || rc == SBPROV_ESERVER || rc == SBPROV_ERATELIMIT ||
           rc == SBPROV_ERESPONSE;
}

sbprov_result sbprov_mender_authenticate_until_accepted(sbprov_mender *m, const sbprov_mender_wait_options *opts)
{
    sbprov_mender_wait_options o;
    sbprov_mender_auth_status status;
    sbprov_result rc;
    uint64_t start, deadline, interval;
    uint32_t tries = 0, attempts = 0;
    int last_attempt = 0;
    char last[256];

    if (m == NULL || opts == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender auth: NULL argument");
    if ((rc = sbprov__options_load(&o, opts, WAIT_FIRST_SIZE, sizeof o, "mender wait options")) != SBPROV_OK)
        return rc;
    if (o.timeout_ms == 0)
        return sbprov__fail(SBPROV_EINVAL, "mender wait options: timeout_ms is required (> 0)");
    if (o.first_interval_ms == 0)
        o.first_interval_ms = 60000;
    if (o.max_interval_ms == 0)
        o.max_interval_ms = 300000;
    if (o.tries_per_interval == 0)
        o.tries_per_interval = 3;
    /* Mender: a cap below the first interval is used as a fixed interval. */
    interval = o.max_interval_ms < o.first_interval_ms ? o.max_interval_ms : o.first_interval_ms;
    start = sbprov__monotonic_ms();
    deadline = start + o.timeout_ms;

    pthread_mutex_lock(&m->mu);
    for (;;) {
        uint64_t now = sbprov__monotonic_ms(), wait;
        rc = sbprov__mender_authenticate_locked(&status, m, (uint32_t)(deadline > now ? deadline - now : 1));
        attempts++;
        if (rc == SBPROV_OK && status == SBPROV_MENDER_ACCEPTED)
            break;
        if (rc != SBPROV_OK && !retryable(rc))
            break;
        if (rc == SBPROV_OK)
            snprintf(last, sizeof last, "pending (HTTP 401)");
        else
            snprintf(last, sizeof last, "%s", sbprov_last_error());
        wait = interval;
        if (rc == SBPROV_ERATELIMIT && m->http != NULL) {
            sbprov_http_response_info info;
            sbprov__http_last(&info, m->http);
            /* At least 1 s: "Retry-After: 0" (or a past date) must not spin. */
            if (info.retry_after_s >= 0)
                wait = info.retry_after_s >= 1 ? (uint64_t)info.retry_after_s * 1000u : 1000u;
        } else if (++tries >= o.tries_per_interval) {
            tries = 0;
            interval = interval * 2 > o.max_interval_ms ? o.max_interval_ms : interval * 2;
        }
        now = sbprov__monotonic_ms();
        /* The next attempt would fall after the deadline: make one last
         * attempt before it instead (leaving it half the time left, at most
         * 2 s), unless that was this one or too little time is left. */
        if (now + wait >= deadline) {
            uint64_t left = deadline > now ? deadline - now : 0;
            if (last_attempt || left < LAST_ATTEMPT_MIN_MS) {
                rc = sbprov__fail(SBPROV_ETIMEOUT, "mender auth: not accepted within %u ms (%u attempts; last: %s)",
                                  o.timeout_ms, attempts, last);
                break;
            }
            wait = left - (left / 2 < 2000 ? left / 2 : 2000);
            last_attempt = 1;
        }
        sbprov__log(SBPROV_LOG_INFO, "mender: attempt %u: %s; next in %llu ms", attempts, last,
                    (unsigned long long)wait);
        if ((rc = sbprov__http_sleep(m->http, wait)) != SBPROV_OK)
            break;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void sbprov_mender_cancel(sbprov_mender *m)
{
    if (m != NULL)
        sbprov__http_cancel(m->http);
}

sbprov_result sbprov__mender_device_request(sbprov__http_response *resp, sbprov_mender *m,
                                            sbprov__http_request *req, const char *what)
{
    sbprov_mender_auth_status status;
    char *auth = NULL;
    sbprov_result rc;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (token_stale(m) || attempt == 1) {
            drop_token(m);
            if ((rc = sbprov__mender_authenticate_locked(&status, m, 0)) != SBPROV_OK)
                return rc;
            if (status != SBPROV_MENDER_ACCEPTED)
                return sbprov__fail(SBPROV_EAUTH, "%s: the device is not accepted by the server (pending)", what);
        }
        size_t n = m->token_len + 8;
        if ((auth = malloc(n)) == NULL)
            return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
        snprintf(auth, n, "Bearer %s", m->token);
        req->authorization = auth;
        rc = sbprov__http_perform(resp, m->http, req);
        OPENSSL_cleanse(auth, n);
        free(auth);
        req->authorization = NULL;
        if (rc != SBPROV_OK)
            return rc;
        /* 401: token unknown or revoked; 403: expired (Mender's gateway). */
        if (resp->info.status != 401 && resp->info.status != 403)
            return SBPROV_OK;
        if (attempt == 0)
            sbprov__http_response_free(resp);
    }
    return SBPROV_OK; /* the caller reports the second 401/403 */
}

sbprov_result sbprov_mender_token(char *buf, size_t buf_size, size_t *out_len, sbprov_mender *m)
{
    sbprov_result rc;

    if (m == NULL || (buf == NULL && buf_size != 0))
        return sbprov__fail(SBPROV_EINVAL, "mender token: NULL argument");
    pthread_mutex_lock(&m->mu);
    rc = m->token == NULL ? sbprov__fail(SBPROV_ENOTFOUND, "mender token: the device is not authenticated")
                          : sbprov__text_copy(buf, buf_size, out_len, m->token, m->token_len);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

sbprov_result sbprov_mender_token_device_id(char *buf, size_t buf_size, size_t *out_len, sbprov_mender *m)
{
    sbprov_result rc;

    if (m == NULL || (buf == NULL && buf_size != 0))
        return sbprov__fail(SBPROV_EINVAL, "mender device id: NULL argument");
    pthread_mutex_lock(&m->mu);
    rc = m->token == NULL || m->device_id[0] == '\0'
             ? sbprov__fail(SBPROV_ENOTFOUND, "mender device id: the device is not authenticated")
             : sbprov__text_copy(buf, buf_size, out_len, m->device_id, strlen(m->device_id));
    pthread_mutex_unlock(&m->mu);
    return rc;
}

sbprov_result sbprov_mender_token_expiry(int64_t *out, sbprov_mender *m)
{
    sbprov_result rc = SBPROV_OK;

    if (out == NULL || m == NULL)
        return sbprov__fail(SBPROV_EINVAL, "mender token expiry: NULL argument");
    pthread_mutex_lock(&m->mu);
    if (m->token == NULL)
        rc = sbprov__fail(SBPROV_ENOTFOUND, "mender token expiry: the device is not authenticated");
    else
        *out = m->token_exp;
    pthread_mutex_unlock(&m->mu);
    return rc;
}

sbprov_result sbprov_mender_last_response(sbprov_http_response_info *out, sbprov_mender *m)
{
    return sbprov__http_last_response(out, m != NULL ? m->http : NULL, m != NULL ? &m->mu : NULL,
                                      "mender last response");
}
