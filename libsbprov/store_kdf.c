/* Store keys: key files, scrypt from a passphrase, a random key sealed to a
 * device key (store_seal.c), and the store's metadata file (format version,
 * mode, KDF parameters, sealed key, key check value). The entry key
 * is HMAC-SHA256(master, "sbprov-store v1 entry key"); the check value, which
 * tells a wrong key at open, is HMAC-SHA256(master, "sbprov-store v1 key
 * check") cut to 16 bytes. Format: docs/store-format.md. */
#include "store_internal.h"

#include "atomic_file.h"
#include "base64.h"
#include "digest.h"
#include "error.h"
#include "hmac.h"
#include "keys_internal.h"
#include "ossl_error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SALT_LEN 16
#define CHECK_LEN 16
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_DEFAULT_LOG2_N 15
#define META_MAX 4096
#define META_LINE 1024 /* longest line: a Base64 RSA-4096 sealed key */

typedef struct meta {
    unsigned version;
    int plaintext;
    char kdf[16]; /* "keyfile", "scrypt", "sealed", "none" */
    unsigned log2_n, r, p;
    uint8_t salt[SALT_LEN];
    uint8_t check[CHECK_LEN];
    char seal[24];                        /* sealed: SBPROV__SEAL_ECDH or SBPROV__SEAL_RSA */
    char seal_key[SBPROV__SHA256_LEN * 2 + 1]; /* sealed: hex SHA-256 of the sealing key's SPKI */
    uint8_t sealed[SBPROV__SEALED_MAX];   /* sealed: the wrapped master key */
    size_t sealed_len;
} meta;

sbprov_result sbprov_store_create_key_file(const char *path)
{
    uint8_t key[SBPROV_STORE_KEY_SIZE];
    sbprov_result rc;

    if (path == NULL || *path == '\0')
        return sbprov__fail(SBPROV_EINVAL, "key file: NULL or empty path");
    if (RAND_priv_bytes(key, sizeof key) != 1)
        return sbprov__fail_ossl(SBPROV_ERANDOM, "key file %s: no random bytes", path);
    rc = sbprov__write_file_atomic(path, key, sizeof key, 0600, 0);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static sbprov_result read_key_file(uint8_t key[SBPROV_STORE_KEY_SIZE], const char *path)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        if (errno == ELOOP)
            return sbprov__fail(SBPROV_EUNSAFE, "key file %s: is a symbolic link", path);
        return sbprov__fail(errno == ENOENT ? SBPROV_ENOTFOUND : SBPROV_EIO, "key file %s: cannot open: %s", path,
                            strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return sbprov__fail(SBPROV_EIO, "key file %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        close(fd);
        return sbprov__fail(SBPROV_EUNSAFE, "key file %s: must be a regular file owned by uid %u with mode 0600 "
                            "(is uid %u, mode %04o)", path, (unsigned)geteuid(), (unsigned)st.st_uid,
                            (unsigned)(st.st_mode & 07777));
    }
    if (st.st_size != SBPROV_STORE_KEY_SIZE) {
        close(fd);
        return sbprov__fail(SBPROV_EKEY, "key file %s: %lld bytes, a store key is %d", path, (long long)st.st_size,
                            SBPROV_STORE_KEY_SIZE);
    }
    do
        n = read(fd, key, SBPROV_STORE_KEY_SIZE);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n != SBPROV_STORE_KEY_SIZE)
        return sbprov__fail(SBPROV_EIO, "key file %s: short read", path);
    return SBPROV_OK;
}

static sbprov_result scrypt_key(uint8_t key[SBPROV_STORE_KEY_SIZE], const char *pass, size_t pass_len,
                                const meta *m)
{
    uint64_t n = (uint64_t)1 << m->log2_n;
    uint64_t maxmem = 128u * (uint64_t)m->r * (n + (uint64_t)m->p + 2) + (1u << 20);

    if (EVP_PBE_scrypt(pass, pass_len, m->salt, SALT_LEN, n, m->r, m->p, maxmem, key, SBPROV_STORE_KEY_SIZE) != 1)
        return sbprov__fail_ossl(SBPROV_ECRYPTO, "store passphrase: scrypt failed");
    return SBPROV_OK;
}

