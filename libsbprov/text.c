/* Bounded text assembly shared by every function that returns text. */
#include "text.h"

#include "error.h"

#include <openssl/crypto.h>
#include <string.h>

void sbprov__text_init(sbprov__text *t, char *buf, size_t size)
{
    t->buf = buf;
    t->size = size;
    t->len = 0;
}

void sbprov__text_append(sbprov__text *t, const char *s, size_t n)
{
    if (n == 0)
        return; /* s may be NULL for empty input; memcpy must not see it */
    if (t->len < t->size) {
        size_t room = t->size - t->len;
        memcpy(t->buf + t->len, s, n < room ? n : room);
    }
    t->len += n;
}

void sbprov__text_append_str(sbprov__text *t, const char *s)
{
    sbprov__text_append(t, s, strlen(s));
}

void sbprov__text_append_i64(sbprov__text *t, int64_t v)
{
    char digits[24];
    size_t i = sizeof digits;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        digits[--i] = '-';
    sbprov__text_append(t, digits + i, sizeof digits - i);
}

void sbprov__text_append_fixed(sbprov__text *t, int64_t value, unsigned decimals)
{
    char digits[48];
    size_t i = sizeof digits;
    uint64_t u = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    int fraction = 0; /* a non-zero fractional digit was written */

    for (unsigned d = 0; d < decimals; d++, u /= 10) {
        unsigned digit = (unsigned)(u % 10);
        if (digit != 0 || fraction) {
            digits[--i] = (char)('0' + digit);
            fraction = 1;
        }
    }
    if (fraction)
        digits[--i] = '.';
    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (value < 0)
        digits[--i] = '-';
    sbprov__text_append(t, digits + i, sizeof digits - i);
}

/* 1 for the bytes SAS percent-encoding keeps (RFC 3986 unreserved). */
static const uint8_t unreserved[256] = {
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,1,1,1,1,1,1,1,1,1,1,0,0,0,0,0,0,
    0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,0,0,0,1,
    0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,0,0,1,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
};

void sbprov__text_append_url_encoded(sbprov__text *t, const void *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = s;
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        if (unreserved[p[i]]) {
            run++;
            continue;
        }
        sbprov__text_append(t, (const char *)p + i - run, run);
        run = 0;
        char esc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };
        sbprov__text_append(t, esc, 3);
    }
    sbprov__text_append(t, (const char *)p + n - run, run);
}

sbprov_result sbprov__text_copy(char *buf, size_t size, size_t *out_len, const char *s, size_t len)
{
    sbprov__text t;
    sbprov__text_init(&t, buf, size);
    sbprov__text_append(&t, s, len);
    return sbprov__text_finish(&t, out_len);
}

sbprov_result sbprov__text_finish(sbprov__text *t, size_t *out_len)
{
    if (t->len >= t->size) {
        if (t->buf != NULL && t->size > 0)
            OPENSSL_cleanse(t->buf, t->size);
        return sbprov__buffer_too_small(out_len, t->size, t->len + 1);
    }
    t->buf[t->len] = '\0';
    if (out_len != NULL)
        *out_len = t->len;
    return SBPROV_OK;
}

sbprov_result sbprov__buffer_too_small(size_t *out_len, size_t size, size_t needed)
{
    if (out_len != NULL)
        *out_len = needed;
    return sbprov__fail(SBPROV_EBUFS, "output buffer of %zu bytes is too small; %zu needed", size, needed);
}

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 if Go's
 * utf8.DecodeRuneInString would return (RuneError, 1) there: a stray
 * continuation byte, C0/C1 or F5..FF, an overlong form, a surrogate, a code
 * point above U+10FFFF, or a sequence cut short. */
size_t sbprov__utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t need;

    if (c < 0x80)
        return 1;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0) {
        need = 1;
    } else if (c < 0xf0) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c < 0xf5) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n <= need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return need + 1;
}
