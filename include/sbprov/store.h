/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_STORE_H
#define SBPROV_STORE_H

/**
 * @file sbprov/store.h
 * @brief Crash-safe, encrypted credential store on disk, and its export as
 *        an env file for containers (docker/podman `--env-file`) and systemd
 *        (`EnvironmentFile=`).
 *
 * A store is a directory (mode 0700, owned by the caller, never a symbolic
 * link) of named entries. Names match `[A-Za-z0-9._-]{1,128}` and are not
 * "." or ".."; values are bytes, at most ::SBPROV_STORE_VALUE_MAX. Entries are
 * sealed with AES-256-GCM (a fresh nonce per write; the name and the format
 * version are authenticated), unless the store was created in plaintext mode
 * on purpose. Every write goes through a temporary file, fsync, rename and a
 * directory fsync: after a crash every entry holds its old or its new value.
 * Writers take an exclusive lock on the store (across processes and threads),
 * readers a shared one. The on-disk format is described in docs/store-format.md.
 *
 * A handle may be shared by several threads (calls on it are serialised).
 */

#include <sbprov/common.h>
#include <sbprov/keys.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest entry name, in characters. */
#define SBPROV_STORE_NAME_MAX 128
/** Largest entry value, in bytes (1 MiB). */
#define SBPROV_STORE_VALUE_MAX (1024u * 1024u)
/** Size of a store key file, in bytes. */
#define SBPROV_STORE_KEY_SIZE 32

/** An open credential store. */
typedef struct sbprov_store sbprov_store;

/** Options of sbprov_store_open(). Initialise with sbprov_store_open_options_init(). */
typedef struct sbprov_store_open_options {
    size_t struct_size;       /**< sizeof(sbprov_store_open_options), set by the init function. */
    const char *key_file;     /**< Path of a key file (::SBPROV_STORE_KEY_SIZE raw bytes, mode 0600), or NULL. */
    const char *passphrase;   /**< Passphrase to derive the key from (scrypt), or NULL. */
    size_t passphrase_len;    /**< Length of `passphrase` in bytes. */
    int plaintext;            /**< Non-zero: the store keeps values unencrypted (must be asked for explicitly). */
    int create;               /**< Non-zero: create the directory and the store if they do not exist. */
    uint32_t scrypt_log2_n;   /**< scrypt cost log2(N) when creating a passphrase store, 10..22; 0 means 15. */
    const sbprov_key *sealing_key; /**< A private EC P-256 or RSA key (e.g. in a TPM, from sbprov_key_load()) that
                                        seals the store's random key, or NULL. Used during the call only. */
} sbprov_store_open_options;

