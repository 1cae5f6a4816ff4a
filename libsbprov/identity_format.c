/* Registration / device IDs made from an identity with a template such as
 * "gw-{mac:compact}" (docs/identity.md). */
#include "identity_internal.h"

#include "azure_ids.h"
#include "error.h"
#include "sbprov/azure.h"
#include "text.h"

#include <string.h>

enum modifier { MOD_NONE, MOD_LOWER, MOD_COMPACT };

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Append value with the modifier applied. */
static void append_value(sbprov__text *t, const char *value, enum modifier mod)
{
    if (mod == MOD_NONE) {
        sbprov__text_append_str(t, value);
        return;
    }
    for (const char *p = value; *p != '\0'; p++) {
        char c = ascii_lower(*p);
        if (mod == MOD_COMPACT && (c == ':' || c == '-' || c == '.'))
            continue;
        sbprov__text_append(t, &c, 1);
    }
}

static const char *find_value(const sbprov_identity *identity, const char *name, size_t name_len)
{
    for (size_t i = 0; i < identity->count; i++) {
        const sbprov__identity_attr *a = &identity->attrs[i];
        if (a->name_len == name_len && memcmp(a->name, name, name_len) == 0)
            return a->values[0];
    }
    return NULL;
}

/* Expand the template into t (which counts past its end). */
static sbprov_result expand(sbprov__text *t, const sbprov_identity *identity, const char *tpl)
{
    char quoted[200];
    size_t i = 0;

    while (tpl[i] != '\0') {
        size_t run = strcspn(tpl + i, "{}");
        sbprov__text_append(t, tpl + i, run);
        i += run;
        if (tpl[i] == '\0')
            break;
        if (tpl[i] == '}') {
            if (tpl[i + 1] != '}')
                return sbprov__fail(SBPROV_EPARSE,
                                    "ID template: '}' at position %zu has no matching '{' (write '}}' for a literal "
                                    "brace)",
                                    i + 1);
            sbprov__text_append(t, "}", 1);
            i += 2;
            continue;
        }
        if (tpl[i + 1] == '{') {
            sbprov__text_append(t, "{", 1);
            i += 2;
            continue;
        }
        /* {name} or {name:modifier}; the modifier follows the last ':'. */
        const char *open = tpl + i, *body = open + 1, *close = strchr(body, '}'), *colon;
        size_t body_len, name_len;
        enum modifier mod = MOD_NONE;
        const char *value;

        if (close == NULL)
            return sbprov__fail(SBPROV_EPARSE, "ID template: '{' at position %zu is not closed by '}'", i + 1);
        body_len = (size_t)(close - body);
        if (memchr(body, '{', body_len) != NULL)
            return sbprov__fail(SBPROV_EPARSE, "ID template: '{' at position %zu is not closed before the next '{'",
                                i + 1);
        name_len = body_len;
        colon = NULL;
        for (const char *p = body; p < close; p++)
            if (*p == ':')
                colon = p;
        if (colon != NULL) {
            const char *m = colon + 1;
            size_t m_len = (size_t)(close - m);
            if (m_len == 7 && memcmp(m, "compact", 7) == 0)
                mod = MOD_COMPACT;
            else if (m_len == 5 && memcmp(m, "lower", 5) == 0)
                mod = MOD_LOWER;
            else {
                sbprov__identity_quote(quoted, sizeof quoted, m, m_len, 40);
                return sbprov__fail(SBPROV_EPARSE,
                                    "ID template: unknown modifier \"%s\" at position %zu (known: compact, lower)",
                                    quoted, (size_t)(m - tpl) + 1);
            }
            name_len = (size_t)(colon - body);
        }
        if (name_len == 0)
            return sbprov__fail(SBPROV_EPARSE, "ID template: '{' at position %zu names no attribute", i + 1);
        value = find_value(identity, body, name_len);
        if (value == NULL) {
            sbprov__identity_quote(quoted, sizeof quoted, body, name_len, 40);
            return sbprov__fail(SBPROV_ENOTFOUND, "ID template: the identity has no attribute \"%s\"", quoted);
        }
        append_value(t, value, mod);
        i = (size_t)(close - tpl) + 1;
    }
    return SBPROV_OK;
}

sbprov_result sbprov_identity_format_id(char *buf, size_t buf_size, size_t *out_len, const sbprov_identity *identity,
                                        const char *id_template)
{
    char id[SBPROV_AZURE_ID_MAX_LEN + 1];
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL || identity == NULL || id_template == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_format_id: NULL argument");
    sbprov__text_init(&text, id, sizeof id);
    if ((rc = expand(&text, identity, id_template)) != SBPROV_OK)
        return rc;
    if (text.len > SBPROV_AZURE_ID_MAX_LEN)
        return sbprov__fail(SBPROV_EID, "ID from template: %zu characters, at most %d allowed", text.len,
                            SBPROV_AZURE_ID_MAX_LEN);
    id[text.len] = '\0';
    if ((rc = sbprov__check_registration_id(id, "ID from template")) != SBPROV_OK)
        return rc;
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append_str(&text, id);
    return sbprov__text_finish(&text, out_len);
}
