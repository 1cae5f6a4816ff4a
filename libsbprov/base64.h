/* Internal: standard padded Base64 (RFC 4648 section 4), strict decoding. */
#ifndef SBPROV_INTERNAL_BASE64_H
#define SBPROV_INTERNAL_BASE64_H

#include "sbprov/common.h"

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes (no NUL). */
#define SBPROV__BASE64_LEN(n) ((((size_t)(n) + 2) / 3) * 4)
/* Largest number of bytes n characters can decode to. */
#define SBPROV__BASE64_DECODED_MAX(n) (((size_t)(n) / 4) * 3)

/* Encode n bytes into dst (SBPROV__BASE64_LEN(n) + 1 bytes), NUL-terminated. */
void sbprov__base64_encode(char *dst, const uint8_t *src, size_t n);

/* Decode strict padded Base64: length a multiple of 4, only the standard
 * alphabet, '=' only as final padding, unused bits zero. On failure returns
 * SBPROV_EBASE64 with a message that starts with `what`; dst may hold partial
 * output, which the caller cleanses. dst must hold SBPROV__BASE64_DECODED_MAX(len). */
sbprov_result sbprov__base64_decode(uint8_t *dst, size_t *dst_len, const char *src, size_t len,
                                    const char *what);

/* Decode a symmetric key and check it is 16..64 bytes (dst holds 64 bytes).
 * Failures: SBPROV_EBASE64, SBPROV_EKEYSIZE, both naming `what`. */
sbprov_result sbprov__decode_key(uint8_t dst[64], size_t *dst_len, const char *src, size_t len,
                                 const char *what);

#endif