/**
 * Fill `opts` with the defaults (no key, encrypted, do not create).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_store_open_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_open_options_init(sbprov_store_open_options *opts,
                                                                         size_t struct_size);

/**
 * Open (or with `create`, create) the store in directory `dir`.
 *
 * Exactly one of `key_file`, `passphrase`, `sealing_key` and `plaintext` must
 * be given. A new store records its mode, and for a passphrase the scrypt salt
 * and parameters, in a metadata file; with a `sealing_key` a random store key
 * is created, sealed to that key (ECDH for EC P-256, RSA-OAEP for RSA) and
 * kept sealed in the metadata, so only the key's holder (a TPM) can open it; an existing store is opened only in the mode it was
 * created with, and a key that does not match its key check value is refused.
 * Leftovers of an interrupted write are cleaned up, and an interrupted swap is
 * completed.
 *
 * @param[out] out  receives the store; close it with sbprov_store_free().
 * @param[in]  dir  the store directory.
 * @param[in]  opts options (not NULL: a key or plaintext must be chosen).
 * @retval SBPROV_OK         `*out` is set.
 * @retval SBPROV_ENOTFOUND  `dir` or the store in it does not exist and `create` is not set.
 * @retval SBPROV_EUNSAFE    `dir`, the key file or a store file is a symbolic link, not owned by the
 *                           caller, or group- or world-writable (the key file: readable by others).
 * @retval SBPROV_EPASSPHRASE the passphrase is wrong, or missing for a passphrase store.
 * @retval SBPROV_EKEY       the key file is wrong, missing for a key-file store, or not ::SBPROV_STORE_KEY_SIZE bytes;
 *                           the sealing key is missing for a sealed store, is another key than the one the
 *                           store is sealed to, has no private part, or is Ed25519;
 *                           or the store's mode (plaintext/encrypted) or key source differs from the one asked for.
 * @retval SBPROV_EPROVIDER  the provider holding the sealing key cannot do ECDH or RSA-OAEP with it.
 * @retval SBPROV_EFORMAT    the store has a newer format version than this library knows.
 * @retval SBPROV_ETAMPERED  the store's metadata, its sealed key or an interrupted swap's journal is corrupt.
 * @retval SBPROV_EIO        a file-system operation failed.
 * @retval SBPROV_EINVAL     a pointer is NULL, `opts` is not initialised, or not exactly one key source is given.
 * @retval SBPROV_ENOMEM     out of memory.
 * @retval SBPROV_ECRYPTO    OpenSSL failed.
 * @retval SBPROV_ERANDOM    the random generator failed (creating a store).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_open(sbprov_store **out, const char *dir,
                                                            const sbprov_store_open_options *opts);

/**
 * Release a store (closing its files) and wipe its key from memory. NULL is a no-op.
 *
 * @param store from sbprov_store_open(), or NULL.
 */
SBPROV_API void sbprov_store_free(sbprov_store *store);

