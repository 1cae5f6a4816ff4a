/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_AZURE_H
#define SBPROV_AZURE_H

/**
 * @file sbprov/azure.h
 * @brief Azure IoT symmetric keys: DPS group-enrollment key derivation,
 *        SAS tokens, key generation and connection strings.
 *
 * Everything here is pure computation (no network, no clock), works without
 * sbprov_global_init() and is safe to call from several threads at once.
 * Keys are standard padded Base64 ("strict": no whitespace, no missing
 * padding, no non-zero unused bits) of ::SBPROV_AZURE_KEY_MIN_BYTES to
 * ::SBPROV_AZURE_KEY_MAX_BYTES bytes. Decoded keys and HMAC states are
 * cleansed after use. See docs/azure.md for the rules chosen where Azure's
 * own documents disagree.
 */

#include <sbprov/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest decoded symmetric key accepted, in bytes. */
#define SBPROV_AZURE_KEY_MIN_BYTES 16
/** Largest decoded symmetric key accepted, in bytes (DPS generates 64). */
#define SBPROV_AZURE_KEY_MAX_BYTES 64
/** Key length generated when none is asked for, in bytes. */
#define SBPROV_AZURE_KEY_DEFAULT_BYTES 32
/** Buffer size for the Base64 text of an `n`-byte key, NUL included. */
#define SBPROV_AZURE_KEY_B64_SIZE(n) ((((size_t)(n) + 2) / 3) * 4 + 1)
/** Buffer size for a derived device key (44 characters + NUL). */
#define SBPROV_AZURE_DERIVED_KEY_SIZE 45
/** Longest registration, device or module ID, in characters. */
#define SBPROV_AZURE_ID_MAX_LEN 128
/** Longest resource URI accepted by sbprov_azure_sas_token(), in bytes. */
#define SBPROV_AZURE_RESOURCE_URI_MAX_LEN 2048
/** Earliest accepted SAS expiry: 2020-01-01T00:00:00Z. */
#define SBPROV_AZURE_SAS_EXPIRY_MIN 1577836800

/* ------------------------------------------------------------------------ */
/* Identifiers                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Check a DPS registration ID: 1 to 128 characters of `a-z 0-9 - . _ :`,
 * starting with a letter or digit and ending with a letter, digit or `-`.
 * Upper case is refused: DPS compares IDs case-insensitively while the derived
 * key hashes the exact bytes, so a mixed-case ID has no single right key.
 *
 * @param registration_id NUL-terminated ID.
 * @retval SBPROV_OK     the ID is valid.
 * @retval SBPROV_EID    the ID is malformed; sbprov_last_error() says how.
 * @retval SBPROV_EINVAL `registration_id` is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_check_registration_id(const char *registration_id);

/**
 * Check an IoT Hub device or module ID: 1 to 128 characters of ASCII letters,
 * digits and `- . _ : + % # * ? ! ( ) , = @ $ '` (the documented set).
 *
 * @param device_id NUL-terminated ID.
 * @retval SBPROV_OK     the ID is valid.
 * @retval SBPROV_EID    the ID is malformed; sbprov_last_error() says how.
 * @retval SBPROV_EINVAL `device_id` is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_check_device_id(const char *device_id);

/* ------------------------------------------------------------------------ */
/* Group-enrollment key derivation                                           */
/* ------------------------------------------------------------------------ */

/**
 * Derive the device key of a DPS group enrollment:
 * Base64(HMAC-SHA256(Base64Decode(group_key), registration_id)).
 *
 * @param[out] buf           receives the 44-character key and a NUL;
 *                           ::SBPROV_AZURE_DERIVED_KEY_SIZE bytes suffice.
 * @param[in]  buf_size      size of `buf`.
 * @param[out] out_len       key length (44), or the size needed on
 *                           ::SBPROV_EBUFS; may be NULL.
 * @param[in]  group_key     Base64 group key (not NUL-terminated necessarily).
 * @param[in]  group_key_len length of `group_key` in bytes.
 * @param[in]  registration_id NUL-terminated registration ID, checked by
 *                           sbprov_azure_check_registration_id().
 * @retval SBPROV_OK       the key is in `buf`.
 * @retval SBPROV_EBASE64  the group key is not strict padded Base64.
 * @retval SBPROV_EKEYSIZE the group key decodes to fewer than 16 or more than 64 bytes.
 * @retval SBPROV_EID      the registration ID is malformed.
 * @retval SBPROV_EBUFS    `buf` is too small.
 * @retval SBPROV_EINVAL   a required pointer is NULL.
 * @retval SBPROV_ECRYPTO  OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_derive_device_key(
    char *buf, size_t buf_size, size_t *out_len,
    const char *group_key, size_t group_key_len,
    const char *registration_id);

/** A group key decoded and keyed into HMAC-SHA256 once, for deriving many device keys. */
typedef struct sbprov_azure_deriver sbprov_azure_deriver;

