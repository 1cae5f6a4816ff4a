/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_IDENTITY_H
#define SBPROV_IDENTITY_H

/**
 * @file sbprov/identity.h
 * @brief Device identity as Mender understands it: an ordered set of
 *        attributes (a name with one or more string values), gathered from
 *        the system, from a Mender identity script, from `key=value` text or
 *        from code; its canonical JSON (byte for byte what the Mender server
 *        computes), the SHA-256 of that, and IDs made from it.
 *
 * Attribute names are 1 to 1024 bytes of UTF-8 without `=`, NUL, CR or LF;
 * values are up to 4096 bytes of text without NUL, CR or LF (Mender cannot
 * carry newlines in values). Invalid UTF-8 is kept as given and becomes
 * U+FFFD in the canonical JSON, as the server does. An identity holds at most
 * 256 attributes and 256 values per attribute.
 */

#include <sbprov/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An identity: attributes in the order they were first added. */
typedef struct sbprov_identity sbprov_identity;

/**
 * Create an empty identity.
 *
 * @param[out] out receives the identity; free it with sbprov_identity_free().
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL `out` is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_new(sbprov_identity **out);

/**
 * Release an identity. NULL is a no-op.
 *
 * @param identity from any sbprov_identity constructor, or NULL.
 */
SBPROV_API void sbprov_identity_free(sbprov_identity *identity);

/**
 * Add a value to an attribute. A new name is appended after the existing
 * ones; a repeated name accumulates values in order (as Mender does).
 *
 * @param identity the identity.
 * @param name     attribute name (copied).
 * @param value    value (copied).
 * @retval SBPROV_OK     the value is added.
 * @retval SBPROV_EPARSE the name or value is not allowed (empty name, `=`, CR,
 *                       LF, too long, too many attributes or values); the
 *                       detail says which.
 * @retval SBPROV_EINVAL a pointer is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_add(sbprov_identity *identity, const char *name,
                                                              const char *value);

/**
 * Parse `key=value` lines, as a Mender identity script prints them: each line
 * is split at its first `=`; a repeated key accumulates values in order;
 * empty lines are skipped; a trailing CR is removed; a non-empty line without
 * `=` is an error naming its line number.
 *
 * @param[out] out  receives the identity; free it with sbprov_identity_free().
 * @param[in]  text the text (not necessarily NUL-terminated; a NUL byte is an error).
 * @param[in]  len  length of `text` in bytes.
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EPARSE a line is malformed; the detail gives the line number.
 * @retval SBPROV_EINVAL a pointer is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_parse(sbprov_identity **out, const char *text,
                                                                size_t len);

/** Options of sbprov_identity_from_script(). Initialise with sbprov_identity_script_options_init(). */
typedef struct sbprov_identity_script_options {
    size_t struct_size;   /**< sizeof(sbprov_identity_script_options), set by the init function. */
    uint32_t timeout_ms;  /**< Kill the script after this long; 0 means 10000. */
    uint32_t max_output;  /**< Largest stdout accepted, in bytes; 0 means 65536. */
} sbprov_identity_script_options;

/**
 * Fill `opts` with the defaults (10 s, 64 KiB).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_identity_script_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_script_options_init(sbprov_identity_script_options *opts,
                                                                              size_t struct_size);

/**
 * Run a Mender identity script (executed directly, no shell; empty
 * environment but PATH; stdin from /dev/null; stderr discarded) and parse its
 * stdout as sbprov_identity_parse() does. The script must exit 0 within the
 * timeout and print at most `max_output` bytes and at least one attribute.
 *
 * @param[out] out  receives the identity; free it with sbprov_identity_free().
 * @param[in]  path path of the executable.
 * @param[in]  opts options, or NULL for the defaults.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ESCRIPT  the script could not be run, exited non-zero, was
 *                         killed by a signal, printed too much, or printed nothing.
 * @retval SBPROV_ETIMEOUT the script ran longer than the timeout (it is killed).
 * @retval SBPROV_EPARSE   its output is not `key=value` lines.
 * @retval SBPROV_EINVAL   a pointer is NULL or `opts` is not initialised.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_from_script(sbprov_identity **out, const char *path,
                                                                      const sbprov_identity_script_options *opts);

/** Attributes sbprov_identity_probe() can gather (bit set). */
typedef enum sbprov_identity_source {
    SBPROV_IDENTITY_MAC = 1u << 0,          /**< `mac`: MAC of the chosen network interface, `aa:bb:cc:dd:ee:ff`. */
    SBPROV_IDENTITY_MACHINE_ID = 1u << 1,   /**< `machine_id`: /etc/machine-id. */
    SBPROV_IDENTITY_DMI_SERIAL = 1u << 2,   /**< `serial`: DMI product serial, where readable. */
    SBPROV_IDENTITY_DMI_UUID = 1u << 3,     /**< `product_uuid`: DMI product UUID, where readable. */
    SBPROV_IDENTITY_HOSTNAME = 1u << 4      /**< `hostname`: the host name. */
} sbprov_identity_source;

