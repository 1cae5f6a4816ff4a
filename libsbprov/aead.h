/* Internal: AES-256-GCM with a 12-byte nonce and a 16-byte tag, shared by the
 * store's entries and its sealed key. */
#ifndef SBPROV_INTERNAL_AEAD_H
#define SBPROV_INTERNAL_AEAD_H

#include "sbprov/common.h"

#include <stddef.h>
#include <stdint.h>

#define SBPROV__GCM_KEY_LEN 32
#define SBPROV__GCM_NONCE_LEN 12
#define SBPROV__GCM_TAG_LEN 16

/* Encrypt `len` bytes of `in` into `out` and write `tag` or, with `decrypt`,
 * check `tag` and decrypt. The associated data is aad1 || aad2 (either may
 * be empty). `out` has room for `len` bytes. SBPROV_ETAMPERED when the tag
 * does not authenticate (the caller says what that means), SBPROV_ECRYPTO or
 * SBPROV_ENOMEM otherwise; `what` names the data in messages. */
sbprov_result sbprov__aes256gcm(uint8_t *out, const uint8_t key[SBPROV__GCM_KEY_LEN],
                                const uint8_t nonce[SBPROV__GCM_NONCE_LEN], const void *aad1, size_t aad1_len,
                                const void *aad2, size_t aad2_len, const uint8_t *in, size_t len,
                                uint8_t tag[SBPROV__GCM_TAG_LEN], int decrypt, const char *what);

#endif
