/**
 * @file azure_http.h
 * @brief Azure over HTTPS: DPS registration with a symmetric key, IoT Hub
 *        telemetry (device to cloud), and the IoT Hub identity registry.
 *
 * The pure parts (key derivation, SAS tokens, connection strings) are in
 * azure.h; everything here touches the network through the shared transport
 * (sbprov_http_options), is bounded by timeouts, needs sbprov_global_init(),
 * and may be cancelled from another thread. Handles serialise their calls.
 *
 * Clock sanity: every response's `Date` is compared with the local clock. A
 * gateway whose clock is off by more than `max_clock_skew_s` would sign SAS
 * tokens that are expired (or not yet valid) for Azure; the call then fails
 * with ::SBPROV_ECLOCK naming the offset, instead of a bare 401.
 */
#ifndef SBPROV_AZURE_HTTP_H
#define SBPROV_AZURE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <sbprov/common.h>
#include <sbprov/http.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The global DPS device endpoint. */
#define SBPROV_AZURE_DPS_ENDPOINT "https://global.azure-devices-provisioning.net"
/** DPS data-plane API version used. */
#define SBPROV_AZURE_DPS_API_VERSION "2021-10-01"
/** IoT Hub API version used. */
#define SBPROV_AZURE_HUB_API_VERSION "2021-04-12"

/* ------------------------------------------------------------------------ */
/* DPS registration                                                         */
/* ------------------------------------------------------------------------ */

/** A DPS registration client for one registration ID. */
typedef struct sbprov_azure_dps sbprov_azure_dps;

/** Options of sbprov_azure_dps_new(). Initialise with sbprov_azure_dps_options_init(). */
typedef struct sbprov_azure_dps_options {
    size_t struct_size;              /**< sizeof(sbprov_azure_dps_options), set by the init function. */
    const char *endpoint;            /**< DPS base URL; NULL means ::SBPROV_AZURE_DPS_ENDPOINT. */
    const sbprov_http_options *http; /**< Transport options, or NULL for the defaults. */
    uint32_t token_ttl_s;            /**< Lifetime of each SAS token; 0 means 3600. */
    uint32_t max_clock_skew_s;       /**< Largest tolerated |local - server| clock offset; 0 means 300. */
} sbprov_azure_dps_options;

/**
 * Fill `opts` with the defaults.
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_azure_dps_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_dps_options_init(sbprov_azure_dps_options *opts,
                                                                        size_t struct_size);

/**
 * Create a DPS client. Nothing is sent yet. The key is copied (and wiped
 * when the client is freed).
 *
 * @param[out] out             receives the client; release it with sbprov_azure_dps_free().
 * @param[in]  id_scope        the DPS ID scope ("0ne00000000").
 * @param[in]  registration_id the registration ID (see sbprov_azure_check_registration_id()).
 * @param[in]  key             the device's symmetric key, Base64 (e.g. from sbprov_azure_derive_device_key()).
 * @param[in]  key_len         its length.
 * @param[in]  opts            options, or NULL for the defaults.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_EID      the ID scope or registration ID is malformed.
 * @retval SBPROV_EBASE64, SBPROV_EKEYSIZE the key is not Base64 of 16 to 64 bytes.
 * @retval SBPROV_EINVAL   a pointer is NULL, `opts` is not initialised, or the endpoint is not an https base URL.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_dps_new(sbprov_azure_dps **out, const char *id_scope,
                                                               const char *registration_id, const char *key,
                                                               size_t key_len, const sbprov_azure_dps_options *opts);

/**
 * Release a DPS client and wipe its key. NULL is a no-op.
 * @param dps from sbprov_azure_dps_new(), or NULL.
 */
SBPROV_API void sbprov_azure_dps_free(sbprov_azure_dps *dps);

/** The outcome of a registration (sbprov_azure_dps_register()). */
typedef struct sbprov_azure_dps_result sbprov_azure_dps_result;

