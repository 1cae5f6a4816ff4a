/* Store entries on disk: a fixed header, the value sealed with AES-256-GCM
 * (or in plaintext mode the value and a checksum), and a 16-byte tag. The
 * header and the entry name are the associated data, so an entry that is
 * modified, truncated, moved to another name or written with another key
 * fails authentication. Format: docs/store-format.md. */
#include "store_internal.h"

#include "aead.h"
#include "digest.h"
#include "error.h"
#include "ossl_error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t entry_magic[4] = {'S', 'B', 'P', 'S'};

#define MODE_PLAINTEXT 0
#define MODE_AES256GCM 1
#define NONCE_OFF 12
#define NONCE_LEN 12

sbprov_result sbprov__store_check_name(const char *name)
{
    size_t n;

    if (name == NULL)
        return sbprov__fail(SBPROV_EINVAL, "entry name: NULL");
    for (n = 0; name[n] != '\0'; n++) {
        unsigned char c = (unsigned char)name[n];
        if (n >= SBPROV_STORE_NAME_MAX)
            return sbprov__fail(SBPROV_EID, "entry name: longer than %d characters", SBPROV_STORE_NAME_MAX);
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return sbprov__fail(SBPROV_EID, "entry name '%.*s': character 0x%02x at position %zu is not allowed "
                                "(only A-Z a-z 0-9 . _ -)", (int)n, name, c, n);
    }
    if (n == 0)
        return sbprov__fail(SBPROV_EID, "entry name: empty");
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return sbprov__fail(SBPROV_EID, "entry name '%s': not allowed", name);
    return SBPROV_OK;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Plaintext mode's integrity check: SHA-256(name NUL header value), first 16
 * bytes. It detects corruption, truncation and swapped entries, not forgery. */
static sbprov_result plain_tag(uint8_t tag[SBPROV__ENTRY_TAG], const char *name, const uint8_t *hdr,
                               const uint8_t *value, size_t len)
{
    uint8_t md[SBPROV__SHA256_LEN];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, sbprov__sha256_md(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, name, strlen(name) + 1) == 1 &&
             EVP_DigestUpdate(ctx, hdr, SBPROV__ENTRY_HDR) == 1 && EVP_DigestUpdate(ctx, value, len) == 1 &&
             EVP_DigestFinal_ex(ctx, md, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return sbprov__fail_ossl(SBPROV_ECRYPTO, "entry '%s': SHA-256 failed", name);
    memcpy(tag, md, SBPROV__ENTRY_TAG);
    return SBPROV_OK;
}

/* AES-256-GCM over `in` with AAD = header || name; decrypts (checking `tag`) when `decrypt` is set. */
static sbprov_result gcm(uint8_t *out, const sbprov_store *s, const char *name, const uint8_t *hdr,
                         const uint8_t *in, size_t len, uint8_t *tag, int decrypt)
{
    char what[SBPROV_STORE_NAME_MAX + 16];
    sbprov_result rc;

    snprintf(what, sizeof what, "entry '%s'", name);
    rc = sbprov__aes256gcm(out, s->key, hdr + NONCE_OFF, hdr, SBPROV__ENTRY_HDR, name, strlen(name), in, len, tag,
                           decrypt, what);
    if (rc == SBPROV_ETAMPERED)
        return sbprov__fail(SBPROV_ETAMPERED, "entry '%s': authentication failed (modified, truncated, moved from "
                            "another name, or sealed with another key)", name);
    return rc;
}

sbprov_result sbprov__entry_seal(uint8_t **out, size_t *out_len, const sbprov_store *s, const char *name,
                                 const void *value, size_t len)
{
    size_t total = SBPROV__ENTRY_HDR + len + SBPROV__ENTRY_TAG;
    uint8_t *blob = calloc(1, total);
    sbprov_result rc;

    if (blob == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "entry '%s': out of memory", name);
    memcpy(blob, entry_magic, 4);
    blob[4] = SBPROV__STORE_FORMAT;
    blob[5] = s->plaintext ? MODE_PLAINTEXT : MODE_AES256GCM;
    put_be32(blob + 8, (uint32_t)len);
    if (s->plaintext) {
        if (len > 0)
            memcpy(blob + SBPROV__ENTRY_HDR, value, len);
        rc = plain_tag(blob + SBPROV__ENTRY_HDR + len, name, blob, value, len);
    } else if (RAND_bytes(blob + NONCE_OFF, NONCE_LEN) != 1) {
        rc = sbprov__fail_ossl(SBPROV_ERANDOM, "entry '%s': no random nonce", name);
    } else {
        rc = gcm(blob + SBPROV__ENTRY_HDR, s, name, blob, value, len, blob + SBPROV__ENTRY_HDR + len, 0);
    }
    if (rc != SBPROV_OK) {
        sbprov__wipe_free(blob, total);
        return rc;
    }
    *out = blob;
    *out_len = total;
    return SBPROV_OK;
}

sbprov_result sbprov__entry_open(uint8_t **out, size_t *out_len, const sbprov_store *s, const char *name,
                                 const uint8_t *blob, size_t blob_len)
{
    uint8_t tag[SBPROV__ENTRY_TAG];
    uint8_t *value;
    size_t len;
    sbprov_result rc;

    if (blob_len < 6 || memcmp(blob, entry_magic, 4) != 0)
        return sbprov__fail(SBPROV_ETAMPERED, "entry '%s': not a store entry (bad magic or %zu bytes only)", name,
                            blob_len);
    if (blob[4] != SBPROV__STORE_FORMAT)
        return sbprov__fail(blob[4] > SBPROV__STORE_FORMAT ? SBPROV_EFORMAT : SBPROV_ETAMPERED,
                            "entry '%s': format version %u, this library reads version %d", name, blob[4],
                            SBPROV__STORE_FORMAT);
    if (blob_len < SBPROV__ENTRY_HDR + SBPROV__ENTRY_TAG)
        return sbprov__fail(SBPROV_ETAMPERED, "entry '%s': truncated (%zu bytes)", name, blob_len);
    if (blob[5] != (s->plaintext ? MODE_PLAINTEXT : MODE_AES256GCM) || blob[6] != 0 || blob[7] != 0)
        return sbprov__fail(SBPROV_ETAMPERED, "entry '%s': mode %u does not match the store's (%s)", name,
                            blob[5], s->plaintext ? "plaintext" : "encrypted");
    len = get_be32(blob + 8);
    if (len > SBPROV_STORE_VALUE_MAX || blob_len != SBPROV__ENTRY_HDR + len + SBPROV__ENTRY_TAG)
        return sbprov__fail(SBPROV_ETAMPERED, "entry '%s': truncated or extended (%zu bytes for a %zu-byte value)",
                            name, blob_len, len);
    value = malloc(len + 1);
    if (value == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "entry '%s': out of memory", name);
    if (s->plaintext) {
        rc = plain_tag(tag, name, blob, blob + SBPROV__ENTRY_HDR, len);
        if (rc == SBPROV_OK && CRYPTO_memcmp(tag, blob + SBPROV__ENTRY_HDR + len, SBPROV__ENTRY_TAG) != 0)
            rc = sbprov__fail(SBPROV_ETAMPERED, "entry '%s': checksum mismatch (modified, truncated or moved from "
                              "another name)", name);
        if (rc == SBPROV_OK && len > 0)
            memcpy(value, blob + SBPROV__ENTRY_HDR, len);
    } else {
        memcpy(tag, blob + SBPROV__ENTRY_HDR + len, SBPROV__ENTRY_TAG);
        rc = gcm(value, s, name, blob, blob + SBPROV__ENTRY_HDR, len, tag, 1);
    }
    if (rc != SBPROV_OK) {
        sbprov__wipe_free(value, len + 1);
        return rc;
    }
    value[len] = '\0';
    *out = value;
    *out_len = len;
    return SBPROV_OK;
}
