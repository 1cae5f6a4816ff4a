/* DPS group-enrollment key derivation and random key generation. */
#include "sbprov/azure.h"

#include "azure_ids.h"
#include "base64.h"
#include "error.h"
#include "hmac.h"
#include "text.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct sbprov_azure_deriver {
    sbprov__hmac *hmac;
};

/* Base64 of a 32-byte MAC straight into the caller's buffer. */
static sbprov_result write_mac_b64(char *buf, size_t buf_size, size_t *out_len, const uint8_t mac[32])
{
    if (buf_size < SBPROV_AZURE_DERIVED_KEY_SIZE)
        return sbprov__buffer_too_small(out_len, buf_size, SBPROV_AZURE_DERIVED_KEY_SIZE);
    sbprov__base64_encode(buf, mac, SBPROV__SHA256_LEN);
    if (out_len != NULL)
        *out_len = SBPROV_AZURE_DERIVED_KEY_SIZE - 1;
    return SBPROV_OK;
}

sbprov_result sbprov_azure_deriver_new(sbprov_azure_deriver **out, const char *group_key, size_t group_key_len)
{
    sbprov_azure_deriver *d;
    sbprov_result rc;

    if (out == NULL || group_key == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_deriver_new: NULL argument");
    *out = NULL;
    d = calloc(1, sizeof *d);
    if (d == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for a deriver");
    if ((rc = sbprov__hmac_new_b64(&d->hmac, group_key, group_key_len, "group key")) != SBPROV_OK) {
        free(d);
        return rc;
    }
    *out = d;
    return SBPROV_OK;
}

sbprov_result sbprov_azure_deriver_derive(char *buf, size_t buf_size, size_t *out_len,
                                          sbprov_azure_deriver *deriver, const char *registration_id)
{
    uint8_t mac[SBPROV__SHA256_LEN];
    sbprov_result rc;

    if (buf == NULL || deriver == NULL || registration_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_deriver_derive: NULL argument");
    size_t id_len = 0;
    if ((rc = sbprov__check_registration_id_len(registration_id, &id_len, "registration ID")) != SBPROV_OK)
        return rc;
    if ((rc = sbprov__hmac_sha256(deriver->hmac, registration_id, id_len, mac)) != SBPROV_OK)
        return rc;
    rc = write_mac_b64(buf, buf_size, out_len, mac);
    OPENSSL_cleanse(mac, sizeof mac);
    return rc;
}

void sbprov_azure_deriver_free(sbprov_azure_deriver *deriver)
{
    if (deriver == NULL)
        return;
    sbprov__hmac_free(deriver->hmac);
    free(deriver);
}

sbprov_result sbprov_azure_derive_device_key(char *buf, size_t buf_size, size_t *out_len, const char *group_key,
                                             size_t group_key_len, const char *registration_id)
{
    sbprov_azure_deriver *d = NULL;
    sbprov_result rc;

    if (buf == NULL || group_key == NULL || registration_id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_derive_device_key: NULL argument");
    /* Check the ID before decoding the key so the cheaper mistake is reported
     * without touching key material. */
    if ((rc = sbprov__check_registration_id(registration_id, "registration ID")) != SBPROV_OK)
        return rc;
    if ((rc = sbprov_azure_deriver_new(&d, group_key, group_key_len)) != SBPROV_OK)
        return rc;
    rc = sbprov_azure_deriver_derive(buf, buf_size, out_len, d, registration_id);
    sbprov_azure_deriver_free(d);
    return rc;
}

static sbprov_result check_nbytes(size_t *nbytes)
{
    if (*nbytes == 0)
        *nbytes = SBPROV_AZURE_KEY_DEFAULT_BYTES;
    if (*nbytes < SBPROV_AZURE_KEY_MIN_BYTES || *nbytes > SBPROV_AZURE_KEY_MAX_BYTES)
        return sbprov__fail(SBPROV_EKEYSIZE, "key length %zu bytes: must be %d to %d", *nbytes,
                            SBPROV_AZURE_KEY_MIN_BYTES, SBPROV_AZURE_KEY_MAX_BYTES);
    return SBPROV_OK;
}

sbprov_result sbprov_azure_generate_key(char *buf, size_t buf_size, size_t *out_len, size_t nbytes)
{
    uint8_t raw[SBPROV_AZURE_KEY_MAX_BYTES];
    char b64[SBPROV_AZURE_KEY_B64_SIZE(SBPROV_AZURE_KEY_MAX_BYTES)];
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_generate_key: NULL buffer");
    if ((rc = check_nbytes(&nbytes)) != SBPROV_OK)
        return rc;
    if (buf_size < SBPROV_AZURE_KEY_B64_SIZE(nbytes))
        return sbprov__buffer_too_small(out_len, buf_size, SBPROV_AZURE_KEY_B64_SIZE(nbytes));
    if (RAND_priv_bytes(raw, (int)nbytes) != 1)
        return sbprov__fail(SBPROV_ERANDOM, "OpenSSL's random generator failed");
    sbprov__base64_encode(b64, raw, nbytes);
    sbprov__text_init(&text, buf, buf_size);
    sbprov__text_append(&text, b64, SBPROV__BASE64_LEN(nbytes));
    rc = sbprov__text_finish(&text, out_len);
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(b64, sizeof b64);
    return rc;
}

sbprov_result sbprov_azure_generate_keys(char *primary, size_t primary_size, char *secondary,
                                         size_t secondary_size, size_t *out_len, size_t nbytes)
{
    size_t smaller = primary_size < secondary_size ? primary_size : secondary_size;
    sbprov_result rc;

    if (primary == NULL || secondary == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_azure_generate_keys: NULL buffer");
    if ((rc = check_nbytes(&nbytes)) != SBPROV_OK)
        return rc;
    if (smaller < SBPROV_AZURE_KEY_B64_SIZE(nbytes))
        return sbprov__buffer_too_small(out_len, smaller, SBPROV_AZURE_KEY_B64_SIZE(nbytes));
    if ((rc = sbprov_azure_generate_key(primary, primary_size, out_len, nbytes)) != SBPROV_OK)
        return rc;
    /* Two equal keys would defeat rotation; with >= 128 random bits this loop
     * runs once unless the generator is broken. */
    for (int tries = 0; tries < 4; tries++) {
        if ((rc = sbprov_azure_generate_key(secondary, secondary_size, out_len, nbytes)) != SBPROV_OK)
            break;
        if (strcmp(primary, secondary) != 0)
            return SBPROV_OK;
        rc = sbprov__fail(SBPROV_ERANDOM, "random generator produced the same key twice");
    }
    OPENSSL_cleanse(primary, primary_size);
    OPENSSL_cleanse(secondary, secondary_size);
    return rc;
}
