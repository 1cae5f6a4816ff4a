/* Device key pairs: the key object, generation, type and size. */
#include "keys_internal.h"

#include "error.h"
#include "options.h"
#include "ossl_error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096
#define RSA_DEFAULT_BITS 3072

/* sizeof the first public version of each options struct. */
#define GENERATE_OPTIONS_V1_SIZE sizeof(sbprov_key_generate_options)

static const char supported[] = "supported: Ed25519, ECDSA P-256, RSA 2048 to 4096 bits";

sbprov_result sbprov_key_generate_options_init(sbprov_key_generate_options *opts, size_t struct_size)
{
    sbprov_result rc = sbprov__options_init(opts, struct_size, GENERATE_OPTIONS_V1_SIZE, "key generate options");
    if (rc != SBPROV_OK)
        return rc;
    opts->type = SBPROV_KEY_ED25519;
    opts->rsa_bits = 0;
    return SBPROV_OK;
}

/* Check the public key's algorithm and size. */
static sbprov_result classify(EVP_PKEY *pub, sbprov_key_type *type, uint32_t *bits, const char *what)
{
    if (EVP_PKEY_is_a(pub, "ED25519")) {
        *type = SBPROV_KEY_ED25519;
        *bits = 255;
        return SBPROV_OK;
    }
    if (EVP_PKEY_is_a(pub, "EC")) {
        char group[80] = "";
        size_t group_len = 0;
        if (EVP_PKEY_get_group_name(pub, group, sizeof group, &group_len) != 1)
            snprintf(group, sizeof group, "%s", "an unnamed curve (explicit parameters)");
        ERR_clear_error();
        if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0 && strcmp(group, "secp256r1") != 0)
            return sbprov__fail(SBPROV_EKEY, "%s: an EC key on %s; %s", what, group, supported);
        *type = SBPROV_KEY_ECDSA_P256;
        *bits = 256;
        return SBPROV_OK;
    }
    if (EVP_PKEY_is_a(pub, "RSA")) {
        int n = EVP_PKEY_get_bits(pub);
        if (n < RSA_MIN_BITS || n > RSA_MAX_BITS)
            return sbprov__fail(SBPROV_EKEY, "%s: an RSA key of %d bits; %s", what, n, supported);
        *type = SBPROV_KEY_RSA;
        *bits = (uint32_t)n;
        return SBPROV_OK;
    }
    const char *name = EVP_PKEY_get0_type_name(pub);
    return sbprov__fail(SBPROV_EKEY, "%s: a %s key (%d bits); %s", what, name != NULL ? name : "unknown",
                        EVP_PKEY_get_bits(pub), supported);
}

/* The public part of `pkey` as a default-provider key. Providers may encode a
 * public key as SPKI or (RSA) as PKCS#1; both are read back. */
static EVP_PKEY *public_copy(EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub = NULL;
    int len = i2d_PUBKEY(pkey, &der);

    if (len <= 0)
        return NULL;
    p = der;
    pub = d2i_PUBKEY_ex(NULL, &p, len, NULL, "?provider=default");
    if (pub != NULL && p != der + len) {
        EVP_PKEY_free(pub);
        pub = NULL;
    }
    if (pub == NULL) {
        p = der;
        pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
        if (pub != NULL && p != der + len) {
            EVP_PKEY_free(pub);
            pub = NULL;
        }
    }
    OPENSSL_free(der);
    if (pub != NULL)
        ERR_clear_error();
    return pub;
}

sbprov_result sbprov__key_from_pkey(sbprov_key **out, EVP_PKEY *pkey, int has_private, const char *propquery,
                                    const char *what)
{
    sbprov_key *key = calloc(1, sizeof *key);
    unsigned char *spki = NULL;
    int spki_len;
    sbprov_result rc;

    *out = NULL;
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for a key");
    }
    if (has_private)
        key->priv = pkey;
    key->pub = public_copy(pkey);
    if (!has_private)
        EVP_PKEY_free(pkey);
    if (key->pub == NULL) {
        rc = sbprov__fail_ossl(SBPROV_EKEY, "%s: the public key cannot be encoded as SubjectPublicKeyInfo", what);
        goto fail;
    }
    if ((rc = classify(key->pub, &key->type, &key->bits, what)) != SBPROV_OK)
        goto fail;
    if ((spki_len = i2d_PUBKEY(key->pub, &spki)) <= 0) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "%s: encoding the public key failed", what);
        goto fail;
    }
    key->spki = spki;
    key->spki_len = (size_t)spki_len;

    if (propquery != NULL) {
        if ((key->propquery = strdup(propquery)) == NULL)
            goto nomem;
    } else if (key->priv != NULL) {
        /* Sign where the key lives: fetching the operation from another
         * provider would need the private key exported, which a TPM refuses
         * ("missing private key"). */
        const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider(key->priv);
        const char *name = prov != NULL ? OSSL_PROVIDER_get0_name(prov) : NULL;
        if (name != NULL) {
            size_t n = strlen(name) + sizeof "?provider=";
            if ((key->propquery = malloc(n)) == NULL)
                goto nomem;
            snprintf(key->propquery, n, "?provider=%s", name);
        }
    }
    *out = key;
    return SBPROV_OK;