/**
 * Decode a group key and key the HMAC once, for fleets: each
 * sbprov_azure_deriver_derive() then reuses the keyed state.
 *
 * @param[out] out           receives the new deriver; free it with
 *                           sbprov_azure_deriver_free().
 * @param[in]  group_key     Base64 group key.
 * @param[in]  group_key_len length of `group_key` in bytes.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_EBASE64  the group key is not strict padded Base64.
 * @retval SBPROV_EKEYSIZE the group key decodes to fewer than 16 or more than 64 bytes.
 * @retval SBPROV_EINVAL   a required pointer is NULL.
 * @retval SBPROV_ENOMEM   out of memory.
 * @retval SBPROV_ECRYPTO  OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_deriver_new(
    sbprov_azure_deriver **out, const char *group_key, size_t group_key_len);

/**
 * Derive one device key with a deriver. Same result as
 * sbprov_azure_derive_device_key() with the deriver's group key.
 *
 * @param[out] buf      receives the 44-character key and a NUL.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  key length (44), or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  deriver  from sbprov_azure_deriver_new(); not used by two threads at once.
 * @param[in]  registration_id NUL-terminated registration ID.
 * @retval SBPROV_OK      the key is in `buf`.
 * @retval SBPROV_EID     the registration ID is malformed.
 * @retval SBPROV_EBUFS   `buf` is too small.
 * @retval SBPROV_EINVAL  a required pointer is NULL.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_deriver_derive(
    char *buf, size_t buf_size, size_t *out_len,
    sbprov_azure_deriver *deriver, const char *registration_id);

/**
 * Release a deriver and cleanse its key material. NULL is a no-op.
 *
 * @param deriver from sbprov_azure_deriver_new(), or NULL.
 */
SBPROV_API void sbprov_azure_deriver_free(sbprov_azure_deriver *deriver);

/* ------------------------------------------------------------------------ */
/* SAS tokens                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Percent-encode bytes as SAS tokens need: `A-Z a-z 0-9 - _ . ~` are kept,
 * every other byte becomes `%XX` with upper-case hex.
 *
 * @param[out] buf      receives the encoded text and a NUL (3 * len + 1 bytes suffice).
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  encoded length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  data     bytes to encode (any values, NUL included).
 * @param[in]  len      number of bytes.
 * @retval SBPROV_OK     the text is in `buf`.
 * @retval SBPROV_EBUFS  `buf` is too small.
 * @retval SBPROV_EINVAL a required pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_url_encode(
    char *buf, size_t buf_size, size_t *out_len, const void *data, size_t len);

/**
 * Build a SAS token:
 * `SharedAccessSignature sr=SR&sig=SIG&se=EXPIRY[&skn=POLICY]` where
 * SR = url_encode(resource_uri), SIG = url_encode(Base64(HMAC-SHA256(
 * Base64Decode(key), SR "\n" EXPIRY))). The `sr` in the token is exactly the
 * text that was signed.
 *
 * @param[out] buf          receives the token and a NUL.
 * @param[in]  buf_size     size of `buf`.
 * @param[out] out_len      token length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  resource_uri NUL-terminated resource URI without scheme, e.g.
 *                          `myhub.azure-devices.net/devices/dev1` (see the
 *                          URI helpers below); 1 to 2048 bytes.
 * @param[in]  key          Base64 key (device key or policy key).
 * @param[in]  key_len      length of `key` in bytes.
 * @param[in]  policy       shared access policy name for `skn` (`registration`
 *                          for DPS), or NULL to omit `skn`; 1 to 128 characters
 *                          of letters, digits and `_ - @ .`.
 * @param[in]  expiry       expiry in seconds since the Unix epoch; must be at
 *                          least ::SBPROV_AZURE_SAS_EXPIRY_MIN.
 * @param[in]  now          the current time in seconds since the epoch, or 0
 *                          to skip the check; when given, `expiry` must be
 *                          later than `now`.
 * @retval SBPROV_OK       the token is in `buf`.
 * @retval SBPROV_EEXPIRY  `expiry` is before 2020 or not after `now`.
 * @retval SBPROV_EBASE64  the key is not strict padded Base64.
 * @retval SBPROV_EKEYSIZE the key decodes to fewer than 16 or more than 64 bytes.
 * @retval SBPROV_EID      the resource URI or the policy name is malformed.
 * @retval SBPROV_EBUFS    `buf` is too small.
 * @retval SBPROV_EINVAL   a required pointer is NULL.
 * @retval SBPROV_ECRYPTO  OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_sas_token(
    char *buf, size_t buf_size, size_t *out_len,
    const char *resource_uri, const char *key, size_t key_len,
    const char *policy, int64_t expiry, int64_t now);

/** A SAS key decoded and keyed into HMAC-SHA256 once, for signing many tokens. */
typedef struct sbprov_azure_sas_signer sbprov_azure_sas_signer;

