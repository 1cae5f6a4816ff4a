/* Loading private keys from files and OpenSSL 3 store URIs (TPM, PKCS#11),
 * with optional OpenSSL configuration and providers. */
#include "keys_internal.h"

#include "error.h"
#include "options.h"
#include "ossl_error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOAD_OPTIONS_V1_SIZE sizeof(sbprov_key_load_options)
/* Largest key file read (a PEM key is a few KiB). */
#define KEY_FILE_MAX (1024 * 1024)
/* Same limit as sbprov_key_save(): OpenSSL's prompt buffer. */
#define PASSPHRASE_MAX 1023
/* Objects looked at in one store before giving up. */
#define STORE_OBJECTS_MAX 256
/* Providers and configuration files loaded once per process. */
#define LOADED_MAX 32
#define NAME_MAX_LEN 256

/* Providers and configuration files stay loaded for the life of the process
 * (unloading a provider while a key from it is alive would break the key), and
 * each is loaded once however often sbprov_key_load() names it. The provider
 * handles are kept here so they stay reachable; OpenSSL releases them at exit. */
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char name[NAME_MAX_LEN];
    OSSL_PROVIDER *prov;
} providers_loaded[LOADED_MAX];
static size_t n_providers_loaded;
static char configs_loaded[LOADED_MAX][NAME_MAX_LEN];
static size_t n_configs_loaded;

static sbprov_result load_config(const char *path)
{
    sbprov_result rc = SBPROV_OK;
    size_t i;

    pthread_mutex_lock(&loaded_lock);
    for (i = 0; i < n_configs_loaded; i++)
        if (strcmp(configs_loaded[i], path) == 0)
            break;
    if (i == n_configs_loaded) {
        if (OSSL_LIB_CTX_load_config(NULL, path) != 1)
            rc = sbprov__fail_ossl(SBPROV_EPROVIDER, "OpenSSL configuration '%s' could not be loaded", path);
        else if (n_configs_loaded < LOADED_MAX && strlen(path) < NAME_MAX_LEN)
            /* Past LOADED_MAX a repeated load only costs reference counts. */
            snprintf(configs_loaded[n_configs_loaded++], NAME_MAX_LEN, "%s", path);
    }
    pthread_mutex_unlock(&loaded_lock);
    return rc;
}

static sbprov_result load_provider(const char *name)
{
    sbprov_result rc = SBPROV_OK;
    size_t i;

    pthread_mutex_lock(&loaded_lock);
    for (i = 0; i < n_providers_loaded; i++)
        if (providers_loaded[i].prov != NULL && strcmp(providers_loaded[i].name, name) == 0)
            break;
    if (i == n_providers_loaded) {
        /* retain_fallbacks: naming "tpm2" alone must not switch off the
         * default provider that hashing and verifying rely on. */
        OSSL_PROVIDER *prov = OSSL_PROVIDER_try_load(NULL, name, 1);
        if (prov == NULL) {
            rc = sbprov__fail_ossl(SBPROV_EPROVIDER, "OpenSSL provider '%s' could not be loaded", name);
        } else if (n_providers_loaded < LOADED_MAX) {
            snprintf(providers_loaded[n_providers_loaded].name, NAME_MAX_LEN, "%s", name);
            providers_loaded[n_providers_loaded++].prov = prov;
        }
    }
    pthread_mutex_unlock(&loaded_lock);
    return rc;
}

/* Load each provider of a comma-separated list ("tpm2,default"). */
static sbprov_result load_providers(const char *list)
{
    char name[NAME_MAX_LEN];
    const char *p = list;
    sbprov_result rc;

    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        while (n > 0 && *p == ' ')
            p++, n--;
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0)
            return sbprov__fail(SBPROV_EINVAL, "providers '%s': empty name in the list", list);
        if (n >= sizeof name)
            return sbprov__fail(SBPROV_EINVAL, "providers: a name of %zu characters is too long", n);
        memcpy(name, p, n);
        name[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
                return sbprov__fail(SBPROV_EINVAL, "providers: control character in '%s'", list);
        if ((rc = load_provider(name)) != SBPROV_OK)
            return rc;
        if (end == NULL)
            return SBPROV_OK;
        p = end + 1;
    }
}

