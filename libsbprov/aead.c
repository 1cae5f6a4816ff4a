/* AES-256-GCM through OpenSSL's EVP interface (see aead.h). */
#include "aead.h"

#include "error.h"
#include "ossl_error.h"

#include <limits.h>
#include <openssl/evp.h>

static int add_aad(EVP_CIPHER_CTX *ctx, const void *aad, size_t len)
{
    int n = 0;
    return len == 0 || (len <= INT_MAX && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)len) == 1);
}

sbprov_result sbprov__aes256gcm(uint8_t *out, const uint8_t key[SBPROV__GCM_KEY_LEN],
                                const uint8_t nonce[SBPROV__GCM_NONCE_LEN], const void *aad1, size_t aad1_len,
                                const void *aad2, size_t aad2_len, const uint8_t *in, size_t len,
                                uint8_t tag[SBPROV__GCM_TAG_LEN], int decrypt, const char *what)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    sbprov_result rc = SBPROV_OK;
    int n = 0;

    if (ctx == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory for a cipher", what);
    if (len > INT_MAX || EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, decrypt ? 0 : 1) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SBPROV__GCM_NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, -1) != 1 || !add_aad(ctx, aad1, aad1_len) ||
        !add_aad(ctx, aad2, aad2_len) || (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1) ||
        (decrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SBPROV__GCM_TAG_LEN, tag) != 1)) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "%s: AES-256-GCM failed", what);
    } else if (decrypt) {
        if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
            rc = sbprov__fail_ossl(SBPROV_ETAMPERED, "%s: authentication failed", what);
    } else if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1 ||
               EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SBPROV__GCM_TAG_LEN, tag) != 1) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "%s: AES-256-GCM failed", what);
    }
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}
