/* Standard padded Base64 with a strict decoder: keys are secrets, and a key
 * that decodes "almost" right must be refused, never silently repaired. */
#include "base64.h"

#include "error.h"
#include "sbprov/azure.h"

#include <openssl/crypto.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value 0..63 of each alphabet character; 255 for every other byte. */
static const uint8_t decode_table[256] = {
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,62,255,255,255,63,
    52,53,54,55,56,57,58,59,60,61,255,255,255,255,255,255,
    255,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,
    15,16,17,18,19,20,21,22,23,24,25,255,255,255,255,255,
    255,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,
    41,42,43,44,45,46,47,48,49,50,51,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
};

void sbprov__base64_encode(char *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    while (i + 3 <= n) {
        uint32_t v = ((uint32_t)src[i] << 16) | ((uint32_t)src[i + 1] << 8) | src[i + 2];
        *dst++ = alphabet[(v >> 18) & 63];
        *dst++ = alphabet[(v >> 12) & 63];
        *dst++ = alphabet[(v >> 6) & 63];
        *dst++ = alphabet[v & 63];
        i += 3;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        *dst++ = alphabet[(v >> 18) & 63];
        *dst++ = alphabet[(v >> 12) & 63];
        *dst++ = '=';
        *dst++ = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)src[i] << 16) | ((uint32_t)src[i + 1] << 8);
        *dst++ = alphabet[(v >> 18) & 63];
        *dst++ = alphabet[(v >> 12) & 63];
        *dst++ = alphabet[(v >> 6) & 63];
        *dst++ = '=';
    }
    *dst = '\0';
}

sbprov_result sbprov__base64_decode(uint8_t *dst, size_t *dst_len, const char *src, size_t len,
                                    const char *what)
{
    size_t out = 0;

    if (len == 0)
        return sbprov__fail(SBPROV_EBASE64, "%s: empty", what);
    if (len % 4 != 0)
        return sbprov__fail(SBPROV_EBASE64,
                            "%s: Base64 length %zu is not a multiple of 4 (missing padding?)", what, len);

    for (size_t i = 0; i < len; i += 4) {
        uint8_t v[4];
        int pad = 0;
        int last = i + 4 == len;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)src[i + j];
            if (c == '=' && last && j >= 2) {
                /* '=' may only end the text: "xx==" or "xxx=". */
                if (j == 2 && src[i + 3] != '=')
                    return sbprov__fail(SBPROV_EBASE64, "%s: misplaced '=' at character %zu", what,
                                        i + j + 1);
                pad = 4 - j;
                break;
            }
            uint8_t d = decode_table[c];
            if (d == 255) {
                if (c == '=')
                    return sbprov__fail(SBPROV_EBASE64, "%s: misplaced '=' at character %zu", what,
                                        i + j + 1);
                if (c < 0x20 || c >= 0x7f)
                    return sbprov__fail(SBPROV_EBASE64,
                                        "%s: byte 0x%02x at character %zu is not Base64", what, c, i + j + 1);
                return sbprov__fail(SBPROV_EBASE64, "%s: '%c' at character %zu is not Base64%s", what, c,
                                    i + j + 1,
                                    c == '-' || c == '_' ? " (base64url is not accepted)" : "");
            }
            v[j] = d;
        }
        if (pad == 0) {
            dst[out++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
            dst[out++] = (uint8_t)((v[1] << 4) | (v[2] >> 2));
            dst[out++] = (uint8_t)((v[2] << 6) | v[3]);
        } else if (pad == 1) {
            if (v[2] & 0x03)
                return sbprov__fail(SBPROV_EBASE64, "%s: non-zero bits before the '=' padding", what);
            dst[out++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
            dst[out++] = (uint8_t)((v[1] << 4) | (v[2] >> 2));
        } else {
            if (v[1] & 0x0f)
                return sbprov__fail(SBPROV_EBASE64, "%s: non-zero bits before the '=' padding", what);
            dst[out++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
        }
    }
    *dst_len = out;
    return SBPROV_OK;
}

sbprov_result sbprov__decode_key(uint8_t dst[64], size_t *dst_len, const char *src, size_t len,
                                 const char *what)
{
    /* Decode anything of plausible size first, so that bad Base64 is reported
     * as such before a bad length; the scratch buffer is cleansed either way. */
    uint8_t tmp[SBPROV__BASE64_DECODED_MAX(4096)];
    size_t n = 0;
    sbprov_result rc;

    if (len > 4096)
        return sbprov__fail(SBPROV_EKEYSIZE, "%s: %zu characters is far longer than a %d-byte key", what,
                            len, SBPROV_AZURE_KEY_MAX_BYTES);
    rc = sbprov__base64_decode(tmp, &n, src, len, what);
    if (rc == SBPROV_OK && (n < SBPROV_AZURE_KEY_MIN_BYTES || n > SBPROV_AZURE_KEY_MAX_BYTES))
        rc = sbprov__fail(SBPROV_EKEYSIZE, "%s: decodes to %zu bytes; keys must be %d to %d bytes", what, n,
                          SBPROV_AZURE_KEY_MIN_BYTES, SBPROV_AZURE_KEY_MAX_BYTES);
    if (rc == SBPROV_OK) {
        memcpy(dst, tmp, n);
        *dst_len = n;
    }
    OPENSSL_cleanse(tmp, SBPROV__BASE64_DECODED_MAX(len));
    return rc;
}
