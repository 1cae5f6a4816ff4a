/* Device keys: generation, PKCS#8 files (mode, atomic replacement,
 * encryption), loading and its errors, SPKI PEM, fingerprint, signatures
 * (RFC 8032 vectors), CSRs, and every argument check. Signatures are checked
 * here with OpenSSL; tests/keys/ checks them with Go's crypto as the Mender
 * server does. */
#define _GNU_SOURCE /* nftw, mkdtemp */
#include "test_util.h"

#include "keys_internal.h"

#include <sbprov/keys.h>

#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fixed test keys (made with `openssl genpkey`; never used anywhere else)
 * and their fingerprints, computed once with
 * `openssl pkey -in KEY -pubout -outform DER | sha256sum`. */
static const char fixed_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCynI82WnLF7Nsg\n"
    "OvGAR/1o3H4CMrNow6qEYgZ+ZCPMzHcf1vPjZpIfXT5RogbwZVsnK1/XUz0KLxqL\n"
    "kcAzxfMcuNZLD1U2NZUrhB87MZscSIM5/NjvCHn5U9TzJbxmqjtzdM9t/TF2xYZq\n"
    "0qSkh9ArBLe3/k/hnUz0iOeRDJJobdxFGBRPMUgreQNBXr0bJz72FfpKlp+qb9yo\n"
    "WasMHBBhUZ10DxgtJLK+nprak1CVd2m1Ah/ptlujGGhS3Gs26cRzW7rx0vg7KdPW\n"
    "pSocVc6ZufcFCUMps9orJp3VQiBJyQcee+hC6qUzWx6UbxhErmRMF6vc6rUwicNG\n"
    "LvfO4RTVAgMBAAECggEASZcLwn89rqLKHdtrSUlf9WZzXIB7PvzvMqAYwNaNkYHk\n"
    "yu+LiPPn3JhUZtn1NfLsvZS3ZkZbbei+bSbeI/a5FepqEH7+wtkM3uMO4xqrJ9oQ\n"
    "h0HQN5wsdTe/E3dGyp305LsKA+1ABgmYOkcTot56PF8zOtHDI9flrxMBJdgiMnfw\n"
    "nfIyRDknmmpKgK9RlU3RQzIUE4eoPsrQ/qCGqnixPnK3x2+Qz1TGYU08yRMyCYHQ\n"
    "vRya2HK/YeCqmhkAUbJzYEMPU3PJKL4I/eDEHtgEPy6SKuAeo88vzYI3ifl/ca8Q\n"
    "Somj543wfEq8sFfrKYsF2E5/sr8sFzH4iuhpOz3beQKBgQDk59Q4ihlnbmq0/EMd\n"
    "aTtFjo6s7vzNl2We2l4w1dPY533l7Y4gwAL2S5ldiQ4Bnx5U4uWVMvMJ9goNXFio\n"
    "Up6dxnfSiAvNHpvzupEx9SVDaZh5n2/0qHh8N8bmfGiUuISX7yk0BiWxXd6Asz/A\n"
    "6PkDwT808bBzXWbtxzT+PzL6LwKBgQDHwL+oDsiLW9Jvdl8pjwARcCSwpO2ABgDb\n"
    "g1+GeIB/T3eeUvQZSHunkmfNBm7ipa/Y2wK8Tq/UAwb+Yqf+LY3AuzO9bCgYFo0Q\n"
    "Br+g25at5S/ebax7PF17hiyRI0Es9QAUAKPuYZNA/H+CL32LHAPO1ELvAnJ9OlME\n"
    "jN3CPBZUOwKBgDPv/hEOFJGJViDWlAvaUp6HqAvI9gdX8LDIb1K5UaYHcGN5MSRx\n"
    "LLrhkFzOuiTYC7PK/7iIpOh/sOwzJdKbXG4EGC/munbCGTSGAmfJbbkL/pKqAGcM\n"
    "yrm0lia516jW7Q7kLv8k3eyOleuxwCdvNQELGeJTbGvgp3gQGRAPGuv1AoGABkEe\n"
    "vyBXXyWs3RiTujVkBye/vlgrp4qIlFb0sr0rKNFQKYDna7M9S+3lmiHNbwNJEj0p\n"
    "RMQh9T1zBpwILok2mwZBhHjSeI6cNBhB/8NgYGmAqjI86E7njmqREqpL7CBvtDCg\n"
    "8WHUvoApbeYWxDhIVj2HKvykoQ8mckoG14ISIOkCgYAiP3kvfXBTudTbMLHyaPSI\n"
    "PX4bAsNQnnhUTXwbVBUviUG4WFOWRw3Po8sj0vVbJnQQAvRXYPHQqQBQ8SQ1jbNQ\n"
    "sQpe5pmqrpq4yCAD1h3AxWNLz2cL8CabMi5EssUlwQ2AfjS1zdgiyo81CVG7QTXt\n"
    "IQyG9zT6xqszwrMHQwAp9g==\n"
    "-----END PRIVATE KEY-----\n";
static const char fixed_p256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgI8ZGYvFiZely1AeG\n"
    "gXrnER+DxRmAvrbfqCCrtLNtzRehRANCAASLSnuO6opsKZ/NmyUaWxSx8rONJe1A\n"
    "sD4VPLtImc80oxiBMvP/UMDmVG56ktMdJtkHRQav1QBCxuezqKZRtuwB\n"
    "-----END PRIVATE KEY-----\n";
static const char fixed_rsa_fingerprint[] = "ff8c319bb95686c26b55389bbb49fd5a315616d25ed8438cd319406bdeb360b2";
static const char fixed_p256_fingerprint[] = "dcd7eef26855f87135b1837b10a1d746f971e7cb07f019b4902ac5ca1f4f18e4";

/* Keys for the whole run: Ed25519 and P-256 generated, RSA 2048 the fixed
 * key (generating one costs ~20 s under valgrind). */
static sbprov_key *keys[3];
static const sbprov_key_type key_types[3] = { SBPROV_KEY_ED25519, SBPROV_KEY_ECDSA_P256, SBPROV_KEY_RSA };
static const char *const key_names[3] = { "ed25519", "p256", "rsa" };
static char dir[64];

/* ---- helpers ------------------------------------------------------------- */

static void path_in_dir(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(p, 0700);
    return remove(p);
}

/* A fresh empty subdirectory of the test directory. */
static void fresh_dir(char *out, size_t size, const char *name)
{
    path_in_dir(out, size, name);
    nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_equal(mkdir(out, 0700), 0);
}