/**
 * Register: `PUT .../{idScope}/registrations/{id}/register` with a SAS
 * token (`skn=registration`) and the optional payload, then poll the
 * operation, waiting the service's `Retry-After` (1 to 300 s, 3 s when
 * absent) until it is no longer "assigning". 429 and 5xx answers are retried
 * after their `Retry-After` (or with backoff). Registering again is allowed
 * (the result's substatus says whether the device moved).
 *
 * @param[out] out          the result; release it with sbprov_azure_dps_result_free(). Set for every
 *                          answer DPS gave about the registration, also "failed" and "disabled".
 * @param[in]  dps          the client.
 * @param[in]  payload_json custom data for custom allocation (a JSON value), or NULL.
 * @param[in]  timeout_ms   overall limit (> 0), polling included.
 * @retval SBPROV_OK        `*out` is set; see sbprov_azure_dps_result_status().
 * @retval SBPROV_EAUTH     DPS refused the token (401): a wrong key, an unknown registration, a disabled group.
 * @retval SBPROV_ECLOCK    the local clock is off from DPS's by more than `max_clock_skew_s`.
 * @retval SBPROV_ETIMEOUT  not finished within `timeout_ms`, or one request hit the transport's `timeout_ms`
 *                          (not retried; sbprov_azure_dps_last_response() then has status 0).
 * @retval SBPROV_EHTTP     DPS refused the request as malformed (4xx); its errorCode and message are in the detail.
 * @retval SBPROV_EPARSE    `payload_json` is not exactly one JSON value (it is sent as written, not re-printed).
 * @retval SBPROV_ENETWORK, SBPROV_ECERT, SBPROV_ETLS, SBPROV_ESERVER, SBPROV_ERATELIMIT, SBPROV_ERESPONSE,
 *         SBPROV_ECANCELED as for the transport (docs/mender.md "Transport"); 5xx and 429 only after retries.
 * @retval SBPROV_EINVAL    a pointer is NULL or `timeout_ms` is 0.
 * @retval SBPROV_ENOMEM    out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_dps_register(sbprov_azure_dps_result **out,
                                                                    sbprov_azure_dps *dps, const char *payload_json,
                                                                    uint32_t timeout_ms);

/**
 * Cancel the call in progress on `dps` (or the next one). Safe from any thread and from a signal handler.
 * @param dps the client; NULL is a no-op.
 */
SBPROV_API void sbprov_azure_dps_cancel(sbprov_azure_dps *dps);

/**
 * The last HTTP response's status, `Retry-After`, `Date` and request ID.
 * @param[out] out receives the information; set its `struct_size` first.
 * @param[in]  dps the client.
 * @retval SBPROV_OK     filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_dps_last_response(sbprov_http_response_info *out,
                                                                         sbprov_azure_dps *dps);

/**
 * Registration status: "assigned", "failed", "disabled" or "unassigned".
 * @param r the result.
 * @return a string owned by `r`.
 */
SBPROV_API const char *sbprov_azure_dps_result_status(const sbprov_azure_dps_result *r);
/**
 * The assigned IoT Hub host name ("hub.azure-devices.net"), or NULL if not assigned.
 * @param r the result.
 * @return a string owned by `r`, or NULL.
 */
SBPROV_API const char *sbprov_azure_dps_result_hub(const sbprov_azure_dps_result *r);
/**
 * The assigned device ID, or NULL if not assigned.
 * @param r the result.
 * @return a string owned by `r`, or NULL.
 */
SBPROV_API const char *sbprov_azure_dps_result_device_id(const sbprov_azure_dps_result *r);
/**
 * The substatus ("initialAssignment", "deviceDataMigrated", "deviceDataReset",
 * "reprovisionedToInitialAssignment"), or NULL.
 * @param r the result.
 * @return a string owned by `r`, or NULL.
 */
SBPROV_API const char *sbprov_azure_dps_result_substatus(const sbprov_azure_dps_result *r);
/**
 * Azure's error code of a failed registration (e.g. 400207), or 0.
 * @param r the result.
 * @return the code.
 */
SBPROV_API int32_t sbprov_azure_dps_result_error_code(const sbprov_azure_dps_result *r);
/**
 * Azure's error message of a failed registration, or NULL.
 * @param r the result.
 * @return a string owned by `r`, or NULL.
 */
SBPROV_API const char *sbprov_azure_dps_result_error_message(const sbprov_azure_dps_result *r);
/**
 * The whole final answer of DPS, as JSON text.
 * @param r the result.
 * @return a string owned by `r`.
 */
