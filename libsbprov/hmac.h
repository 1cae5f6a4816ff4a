/* Internal: HMAC-SHA256 keyed once and reused (OpenSSL 3 EVP_MAC). */
#ifndef SBPROV_INTERNAL_HMAC_H
#define SBPROV_INTERNAL_HMAC_H

#include "sbprov/common.h"

#include "digest.h"

#include <stddef.h>
#include <stdint.h>


typedef struct sbprov__hmac sbprov__hmac;

/* Key a new HMAC-SHA256 state. SBPROV_ENOMEM or SBPROV_ECRYPTO on failure. */
sbprov_result sbprov__hmac_new(sbprov__hmac **out, const uint8_t *key, size_t key_len);
/* Decode a Base64 symmetric key (16..64 bytes, see sbprov__decode_key; errors
 * name `what`) and key a new state with it; the decoded key is cleansed. */
sbprov_result sbprov__hmac_new_b64(sbprov__hmac **out, const char *b64_key, size_t len, const char *what);
/* MAC one message with the state's key; the state is reusable afterwards. */
sbprov_result sbprov__hmac_sha256(sbprov__hmac *h, const void *msg, size_t msg_len,
                                  uint8_t mac[SBPROV__SHA256_LEN]);
/* Free the state; OpenSSL cleanses the keyed pads. NULL is a no-op. */
void sbprov__hmac_free(sbprov__hmac *h);

/* One-shot convenience: key, MAC, free. */
sbprov_result sbprov__hmac_sha256_once(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                                       uint8_t mac[SBPROV__SHA256_LEN]);

#endif
