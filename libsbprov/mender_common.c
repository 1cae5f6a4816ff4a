/* Helpers shared by the Mender clients: server URLs, IDs, tokens and their
 * claims. */
#include "mender_internal.h"

#include "base64.h"
#include "error.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sbprov_result sbprov__mender_check_id(const char *id, const char *what)
{
    size_t n;
    if (id == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-");
    if (n == 0 || id[n] != '\0' || n > SBPROV__MENDER_ID_MAX)
        return sbprov__fail(SBPROV_EINVAL, "%s: '%.*s' is not an ID (1 to %d of A-Z a-z 0-9 . _ ~ -)", what, 80,
                            id, SBPROV__MENDER_ID_MAX);
    return SBPROV_OK;
}

sbprov_result sbprov__mender_take_token(char **out, size_t *out_len, const char *body, size_t len,
                                        const char *what)
{
    size_t i;

    *out = NULL;
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
        len--;
    if (len == 0)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the answer holds no token", what);
    if (len > SBPROV__MENDER_TOKEN_MAX)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the token is longer than %d bytes", what,
                            SBPROV__MENDER_TOKEN_MAX);
    for (i = 0; i < len; i++)
        if (body[i] <= 0x20 || body[i] >= 0x7f)
            return sbprov__fail(SBPROV_ERESPONSE, "%s: the token holds byte 0x%02x at %zu (not printable ASCII)",
                                what, (unsigned char)body[i], i);
    if ((*out = malloc(len + 1)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    memcpy(*out, body, len);
    (*out)[len] = '\0';
    *out_len = len;
    return SBPROV_OK;
}

/* Decode one Base64url part (no padding) into a malloc'd, NUL-terminated buffer. */
static sbprov_result b64url_decode(char **out, const char *s, size_t len, const char *what)
{
    size_t padded = (len + 3) / 4 * 4, i, got = 0;
    char *std = malloc(padded + 1);
    uint8_t *dec = malloc(SBPROV__BASE64_DECODED_MAX(padded) + 1);
    sbprov_result rc;

    if (std == NULL || dec == NULL) {
        free(std);
        free(dec);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory", what);
    }
    for (i = 0; i < len; i++)
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i] == '+' || s[i] == '/' || s[i] == '=' ? '!' : s[i];
    for (; i < padded; i++)
        std[i] = '=';
    rc = len % 4 == 1 ? SBPROV_EBASE64 : sbprov__base64_decode(dec, &got, std, padded, what);
    free(std);
    if (rc != SBPROV_OK) {
        free(dec);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the token is not a JWT (a part is not Base64url)", what);
    }
    dec[got] = '\0';
    *out = (char *)dec;
    return SBPROV_OK;
}

sbprov_result sbprov__jwt_claims(int64_t *exp, char *sub, size_t sub_size, const char *jwt, size_t len,
                                 const char *what)
{
    const char *dot1 = memchr(jwt, '.', len), *dot2;
    char *payload = NULL;
    cJSON *claims, *e, *s;
    sbprov_result rc;

    *exp = 0;
    sub[0] = '\0';
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
    if (dot1 == NULL || dot2 == NULL || dot1 == jwt || dot2 == dot1 + 1 ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt)) != NULL)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the token is not a JWT (three dot-separated parts)", what);
    if ((rc = b64url_decode(&payload, dot1 + 1, (size_t)(dot2 - dot1 - 1), what)) != SBPROV_OK)
        return rc;
    claims = cJSON_Parse(payload);
    free(payload);
    if (!cJSON_IsObject(claims)) {
        cJSON_Delete(claims);
        return sbprov__fail(SBPROV_ERESPONSE, "%s: the token's claims are not a JSON object", what);
    }
    e = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    s = cJSON_GetObjectItemCaseSensitive(claims, "sub");
    if (e != NULL && (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 253402300799.0))
        rc = sbprov__fail(SBPROV_ERESPONSE, "%s: the token's exp claim is not a time", what);
    else if (s != NULL && (!cJSON_IsString(s) || strlen(s->valuestring) >= sub_size))
        rc = sbprov__fail(SBPROV_ERESPONSE, "%s: the token's sub claim is not a device ID", what);
    else {
        if (e != NULL)
            *exp = (int64_t)e->valuedouble;
        if (s != NULL)
            strcpy(sub, s->valuestring);
    }
    cJSON_Delete(claims);
    return rc;
}

sbprov_result sbprov__mender_id_from_location(char *out, size_t size, const char *location, const char *what)
{
    const char *slash, *id;
    size_t n;

    if (location == NULL)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: 201 without a Location header", what);
    n = strcspn(location, "?#");
    for (slash = NULL, id = location; id < location + n; id++)
        if (*id == '/')
            slash = id;
    id = slash != NULL ? slash + 1 : location;
    n -= (size_t)(id - location);
    if (n == 0 || n >= size || n > SBPROV__MENDER_ID_MAX ||
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-") < n)
        return sbprov__fail(SBPROV_ERESPONSE, "%s: Location '%.100s' names no device ID", what, location);
    memcpy(out, id, n);
    out[n] = '\0';
    return SBPROV_OK;
}


sbprov_result sbprov__mender_identity_json(char **out, const sbprov_identity *identity)
{
    char probe[1];
    size_t need = 0;
    sbprov_result rc = sbprov_identity_canonical_json(probe, sizeof probe, &need, identity);

    *out = NULL;
    if (rc != SBPROV_EBUFS)
        return rc == SBPROV_OK ? sbprov__fail(SBPROV_EID, "mender: the identity is empty") : rc;
    if ((*out = malloc(need)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "mender: out of memory");
    if ((rc = sbprov_identity_canonical_json(*out, need, NULL, identity)) != SBPROV_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

sbprov_result sbprov__mender_public_pem(char **out, const sbprov_key *key)
{
    char probe[1];
    size_t need = 0;
    sbprov_result rc = sbprov_key_public_pem(probe, sizeof probe, &need, key);

    *out = NULL;
    if (rc != SBPROV_EBUFS)
        return rc == SBPROV_OK ? sbprov__fail(SBPROV_EKEY, "mender: the key has no public key") : rc;
    if ((*out = malloc(need)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "mender: out of memory");
    if ((rc = sbprov_key_public_pem(*out, need, NULL, key)) != SBPROV_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}
