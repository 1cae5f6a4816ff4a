/* What the Azure clients share (see azure_conn.h): a transport, a renewed
 * SAS token, the clock check and retries. */
#include "azure_conn.h"

#include "error.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TTL_S 3600
#define DEFAULT_SKEW_S 300
#define RENEW_MARGIN_S 300
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_S 300

sbprov_result sbprov__azure_conn_init(sbprov__azure_conn *c, const char *endpoint, const char *default_endpoint,
                                      const sbprov_http_options *http, const char *resource, const char *policy,
                                      const char *key, size_t key_len, uint32_t token_ttl_s, uint32_t max_skew_s,
                                      const char *what)
{
    sbprov_http_options o;
    sbprov_result rc;

    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->what = what;
    c->token_ttl_s = token_ttl_s != 0 ? token_ttl_s : DEFAULT_TTL_S;
    c->max_skew_s = max_skew_s != 0 ? max_skew_s : DEFAULT_SKEW_S;
    if ((rc = sbprov__http_options_copy(&o, http)) != SBPROV_OK ||
        (rc = sbprov__http_base_url(&c->base_url, endpoint != NULL ? endpoint : default_endpoint, o.allow_http,
                                    what)) != SBPROV_OK ||
        (rc = sbprov_azure_sas_signer_new(&c->signer, key, key_len)) != SBPROV_OK ||
        (rc = sbprov__http_new(&c->http, &o, what)) != SBPROV_OK)
        return rc;
    c->resource = strdup(resource);
    c->policy = policy != NULL ? strdup(policy) : NULL;
    if (c->resource == NULL || (policy != NULL && c->policy == NULL))
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    return SBPROV_OK;
}

static void drop_token(sbprov__azure_conn *c)
{
    if (c->token != NULL) {
        OPENSSL_cleanse(c->token, strlen(c->token));
        free(c->token);
        c->token = NULL;
    }
}

void sbprov__azure_conn_free(sbprov__azure_conn *c)
{
    drop_token(c);
    sbprov__http_free(c->http);
    sbprov_azure_sas_signer_free(c->signer);
    free(c->base_url);
    free(c->resource);
    free(c->policy);
    pthread_mutex_destroy(&c->mu);
}

