/* HMAC-SHA256 over OpenSSL 3's EVP_MAC. The MAC algorithm is fetched once per
 * process (fetching is a provider lookup, far dearer than one short MAC), and a
 * keyed context is re-initialised without a key to reuse its ipad/opad state. */
#include "hmac.h"

#include "error.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>

struct sbprov__hmac {
    EVP_MAC_CTX *ctx;
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_alg;

static void fetch_hmac(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

sbprov_result sbprov__hmac_new(sbprov__hmac **out, const uint8_t *key, size_t key_len)
{
    OSSL_PARAM params[2];
    sbprov__hmac *h;

    pthread_once(&fetch_once, fetch_hmac);
    if (hmac_alg == NULL)
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL has no HMAC implementation");
    h = calloc(1, sizeof *h);
    if (h == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for an HMAC state");
    h->ctx = EVP_MAC_CTX_new(hmac_alg);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (h->ctx == NULL || EVP_MAC_init(h->ctx, key, key_len, params) != 1) {
        sbprov__hmac_free(h);
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL could not key HMAC-SHA256");
    }
    *out = h;
    return SBPROV_OK;
}

sbprov_result sbprov__hmac_sha256(sbprov__hmac *h, const void *msg, size_t msg_len,
                                  uint8_t mac[SBPROV__SHA256_LEN])
{
    size_t mac_len = 0;

    /* A NULL key re-initialises with the key already set. */
    if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(h->ctx, msg, msg_len) != 1 ||
        EVP_MAC_final(h->ctx, mac, &mac_len, SBPROV__SHA256_LEN) != 1 || mac_len != SBPROV__SHA256_LEN)
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL HMAC-SHA256 failed");
    return SBPROV_OK;
}

void sbprov__hmac_free(sbprov__hmac *h)
{
    if (h == NULL)
        return;
    EVP_MAC_CTX_free(h->ctx);
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
