/**
 * @file mender.h
 * @brief Mender registration over HTTPS: the device side (authentication,
 *        token, inventory, update check) and the management side that
 *        provisioning tooling uses (login, preauthorize, device status,
 *        accept/reject, decommission).
 *
 * Wire behaviour follows the real Mender server (docs/mender.md): the auth
 * request body is built once and exactly those bytes are signed
 * (`X-MEN-Signature`, standard Base64); a 200 answer carries the raw device
 * JWT; 401 means "not accepted yet" (pending, rejected or unknown). Every
 * function here that touches the network is bounded by the transport's
 * timeouts (sbprov_http_options) and needs sbprov_global_init().
 *
 * Handles are safe to share between threads: calls on one handle are
 * serialised, and sbprov_mender_cancel() may be called from any thread.
 */
#ifndef SBPROV_MENDER_H
#define SBPROV_MENDER_H

#include <stddef.h>
#include <stdint.h>

#include <sbprov/common.h>
#include <sbprov/http.h>
#include <sbprov/identity.h>
#include <sbprov/keys.h>
#include <sbprov/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Device side                                                              */
/* ------------------------------------------------------------------------ */

/** A Mender device client. */
typedef struct sbprov_mender sbprov_mender;

/** Options of sbprov_mender_new(). Initialise with sbprov_mender_options_init(). */
typedef struct sbprov_mender_options {
    size_t struct_size;              /**< sizeof(sbprov_mender_options), set by the init function. */
    const char *tenant_token;        /**< Tenant token (hosted/Enterprise servers), or NULL. */
    const char *tier;                /**< Device tier sent in the auth request: NULL means "standard";
                                          "" sends none. */
    const sbprov_http_options *http; /**< Transport options (CA, mTLS, proxy, timeouts), or NULL for defaults. */
    sbprov_store *token_store;       /**< Store that keeps the device token across restarts, or NULL. It must
                                          outlive the client. */
    const char *token_entry;         /**< Entry name of the token in `token_store`; NULL means "mender.jwt". */
    uint32_t renew_margin_s;         /**< Re-authenticate when the token expires within this many seconds;
                                          0 means 300. */
} sbprov_mender_options;

/**
 * Fill `opts` with the defaults.
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_mender_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_options_init(sbprov_mender_options *opts,
                                                                     size_t struct_size);

/**
 * Create a device client. Nothing is sent yet; a token kept in
 * `opts->token_store` that has not expired is loaded, so a restarted device
 * is authenticated without a round trip.
 *
 * The identity's canonical JSON and the public key are computed here, once;
 * the client keeps its own reference to the key (which may live in a TPM)
 * and copies everything else.
 *
 * @param[out] out        receives the client; release it with sbprov_mender_free().
 * @param[in]  server_url the server's base URL, e.g. "https://hosted.mender.io" (no path, query or fragment).
 * @param[in]  identity   the device identity (at least one attribute).
 * @param[in]  key        the device key, with its private part. The client signs with the same key object;
 *                        a key held by a provider (TPM) must not be used by the caller while a call on the
 *                        client runs (a provider's key object is not safe for concurrent use).
 * @param[in]  opts       options, or NULL for the defaults.
 * @retval SBPROV_OK      `*out` is set.
 * @retval SBPROV_EINVAL  a pointer is NULL, `opts` is not initialised, the URL is not http(s) with a
 *                        host and no path, or plain http is used without `http->allow_http`.
 * @retval SBPROV_EID     the identity is empty, or the token entry name is invalid.
 * @retval SBPROV_EKEY    the key has no private part.
 * @retval SBPROV_ETAMPERED, SBPROV_EIO the stored token could not be read (see sbprov_store_get()).
 * @retval SBPROV_ENOMEM  out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_new(sbprov_mender **out, const char *server_url,
                                                            const sbprov_identity *identity, const sbprov_key *key,
                                                            const sbprov_mender_options *opts);

/**
 * Release a client and wipe its token from memory. NULL is a no-op.
 *
 * @param m from sbprov_mender_new(), or NULL.
 */
SBPROV_API void sbprov_mender_free(sbprov_mender *m);