/* Entry key and check value from the master key. */
static sbprov_result derive(uint8_t entry_key[32], uint8_t check[CHECK_LEN], const uint8_t master[32])
{
    static const char ek[] = "sbprov-store v1 entry key", ck[] = "sbprov-store v1 key check";
    uint8_t mac[SBPROV__SHA256_LEN];
    sbprov_result rc;

    if ((rc = sbprov__hmac_sha256_once(master, 32, ek, sizeof ek - 1, entry_key)) != SBPROV_OK)
        return rc;
    if ((rc = sbprov__hmac_sha256_once(master, 32, ck, sizeof ck - 1, mac)) != SBPROV_OK)
        return rc;
    memcpy(check, mac, CHECK_LEN);
    OPENSSL_cleanse(mac, sizeof mac);
    return SBPROV_OK;
}

/* An encrypted store's KDF has exactly the parameters it needs. */
static int kdf_consistent(const meta *m, int have_salt)
{
    if (strcmp(m->kdf, "keyfile") == 0)
        return 1;
    if (strcmp(m->kdf, "sealed") == 0)
        return m->seal[0] != '\0' && m->seal_key[0] != '\0' && m->sealed_len > 0;
    return strcmp(m->kdf, "scrypt") == 0 && have_salt && m->log2_n >= 10 && m->log2_n <= 22 && m->r > 0 &&
           m->r <= 32 && m->p > 0 && m->p <= 16;
}

static sbprov_result meta_parse(meta *m, const char *text, size_t len, const char *dir)
{
    char line[META_LINE];
    size_t pos = 0, lineno = 0;
    int have_salt = 0, have_check = 0;

    memset(m, 0, sizeof *m);
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        char *eq;
        lineno++;
        if (n >= sizeof line || memchr(text + pos, '\0', n) != NULL)
            return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata line %zu is malformed", dir, lineno);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + 1;
        if (lineno == 1) {
            if (sscanf(line, "sbprov-store %u", &m->version) != 1)
                return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata does not start with 'sbprov-store'", dir);
            if (m->version > SBPROV__STORE_FORMAT)
                return sbprov__fail(SBPROV_EFORMAT, "store %s: format version %u, this library knows up to %d", dir,
                                    m->version, SBPROV__STORE_FORMAT);
            if (m->version != SBPROV__STORE_FORMAT)
                return sbprov__fail(SBPROV_ETAMPERED, "store %s: format version %u is invalid", dir, m->version);
            continue;
        }
        if (n == 0)
            continue;
        eq = strchr(line, '=');
        if (eq == NULL)
            return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata line %zu has no '='", dir, lineno);
        *eq++ = '\0';
        if (strcmp(line, "mode") == 0 && (strcmp(eq, "plaintext") == 0 || strcmp(eq, "aes-256-gcm") == 0)) {
            m->plaintext = strcmp(eq, "plaintext") == 0;
        } else if (strcmp(line, "kdf") == 0 && strlen(eq) < sizeof m->kdf) {
            strcpy(m->kdf, eq);
        } else if (strcmp(line, "scrypt_log2_n") == 0) {
            m->log2_n = (unsigned)strtoul(eq, NULL, 10);
        } else if (strcmp(line, "scrypt_r") == 0) {
            m->r = (unsigned)strtoul(eq, NULL, 10);
        } else if (strcmp(line, "scrypt_p") == 0) {
            m->p = (unsigned)strtoul(eq, NULL, 10);
        } else if (strcmp(line, "seal") == 0 && (strcmp(eq, SBPROV__SEAL_ECDH) == 0 ||
                                                  strcmp(eq, SBPROV__SEAL_RSA) == 0)) {
            strcpy(m->seal, eq);
        } else if (strcmp(line, "seal_key") == 0 && strlen(eq) == sizeof m->seal_key - 1 &&
                   strspn(eq, "0123456789abcdef") == sizeof m->seal_key - 1) {
            strcpy(m->seal_key, eq);
        } else if (strcmp(line, "sealed") == 0) {
            uint8_t tmp[SBPROV__BASE64_DECODED_MAX(sizeof line)];
            if (sbprov__base64_decode(tmp, &m->sealed_len, eq, strlen(eq), "store metadata") != SBPROV_OK ||
                m->sealed_len == 0 || m->sealed_len > SBPROV__SEALED_MAX)
                return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata 'sealed' is malformed", dir);
            memcpy(m->sealed, tmp, m->sealed_len);
        } else if (strcmp(line, "salt") == 0 || strcmp(line, "check") == 0) {
            uint8_t tmp[SBPROV__BASE64_DECODED_MAX(sizeof line)];
            size_t got = 0;
            int is_salt = strcmp(line, "salt") == 0;
            if (sbprov__base64_decode(tmp, &got, eq, strlen(eq), "store metadata") != SBPROV_OK ||
                got != (is_salt ? SALT_LEN : CHECK_LEN))
                return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata '%s' is malformed", dir, line);
            memcpy(is_salt ? m->salt : m->check, tmp, got);
            if (is_salt)
                have_salt = 1;
            else
                have_check = 1;
        } else {
            return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata line %zu ('%s') is not understood", dir,
                                lineno, line);
        }
    }
    if (m->version == 0)
        return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata is empty", dir);
    if (m->plaintext ? strcmp(m->kdf, "none") != 0 : !have_check || !kdf_consistent(m, have_salt))
        return sbprov__fail(SBPROV_ETAMPERED, "store %s: metadata is inconsistent (mode/kdf/parameters)", dir);
    return SBPROV_OK;
}

