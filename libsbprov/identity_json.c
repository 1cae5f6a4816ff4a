/* Canonical identity JSON and its SHA-256, byte for byte what the Mender
 * server stores (reference/mender.md section 2; docs/identity.md). The server
 * normalizes id_data with Go's encoding/json: Unmarshal into a
 * map[string]interface{}, then Marshal. For strings and string arrays that is
 * Marshal of the map with one twist: Unmarshal has already turned every
 * invalid UTF-8 byte into U+FFFD, so Marshal writes that character itself,
 * not the escape "\ufffd" it would write for a raw invalid byte, and two
 * names that differ only in invalid bytes become one key (the last in sorted
 * order wins, as duplicate keys do in Unmarshal). The result is a fixed point:
 * normalizing it again gives the same bytes. */
#include "identity_internal.h"

#include "digest.h"
#include "error.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ASCII bytes Go writes unescaped with HTML escaping on (its htmlSafeSet):
 * 0x20..0x7f except '"', '\\', '<', '>' and '&'. DEL (0x7f) is kept. */
static int go_html_safe(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/* Append s (n bytes) as a JSON string exactly as Go's encoding/json does with
 * HTML escaping on (appendString), after Unmarshal has replaced invalid bytes
 * by U+FFFD. Since Go 1.22 (the Mender server needs Go 1.23) backspace and
 * form feed are written \b and \f; older Go wrote \u0008 and \u000c. */
static void append_go_string(sbprov__text *t, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t start = 0, i = 0;

    sbprov__text_append(t, "\"", 1);
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (go_html_safe(c)) {
                i++;
                continue;
            }
            sbprov__text_append(t, str + start, i - start);
            switch (c) {
            case '"': sbprov__text_append(t, "\\\"", 2); break;
            case '\\': sbprov__text_append(t, "\\\\", 2); break;
            case '\b': sbprov__text_append(t, "\\b", 2); break; /* Go >= 1.22, as the server */
            case '\f': sbprov__text_append(t, "\\f", 2); break;
            case '\n': sbprov__text_append(t, "\\n", 2); break;
            case '\r': sbprov__text_append(t, "\\r", 2); break;
            case '\t': sbprov__text_append(t, "\\t", 2); break;
            default: {
                /* Other control characters and < > &: \u00XX, lower-case hex. */
                char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                sbprov__text_append(t, esc, sizeof esc);
            }
            }
            start = ++i;
            continue;
        }
        size_t len = sbprov__utf8_sequence(s + i, n - i);
        if (len == 0) {
            /* Each invalid byte on its own becomes U+FFFD (as Unmarshal
             * leaves it for Marshal, which writes it unescaped). */
            sbprov__text_append(t, str + start, i - start);
            sbprov__text_append(t, REPLACEMENT, 3);
            start = ++i;
            continue;
        }
        if (len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
            /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR. */
            sbprov__text_append(t, str + start, i - start);
            sbprov__text_append(t, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            start = i += 3;
            continue;
        }
        i += len;
    }
    sbprov__text_append(t, str + start, n - start);
    sbprov__text_append(t, "\"", 1);
}

/* Reads a string as Unmarshal leaves it: valid sequences as they are, each
 * invalid byte as the three bytes of U+FFFD. */
typedef struct sanitized {
    const unsigned char *s;
    size_t n, i;
    const unsigned char *pending; /* rest of a replacement being read */
    size_t npending;
} sanitized;

/* Next byte, or -1 at the end. */
static int sanitized_next(sanitized *c)
{
    if (c->npending > 0) {
        c->npending--;
        return *c->pending++;
    }
    if (c->i >= c->n)
        return -1;
    size_t len = sbprov__utf8_sequence(c->s + c->i, c->n - c->i);
    if (len == 0) {
        static const unsigned char replacement[] = REPLACEMENT;
        c->i++;
        c->pending = replacement + 1;
        c->npending = 2;
        return replacement[0];
    }
    /* A valid sequence: its first byte now, the rest as pending. */
    c->pending = c->s + c->i + 1;
    c->npending = len - 1;
    c->i += len;
    return c->pending[-1];
}

/* Compare two names as Go compares the map keys Unmarshal produced
 * (strings.Compare: by bytes, a prefix first). */
