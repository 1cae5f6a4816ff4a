/* A store key sealed by a device key (typically one held in a TPM): the
 * store's random master key is wrapped so that only the holder of the private
 * key can unwrap it, and the wrapped key is kept in the metadata file.
 *
 *   EC P-256  "ecdh-p256": an ephemeral P-256 key pair; Z = ECDH(ephemeral,
 *             sealing key); wrapping key = HKDF-SHA256(Z, info = label ||
 *             ephemeral point); the master key sealed with AES-256-GCM (AAD:
 *             label || point). Blob: point (65) || nonce (12) || ct (32) || tag (16).
 *   RSA       "rsa-oaep-sha256": RSA-OAEP with SHA-256 and MGF1-SHA-256, no
 *             label. Blob: the ciphertext (the modulus size).
 *
 * Unsealing needs only ECDH or RSA decryption from the key's provider, which
 * the tpm2 OpenSSL provider offers (RSA-OAEP from tpm2-openssl 1.2 on).
 * Format: docs/store-format.md. */
#include "store_internal.h"

#include "aead.h"
#include "error.h"
#include "keys_internal.h"
#include "ossl_error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#define POINT_LEN 65 /* uncompressed P-256 point */
/* The public-key side (ephemeral key, ECDH with it, RSA encryption, the
 * peer point) always runs in the default provider: with a provider such as
 * tpm2 loaded first, an unqualified fetch would land there. */
#define DEFAULT_PROVIDER "?provider=default"
#define ECDH_BLOB_LEN (POINT_LEN + SBPROV__GCM_NONCE_LEN + 32 + SBPROV__GCM_TAG_LEN)

static const char seal_label[] = "sbprov-store v1 seal";

/* The wrapping key from the ECDH secret and the ephemeral point. */
static sbprov_result hkdf(uint8_t out[32], const uint8_t *z, size_t z_len, const uint8_t point[POINT_LEN])
{
    uint8_t info[sizeof seal_label - 1 + POINT_LEN];
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", DEFAULT_PROVIDER);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[4];
    int ok;

    memcpy(info, seal_label, sizeof seal_label - 1);
    memcpy(info + sizeof seal_label - 1, point, POINT_LEN);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, z_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info);
    params[3] = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_KDF_derive(ctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? SBPROV_OK : sbprov__fail_ossl(SBPROV_ECRYPTO, "store key seal: HKDF-SHA256 failed");
}

/* Z = ECDH(priv, peer), fetched from priv's provider (`propquery`). */
static sbprov_result ecdh(uint8_t *z, size_t *z_len, EVP_PKEY *priv, EVP_PKEY *peer, const char *propquery,
                          sbprov_result provider_rc)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, propquery);
    size_t cap = *z_len;
    int ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
             EVP_PKEY_derive(ctx, z, z_len) == 1 && *z_len <= cap;
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        return sbprov__fail_ossl(provider_rc, "store key seal: ECDH with the sealing key failed");
    return SBPROV_OK;
}

static sbprov_result seal_ecdh(uint8_t *blob, size_t *blob_len, const sbprov_key *key, const uint8_t master[32])
{
    EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, DEFAULT_PROVIDER, "EC", "P-256");
    uint8_t z[66], wrap[32];
    size_t z_len = sizeof z, point_len = 0;
    sbprov_result rc;

    if (eph == NULL)
        return sbprov__fail_ossl(SBPROV_ECRYPTO, "store key seal: cannot make an ephemeral P-256 key");
    if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, blob, POINT_LEN, &point_len) != 1 ||
        point_len != POINT_LEN) {
        EVP_PKEY_free(eph);
        return sbprov__fail_ossl(SBPROV_ECRYPTO, "store key seal: cannot encode the ephemeral key");
    }
    rc = ecdh(z, &z_len, eph, key->pub, DEFAULT_PROVIDER, SBPROV_ECRYPTO);
    EVP_PKEY_free(eph);
    if (rc == SBPROV_OK)
        rc = hkdf(wrap, z, z_len, blob);
    if (rc == SBPROV_OK && RAND_bytes(blob + POINT_LEN, SBPROV__GCM_NONCE_LEN) != 1)
        rc = sbprov__fail_ossl(SBPROV_ERANDOM, "store key seal: no random nonce");
    if (rc == SBPROV_OK)
        rc = sbprov__aes256gcm(blob + POINT_LEN + SBPROV__GCM_NONCE_LEN, wrap, blob + POINT_LEN, seal_label,
                               sizeof seal_label - 1, blob, POINT_LEN, master, 32,
                               blob + POINT_LEN + SBPROV__GCM_NONCE_LEN + 32, 0, "store key seal");
    OPENSSL_cleanse(z, sizeof z);
    OPENSSL_cleanse(wrap, sizeof wrap);
    *blob_len = ECDH_BLOB_LEN;
    return rc;
}

