/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_KEYS_H
#define SBPROV_KEYS_H

/**
 * @file sbprov/keys.h
 * @brief Device key pairs: generate (Ed25519, ECDSA P-256, RSA), store as
 *        PKCS#8 PEM files that no other user can ever read, load from a path
 *        or any OpenSSL 3 store URI (files, a TPM through the tpm2 provider,
 *        PKCS#11), public key as SPKI PEM and fingerprint, sign and verify
 *        exactly as the Mender server verifies, and PKCS#10 CSRs.
 *
 * A key handle may hold a private key (which may live in hardware and never
 * leave it) or only a public key. Secrets (passphrases) are `(ptr, len)`.
 */

#include <sbprov/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Key algorithms. Values are ABI and never change. */
typedef enum sbprov_key_type {
    SBPROV_KEY_ED25519 = 1,    /**< Ed25519 (the default, as current Mender clients). */
    SBPROV_KEY_ECDSA_P256 = 2, /**< ECDSA on NIST P-256. */
    SBPROV_KEY_RSA = 3         /**< RSA, 2048 to 4096 bits (default 3072). */
} sbprov_key_type;

/** A key pair or a public key. */
typedef struct sbprov_key sbprov_key;

/** Options of sbprov_key_generate(). Initialise with sbprov_key_generate_options_init(). */
typedef struct sbprov_key_generate_options {
    size_t struct_size;   /**< sizeof(sbprov_key_generate_options), set by the init function. */
    sbprov_key_type type; /**< Algorithm; default ::SBPROV_KEY_ED25519. */
    uint32_t rsa_bits;    /**< RSA modulus size, 2048 to 4096; 0 means 3072. Ignored for other types. */
} sbprov_key_generate_options;

/**
 * Fill `opts` with the defaults (Ed25519).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_key_generate_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_generate_options_init(sbprov_key_generate_options *opts,
                                                                           size_t struct_size);

/**
 * Generate a new key pair in memory with OpenSSL's default provider.
 *
 * @param[out] out  receives the key; free it with sbprov_key_free().
 * @param[in]  opts options, or NULL for Ed25519.
 * @retval SBPROV_OK      `*out` is set.
 * @retval SBPROV_EKEY    unknown type or RSA size outside 2048..4096.
 * @retval SBPROV_EINVAL  `out` is NULL or `opts` is not initialised.
 * @retval SBPROV_ENOMEM  out of memory.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_generate(sbprov_key **out,
                                                              const sbprov_key_generate_options *opts);

/** Flags of sbprov_key_save(). */
typedef enum sbprov_key_save_flags {
    SBPROV_KEY_SAVE_OVERWRITE = 1u << 0 /**< Replace an existing file (atomically). */
} sbprov_key_save_flags;

/**
 * Write the private key as PKCS#8 PEM. The file is created with mode 0600 in
 * the target's directory under a temporary name (O_EXCL), written, fsynced and
 * renamed over the target, and the directory is fsynced: no other user can
 * read it at any moment, and a crash leaves the old file or the new one.
 *
 * @param key            a key with its private part in memory (not one held in hardware).
 * @param path           target path.
 * @param passphrase     encrypt with this passphrase (PBES2: AES-256-CBC,
 *                       PBKDF2-HMAC-SHA256 with 100,000 iterations), or NULL
 *                       for no encryption; 1 to 1023 bytes without NUL.
 * @param passphrase_len length of `passphrase` in bytes.
 * @param flags          ::sbprov_key_save_flags.
 * @retval SBPROV_OK     the file is written.
 * @retval SBPROV_EEXISTS `path` exists and ::SBPROV_KEY_SAVE_OVERWRITE is not set.
 * @retval SBPROV_EKEY   the key has no exportable private part.
 * @retval SBPROV_EIO    creating, writing, syncing or renaming failed (nothing is left behind).
 * @retval SBPROV_EINVAL a pointer is NULL, `flags` has unknown bits, or the
 *                       passphrase is empty, longer than 1023 bytes or holds a NUL.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_save(const sbprov_key *key, const char *path,
                                                          const char *passphrase, size_t passphrase_len,
                                                          uint32_t flags);

/** Options of sbprov_key_load(). Initialise with sbprov_key_load_options_init(). */
typedef struct sbprov_key_load_options {
    size_t struct_size;        /**< sizeof(sbprov_key_load_options), set by the init function. */
    const char *passphrase;    /**< Passphrase of an encrypted PEM, or NULL (or length 0) for none. */
    size_t passphrase_len;     /**< Length of `passphrase`, at most 1023 bytes, no NUL. */
    const char *providers;     /**< Comma-separated OpenSSL providers to load (e.g. "tpm2,default"), or NULL. */
    const char *openssl_conf;  /**< OpenSSL configuration file to load first (providers, PKCS#11), or NULL. */
    const char *propquery;     /**< Property query for fetching operations, or NULL to use the key's own provider. */
} sbprov_key_load_options;