static sbprov_result meta_write(sbprov_store *s, const meta *m)
{
    char text[2048], salt[SBPROV__BASE64_LEN(SALT_LEN) + 1], check[SBPROV__BASE64_LEN(CHECK_LEN) + 1];
    char sealed[SBPROV__BASE64_LEN(SBPROV__SEALED_MAX) + 1];
    int n;

    sbprov__base64_encode(salt, m->salt, SALT_LEN);
    sbprov__base64_encode(check, m->check, CHECK_LEN);
    sbprov__base64_encode(sealed, m->sealed, m->sealed_len);
    if (m->plaintext)
        n = snprintf(text, sizeof text, "sbprov-store %d\nmode=plaintext\nkdf=none\n", SBPROV__STORE_FORMAT);
    else if (strcmp(m->kdf, "scrypt") == 0)
        n = snprintf(text, sizeof text,
                     "sbprov-store %d\nmode=aes-256-gcm\nkdf=scrypt\nscrypt_log2_n=%u\nscrypt_r=%u\nscrypt_p=%u\n"
                     "salt=%s\ncheck=%s\n",
                     SBPROV__STORE_FORMAT, m->log2_n, m->r, m->p, salt, check);
    else if (strcmp(m->kdf, "sealed") == 0)
        n = snprintf(text, sizeof text,
                     "sbprov-store %d\nmode=aes-256-gcm\nkdf=sealed\nseal=%s\nseal_key=%s\nsealed=%s\ncheck=%s\n",
                     SBPROV__STORE_FORMAT, m->seal, m->seal_key, sealed, check);
    else
        n = snprintf(text, sizeof text, "sbprov-store %d\nmode=aes-256-gcm\nkdf=keyfile\ncheck=%s\n",
                     SBPROV__STORE_FORMAT, check);
    return sbprov__write_file_atomic_at(s->dirfd, SBPROV__STORE_META, SBPROV__STORE_META, text, (size_t)n, 0600, 0);
}

/* Hex SHA-256 of the key's SubjectPublicKeyInfo: which key a store is sealed to. */
static sbprov_result seal_key_id(char out[SBPROV__SHA256_LEN * 2 + 1], const sbprov_key *key)
{
    uint8_t md[SBPROV__SHA256_LEN];
    sbprov_result rc = sbprov__sha256(md, key->spki, key->spki_len);

    if (rc == SBPROV_OK)
        sbprov__hex(out, md, sizeof md);
    return rc;
}

/* A new store's metadata for the key source in `o` (creating: with a random
 * salt, or a random master key sealed to o->sealing_key). */
static sbprov_result meta_new(meta *m, uint8_t master[32], const sbprov_store *s,
                              const sbprov_store_open_options *o)
{
    sbprov_result rc;

    memset(m, 0, sizeof *m);
    m->version = SBPROV__STORE_FORMAT;
    m->plaintext = o->plaintext != 0;
    strcpy(m->kdf, o->plaintext ? "none" : o->key_file != NULL ? "keyfile" : o->passphrase != NULL ? "scrypt"
                                                                                                   : "sealed");
    if (o->passphrase != NULL) {
        m->log2_n = o->scrypt_log2_n != 0 ? o->scrypt_log2_n : SCRYPT_DEFAULT_LOG2_N;
        if (m->log2_n < 10 || m->log2_n > 22)
            return sbprov__fail(SBPROV_EINVAL, "store options: scrypt_log2_n %u is outside 10..22", m->log2_n);
        m->r = SCRYPT_R;
        m->p = SCRYPT_P;
        if (RAND_bytes(m->salt, SALT_LEN) != 1)
            return sbprov__fail_ossl(SBPROV_ERANDOM, "store %s: no random salt", s->dir);
    }
    if (o->sealing_key != NULL) {
        if ((rc = sbprov__store_seal_check(o->sealing_key, s->dir)) != SBPROV_OK)
            return rc;
        if (RAND_priv_bytes(master, 32) != 1)
            return sbprov__fail_ossl(SBPROV_ERANDOM, "store %s: no random store key", s->dir);
        strcpy(m->seal, sbprov__store_seal_scheme(o->sealing_key));
        if ((rc = seal_key_id(m->seal_key, o->sealing_key)) != SBPROV_OK)
            return rc;
        return sbprov__store_seal(m->sealed, &m->sealed_len, o->sealing_key, master, s->dir);
    }
    return SBPROV_OK;
}

