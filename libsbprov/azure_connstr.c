/* IoT Hub connection strings: parse, validate, build (reference/azure.md 4). */
#include "sbprov/azure.h"

#include "azure_ids.h"
#include "base64.h"
#include "error.h"
#include "text.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD_COUNT 8

struct sbprov_azure_connstr {
    char *values[FIELD_COUNT];
};

static const char *const field_names[FIELD_COUNT] = {
    "HostName", "DeviceId", "ModuleId", "SharedAccessKeyName",
    "SharedAccessKey", "SharedAccessSignature", "GatewayHostName", "x509",
};

static const char signature_prefix[] = "SharedAccessSignature ";

const char *sbprov_azure_cs_field_name(sbprov_azure_cs_field field)
{
    if ((int)field < 0 || (int)field >= FIELD_COUNT)
        return NULL;
    return field_names[field];
}

/* Field whose name is the n bytes at name; -1 if none. */
static int field_index(const char *name, size_t n)
{
    for (int i = 0; i < FIELD_COUNT; i++)
        if (strlen(field_names[i]) == n && memcmp(field_names[i], name, n) == 0)
            return i;
    return -1;
}

sbprov_result sbprov_azure_cs_field_from_name(sbprov_azure_cs_field *out, const char *name)
{
    int i;

    if (out == NULL || name == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_cs_field_from_name: NULL argument");
    i = field_index(name, strlen(name));
    if (i < 0)
        return sbprov__fail(SBPROV_ENOTFOUND, "no connection-string field has this name (names are case-sensitive)");
    *out = (sbprov_azure_cs_field)i;
    return SBPROV_OK;
}

sbprov_result sbprov_azure_connstr_new(sbprov_azure_connstr **out)
{
    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_connstr_new: NULL argument");
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for a connection string");
    return SBPROV_OK;
}

static void clear_value(char **value)
{
    if (*value != NULL) {
        OPENSSL_cleanse(*value, strlen(*value));
        free(*value);
        *value = NULL;
    }
}

void sbprov_azure_connstr_free(sbprov_azure_connstr *cs)
{
    if (cs == NULL)
        return;
    for (int i = 0; i < FIELD_COUNT; i++)
        clear_value(&cs->values[i]);
    free(cs);
}

const char *sbprov_azure_connstr_get(const sbprov_azure_connstr *cs, sbprov_azure_cs_field field)
{
    if (cs == NULL || (int)field < 0 || (int)field >= FIELD_COUNT)
        return NULL;
    return cs->values[field];
}

/* Syntax of one value, independent of the other fields. */
static sbprov_result check_value(int field, const char *value)
{
    const char *name = field_names[field];
    uint8_t key[SBPROV_AZURE_KEY_MAX_BYTES];
    size_t key_len;
    sbprov_result rc;

    if (value[0] == '\0')
        return sbprov__fail(SBPROV_ECONNSTR, "%s: empty value", name);
    if (strchr(value, ';') != NULL)
        return sbprov__fail(SBPROV_ECONNSTR, "%s: value contains ';', which a connection string cannot carry",
                            name);
    switch (field) {
    case SBPROV_AZURE_CS_HOST_NAME:
    case SBPROV_AZURE_CS_GATEWAY_HOST_NAME:
        return sbprov__check_hostname(value, name);
    case SBPROV_AZURE_CS_DEVICE_ID:
    case SBPROV_AZURE_CS_MODULE_ID:
        return sbprov__check_device_id(value, name);
    case SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME:
        return sbprov__check_policy_name(value, name);
    case SBPROV_AZURE_CS_SHARED_ACCESS_KEY:
        rc = sbprov__decode_key(key, &key_len, value, strlen(value), name);
        OPENSSL_cleanse(key, sizeof key);
        return rc;
    case SBPROV_AZURE_CS_SHARED_ACCESS_SIGNATURE:
        if (strncmp(value, signature_prefix, sizeof signature_prefix - 1) != 0 ||
            strstr(value, "sr=") == NULL || strstr(value, "sig=") == NULL || strstr(value, "se=") == NULL)
            return sbprov__fail(SBPROV_ECONNSTR,
                                "%s: expected a token 'SharedAccessSignature sr=...&sig=...&se=...'", name);
        return SBPROV_OK;
    case SBPROV_AZURE_CS_X509:
        if (strcmp(value, "true") != 0)
            return sbprov__fail(SBPROV_ECONNSTR, "%s: the only accepted value is 'true'", name);
        return SBPROV_OK;
    }
    return SBPROV_OK;
}

sbprov_result sbprov_azure_connstr_set(sbprov_azure_connstr *cs, sbprov_azure_cs_field field, const char *value)
{
    char *copy;
    sbprov_result rc;

    if (cs == NULL || (int)field < 0 || (int)field >= FIELD_COUNT)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_connstr_set: NULL handle or unknown field %d", (int)field);
    if (value == NULL) {
        clear_value(&cs->values[field]);
        return SBPROV_OK;
    }
    if ((rc = check_value(field, value)) != SBPROV_OK)
        return rc;
    copy = strdup(value);
    if (copy == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for a connection-string value");
    clear_value(&cs->values[field]);
    cs->values[field] = copy;
    return SBPROV_OK;
}

/* How the fields combine; names the first field that is missing or contradicts. */
static sbprov_result check_combination(const sbprov_azure_connstr *cs)
{
    char *const *v = cs->values;
    int credentials = (v[SBPROV_AZURE_CS_SHARED_ACCESS_KEY] != NULL) +
                      (v[SBPROV_AZURE_CS_SHARED_ACCESS_SIGNATURE] != NULL) + (v[SBPROV_AZURE_CS_X509] != NULL);

    if (v[SBPROV_AZURE_CS_HOST_NAME] == NULL)
        return sbprov__fail(SBPROV_ECONNSTR, "HostName: required");
    if (v[SBPROV_AZURE_CS_DEVICE_ID] == NULL) {
        if (v[SBPROV_AZURE_CS_MODULE_ID] != NULL)
            return sbprov__fail(SBPROV_ECONNSTR, "ModuleId: needs a DeviceId");
        if (v[SBPROV_AZURE_CS_GATEWAY_HOST_NAME] != NULL)
            return sbprov__fail(SBPROV_ECONNSTR, "GatewayHostName: only device connection strings have one");
        if (v[SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME] == NULL)
            return sbprov__fail(SBPROV_ECONNSTR,
                                "DeviceId: required (or SharedAccessKeyName for a service connection string)");
        if (v[SBPROV_AZURE_CS_SHARED_ACCESS_KEY] == NULL)
            return sbprov__fail(SBPROV_ECONNSTR, "SharedAccessKey: required with SharedAccessKeyName");
    } else if (v[SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME] != NULL) {
        return sbprov__fail(SBPROV_ECONNSTR,
                            "SharedAccessKeyName: a policy name does not go with DeviceId (service strings have no "
                            "DeviceId)");
    }
    if (credentials == 0)
        return sbprov__fail(SBPROV_ECONNSTR, "SharedAccessKey: required (or SharedAccessSignature, or x509=true)");
    if (credentials > 1)
        return sbprov__fail(SBPROV_ECONNSTR, "%s: contradicts %s; give exactly one credential",
                            v[SBPROV_AZURE_CS_X509] != NULL ? "x509" : "SharedAccessSignature",
                            v[SBPROV_AZURE_CS_SHARED_ACCESS_KEY] != NULL ? "SharedAccessKey"
                                                                          : "SharedAccessSignature");
    return SBPROV_OK;
}

/* An unknown field is named only when it is a known name in the wrong case:
 * anything else may be a key pasted without its "SharedAccessKey=" and must
 * not be echoed into logs. */
static sbprov_result unknown_field(const char *name, size_t len, size_t pos)
{
    for (int i = 0; i < FIELD_COUNT; i++)
        if (strlen(field_names[i]) == len && strncasecmp(field_names[i], name, len) == 0)
            return sbprov__fail(SBPROV_ECONNSTR, "unknown field '%.*s' (names are case-sensitive: %s)", (int)len,
                                name, field_names[i]);
    return sbprov__fail(SBPROV_ECONNSTR,
                        "unknown field at position %zu (not shown, it may be a secret); fields are HostName, "
                        "DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, "
                        "GatewayHostName, x509",
                        pos + 1);
}

sbprov_result sbprov_azure_connstr_parse(sbprov_azure_connstr **out, const char *s, size_t len)
{
    sbprov_azure_connstr *cs = NULL;
    sbprov_result rc = SBPROV_OK;
    size_t start = 0;

    if (out == NULL || (s == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_connstr_parse: NULL argument");
    *out = NULL;
    if (len == 0)
        return sbprov__fail(SBPROV_ECONNSTR, "connection string is empty");
    if (memchr(s, '\0', len) != NULL)
        return sbprov__fail(SBPROV_ECONNSTR, "connection string contains a NUL byte");
    if ((rc = sbprov_azure_connstr_new(&cs)) != SBPROV_OK)
        return rc;

    while (start <= len) {
        const char *seg = s + start;
        const char *semi = memchr(seg, ';', len - start);
        size_t seg_len = semi != NULL ? (size_t)(semi - seg) : len - start;
        const char *eq = memchr(seg, '=', seg_len);
        char *value;
        int field;

        if (seg_len == 0) {
            rc = sbprov__fail(SBPROV_ECONNSTR, "empty field at position %zu (stray ';')", start + 1);
            break;
        }
        if (eq == NULL) {
            rc = sbprov__fail(SBPROV_ECONNSTR, "field at position %zu has no '=' (expected Key=Value)", start + 1);
            break;
        }
        field = field_index(seg, (size_t)(eq - seg));
        if (field < 0) {
            rc = unknown_field(seg, (size_t)(eq - seg), start);
            break;
        }
        if (cs->values[field] != NULL) {
            rc = sbprov__fail(SBPROV_ECONNSTR, "%s: given twice", field_names[field]);
            break;
        }
        value = strndup(eq + 1, seg_len - (size_t)(eq - seg) - 1);
        if (value == NULL) {
            rc = sbprov__fail(SBPROV_ENOMEM, "out of memory parsing a connection string");
            break;
        }
        rc = check_value(field, value);
        cs->values[field] = value; /* owned by cs either way, so it is cleansed */
        if (rc != SBPROV_OK)
            break;
        if (semi == NULL)
            break;
        start += seg_len + 1;
    }
    if (rc == SBPROV_OK)
        rc = check_combination(cs);
    if (rc != SBPROV_OK) {
        sbprov_azure_connstr_free(cs);
        return rc;
    }
    *out = cs;
    return SBPROV_OK;
}

sbprov_result sbprov_azure_connstr_build(char *buf, size_t buf_size, size_t *out_len,
                                         const sbprov_azure_connstr *cs)
{
    sbprov__text text;
    sbprov_result rc;
    int first = 1;

    if (buf == NULL || cs == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_connstr_build: NULL argument");
    if ((rc = check_combination(cs)) != SBPROV_OK)
        return rc;
    sbprov__text_init(&text, buf, buf_size);
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (cs->values[i] == NULL)
            continue;
        if (!first)
            sbprov__text_append(&text, ";", 1);
        first = 0;
        sbprov__text_append_str(&text, field_names[i]);
        sbprov__text_append(&text, "=", 1);
        sbprov__text_append_str(&text, cs->values[i]);
    }
    return sbprov__text_finish(&text, out_len);
}