SBPROV_API const char *sbprov_azure_dps_result_json(const sbprov_azure_dps_result *r);
/**
 * Release a result. NULL is a no-op.
 * @param r from sbprov_azure_dps_register(), or NULL.
 */
SBPROV_API void sbprov_azure_dps_result_free(sbprov_azure_dps_result *r);

/* ------------------------------------------------------------------------ */
/* IoT Hub telemetry (device side)                                          */
/* ------------------------------------------------------------------------ */

/** A device's connection to IoT Hub over HTTPS. */
typedef struct sbprov_azure_hub sbprov_azure_hub;

/** Options of sbprov_azure_hub_new(). Initialise with sbprov_azure_hub_options_init(). */
typedef struct sbprov_azure_hub_options {
    size_t struct_size;              /**< sizeof(sbprov_azure_hub_options), set by the init function. */
    const char *endpoint;            /**< Base URL to connect to; NULL means "https://<HostName>". The SAS
                                          resource always uses HostName (tests and private links differ). */
    const sbprov_http_options *http; /**< Transport options, or NULL for the defaults. */
    uint32_t token_ttl_s;            /**< Lifetime of each SAS token; 0 means 3600. Renewed 5 min (or a
                                          tenth of the lifetime, if less) before it expires. */
    uint32_t max_clock_skew_s;       /**< As for DPS; 0 means 300. */
    uint32_t retry_timeout_ms;       /**< How long 429 and 5xx are retried per message; 0 means 60000. */
} sbprov_azure_hub_options;

/**
 * Fill `opts` with the defaults.
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_azure_hub_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_hub_options_init(sbprov_azure_hub_options *opts,
                                                                        size_t struct_size);

/**
 * Create a hub client from a device connection string
 * (`HostName=...;DeviceId=...;SharedAccessKey=...`, optionally ModuleId is refused).
 *
 * @param[out] out     receives the client; release it with sbprov_azure_hub_free().
 * @param[in]  connstr the device connection string (a secret: copied and wiped).
 * @param[in]  len     its length.
 * @param[in]  opts    options, or NULL for the defaults.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ECONNSTR the connection string is malformed, has no device key, or names a module or policy.
 * @retval SBPROV_EINVAL   a pointer is NULL, `opts` is not initialised, or the endpoint is not a base URL.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_hub_new(sbprov_azure_hub **out, const char *connstr,
                                                               size_t len, const sbprov_azure_hub_options *opts);

/**
 * Release a hub client and wipe its key. NULL is a no-op.
 * @param hub from sbprov_azure_hub_new(), or NULL.
 */
SBPROV_API void sbprov_azure_hub_free(sbprov_azure_hub *hub);

/** One application property of a message. */
typedef struct sbprov_azure_property {
    const char *name;  /**< Property name (a token: letters, digits and ! # $ % & ' * + - . ^ _ ` | ~). */
    const char *value; /**< Property value (printable ASCII). */
} sbprov_azure_property;

/** A device-to-cloud message. Initialise with sbprov_azure_message_init(). */
typedef struct sbprov_azure_message {
    size_t struct_size;                     /**< sizeof(sbprov_azure_message), set by the init function. */
    const void *body;                       /**< The body, sent as is. */
    size_t body_len;                        /**< Its length (at most 256 KiB - 1). */
    const char *message_id;                 /**< `iothub-messageid`; NULL: a random UUID is used. */
    const char *correlation_id;             /**< `iothub-correlationid`, or NULL. */
    const char *content_type;               /**< NULL means "application/json". */
    const char *content_encoding;           /**< NULL means "utf-8". */
    int64_t creation_time;                  /**< Unix time for `iothub-creation-time-utc` (up to year 9999);
                                                 0 means now. */
    const sbprov_azure_property *properties; /**< Application properties (`iothub-app-<name>`), or NULL. */
    size_t property_count;                  /**< Number of properties. */
} sbprov_azure_message;