nomem:
    rc = sbprov__fail(SBPROV_ENOMEM, "out of memory for a key");
fail:
    sbprov_key_free(key);
    return rc;
}

sbprov_result sbprov_key_generate(sbprov_key **out, const sbprov_key_generate_options *opts)
{
    sbprov_key_generate_options o;
    EVP_PKEY *pkey = NULL;
    sbprov_result rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_generate: NULL argument");
    if (opts == NULL) {
        rc = sbprov_key_generate_options_init(&o, sizeof o);
    } else {
        rc = sbprov__options_load(&o, opts, GENERATE_OPTIONS_V1_SIZE, sizeof o, "key generate options");
    }
    if (rc != SBPROV_OK)
        return rc;

    switch (o.type) {
    case SBPROV_KEY_ED25519:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case SBPROV_KEY_ECDSA_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case SBPROV_KEY_RSA: {
        uint32_t bits = o.rsa_bits == 0 ? RSA_DEFAULT_BITS : o.rsa_bits;
        if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
            return sbprov__fail(SBPROV_EKEY, "RSA key size %u bits: must be %d to %d", (unsigned)bits, RSA_MIN_BITS,
                                RSA_MAX_BITS);
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        break;
    }
    default:
        return sbprov__fail(SBPROV_EKEY, "key type %d: unknown (1 Ed25519, 2 ECDSA P-256, 3 RSA)", (int)o.type);
    }
    if (pkey == NULL)
        return sbprov__fail_ossl(SBPROV_ECRYPTO, "generating the key failed");
    return sbprov__key_from_pkey(out, pkey, 1, NULL, "generated key");
}

sbprov_result sbprov__key_ref(sbprov_key **out, const sbprov_key *key, const char *what)
{
    sbprov_key *k = calloc(1, sizeof *k);

    *out = NULL;
    if (k == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    *k = *key;
    k->priv = k->pub = NULL;
    k->spki = OPENSSL_memdup(key->spki, key->spki_len);
    k->propquery = key->propquery != NULL ? strdup(key->propquery) : NULL;
    if (key->priv != NULL && EVP_PKEY_up_ref(key->priv) == 1)
        k->priv = key->priv;
    if (EVP_PKEY_up_ref(key->pub) == 1)
        k->pub = key->pub;
    if ((key->priv != NULL && k->priv == NULL) || k->pub == NULL || k->spki == NULL ||
        (key->propquery != NULL && k->propquery == NULL)) {
        sbprov_key_free(k);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    *out = k;
    return SBPROV_OK;
}

void sbprov_key_free(sbprov_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->priv);
    EVP_PKEY_free(key->pub);
    OPENSSL_free(key->spki);
    free(key->propquery);
    free(key);
}

sbprov_key_type sbprov_key_get_type(const sbprov_key *key)
{
    return key != NULL ? key->type : (sbprov_key_type)0;
}

uint32_t sbprov_key_bits(const sbprov_key *key)
{
    return key != NULL ? key->bits : 0;
}

int sbprov_key_has_private(const sbprov_key *key)
{
    return key != NULL && key->priv != NULL;
}

size_t sbprov__key_sig_max(const sbprov_key *key)
{
    switch (key->type) {
    case SBPROV_KEY_ED25519: return SBPROV__ED25519_SIG_LEN;
    case SBPROV_KEY_ECDSA_P256: return SBPROV__ECDSA_P256_SIG_MAX;
    case SBPROV_KEY_RSA: return (key->bits + 7) / 8;
    }
    return 0;
}