/**
 * Fill `opts` with the defaults (no passphrase, no extra providers).
 *
 * @param opts the options to initialise.
 * @param struct_size sizeof(sbprov_key_load_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_load_options_init(sbprov_key_load_options *opts,
                                                                       size_t struct_size);

/**
 * Load a private key from a file path or an OpenSSL 3 store URI (`file:...`,
 * `handle:0x81000001` with the tpm2 provider, `pkcs11:...`). Signing later
 * runs in the provider that holds the key, so a key in a TPM never leaves it.
 *
 * @param[out] out  receives the key; free it with sbprov_key_free().
 * @param[in]  uri  path or store URI.
 * @param[in]  opts options, or NULL for the defaults.
 * @retval SBPROV_OK         `*out` is set.
 * @retval SBPROV_ENOTFOUND  the file does not exist, or the file or URI holds no private key.
 * @retval SBPROV_EPASSPHRASE the key is encrypted and the passphrase is missing or wrong.
 * @retval SBPROV_EPROVIDER  a provider or the configuration could not be loaded, or the URI scheme is unknown.
 * @retval SBPROV_EKEY       the key is not Ed25519, ECDSA P-256 or RSA 2048..4096.
 * @retval SBPROV_EIO        the file could not be read, or is not a regular file.
 * @retval SBPROV_EINVAL     a pointer is NULL, `uri` is empty, `opts` is not
 *                           initialised, the passphrase is too long or holds a NUL,
 *                           or the provider list is malformed.
 * @retval SBPROV_ENOMEM     out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_load(sbprov_key **out, const char *uri,
                                                          const sbprov_key_load_options *opts);

/**
 * Make a public-only key from a PEM public key: SPKI (`BEGIN PUBLIC KEY`) or
 * PKCS#1 RSA (`BEGIN RSA PUBLIC KEY`). For verifying signatures.
 *
 * @param[out] out receives the key; free it with sbprov_key_free().
 * @param[in]  pem the PEM text.
 * @param[in]  len its length in bytes.
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EKEY   not a PEM public key of a supported type.
 * @retval SBPROV_EINVAL a pointer is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_from_public_pem(sbprov_key **out, const char *pem,
                                                                     size_t len);

/**
 * Release a key. NULL is a no-op.
 *
 * @param key from any sbprov_key constructor, or NULL.
 */
SBPROV_API void sbprov_key_free(sbprov_key *key);

/**
 * Algorithm of a key.
 *
 * @param key the key, or NULL.
 * @return the type, or 0 if `key` is NULL.
 */
SBPROV_API sbprov_key_type sbprov_key_get_type(const sbprov_key *key);

/**
 * Size of a key in bits (255 for Ed25519, 256 for P-256, the modulus for RSA).
 *
 * @param key the key, or NULL.
 * @return the size, or 0 if `key` is NULL.
 */
SBPROV_API uint32_t sbprov_key_bits(const sbprov_key *key);

/**
 * Whether the key can sign (it has a private part, in memory or in a provider).
 *
 * @param key the key, or NULL.
 * @return 1 or 0.
 */
SBPROV_API int sbprov_key_has_private(const sbprov_key *key);

