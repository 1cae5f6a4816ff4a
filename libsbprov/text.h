/* Internal: writing text into a caller-owned (buf, size, out_len) buffer. */
#ifndef SBPROV_INTERNAL_TEXT_H
#define SBPROV_INTERNAL_TEXT_H

#include "sbprov/common.h"

#include <stddef.h>

/* Appends into buf while it fits and keeps counting past the end, so one pass
 * both writes the text and learns the size a retry would need. */
typedef struct sbprov__text {
    char *buf;
    size_t size;
    size_t len;
} sbprov__text;

void sbprov__text_init(sbprov__text *t, char *buf, size_t size);
void sbprov__text_append(sbprov__text *t, const char *s, size_t n);
void sbprov__text_append_str(sbprov__text *t, const char *s);
/* Append the decimal form of v. */
void sbprov__text_append_i64(sbprov__text *t, int64_t v);
/* Append value / 10^decimals exactly, trailing fractional zeros dropped
 * (2153, 2 -> "21.53"; 4520, 2 -> "45.2"; 2100, 2 -> "21"; -5, 2 -> "-0.05"). */
void sbprov__text_append_fixed(sbprov__text *t, int64_t value, unsigned decimals);
/* Append s percent-encoded (keep A-Z a-z 0-9 - _ . ~, others as %XX upper-case). */
void sbprov__text_append_url_encoded(sbprov__text *t, const void *s, size_t n);

/* NUL-terminate and report: SBPROV_OK with *out_len = length, or SBPROV_EBUFS
 * with *out_len = size needed (the partial text is wiped: it may be secret). */
sbprov_result sbprov__text_finish(sbprov__text *t, size_t *out_len);

/* The whole of sbprov__text for one string: copy s (len bytes) and a NUL. */
sbprov_result sbprov__text_copy(char *buf, size_t size, size_t *out_len, const char *s, size_t len);

/* Report SBPROV_EBUFS for a buffer of `size` bytes when `needed` are required. */
sbprov_result sbprov__buffer_too_small(size_t *out_len, size_t size, size_t needed);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 where it
 * is invalid: a stray continuation byte, C0/C1 or F5..FF, an overlong form,
 * a surrogate, a code point above U+10FFFF, or a sequence cut short (exactly
 * where Go's utf8.DecodeRuneInString returns (RuneError, 1)). */
size_t sbprov__utf8_sequence(const unsigned char *s, size_t n);

#endif
