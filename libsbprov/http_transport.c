/* The libcurl transport (see http_transport.h). */
#include "http_transport.h"

#include "error.h"
#include "keys_internal.h"
#include "options.h"
#include "text.h"
#include "sbprov/version.h"

#include <ctype.h>
#include <errno.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FIRST_SIZE (offsetof(sbprov_http_options, allow_http) + sizeof(int))
#define WHAT_MAX 64
#define SLEEP_SLICE_MS 20 /* how soon a cancel ends a wait */

struct sbprov__http {
    CURL *curl;
    char what[WHAT_MAX];
    char *ca_file, *ca_path, *client_cert, *proxy, *user_agent;
    EVP_PKEY *client_key; /* own reference (may live in a TPM) */
    uint32_t connect_timeout_ms, timeout_ms;
    size_t max_response;
    int allow_http;
    atomic_int cancel;
    sbprov_http_response_info last;
    char errbuf[CURL_ERROR_SIZE];
};

/* Per-request state of the callbacks. */
typedef struct transfer {
    sbprov__http *h;
    char *body;
    size_t len, cap;
    int too_big;
    char *location;
    char request_id[64];
    int64_t date;
    int link_next;
    int have_retry_after; /* libcurl reports 0 when the header is absent */
} transfer;

sbprov_result sbprov_http_options_init(sbprov_http_options *opts, size_t struct_size)
{
    return sbprov__options_init(opts, struct_size, FIRST_SIZE, "http options");
}

sbprov_result sbprov__http_options_copy(sbprov_http_options *dst, const sbprov_http_options *opts)
{
    return opts == NULL ? sbprov_http_options_init(dst, sizeof *dst)
                        : sbprov__options_load(dst, opts, FIRST_SIZE, sizeof *dst, "http options");
}

static char *dup_or_null(const char *s, int *failed)
{
    char *d;
    if (s == NULL)
        return NULL;
    if ((d = strdup(s)) == NULL)
        *failed = 1;
    return d;
}

void sbprov__http_free(sbprov__http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    free(h->ca_file);
    free(h->ca_path);
    free(h->client_cert);
    free(h->proxy);
    free(h->user_agent);
    EVP_PKEY_free(h->client_key);
    free(h);
}