/** Options of sbprov_identity_probe(). Initialise with sbprov_identity_probe_options_init(). */
typedef struct sbprov_identity_probe_options {
    size_t struct_size;     /**< sizeof(sbprov_identity_probe_options), set by the init function. */
    uint32_t sources;       /**< ::sbprov_identity_source bits; default ::SBPROV_IDENTITY_MAC. */
    int skip_local_mac;     /**< Non-zero: skip locally administered MACs (default 0). */
    const char *physical_globs; /**< Comma-separated interface-name globs always treated as physical
                                 Ethernet (e.g. "eth0,enp*"); NULL for none. */
    const char *virtual_globs;  /**< Comma-separated globs treated as virtual, replacing the default
                                 list (docs/identity.md); NULL for the default. */
    const char *sysfs_root; /**< Root of sysfs, NULL for "/sys" (tests point it elsewhere). */
    const char *etc_root;   /**< Root for etc/machine-id, NULL for "/" (tests point it elsewhere). */
} sbprov_identity_probe_options;

/**
 * Fill `opts` with the defaults (MAC only, virtual interfaces skipped,
 * locally administered MACs kept).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_identity_probe_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_probe_options_init(sbprov_identity_probe_options *opts,
                                                                             size_t struct_size);

/**
 * Gather identity attributes from this system, in the order of
 * ::sbprov_identity_source. The MAC comes from the Ethernet-type interface
 * (ARPHRD_ETHER) with the lowest ifindex that is not virtual: an interface is
 * virtual if its name matches the virtual globs (default: `lo`, `dummy*`,
 * `veth*`, `br*`, `docker*`, `virbr*`, `tun*`, `tap*`, `gretap*`, `erspan*`,
 * `vxlan*`, `macvlan*`, `macvtap*`, `bond*`, `team*`, `wg*`, `vlan*`,
 * `cali*`, `flannel*`, `cni*`, `podman*`, `zt*`) or if it has no backing
 * device in sysfs, unless its name matches a `physical_globs` glob.
 *
 * @param[out] out  receives the identity; free it with sbprov_identity_free().
 * @param[in]  opts options, or NULL for the defaults.
 * @retval SBPROV_OK        `*out` is set.
 * @retval SBPROV_ENOTFOUND a requested attribute is not available (no suitable
 *                          interface, no machine-id, DMI not readable); the detail says which.
 * @retval SBPROV_EIO       sysfs or /etc could not be read.
 * @retval SBPROV_EINVAL    a pointer is NULL, `opts` is not initialised, or `sources` is 0.
 * @retval SBPROV_ENOMEM    out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_probe(sbprov_identity **out,
                                                                const sbprov_identity_probe_options *opts);

/**
 * Number of attributes.
 *
 * @param identity the identity (NULL gives 0).
 * @return the number of distinct attribute names.
 */
SBPROV_API size_t sbprov_identity_count(const sbprov_identity *identity);

/**
 * Name of attribute `index` (in the order first added).
 *
 * @param identity the identity, or NULL.
 * @param index    0 to sbprov_identity_count() - 1.
 * @return the name, borrowed from `identity` until it is changed or freed;
 *         NULL if `index` is out of range or `identity` is NULL.
 */
