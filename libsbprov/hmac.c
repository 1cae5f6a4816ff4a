/* HMAC-SHA256 (RFC 2104) over OpenSSL 3's SHA-256. SHA-256 is fetched once
 * per process (a provider lookup costs more than a short MAC), and a keyed
 * state keeps the digest states after the ipad and opad blocks, so each MAC
 * costs two copies of a digest state and the compressions of the message. */
#include "hmac.h"

#include "base64.h"
#include "digest.h"
#include "error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 64 /* SHA-256 block size */

struct sbprov__hmac {
    EVP_MD_CTX *inner; /* SHA-256 after (key ^ ipad) */
    EVP_MD_CTX *outer; /* SHA-256 after (key ^ opad) */
    EVP_MD_CTX *work;
};

/* Start `ctx` as SHA-256 over one block of key ^ pad. */
static int absorb_pad(EVP_MD_CTX *ctx, EVP_MD *sha256, const uint8_t block_key[BLOCK], uint8_t pad)
{
    uint8_t block[BLOCK];
    int ok;
    for (int i = 0; i < BLOCK; i++)
        block[i] = (uint8_t)(block_key[i] ^ pad);
    ok = EVP_DigestInit_ex(ctx, sha256, NULL) == 1 && EVP_DigestUpdate(ctx, block, BLOCK) == 1;
    OPENSSL_cleanse(block, sizeof block);
    return ok;
}

sbprov_result sbprov__hmac_new(sbprov__hmac **out, const uint8_t *key, size_t key_len)
{
    uint8_t block_key[BLOCK] = { 0 };
    unsigned int hashed_len = 0;
    sbprov__hmac *h;
    int ok;

    EVP_MD *sha256 = sbprov__sha256_md();
    if (sha256 == NULL)
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL has no SHA-256 implementation");
    h = calloc(1, sizeof *h);
    if (h == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for an HMAC state");
    h->inner = EVP_MD_CTX_new();
    h->outer = EVP_MD_CTX_new();
    h->work = EVP_MD_CTX_new();
    ok = h->inner != NULL && h->outer != NULL && h->work != NULL;
    /* Keys longer than a block are hashed first (RFC 2104). */
    if (ok && key_len > BLOCK)
        ok = EVP_Digest(key, key_len, block_key, &hashed_len, sha256, NULL) == 1;
    else if (ok)
        memcpy(block_key, key, key_len);
    ok = ok && absorb_pad(h->inner, sha256, block_key, 0x36) && absorb_pad(h->outer, sha256, block_key, 0x5c);
    OPENSSL_cleanse(block_key, sizeof block_key);
    if (!ok) {
        sbprov__hmac_free(h);
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL could not key HMAC-SHA256");
    }
    *out = h;
    return SBPROV_OK;
}

sbprov_result sbprov__hmac_new_b64(sbprov__hmac **out, const char *b64_key, size_t len, const char *what)
{
    uint8_t key[64];
    size_t key_len = 0;
    sbprov_result rc = sbprov__decode_key(key, &key_len, b64_key, len, what);
    if (rc == SBPROV_OK)
        rc = sbprov__hmac_new(out, key, key_len);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

sbprov_result sbprov__hmac_sha256(sbprov__hmac *h, const void *msg, size_t msg_len,
                                  uint8_t mac[SBPROV__SHA256_LEN])
{
    uint8_t inner_hash[SBPROV__SHA256_LEN];
    int ok = EVP_MD_CTX_copy_ex(h->work, h->inner) == 1 && EVP_DigestUpdate(h->work, msg, msg_len) == 1 &&
             EVP_DigestFinal_ex(h->work, inner_hash, NULL) == 1 && EVP_MD_CTX_copy_ex(h->work, h->outer) == 1 &&
             EVP_DigestUpdate(h->work, inner_hash, sizeof inner_hash) == 1 &&
             EVP_DigestFinal_ex(h->work, mac, NULL) == 1;
    OPENSSL_cleanse(inner_hash, sizeof inner_hash);
    if (!ok)
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL SHA-256 failed in HMAC");
    return SBPROV_OK;
}

void sbprov__hmac_free(sbprov__hmac *h)
{
    if (h == NULL)
        return;
    /* EVP_MD_CTX_free cleanses the digest state (which depends on the key). */
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    EVP_MD_CTX_free(h->work);
    free(h);
}

sbprov_result sbprov__hmac_sha256_once(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                                       uint8_t mac[SBPROV__SHA256_LEN])
{
    sbprov__hmac *h = NULL;
    sbprov_result rc = sbprov__hmac_new(&h, key, key_len);
    if (rc == SBPROV_OK)
        rc = sbprov__hmac_sha256(h, msg, msg_len, mac);
    sbprov__hmac_free(h);
    return rc;
}