/* A store URI starts with a scheme (RFC 3986: ALPHA *(ALPHA / DIGIT / "+" /
 * "-" / ".") ":"); anything else is a path. Name a file "x:y" as "./x:y". */
static int is_uri(const char *s)
{
    size_t i = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while (s[i] != '\0' && s[i] != ':') {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
              c == '.'))
            return 0;
        i++;
    }
    return s[i] == ':';
}

/* The URI as it may appear in messages: a query (pkcs11 "?pin-value=...")
 * can hold a secret and is elided. */
static void uri_for_message(char *out, size_t size, const char *uri)
{
    size_t n = strcspn(uri, "?");
    if (n > 200)
        n = 200;
    snprintf(out, size, "%.*s%s", (int)n, uri, uri[n] == '?' ? "?..." : (strlen(uri) > n ? "..." : ""));
}

/* The passphrase for OpenSSL's prompts, and whether one was asked for. */
typedef struct pass_data {
    const char *pass;
    size_t len;
    int asked;
} pass_data;

static int ui_read(UI *ui, UI_STRING *uis)
{
    pass_data *pd = UI_get0_user_data(ui);

    switch (UI_get_string_type(uis)) {
    case UIT_PROMPT:
    case UIT_VERIFY:
        pd->asked = 1;
        if (pd->pass == NULL)
            return 0; /* no passphrase: refuse, never prompt on a terminal */
        return UI_set_result_ex(ui, uis, pd->pass, (int)pd->len) >= 0 ? 1 : 0;
    default:
        return 1;
    }
}

static int ui_write(UI *ui, UI_STRING *uis)
{
    (void)ui;
    (void)uis;
    return 1; /* prompts and info texts go nowhere */
}

/* Read a key file into memory (wiped by the caller). */
static sbprov_result read_key_file(const char *path, unsigned char **out, size_t *out_len)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t len = 0;
    sbprov_result rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return sbprov__fail(errno == ENOENT ? SBPROV_ENOTFOUND : SBPROV_EIO, "%s: cannot open: %s", path,
                            strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = sbprov__fail(SBPROV_EIO, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size > KEY_FILE_MAX) {
        rc = sbprov__fail(SBPROV_EKEY, "%s: %lld bytes; a key file is at most %d", path, (long long)st.st_size,
                          KEY_FILE_MAX);
        goto fail;
    }
    if ((buf = OPENSSL_malloc((size_t)st.st_size + 1)) == NULL) {
        rc = sbprov__fail(SBPROV_ENOMEM, "out of memory for %s", path);
        goto fail;
    }
    for (;;) {
        /* Read one byte past the size seen, to notice a file that grew. */
        ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sbprov__fail(SBPROV_EIO, "%s: read failed: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > (size_t)st.st_size) {
            rc = sbprov__fail(SBPROV_EIO, "%s: the file changed while being read", path);
            goto fail;
        }
    }
    close(fd);
    *out = buf;
    *out_len = len;
    return SBPROV_OK;
fail:
    close(fd);
    OPENSSL_clear_free(buf, len);
    return rc;
}

/* What a store held besides private keys, for the message when none is found. */
typedef struct seen {
    int pubkeys, certs, params, others, errors;
} seen;

/* For a file whose first PEM block OpenSSL's own decoders do not know (e.g.
 * "TSS2 PRIVATE KEY"), a hint that a provider may be needed; else "". */