SBPROV_API const char *sbprov_identity_name(const sbprov_identity *identity, size_t index);

/**
 * Number of values of attribute `index`.
 *
 * @param identity the identity, or NULL.
 * @param index    0 to sbprov_identity_count() - 1.
 * @return the count (>= 1), or 0 if `index` is out of range.
 */
SBPROV_API size_t sbprov_identity_value_count(const sbprov_identity *identity, size_t index);

/**
 * Value `value_index` of attribute `index`.
 *
 * @param identity    the identity, or NULL.
 * @param index       0 to sbprov_identity_count() - 1.
 * @param value_index 0 to sbprov_identity_value_count() - 1.
 * @return the value, borrowed from `identity` until it is changed or freed;
 *         NULL if an index is out of range.
 */
SBPROV_API const char *sbprov_identity_value(const sbprov_identity *identity, size_t index, size_t value_index);

/**
 * First value of the attribute called `name`.
 *
 * @param identity the identity, or NULL.
 * @param name     the attribute name, or NULL.
 * @return the value (borrowed, as above), or NULL if there is no such attribute.
 */
SBPROV_API const char *sbprov_identity_get(const sbprov_identity *identity, const char *name);

/**
 * Canonical JSON of the identity, exactly as the Mender server normalizes
 * `id_data` (Go encoding/json of a map): keys sorted by their bytes, compact,
 * one value as a string and several as an array of strings, `<` `>` `&`
 * U+2028 U+2029 escaped as `\u003c` ..., other control characters as
 * `\uXXXX` (or `\n`, `\r`, `\t`, `\"`, `\\`), invalid UTF-8 as U+FFFD.
 *
 * @param[out] buf      receives the JSON and a NUL.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  JSON length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  identity the identity; must have at least one attribute.
 * @retval SBPROV_OK     the JSON is in `buf`.
 * @retval SBPROV_EBUFS  `buf` is too small.
 * @retval SBPROV_EINVAL a pointer is NULL or the identity is empty.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_canonical_json(char *buf, size_t buf_size,
                                                                         size_t *out_len,
                                                                         const sbprov_identity *identity);

/**
 * SHA-256 of the canonical JSON, as 64 lower-case hex digits (the server's
 * `id_data_sha256`).
 *
 * @param[out] buf      receives the digest and a NUL (65 bytes suffice).
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  64, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  identity the identity; must have at least one attribute.
 * @retval SBPROV_OK      the digest is in `buf`.
 * @retval SBPROV_EBUFS   `buf` is too small.
 * @retval SBPROV_EINVAL  a pointer is NULL or the identity is empty.
 * @retval SBPROV_ENOMEM  out of memory.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_digest(char *buf, size_t buf_size, size_t *out_len,
                                                                 const sbprov_identity *identity);

/** Buffer size for sbprov_identity_digest() (64 hex digits + NUL). */
#define SBPROV_IDENTITY_DIGEST_SIZE 65

/**
 * Make an Azure registration ID / device ID from the identity with a
 * template. `{name}` is replaced by the first value of attribute `name`;
 * `{name:compact}` by that value lower-cased with `:`, `-` and `.` removed
 * (a MAC `AA:BB:..` gives `aabb..`); `{name:lower}` lower-cased; `{{` and
 * `}}` are literal braces. The result must be a valid registration ID
 * (sbprov_azure_check_registration_id()). Example: `gw-{mac:compact}`.
 *
 * @param[out] buf          receives the ID and a NUL.
 * @param[in]  buf_size     size of `buf`.
 * @param[out] out_len      ID length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  identity     the identity.
 * @param[in]  id_template  the template.
 * @retval SBPROV_OK        the ID is in `buf`.
 * @retval SBPROV_ENOTFOUND the template names an attribute the identity lacks.
 * @retval SBPROV_EPARSE    the template is malformed (unclosed `{`, unknown modifier).
 * @retval SBPROV_EID       the result is not a valid registration ID.
 * @retval SBPROV_EBUFS     `buf` is too small.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_identity_format_id(char *buf, size_t buf_size, size_t *out_len,
                                                                    const sbprov_identity *identity,
                                                                    const char *id_template);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_IDENTITY_H */