/* Number of entries in `d` other than "." and "..". */
static int count_entries(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int n = 0;
    assert_non_null(dp);
    while ((e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dp);
    return n;
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Write an OpenSSL key as unencrypted PKCS#8 PEM (for keys we must refuse). */
static void write_openssl_key(const char *path, EVP_PKEY *pkey)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

static void public_pem(char *buf, size_t size, const sbprov_key *key)
{
    assert_ok(sbprov_key_public_pem(buf, size, NULL, key));
}

static void fingerprint(char *buf, const sbprov_key *key)
{
    assert_ok(sbprov_key_fingerprint(buf, 65, NULL, key));
}

/* The key's public part as OpenSSL sees it, from our PEM. */
static EVP_PKEY *openssl_public(const sbprov_key *key)
{
    char pem[2048];
    BIO *bio;
    EVP_PKEY *pkey;
    public_pem(pem, sizeof pem, key);
    bio = BIO_new_mem_buf(pem, -1);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(pkey);
    return pkey;
}

/* SHA-256 of the DER SPKI of `pkey`, computed with plain OpenSSL calls. */
static void openssl_fingerprint(char out[65], EVP_PKEY *pkey)
{
    unsigned char *der = NULL, md[32];
    unsigned int md_len = 0;
    int len = i2d_PUBKEY(pkey, &der);
    assert_true(len > 0);
    assert_int_equal(EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < md_len; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    OPENSSL_free(der);
}

static void sign(char *buf, size_t size, const sbprov_key *key, const void *msg, size_t len)
{
    assert_ok(sbprov_key_sign(buf, size, NULL, key, msg, len));
}

static sbprov_key *load_plain(const char *path)
{
    sbprov_key *key = NULL;
    assert_ok(sbprov_key_load(&key, path, NULL));
    return key;
}

static sbprov_key_load_options load_opts(void)
{
    sbprov_key_load_options o;
    assert_ok(sbprov_key_load_options_init(&o, sizeof o));
    return o;
}

/* ---- fixtures -------------------------------------------------------------- */

static int setup(void **state)
{
    sbprov_key_generate_options o;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sbprov-test-keys-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (sbprov_key_generate_options_init(&o, sizeof o) != SBPROV_OK)
            return -1;
        o.type = key_types[i];
        if (sbprov_key_generate(&keys[i], &o) != SBPROV_OK)
            return -1;
    }
    char path[128];
    FILE *f;
    path_in_dir(path, sizeof path, "fixed-rsa.pem");
    if ((f = fopen(path, "w")) == NULL || fputs(fixed_rsa_pem, f) < 0 || fclose(f) != 0)
        return -1;
    return sbprov_key_load(&keys[2], path, NULL) == SBPROV_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        sbprov_key_free(keys[i]);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- options and generation ---------------------------------------------- */

static void test_options_init(void **state)
{
    sbprov_key_generate_options g;
    sbprov_key_load_options l;
    struct {
        sbprov_key_generate_options g;
        uint64_t future;
    } bigger;
    struct {
        sbprov_key_load_options l;
        uint64_t future;
    } bigger_load;
    sbprov_key *key = (sbprov_key *)&key;
    (void)state;

    memset(&g, 0xa5, sizeof g);
    assert_ok(sbprov_key_generate_options_init(&g, sizeof g));
    assert_int_equal(g.struct_size, sizeof g);
    assert_int_equal(g.type, SBPROV_KEY_ED25519);
    assert_int_equal(g.rsa_bits, 0);
    memset(&l, 0xa5, sizeof l);
    assert_ok(sbprov_key_load_options_init(&l, sizeof l));
    assert_int_equal(l.struct_size, sizeof l);
    assert_null(l.passphrase);
    assert_int_equal(l.passphrase_len, 0);
    assert_null(l.providers);
    assert_null(l.openssl_conf);
    assert_null(l.propquery);

    assert_fails_with(sbprov_key_generate_options_init(NULL, sizeof g), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_generate_options_init(&g, sizeof g - 1), SBPROV_EINVAL, "smaller");
    assert_fails_with(sbprov_key_load_options_init(NULL, sizeof l), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_load_options_init(&l, sizeof(size_t)), SBPROV_EINVAL, "smaller");

    /* A caller built against a newer header: zero extra bytes are fine, a set
     * one asks for something this library cannot do. */
    memset(&bigger, 0xa5, sizeof bigger);
    assert_ok(sbprov_key_generate_options_init(&bigger.g, sizeof bigger));
    assert_int_equal(bigger.future, 0);
    assert_ok(sbprov_key_generate(&key, &bigger.g));
    assert_int_equal(sbprov_key_get_type(key), SBPROV_KEY_ED25519);
    sbprov_key_free(key);
    bigger.future = 1;
    assert_fails_with(sbprov_key_generate(&key, &bigger.g), SBPROV_EINVAL, "newer version");
    assert_null(key);

    assert_ok(sbprov_key_load_options_init(&bigger_load.l, sizeof bigger_load));
    bigger_load.future = 7;
    assert_fails_with(sbprov_key_load(&key, "/nonexistent", &bigger_load.l), SBPROV_EINVAL, "newer version");

    /* Options that were never initialised. */
    memset(&g, 0, sizeof g);
    assert_fails_with(sbprov_key_generate(&key, &g), SBPROV_EINVAL, "init function");
    memset(&l, 0, sizeof l);
    assert_fails_with(sbprov_key_load(&key, "/nonexistent", &l), SBPROV_EINVAL, "init function");
}

static void test_generate(void **state)
{
    sbprov_key_generate_options o;
    sbprov_key *key = NULL;
    (void)state;

    /* NULL options: Ed25519. */
    assert_ok(sbprov_key_generate(&key, NULL));
    assert_int_equal(sbprov_key_get_type(key), SBPROV_KEY_ED25519);
    assert_int_equal(sbprov_key_bits(key), 255);
    assert_int_equal(sbprov_key_has_private(key), 1);
    sbprov_key_free(key);

    for (int i = 0; i < 3; i++) {
        assert_int_equal(sbprov_key_get_type(keys[i]), key_types[i]);
        assert_int_equal(sbprov_key_has_private(keys[i]), 1);
    }
    assert_int_equal(sbprov_key_bits(keys[0]), 255);
    assert_int_equal(sbprov_key_bits(keys[1]), 256);
    assert_int_equal(sbprov_key_bits(keys[2]), 2048);

    /* Default RSA size: 3072. */
    assert_ok(sbprov_key_generate_options_init(&o, sizeof o));
    o.type = SBPROV_KEY_RSA;
    assert_ok(sbprov_key_generate(&key, &o));
    assert_int_equal(sbprov_key_get_type(key), SBPROV_KEY_RSA);
    assert_int_equal(sbprov_key_bits(key), 3072);
    sbprov_key_free(key);
    key = NULL;

    o.rsa_bits = 2047;
    assert_fails_with(sbprov_key_generate(&key, &o), SBPROV_EKEY, "2047 bits");
    o.rsa_bits = 4097;
    assert_fails_with(sbprov_key_generate(&key, &o), SBPROV_EKEY, "2048 to 4096");
    o.rsa_bits = 1024;
    assert_fails_with(sbprov_key_generate(&key, &o), SBPROV_EKEY, "1024 bits");
    o.type = (sbprov_key_type)7;
    assert_fails_with(sbprov_key_generate(&key, &o), SBPROV_EKEY, "key type 7");
    o.type = (sbprov_key_type)0;
    assert_fails_with(sbprov_key_generate(&key, &o), SBPROV_EKEY, "unknown");
    assert_null(key);
    /* rsa_bits is ignored for other types. */
    o.type = SBPROV_KEY_ECDSA_P256;
    o.rsa_bits = 1;
    assert_ok(sbprov_key_generate(&key, &o));
    assert_int_equal(sbprov_key_bits(key), 256);
    sbprov_key_free(key);

    assert_fails_with(sbprov_key_generate(NULL, NULL), SBPROV_EINVAL, "NULL");
}

/* ---- saving and loading ---------------------------------------------------- */

static void test_save_load_round_trip(void **state)
{
    char path[128], a[2048], b[2048], fa[65], fb[65], sig[1024];
    (void)state;

    for (int i = 0; i < 3; i++) {
        struct stat st;
        size_t len = 0;
        mode_t old = umask(0); /* the file must still be 0600 */
        path_in_dir(path, sizeof path, key_names[i]);
        unlink(path);
        assert_ok(sbprov_key_save(keys[i], path, NULL, 0, 0));
        umask(old);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        char *pem = test_slurp(path, &len);
        assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
        assert_non_null(strstr(pem, "-----END PRIVATE KEY-----\n"));
        OPENSSL_cleanse(pem, len);
        free(pem);

        sbprov_key *loaded = load_plain(path);
        assert_int_equal(sbprov_key_get_type(loaded), key_types[i]);
        assert_int_equal(sbprov_key_bits(loaded), sbprov_key_bits(keys[i]));
        assert_int_equal(sbprov_key_has_private(loaded), 1);
        public_pem(a, sizeof a, keys[i]);
        public_pem(b, sizeof b, loaded);
        assert_string_equal(a, b);
        fingerprint(fa, keys[i]);
        fingerprint(fb, loaded);
        assert_string_equal(fa, fb);
        /* The loaded key signs; the original verifies, and the other way round. */
        sign(sig, sizeof sig, loaded, "round trip", 10);
        assert_ok(sbprov_key_verify(keys[i], "round trip", 10, sig, strlen(sig)));
        sign(sig, sizeof sig, keys[i], "round trip", 10);
        assert_ok(sbprov_key_verify(loaded, "round trip", 10, sig, strlen(sig)));
        sbprov_key_free(loaded);

        /* The same file as a "file:" URI. */
        char uri[160];
        snprintf(uri, sizeof uri, "file:%s", path);
        loaded = load_plain(uri);
        fingerprint(fb, loaded);
        assert_string_equal(fa, fb);
        sbprov_key_free(loaded);
    }

    /* A relative path is relative to the working directory. */
    char cwd[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    sbprov_key *rel = load_plain("ed25519");
    assert_int_equal(chdir(cwd), 0);
    fingerprint(fa, keys[0]);
    fingerprint(fb, rel);
    assert_string_equal(fa, fb);
    sbprov_key_free(rel);
}

static void test_save_exists_and_overwrite(void **state)
{
    char d[128], path[160], before[65], after[65];
    sbprov_key *loaded;
    (void)state;

    fresh_dir(d, sizeof d, "overwrite");
    snprintf(path, sizeof path, "%s/key.pem", d);
    assert_ok(sbprov_key_save(keys[0], path, NULL, 0, 0));
    fingerprint(before, keys[0]);

    assert_fails_with(sbprov_key_save(keys[1], path, NULL, 0, 0), SBPROV_EEXISTS, "already exists");
    loaded = load_plain(path);
    fingerprint(after, loaded);
    assert_string_equal(before, after);
    sbprov_key_free(loaded);
    assert_int_equal(count_entries(d), 1);

    /* A dangling symbolic link counts as existing. */
    char link_path[192];
    snprintf(link_path, sizeof link_path, "%s/dangling.pem", d);
    assert_int_equal(symlink("/nonexistent/target", link_path), 0);
    assert_fails_with(sbprov_key_save(keys[0], link_path, NULL, 0, 0), SBPROV_EEXISTS, "dangling.pem");
    unlink(link_path);

    assert_ok(sbprov_key_save(keys[1], path, NULL, 0, SBPROV_KEY_SAVE_OVERWRITE));
    loaded = load_plain(path);
    assert_int_equal(sbprov_key_get_type(loaded), SBPROV_KEY_ECDSA_P256);
    fingerprint(after, loaded);
    fingerprint(before, keys[1]);
    assert_string_equal(before, after);
    sbprov_key_free(loaded);
    assert_int_equal(count_entries(d), 1);

    /* Overwriting a symbolic link replaces the link, never its target. */
    char target[192];
    snprintf(target, sizeof target, "%s/target.txt", d);
    write_text(target, "untouched", 9);
    assert_int_equal(symlink("target.txt", link_path), 0);
    assert_ok(sbprov_key_save(keys[0], link_path, NULL, 0, SBPROV_KEY_SAVE_OVERWRITE));
    struct stat st;
    assert_int_equal(lstat(link_path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    char *text = test_slurp(target, NULL);
    assert_string_equal(text, "untouched");
    free(text);

    assert_fails_with(sbprov_key_save(keys[0], path, NULL, 0, 2), SBPROV_EINVAL, "unknown flags");
}

static void ignore_signal(int sig)
{
    (void)sig;
}

static void test_save_failures_keep_old_file(void **state)
{
    char d[128], path[160], sub[192], before[65], after[65];
    sbprov_key *loaded;
    struct rlimit old_limit, limit;
    (void)state;

    fresh_dir(d, sizeof d, "failures");
    snprintf(path, sizeof path, "%s/key.pem", d);
    assert_ok(sbprov_key_save(keys[0], path, NULL, 0, 0));
    fingerprint(before, keys[0]);

    /* Writing fails half way (file size limit): EIO, old key intact, no
     * temporary file left. */
    void (*old_handler)(int) = signal(SIGXFSZ, ignore_signal);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    limit = old_limit;
    limit.rlim_cur = 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    sbprov_clear_error();
    sbprov_result rc = sbprov_key_save(keys[2], path, NULL, 0, SBPROV_KEY_SAVE_OVERWRITE);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, SBPROV_EIO);
    assert_non_null(strstr(sbprov_last_error(), "writing"));
    assert_non_null(strstr(sbprov_last_error(), "key.pem"));
    assert_non_null(strstr(sbprov_last_error(), "too large"));
    loaded = load_plain(path);
    fingerprint(after, loaded);
    assert_string_equal(before, after);
    sbprov_key_free(loaded);
    assert_int_equal(count_entries(d), 1);

    /* The target is a directory: the rename fails, nothing is left behind. */
    snprintf(sub, sizeof sub, "%s/isdir", d);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_fails_with(sbprov_key_save(keys[0], sub, NULL, 0, SBPROV_KEY_SAVE_OVERWRITE), SBPROV_EIO, "rename");
    assert_int_equal(count_entries(d), 2);
    assert_int_equal(count_entries(sub), 0);
    assert_fails_with(sbprov_key_save(keys[0], sub, NULL, 0, 0), SBPROV_EEXISTS, "isdir");

    /* A read-only directory (only meaningful without CAP_DAC_OVERRIDE). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(d, 0500), 0);
        assert_fails_with(sbprov_key_save(keys[1], path, NULL, 0, SBPROV_KEY_SAVE_OVERWRITE), SBPROV_EIO,
                          "temporary file");
        assert_int_equal(chmod(d, 0700), 0);
        loaded = load_plain(path);
        fingerprint(after, loaded);
        assert_string_equal(before, after);
        sbprov_key_free(loaded);
        assert_int_equal(count_entries(d), 2);
    } else {
        print_message("running as root: read-only directory case skipped\n");
    }

    /* Missing directory, path naming a directory. */
    snprintf(sub, sizeof sub, "%s/missing/key.pem", d);
    assert_fails_with(sbprov_key_save(keys[0], sub, NULL, 0, 0), SBPROV_EIO, "No such file or directory");
    snprintf(sub, sizeof sub, "%s/", d);
    assert_fails_with(sbprov_key_save(keys[0], sub, NULL, 0, 0), SBPROV_EINVAL, "not a file name");
    assert_fails_with(sbprov_key_save(keys[0], "", NULL, 0, 0), SBPROV_EINVAL, "empty");
}

static void test_atomic_writer(void **state)
{
    char d[128], path[160];
    struct stat st;
    (void)state;

    fresh_dir(d, sizeof d, "atomic");
    snprintf(path, sizeof path, "%s/f", d);
    /* The mode is exact whatever the umask. */
    mode_t old = umask(077);
    assert_ok(sbprov__write_file_atomic(path, "abc", 3, 0640, 0));
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_size, 3);
    assert_fails_with(sbprov__write_file_atomic(path, "x", 1, 0600, 0), SBPROV_EEXISTS, "already exists");
    assert_ok(sbprov__write_file_atomic(path, "", 0, 0600, 1));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(count_entries(d), 1);
    /* A name in the current directory. */
    char cwd[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(d), 0);
    assert_ok(sbprov__write_file_atomic("g", "1", 1, 0600, 0));
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(count_entries(d), 2);
    assert_fails_with(sbprov__write_file_atomic(NULL, "", 0, 0600, 0), SBPROV_EINVAL, "NULL");
    snprintf(path, sizeof path, "%s/..", d);
    assert_fails_with(sbprov__write_file_atomic(path, "", 0, 0600, 0), SBPROV_EINVAL, "not a file name");
}

static void test_passphrase(void **state)
{
    /* Fewer PBKDF2 rounds keep the valgrind twin fast; tests/cli checks that
     * real files use 100,000. */
    sbprov__pbkdf2_iterations = 2048;
    static const char pass[] = "correct horse battery staple";
    char path[128], fa[65], fb[65];
    sbprov_key_load_options o = load_opts();
    sbprov_key *key = NULL;
    (void)state;

    for (int i = 0; i < 3; i++) {
        size_t len = 0;
        path_in_dir(path, sizeof path, "encrypted.pem");
        assert_ok(sbprov_key_save(keys[i], path, pass, strlen(pass), SBPROV_KEY_SAVE_OVERWRITE));
        char *pem = test_slurp(path, &len);
        assert_true(strncmp(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38) == 0);
        assert_null(strstr(pem, "BEGIN PRIVATE KEY"));

        /* PKCS#8 EncryptedPrivateKeyInfo with PBES2: PBKDF2 + AES-256-CBC. */
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        X509_SIG *p8 = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
        assert_non_null(p8);
        const X509_ALGOR *alg = NULL;
        X509_SIG_get0(p8, &alg, NULL);
        assert_int_equal(OBJ_obj2nid(alg->algorithm), NID_pbes2);
        PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        assert_non_null(pbe2);
        assert_int_equal(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_pbkdf2);
        assert_int_equal(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
        PBE2PARAM_free(pbe2);
        X509_SIG_free(p8);
        BIO_free(bio);
        free(pem);

        assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_EPASSPHRASE, "no passphrase");
        o.passphrase = "wrong";
        o.passphrase_len = 5;
        assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EPASSPHRASE, "wrong passphrase");
        /* Length counts: a prefix of the right passphrase is wrong. */
        o.passphrase = pass;
        o.passphrase_len = strlen(pass) - 1;
        assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EPASSPHRASE, "wrong passphrase");
        assert_null(key);
        o.passphrase_len = strlen(pass);
        assert_ok(sbprov_key_load(&key, path, &o));
        fingerprint(fa, keys[i]);
        fingerprint(fb, key);
        assert_string_equal(fa, fb);
        sbprov_key_free(key);
        key = NULL;
        /* A passphrase given for an unencrypted key is not needed and harmless. */
        path_in_dir(path, sizeof path, key_names[i]);
        assert_ok(sbprov_key_load(&key, path, &o));
        sbprov_key_free(key);
        key = NULL;
    }
    /* The passphrase is (ptr, len): not read past len. */
    path_in_dir(path, sizeof path, "encrypted.pem");
    assert_ok(sbprov_key_save(keys[0], path, "secretXXXX", 6, SBPROV_KEY_SAVE_OVERWRITE));
    o.passphrase = "secret";
    o.passphrase_len = 6;
    assert_ok(sbprov_key_load(&key, path, &o));
    sbprov_key_free(key);
    key = NULL;
    /* A passphrase given as "" on load means none. */
    o.passphrase = "";
    o.passphrase_len = 0;
    assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EPASSPHRASE, "no passphrase");

    char long_pass[1100];
    memset(long_pass, 'p', sizeof long_pass);
    assert_fails_with(sbprov_key_save(keys[0], path, "", 0, SBPROV_KEY_SAVE_OVERWRITE), SBPROV_EINVAL, "empty");
    assert_fails_with(sbprov_key_save(keys[0], path, "a\0b", 3, SBPROV_KEY_SAVE_OVERWRITE), SBPROV_EINVAL, "NUL");
    assert_fails_with(sbprov_key_save(keys[0], path, long_pass, 1024, SBPROV_KEY_SAVE_OVERWRITE), SBPROV_EINVAL,
                      "1024 bytes");
    /* The longest passphrase supported round-trips. */
    assert_ok(sbprov_key_save(keys[0], path, long_pass, 1023, SBPROV_KEY_SAVE_OVERWRITE));
    o.passphrase = long_pass;
    o.passphrase_len = 1023;
    assert_ok(sbprov_key_load(&key, path, &o));
    sbprov_key_free(key);
    key = NULL;
    o.passphrase_len = 1024;
    assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EINVAL, "1024 bytes");
    o.passphrase = "a\0b";
    o.passphrase_len = 3;
    assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EINVAL, "NUL");
}

