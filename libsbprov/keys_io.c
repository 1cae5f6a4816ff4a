/* Device keys as text and files: PKCS#8 save, public keys from PEM, SPKI PEM
 * and fingerprint. Loading from files and stores is in keys_load.c. */
#include "keys_internal.h"

#include "atomic_file.h"
#include "base64.h"
#include "digest.h"
#include "error.h"
#include "ossl_error.h"

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <string.h>

/* Longest passphrase OpenSSL's passphrase prompts accept back (their buffer
 * is 1024 bytes with the NUL); save refuses longer ones so that every file it
 * writes can be loaded again. */
#define PASSPHRASE_MAX 1023
/* Longest PEM text taken as a public key. */
#define PUBLIC_PEM_MAX (64 * 1024)

void sbprov__pem_append(sbprov__text *t, const char *label, const unsigned char *der, size_t len)
{
    char line[65];

    sbprov__text_append_str(t, "-----BEGIN ");
    sbprov__text_append_str(t, label);
    sbprov__text_append_str(t, "-----\n");
    for (size_t i = 0; i < len; i += 48) {
        size_t n = len - i < 48 ? len - i : 48;
        sbprov__base64_encode(line, der + i, n);
        sbprov__text_append(t, line, SBPROV__BASE64_LEN(n));
        sbprov__text_append(t, "\n", 1);
    }
    sbprov__text_append_str(t, "-----END ");
    sbprov__text_append_str(t, label);
    sbprov__text_append_str(t, "-----\n");
}

size_t sbprov__pem_len(const char *label, size_t der_len)
{
    size_t b64 = SBPROV__BASE64_LEN(der_len);
    return strlen("-----BEGIN -----\n") + strlen("-----END -----\n") + 2 * strlen(label) + b64 + (b64 + 63) / 64;
}

/* 1 if the key's provider gives out its private part (a software key); a
 * key in a TPM or token answers without it. The copy is wiped at once. */
static int private_exportable(EVP_PKEY *pkey)
{
    unsigned char secret[512]; /* RSA 4096 d */
    OSSL_PARAM params[2];
    int ok;

    if (EVP_PKEY_is_a(pkey, "ED25519"))
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, secret, sizeof secret);
    else if (EVP_PKEY_is_a(pkey, "RSA"))
        params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_D, secret, sizeof secret);
    else
        params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, secret, sizeof secret);
    params[1] = OSSL_PARAM_construct_end();
    ok = EVP_PKEY_get_params(pkey, params) == 1 && OSSL_PARAM_modified(&params[0]) && params[0].return_size > 0;
    OPENSSL_cleanse(secret, sizeof secret);
    ERR_clear_error();
    return ok;
}