/* A fresh token when there is none or it has less than the margin left. */
static sbprov_result ensure_token(sbprov__azure_conn *c, int64_t now)
{
    int64_t margin = c->token_ttl_s / 10 < RENEW_MARGIN_S ? c->token_ttl_s / 10 : RENEW_MARGIN_S;
    char buf[4096];
    size_t len;
    sbprov_result rc;

    if (c->token != NULL && c->token_exp - now > margin)
        return SBPROV_OK;
    drop_token(c);
    rc = sbprov_azure_sas_signer_token(buf, sizeof buf, &len, c->signer, c->resource, c->policy,
                                       now + (int64_t)c->token_ttl_s, now);
    if (rc == SBPROV_OK && (c->token = strdup(buf)) == NULL)
        rc = sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", c->what);
    if (rc == SBPROV_OK)
        c->token_exp = now + (int64_t)c->token_ttl_s;
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

/* "+2 h 13 min" style offset for messages. */
static void describe_offset(char *out, size_t size, int64_t offset)
{
    int64_t a = offset < 0 ? -offset : offset;
    snprintf(out, size, "%lld s (%lld h %02lld min) %s", (long long)a, (long long)(a / 3600),
             (long long)(a % 3600 / 60), offset > 0 ? "behind" : "ahead of");
}

static sbprov_result clock_fail(const sbprov__azure_conn *c, const char *why)
{
    char off[96];
    describe_offset(off, sizeof off, c->clock_offset);
    return sbprov__fail(SBPROV_ECLOCK, "%s: this machine's clock is %s the server's (more than the %u s Azure "
                        "allows); %s. Fix the time (NTP) and retry", c->what, off, c->max_skew_s, why);
}

sbprov_result sbprov__azure_request(sbprov__http_response *resp, sbprov__azure_conn *c, sbprov__http_request *req)
{
    int64_t now = (int64_t)time(NULL);
    size_t n;
    char *auth;
    sbprov_result rc;

    if ((rc = ensure_token(c, now)) != SBPROV_OK)
        return rc;
    /* The server's clock, as last seen, is so far ahead that this token is
     * already expired for it (beyond the skew Azure tolerates): say so
     * rather than send it. */
    if (c->have_offset && c->token_exp + (int64_t)c->max_skew_s <= now + c->clock_offset)
        return clock_fail(c, "SAS tokens signed here are already expired for it");
    n = strlen(c->token) + 1;
    if ((auth = malloc(n)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", c->what);
    memcpy(auth, c->token, n);
    req->authorization = auth;
    rc = sbprov__http_perform(resp, c->http, req);
    req->authorization = NULL;
    OPENSSL_cleanse(auth, n);
    free(auth);
    if (rc != SBPROV_OK)
        return rc;
    if (resp->info.server_date > 0) {
        c->clock_offset = resp->info.server_date - (int64_t)time(NULL);
        c->have_offset = 1;
        if ((c->clock_offset > (int64_t)c->max_skew_s || -c->clock_offset > (int64_t)c->max_skew_s) &&
            (resp->info.status == 401 || resp->info.status == 403)) {
            sbprov__http_response_free(resp);
            return clock_fail(c, "the server refused its token");
        }
        if (c->clock_offset > (int64_t)c->max_skew_s || -c->clock_offset > (int64_t)c->max_skew_s)
            sbprov__log(SBPROV_LOG_WARNING, "%s: the local clock differs from the server's by %lld s", c->what,
                        (long long)c->clock_offset);
    }
    if (resp->info.status == 401)
        drop_token(c); /* a new one next time (the key may have been rotated) */
    return SBPROV_OK;
}

sbprov_result sbprov__azure_request_retry(sbprov__http_response *resp, sbprov__azure_conn *c,
                                          sbprov__http_request *req, uint64_t deadline)
{
    uint64_t backoff = BACKOFF_FIRST_MS;

    for (;;) {
        uint64_t now = sbprov__monotonic_ms(), wait;
        sbprov_result rc;
        int st;

        if (now >= deadline)
            return sbprov__fail(SBPROV_ETIMEOUT, "%s: out of time", c->what);
        req->timeout_ms = (uint32_t)(deadline - now < UINT32_MAX ? deadline - now : UINT32_MAX);
        if ((rc = sbprov__azure_request(resp, c, req)) != SBPROV_OK)
            return rc;
        st = resp->info.status;
        if (st != 429 && (st < 500 || st > 599))
            return SBPROV_OK;
        if (resp->info.retry_after_s >= 1)
            wait = (uint64_t)(resp->info.retry_after_s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
                                                                          : resp->info.retry_after_s) * 1000u;
        else
            wait = backoff;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        if (sbprov__monotonic_ms() + wait >= deadline)
            return SBPROV_OK; /* no time for another try: the caller reports this answer */
        sbprov__log(SBPROV_LOG_INFO, "%s: HTTP %d, retrying in %llu ms", c->what, st, (unsigned long long)wait);
        sbprov__http_response_free(resp);
        if ((rc = sbprov__http_sleep(c->http, wait)) != SBPROV_OK)
            return rc;
    }
}

sbprov_result sbprov__azure_status_fail(const sbprov__http_response *resp, const char *what)
{
    cJSON *j;
    char code[32] = "";

    if (resp->info.status == 412)
        return sbprov__fail(SBPROV_ECONFLICT, "%s: HTTP 412: the etag does not match (changed meanwhile)", what);
    if (strcmp(resp->media_type, "application/json") == 0 &&
        (j = cJSON_ParseWithLength(resp->body, resp->body_len)) != NULL) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "errorCode");
        if (cJSON_IsNumber(e))
            snprintf(code, sizeof code, "errorCode %.0f", e->valuedouble);
        cJSON_Delete(j);
    }
    if (code[0] != '\0') {
        char inner[64];
        snprintf(inner, sizeof inner, "%s (%s)", what, code);
        return sbprov__http_status_fail(resp, inner);
    }
    return sbprov__http_status_fail(resp, what);
}