/* Keys OpenSSL makes that libsbprov must refuse, and files that hold none. */
static void test_load_errors(void **state)
{
    char path[128], d[128];
    sbprov_key *key = (sbprov_key *)&key;
    sbprov_key_load_options o = load_opts();
    EVP_PKEY *pkey;
    (void)state;

    path_in_dir(path, sizeof path, "p384.pem");
    assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
    write_openssl_key(path, pkey);
    EVP_PKEY_free(pkey);
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_EKEY, "an EC key on secp384r1");
    assert_null(key);

    path_in_dir(path, sizeof path, "rsa1024.pem");
    assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
    write_openssl_key(path, pkey);
    EVP_PKEY_free(pkey);
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_EKEY, "an RSA key of 1024 bits");

    path_in_dir(path, sizeof path, "dsa.pem");
    {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
        EVP_PKEY *params = NULL;
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_paramgen_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_dsa_paramgen_bits(ctx, 1024), 1);
        assert_int_equal(EVP_PKEY_paramgen(ctx, &params), 1);
        EVP_PKEY_CTX_free(ctx);
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
        pkey = NULL;
        assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
        assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(params);
        write_openssl_key(path, pkey);
        EVP_PKEY_free(pkey);
    }
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_EKEY, "a DSA key");

    path_in_dir(path, sizeof path, "ed448.pem");
    assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED448"));
    write_openssl_key(path, pkey);
    EVP_PKEY_free(pkey);
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_EKEY, "ED448");

    /* Files without a private key. */
    path_in_dir(path, sizeof path, "garbage.pem");
    write_text(path, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n", 72);
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_ENOTFOUND, "no private key");
    /* A PEM block only a provider could read: the message says so. */
    path_in_dir(path, sizeof path, "tss2.pem");
    write_text(path, "-----BEGIN TSS2 PRIVATE KEY-----\nAAAA\n-----END TSS2 PRIVATE KEY-----\n", 69);
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_ENOTFOUND, "a 'TSS2 PRIVATE KEY' PEM block");
    path_in_dir(path, sizeof path, "binary");
    {
        unsigned char junk[1000];
        assert_int_equal(RAND_bytes(junk, sizeof junk), 1);
        write_text(path, (const char *)junk, sizeof junk);
    }
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_ENOTFOUND, "no private key");
    path_in_dir(path, sizeof path, "empty");
    write_text(path, "", 0);
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_ENOTFOUND, "no private key");
    path_in_dir(path, sizeof path, "public.pem");
    {
        char pem[2048];
        public_pem(pem, sizeof pem, keys[1]);
        write_text(path, pem, strlen(pem));
    }
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_ENOTFOUND, "public key but no private key");
    path_in_dir(path, sizeof path, "does-not-exist.pem");
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_ENOTFOUND, "No such file");
    assert_fails_with(sbprov_key_load(&key, "file:/nonexistent/key.pem", NULL), SBPROV_ENOTFOUND, "No such file");
    fresh_dir(d, sizeof d, "a-directory");
    assert_fails_with(sbprov_key_load(&key, d, NULL), SBPROV_EIO, "not a regular file");
    /* Larger than any key file. */
    path_in_dir(path, sizeof path, "huge");
    {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 2 * 1024 * 1024), 0);
        close(fd);
    }
    assert_fails_with(sbprov_key_load(&key, path, NULL), SBPROV_EKEY, "at most");

    /* Schemes, providers, configuration. */
    assert_fails_with(sbprov_key_load(&key, "nosuchscheme:whatever", NULL), SBPROV_EPROVIDER, "'nosuchscheme'");
    assert_fails_with(sbprov_key_load(&key, "pkcs11:token=t;object=o?pin-value=123456", NULL), SBPROV_EPROVIDER,
                      "pkcs11");
    assert_null(strstr(sbprov_last_error(), "123456")); /* a PIN in the query is never echoed */
    path_in_dir(path, sizeof path, key_names[0]);
    o.providers = "no-such-provider";
    assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EPROVIDER, "'no-such-provider'");
    o.providers = "default,,base";
    assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EINVAL, "empty name");
    o.providers = " default , base ";
    assert_ok(sbprov_key_load(&key, path, &o));
    sbprov_key_free(key);
    key = NULL;
    o.providers = NULL;
    o.openssl_conf = "/nonexistent/openssl.cnf";
    assert_fails_with(sbprov_key_load(&key, path, &o), SBPROV_EPROVIDER, "/nonexistent/openssl.cnf");
    /* A configuration file that loads providers. */
    char conf[160];
    path_in_dir(conf, sizeof conf, "openssl.cnf");
    {
        static const char text[] = "openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = dflt\n"
                                   "[dflt]\nactivate = 1\n";
        write_text(conf, text, sizeof text - 1);
    }
    o.openssl_conf = conf;
    assert_ok(sbprov_key_load(&key, path, &o));
    sbprov_key_free(key);
    key = NULL;
    /* A property query nothing matches: loading fails. */
    o.openssl_conf = NULL;
    o.propquery = "provider=no-such-provider";
    sbprov_clear_error();
    assert_true(sbprov_key_load(&key, path, &o) != SBPROV_OK);
    assert_null(key);
    /* A matching one is used for signing. */
    o.propquery = "provider=default";
    assert_ok(sbprov_key_load(&key, path, &o));
    char sig[128];
    sign(sig, sizeof sig, key, "x", 1);
    assert_ok(sbprov_key_verify(keys[0], "x", 1, sig, strlen(sig)));
    sbprov_key_free(key);
    key = (sbprov_key *)&key;

    assert_fails_with(sbprov_key_load(NULL, path, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_load(&key, NULL, NULL), SBPROV_EINVAL, "NULL");
    assert_null(key);
    assert_fails_with(sbprov_key_load(&key, "", NULL), SBPROV_EINVAL, "empty");
}

