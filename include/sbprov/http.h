/**
 * @file http.h
 * @brief How libsbprov talks HTTPS: the transport options every network
 *        client (Mender, Azure) takes.
 *
 * One libcurl transport serves every network call. Its defaults are the safe
 * ones: HTTPS only, TLS 1.2 or newer, the server's certificate and host name
 * verified against the system's CA store, redirects never followed,
 * responses capped in size, and every call bounded by a timeout. A client
 * copies these options when it is created; the caller may free them at once.
 */
#ifndef SBPROV_HTTP_H
#define SBPROV_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <sbprov/common.h>
#include <sbprov/keys.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default connect timeout, in milliseconds. */
#define SBPROV_HTTP_CONNECT_TIMEOUT_MS 10000u
/** Default limit of one request, connection included, in milliseconds. */
#define SBPROV_HTTP_TIMEOUT_MS 30000u
/** Default cap on a response body, in bytes (1 MiB). */
#define SBPROV_HTTP_MAX_RESPONSE (1024u * 1024u)

/** Transport options. Initialise with sbprov_http_options_init(). */
typedef struct sbprov_http_options {
    size_t struct_size;           /**< sizeof(sbprov_http_options), set by the init function. */
    const char *ca_file;          /**< PEM file of trusted CA certificates, or NULL for the system's. */
    const char *ca_path;          /**< Directory of hashed CA certificates (c_rehash), or NULL. */
    const char *client_cert;      /**< PEM client certificate (chain) for mutual TLS, or NULL. */
    const sbprov_key *client_key; /**< Private key of `client_cert` (from a file, sbprov_key_load()), or NULL.
                                       The client keeps a reference to the same key object: a key held by a
                                       provider must not be used elsewhere while the client runs. */
    const char *proxy;            /**< Proxy URL ("http://proxy:3128") used for every host, "" for no proxy
                                       even if the environment names one, or NULL for the environment's
                                       rules (https_proxy, all_proxy, no_proxy, as libcurl reads them). */
    const char *user_agent;       /**< User-Agent header, or NULL for "libsbprov/<version>". */
    uint32_t connect_timeout_ms;  /**< Connect timeout; 0 means ::SBPROV_HTTP_CONNECT_TIMEOUT_MS. */
    uint32_t timeout_ms;          /**< Limit of one request; 0 means ::SBPROV_HTTP_TIMEOUT_MS. */
    size_t max_response_size;     /**< Largest response body accepted; 0 means ::SBPROV_HTTP_MAX_RESPONSE. */
    int allow_http;               /**< Non-zero: plain http:// URLs are allowed (tests, local proxies). */
} sbprov_http_options;

/**
 * Fill `opts` with the defaults (system CAs, no client certificate, the
 * environment's proxy, default timeouts and cap, HTTPS only).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_http_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_http_options_init(sbprov_http_options *opts, size_t struct_size);

/** What the last HTTP exchange of a client returned (see e.g. sbprov_mender_last_response()). */
typedef struct sbprov_http_response_info {
    size_t struct_size;     /**< sizeof(sbprov_http_response_info), set by the caller. */
    int32_t status;         /**< HTTP status, or 0 if no response arrived. */
    int32_t retry_after_s;  /**< Seconds from `Retry-After` (delta or date), or -1 if absent. */
    int64_t server_date;    /**< The response's `Date` as Unix time, or 0 if absent or unparsable. */
    char request_id[64];    /**< The server's request ID (`X-MEN-RequestID`, `request_id` or
                                 `x-ms-request-id`), or "". */
} sbprov_http_response_info;

#ifdef __cplusplus
}
#endif

#endif