static void pem_hint(char *out, size_t size, const unsigned char *data, size_t len)
{
    static const char *const known[] = { "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY",
                                         "EC PRIVATE KEY", "DSA PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY",
                                         "CERTIFICATE", "EC PARAMETERS" };
    const char *begin = "-----BEGIN ";
    const char *p;
    size_t n = 0;

    out[0] = '\0';
    if (data == NULL || (p = memmem(data, len, begin, strlen(begin))) == NULL)
        return;
    p += strlen(begin);
    while (p + n < (const char *)data + len && n < 40 && p[n] >= ' ' && p[n] <= '~' && p[n] != '-')
        n++;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == n && memcmp(known[i], p, n) == 0)
            return;
    snprintf(out, size, " (a '%.*s' PEM block: name the provider that reads it in 'providers')", (int)n, p);
}

static sbprov_result no_key_error(const char *name, const seen *s, const pass_data *pd, const char *hint)
{
    if (pd->asked && pd->pass == NULL)
        return sbprov__fail(SBPROV_EPASSPHRASE, "%s: the key is encrypted and no passphrase was given", name);
    if (pd->asked)
        return sbprov__fail(SBPROV_EPASSPHRASE, "%s: wrong passphrase (the key could not be decrypted)", name);
    if (s->pubkeys > 0)
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: holds a public key but no private key", name);
    if (s->certs > 0)
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: holds a certificate but no private key", name);
    if (s->params > 0 || s->others > 0)
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: holds no private key (only other objects)", name);
    if (*hint != '\0')
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: no private key found%s", name, hint);
    return sbprov__fail_ossl(SBPROV_ENOTFOUND, "%s: no private key found%s", name,
                             is_uri(name) ? "" : " (not a PEM or DER key?)");
}

/* The first private key in the store. */
static sbprov_result load_from_store(OSSL_STORE_CTX *ctx, EVP_PKEY **pkey, const char *name, const pass_data *pd,
                                     const char *hint)
{
    seen s = { 0, 0, 0, 0, 0 };

    for (int i = 0; i < STORE_OBJECTS_MAX && !OSSL_STORE_eof(ctx); i++) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(ctx);
        if (info == NULL) {
            s.errors++;
            continue;
        }
        switch (OSSL_STORE_INFO_get_type(info)) {
        case OSSL_STORE_INFO_PKEY:
            *pkey = OSSL_STORE_INFO_get1_PKEY(info);
            OSSL_STORE_INFO_free(info);
            if (*pkey == NULL)
                return sbprov__fail_ossl(SBPROV_ENOMEM, "%s: out of memory for the key", name);
            ERR_clear_error();
            return SBPROV_OK;
        case OSSL_STORE_INFO_PUBKEY: s.pubkeys++; break;
        case OSSL_STORE_INFO_CERT: s.certs++; break;
        case OSSL_STORE_INFO_PARAMS: s.params++; break;
        default: s.others++; break;
        }
        OSSL_STORE_INFO_free(info);
    }
    return no_key_error(name, &s, pd, hint);
}

/* Why OSSL_STORE_open_ex failed. OpenSSL tries the URI's scheme, then the
 * whole URI as a file name, so the queue mixes both; its last entry says
 * which attempt gave up last: a system error for a "file:" URI, "unsupported"
 * or "unregistered scheme" when no provider knows the scheme. */
static sbprov_result open_error(const char *uri, const char *name)
{
    unsigned long e, last = 0;
    size_t scheme_len = strcspn(uri, ":");

    while ((e = ERR_get_error()) != 0)
        last = e;
    if (ERR_GET_LIB(last) == ERR_LIB_SYS)
        return sbprov__fail(ERR_GET_REASON(last) == ENOENT ? SBPROV_ENOTFOUND : SBPROV_EIO, "%s: cannot open: %s",
                            name, strerror(ERR_GET_REASON(last)));
    if (ERR_GET_LIB(last) == ERR_LIB_OSSL_STORE)
        return sbprov__fail(SBPROV_EPROVIDER,
                            "%s: no loaded OpenSSL provider handles the URI scheme '%.*s' (name it in 'providers', "
                            "e.g. \"tpm2,default\")",
                            name, (int)(scheme_len > 32 ? 32 : scheme_len), uri);
    const char *reason = last != 0 ? ERR_reason_error_string(last) : NULL;
    return sbprov__fail(SBPROV_EPROVIDER, "%s: the store could not be opened%s%s", name, reason != NULL ? ": " : "",
                        reason != NULL ? reason : "");
}