sbprov_result sbprov__http_new(sbprov__http **out, const sbprov_http_options *opts, const char *what)
{
    sbprov_http_options o;
    sbprov__http *h;
    sbprov_result rc;
    int failed = 0;

    *out = NULL;
    if ((rc = sbprov__http_options_copy(&o, opts)) != SBPROV_OK)
        return rc;
    if (o.client_key != NULL && (o.client_key->priv == NULL || o.client_cert == NULL))
        return sbprov__fail(SBPROV_EINVAL, "%s: a client key needs its private part and client_cert", what);
    if (o.client_cert != NULL && o.client_key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: client_cert needs client_key", what);
    if ((h = calloc(1, sizeof *h)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    snprintf(h->what, sizeof h->what, "%s", what);
    h->ca_file = dup_or_null(o.ca_file, &failed);
    h->ca_path = dup_or_null(o.ca_path, &failed);
    h->client_cert = dup_or_null(o.client_cert, &failed);
    h->proxy = dup_or_null(o.proxy, &failed);
    h->user_agent = dup_or_null(o.user_agent != NULL ? o.user_agent : "libsbprov/" SBPROV_VERSION, &failed);
    h->connect_timeout_ms = o.connect_timeout_ms != 0 ? o.connect_timeout_ms : SBPROV_HTTP_CONNECT_TIMEOUT_MS;
    h->timeout_ms = o.timeout_ms != 0 ? o.timeout_ms : SBPROV_HTTP_TIMEOUT_MS;
    h->max_response = o.max_response_size != 0 ? o.max_response_size : SBPROV_HTTP_MAX_RESPONSE;
    h->allow_http = o.allow_http != 0;
    atomic_init(&h->cancel, 0);
    h->last.struct_size = sizeof h->last;
    h->last.retry_after_s = -1;
    if (o.client_key != NULL) {
        if (EVP_PKEY_up_ref(o.client_key->priv) != 1)
            failed = 1;
        else
            h->client_key = o.client_key->priv;
    }
    if (!failed && (h->curl = curl_easy_init()) == NULL)
        failed = 1;
    if (failed) {
        sbprov__http_free(h);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory (or libcurl not initialised: call sbprov_global_init)",
                            what);
    }
    *out = h;
    return SBPROV_OK;
}

void sbprov__http_cancel(sbprov__http *h)
{
    if (h != NULL)
        atomic_store(&h->cancel, 1);
}

int sbprov__http_take_cancel(sbprov__http *h)
{
    return atomic_exchange(&h->cancel, 0);
}

void sbprov__http_last(sbprov_http_response_info *out, const sbprov__http *h)
{
    *out = h->last;
}

sbprov_result sbprov__http_last_response(sbprov_http_response_info *out, sbprov__http *h, pthread_mutex_t *mu,
                                         const char *what)
{
    sbprov_http_response_info info;

    if (h == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL client", what);
    pthread_mutex_lock(mu);
    info = h->last;
    pthread_mutex_unlock(mu);
    return sbprov__options_store(out, &info, sizeof info, sizeof info, what);
}

void sbprov__http_response_free(sbprov__http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    free(resp->location);
    memset(resp, 0, sizeof *resp);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    transfer *t = arg;
    size_t len = size * n;

    if (len > t->h->max_response - t->len || t->len > t->h->max_response) {
        t->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        char *p;
        while (cap < t->len + len + 1)
            cap *= 2;
        if ((p = realloc(t->body, cap)) == NULL)
            return 0;
        t->body = p;
        t->cap = cap;
    }
    memcpy(t->body + t->len, data, len);
    t->len += len;
    return len;
}

/* Header value after "Name:" if `line` is that header, trimmed; else NULL. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    for (v = line + n + 1; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

/* A Link header value names a rel="next" (or rel=next) target. */
int sbprov__http_link_has_next(const char *v, size_t vlen)
{
    char buf[1024], *p;
    size_t i;

    if (vlen >= sizeof buf)
        vlen = sizeof buf - 1;
    for (i = 0; i < vlen; i++)
        buf[i] = (char)tolower((unsigned char)v[i]);
    buf[vlen] = '\0';
    for (p = buf; (p = strstr(p, "rel=")) != NULL; p += 4) {
        const char *r = p[4] == '"' ? p + 5 : p + 4;
        if (strncmp(r, "next", 4) == 0 && (r[4] == '\0' || strchr("\" ;,", r[4]) != NULL))
            return 1;
    }
    return 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    transfer *t = arg;
    size_t len = size * n, vlen;
    const char *v;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after 1xx): forget the last one's */
        free(t->location);
        t->location = NULL;
        t->request_id[0] = '\0';
        t->date = 0;
        t->link_next = 0;
        t->have_retry_after = 0;
    } else if (header_value(data, len, "Retry-After", &vlen) != NULL) {
        t->have_retry_after = 1;
    } else if ((v = header_value(data, len, "Link", &vlen)) != NULL) {
        t->link_next |= sbprov__http_link_has_next(v, vlen);
    } else if ((v = header_value(data, len, "Location", &vlen)) != NULL) {
        free(t->location);
        if ((t->location = malloc(vlen + 1)) == NULL)
            return 0;
        memcpy(t->location, v, vlen);
        t->location[vlen] = '\0';
    } else if ((v = header_value(data, len, "X-MEN-RequestID", &vlen)) != NULL ||
               (v = header_value(data, len, "x-ms-request-id", &vlen)) != NULL ||
               (v = header_value(data, len, "Request-Id", &vlen)) != NULL) {
        if (vlen >= sizeof t->request_id)
            vlen = sizeof t->request_id - 1;
        memcpy(t->request_id, v, vlen);
        t->request_id[vlen] = '\0';
    } else if ((v = header_value(data, len, "Date", &vlen)) != NULL && vlen < 64) {
        char date[64];
        time_t when;
        memcpy(date, v, vlen);
        date[vlen] = '\0';
        when = curl_getdate(date, NULL);
        t->date = when > 0 ? (int64_t)when : 0;
    }
    return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    sbprov__http *h = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&h->cancel) != 0;
}

