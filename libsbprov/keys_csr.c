/* PKCS#10 certificate signing requests for a device key: CN = the device ID,
 * optional subjectAltName, signed in the provider that holds the key. */
#include "keys_internal.h"

#include "error.h"
#include "ossl_error.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#define CN_MAX 64
#define SANS_MAX 4096
#define SAN_COUNT_MAX 64
#define DNS_MAX 253

static const char csr_label[] = "CERTIFICATE REQUEST";

static sbprov_result check_common_name(const char *cn)
{
    size_t n = strlen(cn);

    if (n == 0)
        return sbprov__fail(SBPROV_EID, "common name: empty");
    if (n > CN_MAX)
        return sbprov__fail(SBPROV_EID, "common name: %zu characters; at most %d", n, CN_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)cn[i];
        if (c < 0x20 || c > 0x7e)
            return sbprov__fail(SBPROV_EID, "common name: byte 0x%02x at position %zu is not printable ASCII", c, i);
    }
    return SBPROV_OK;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Host name: labels of letters, digits, '-' and '_' (1..63 each) separated
 * by dots; with `wildcard`, "*." may start it. Returns a reason or NULL. */
static const char *dns_problem(const char *s, size_t n, int wildcard)
{
    size_t label = 0;

    if (n > DNS_MAX)
        return "longer than 253 characters";
    if (wildcard && n > 2 && s[0] == '*' && s[1] == '.')
        s += 2, n -= 2;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return "empty label";
            label = 0;
        } else if (is_alnum(c) || c == '-' || c == '_') {
            if (++label > 63)
                return "a label longer than 63 characters";
        } else {
            return "a character other than letters, digits, '-', '_' and '.'";
        }
    }
    return label == 0 ? "empty label" : NULL;
}

/* URI: a scheme, ':', and characters RFC 3986 allows (no spaces). */
static const char *uri_problem(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return "no scheme (as in 'urn:...' or 'https://...')";
    while (i < n && (is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == n || s[i] != ':' || i + 1 == n)
        return "no scheme (as in 'urn:...' or 'https://...')";
    for (; i < n; i++)
        if (!is_alnum(s[i]) && strchr("-._~:/?#[]@!$&'()*+;=%", s[i]) == NULL)
            return "a character a URI may not hold (percent-encode it)";
    return NULL;
}

static const char *email_problem(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    size_t local;

    if (at == NULL || at == s || at == s + n - 1)
        return "not local@domain";
    local = (size_t)(at - s);
    for (size_t i = 0; i < local; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '@' || s[i] == '"' || s[i] == '\\')
            return "a character an address may not hold";
    return dns_problem(at + 1, n - local - 1, 0);
}

/* Parse one "TYPE:value" item into a GeneralName. */
static sbprov_result parse_san(GENERAL_NAME **out, const char *item, size_t n, int index)
{
    static const struct {
        const char *prefix;
        int type;
    } types[] = { { "DNS:", GEN_DNS }, { "IP:", GEN_IPADD }, { "URI:", GEN_URI }, { "email:", GEN_EMAIL } };
    unsigned char ip[16];
    char text[DNS_MAX + 1];
    const char *value = NULL, *problem = NULL;
    size_t vlen = 0;
    int type = -1, ip_len = 0;
    GENERAL_NAME *gn;

    *out = NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t plen = strlen(types[i].prefix);
        if (n >= plen && memcmp(item, types[i].prefix, plen) == 0) {
            type = types[i].type;
            value = item + plen;
            vlen = n - plen;
            break;
        }
    }
    if (type < 0)
        return sbprov__fail(SBPROV_EID,
                            "subject alternative name %d ('%.*s'): unknown type; use DNS:, IP:, URI: or email:", index,
                            (int)(n > 40 ? 40 : n), item);
    if (vlen == 0)
        return sbprov__fail(SBPROV_EID, "subject alternative name %d ('%.*s'): empty value", index, (int)n, item);
    for (size_t i = 0; i < vlen; i++)
        if ((unsigned char)value[i] <= 0x20 || (unsigned char)value[i] >= 0x7f)
            return sbprov__fail(SBPROV_EID,
                                "subject alternative name %d: byte 0x%02x at position %zu is not printable ASCII "
                                "(or is a space)",
                                index, (unsigned char)value[i], i);
    switch (type) {
    case GEN_DNS: problem = dns_problem(value, vlen, 1); break;
    case GEN_URI: problem = uri_problem(value, vlen); break;
    case GEN_EMAIL: problem = email_problem(value, vlen); break;
    case GEN_IPADD:
        if (vlen >= sizeof text) {
            problem = "not an IPv4 or IPv6 address";
            break;
        }
        memcpy(text, value, vlen);
        text[vlen] = '\0';
        if (inet_pton(AF_INET, text, ip) == 1)
            ip_len = 4;
        else if (inet_pton(AF_INET6, text, ip) == 1)
            ip_len = 16;
        else
            problem = "not an IPv4 or IPv6 address";
        break;
    }
    if (problem != NULL)
        return sbprov__fail(SBPROV_EID, "subject alternative name %d ('%.*s'): %s", index, (int)(n > 80 ? 80 : n),
                            item, problem);

    if ((gn = GENERAL_NAME_new()) == NULL)
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for a subject alternative name");
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (s == NULL || (type == GEN_IPADD ? ASN1_OCTET_STRING_set(s, ip, ip_len)
                                        : ASN1_STRING_set(s, value, (int)vlen)) != 1) {
        ASN1_STRING_free(s);
        GENERAL_NAME_free(gn);
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for a subject alternative name");
    }
    GENERAL_NAME_set0_value(gn, type, s);
    *out = gn;
    return SBPROV_OK;
}

