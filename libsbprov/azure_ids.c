/* Azure identifier rules (reference/azure.md section 3; choices in docs/azure.md). */
#include "azure_ids.h"

#include "error.h"
#include "sbprov/azure.h"

#include <stdint.h>
#include <string.h>

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_alnum(unsigned char c) { return is_digit(c) || is_lower(c) || is_upper(c); }

/* Describe the offending byte at position i (1-based in the message). */
static sbprov_result bad_char(const char *what, const char *s, size_t i, const char *allowed)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f)
        return sbprov__fail(SBPROV_EID, "%s: byte 0x%02x at position %zu is not allowed (%s)", what, c, i + 1,
                            allowed);
    return sbprov__fail(SBPROV_EID, "%s: '%c' at position %zu is not allowed (%s)", what, c, i + 1, allowed);
}

static sbprov_result check_length(size_t len, size_t max, const char *what)
{
    if (len == 0)
        return sbprov__fail(SBPROV_EID, "%s: empty", what);
    if (len > max)
        return sbprov__fail(SBPROV_EID, "%s: %zu characters, at most %zu allowed", what, len, max);
    return SBPROV_OK;
}

/* Registration ID characters: bit 1 allowed, bit 2 may start or end (a letter
 * or digit), bit 4 may end ('-'). One table look-up per byte: fleets derive
 * millions of keys, and this check runs for every one. */
static const uint8_t registration_id_chars[256] = {
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,5,1,0,3,3,3,3,3,3,3,3,3,3,1,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,
    0,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
};

sbprov_result sbprov__check_registration_id_len(const char *id, size_t *len_out, const char *what)
{
    static const char allowed[] = "lower-case letters, digits, '-', '.', '_', ':'";
    const unsigned char *p = (const unsigned char *)id;
    size_t len = 0;
    sbprov_result rc;

    if (id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    while (p[len] != '\0' && (registration_id_chars[p[len]] & 1) && len <= SBPROV_AZURE_ID_MAX_LEN)
        len++;
    if (p[len] != '\0' || len == 0 || len > SBPROV_AZURE_ID_MAX_LEN) {
        /* Slow path: find out exactly what is wrong. */
        len = strlen(id);
        if ((rc = check_length(len, SBPROV_AZURE_ID_MAX_LEN, what)) != SBPROV_OK)
            return rc;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = p[i];
            if (is_upper(c))
                return sbprov__fail(SBPROV_EID,
                                    "%s: upper-case '%c' at position %zu; DPS compares registration IDs "
                                    "case-insensitively, so use lower case",
                                    what, c, i + 1);
            if (!(registration_id_chars[c] & 1))
                return bad_char(what, id, i, allowed);
        }
    }
    if (!(registration_id_chars[p[0]] & 2))
        return sbprov__fail(SBPROV_EID, "%s: must start with a letter or digit, not '%c'", what, id[0]);
    if (!(registration_id_chars[p[len - 1]] & 6))
        return sbprov__fail(SBPROV_EID, "%s: must end with a letter, digit or '-', not '%c'", what, id[len - 1]);
    if (len_out != NULL)
        *len_out = len;
    return SBPROV_OK;
}

sbprov_result sbprov__check_registration_id(const char *id, const char *what)
{
    return sbprov__check_registration_id_len(id, NULL, what);
}

sbprov_result sbprov__check_device_id(const char *id, const char *what)
{
    static const char allowed[] = "ASCII letters, digits and - . _ : + % # * ? ! ( ) , = @ $ '";
    size_t len;
    sbprov_result rc;

    if (id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    len = strlen(id);
    if ((rc = check_length(len, SBPROV_AZURE_ID_MAX_LEN, what)) != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!is_alnum(c) && strchr("-._:+%#*?!(),=@$'", c) == NULL)
            return bad_char(what, id, i, allowed);
    }
    return SBPROV_OK;
}

sbprov_result sbprov__check_hostname(const char *host, const char *what)
{
    static const char allowed[] = "letters, digits, '-', '_', '.'";
    size_t len;
    sbprov_result rc;

    if (host == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    len = strlen(host);
    if ((rc = check_length(len, 253, what)) != SBPROV_OK)
        return rc;
    if (strstr(host, "://") != NULL)
        return sbprov__fail(SBPROV_EID, "%s: give the host name alone, without a scheme", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!(is_alnum(c) || c == '-' || c == '_' || c == '.'))
            return bad_char(what, host, i, allowed);
    }
    if (host[0] == '.' || host[len - 1] == '.' || strstr(host, "..") != NULL)
        return sbprov__fail(SBPROV_EID, "%s: empty label (leading, trailing or double '.')", what);
    return SBPROV_OK;
}

sbprov_result sbprov__check_id_scope(const char *scope, const char *what)
{
    size_t len;
    sbprov_result rc;

    if (scope == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    len = strlen(scope);
    if ((rc = check_length(len, 64, what)) != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum((unsigned char)scope[i]))
            return bad_char(what, scope, i, "letters and digits");
    return SBPROV_OK;
}

sbprov_result sbprov__check_policy_name(const char *name, const char *what)
{
    size_t len;
    sbprov_result rc;

    if (name == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    len = strlen(name);
    if ((rc = check_length(len, 128, what)) != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(is_alnum(c) || c == '_' || c == '-' || c == '@' || c == '.'))
            return bad_char(what, name, i, "letters, digits, '_', '-', '@', '.'");
    }
    return SBPROV_OK;
}

sbprov_result sbprov_azure_check_registration_id(const char *registration_id)
{
    return sbprov__check_registration_id(registration_id, "registration ID");
}

sbprov_result sbprov_azure_check_device_id(const char *device_id)
{
    return sbprov__check_device_id(device_id, "device ID");
}
