/* The identity object: attributes with one or more values, added from code or
 * parsed from `key=value` lines (reference/mender.md section 2). */
#include "identity_internal.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sbprov_result sbprov_identity_new(sbprov_identity **out)
{
    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_new: NULL argument");
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for an identity");
    return SBPROV_OK;
}

void sbprov_identity_free(sbprov_identity *identity)
{
    if (identity == NULL)
        return;
    for (size_t i = 0; i < identity->count; i++) {
        sbprov__identity_attr *a = &identity->attrs[i];
        for (size_t v = 0; v < a->nvalues; v++)
            free(a->values[v]);
        free(a->values);
        free(a->name);
    }
    free(identity->attrs);
    free(identity);
}

void sbprov__identity_quote(char *out, size_t out_size, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (out_size == 0)
        return;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= out_size)
            break;
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (n > max && o + 4 < out_size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Name of the first byte of s (n bytes) that a name or value may not hold, or NULL. */
static const char *forbidden_byte(const char *s, size_t n, int is_name, size_t *pos)
{
    for (size_t i = 0; i < n; i++) {
        const char *what = NULL;
        switch (s[i]) {
        case '\0': what = "a NUL byte"; break;
        case '\r': what = "a CR"; break;
        case '\n': what = "an LF"; break;
        case '=': what = is_name ? "'='" : NULL; break;
        default: break;
        }
        if (what != NULL) {
            *pos = i + 1;
            return what;
        }
    }
    return NULL;
}

static sbprov__identity_attr *find_attr(const sbprov_identity *identity, const char *name, size_t name_len)
{
    for (size_t i = 0; i < identity->count; i++) {
        sbprov__identity_attr *a = &identity->attrs[i];
        if (a->name_len == name_len && memcmp(a->name, name, name_len) == 0)
            return a;
    }
    return NULL;
}

static char *copy_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c != NULL) {
        if (n > 0)
            memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

sbprov_result sbprov__identity_add_n(sbprov_identity *identity, const char *name, size_t name_len,
                                     const char *value, size_t value_len, const char *where)
{
    char quoted[200];
    const char *bad;
    size_t pos;
    sbprov__identity_attr *a;
    char *value_copy;

    if (name_len == 0)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute name is empty", where);
    sbprov__identity_quote(quoted, sizeof quoted, name, name_len, 40);
    if (name_len > SBPROV__IDENTITY_MAX_NAME)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute name \"%s\" is %zu bytes long; at most %d are allowed", where,
                            quoted, name_len, SBPROV__IDENTITY_MAX_NAME);
    if ((bad = forbidden_byte(name, name_len, 1, &pos)) != NULL)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute name \"%s\" holds %s at byte %zu (names cannot hold '=', CR, "
                            "LF or NUL)", where, quoted, bad, pos);
    if (value_len > SBPROV__IDENTITY_MAX_VALUE)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute \"%s\": value is %zu bytes long; at most %d are allowed",
                            where, quoted, value_len, SBPROV__IDENTITY_MAX_VALUE);
    if ((bad = forbidden_byte(value, value_len, 0, &pos)) != NULL)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute \"%s\": value holds %s at byte %zu (values cannot hold CR, "
                            "LF or NUL; Mender cannot carry them)", where, quoted, bad, pos);

    a = find_attr(identity, name, name_len);
    if (a == NULL && identity->count >= SBPROV__IDENTITY_MAX_ATTRS)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute \"%s\": too many attributes; an identity holds at most %d",
                            where, quoted, SBPROV__IDENTITY_MAX_ATTRS);
    if (a != NULL && a->nvalues >= SBPROV__IDENTITY_MAX_VALUES)
        return sbprov__fail(SBPROV_EPARSE, "%sattribute \"%s\": too many values; an attribute holds at most %d", where,
                            quoted, SBPROV__IDENTITY_MAX_VALUES);

    if (a == NULL) {
        if (identity->count == identity->cap) {
            size_t cap = identity->cap == 0 ? 4 : identity->cap * 2;
            sbprov__identity_attr *attrs = realloc(identity->attrs, cap * sizeof *attrs);
            if (attrs == NULL)
                return sbprov__fail(SBPROV_ENOMEM, "out of memory for an identity attribute");
            identity->attrs = attrs;
            identity->cap = cap;
        }
        a = &identity->attrs[identity->count];
        memset(a, 0, sizeof *a);
        if ((a->name = copy_n(name, name_len)) == NULL)
            return sbprov__fail(SBPROV_ENOMEM, "out of memory for an identity attribute");
        a->name_len = name_len;
        identity->count++; /* an attribute without values is removed again below on failure */
    }
    if (a->nvalues == a->cap) {
        size_t cap = a->cap == 0 ? 1 : a->cap * 2;
        char **values = realloc(a->values, cap * sizeof *values);
        if (values == NULL)
            goto nomem;
        a->values = values;
        a->cap = cap;
    }
    if ((value_copy = copy_n(value, value_len)) == NULL)
        goto nomem;
    a->values[a->nvalues++] = value_copy;
    return SBPROV_OK;