/* The client certificate and a key that may live in a provider (TPM): set
 * on each TLS context curl makes, since curl itself takes only files. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *arg)
{
    sbprov__http *h = arg;
    SSL_CTX *ctx = ssl_ctx;
    (void)curl;

    if (SSL_CTX_use_certificate_chain_file(ctx, h->client_cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, h->client_key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_peek_last_error();
        snprintf(h->errbuf, sizeof h->errbuf, "client certificate %s or its key unusable: %s", h->client_cert,
                 e != 0 ? ERR_reason_error_string(e) : "unknown reason");
        ERR_clear_error();
        return CURLE_SSL_CERTPROBLEM;
    }
    return CURLE_OK;
}

static int setup(sbprov__http *h, const sbprov__http_request *req, transfer *t, struct curl_slist **headers)
{
    CURL *c = h->curl;
    uint32_t timeout = req->timeout_ms != 0 && req->timeout_ms < h->timeout_ms ? req->timeout_ms : h->timeout_ms;
    char line[256];
    int ok = 1;
    size_t i;

    curl_easy_reset(c); /* keeps the connection, session and DNS caches */
#define SET(opt, val) ok &= curl_easy_setopt(c, opt, val) == CURLE_OK
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_PROTOCOLS_STR, h->allow_http ? "http,https" : "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_file != NULL)
        SET(CURLOPT_CAINFO, h->ca_file);
    if (h->ca_path != NULL)
        SET(CURLOPT_CAPATH, h->ca_path);
    if (h->client_key != NULL) {
        SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        SET(CURLOPT_SSL_CTX_DATA, h);
    }
    if (h->proxy != NULL) {
        /* An explicit proxy (or "" for none) applies to every host: no_proxy
         * from the environment would otherwise still be consulted. */
        SET(CURLOPT_PROXY, h->proxy);
        SET(CURLOPT_NOPROXY, "");
    }
    SET(CURLOPT_USERAGENT, h->user_agent);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)timeout);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, t);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, h);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_response);
    if (strcmp(req->method, "GET") != 0)
        SET(CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body != NULL || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
        strcmp(req->method, "PATCH") == 0) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SET(CURLOPT_POSTFIELDS, req->body != NULL ? (const char *)req->body : "");
    }
    if (req->basic_user != NULL) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, req->basic_user);
        SET(CURLOPT_PASSWORD, req->basic_password != NULL ? req->basic_password : "");
    }
#undef SET
    /* No "Expect: 100-continue" round trip; an explicit (possibly empty) Content-Type. */
    struct curl_slist *l = curl_slist_append(NULL, "Expect:");
    if (l != NULL) {
        snprintf(line, sizeof line, "Content-Type:%s%s", req->content_type ? " " : "",
                 req->content_type ? req->content_type : "");
        l = curl_slist_append(l, line);
    }
    if (l != NULL && req->accept != NULL) {
        snprintf(line, sizeof line, "Accept: %s", req->accept);
        l = curl_slist_append(l, line);
    }
    if (l != NULL && req->authorization != NULL) {
        size_t n = strlen(req->authorization) + 16;
        char *auth = malloc(n);
        if (auth != NULL) {
            snprintf(auth, n, "Authorization: %s", req->authorization);
            l = curl_slist_append(l, auth);
            OPENSSL_cleanse(auth, n);
            free(auth);
        } else {
            curl_slist_free_all(l);
            l = NULL;
        }
    }
    for (i = 0; l != NULL && i < req->header_count; i++)
        l = curl_slist_append(l, req->headers[i]);
    *headers = l;
    return ok && l != NULL && curl_easy_setopt(c, CURLOPT_HTTPHEADER, l) == CURLE_OK;
}