/**
 * Fill `msg` with the defaults (no body, generated message ID, JSON, UTF-8, now).
 *
 * @param msg the message to initialise.
 * @param struct_size sizeof(sbprov_azure_message) as the caller knows it.
 * @retval SBPROV_OK     `msg` holds the defaults.
 * @retval SBPROV_EINVAL `msg` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_message_init(sbprov_azure_message *msg, size_t struct_size);

/**
 * Send messages in order (`POST /devices/{id}/messages/events`, one request
 * each). 429 and 5xx answers are retried with backoff (honouring
 * `Retry-After`) for up to `retry_timeout_ms` per message; the token is
 * renewed before it expires. Sending stops at the first message that fails
 * for good: the caller learns exactly which were accepted, nothing is dropped
 * silently.
 *
 * @param[in]  hub      the client.
 * @param[in]  messages the messages.
 * @param[in]  count    how many.
 * @param[out] accepted the number of messages accepted (a prefix of `messages`); may be NULL.
 * @retval SBPROV_OK        all were accepted (204 each).
 * @retval SBPROV_EAUTH     the hub refused the token (401/403).
 * @retval SBPROV_ECLOCK    the local clock is off from the hub's by more than `max_clock_skew_s`.
 * @retval SBPROV_ERATELIMIT, SBPROV_ESERVER still throttled or failing after `retry_timeout_ms`.
 * @retval SBPROV_EHTTP     the hub refused a message as malformed (e.g. 413 too large).
 * @retval SBPROV_EINVAL    a pointer is NULL, or a message is not initialised, too large, or has a bad
 *                          ID, content type or property (all are checked first: nothing was sent).
 * @retval SBPROV_ENETWORK, SBPROV_ETIMEOUT, SBPROV_ECERT, SBPROV_ETLS, SBPROV_ERESPONSE, SBPROV_ECANCELED,
 *         SBPROV_ENOMEM as for the transport.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_hub_send(sbprov_azure_hub *hub,
                                                                const sbprov_azure_message *messages, size_t count,
                                                                size_t *accepted);

/**
 * Cancel the call in progress on `hub` (or the next one). Safe from any thread and from a signal handler.
 * @param hub the client; NULL is a no-op.
 */
SBPROV_API void sbprov_azure_hub_cancel(sbprov_azure_hub *hub);

/**
 * The last HTTP response's status, `Retry-After`, `Date` and request ID.
 * @param[out] out receives the information; set its `struct_size` first.
 * @param[in]  hub the client.
 * @retval SBPROV_OK     filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_hub_last_response(sbprov_http_response_info *out,
                                                                         sbprov_azure_hub *hub);

/* ------------------------------------------------------------------------ */
/* IoT Hub identity registry (service side)                                 */
/* ------------------------------------------------------------------------ */

/** A client of the IoT Hub identity registry. */
typedef struct sbprov_azure_registry sbprov_azure_registry;

/**
 * Create a registry client from a service connection string
 * (`HostName=...;SharedAccessKeyName=<policy>;SharedAccessKey=...`; the policy
 * needs RegistryRead/RegistryWrite, e.g. registryReadWrite or iothubowner).
 *
 * @param[out] out     receives the client; release it with sbprov_azure_registry_free().
 * @param[in]  connstr the service connection string (a secret: copied and wiped).
 * @param[in]  len     its length.
 * @param[in]  opts    hub options (endpoint, transport, token lifetime, clock skew), or NULL.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ECONNSTR the connection string is malformed or not a service (policy) one.
 * @retval SBPROV_EINVAL   a pointer is NULL or `opts` is not initialised.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_registry_new(sbprov_azure_registry **out,
                                                                    const char *connstr, size_t len,
                                                                    const sbprov_azure_hub_options *opts);

/**
 * Release a registry client and wipe its key. NULL is a no-op.
 * @param reg from sbprov_azure_registry_new(), or NULL.
 */
SBPROV_API void sbprov_azure_registry_free(sbprov_azure_registry *reg);

/** A device identity as the registry reports it. */
typedef struct sbprov_azure_device sbprov_azure_device;