static sbprov_result unseal_ecdh(uint8_t master[32], const sbprov_key *key, const uint8_t *blob, size_t len,
                                 const char *dir)
{
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *fctx;
    EVP_PKEY *peer = NULL;
    uint8_t z[66], wrap[32], tag[SBPROV__GCM_TAG_LEN];
    size_t z_len = sizeof z;
    sbprov_result rc;

    if (len != ECDH_BLOB_LEN || blob[0] != 0x04)
        return sbprov__fail(SBPROV_ETAMPERED, "store %s: the sealed key is malformed (%zu bytes)", dir, len);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)blob, POINT_LEN);
    params[2] = OSSL_PARAM_construct_end();
    fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", DEFAULT_PROVIDER);
    if (fctx == NULL || EVP_PKEY_fromdata_init(fctx) != 1 ||
        EVP_PKEY_fromdata(fctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_CTX_free(fctx);
        return sbprov__fail_ossl(SBPROV_ETAMPERED, "store %s: the sealed key's ephemeral point is invalid", dir);
    }
    EVP_PKEY_CTX_free(fctx);
    rc = ecdh(z, &z_len, key->priv, peer, key->propquery, SBPROV_EPROVIDER);
    EVP_PKEY_free(peer);
    if (rc == SBPROV_OK)
        rc = hkdf(wrap, z, z_len, blob);
    if (rc == SBPROV_OK) {
        memcpy(tag, blob + POINT_LEN + SBPROV__GCM_NONCE_LEN + 32, sizeof tag);
        rc = sbprov__aes256gcm(master, wrap, blob + POINT_LEN, seal_label, sizeof seal_label - 1, blob, POINT_LEN,
                               blob + POINT_LEN + SBPROV__GCM_NONCE_LEN, 32, tag, 1, "store key unseal");
        if (rc == SBPROV_ETAMPERED)
            rc = sbprov__fail(SBPROV_ETAMPERED, "store %s: the sealed key does not authenticate (modified, or "
                              "sealed to another key)", dir);
    }
    OPENSSL_cleanse(z, sizeof z);
    OPENSSL_cleanse(wrap, sizeof wrap);
    return rc;
}

/* RSA-OAEP with SHA-256 for the digest and MGF1 on a context. */
static int oaep_sha256(EVP_PKEY_CTX *ctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL) == 1;
}

static sbprov_result seal_rsa(uint8_t *blob, size_t *blob_len, const sbprov_key *key, const uint8_t master[32])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pub, DEFAULT_PROVIDER);
    int ok = ctx != NULL && EVP_PKEY_encrypt_init(ctx) == 1 && oaep_sha256(ctx) &&
             EVP_PKEY_encrypt(ctx, blob, blob_len, master, 32) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? SBPROV_OK : sbprov__fail_ossl(SBPROV_ECRYPTO, "store key seal: RSA-OAEP encryption failed");
}

static sbprov_result unseal_rsa(uint8_t master[32], const sbprov_key *key, const uint8_t *blob, size_t len,
                                const char *dir)
{
    uint8_t out[SBPROV__SEALED_MAX];
    size_t out_len = sizeof out;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->priv, key->propquery);
    sbprov_result rc = SBPROV_OK;

    if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) != 1 || !oaep_sha256(ctx))
        rc = sbprov__fail_ossl(SBPROV_EPROVIDER, "store %s: the provider holding the sealing key cannot decrypt "
                               "RSA-OAEP with SHA-256 (tpm2-openssl does from version 1.2; an EC P-256 key "
                               "works with older ones)", dir);
    else if (len != (sbprov_key_bits(key) + 7) / 8)
        rc = sbprov__fail(SBPROV_ETAMPERED, "store %s: the sealed key is malformed (%zu bytes)", dir, len);
    else if (EVP_PKEY_decrypt(ctx, out, &out_len, blob, len) != 1 || out_len != 32)
        rc = sbprov__fail_ossl(SBPROV_ETAMPERED, "store %s: the sealed key does not decrypt (modified, or sealed "
                               "to another key)", dir);
    else
        memcpy(master, out, 32);
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_cleanse(out, sizeof out);
    return rc;
}

sbprov_result sbprov__store_seal_check(const sbprov_key *key, const char *dir)
{
    if (key->priv == NULL)
        return sbprov__fail(SBPROV_EKEY, "store %s: the sealing key has no private part (a public key cannot "
                            "unseal)", dir);
    if (key->type == SBPROV_KEY_ED25519)
        return sbprov__fail(SBPROV_EKEY, "store %s: an Ed25519 key cannot seal a store key; use EC P-256 or RSA",
                            dir);
    return SBPROV_OK;
}

const char *sbprov__store_seal_scheme(const sbprov_key *key)
{
    return key->type == SBPROV_KEY_RSA ? SBPROV__SEAL_RSA : SBPROV__SEAL_ECDH;
}

sbprov_result sbprov__store_seal(uint8_t blob[SBPROV__SEALED_MAX], size_t *blob_len, const sbprov_key *key,
                                 const uint8_t master[32], const char *dir)
{
    uint8_t back[32];
    sbprov_result rc = sbprov__store_seal_check(key, dir);

    *blob_len = SBPROV__SEALED_MAX;
    if (rc == SBPROV_OK)
        rc = key->type == SBPROV_KEY_RSA ? seal_rsa(blob, blob_len, key, master)
                                         : seal_ecdh(blob, blob_len, key, master);
    /* Never create a store its own key cannot open: unseal once through the
     * key's provider (which also proves the private key is usable). */
    if (rc == SBPROV_OK)
        rc = sbprov__store_unseal(back, key, sbprov__store_seal_scheme(key), blob, *blob_len, dir);
    if (rc == SBPROV_OK && CRYPTO_memcmp(back, master, 32) != 0)
        rc = sbprov__fail(SBPROV_EPROVIDER, "store %s: the sealing key's provider unsealed a different key", dir);
    OPENSSL_cleanse(back, sizeof back);
    return rc;
}

sbprov_result sbprov__store_unseal(uint8_t master[32], const sbprov_key *key, const char *scheme,
                                   const uint8_t *blob, size_t len, const char *dir)
{
    sbprov_result rc = sbprov__store_seal_check(key, dir);

    if (rc != SBPROV_OK)
        return rc;
    if (strcmp(scheme, sbprov__store_seal_scheme(key)) != 0)
        return sbprov__fail(SBPROV_EKEY, "store %s: is sealed with %s, which this key cannot unseal", dir, scheme);
    return key->type == SBPROV_KEY_RSA ? unseal_rsa(master, key, blob, len, dir)
                                       : unseal_ecdh(master, key, blob, len, dir);
}