/**
 * Decode a SAS key and key the HMAC once: for a daemon renewing its tokens,
 * or tooling signing many requests with one policy key.
 *
 * @param[out] out     receives the signer; free it with sbprov_azure_sas_signer_free().
 * @param[in]  key     Base64 key (device key or policy key).
 * @param[in]  key_len length of `key` in bytes.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_EBASE64  the key is not strict padded Base64.
 * @retval SBPROV_EKEYSIZE the key decodes to fewer than 16 or more than 64 bytes.
 * @retval SBPROV_EINVAL   a required pointer is NULL.
 * @retval SBPROV_ENOMEM   out of memory.
 * @retval SBPROV_ECRYPTO  OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_sas_signer_new(
    sbprov_azure_sas_signer **out, const char *key, size_t key_len);

/**
 * Build a SAS token with a signer: the same token as sbprov_azure_sas_token()
 * with the signer's key.
 *
 * @param[out] buf          receives the token and a NUL.
 * @param[in]  buf_size     size of `buf`.
 * @param[out] out_len      token length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  signer       from sbprov_azure_sas_signer_new(); not used by two threads at once.
 * @param[in]  resource_uri as for sbprov_azure_sas_token().
 * @param[in]  policy       as for sbprov_azure_sas_token(), or NULL.
 * @param[in]  expiry       as for sbprov_azure_sas_token().
 * @param[in]  now          as for sbprov_azure_sas_token() (0 skips the check).
 * @retval SBPROV_OK      the token is in `buf`.
 * @retval SBPROV_EEXPIRY `expiry` is before 2020 or not after `now`.
 * @retval SBPROV_EID     the resource URI or the policy name is malformed.
 * @retval SBPROV_EBUFS   `buf` is too small.
 * @retval SBPROV_EINVAL  a required pointer is NULL.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_sas_signer_token(
    char *buf, size_t buf_size, size_t *out_len, sbprov_azure_sas_signer *signer,
    const char *resource_uri, const char *policy, int64_t expiry, int64_t now);

/**
 * Release a signer and cleanse its key material. NULL is a no-op.
 *
 * @param signer from sbprov_azure_sas_signer_new(), or NULL.
 */
SBPROV_API void sbprov_azure_sas_signer_free(sbprov_azure_sas_signer *signer);

