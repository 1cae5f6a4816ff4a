/* Internal: the key handle shared by keys*.c. */
#ifndef SBPROV_INTERNAL_KEYS_H
#define SBPROV_INTERNAL_KEYS_H

#include "sbprov/keys.h"

#include "text.h"

#include <openssl/evp.h>

/* A key pair or a public key.
 *
 * `priv` is the key as its provider holds it (in memory for the default
 * provider, a reference into a TPM or token for others); NULL for a
 * public-only key. `pub` is the public part re-decoded into the default
 * provider, used for verifying, for the CSR's public key and for the SPKI
 * encoding, so a provider's quirks (PKCS#1 output, missing verify operation)
 * never reach the caller. `spki` is the canonical DER SubjectPublicKeyInfo. */
struct sbprov_key {
    EVP_PKEY *priv;
    EVP_PKEY *pub;
    unsigned char *spki;
    size_t spki_len;
    char *propquery;  /* for fetching signing: the caller's, or "?provider=<key's provider>" */
    sbprov_key_type type;
    uint32_t bits;
};

/* Largest DER signature of each type (RSA: the modulus size). */
#define SBPROV__ED25519_SIG_LEN 64
#define SBPROV__ECDSA_P256_SIG_MAX 72

/* Wrap `pkey` (ownership passes to the key, also on failure) into a new key:
 * `has_private` says whether it holds (or refers to) a private key. The
 * public part is re-encoded as SPKI (a PKCS#1 RSA public key from a provider
 * is accepted), and the type must be Ed25519, EC P-256 or RSA 2048..4096,
 * else SBPROV_EKEY naming what it is and `what` (where it came from).
 * `propquery` (may be NULL: then "?provider=<the key's provider>") is copied. */
sbprov_result sbprov__key_from_pkey(sbprov_key **out, EVP_PKEY *pkey, int has_private, const char *propquery,
                                    const char *what);

/* A second handle on the same key (the EVP_PKEYs are shared by reference,
 * the rest copied), so a client keeps the key whatever the caller frees. */
sbprov_result sbprov__key_ref(sbprov_key **out, const sbprov_key *key, const char *what);

/* Maximum signature size in bytes of a key (raw, before Base64). */
size_t sbprov__key_sig_max(const sbprov_key *key);

/* Initialise `mdctx` for signing with the key's private part in the provider
 * that holds it (SHA-256 with PKCS#1 v1.5 for RSA, SHA-256 for ECDSA, none
 * for Ed25519). SBPROV_EKEY if there is no private part, SBPROV_EPROVIDER if
 * the provider cannot sign with it. */
sbprov_result sbprov__key_sign_init(EVP_MD_CTX *mdctx, const sbprov_key *key, const char *what);

/* PEM armour of `der` under "-----BEGIN <label>-----": 64-character Base64
 * lines and a final newline, as OpenSSL's PEM writer makes it. */
void sbprov__pem_append(sbprov__text *t, const char *label, const unsigned char *der, size_t len);
/* Length of that PEM text (no NUL). */
size_t sbprov__pem_len(const char *label, size_t der_len);

/* PBKDF2 iterations used when saving encrypted keys (keys_io.c). */
extern int sbprov__pbkdf2_iterations;

#endif