/* ---- public keys ----------------------------------------------------------- */

static void test_public_pem(void **state)
{
    char pem[2048], again[2048], small[16];
    size_t len = 0, needed = 0;
    (void)state;

    for (int i = 0; i < 3; i++) {
        /* Identical to OpenSSL's PEM_write_bio_PUBKEY output. */
        EVP_PKEY *pub = openssl_public(keys[i]);
        BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        assert_int_equal(PEM_write_bio_PUBKEY(bio, pub), 1);
        long n = BIO_get_mem_data(bio, &data);
        assert_ok(sbprov_key_public_pem(pem, sizeof pem, &len, keys[i]));
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(pem, data, len);
        assert_int_equal(pem[len], '\0');
        assert_true(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
        assert_string_equal(pem + len - 25, "-----END PUBLIC KEY-----\n");
        for (char *line = pem; *line != '\0'; line = strchr(line, '\n') + 1)
            assert_true(strchr(line, '\n') - line <= 64);
        BIO_free(bio);
        EVP_PKEY_free(pub);

        /* Too small: EBUFS with the size needed, then exactly that fits. */
        memset(small, 'x', sizeof small);
        assert_fails_with(sbprov_key_public_pem(small, sizeof small, &needed, keys[i]), SBPROV_EBUFS, "too small");
        assert_int_equal(needed, len + 1);
        char *exact = malloc(needed);
        assert_ok(sbprov_key_public_pem(exact, needed, NULL, keys[i]));
        assert_string_equal(exact, pem);
        free(exact);
        /* One byte short (no room for the NUL): EBUFS, and the partial text is wiped. */
        char *short_buf = malloc(len);
        assert_fails_with(sbprov_key_public_pem(short_buf, len, &needed, keys[i]), SBPROV_EBUFS, "too small");
        assert_int_equal(needed, len + 1);
        for (size_t k = 0; k < len; k++)
            assert_int_equal(short_buf[k], 0);
        free(short_buf);

        /* The same after a trip through a file. */
        char path[128];
        path_in_dir(path, sizeof path, key_names[i]);
        sbprov_key *loaded = load_plain(path);
        public_pem(again, sizeof again, loaded);
        assert_string_equal(pem, again);
        sbprov_key_free(loaded);
    }
    assert_fails_with(sbprov_key_public_pem(NULL, 10, NULL, keys[0]), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_public_pem(pem, sizeof pem, NULL, NULL), SBPROV_EINVAL, "NULL");
}

static void test_from_public_pem(void **state)
{
    char pem[2048], again[2048], sig[1024], fa[65], fb[65];
    sbprov_key *pub = (sbprov_key *)&pub;
    (void)state;

    for (int i = 0; i < 3; i++) {
        public_pem(pem, sizeof pem, keys[i]);
        assert_ok(sbprov_key_from_public_pem(&pub, pem, strlen(pem)));
        assert_int_equal(sbprov_key_get_type(pub), key_types[i]);
        assert_int_equal(sbprov_key_bits(pub), sbprov_key_bits(keys[i]));
        assert_int_equal(sbprov_key_has_private(pub), 0);
        public_pem(again, sizeof again, pub);
        assert_string_equal(pem, again);
        fingerprint(fa, keys[i]);
        fingerprint(fb, pub);
        assert_string_equal(fa, fb);
        sign(sig, sizeof sig, keys[i], "abc", 3);
        assert_ok(sbprov_key_verify(pub, "abc", 3, sig, strlen(sig)));
        /* A public key cannot sign, save or make a CSR. */
        assert_fails_with(sbprov_key_sign(sig, sizeof sig, NULL, pub, "abc", 3), SBPROV_EKEY, "public only");
        assert_fails_with(sbprov_key_save(pub, "/nonexistent/x", NULL, 0, 0), SBPROV_EKEY, "public only");
        assert_fails_with(sbprov_key_csr(sig, sizeof sig, NULL, pub, "gw", NULL), SBPROV_EKEY, "public only");
        sbprov_key_free(pub);
        pub = NULL;
    }

    /* PKCS#1 RSA public key ("RSA PUBLIC KEY"), as some providers emit. */
    EVP_PKEY *rsa = openssl_public(keys[2]);
    OSSL_ENCODER_CTX *ectx =
        OSSL_ENCODER_CTX_new_for_pkey(rsa, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);
    unsigned char *pkcs1 = NULL;
    size_t pkcs1_len = 0;
    assert_non_null(ectx);
    assert_int_equal(OSSL_ENCODER_to_data(ectx, &pkcs1, &pkcs1_len), 1);
    OSSL_ENCODER_CTX_free(ectx);
    EVP_PKEY_free(rsa);
    assert_true(strncmp((char *)pkcs1, "-----BEGIN RSA PUBLIC KEY-----", 30) == 0);
    assert_ok(sbprov_key_from_public_pem(&pub, (char *)pkcs1, pkcs1_len));
    OPENSSL_free(pkcs1);
    assert_int_equal(sbprov_key_get_type(pub), SBPROV_KEY_RSA);
    assert_int_equal(sbprov_key_bits(pub), 2048);
    public_pem(pem, sizeof pem, keys[2]);
    public_pem(again, sizeof again, pub); /* given back as SPKI */
    assert_string_equal(pem, again);
    sign(sig, sizeof sig, keys[2], "pkcs1", 5);
    assert_ok(sbprov_key_verify(pub, "pkcs1", 5, sig, strlen(sig)));
    sbprov_key_free(pub);
    pub = NULL;

    /* Text before and after the block is ignored (as Go's pem.Decode does). */
    char wrapped[2300];
    public_pem(pem, sizeof pem, keys[0]);
    snprintf(wrapped, sizeof wrapped, "key of gw-1:\n%strailer\n", pem);
    assert_ok(sbprov_key_from_public_pem(&pub, wrapped, strlen(wrapped)));
    sbprov_key_free(pub);
    pub = NULL;

    /* Not a public key of a supported type. */
    assert_fails_with(sbprov_key_from_public_pem(&pub, "hello", 5), SBPROV_EKEY, "no PEM block");
    assert_fails_with(sbprov_key_from_public_pem(&pub, "", 0), SBPROV_EKEY, "no PEM block");
    assert_fails_with(sbprov_key_from_public_pem(&pub, pem, 40), SBPROV_EKEY, "no PEM block");
    {
        char path[128];
        path_in_dir(path, sizeof path, key_names[1]);
        char *priv = test_slurp(path, NULL);
        assert_fails_with(sbprov_key_from_public_pem(&pub, priv, strlen(priv)), SBPROV_EKEY, "'PRIVATE KEY'");
        free(priv);
    }
    static const char bad_body[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_fails_with(sbprov_key_from_public_pem(&pub, bad_body, strlen(bad_body)), SBPROV_EKEY,
                      "does not hold a valid public key");
    {
        EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        assert_int_equal(PEM_write_bio_PUBKEY(bio, p384), 1);
        long n = BIO_get_mem_data(bio, &data);
        assert_fails_with(sbprov_key_from_public_pem(&pub, data, (size_t)n), SBPROV_EKEY, "secp384r1");
        BIO_free(bio);
        EVP_PKEY_free(p384);
    }
    public_pem(pem, sizeof pem, keys[0]);
    pem[30] = '\0';
    assert_fails_with(sbprov_key_from_public_pem(&pub, pem, strlen(pem) + 10), SBPROV_EKEY, "NUL");
    assert_null(pub);
    assert_fails_with(sbprov_key_from_public_pem(NULL, pem, 10), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_from_public_pem(&pub, NULL, 10), SBPROV_EINVAL, "NULL");
}

static void test_fingerprint(void **state)
{
    /* RFC 8032 test 1 public key; expected value computed once outside
     * OpenSSL: sha256(302a300506032b6570032100 || public key) with Python's
     * hashlib. */
    static const char rfc8032_pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                                          "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                                          "-----END PUBLIC KEY-----\n";
    static const char rfc8032_fingerprint[] = "06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9";
    char fp[65], expect[65], small[64];
    size_t len = 0;
    sbprov_key *pub = NULL;
    (void)state;

    assert_ok(sbprov_key_from_public_pem(&pub, rfc8032_pub_pem, strlen(rfc8032_pub_pem)));
    assert_ok(sbprov_key_fingerprint(fp, sizeof fp, &len, pub));
    assert_string_equal(fp, rfc8032_fingerprint);
    assert_int_equal(len, 64);
    sbprov_key_free(pub);

    /* The fixed keys: against values computed with the openssl command. */
    fingerprint(fp, keys[2]);
    assert_string_equal(fp, fixed_rsa_fingerprint);
    {
        char path[128];
        path_in_dir(path, sizeof path, "fixed-p256.pem");
        write_text(path, fixed_p256_pem, strlen(fixed_p256_pem));
        sbprov_key *p256 = load_plain(path);
        fingerprint(fp, p256);
        assert_string_equal(fp, fixed_p256_fingerprint);
        /* Public-only, from the PEM: the same. */
        char pem[512];
        public_pem(pem, sizeof pem, p256);
        sbprov_key_free(p256);
        assert_ok(sbprov_key_from_public_pem(&p256, pem, strlen(pem)));
        fingerprint(fp, p256);
        assert_string_equal(fp, fixed_p256_fingerprint);
        sbprov_key_free(p256);
    }
    /* Every key: against SHA-256 of i2d_PUBKEY with plain OpenSSL calls. */
    for (int i = 0; i < 3; i++) {
        EVP_PKEY *p = openssl_public(keys[i]);
        openssl_fingerprint(expect, p);
        EVP_PKEY_free(p);
        fingerprint(fp, keys[i]);
        assert_string_equal(fp, expect);
    }
    assert_fails_with(sbprov_key_fingerprint(small, sizeof small, &len, keys[0]), SBPROV_EBUFS, "too small");
    assert_int_equal(len, 65);
    assert_fails_with(sbprov_key_fingerprint(NULL, 65, &len, keys[0]), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_fingerprint(fp, sizeof fp, &len, NULL), SBPROV_EINVAL, "NULL");
}

/* ---- signatures ------------------------------------------------------------ */

/* Check a signature with plain OpenSSL, the way the Mender server checks it. */
static void openssl_verify(const sbprov_key *key, const char *b64, const void *msg, size_t len)
{
    unsigned char raw[600];
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
    assert_true(n > 0);
    size_t pad = strlen(b64) >= 2 ? (b64[strlen(b64) - 1] == '=') + (b64[strlen(b64) - 2] == '=') : 0;
    EVP_PKEY *pub = openssl_public(key);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ed = EVP_PKEY_is_a(pub, "ED25519");
    assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, ed ? NULL : EVP_sha256(), NULL, pub), 1);
    if (EVP_PKEY_is_a(pub, "RSA"))
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
    assert_int_equal(EVP_DigestVerify(ctx, raw, (size_t)n - pad, msg, len), 1);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
}