/**
 * Resource URI of an IoT Hub device: `HOSTNAME/devices/DEVICE_ID`, with the
 * device ID percent-encoded (so special characters end up double-encoded in
 * the token, as IoT Hub expects; IDs of letters, digits and `- . _` are
 * unchanged).
 *
 * @param[out] buf       receives the URI and a NUL.
 * @param[in]  buf_size  size of `buf`.
 * @param[out] out_len   URI length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  hostname  hub host name, e.g. `myhub.azure-devices.net`: letters,
 *                       digits, `-`, `_` and `.`, 1 to 253 characters.
 * @param[in]  device_id device ID, checked by sbprov_azure_check_device_id().
 * @retval SBPROV_OK     the URI is in `buf`.
 * @retval SBPROV_EID    the host name or device ID is malformed.
 * @retval SBPROV_EBUFS  `buf` is too small.
 * @retval SBPROV_EINVAL a required pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_hub_device_uri(
    char *buf, size_t buf_size, size_t *out_len,
    const char *hostname, const char *device_id);

/**
 * Resource URI of an IoT Hub module: `HOSTNAME/devices/DEVICE_ID/modules/MODULE_ID`,
 * IDs percent-encoded as in sbprov_azure_hub_device_uri().
 *
 * @param[out] buf       receives the URI and a NUL.
 * @param[in]  buf_size  size of `buf`.
 * @param[out] out_len   URI length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  hostname  hub host name.
 * @param[in]  device_id device ID.
 * @param[in]  module_id module ID (same rules as device IDs).
 * @retval SBPROV_OK     the URI is in `buf`.
 * @retval SBPROV_EID    the host name, device ID or module ID is malformed.
 * @retval SBPROV_EBUFS  `buf` is too small.
 * @retval SBPROV_EINVAL a required pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_hub_module_uri(
    char *buf, size_t buf_size, size_t *out_len,
    const char *hostname, const char *device_id, const char *module_id);

/**
 * Resource URI of a DPS registration: `ID_SCOPE/registrations/REGISTRATION_ID`.
 * Sign it with `policy` = "registration".
 *
 * @param[out] buf             receives the URI and a NUL.
 * @param[in]  buf_size        size of `buf`.
 * @param[out] out_len         URI length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  id_scope        DPS ID scope, e.g. `0ne00111111`: 1 to 64 letters and digits.
 * @param[in]  registration_id registration ID, checked by sbprov_azure_check_registration_id().
 * @retval SBPROV_OK     the URI is in `buf`.
 * @retval SBPROV_EID    the ID scope or registration ID is malformed.
 * @retval SBPROV_EBUFS  `buf` is too small.
 * @retval SBPROV_EINVAL a required pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_dps_registration_uri(
    char *buf, size_t buf_size, size_t *out_len,
    const char *id_scope, const char *registration_id);

/* ------------------------------------------------------------------------ */
/* Key generation                                                            */
/* ------------------------------------------------------------------------ */

/**
 * Generate one random symmetric key with OpenSSL's CSPRNG, Base64-encoded.
 *
 * @param[out] buf      receives the key and a NUL; ::SBPROV_AZURE_KEY_B64_SIZE(nbytes) suffices.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  key text length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  nbytes   key length in bytes, 16 to 64 (0 means 32).
 * @retval SBPROV_OK       the key is in `buf`.
 * @retval SBPROV_EKEYSIZE `nbytes` is outside 16..64.
 * @retval SBPROV_EBUFS    `buf` is too small.
 * @retval SBPROV_EINVAL   `buf` is NULL.
 * @retval SBPROV_ERANDOM  the random generator failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_generate_key(
    char *buf, size_t buf_size, size_t *out_len, size_t nbytes);

/**
 * Generate a primary and a different secondary key (see sbprov_azure_generate_key()).
 *
 * @param[out] primary        receives the primary key and a NUL.
 * @param[in]  primary_size   size of `primary`.
 * @param[out] secondary      receives the secondary key and a NUL.
 * @param[in]  secondary_size size of `secondary`.
 * @param[out] out_len        length of each key text, or the size needed on
 *                            ::SBPROV_EBUFS; may be NULL.
 * @param[in]  nbytes         key length in bytes, 16 to 64 (0 means 32).
 * @retval SBPROV_OK       both keys are written.
 * @retval SBPROV_EKEYSIZE `nbytes` is outside 16..64.
 * @retval SBPROV_EBUFS    a buffer is too small.
 * @retval SBPROV_EINVAL   a buffer is NULL.
 * @retval SBPROV_ERANDOM  the random generator failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_generate_keys(
    char *primary, size_t primary_size, char *secondary, size_t secondary_size,
    size_t *out_len, size_t nbytes);

/* ------------------------------------------------------------------------ */
/* Connection strings                                                        */
/* ------------------------------------------------------------------------ */

/** Fields of an IoT Hub connection string. Values are ABI and never change. */
typedef enum sbprov_azure_cs_field {
    SBPROV_AZURE_CS_HOST_NAME = 0,               /**< `HostName` */
    SBPROV_AZURE_CS_DEVICE_ID = 1,               /**< `DeviceId` */
    SBPROV_AZURE_CS_MODULE_ID = 2,               /**< `ModuleId` */
    SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME = 3,  /**< `SharedAccessKeyName` */
    SBPROV_AZURE_CS_SHARED_ACCESS_KEY = 4,       /**< `SharedAccessKey` */
    SBPROV_AZURE_CS_SHARED_ACCESS_SIGNATURE = 5, /**< `SharedAccessSignature` */
    SBPROV_AZURE_CS_GATEWAY_HOST_NAME = 6,       /**< `GatewayHostName` */
    SBPROV_AZURE_CS_X509 = 7                     /**< `x509` (value `true`) */
} sbprov_azure_cs_field;

/**
 * Name of a connection-string field as it appears in the string.
 *
 * @param field a field value.
 * @return static name ("HostName", ...), or NULL for a value that is not a
 *         field (so callers can enumerate fields from 0 until NULL).
 */