/** Outcome of one authentication request that the server answered. */
typedef enum sbprov_mender_auth_status {
    SBPROV_MENDER_PENDING = 0, /**< 401: not accepted (yet): pending, rejected, or unknown to the server. */
    SBPROV_MENDER_ACCEPTED = 1 /**< 200: accepted; the client holds a new token. */
} sbprov_mender_auth_status;

/**
 * Send one authentication request (`POST /api/devices/v1/authentication/auth_requests`).
 *
 * @param[out] status ::SBPROV_MENDER_ACCEPTED (token stored in the client, and in the token store if one
 *                    was given) or ::SBPROV_MENDER_PENDING.
 * @param[in]  m      the client.
 * @retval SBPROV_OK         the server answered 200 or 401; see `*status`.
 * @retval SBPROV_ENETWORK   the server could not be reached (DNS, connect, reset).
 * @retval SBPROV_ETIMEOUT   the request timed out.
 * @retval SBPROV_ECERT      the server's certificate is not trusted, expired, or for another host.
 * @retval SBPROV_ETLS       the TLS handshake failed (protocol, client certificate).
 * @retval SBPROV_EHTTP      the server refused the request as malformed (400, 413, 415 ...).
 * @retval SBPROV_ERATELIMIT 429; sbprov_mender_last_response() gives `Retry-After`.
 * @retval SBPROV_ESERVER    a 5xx answer.
 * @retval SBPROV_ERESPONSE  the answer is malformed: too large, truncated, a 200 without a token.
 * @retval SBPROV_ECANCELED  sbprov_mender_cancel() was called.
 * @retval SBPROV_EPROVIDER, SBPROV_ECRYPTO signing failed.
 * @retval SBPROV_EIO        the token could not be written to the token store.
 * @retval SBPROV_EINVAL     a pointer is NULL.
 * @retval SBPROV_ENOMEM     out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_authenticate(sbprov_mender_auth_status *status,
                                                                     sbprov_mender *m);

/** Options of sbprov_mender_authenticate_until_accepted(). Initialise with sbprov_mender_wait_options_init(). */
typedef struct sbprov_mender_wait_options {
    size_t struct_size;          /**< sizeof(sbprov_mender_wait_options), set by the init function. */
    uint32_t timeout_ms;         /**< Give up after this long (required, > 0). */
    uint32_t first_interval_ms;  /**< First wait between attempts; 0 means 60000 (Mender's). */
    uint32_t max_interval_ms;    /**< Cap of the wait; 0 means 300000 (Mender's RetryPollIntervalSeconds). */
    uint32_t tries_per_interval; /**< Attempts at each interval before it doubles; 0 means 3 (Mender's). */
} sbprov_mender_wait_options;

/**
 * Fill `opts` with Mender's schedule (60 s three times, then doubling, at most
 * 300 s) and no timeout (which the caller must set).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_mender_wait_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_wait_options_init(sbprov_mender_wait_options *opts,
                                                                          size_t struct_size);

/**
 * Authenticate until the server accepts the device, waiting between attempts
 * as the Mender client does: each interval is used `tries_per_interval`
 * times, then doubles, up to `max_interval_ms` (a cap below the first
 * interval is used as a fixed interval). A 429 waits for its `Retry-After`
 * instead (within the cap and the timeout). Pending answers, network
 * failures, timeouts, 5xx and malformed answers are retried; errors that a
 * retry cannot fix end the wait at once.
 *
 * @param m    the client.
 * @param opts the schedule and the overall timeout (not NULL).
 * @retval SBPROV_OK        accepted; the client holds the token.
 * @retval SBPROV_ETIMEOUT  not accepted within `timeout_ms` (the last attempt's outcome is in the message).
 * @retval SBPROV_ECANCELED sbprov_mender_cancel() was called.
 * @retval SBPROV_ECERT, SBPROV_ETLS, SBPROV_EHTTP, SBPROV_EINVAL, SBPROV_EPROVIDER, SBPROV_ECRYPTO,
 *         SBPROV_EIO, SBPROV_ENOMEM as for sbprov_mender_authenticate(): not retried.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_authenticate_until_accepted(
    sbprov_mender *m, const sbprov_mender_wait_options *opts);

/**
 * Cancel the call in progress on `m` (a transfer or a wait), or the next
 * call if none is in progress: it returns ::SBPROV_ECANCELED. Safe from any
 * thread and from a signal handler.
 *
 * @param m the client; NULL is a no-op.
 */