/**
 * Create a new store key file: ::SBPROV_STORE_KEY_SIZE random bytes, mode 0600,
 * written atomically; an existing file is never replaced.
 *
 * @param path the key file to create.
 * @retval SBPROV_OK      the file is written.
 * @retval SBPROV_EEXISTS `path` exists.
 * @retval SBPROV_EIO     creating, writing, syncing or renaming failed (nothing is left behind).
 * @retval SBPROV_ERANDOM the random generator failed.
 * @retval SBPROV_EINVAL  `path` is NULL or empty.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_create_key_file(const char *path);

/**
 * Store `value` under `name`, replacing an existing value atomically.
 *
 * @param store the store.
 * @param name  the entry name.
 * @param value the value (arbitrary bytes; may be NULL if `len` is 0).
 * @param len   its length, at most ::SBPROV_STORE_VALUE_MAX.
 * @retval SBPROV_OK      the value is durably stored.
 * @retval SBPROV_EID     `name` is not a valid entry name.
 * @retval SBPROV_EUNSAFE the entry is a symbolic link (it is not replaced).
 * @retval SBPROV_EIO     writing failed; the detail names the step (write, fsync, rename) and the OS error,
 *                        and the previous value is intact.
 * @retval SBPROV_EINVAL  a pointer is NULL or `len` exceeds ::SBPROV_STORE_VALUE_MAX.
 * @retval SBPROV_ENOMEM  out of memory.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 * @retval SBPROV_ERANDOM the random generator failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_put(sbprov_store *store, const char *name, const void *value,
                                                           size_t len);

/**
 * Read the value of `name` into a caller buffer. The value is bytes, not
 * text: no NUL is added. If `buf` is too small nothing is written to it.
 *
 * @param[out] buf      receives the value.
 * @param[in]  buf_size size of `buf` (may be 0 with `buf` NULL to learn the size).
 * @param[out] out_len  the value's length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  store    the store.
 * @param[in]  name     the entry name.
 * @retval SBPROV_OK        the value is in `buf`.
 * @retval SBPROV_EBUFS     `buf` is too small; `*out_len` has the value's length.
 * @retval SBPROV_ENOTFOUND there is no such entry.
 * @retval SBPROV_ETAMPERED the entry failed authentication (modified, truncated, moved from another name, or
 *                          written with another key).
 * @retval SBPROV_EFORMAT   the entry has a newer format version.
 * @retval SBPROV_EUNSAFE   the entry is a symbolic link.
 * @retval SBPROV_EID       `name` is not a valid entry name.
 * @retval SBPROV_EIO       reading failed.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 * @retval SBPROV_ENOMEM    out of memory.
 * @retval SBPROV_ECRYPTO   OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_get(void *buf, size_t buf_size, size_t *out_len,
                                                           sbprov_store *store, const char *name);

/**
 * Read the value of `name` into memory the library allocates. One NUL byte is
 * appended after the value (not counted in `*out_len`) for convenience.
 *
 * @param[out] out     receives the value; wipe it (it may be secret) and release it with sbprov_free().
 * @param[out] out_len the value's length (not NULL).
 * @param[in]  store   the store.
 * @param[in]  name    the entry name.
 * @retval SBPROV_OK        `*out` and `*out_len` are set.
 * @retval SBPROV_ENOTFOUND there is no such entry.
 * @retval SBPROV_ETAMPERED the entry failed authentication.
 * @retval SBPROV_EFORMAT   the entry has a newer format version.
 * @retval SBPROV_EUNSAFE   the entry is a symbolic link.
 * @retval SBPROV_EID       `name` is not a valid entry name.
 * @retval SBPROV_EIO       reading failed.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 * @retval SBPROV_ENOMEM    out of memory.
 * @retval SBPROV_ECRYPTO   OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_get_alloc(void **out, size_t *out_len, sbprov_store *store,
                                                                 const char *name);

/**
 * Delete an entry (durably).
 *
 * @param store the store.
 * @param name  the entry name.
 * @retval SBPROV_OK        the entry is gone.
 * @retval SBPROV_ENOTFOUND there is no such entry.
 * @retval SBPROV_EID       `name` is not a valid entry name.
 * @retval SBPROV_EIO       removing failed.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_delete(sbprov_store *store, const char *name);

/**
 * Whether an entry exists (its value is not read or authenticated).
 *
 * @param store the store.
 * @param name  the entry name.
 * @retval SBPROV_OK        the entry exists.
 * @retval SBPROV_ENOTFOUND there is no such entry.
 * @retval SBPROV_EUNSAFE   the entry is a symbolic link.
 * @retval SBPROV_EID       `name` is not a valid entry name.
 * @retval SBPROV_EIO       the directory could not be read.
 * @retval SBPROV_EINVAL    a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_exists(sbprov_store *store, const char *name);

/**
 * Called once per entry name by sbprov_store_list(), in byte order.
 *
 * @param name    the entry name, valid only during the call.
 * @param payload the pointer given to sbprov_store_list().
 * @return 0 to continue, non-zero to stop the listing (which then returns ::SBPROV_OK).
 */
typedef int (*sbprov_store_list_cb)(const char *name, void *payload);