static int compare_sanitized(const char *a, size_t a_len, const char *b, size_t b_len)
{
    sanitized ca = { (const unsigned char *)a, a_len, 0, NULL, 0 };
    sanitized cb = { (const unsigned char *)b, b_len, 0, NULL, 0 };
    for (;;) {
        int x = sanitized_next(&ca), y = sanitized_next(&cb);
        if (x != y)
            return x < y ? -1 : 1;
        if (x < 0)
            return 0;
    }
}

/* Order of the keys: by the names the server sees, and names it sees as one
 * key by their own bytes (the order the client's Marshal wrote them in, so
 * the last of them is the one Unmarshal keeps). */
static int compare_attrs(const void *pa, const void *pb)
{
    const sbprov__identity_attr *a = *(const sbprov__identity_attr *const *)pa;
    const sbprov__identity_attr *b = *(const sbprov__identity_attr *const *)pb;
    int c = compare_sanitized(a->name, a->name_len, b->name, b->name_len);
    size_t n;

    if (c != 0)
        return c;
    n = a->name_len < b->name_len ? a->name_len : b->name_len;
    c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

/* Write the canonical JSON of a non-empty identity into t. Needs no heap:
 * an identity has at most SBPROV__IDENTITY_MAX_ATTRS attributes. */
static void write_canonical(sbprov__text *t, const sbprov_identity *identity)
{
    const sbprov__identity_attr *sorted[SBPROV__IDENTITY_MAX_ATTRS];

    for (size_t i = 0; i < identity->count; i++)
        sorted[i] = &identity->attrs[i];
    qsort(sorted, identity->count, sizeof sorted[0], compare_attrs);

    sbprov__text_append(t, "{", 1);
    for (size_t i = 0, written = 0; i < identity->count; i++) {
        const sbprov__identity_attr *a = sorted[i];
        if (i + 1 < identity->count &&
            compare_sanitized(a->name, a->name_len, sorted[i + 1]->name, sorted[i + 1]->name_len) == 0)
            continue; /* the server keeps only the last of these */
        if (written++ > 0)
            sbprov__text_append(t, ",", 1);
        append_go_string(t, a->name, a->name_len);
        sbprov__text_append(t, ":", 1);
        if (a->nvalues == 1) {
            append_go_string(t, a->values[0], strlen(a->values[0]));
            continue;
        }
        sbprov__text_append(t, "[", 1);
        for (size_t v = 0; v < a->nvalues; v++) {
            if (v > 0)
                sbprov__text_append(t, ",", 1);
            append_go_string(t, a->values[v], strlen(a->values[v]));
        }
        sbprov__text_append(t, "]", 1);
    }
    sbprov__text_append(t, "}", 1);
}

static sbprov_result check_identity(const sbprov_identity *identity, const char *fn)
{
    if (identity == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL identity", fn);
    if (identity->count == 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: the identity has no attributes (Mender needs at least one)", fn);
    return SBPROV_OK;
}

sbprov_result sbprov_identity_canonical_json(char *buf, size_t buf_size, size_t *out_len,
                                             const sbprov_identity *identity)
{
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_canonical_json: NULL buffer");
    if ((rc = check_identity(identity, "sbprov_identity_canonical_json")) != SBPROV_OK)
        return rc;
    sbprov__text_init(&text, buf, buf_size);
    write_canonical(&text, identity);
    return sbprov__text_finish(&text, out_len);
}

sbprov_result sbprov_identity_digest(char *buf, size_t buf_size, size_t *out_len, const sbprov_identity *identity)
{
    uint8_t digest[SBPROV__SHA256_LEN];
    sbprov__text text;
    char *json;
    size_t len;
    sbprov_result rc;

    if (buf == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_digest: NULL buffer");
    if ((rc = check_identity(identity, "sbprov_identity_digest")) != SBPROV_OK)
        return rc;
    if (buf_size < SBPROV_IDENTITY_DIGEST_SIZE)
        return sbprov__buffer_too_small(out_len, buf_size, SBPROV_IDENTITY_DIGEST_SIZE);

    /* One pass to measure, one to write. */
    sbprov__text_init(&text, NULL, 0);
    write_canonical(&text, identity);
    len = text.len;
    if ((json = malloc(len + 1)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for the canonical JSON (%zu bytes)", len);
    sbprov__text_init(&text, json, len + 1);
    write_canonical(&text, identity);
    rc = sbprov__sha256(digest, json, len);
    free(json);
    if (rc != SBPROV_OK)
        return rc;
    sbprov__hex(buf, digest, sizeof digest);
    if (out_len != NULL)
        *out_len = 2 * SBPROV__SHA256_LEN;
    return SBPROV_OK;
}
