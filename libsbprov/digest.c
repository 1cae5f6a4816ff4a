/* SHA-256 and hex: identity digests, key fingerprints, HMAC. SHA-256 is
 * fetched once per process: a provider lookup costs more than hashing a short
 * message. */
#include "digest.h"

#include "error.h"

#include <pthread.h>

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

EVP_MD *sbprov__sha256_md(void)
{
    pthread_once(&fetch_once, fetch_sha256);
    return sha256;
}

sbprov_result sbprov__sha256(uint8_t digest[SBPROV__SHA256_LEN], const void *data, size_t len)
{
    EVP_MD *md = sbprov__sha256_md();
    if (md == NULL || EVP_Digest(data, len, digest, NULL, md, NULL) != 1)
        return sbprov__fail(SBPROV_ECRYPTO, "OpenSSL SHA-256 failed");
    return SBPROV_OK;
}

void sbprov__hex(char *out, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}