/* The master key of an encrypted store from the key source in `o`; `creating`:
 * a sealed master key is already in `master`. */
static sbprov_result master_key(uint8_t master[32], const meta *m, const sbprov_store *s,
                                const sbprov_store_open_options *o, int creating)
{
    char id[SBPROV__SHA256_LEN * 2 + 1];
    sbprov_result rc;

    if (strcmp(m->kdf, "scrypt") == 0) {
        if (o->passphrase == NULL)
            return sbprov__fail(SBPROV_EPASSPHRASE, "store %s: is protected by a passphrase, none was given", s->dir);
        return scrypt_key(master, o->passphrase, o->passphrase_len, m);
    }
    if (strcmp(m->kdf, "sealed") == 0) {
        if (o->sealing_key == NULL)
            return sbprov__fail(SBPROV_EKEY, "store %s: is sealed to key %s, no sealing key was given", s->dir,
                                m->seal_key);
        if (creating)
            return SBPROV_OK;
        if ((rc = seal_key_id(id, o->sealing_key)) != SBPROV_OK)
            return rc;
        if (strcmp(id, m->seal_key) != 0)
            return sbprov__fail(SBPROV_EKEY, "store %s: is sealed to key %s, not to the given key %s", s->dir,
                                m->seal_key, id);
        return sbprov__store_unseal(master, o->sealing_key, m->seal, m->sealed, m->sealed_len, s->dir);
    }
    if (o->key_file == NULL)
        return sbprov__fail(SBPROV_EKEY, "store %s: is protected by a key file, none was given", s->dir);
    return read_key_file(master, o->key_file);
}

sbprov_result sbprov__store_setup_key(sbprov_store *s, const sbprov_store_open_options *o)
{
    uint8_t master[32], check[CHECK_LEN];
    uint8_t *text = NULL;
    size_t text_len = 0;
    int creating = 0;
    meta m;
    sbprov_result rc;

    rc = sbprov__store_read_file(&text, &text_len, s->dirfd, SBPROV__STORE_META, META_MAX, 1, s->dir);
    if (rc == SBPROV_ENOTFOUND && o->create) {
        creating = 1;
        rc = meta_new(&m, master, s, o);
    } else if (rc == SBPROV_ENOTFOUND) {
        return sbprov__fail(SBPROV_ENOTFOUND, "store %s: no store here (no %s); set 'create' to make one", s->dir,
                            SBPROV__STORE_META);
    } else if (rc == SBPROV_OK) {
        rc = meta_parse(&m, (const char *)text, text_len, s->dir);
        free(text);
    }
    if (rc == SBPROV_OK && m.plaintext != (o->plaintext != 0))
        rc = sbprov__fail(SBPROV_EKEY, "store %s: is %s, but %s mode was asked for", s->dir,
                          m.plaintext ? "plaintext" : "encrypted", o->plaintext ? "plaintext" : "encrypted");
    if (rc != SBPROV_OK || (s->plaintext = m.plaintext)) {
        OPENSSL_cleanse(master, sizeof master);
        return rc == SBPROV_OK && creating ? meta_write(s, &m) : rc;
    }

    rc = master_key(master, &m, s, o, creating);
    if (rc == SBPROV_OK)
        rc = derive(s->key, check, master);
    OPENSSL_cleanse(master, sizeof master);
    if (rc != SBPROV_OK)
        return rc;
    if (creating) {
        memcpy(m.check, check, CHECK_LEN);
        return meta_write(s, &m);
    }
    if (CRYPTO_memcmp(check, m.check, CHECK_LEN) != 0) {
        OPENSSL_cleanse(s->key, sizeof s->key);
        if (strcmp(m.kdf, "scrypt") == 0)
            return sbprov__fail(SBPROV_EPASSPHRASE, "store %s: wrong passphrase (key check value differs)", s->dir);
        if (strcmp(m.kdf, "sealed") == 0)
            return sbprov__fail(SBPROV_ETAMPERED, "store %s: the unsealed key does not match the key check value",
                                s->dir);
        return sbprov__fail(SBPROV_EKEY, "store %s: wrong key file (key check value differs)", s->dir);
    }
    return SBPROV_OK;
}