/* Map a failed transfer to a result code and message. */
static sbprov_result transfer_fail(sbprov__http *h, CURLcode cc, const transfer *t, const sbprov__http_request *req)
{
    const char *detail = h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(cc);
    long verify = 0;

    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        (void)curl_easy_getinfo(h->curl, CURLINFO_SSL_VERIFYRESULT, &verify);
        /* curl checks the host name itself, after OpenSSL's chain check; its
         * verify result is then not the reason, its message is. */
        if (strstr(detail, "subject name") != NULL || strstr(detail, "host name") != NULL ||
            strstr(detail, "hostname") != NULL)
            return sbprov__fail(SBPROV_ECERT, "%s: %s %s: the server's certificate is not valid for this host: %s",
                                h->what, req->method, req->url, detail);
        if (verify != X509_V_OK)
            return sbprov__fail(SBPROV_ECERT, "%s: %s %s: the server's certificate is not trusted: %s", h->what,
                                req->method, req->url, X509_verify_cert_error_string(verify));
        return sbprov__fail(SBPROV_ECERT, "%s: %s %s: the server's certificate is not valid for this host: %s",
                            h->what, req->method, req->url, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CLIENTCERT:
        return sbprov__fail(SBPROV_ETLS, "%s: %s %s: TLS failed: %s", h->what, req->method, req->url, detail);
    case CURLE_SSL_CACERT_BADFILE:
        return sbprov__fail(SBPROV_EIO, "%s: the CA file or directory cannot be read: %s", h->what, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return sbprov__fail(SBPROV_ETIMEOUT, "%s: %s %s: timed out: %s", h->what, req->method, req->url, detail);
    case CURLE_ABORTED_BY_CALLBACK:
        return sbprov__fail(SBPROV_ECANCELED, "%s: %s %s: cancelled", h->what, req->method, req->url);
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED)
            return sbprov__fail(SBPROV_ERESPONSE, "%s: %s %s: response larger than %zu bytes", h->what,
                                req->method, req->url, h->max_response);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory for the response", h->what);
    case CURLE_PARTIAL_FILE:
        return sbprov__fail(SBPROV_ERESPONSE, "%s: %s %s: response truncated: %s", h->what, req->method, req->url,
                            detail);
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return sbprov__fail(SBPROV_ERESPONSE, "%s: %s %s: malformed response: %s", h->what, req->method, req->url,
                            detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return sbprov__fail(SBPROV_EINVAL, "%s: %s: only https:// URLs are allowed%s", h->what, req->url,
                            h->allow_http ? "" : " (plain http must be allowed explicitly)");
    case CURLE_URL_MALFORMAT:
        return sbprov__fail(SBPROV_EINVAL, "%s: malformed URL '%s'", h->what, req->url);
    case CURLE_OUT_OF_MEMORY:
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", h->what);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        /* With TLS 1.3 a server that refuses the client (e.g. no client
         * certificate) says so in an alert after the handshake. */
        if (strstr(detail, "alert") != NULL || strstr(detail, "SSL routines") != NULL)
            return sbprov__fail(SBPROV_ETLS, "%s: %s %s: the server ended the TLS session: %s%s", h->what,
                                req->method, req->url, detail,
                                strstr(detail, "certificate required") != NULL ? " (a client certificate is needed)"
                                                                               : "");
        return sbprov__fail(SBPROV_ENETWORK, "%s: %s %s: %s", h->what, req->method, req->url, detail);
    default:
        return sbprov__fail(SBPROV_ENETWORK, "%s: %s %s: %s", h->what, req->method, req->url, detail);
    }
}

static void media_type(char *out, size_t size, const char *content_type)
{
    size_t i = 0;
    if (content_type != NULL)
        for (; content_type[i] != '\0' && content_type[i] != ';' && content_type[i] != ' ' && i + 1 < size; i++)
            out[i] = (char)tolower((unsigned char)content_type[i]);
    out[i] = '\0';
}