sbprov_result sbprov_key_load_options_init(sbprov_key_load_options *opts, size_t struct_size)
{
    return sbprov__options_init(opts, struct_size, LOAD_OPTIONS_V1_SIZE, "key load options");
}

sbprov_result sbprov_key_load(sbprov_key **out, const char *uri, const sbprov_key_load_options *opts)
{
    sbprov_key_load_options o;
    pass_data pd = { NULL, 0, 0 };
    char name[256], hint[128];
    unsigned char *file = NULL;
    size_t file_len = 0;
    BIO *bio = NULL;
    UI_METHOD *ui = NULL;
    OSSL_STORE_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    sbprov_result rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || uri == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_load: NULL argument");
    if (*uri == '\0')
        return sbprov__fail(SBPROV_EINVAL, "sbprov_key_load: empty path");
    if (opts == NULL)
        rc = sbprov_key_load_options_init(&o, sizeof o);
    else
        rc = sbprov__options_load(&o, opts, LOAD_OPTIONS_V1_SIZE, sizeof o, "key load options");
    if (rc != SBPROV_OK)
        return rc;
    if (o.passphrase != NULL && o.passphrase_len > 0) {
        if (o.passphrase_len > PASSPHRASE_MAX)
            return sbprov__fail(SBPROV_EINVAL, "passphrase: %zu bytes; at most %d are supported", o.passphrase_len,
                                PASSPHRASE_MAX);
        if (memchr(o.passphrase, '\0', o.passphrase_len) != NULL)
            return sbprov__fail(SBPROV_EINVAL, "passphrase: embedded NUL byte");
        pd.pass = o.passphrase;
        pd.len = o.passphrase_len;
    }
    if (o.openssl_conf != NULL && (rc = load_config(o.openssl_conf)) != SBPROV_OK)
        return rc;
    if (o.providers != NULL && (rc = load_providers(o.providers)) != SBPROV_OK)
        return rc;

    if ((ui = UI_create_method("libsbprov key passphrase")) == NULL || UI_method_set_reader(ui, ui_read) != 0 ||
        UI_method_set_writer(ui, ui_write) != 0) {
        rc = sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for a passphrase callback");
        goto out;
    }
    if (is_uri(uri)) {
        uri_for_message(name, sizeof name, uri);
        ctx = OSSL_STORE_open_ex(uri, NULL, o.propquery, ui, &pd, NULL, NULL, NULL);
        if (ctx == NULL) {
            rc = open_error(uri, name);
            goto out;
        }
    } else {
        snprintf(name, sizeof name, "%s", uri);
        /* Read the file here (clear errors, size cap, wiped afterwards) and
         * let the store's decoders find the key in it. */
        if ((rc = read_key_file(uri, &file, &file_len)) != SBPROV_OK)
            goto out;
        if ((bio = BIO_new_mem_buf(file, (int)file_len)) == NULL) {
            rc = sbprov__fail_ossl(SBPROV_ENOMEM, "out of memory for a BIO");
            goto out;
        }
        ctx = OSSL_STORE_attach(bio, "file", NULL, o.propquery, ui, &pd, NULL, NULL, NULL);
        if (ctx == NULL) {
            rc = sbprov__fail_ossl(SBPROV_EPROVIDER, "%s: no OpenSSL store can read files", name);
            goto out;
        }
    }
    pem_hint(hint, sizeof hint, file, file_len);
    if ((rc = load_from_store(ctx, &pkey, name, &pd, hint)) != SBPROV_OK)
        goto out;
    rc = sbprov__key_from_pkey(out, pkey, 1, o.propquery, name);
    pkey = NULL;

out:
    EVP_PKEY_free(pkey);
    OSSL_STORE_close(ctx);
    BIO_free(bio);
    OPENSSL_clear_free(file, file_len);
    UI_destroy_method(ui);
    ERR_clear_error();
    return rc;
}