SBPROV_API const char *sbprov_azure_cs_field_name(sbprov_azure_cs_field field);

/**
 * Look up a field by its name in the string (case-sensitive).
 *
 * @param[out] out  receives the field.
 * @param[in]  name NUL-terminated name, e.g. "SharedAccessKey".
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ENOTFOUND no field has this name.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_cs_field_from_name(
    sbprov_azure_cs_field *out, const char *name);

/** A parsed or assembled connection string. Holds keys: cleansed on free. */
typedef struct sbprov_azure_connstr sbprov_azure_connstr;

/**
 * Create an empty connection string to fill with sbprov_azure_connstr_set().
 *
 * @param[out] out receives the handle; free it with sbprov_azure_connstr_free().
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL `out` is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_connstr_new(sbprov_azure_connstr **out);

/**
 * Parse and validate a connection string: `Key=Value` pairs separated by `;`,
 * split at the first `=`, keys case-sensitive, nothing trimmed. Unknown,
 * duplicate or empty fields, malformed values and contradictory combinations
 * are errors naming the field (rules in docs/azure.md).
 *
 * @param[out] out receives the handle; free it with sbprov_azure_connstr_free().
 * @param[in]  s   the connection string (a secret: not necessarily NUL-terminated).
 * @param[in]  len length of `s` in bytes.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ECONNSTR the string is malformed or contradictory.
 * @retval SBPROV_EBASE64  `SharedAccessKey` is not strict padded Base64.
 * @retval SBPROV_EKEYSIZE `SharedAccessKey` decodes to a length outside 16..64.
 * @retval SBPROV_EID      `HostName`, `GatewayHostName`, `DeviceId` or `ModuleId` is malformed.
 * @retval SBPROV_EINVAL   a required pointer is NULL.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_connstr_parse(
    sbprov_azure_connstr **out, const char *s, size_t len);

/**
 * Value of one field.
 *
 * @param cs    a connection string.
 * @param field the field.
 * @return the value, borrowed from `cs` and valid until the field is set
 *         again or `cs` is freed; NULL if the field is absent or `cs` is NULL.
 */
SBPROV_API const char *sbprov_azure_connstr_get(const sbprov_azure_connstr *cs, sbprov_azure_cs_field field);

/**
 * Set or remove one field. The value's own syntax is checked here; how fields
 * combine is checked by sbprov_azure_connstr_build().
 *
 * @param cs    a connection string.
 * @param field the field.
 * @param value NUL-terminated value (copied), or NULL to remove the field.
 *              `x509` takes only "true".
 * @retval SBPROV_OK       the field is set.
 * @retval SBPROV_ECONNSTR the value is empty, contains `;`, or is not allowed for the field.
 * @retval SBPROV_EBASE64  a `SharedAccessKey` is not strict padded Base64.
 * @retval SBPROV_EKEYSIZE a `SharedAccessKey` decodes to a length outside 16..64.
 * @retval SBPROV_EID      a host name or ID is malformed.
 * @retval SBPROV_EINVAL   `cs` is NULL or `field` is not a field.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_connstr_set(
    sbprov_azure_connstr *cs, sbprov_azure_cs_field field, const char *value);

/**
 * Check the combination of fields and write the connection string, fields in
 * the order of ::sbprov_azure_cs_field.
 *
 * Valid combinations: `HostName` always; a device string has `DeviceId`
 * (optionally `ModuleId`, `GatewayHostName`) and exactly one of
 * `SharedAccessKey`, `SharedAccessSignature`, `x509`; a service string has
 * `SharedAccessKeyName` and `SharedAccessKey` and no `DeviceId`.
 *
 * @param[out] buf      receives the string and a NUL.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  string length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  cs       the connection string.
 * @retval SBPROV_OK       the string is in `buf`.
 * @retval SBPROV_ECONNSTR a field is missing or the fields contradict each other.
 * @retval SBPROV_EBUFS    `buf` is too small.
 * @retval SBPROV_EINVAL   a required pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_azure_connstr_build(
    char *buf, size_t buf_size, size_t *out_len, const sbprov_azure_connstr *cs);

/**
 * Release a connection string and cleanse its values. NULL is a no-op.
 *
 * @param cs from sbprov_azure_connstr_new() or sbprov_azure_connstr_parse(), or NULL.
 */
SBPROV_API void sbprov_azure_connstr_free(sbprov_azure_connstr *cs);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_AZURE_H */