sbprov_result sbprov__http_perform(sbprov__http_response *resp, sbprov__http *h, const sbprov__http_request *req)
{
    transfer t;
    struct curl_slist *headers = NULL;
    CURLcode cc;
    long status = 0;
    curl_off_t retry_after = -1;
    char *ct = NULL;
    sbprov_result rc;

    memset(resp, 0, sizeof *resp);
    memset(&t, 0, sizeof t);
    memset(&h->last, 0, sizeof h->last);
    h->last.struct_size = sizeof h->last;
    h->last.retry_after_s = -1;
    h->errbuf[0] = '\0';
    t.h = h;
    if (sbprov__http_take_cancel(h))
        return sbprov__fail(SBPROV_ECANCELED, "%s: %s %s: cancelled", h->what, req->method, req->url);
    if (!setup(h, req, &t, &headers)) {
        curl_slist_free_all(headers);
        return sbprov__fail(SBPROV_ENOMEM, "%s: cannot set up the request (out of memory?)", h->what);
    }
    cc = curl_easy_perform(h->curl);
    curl_slist_free_all(headers);
    (void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        (void)sbprov__http_take_cancel(h);
    if (cc != CURLE_OK) {
        rc = transfer_fail(h, cc, &t, req);
        free(t.body);
        free(t.location);
        sbprov__log(SBPROV_LOG_DEBUG, "%s: %s %s failed: %s", h->what, req->method, req->url, sbprov_last_error());
        return rc;
    }
    (void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &retry_after);
    (void)curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct);
    if (t.body == NULL && (t.body = malloc(1)) == NULL) {
        free(t.location);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", h->what);
    }
    t.body[t.len] = '\0';
    resp->info.struct_size = sizeof resp->info;
    resp->info.status = (int32_t)status;
    /* A Retry-After of over a day is not believed; it is capped. */
    resp->info.retry_after_s = !t.have_retry_after || retry_after < 0 ? -1
                             : retry_after > 86400                  ? 86400
                                                                    : (int32_t)retry_after;
    resp->info.server_date = t.date;
    memcpy(resp->info.request_id, t.request_id, sizeof t.request_id);
    resp->body = t.body;
    resp->body_len = t.len;
    resp->location = t.location;
    resp->link_next = t.link_next;
    media_type(resp->media_type, sizeof resp->media_type, ct);
    h->last = resp->info;
    sbprov__log(SBPROV_LOG_DEBUG, "%s: %s %s -> %ld (%zu bytes)", h->what, req->method, req->url, status, t.len);
    return SBPROV_OK;
}

sbprov_result sbprov__http_json(cJSON **out, const sbprov__http_response *resp, int type, const char *what)
{
    cJSON *j;

    *out = NULL;
    if (strcmp(resp->media_type, "application/json") != 0)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: HTTP %d with content type '%s', expected application/json",
                            what, resp->info.status, resp->media_type);
    j = cJSON_ParseWithLength(resp->body, resp->body_len);
    if (j == NULL)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: HTTP %d: the body is not valid JSON", what, resp->info.status);
    if (type != 0 && (j->type & 0xFF) != type) {
        cJSON_Delete(j);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: HTTP %d: the JSON body is not %s", what, resp->info.status,
                            type == cJSON_Object ? "an object" : type == cJSON_Array ? "an array" : "as expected");
    }
    *out = j;
    return SBPROV_OK;
}