static sbprov_result check_passphrase(const char *passphrase, size_t len, const char *what)
{
    if (len == 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: empty (pass NULL for none)", what);
    if (len > PASSPHRASE_MAX)
        return sbprov__fail(SBPROV_EINVAL, "%s: %zu bytes; at most %d are supported", what, len, PASSPHRASE_MAX);
    if (memchr(passphrase, '\0', len) != NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: embedded NUL byte", what);
    return SBPROV_OK;
}

/* PBKDF2 iterations for encrypted key files: OpenSSL's default of 2048 is too
 * few for a passphrase a person chose. A variable only so that the unit tests
 * (linked with the objects) can lower it to keep their valgrind twin fast. */
int sbprov__pbkdf2_iterations = 100000;

/* PKCS#8 encrypted with PBES2: AES-256-CBC, PBKDF2-HMAC-SHA256. Returns 1 on success. */
static int write_encrypted_pkcs8(BIO *bio, EVP_PKEY *pkey, const char *passphrase, size_t passphrase_len)
{
    PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8(pkey);
    X509_SIG *p8 = NULL;
    int ok = 0;

    if (p8inf != NULL)
        p8 = PKCS8_encrypt_ex(-1, EVP_aes_256_cbc(), passphrase, (int)passphrase_len, NULL, 0,
                              sbprov__pbkdf2_iterations, p8inf, NULL, NULL);
    if (p8 != NULL)
        ok = PEM_write_bio_PKCS8(bio, p8) == 1;
    X509_SIG_free(p8);
    PKCS8_PRIV_KEY_INFO_free(p8inf); /* frees with cleansing of the key material */
    return ok;
}

sbprov_result sbprov_key_save(const sbprov_key *key, const char *path, const char *passphrase, size_t passphrase_len,
                              uint32_t flags)
{
    static const char plain[] = "-----BEGIN PRIVATE KEY-----\n";
    static const char encrypted[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n";
    BIO *bio = NULL;
    BUF_MEM *mem = NULL;
    sbprov_result rc;
    int ok;

    if (key == NULL || path == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_save: NULL argument");
    if ((flags & ~(uint32_t)SBPROV_KEY_SAVE_OVERWRITE) != 0)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_save: unknown flags 0x%x", (unsigned)flags);
    if (passphrase != NULL && (rc = check_passphrase(passphrase, passphrase_len, "passphrase")) != SBPROV_OK)
        return rc;
    if (key->priv == NULL)
        return sbprov__fail(SBPROV_EKEY, "%s: the key is public only; there is no private key to save", path);
    if (!private_exportable(key->priv)) {
        const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider(key->priv);
        return sbprov__fail(SBPROV_EKEY, "%s: the private key is held by provider '%s' and cannot leave it", path,
                            prov != NULL ? OSSL_PROVIDER_get0_name(prov) : "?");
    }

    /* Secure memory BIO: the PEM is wiped when the BIO grows and when freed. */
    if ((bio = BIO_new(BIO_s_secmem())) == NULL)
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for the PEM");
    if (passphrase != NULL)
        ok = write_encrypted_pkcs8(bio, key->priv, passphrase, passphrase_len);
    else
        ok = PEM_write_bio_PrivateKey(bio, key->priv, NULL, NULL, 0, NULL, NULL);
    BIO_get_mem_ptr(bio, &mem);
    if (!ok || mem == NULL) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "%s: encoding the private key as PKCS#8 failed", path);
        goto out;
    }
    /* Never write anything but PKCS#8 (a provider's own format would be a
     * reference to a key, not the key). */
    const char *want = passphrase != NULL ? encrypted : plain;
    if (mem->length < strlen(want) || memcmp(mem->data, want, strlen(want)) != 0) {
        rc = sbprov__fail(SBPROV_EKEY, "%s: the key's provider did not produce a PKCS#8 private key", path);
        goto out;
    }
    rc = sbprov__write_file_atomic(path, mem->data, mem->length, 0600, (flags & SBPROV_KEY_SAVE_OVERWRITE) != 0);
out:
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

sbprov_result sbprov_key_from_public_pem(sbprov_key **out, const char *pem, size_t len)
{
    static const char what[] = "public key PEM";
    BIO *bio = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    long der_len = 0;
    EVP_PKEY *pkey = NULL;
    sbprov_result rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || pem == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_from_public_pem: NULL argument");
    if (len > PUBLIC_PEM_MAX)
        return sbprov__fail(SBPROV_EKEY, "%s: %zu bytes; a public key is at most %d", what, len, PUBLIC_PEM_MAX);
    if (memchr(pem, '\0', len) != NULL)
        return sbprov__fail(SBPROV_EKEY, "%s: embedded NUL byte", what);
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for a BIO");
    if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1) {
        rc = sbprov__fail_ossl(SBPROV_EKEY, "%s: no PEM block found", what);
        goto out;
    }
    p = der;
    if (strcmp(name, PEM_STRING_PUBLIC) == 0) {
        pkey = d2i_PUBKEY_ex(NULL, &p, der_len, NULL, "?provider=default");
    } else if (strcmp(name, PEM_STRING_RSA_PUBLIC) == 0) {
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, der_len);
    } else {
        rc = sbprov__fail(SBPROV_EKEY, "%s: a '%.40s' block, not 'PUBLIC KEY' or 'RSA PUBLIC KEY'", what, name);
        goto out;
    }
    if (pkey == NULL || p != der + der_len) {
        rc = sbprov__fail_ossl(SBPROV_EKEY, "%s: the '%s' block does not hold a valid public key", what, name);
        goto out;
    }
    rc = sbprov__key_from_pkey(out, pkey, 0, NULL, what);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

sbprov_result sbprov_key_public_pem(char *buf, size_t buf_size, size_t *out_len, const sbprov_key *key)
{
    sbprov__text text;

    if (buf == NULL || key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_public_pem: NULL argument");
    sbprov__text_init(&text, buf, buf_size);
    sbprov__pem_append(&text, PEM_STRING_PUBLIC, key->spki, key->spki_len);
    return sbprov__text_finish(&text, out_len);
}

sbprov_result sbprov_key_fingerprint(char *buf, size_t buf_size, size_t *out_len, const sbprov_key *key)
{
    uint8_t digest[SBPROV__SHA256_LEN];
    char hex[2 * SBPROV__SHA256_LEN + 1];
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL || key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_fingerprint: NULL argument");
    if (buf_size < sizeof hex)
        return sbprov__buffer_too_small(out_len, buf_size, sizeof hex);
    if ((rc = sbprov__sha256(digest, key->spki, key->spki_len)) != SBPROV_OK)
        return rc;
    sbprov__hex(hex, digest, sizeof digest);
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append(&text, hex, 2 * SBPROV__SHA256_LEN);
    return sbprov__text_finish(&text, out_len);
}