static void test_sign_verify(void **state)
{
    static const size_t lengths[] = { 0, 1, 1000, 1024 * 1024 };
    static const size_t b64_max[3] = { 88, 96, 344 }; /* Base64 of 64, 72, 256 bytes */
    unsigned char *msg = malloc(1024 * 1024 + 1); /* + 1: the tampered-length check reads one more byte */
    char sig[1024], sig2[1024], small[8];
    size_t len = 0, needed = 0;
    (void)state;

    assert_non_null(msg);
    assert_int_equal(RAND_bytes(msg, 1024 * 1024 + 1), 1);
    for (int i = 0; i < 3; i++) {
        for (size_t j = 0; j < sizeof lengths / sizeof lengths[0]; j++) {
            size_t n = lengths[j];
            assert_ok(sbprov_key_sign(sig, sizeof sig, &len, keys[i], msg, n));
            assert_int_equal(len, strlen(sig));
            assert_true(len <= b64_max[i]);
            assert_true(len % 4 == 0);
            assert_null(strchr(sig, '\n'));
            assert_ok(sbprov_key_verify(keys[i], msg, n, sig, len));
            openssl_verify(keys[i], sig, msg, n);
            /* Tampered message. */
            if (n > 0) {
                msg[n / 2] ^= 1;
                assert_fails_with(sbprov_key_verify(keys[i], msg, n, sig, len), SBPROV_ESIGNATURE, "does not verify");
                msg[n / 2] ^= 1;
            }
            assert_fails_with(sbprov_key_verify(keys[i], msg, n + 1, sig, len), SBPROV_ESIGNATURE, "does not verify");
        }
        /* NULL data with length 0 is the empty message. */
        assert_ok(sbprov_key_sign(sig, sizeof sig, &len, keys[i], NULL, 0));
        assert_ok(sbprov_key_verify(keys[i], "", 0, sig, len));
        assert_ok(sbprov_key_verify(keys[i], NULL, 0, sig, len));

        /* Tampered signature: a changed character in the middle. */
        sign(sig, sizeof sig, keys[i], "message", 7);
        len = strlen(sig);
        memcpy(sig2, sig, len + 1);
        sig2[len / 2] = sig2[len / 2] == 'A' ? 'B' : 'A';
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, sig2, len), SBPROV_ESIGNATURE, "");
        /* A signature of another key of the same type does not verify. */
        sbprov_key_generate_options o;
        sbprov_key *other = NULL;
        assert_ok(sbprov_key_generate_options_init(&o, sizeof o));
        o.type = key_types[i];
        o.rsa_bits = 2048;
        if (key_types[i] != SBPROV_KEY_RSA) {
            assert_ok(sbprov_key_generate(&other, &o));
            assert_fails_with(sbprov_key_verify(other, "message", 7, sig, len), SBPROV_ESIGNATURE, "does not verify");
            sbprov_key_free(other);
        }
        /* Nor with a key of another type. */
        assert_fails_with(sbprov_key_verify(keys[(i + 1) % 3], "message", 7, sig, len), SBPROV_ESIGNATURE, "");

        /* Not Base64, URL-safe Base64, unpadded, with a newline. */
        assert_fails_with(sbprov_key_verify(keys[i], "m", 1, "!!!!", 4), SBPROV_EBASE64, "signature");
        memcpy(sig2, sig, len + 1);
        sig2[1] = '-';
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, sig2, len), SBPROV_EBASE64, "signature");
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, sig, len - 1), SBPROV_EBASE64, "signature");
        memcpy(sig2, sig, len);
        sig2[len] = '\n';
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, sig2, len + 1), SBPROV_EBASE64, "signature");
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, "", 0), SBPROV_EBASE64, "empty");
        /* Valid Base64, wrong size. */
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, "AAAA", 4), SBPROV_ESIGNATURE, "");
        char long_sig[1200];
        memset(long_sig, 'A', sizeof long_sig);
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, long_sig, 1000), SBPROV_ESIGNATURE, "longer");
        assert_fails_with(sbprov_key_verify(keys[i], "message", 7, long_sig, sizeof long_sig), SBPROV_ESIGNATURE,
                          "longer");

        /* Too small a buffer: the size needed fits the longest signature. */
        assert_fails_with(sbprov_key_sign(small, sizeof small, &needed, keys[i], "m", 1), SBPROV_EBUFS, "too small");
        assert_int_equal(needed, b64_max[i] + 1);
        char *exact = malloc(needed);
        for (int k = 0; k < 20; k++)
            assert_ok(sbprov_key_sign(exact, needed, NULL, keys[i], "m", 1));
        free(exact);
        assert_fails_with(sbprov_key_sign(sig, needed - 1, &len, keys[i], "m", 1), SBPROV_EBUFS, "too small");
    }
    /* Ed25519 and RSA PKCS#1 v1.5 are deterministic. */
    sign(sig, sizeof sig, keys[0], "same", 4);
    sign(sig2, sizeof sig2, keys[0], "same", 4);
    assert_string_equal(sig, sig2);
    sign(sig, sizeof sig, keys[2], "same", 4);
    sign(sig2, sizeof sig2, keys[2], "same", 4);
    assert_string_equal(sig, sig2);

    assert_fails_with(sbprov_key_sign(NULL, 10, NULL, keys[0], "m", 1), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_sign(sig, sizeof sig, NULL, NULL, "m", 1), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_sign(sig, sizeof sig, NULL, keys[0], NULL, 1), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_verify(NULL, "m", 1, "AAAA", 4), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_verify(keys[0], NULL, 1, "AAAA", 4), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_verify(keys[0], "m", 1, NULL, 4), SBPROV_EINVAL, "NULL");
    free(msg);
}