SBPROV_API void sbprov_mender_cancel(sbprov_mender *m);

/**
 * The current device token (a JWT).
 *
 * @param[out] buf      receives the token and a NUL.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  token length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  m        the client.
 * @retval SBPROV_OK        the token is in `buf`.
 * @retval SBPROV_ENOTFOUND the device is not authenticated.
 * @retval SBPROV_EBUFS     `buf` is too small.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_token(char *buf, size_t buf_size, size_t *out_len,
                                                              sbprov_mender *m);

/**
 * The device ID the server assigned (the token's `sub` claim).
 *
 * @param[out] buf      receives the ID and a NUL.
 * @param[in]  buf_size size of `buf` (64 bytes suffice for a UUID).
 * @param[out] out_len  ID length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  m        the client.
 * @retval SBPROV_OK        the ID is in `buf`.
 * @retval SBPROV_ENOTFOUND the device is not authenticated.
 * @retval SBPROV_EBUFS     `buf` is too small.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_token_device_id(char *buf, size_t buf_size,
                                                                        size_t *out_len, sbprov_mender *m);

/**
 * When the current token expires (its `exp` claim).
 *
 * @param[out] out Unix time of expiry.
 * @param[in]  m   the client.
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ENOTFOUND the device is not authenticated.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_token_expiry(int64_t *out, sbprov_mender *m);

/**
 * Status, `Retry-After`, `Date` and request ID of the last HTTP response the
 * client received (status 0 if the last request got none).
 *
 * @param[out] out receives the information; set its `struct_size` first.
 * @param[in]  m   the client.
 * @retval SBPROV_OK     `*out` is filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_last_response(sbprov_http_response_info *out,
                                                                      sbprov_mender *m);

/** Inventory attributes to send (sbprov_mender_update_inventory()). */
typedef struct sbprov_inventory sbprov_inventory;

/** Largest number of attributes in one inventory update (the server's default limit). */
#define SBPROV_INVENTORY_MAX 100
/** Longest attribute name, in bytes. */
#define SBPROV_INVENTORY_NAME_MAX 1024

/**
 * Create an empty attribute set.
 *
 * @param[out] out receives the set; release it with sbprov_inventory_free().
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL `out` is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_inventory_new(sbprov_inventory **out);

/**
 * Release an attribute set. NULL is a no-op.
 *
 * @param inv from sbprov_inventory_new(), or NULL.
 */
SBPROV_API void sbprov_inventory_free(sbprov_inventory *inv);

/**
 * Add an attribute with one or more string values (several become a JSON
 * array of strings). Names and values are copied.
 *
 * @param inv    the set.
 * @param name   1 to ::SBPROV_INVENTORY_NAME_MAX bytes of UTF-8 without control characters.
 * @param values the values: UTF-8 without NUL.
 * @param count  number of values, >= 1.
 * @retval SBPROV_OK      added.
 * @retval SBPROV_EID     the name is empty, too long, or not printable UTF-8.
 * @retval SBPROV_EEXISTS the set already has an attribute of that name.
 * @retval SBPROV_EINVAL  a pointer is NULL, `count` is 0, a value is not UTF-8, or the set already has
 *                        ::SBPROV_INVENTORY_MAX attributes.
 * @retval SBPROV_ENOMEM  out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_inventory_add_strings(sbprov_inventory *inv, const char *name,
                                                                       const char *const *values, size_t count);

/**
 * Add an attribute with one or more numbers (several become a JSON array of
 * numbers; arrays never mix types, as the server requires).
 *
 * @param inv    the set.
 * @param name   as for sbprov_inventory_add_strings().
 * @param values finite numbers.
 * @param count  number of values, >= 1.
 * @retval SBPROV_OK, SBPROV_EID, SBPROV_EEXISTS, SBPROV_ENOMEM as for sbprov_inventory_add_strings().
 * @retval SBPROV_EINVAL a pointer is NULL, `count` is 0, a value is NaN or infinite, or the set is full.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_inventory_add_numbers(sbprov_inventory *inv, const char *name,
                                                                       const double *values, size_t count);

/**
 * Number of attributes in the set.
 *
 * @param inv the set, or NULL (0).
 * @return the count.
 */
