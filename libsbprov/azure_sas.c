/* SAS tokens and the resource URIs they are signed for (reference/azure.md 2). */
#include "sbprov/azure.h"

#include "azure_ids.h"
#include "base64.h"
#include "error.h"
#include "hmac.h"
#include "text.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

sbprov_result sbprov_azure_url_encode(char *buf, size_t buf_size, size_t *out_len, const void *data, size_t len)
{
    sbprov__text text;

    if (buf == NULL || (data == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_url_encode: NULL argument");
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append_url_encoded(&text, data, len);
    return sbprov__text_finish(&text, out_len);
}

static sbprov_result check_resource_uri(const char *uri)
{
    size_t len = strlen(uri);

    if (len == 0)
        return sbprov__fail(SBPROV_EID, "resource URI: empty");
    if (len > SBPROV_AZURE_RESOURCE_URI_MAX_LEN)
        return sbprov__fail(SBPROV_EID, "resource URI: %zu bytes, at most %d allowed", len,
                            SBPROV_AZURE_RESOURCE_URI_MAX_LEN);
    if (strstr(uri, "://") != NULL)
        return sbprov__fail(SBPROV_EID, "resource URI: must not contain a scheme (use host/path, not https://...)");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c < 0x21 || c == 0x7f)
            return sbprov__fail(SBPROV_EID, "resource URI: control character or space (0x%02x) at position %zu", c,
                                i + 1);
    }
    return SBPROV_OK;
}

struct sbprov_azure_sas_signer {
    sbprov__hmac *hmac;
};