/* RFC 8032 section 7.1, tests 1 and 2: the private key from its raw bytes,
 * written as PKCS#8 by OpenSSL, loaded, and the published signature (Base64
 * computed with Python's base64 module) reproduced. */
static void test_rfc8032_vectors(void **state)
{
    static const struct {
        const char *secret, *message, *signature_b64;
    } vectors[] = {
        { "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "",
          "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc+bRr0lv18FlbviRlUUFDjnoQCw==" },
        { "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "72",
          "kqAJqfDUyrhyDoILX2QlQKKye1QWUD+Ps3YiI+vbadoIWsHkPhWZbkWPNhPQ8R2MOHsurrQwKu6wDSkWErsMAA==" },
    };
    char path[128], sig[128];
    (void)state;

    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t secret[32], message[8];
        assert_int_equal(test_hex(secret, vectors[i].secret), 32);
        size_t mlen = test_hex(message, vectors[i].message);
        EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret, sizeof secret);
        assert_non_null(pkey);
        path_in_dir(path, sizeof path, "rfc8032.pem");
        write_openssl_key(path, pkey);
        EVP_PKEY_free(pkey);
        sbprov_key *key = load_plain(path);
        sign(sig, sizeof sig, key, message, mlen);
        assert_string_equal(sig, vectors[i].signature_b64);
        assert_ok(sbprov_key_verify(key, message, mlen, vectors[i].signature_b64,
                                    strlen(vectors[i].signature_b64)));
        sbprov_key_free(key);
    }
}