SBPROV_API size_t sbprov_inventory_count(const sbprov_inventory *inv);

/** How sbprov_mender_update_inventory() sends the set. */
typedef enum sbprov_inventory_mode {
    SBPROV_INVENTORY_REPLACE = 1, /**< PUT: the set replaces the device's inventory attributes. */
    SBPROV_INVENTORY_MERGE = 2    /**< PATCH: the set is merged into them. */
} sbprov_inventory_mode;

/**
 * Send inventory attributes (`PUT|PATCH /api/devices/v1/inventory/device/attributes`).
 * Authenticates first if the client has no token or it is about to expire,
 * and once more if the server answers 401 or 403.
 *
 * @param m    the client.
 * @param inv  the attributes (at least one).
 * @param mode ::SBPROV_INVENTORY_REPLACE or ::SBPROV_INVENTORY_MERGE.
 * @retval SBPROV_OK       the server accepted them (200).
 * @retval SBPROV_EAUTH    the device is not accepted (authentication answered pending).
 * @retval SBPROV_EINVAL   a pointer is NULL, the set is empty, or `mode` is unknown.
 * @retval SBPROV_EHTTP    the server refused the attributes (400).
 * @retval SBPROV_ENETWORK, SBPROV_ETIMEOUT, SBPROV_ECERT, SBPROV_ETLS, SBPROV_ERATELIMIT, SBPROV_ESERVER,
 *         SBPROV_ERESPONSE, SBPROV_ECANCELED, SBPROV_ENOMEM as for sbprov_mender_authenticate().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_update_inventory(sbprov_mender *m,
                                                                         const sbprov_inventory *inv,
                                                                         sbprov_inventory_mode mode);

/** A deployment the server offers (sbprov_mender_check_update()). */
typedef struct sbprov_mender_update sbprov_mender_update;

/**
 * Ask whether a deployment is pending: `POST /api/devices/v2/deployments/device/deployments/next`,
 * falling back to the v1 `GET` when the server has no v2 route (404).
 * Authenticates as sbprov_mender_update_inventory() does.
 *
 * @param[out] out           receives the deployment, or NULL when there is none (204).
 * @param[in]  m             the client.
 * @param[in]  artifact_name the artifact installed now (1..4096 bytes).
 * @param[in]  device_type   the device type (1..4096 bytes).
 * @retval SBPROV_OK       `*out` is the deployment, or NULL when there is none.
 * @retval SBPROV_EINVAL   a pointer is NULL, or a parameter is empty or over 4096 bytes.
 * @retval SBPROV_ERESPONSE a 200 answer without the deployment's id, artifact name or URI.
 * @retval SBPROV_EAUTH, SBPROV_EHTTP, SBPROV_ENETWORK, SBPROV_ETIMEOUT, SBPROV_ECERT, SBPROV_ETLS,
 *         SBPROV_ERATELIMIT, SBPROV_ESERVER, SBPROV_ECANCELED, SBPROV_ENOMEM as for
 *         sbprov_mender_update_inventory().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_check_update(sbprov_mender_update **out, sbprov_mender *m,
                                                                     const char *artifact_name,
                                                                     const char *device_type);

/**
 * Deployment ID.
 * @param u the deployment.
 * @return a string owned by `u`.
 */
SBPROV_API const char *sbprov_mender_update_id(const sbprov_mender_update *u);
/**
 * Name of the artifact to install.
 * @param u the deployment.
 * @return a string owned by `u`.
 */
SBPROV_API const char *sbprov_mender_update_artifact_name(const sbprov_mender_update *u);
/**
 * Download URI of the artifact.
 * @param u the deployment.
 * @return a string owned by `u`.
 */
SBPROV_API const char *sbprov_mender_update_uri(const sbprov_mender_update *u);
/**
 * The server's whole answer, as JSON text.
 * @param u the deployment.
 * @return a string owned by `u`.
 */
SBPROV_API const char *sbprov_mender_update_json(const sbprov_mender_update *u);
/**
 * Release a deployment. NULL is a no-op.
 * @param u from sbprov_mender_check_update(), or NULL.
 */
SBPROV_API void sbprov_mender_update_free(sbprov_mender_update *u);