/* The server's own error text from a JSON error body, sanitised, or "". */
static void server_message(char *out, size_t size, const sbprov__http_response *resp)
{
    cJSON *j, *m;
    size_t i = 0;
    const char *s = NULL;

    out[0] = '\0';
    if (strcmp(resp->media_type, "application/json") != 0 ||
        (j = cJSON_ParseWithLength(resp->body, resp->body_len)) == NULL)
        return;
    if (cJSON_IsObject(j) && (cJSON_IsString(m = cJSON_GetObjectItemCaseSensitive(j, "error")) ||
                              cJSON_IsString(m = cJSON_GetObjectItemCaseSensitive(j, "message")) ||
                              cJSON_IsString(m = cJSON_GetObjectItemCaseSensitive(j, "Message"))))
        s = m->valuestring;
    for (; s != NULL && s[i] != '\0' && i + 1 < size; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[i] = '\0';
    cJSON_Delete(j);
}

sbprov_result sbprov__http_status_fail(const sbprov__http_response *resp, const char *what)
{
    char msg[200], rid[80] = "";
    int st = resp->info.status;
    sbprov_result code;

    server_message(msg, sizeof msg, resp);
    if (resp->info.request_id[0] != '\0')
        snprintf(rid, sizeof rid, ", request %s", resp->info.request_id);
    code = st == 401 || st == 403 ? SBPROV_EAUTH
         : st == 404             ? SBPROV_ENOTFOUND
         : st == 409             ? SBPROV_EEXISTS
         : st == 429             ? SBPROV_ERATELIMIT
         : st >= 400 && st < 500 ? SBPROV_EHTTP
         : st >= 500 && st < 600 ? SBPROV_ESERVER
                                 : SBPROV_ERESPONSE;
    if (code == SBPROV_ERATELIMIT && resp->info.retry_after_s >= 0)
        return sbprov__fail(code, "%s: HTTP 429 too many requests, retry after %d s%s%s%s", what,
                            resp->info.retry_after_s, msg[0] ? ": " : "", msg, rid);
    return sbprov__fail(code, "%s: unexpected HTTP %d%s%s%s", what, st, msg[0] ? ": " : "", msg, rid);
}

sbprov_result sbprov__http_base_url(char **out, const char *url, int allow_http, const char *what)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *frag = NULL, *user = NULL;
    sbprov_result rc = SBPROV_OK;
    size_t n;

    *out = NULL;
    if (u == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = sbprov__fail(SBPROV_EINVAL, "%s: '%s' is not a URL", what, url);
        goto out;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    (void)curl_url_get(u, CURLUPART_PATH, &path, 0);
    (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
    (void)curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
    (void)curl_url_get(u, CURLUPART_USER, &user, 0);
    if (strcmp(scheme, "https") != 0 && !(strcmp(scheme, "http") == 0 && allow_http)) {
        rc = sbprov__fail(SBPROV_EINVAL, "%s: '%s': only https:// is allowed%s", what, url,
                          strcmp(scheme, "http") == 0 ? " (plain http must be allowed explicitly)" : "");
    } else if ((path != NULL && strcmp(path, "/") != 0 && path[0] != '\0') || query != NULL || frag != NULL ||
               user != NULL) {
        rc = sbprov__fail(SBPROV_EINVAL, "%s: '%s': give the server's base URL only (no path, query, fragment "
                          "or user)", what, url);
    } else {
        n = strlen(scheme) + strlen(host) + (port ? strlen(port) + 1 : 0) + 4;
        if ((*out = malloc(n)) == NULL)
            rc = sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
        else
            snprintf(*out, n, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(frag);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

uint64_t sbprov__monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

sbprov_result sbprov__http_sleep(sbprov__http *h, uint64_t ms)
{
    uint64_t end = sbprov__monotonic_ms() + ms, now;

    while ((now = sbprov__monotonic_ms()) < end) {
        uint64_t left = end - now, slice = left < SLEEP_SLICE_MS ? left : SLEEP_SLICE_MS;
        struct timespec ts = {(time_t)(slice / 1000), (long)(slice % 1000) * 1000000L};
        if (sbprov__http_take_cancel(h))
            return sbprov__fail(SBPROV_ECANCELED, "%s: cancelled while waiting", h->what);
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return SBPROV_OK;
}

char *sbprov__http_url(const char *base, const char *before, const char *id, const char *after)
{
    size_t need = strlen(base) + strlen(before) + 3 * (id != NULL ? strlen(id) : 0) + strlen(after) + 1;
    char *buf = malloc(need);
    sbprov__text t;

    if (buf == NULL)
        return NULL;
    sbprov__text_init(&t, buf, need);
    sbprov__text_append_str(&t, base);
    sbprov__text_append_str(&t, before);
    if (id != NULL)
        sbprov__text_append_url_encoded(&t, id, strlen(id));
    sbprov__text_append_str(&t, after);
    if (sbprov__text_finish(&t, NULL) != SBPROV_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}