/**
 * List entry names in byte order. The callback must not call back into the
 * same store handle.
 *
 * @param store   the store.
 * @param cb      called once per name.
 * @param payload passed to every call of `cb`.
 * @retval SBPROV_OK     every name was delivered (or `cb` stopped the listing).
 * @retval SBPROV_EIO    the directory could not be read.
 * @retval SBPROV_EINVAL a pointer is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_list(sbprov_store *store, sbprov_store_list_cb cb,
                                                            void *payload);

/**
 * List entry names in byte order as text, each name followed by '\n' (a
 * flat form for bindings). An empty store gives "".
 *
 * @param[out] buf      receives the text and a NUL.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  text length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  store    the store.
 * @retval SBPROV_OK     the names are in `buf`.
 * @retval SBPROV_EBUFS  `buf` is too small.
 * @retval SBPROV_EIO    the directory could not be read.
 * @retval SBPROV_EINVAL a pointer is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_list_names(char *buf, size_t buf_size, size_t *out_len,
                                                                  sbprov_store *store);

/**
 * Exchange the values of two entries atomically (e.g. an Azure primary and
 * secondary key at rotation). A crash leaves both old values or both new ones:
 * the swap is journaled and an interrupted one is completed by the next call.
 *
 * @param store the store.
 * @param a     one entry name.
 * @param b     the other entry name (different from `a`).
 * @retval SBPROV_OK        the values are exchanged.
 * @retval SBPROV_ENOTFOUND an entry does not exist.
 * @retval SBPROV_ETAMPERED an entry failed authentication (nothing is changed).
 * @retval SBPROV_EFORMAT   an entry has a newer format version.
 * @retval SBPROV_EID       a name is not valid.
 * @retval SBPROV_EIO       writing failed.
 * @retval SBPROV_EINVAL    a pointer is NULL or `a` equals `b`.
 * @retval SBPROV_ENOMEM    out of memory.
 * @retval SBPROV_ECRYPTO   OpenSSL failed.
 * @retval SBPROV_ERANDOM   the random generator failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_swap(sbprov_store *store, const char *a, const char *b);

/** Env-file dialects. Values are ABI and never change. */
typedef enum sbprov_env_format {
    SBPROV_ENV_DOCKER = 1, /**< docker/podman `--env-file`: `NAME=value`, no quoting, one line per value. */
    SBPROV_ENV_SYSTEMD = 2 /**< systemd `EnvironmentFile=`: `NAME="value"` with `\\ \" \$ \`` escaped. */
} sbprov_env_format;

/**
 * Write entries as an env file (mode 0600, atomically; an existing file is
 * replaced). The variable name is the entry name, which must then match
 * `[A-Za-z_][A-Za-z0-9_]*`. A value the format cannot carry is an error and
 * no file is written: docker needs valid UTF-8 without NUL, CR or LF; systemd
 * needs valid UTF-8 without control characters other than tab and LF.
 *
 * @param store  the store.
 * @param names  comma-separated entry names, in output order, or NULL for every entry.
 * @param path   the env file to write.
 * @param format ::sbprov_env_format.
 * @retval SBPROV_OK        the file is written.
 * @retval SBPROV_EID       a name is not a valid entry name or not a valid variable name.
 * @retval SBPROV_EPARSE    a value cannot be expressed in `format` (the detail names the entry and byte).
 * @retval SBPROV_ENOTFOUND a named entry does not exist.
 * @retval SBPROV_ETAMPERED an entry failed authentication.
 * @retval SBPROV_EFORMAT   an entry has a newer format version.
 * @retval SBPROV_EIO       reading or writing failed.
 * @retval SBPROV_EINVAL    a pointer is NULL or `format` is unknown.
 * @retval SBPROV_ENOMEM    out of memory.
 * @retval SBPROV_ECRYPTO   OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_export_env(sbprov_store *store, const char *names,
                                                                  const char *path, sbprov_env_format format);

/**
 * Read an env file of `format` and put each `NAME=value` into the store (each
 * entry atomically; the file is parsed completely before anything is written).
 * Blank lines and comment lines (`#`, and `;` for systemd) are skipped.
 *
 * @param store  the store.
 * @param path   the env file.
 * @param format ::sbprov_env_format.
 * @retval SBPROV_OK     every entry is stored.
 * @retval SBPROV_EPARSE a line is malformed (the detail names the line).
 * @retval SBPROV_EID    a variable name is not a valid entry name.
 * @retval SBPROV_EIO    reading the file or writing an entry failed.
 * @retval SBPROV_EINVAL a pointer is NULL, `format` is unknown, or the file exceeds 16 MiB.
 * @retval SBPROV_ENOMEM out of memory.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 * @retval SBPROV_ERANDOM the random generator failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_store_import_env(sbprov_store *store, const char *path,
                                                                  sbprov_env_format format);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_STORE_H */