/**
 * Create or update a device identity with symmetric keys
 * (`PUT /devices/{id}`, status "enabled"). Without `etag` the device is created (409 if it
 * exists: ::SBPROV_EEXISTS); with an etag (or "*") it is updated if the
 * etag matches (412: ::SBPROV_ECONFLICT).
 *
 * @param[out] out           the device as stored (keys, etag); release with sbprov_azure_device_free(); may be NULL.
 * @param[in]  reg           the client.
 * @param[in]  device_id     the device ID (see sbprov_azure_check_device_id()).
 * @param[in]  primary_key   Base64 key, or NULL: on create a 32-byte key is generated here, on update the
 *                           device's current key is kept (read first).
 * @param[in]  secondary_key Base64 key, or NULL (as for `primary_key`).
 * @param[in]  etag          NULL to create, the device's etag or "*" to update.
 * @retval SBPROV_OK        done.
 * @retval SBPROV_EEXISTS   creating, and the device exists.
 * @retval SBPROV_ECONFLICT updating, and the etag does not match (412).
 * @retval SBPROV_EAUTH     the policy is refused or lacks RegistryWrite.
 * @retval SBPROV_EID       the device ID is malformed.
 * @retval SBPROV_EBASE64, SBPROV_EKEYSIZE a given key is not Base64 of 16 to 64 bytes.
 * @retval others as for sbprov_azure_hub_send() (transport, clock, 429/5xx after retries).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_registry_put_device(
    sbprov_azure_device **out, sbprov_azure_registry *reg, const char *device_id, const char *primary_key,
    const char *secondary_key, const char *etag);

/**
 * Read a device identity (`GET /devices/{id}`).
 *
 * @param[out] out       the device; release with sbprov_azure_device_free().
 * @param[in]  reg       the client.
 * @param[in]  device_id the device ID.
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ENOTFOUND no such device.
 * @retval others as for sbprov_azure_registry_put_device().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_registry_get_device(sbprov_azure_device **out,
                                                                           sbprov_azure_registry *reg,
                                                                           const char *device_id);

/**
 * Delete a device identity (`DELETE /devices/{id}`, `If-Match` = etag or "*").
 *
 * @param reg       the client.
 * @param device_id the device ID.
 * @param etag      the etag the device must still have, or NULL for any ("*").
 * @retval SBPROV_OK        deleted.
 * @retval SBPROV_ENOTFOUND no such device.
 * @retval SBPROV_ECONFLICT the etag does not match (412).
 * @retval others as for sbprov_azure_registry_put_device().
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_registry_delete_device(sbprov_azure_registry *reg,
                                                                              const char *device_id,
                                                                              const char *etag);

/**
 * The last HTTP response's status, `Retry-After`, `Date` and request ID.
 * @param[out] out receives the information; set its `struct_size` first.
 * @param[in]  reg the client.
 * @retval SBPROV_OK     filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_registry_last_response(sbprov_http_response_info *out,
                                                                              sbprov_azure_registry *reg);

/**
 * Cancel the call in progress on `reg` (or the next one). Safe from any thread and from a signal handler.
 * @param reg the client; NULL is a no-op.
 */
SBPROV_API void sbprov_azure_registry_cancel(sbprov_azure_registry *reg);

/**
 * The device ID.
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_azure_device_id(const sbprov_azure_device *d);
/**
 * The device's etag.
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_azure_device_etag(const sbprov_azure_device *d);
/**
 * "enabled" or "disabled".
 * @param d the device.
 * @return a string owned by `d`.
 */
SBPROV_API const char *sbprov_azure_device_status(const sbprov_azure_device *d);
/**
 * The primary symmetric key (Base64), or NULL for a non-SAS device. A secret: owned by `d`, wiped with it.
 * @param d the device.
 * @return a string owned by `d`, or NULL.
 */
SBPROV_API const char *sbprov_azure_device_primary_key(const sbprov_azure_device *d);
/**
 * The secondary symmetric key (Base64), or NULL. A secret: owned by `d`, wiped with it.
 * @param d the device.
 * @return a string owned by `d`, or NULL.
 */
SBPROV_API const char *sbprov_azure_device_secondary_key(const sbprov_azure_device *d);
/**
 * Release a device (wiping its keys). NULL is a no-op.
 * @param d the device, or NULL.
 */
SBPROV_API void sbprov_azure_device_free(sbprov_azure_device *d);

#ifdef __cplusplus
}
#endif

#endif