/* ------------------------------------------------------------------------ */
/* Management side (provisioning tooling)                                   */
/* ------------------------------------------------------------------------ */

/** A client of Mender's management API. */
typedef struct sbprov_mender_mgmt sbprov_mender_mgmt;

/**
 * Create a management client. Nothing is sent; log in with
 * sbprov_mender_mgmt_login() or give a token with sbprov_mender_mgmt_set_token().
 *
 * @param[out] out        receives the client; release it with sbprov_mender_mgmt_free().
 * @param[in]  server_url the server's base URL, as for sbprov_mender_new().
 * @param[in]  http       transport options, or NULL for the defaults.
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL a pointer is NULL or the URL is not acceptable (see sbprov_mender_new()).
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_new(sbprov_mender_mgmt **out, const char *server_url,
                                                                 const sbprov_http_options *http);

/**
 * Release a management client and wipe its token. NULL is a no-op.
 * @param m from sbprov_mender_mgmt_new(), or NULL.
 */
SBPROV_API void sbprov_mender_mgmt_free(sbprov_mender_mgmt *m);

/**
 * Log in with a user name and password (HTTP Basic on
 * `POST /api/management/v1/useradm/auth/login`); the client keeps the JWT.
 *
 * @param m            the client.
 * @param user         the user's e-mail address.
 * @param password     the password (any bytes except NUL).
 * @param password_len its length.
 * @retval SBPROV_OK       logged in.
 * @retval SBPROV_EAUTH    wrong user or password (401).
 * @retval SBPROV_EINVAL   a pointer is NULL, or the user is empty or holds ':' or a control character.
 * @retval SBPROV_ERESPONSE the answer holds no token.
 * @retval SBPROV_ENETWORK, SBPROV_ETIMEOUT, SBPROV_ECERT, SBPROV_ETLS, SBPROV_EHTTP, SBPROV_ERATELIMIT,
 *         SBPROV_ESERVER, SBPROV_ECANCELED, SBPROV_ENOMEM as for sbprov_mender_authenticate().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_login(sbprov_mender_mgmt *m, const char *user,
                                                                   const char *password, size_t password_len);

/**
 * Use a Personal Access Token (or a user JWT obtained elsewhere).
 *
 * @param m     the client.
 * @param token the token (printable ASCII, copied).
 * @retval SBPROV_OK     the token will be sent as `Authorization: Bearer`.
 * @retval SBPROV_EINVAL a pointer is NULL, or the token is empty or not printable ASCII.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_set_token(sbprov_mender_mgmt *m, const char *token);

/** Flags of sbprov_mender_mgmt_preauthorize(). */
#define SBPROV_MENDER_PREAUTH_FORCE (1u << 0) /**< Add the auth set even if the identity exists. */

/**
 * Preauthorize a device (`POST /api/management/v2/devauth/devices`) so its
 * first authentication with this identity and key is accepted at once.
 * Idempotent: if the identity is already known (409), the existing
 * device's ID is returned and `*existed` set.
 *
 * @param[out] buf        receives the device ID and a NUL.
 * @param[in]  buf_size   size of `buf` (64 bytes suffice).
 * @param[out] out_len    ID length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[out] existed    set to 1 if the device existed (409), else 0; may be NULL.
 * @param[in]  m          the client (logged in).
 * @param[in]  identity   the device identity.
 * @param[in]  key        the device's key (its public part is sent, as SPKI PEM).
 * @param[in]  flags      0 or ::SBPROV_MENDER_PREAUTH_FORCE. With FORCE on an existing identity, the
 *                        device is looked up by identity, since the server's `Location` then names no device.
 * @retval SBPROV_OK       the ID is in `buf`.
 * @retval SBPROV_EBUFS    `buf` is too small (the device was preauthorized all the same).
 * @retval SBPROV_EAUTH    not logged in, or the token is refused.
 * @retval SBPROV_EHTTP    the server refused the request (400).
 * @retval SBPROV_ERESPONSE a 201 without a usable `Location`, or a 409 without the device.
 * @retval SBPROV_EINVAL   a pointer is NULL, the identity is empty, or `flags` has unknown bits.
 * @retval SBPROV_ENETWORK, SBPROV_ETIMEOUT, SBPROV_ECERT, SBPROV_ETLS, SBPROV_ERATELIMIT, SBPROV_ESERVER,
 *         SBPROV_ECANCELED, SBPROV_ENOMEM as for sbprov_mender_authenticate().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_preauthorize(char *buf, size_t buf_size,
                                                                          size_t *out_len, int *existed,
                                                                          sbprov_mender_mgmt *m,
                                                                          const sbprov_identity *identity,
                                                                          const sbprov_key *key, unsigned flags);

/** A device as the management API reports it. */
typedef struct sbprov_mender_device sbprov_mender_device;