nomem:
    if (a->nvalues == 0) {
        free(a->values);
        free(a->name);
        identity->count--;
    }
    return sbprov__fail(SBPROV_ENOMEM, "out of memory for an identity value");
}

sbprov_result sbprov_identity_add(sbprov_identity *identity, const char *name, const char *value)
{
    if (identity == NULL || name == NULL || value == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_add: NULL argument");
    return sbprov__identity_add_n(identity, name, strlen(name), value, strlen(value), "");
}

sbprov_result sbprov_identity_parse(sbprov_identity **out, const char *text, size_t len)
{
    sbprov_identity *identity = NULL;
    const char *nul;
    size_t line_no = 0, start = 0;
    sbprov_result rc;

    if (out == NULL || (text == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_parse: NULL argument");
    *out = NULL;
    if (len > 0 && (nul = memchr(text, '\0', len)) != NULL) {
        size_t at = (size_t)(nul - text), line = 1, col = 1;
        for (size_t i = 0; i < at; i++, col++)
            if (text[i] == '\n') {
                line++;
                col = 0;
            }
        return sbprov__fail(SBPROV_EPARSE, "line %zu: NUL byte at column %zu (identity text must be key=value lines)",
                            line, col);
    }
    if ((rc = sbprov_identity_new(&identity)) != SBPROV_OK)
        return rc;
    while (start < len) {
        const char *line = text + start, *eq, *lf = memchr(line, '\n', len - start);
        size_t n = lf != NULL ? (size_t)(lf - line) : len - start;
        char where[48];

        start += n + (lf != NULL);
        line_no++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        snprintf(where, sizeof where, "line %zu: ", line_no);
        eq = memchr(line, '=', n);
        if (eq == NULL) {
            char quoted[200];
            sbprov__identity_quote(quoted, sizeof quoted, line, n, 40);
            rc = sbprov__fail(SBPROV_EPARSE, "line %zu: \"%s\" has no '=' (expected key=value)", line_no, quoted);
            goto fail;
        }
        rc = sbprov__identity_add_n(identity, line, (size_t)(eq - line), eq + 1, n - (size_t)(eq - line) - 1, where);
        if (rc != SBPROV_OK)
            goto fail;
    }
    *out = identity;
    return SBPROV_OK;

fail:
    sbprov_identity_free(identity);
    return rc;
}

size_t sbprov_identity_count(const sbprov_identity *identity)
{
    return identity == NULL ? 0 : identity->count;
}

const char *sbprov_identity_name(const sbprov_identity *identity, size_t index)
{
    if (identity == NULL || index >= identity->count)
        return NULL;
    return identity->attrs[index].name;
}

size_t sbprov_identity_value_count(const sbprov_identity *identity, size_t index)
{
    if (identity == NULL || index >= identity->count)
        return 0;
    return identity->attrs[index].nvalues;
}

const char *sbprov_identity_value(const sbprov_identity *identity, size_t index, size_t value_index)
{
    if (identity == NULL || index >= identity->count || value_index >= identity->attrs[index].nvalues)
        return NULL;
    return identity->attrs[index].values[value_index];
}

const char *sbprov_identity_get(const sbprov_identity *identity, const char *name)
{
    const sbprov__identity_attr *a;

    if (identity == NULL || name == NULL)
        return NULL;
    a = find_attr(identity, name, strlen(name));
    return a == NULL ? NULL : a->values[0];
}