/* ---- CSR ------------------------------------------------------------------- */

static X509_REQ *parse_csr(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_REQ *req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(req);
    return req;
}

static void test_csr(void **state)
{
    static const int sig_nids[3] = { NID_ED25519, NID_ecdsa_with_SHA256, NID_sha256WithRSAEncryption };
    static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    char pem[4096], cn[128];
    size_t len = 0;
    (void)state;

    for (int i = 0; i < 3; i++) {
        assert_ok(sbprov_key_csr(pem, sizeof pem, &len, keys[i], "gw-0001.office-berlin",
                                 "DNS:gw1.example.com, IP:10.0.0.7,IP:2001:db8::1,URI:urn:sbprov:gw-0001,"
                                 "email:ops@example.com,DNS:*.gw1.example.com"));
        assert_int_equal(len, strlen(pem));
        assert_true(strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36) == 0);
        X509_REQ *req = parse_csr(pem);
        EVP_PKEY *pub = openssl_public(keys[i]);
        assert_int_equal(X509_REQ_verify(req, pub), 1);
        assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pub), 1);
        assert_int_equal(X509_REQ_get_signature_nid(req), sig_nids[i]);
        assert_int_equal(X509_REQ_get_version(req), 0);
        X509_NAME *subject = X509_REQ_get_subject_name(req);
        assert_int_equal(X509_NAME_entry_count(subject), 1);
        assert_int_equal(X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn), 21);
        assert_string_equal(cn, "gw-0001.office-berlin");

        STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
        GENERAL_NAMES *gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
        assert_non_null(gens);
        assert_int_equal(sk_GENERAL_NAME_num(gens), 6);
        static const int types[6] = { GEN_DNS, GEN_IPADD, GEN_IPADD, GEN_URI, GEN_EMAIL, GEN_DNS };
        static const char *const values[6] = { "gw1.example.com", NULL, NULL, "urn:sbprov:gw-0001",
                                               "ops@example.com", "*.gw1.example.com" };
        for (int k = 0; k < 6; k++) {
            int type = 0;
            ASN1_STRING *value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, k), &type);
            assert_int_equal(type, types[k]);
            if (k == 1) {
                assert_int_equal(ASN1_STRING_length(value), 4);
                assert_memory_equal(ASN1_STRING_get0_data(value), "\x0a\x00\x00\x07", 4);
            } else if (k == 2) {
                assert_int_equal(ASN1_STRING_length(value), 16);
                assert_memory_equal(ASN1_STRING_get0_data(value), ip6, 16);
            } else {
                assert_int_equal(ASN1_STRING_length(value), (int)strlen(values[k]));
                assert_memory_equal(ASN1_STRING_get0_data(value), values[k], strlen(values[k]));
            }
        }
        GENERAL_NAMES_free(gens);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_REQ_free(req);

        /* Without SANs: no extension request at all. */
        assert_ok(sbprov_key_csr(pem, sizeof pem, &len, keys[i], "gw", NULL));
        req = parse_csr(pem);
        assert_int_equal(X509_REQ_verify(req, pub), 1);
        exts = X509_REQ_get_extensions(req);
        assert_int_equal(sk_X509_EXTENSION_num(exts), 0);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_REQ_free(req);
        EVP_PKEY_free(pub);

        /* Buffer too small: the size given always fits a retry. */
        size_t needed = 0;
        char tiny[32];
        assert_fails_with(sbprov_key_csr(tiny, sizeof tiny, &needed, keys[i], "gw", "DNS:a.example"), SBPROV_EBUFS,
                          "too small");
        assert_true(needed > sizeof tiny);
        char *exact = malloc(needed);
        for (int k = 0; k < 10; k++) {
            assert_ok(sbprov_key_csr(exact, needed, &len, keys[i], "gw", "DNS:a.example"));
            assert_true(len < needed);
        }
        free(exact);
    }

    /* 64 characters is the longest common name. */
    memset(cn, 'c', 64);
    cn[64] = '\0';
    assert_ok(sbprov_key_csr(pem, sizeof pem, NULL, keys[0], cn, NULL));
    cn[65] = '\0';
    cn[64] = 'c';
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[0], cn, NULL), SBPROV_EID, "65 characters");
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[0], "", NULL), SBPROV_EID, "common name: empty");
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[0], "gw\n1", NULL), SBPROV_EID,
                      "byte 0x0a at position 2");
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[0], "gw\xc3\xa9", NULL), SBPROV_EID, "0xc3");

    static const struct {
        const char *sans, *needle;
    } bad[] = {
        { "", "empty" },
        { "gw1.example.com", "unknown type" },
        { "dns:gw1.example.com", "unknown type" },
        { "RID:1.2.3.4", "unknown type" },
        { "dirName:sect", "unknown type" },
        { "otherName:1.2.3;UTF8:x", "unknown type" },
        { "email:copy", "not local@domain" },
        { "DNS:", "empty value" },
        { "DNS:a,,DNS:b", "subject alternative name 2: empty item" },
        { "DNS:a,", "empty item" },
        { "DNS:gw 1.example", "0x20" },
        { "DNS:gw..example", "empty label" },
        { "DNS:gw/1", "a character other than" },
        { "DNS:a.*.example", "a character other than" },
        { "IP:10.0.0.256", "not an IPv4 or IPv6 address" },
        { "IP:[::1]", "not an IPv4 or IPv6 address" },
        { "IP:gw1", "not an IPv4 or IPv6 address" },
        { "URI:no-scheme", "no scheme" },
        { "URI:urn:", "no scheme" },
        { "URI:https://gw/<x>", "percent-encode" },
        { "email:@example.com", "not local@domain" },
        { "email:ops@", "not local@domain" },
        { "email:ops@exa mple", "0x20" },
        { "DNS:ok.example,IP:10.0.0.1,URI:urn:x,bogus:1", "subject alternative name 4 ('bogus:1')" },
        { "DNS:caf\xc3\xa9.example", "0xc3" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[1], "gw", bad[k].sans), SBPROV_EID,
                          bad[k].needle);
    char many[2048] = "";
    for (int k = 0; k < 65; k++)
        strcat(many, k == 0 ? "DNS:a" : ",DNS:a");
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[1], "gw", many), SBPROV_EID, "more than 64");
    char huge[5000];
    memset(huge, 'a', sizeof huge);
    memcpy(huge, "DNS:", 4);
    huge[sizeof huge - 1] = '\0';
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[1], "gw", huge), SBPROV_EID, "at most 4096");

    assert_fails_with(sbprov_key_csr(NULL, 10, NULL, keys[0], "gw", NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, NULL, "gw", NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_csr(pem, sizeof pem, NULL, keys[0], NULL, NULL), SBPROV_EINVAL, "NULL");
}

static void test_null_handles(void **state)
{
    (void)state;
    sbprov_key_free(NULL);
    assert_int_equal(sbprov_key_get_type(NULL), 0);
    assert_int_equal(sbprov_key_bits(NULL), 0);
    assert_int_equal(sbprov_key_has_private(NULL), 0);
    assert_fails_with(sbprov_key_save(NULL, "/tmp/x", NULL, 0, 0), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_key_save(keys[0], NULL, NULL, 0, 0), SBPROV_EINVAL, "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_init),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_save_exists_and_overwrite),
        cmocka_unit_test(test_save_failures_keep_old_file),
        cmocka_unit_test(test_atomic_writer),
        cmocka_unit_test(test_passphrase),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_public_pem),
        cmocka_unit_test(test_from_public_pem),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_rfc8032_vectors),
        cmocka_unit_test(test_csr),
        cmocka_unit_test(test_null_handles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
