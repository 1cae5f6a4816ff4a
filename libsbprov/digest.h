/* Internal: SHA-256 (fetched once per process) and hex encoding. */
#ifndef SBPROV_INTERNAL_DIGEST_H
#define SBPROV_INTERNAL_DIGEST_H

#include "sbprov/common.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define SBPROV__SHA256_LEN 32

/* The process-wide SHA-256 implementation, or NULL if OpenSSL has none. */
EVP_MD *sbprov__sha256_md(void);

/* SHA-256 of data. SBPROV_ECRYPTO on failure. */
sbprov_result sbprov__sha256(uint8_t digest[SBPROV__SHA256_LEN], const void *data, size_t len);

/* Lower-case hex of n bytes into out (2n + 1 bytes), NUL-terminated. */
void sbprov__hex(char *out, const uint8_t *bytes, size_t n);

#endif
