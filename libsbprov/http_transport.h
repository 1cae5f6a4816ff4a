/* Internal: the one libcurl transport every network client uses (Mender,
 * Azure). A transport owns one curl easy handle, so connections, TLS
 * sessions and DNS answers are reused across its requests; it is used by one
 * thread at a time (its client serialises calls). Policy: HTTPS only unless
 * allowed, TLS >= 1.2, peer and host verified, no redirects, response bodies
 * capped, every request bounded by a timeout, cancellable from any thread. */
#ifndef SBPROV_INTERNAL_HTTP_TRANSPORT_H
#define SBPROV_INTERNAL_HTTP_TRANSPORT_H

#include "sbprov/http.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>

typedef struct sbprov__http sbprov__http;

typedef struct sbprov__http_request {
    const char *method;        /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;           /* absolute */
    const char *content_type;  /* of the body, or NULL */
    const void *body;          /* sent byte for byte (never re-encoded), or NULL */
    size_t body_len;
    const char *accept;        /* Accept header, or NULL */
    const char *authorization; /* whole Authorization value ("Bearer ..."), or NULL; never logged */
    const char *basic_user;    /* HTTP Basic user (with basic_password), or NULL; never logged */
    const char *basic_password;
    const char *const *headers; /* further "Name: value" headers, or NULL */
    size_t header_count;
    uint32_t timeout_ms;       /* limit for this request if below the transport's, or 0 */
} sbprov__http_request;

typedef struct sbprov__http_response {
    sbprov_http_response_info info; /* status, Retry-After, Date, request ID */
    char *body;                     /* malloc'd, NUL-terminated (body_len excludes it), never NULL on success */
    size_t body_len;
    char media_type[96];            /* Content-Type without parameters, lower case, or "" */
    char *location;                 /* Location header verbatim, or NULL */
    int link_next;                  /* a Link header has rel="next" (paging) */
} sbprov__http_response;

/* Check a server base URL (http(s)://host[:port][/], nothing after) and
 * return it normalised (no trailing slash), malloc'd. SBPROV_EINVAL naming
 * `what`; plain http only with `allow_http`. */
sbprov_result sbprov__http_base_url(char **out, const char *url, int allow_http, const char *what);

/* A request URL: base + before + percent-encoded id (or nothing if id is
 * NULL) + after, malloc'd; NULL when out of memory. */
char *sbprov__http_url(const char *base, const char *before, const char *id, const char *after);

/* Monotonic clock in milliseconds. */
uint64_t sbprov__monotonic_ms(void);

/* Sleep `ms`, ending early with SBPROV_ECANCELED if the transport is
 * cancelled (checked every 20 ms). */
sbprov_result sbprov__http_sleep(sbprov__http *h, uint64_t ms);

/* Copy the caller's options (NULL: the defaults) into `dst`, checking their
 * struct_size; fields an older caller lacks are zero. */
sbprov_result sbprov__http_options_copy(sbprov_http_options *dst, const sbprov_http_options *opts);

/* A transport from `opts` (NULL: defaults); `what` prefixes messages. */
sbprov_result sbprov__http_new(sbprov__http **out, const sbprov_http_options *opts, const char *what);
void sbprov__http_free(sbprov__http *h);

/* Make the request in progress, and the next one if none is, stop with
 * SBPROV_ECANCELED. Safe from any thread and from signal handlers. */
void sbprov__http_cancel(sbprov__http *h);
/* 1 if a cancel is pending (and consume it), else 0. */
int sbprov__http_take_cancel(sbprov__http *h);

/* Perform one request. SBPROV_OK means an HTTP response arrived, whatever
 * its status; `resp` then holds it (free with sbprov__http_response_free()).
 * Failures: SBPROV_ENETWORK (DNS, connect, reset), SBPROV_ETIMEOUT,
 * SBPROV_ECERT (server certificate not trusted, expired, wrong host name),
 * SBPROV_ETLS (handshake, protocol, client certificate), SBPROV_ERESPONSE
 * (over the size cap, truncated, malformed), SBPROV_ECANCELED, SBPROV_EINVAL
 * (a URL that is malformed or not https when http is not allowed),
 * SBPROV_ENOMEM. The last response's info is kept for sbprov__http_last(). */
sbprov_result sbprov__http_perform(sbprov__http_response *resp, sbprov__http *h, const sbprov__http_request *req);
void sbprov__http_response_free(sbprov__http_response *resp);

/* Info of the last response (status 0 if the last request got none). */
void sbprov__http_last(sbprov_http_response_info *out, const sbprov__http *h);

/* The body of every client's *_last_response(): read the info under the
 * client's mutex `mu` and store it into the caller's struct. */
sbprov_result sbprov__http_last_response(sbprov_http_response_info *out, sbprov__http *h, pthread_mutex_t *mu,
                                         const char *what);

/* The response body as JSON: the media type must be application/json and
 * the body valid JSON of the given cJSON type mask (cJSON_Object,
 * cJSON_Array; 0 = any), else SBPROV_ERESPONSE naming `what`. */
sbprov_result sbprov__http_json(cJSON **out, const sbprov__http_response *resp, int type, const char *what);

/* 1 if a Link header value (vlen bytes) has a rel="next" (or rel=next) target. */
int sbprov__http_link_has_next(const char *v, size_t vlen);

/* The failure for a response whose status the caller did not expect: 401
 * and 403 SBPROV_EAUTH, 404 SBPROV_ENOTFOUND, 409 SBPROV_EEXISTS, 429
 * SBPROV_ERATELIMIT, other 4xx SBPROV_EHTTP, 5xx SBPROV_ESERVER, anything
 * else SBPROV_ERESPONSE. The message names `what`, the status and the
 * server's own error text (`error` / `message` of a JSON body). */
sbprov_result sbprov__http_status_fail(const sbprov__http_response *resp, const char *what);

#endif