/**
 * Get one device (`GET /api/management/v2/devauth/devices/{id}`).
 *
 * @param[out] out the device; release it with sbprov_mender_device_free().
 * @param[in]  m   the client.
 * @param[in]  id  the device ID.
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ENOTFOUND no such device (404).
 * @retval SBPROV_EINVAL    a pointer is NULL or the ID is empty or not URL-safe.
 * @retval SBPROV_ERESPONSE the answer is not a device.
 * @retval SBPROV_EAUTH, SBPROV_ENETWORK, SBPROV_ETIMEOUT, SBPROV_ECERT, SBPROV_ETLS, SBPROV_EHTTP,
 *         SBPROV_ERATELIMIT, SBPROV_ESERVER, SBPROV_ECANCELED, SBPROV_ENOMEM as for
 *         sbprov_mender_mgmt_preauthorize().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_get_device(sbprov_mender_device **out,
                                                                        sbprov_mender_mgmt *m, const char *id);

/**
 * Find the device with this identity, looking through every page of the
 * device list (the API has no identity filter).
 *
 * @param[out] out the device; release it with sbprov_mender_device_free().
 * @param[in]  m   the client.
 * @param[in]  identity the identity to look for (compared in canonical form).
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ENOTFOUND no device has this identity.
 * @retval others as for sbprov_mender_mgmt_get_device().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_find_device(sbprov_mender_device **out,
                                                                         sbprov_mender_mgmt *m,
                                                                         const sbprov_identity *identity);

/** One page of devices (sbprov_mender_mgmt_list_devices()). */
typedef struct sbprov_mender_device_list sbprov_mender_device_list;

/**
 * List devices (`GET /api/management/v2/devauth/devices`), one page at a time.
 *
 * @param[out] out      the page; release it with sbprov_mender_device_list_free().
 * @param[in]  m        the client.
 * @param[in]  status   "pending", "accepted", "rejected", "preauthorized", "noauth", or NULL for all.
 * @param[in]  page     page number, from 1.
 * @param[in]  per_page devices per page, 1 to 500.
 * @retval SBPROV_OK     `*out` is set (possibly empty).
 * @retval SBPROV_EINVAL a pointer is NULL, or the status, page or per_page is out of range.
 * @retval others as for sbprov_mender_mgmt_get_device().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_list_devices(sbprov_mender_device_list **out,
                                                                          sbprov_mender_mgmt *m,
                                                                          const char *status, uint32_t page,
                                                                          uint32_t per_page);

/**
 * Number of devices on the page.
 * @param list the page, or NULL (0).
 * @return the count.
 */
SBPROV_API size_t sbprov_mender_device_list_count(const sbprov_mender_device_list *list);
/**
 * A device of the page.
 * @param list  the page.
 * @param index 0 to count - 1.
 * @return the device, owned by `list`, or NULL if `index` is out of range.
 */
SBPROV_API const sbprov_mender_device *sbprov_mender_device_list_get(const sbprov_mender_device_list *list,
                                                                     size_t index);
/**
 * Whether the server announced a next page (a `Link: ...; rel="next"` header).
 * @param list the page.
 * @return 1 if there is a next page, else 0.
 */
SBPROV_API int sbprov_mender_device_list_has_next(const sbprov_mender_device_list *list);
/**
 * Release a page and its devices. NULL is a no-op.
 * @param list from sbprov_mender_mgmt_list_devices(), or NULL.
 */
SBPROV_API void sbprov_mender_device_list_free(sbprov_mender_device_list *list);

