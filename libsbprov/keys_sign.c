/* Signing and verifying exactly as the Mender server verifies an
 * authentication request (reference/mender.md 1.4): RSA PKCS#1 v1.5 over
 * SHA-256, ECDSA over SHA-256 with a DER signature, pure Ed25519 over the
 * raw message; standard padded Base64. */
#include "keys_internal.h"

#include "base64.h"
#include "error.h"
#include "ossl_error.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

/* Largest raw signature: RSA 4096. */
#define SIG_MAX 512
/* Longest Base64 signature text looked at in verify. */
#define SIG_B64_MAX SBPROV__BASE64_LEN(SIG_MAX)

static const char *md_name(const sbprov_key *key)
{
    return key->type == SBPROV_KEY_ED25519 ? NULL : "SHA256";
}

/* Failures inside a hardware or token provider are the provider's; inside the
 * default one they are OpenSSL's. */
static sbprov_result provider_failure_code(const EVP_PKEY *pkey)
{
    const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider(pkey);
    const char *name = prov != NULL ? OSSL_PROVIDER_get0_name(prov) : "default";
    return strcmp(name, "default") == 0 || strcmp(name, "fips") == 0 ? SBPROV_ECRYPTO : SBPROV_EPROVIDER;
}

sbprov_result sbprov__key_sign_init(EVP_MD_CTX *mdctx, const sbprov_key *key, const char *what)
{
    EVP_PKEY_CTX *pctx = NULL;

    if (key->priv == NULL)
        return sbprov__fail(SBPROV_EKEY, "%s: the key is public only and cannot sign", what);
    /* Fetch the signature from the provider holding the key (the key's
     * property query), or OpenSSL may pick the default provider, which cannot
     * use a TPM key ("missing private key"). */
    if (EVP_DigestSignInit_ex(mdctx, &pctx, md_name(key), NULL, key->propquery, key->priv, NULL) != 1)
        return sbprov__fail_ossl(provider_failure_code(key->priv), "%s: the key's provider cannot sign with it (%s)", what,
                                 key->propquery != NULL ? key->propquery : "no property query");
    if (key->type == SBPROV_KEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
        return sbprov__fail_ossl(provider_failure_code(key->priv), "%s: the key's provider refuses PKCS#1 v1.5 padding",
                                 what);
    return SBPROV_OK;
}

sbprov_result sbprov_key_sign(char *buf, size_t buf_size, size_t *out_len, const sbprov_key *key, const void *data,
                              size_t len)
{
    unsigned char sig[SIG_MAX];
    char b64[SBPROV__BASE64_LEN(SIG_MAX) + 1];
    size_t sig_len = sizeof sig, max;
    EVP_MD_CTX *mdctx = NULL;
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL || key == NULL || (data == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_sign: NULL argument");
    if (key->priv == NULL)
        return sbprov__fail(SBPROV_EKEY, "sign: the key is public only and cannot sign");
    /* Ask for room for the longest signature of the key before signing, so
     * one retry always fits (ECDSA signatures vary in length) and a TPM is
     * not asked to sign twice. */
    max = sbprov__key_sig_max(key);
    if (buf_size < SBPROV__BASE64_LEN(max) + 1)
        return sbprov__buffer_too_small(out_len, buf_size, SBPROV__BASE64_LEN(max) + 1);
    if ((mdctx = EVP_MD_CTX_new()) == NULL)
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for signing");
    if ((rc = sbprov__key_sign_init(mdctx, key, "sign")) != SBPROV_OK)
        goto out;
    if (EVP_DigestSign(mdctx, sig, &sig_len, data != NULL ? data : (const void *)"", len) != 1) {
        rc = sbprov__fail_ossl(provider_failure_code(key->priv), "sign: signing failed (property query '%s')",
                               key->propquery != NULL ? key->propquery : "");
        goto out;
    }
    if (sig_len == 0 || sig_len > max) {
        rc = sbprov__fail(SBPROV_ECRYPTO, "sign: unexpected signature length %zu (at most %zu)", sig_len, max);
        goto out;
    }
    sbprov__base64_encode(b64, sig, sig_len);
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append(&text, b64, SBPROV__BASE64_LEN(sig_len));
    rc = sbprov__text_finish(&text, out_len);
out:
    EVP_MD_CTX_free(mdctx);
    ERR_clear_error();
    return rc;
}

sbprov_result sbprov_key_verify(const sbprov_key *key, const void *data, size_t len, const char *signature,
                                size_t signature_len)
{
    uint8_t sig[SBPROV__BASE64_DECODED_MAX(SIG_B64_MAX)];
    size_t sig_len = 0;
    char propq[96];
    EVP_MD_CTX *mdctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    const OSSL_PROVIDER *prov;
    sbprov_result rc;

    if (key == NULL || signature == NULL || (data == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_verify: NULL argument");
    if (signature_len > SIG_B64_MAX)
        return sbprov__fail(SBPROV_ESIGNATURE, "signature: %zu characters; longer than any supported signature",
                            signature_len);
    if ((rc = sbprov__base64_decode(sig, &sig_len, signature, signature_len, "signature")) != SBPROV_OK)
        return rc;
    if (sig_len > sbprov__key_sig_max(key))
        return sbprov__fail(SBPROV_ESIGNATURE, "signature: %zu bytes; longer than any signature of this key",
                            sig_len);

    /* Verify with the default-provider copy of the public key, in the
     * provider that holds that copy (a TPM provider may not verify). */
    prov = EVP_PKEY_get0_provider(key->pub);
    snprintf(propq, sizeof propq, "?provider=%.64s", prov != NULL ? OSSL_PROVIDER_get0_name(prov) : "default");
    if ((mdctx = EVP_MD_CTX_new()) == NULL)
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for verifying");
    if (EVP_DigestVerifyInit_ex(mdctx, &pctx, md_name(key), NULL, propq, key->pub, NULL) != 1 ||
        (key->type == SBPROV_KEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "verify: OpenSSL cannot verify with this key");
        goto out;
    }
    if (EVP_DigestVerify(mdctx, sig, sig_len, data != NULL ? data : (const void *)"", len) != 1) {
        rc = sbprov__fail(SBPROV_ESIGNATURE, "signature: does not verify with this %s key",
                          key->type == SBPROV_KEY_ED25519  ? "Ed25519"
                          : key->type == SBPROV_KEY_RSA    ? "RSA"
                                                           : "ECDSA P-256");
        goto out;
    }
    rc = SBPROV_OK;
out:
    EVP_MD_CTX_free(mdctx);
    ERR_clear_error();
    return rc;
}