/* Validate the comma-separated list and add it as a subjectAltName. */
static sbprov_result add_sans(X509_REQ *req, const char *sans)
{
    GENERAL_NAMES *gens = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_EXTENSION *ext = NULL;
    const char *p = sans;
    size_t total = strlen(sans);
    int index = 0;
    sbprov_result rc;

    if (total == 0)
        return sbprov__fail(SBPROV_EID, "subject alternative names: empty (pass NULL for none)");
    if (total > SANS_MAX)
        return sbprov__fail(SBPROV_EID, "subject alternative names: %zu characters; at most %d", total, SANS_MAX);
    if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
        return sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for subject alternative names");
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        GENERAL_NAME *gn = NULL;
        index++;
        /* OpenSSL's syntax allows spaces after the commas. */
        while (n > 0 && *p == ' ')
            p++, n--;
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0) {
            rc = sbprov__fail(SBPROV_EID, "subject alternative name %d: empty item", index);
            goto out;
        }
        if (index > SAN_COUNT_MAX) {
            rc = sbprov__fail(SBPROV_EID, "subject alternative names: more than %d", SAN_COUNT_MAX);
            goto out;
        }
        if ((rc = parse_san(&gn, p, n, index)) != SBPROV_OK)
            goto out;
        if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
            GENERAL_NAME_free(gn);
            rc = sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for subject alternative names");
            goto out;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
        (exts = sk_X509_EXTENSION_new_null()) == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0) {
        rc = sbprov__fail_ossl(SBPROV_ENOMEM, "encoding the subjectAltName extension failed");
        goto out;
    }
    ext = NULL; /* owned by exts */
    if (X509_REQ_add_extensions(req, exts) != 1) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "adding the subjectAltName extension failed");
        goto out;
    }
    rc = SBPROV_OK;
out:
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(gens);
    return rc;
}

sbprov_result sbprov_key_csr(char *buf, size_t buf_size, size_t *out_len, const sbprov_key *key,
                             const char *common_name, const char *sans)
{
    X509_REQ *req = NULL;
    X509_NAME *subject = NULL;
    EVP_MD_CTX *mdctx = NULL;
    unsigned char *der = NULL;
    int der_len;
    size_t max_der;
    sbprov__text text;
    sbprov_result rc;

    if (buf == NULL || key == NULL || common_name == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_csr: NULL argument");
    if ((rc = check_common_name(common_name)) != SBPROV_OK)
        return rc;
    if (key->priv == NULL)
        return sbprov__fail(SBPROV_EKEY, "CSR: the key is public only and cannot sign");

    if ((req = X509_REQ_new()) == NULL || (subject = X509_NAME_new()) == NULL ||
        (mdctx = EVP_MD_CTX_new()) == NULL) {
        rc = sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for a CSR");
        goto out;
    }
    if (X509_REQ_set_version(req, 0L) != 1 ||
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) != 1 ||
        X509_REQ_set_subject_name(req, subject) != 1 || X509_REQ_set_pubkey(req, key->pub) != 1) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "building the CSR failed");
        goto out;
    }
    if (sans != NULL && (rc = add_sans(req, sans)) != SBPROV_OK)
        goto out;
    /* keys.h lists no SBPROV_EPROVIDER for CSRs: a provider's failure to sign
     * is SBPROV_ECRYPTO here, its detail naming the property query. */
    if ((rc = sbprov__key_sign_init(mdctx, key, "CSR")) != SBPROV_OK) {
        if (rc == SBPROV_EPROVIDER) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", sbprov_last_error());
            rc = sbprov__fail(SBPROV_ECRYPTO, "%s", detail);
        }
        goto out;
    }
    if (X509_REQ_sign_ctx(req, mdctx) <= 0) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "CSR: signing failed (property query '%s')",
                               key->propquery != NULL ? key->propquery : "");
        goto out;
    }
    if ((der_len = i2d_X509_REQ(req, &der)) <= 0) {
        rc = sbprov__fail_ossl(SBPROV_ECRYPTO, "CSR: encoding failed");
        goto out;
    }
    /* An ECDSA signature may come out shorter than its maximum; a retry after
     * SBPROV_EBUFS must fit the longest (+1 for a longer outer length). */
    max_der = (size_t)der_len;
    if (key->type == SBPROV_KEY_ECDSA_P256) {
        const ASN1_BIT_STRING *sig = NULL;
        X509_REQ_get0_signature(req, &sig, NULL);
        int sig_len = sig != NULL ? ASN1_STRING_length(sig) : 0;
        if (sig_len < SBPROV__ECDSA_P256_SIG_MAX)
            max_der += (size_t)(SBPROV__ECDSA_P256_SIG_MAX - sig_len) + 1;
    }
    sbprov__text_init(&text, buf, buf_size);
    sbprov__pem_append(&text, csr_label, der, (size_t)der_len);
    rc = sbprov__text_finish(&text, out_len);
    if (rc == SBPROV_EBUFS)
        rc = sbprov__buffer_too_small(out_len, buf_size, sbprov__pem_len(csr_label, max_der) + 1);
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(mdctx);
    X509_NAME_free(subject);
    X509_REQ_free(req);
    ERR_clear_error();
    return rc;
}