/**
 * The device ID.
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_mender_device_id(const sbprov_mender_device *d);
/**
 * The device status ("pending", "accepted", "rejected", "preauthorized", "noauth").
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_mender_device_status(const sbprov_mender_device *d);
/**
 * The device identity as canonical JSON (sorted keys, compact).
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_mender_device_identity_json(const sbprov_mender_device *d);
/**
 * Number of auth sets (identity + key pairs) of the device.
 * @param d the device.
 * @return the count.
 */
SBPROV_API size_t sbprov_mender_device_auth_set_count(const sbprov_mender_device *d);
/**
 * An auth set's ID.
 * @param d the device.
 * @param index 0 to count - 1.
 * @return a string owned by `d`, or NULL if `index` is out of range.
 */
SBPROV_API const char *sbprov_mender_device_auth_set_id(const sbprov_mender_device *d, size_t index);
/**
 * An auth set's status ("pending", "accepted", "rejected", "preauthorized").
 * @param d the device.
 * @param index 0 to count - 1.
 * @return a string owned by `d`, or NULL if `index` is out of range.
 */
SBPROV_API const char *sbprov_mender_device_auth_set_status(const sbprov_mender_device *d, size_t index);
/**
 * An auth set's public key (PEM).
 * @param d the device.
 * @param index 0 to count - 1.
 * @return a string owned by `d`, or NULL if `index` is out of range.
 */
SBPROV_API const char *sbprov_mender_device_auth_set_pubkey(const sbprov_mender_device *d, size_t index);
/**
 * The server's whole description of the device, as JSON text.
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_mender_device_json(const sbprov_mender_device *d);
/**
 * Release a device from sbprov_mender_mgmt_get_device() or _find_device(). NULL is a no-op.
 * (Devices of a list are released with the list.)
 * @param d the device, or NULL.
 */
SBPROV_API void sbprov_mender_device_free(sbprov_mender_device *d);

/**
 * Accept, reject or reset an auth set
 * (`PUT /api/management/v2/devauth/devices/{id}/auth/{aid}/status`). Accepting
 * one auth set rejects the device's previously accepted one.
 *
 * @param m           the client.
 * @param device_id   the device.
 * @param auth_set_id the auth set (sbprov_mender_device_auth_set_id()).
 * @param status      "accepted", "rejected" or "pending".
 * @retval SBPROV_OK        done (204).
 * @retval SBPROV_ENOTFOUND no such device or auth set (404).
 * @retval SBPROV_EHTTP     the transition is not allowed (400), or the device limit is reached (422).
 * @retval SBPROV_EINVAL    a pointer is NULL, an ID is empty or not URL-safe, or the status is unknown.
 * @retval others as for sbprov_mender_mgmt_get_device().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_set_auth_status(sbprov_mender_mgmt *m,
                                                                             const char *device_id,
                                                                             const char *auth_set_id,
                                                                             const char *status);

/**
 * Decommission a device (`DELETE /api/management/v2/devauth/devices/{id}`).
 *
 * @param m  the client.
 * @param id the device.
 * @retval SBPROV_OK        done (204).
 * @retval SBPROV_ENOTFOUND no such device (404).
 * @retval others as for sbprov_mender_mgmt_get_device().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_decommission(sbprov_mender_mgmt *m, const char *id);

/**
 * Count devices (`GET /api/management/v2/devauth/devices/count`).
 *
 * @param[out] out    the count.
 * @param[in]  m      the client.
 * @param[in]  status a status as for sbprov_mender_mgmt_list_devices(), or NULL for all.
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ERESPONSE the answer holds no count.
 * @retval others as for sbprov_mender_mgmt_list_devices().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_count(uint64_t *out, sbprov_mender_mgmt *m,
                                                                   const char *status);

/**
 * Cancel the call in progress on `m`, or the next one; it returns
 * ::SBPROV_ECANCELED. Safe from any thread and from a signal handler.
 * @param m the client; NULL is a no-op.
 */
SBPROV_API void sbprov_mender_mgmt_cancel(sbprov_mender_mgmt *m);

/**
 * Information on the last HTTP response the management client received.
 *
 * @param[out] out receives the information; set its `struct_size` first.
 * @param[in]  m   the client.
 * @retval SBPROV_OK     `*out` is filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_mender_mgmt_last_response(sbprov_http_response_info *out,
                                                                           sbprov_mender_mgmt *m);

#ifdef __cplusplus
}
#endif

#endif