/**
 * Public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, 64-character lines,
 * final newline), as Mender expects; RSA keys are never given as PKCS#1.
 *
 * @param[out] buf      receives the PEM and a NUL.
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  PEM length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  key      the key.
 * @retval SBPROV_OK      the PEM is in `buf`.
 * @retval SBPROV_EBUFS   `buf` is too small.
 * @retval SBPROV_EINVAL  a pointer is NULL.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_public_pem(char *buf, size_t buf_size, size_t *out_len,
                                                                const sbprov_key *key);

/**
 * Fingerprint: SHA-256 of the DER SubjectPublicKeyInfo, as 64 lower-case hex digits.
 *
 * @param[out] buf      receives the fingerprint and a NUL (65 bytes suffice).
 * @param[in]  buf_size size of `buf`.
 * @param[out] out_len  64, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  key      the key.
 * @retval SBPROV_OK      the fingerprint is in `buf`.
 * @retval SBPROV_EBUFS   `buf` is too small.
 * @retval SBPROV_EINVAL  a pointer is NULL.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_fingerprint(char *buf, size_t buf_size, size_t *out_len,
                                                                 const sbprov_key *key);

/**
 * Sign a message exactly as the Mender server verifies (reference/mender.md
 * 1.4): RSA PKCS#1 v1.5 over SHA-256, ECDSA over SHA-256 with a DER
 * signature, pure Ed25519 over the raw message. Output is standard padded
 * Base64 on one line.
 *
 * @param[out] buf      receives the Base64 signature and a NUL.
 * @param[in]  buf_size size of `buf` (1024 bytes suffice for every supported key).
 * @param[out] out_len  signature length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  key      a key with a private part.
 * @param[in]  data     the message (any bytes).
 * @param[in]  len      its length.
 * @retval SBPROV_OK       the signature is in `buf`.
 * @retval SBPROV_EKEY     the key has no private part.
 * @retval SBPROV_EBUFS    `buf` is too small.
 * @retval SBPROV_EINVAL   a pointer is NULL.
 * @retval SBPROV_EPROVIDER the provider holding the key failed to sign.
 * @retval SBPROV_ECRYPTO  OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_sign(char *buf, size_t buf_size, size_t *out_len,
                                                          const sbprov_key *key, const void *data, size_t len);

/**
 * Verify a Base64 signature made as sbprov_key_sign() makes it.
 *
 * @param key           the key (public or private).
 * @param data          the message.
 * @param len           its length.
 * @param signature     Base64 signature (strict, padded).
 * @param signature_len its length.
 * @retval SBPROV_OK         the signature is valid.
 * @retval SBPROV_ESIGNATURE the signature does not verify.
 * @retval SBPROV_EBASE64    the signature is not Base64.
 * @retval SBPROV_EINVAL     a pointer is NULL.
 * @retval SBPROV_ECRYPTO    OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_verify(const sbprov_key *key, const void *data, size_t len,
                                                            const char *signature, size_t signature_len);

/**
 * PKCS#10 certificate signing request for the key, PEM encoded, signed with
 * the key (SHA-256 for RSA and ECDSA): subject `CN=common_name`, and a
 * subjectAltName extension when `sans` is given.
 *
 * @param[out] buf         receives the PEM and a NUL.
 * @param[in]  buf_size    size of `buf`.
 * @param[out] out_len     PEM length, or the size needed on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  key         a key with a private part.
 * @param[in]  common_name subject CN (the device ID), 1 to 64 characters.
 * @param[in]  sans        subject alternative names in OpenSSL's syntax,
 *                         comma-separated (`DNS:gw1.example,IP:10.0.0.7,URI:urn:x`), or NULL.
 * @retval SBPROV_OK      the CSR is in `buf`.
 * @retval SBPROV_EID     the common name or a SAN is malformed.
 * @retval SBPROV_EKEY    the key has no private part.
 * @retval SBPROV_EBUFS   `buf` is too small.
 * @retval SBPROV_EINVAL  a pointer is NULL.
 * @retval SBPROV_ECRYPTO OpenSSL failed.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_key_csr(char *buf, size_t buf_size, size_t *out_len,
                                                         const sbprov_key *key, const char *common_name,
                                                         const char *sans);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_KEYS_H */