sbprov_result sbprov_azure_sas_signer_new(sbprov_azure_sas_signer **out, const char *key, size_t key_len)
{
    sbprov_azure_sas_signer *signer;
    sbprov_result rc;

    if (out == NULL || key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_sas_signer_new: NULL argument");
    *out = NULL;
    signer = calloc(1, sizeof *signer);
    if (signer == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for a SAS signer");
    if ((rc = sbprov__hmac_new_b64(&signer->hmac, key, key_len, "key")) != SBPROV_OK) {
        free(signer);
        return rc;
    }
    *out = signer;
    return SBPROV_OK;
}

void sbprov_azure_sas_signer_free(sbprov_azure_sas_signer *signer)
{
    if (signer == NULL)
        return;
    sbprov__hmac_free(signer->hmac);
    free(signer);
}

/* Checks shared by both token functions, before any key is touched. */
static sbprov_result check_token_inputs(const char *resource_uri, const char *policy, int64_t expiry, int64_t now)
{
    sbprov_result rc;

    if (expiry < SBPROV_AZURE_SAS_EXPIRY_MIN)
        return sbprov__fail(SBPROV_EEXPIRY,
                            "expiry %lld is before 2020-01-01 (%d): is the clock set, and is it in seconds?",
                            (long long)expiry, SBPROV_AZURE_SAS_EXPIRY_MIN);
    if (now != 0 && expiry <= now)
        return sbprov__fail(SBPROV_EEXPIRY, "expiry %lld is not after now (%lld): the token would be expired",
                            (long long)expiry, (long long)now);
    if ((rc = check_resource_uri(resource_uri)) != SBPROV_OK)
        return rc;
    if (policy != NULL && (rc = sbprov__check_policy_name(policy, "policy name")) != SBPROV_OK)
        return rc;
    return SBPROV_OK;
}

sbprov_result sbprov_azure_sas_signer_token(char *buf, size_t buf_size, size_t *out_len,
                                            sbprov_azure_sas_signer *signer, const char *resource_uri,
                                            const char *policy, int64_t expiry, int64_t now)
{
    /* Room for the longest encoded URI, "\n" and a 20-digit expiry. */
    char to_sign[3 * SBPROV_AZURE_RESOURCE_URI_MAX_LEN + 24];
    char sig_b64[SBPROV__BASE64_LEN(SBPROV__SHA256_LEN) + 1];
    uint8_t mac[SBPROV__SHA256_LEN];
    size_t sr_len;
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL || signer == NULL || resource_uri == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_sas_signer_token: NULL argument");
    if ((rc = check_token_inputs(resource_uri, policy, expiry, now)) != SBPROV_OK)
        return rc;

    /* string to sign = url_encode(uri) "\n" expiry; sr is exactly its first
     * part and the token's se is exactly its last. */
    sbprov__text_init(&text, to_sign, sizeof to_sign);
    sbprov__text_append_url_encoded(&text, resource_uri, strlen(resource_uri));
    sr_len = text.len;
    sbprov__text_append(&text, "\n", 1);
    sbprov__text_append_i64(&text, expiry);
    if (text.len >= sizeof to_sign) /* impossible: the URI length was checked */
        return sbprov__fail(SBPROV_ERROR, "internal: string to sign does not fit");

    if ((rc = sbprov__hmac_sha256(signer->hmac, to_sign, text.len, mac)) != SBPROV_OK)
        return rc;
    sbprov__base64_encode(sig_b64, mac, sizeof mac);
    OPENSSL_cleanse(mac, sizeof mac);

    size_t sign_len = text.len;
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append(&text, "SharedAccessSignature sr=", 25);
    sbprov__text_append(&text, to_sign, sr_len);
    sbprov__text_append(&text, "&sig=", 5);
    sbprov__text_append_url_encoded(&text, sig_b64, SBPROV__BASE64_LEN(SBPROV__SHA256_LEN));
    sbprov__text_append(&text, "&se=", 4);
    sbprov__text_append(&text, to_sign + sr_len + 1, sign_len - sr_len - 1);
    if (policy != NULL) {
        sbprov__text_append(&text, "&skn=", 5);
        sbprov__text_append_str(&text, policy);
    }
    return sbprov__text_finish(&text, out_len);
}

sbprov_result sbprov_azure_sas_token(char *buf, size_t buf_size, size_t *out_len, const char *resource_uri,
                                     const char *key, size_t key_len, const char *policy, int64_t expiry,
                                     int64_t now)
{
    sbprov_azure_sas_signer *signer = NULL;
    sbprov_result rc;

    if (buf == NULL || resource_uri == NULL || key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_sas_token: NULL argument");
    /* Refuse bad inputs before decoding the key, so they are reported first. */
    if ((rc = check_token_inputs(resource_uri, policy, expiry, now)) != SBPROV_OK)
        return rc;
    if ((rc = sbprov_azure_sas_signer_new(&signer, key, key_len)) != SBPROV_OK)
        return rc;
    rc = sbprov_azure_sas_signer_token(buf, buf_size, out_len, signer, resource_uri, policy, expiry, now);
    sbprov_azure_sas_signer_free(signer);
    return rc;
}

/* Shared by the device and module URI builders; module_id NULL means a device. */
static sbprov_result hub_uri(char *buf, size_t buf_size, size_t *out_len, const char *hostname,
                             const char *device_id, const char *module_id)
{
    sbprov__text text;
    sbprov_result rc;

    if ((rc = sbprov__check_hostname(hostname, "host name")) != SBPROV_OK ||
        (rc = sbprov__check_device_id(device_id, "device ID")) != SBPROV_OK)
        return rc;
    if (module_id != NULL && (rc = sbprov__check_device_id(module_id, "module ID")) != SBPROV_OK)
        return rc;
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append_str(&text, hostname);
    sbprov__text_append_str(&text, "/devices/");
    sbprov__text_append_url_encoded(&text, device_id, strlen(device_id));
    if (module_id != NULL) {
        sbprov__text_append_str(&text, "/modules/");
        sbprov__text_append_url_encoded(&text, module_id, strlen(module_id));
    }
    return sbprov__text_finish(&text, out_len);
}

sbprov_result sbprov_azure_hub_device_uri(char *buf, size_t buf_size, size_t *out_len, const char *hostname,
                                          const char *device_id)
{
    if (buf == NULL || hostname == NULL || device_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_hub_device_uri: NULL argument");
    return hub_uri(buf, buf_size, out_len, hostname, device_id, NULL);
}

sbprov_result sbprov_azure_hub_module_uri(char *buf, size_t buf_size, size_t *out_len, const char *hostname,
                                          const char *device_id, const char *module_id)
{
    if (buf == NULL || hostname == NULL || device_id == NULL || module_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_hub_module_uri: NULL argument");
    return hub_uri(buf, buf_size, out_len, hostname, device_id, module_id);
}

sbprov_result sbprov_azure_dps_registration_uri(char *buf, size_t buf_size, size_t *out_len,
                                                const char *id_scope, const char *registration_id)
{
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL || id_scope == NULL || registration_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_dps_registration_uri: NULL argument");
    if ((rc = sbprov__check_id_scope(id_scope, "ID scope")) != SBPROV_OK ||
        (rc = sbprov__check_registration_id(registration_id, "registration ID")) != SBPROV_OK)
        return rc;
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append_str(&text, id_scope);
    sbprov__text_append_str(&text, "/registrations/");
    sbprov__text_append_str(&text, registration_id);
    return sbprov__text_finish(&text, out_len);
}
