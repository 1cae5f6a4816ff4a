/* Credential store: every operation and its error paths, on-disk tampering,
 * locking with many threads and with several processes, files owned by
 * another user. */
#define _GNU_SOURCE
#include "test_util.h"

#include "store_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
    char root[64];
    char dir[128];
    char key[128];
    sbprov_store *s;
} fixture;

static void path_in(char *out, size_t size, const fixture *f, const char *name)
{
    snprintf(out, size, "%s/%s", f->dir, name);
}

static sbprov_result open_keyfile(sbprov_store **out, const char *dir, const char *key, int create)
{
    sbprov_store_open_options o;
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    o.key_file = key;
    o.create = create;
    return sbprov_store_open(out, dir, &o);
}

static sbprov_result open_pass(sbprov_store **out, const char *dir, const char *pass, int create)
{
    sbprov_store_open_options o;
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    o.passphrase = pass;
    o.passphrase_len = strlen(pass);
    o.scrypt_log2_n = 10;
    o.create = create;
    return sbprov_store_open(out, dir, &o);
}

static sbprov_result open_plain(sbprov_store **out, const char *dir, int create)
{
    sbprov_store_open_options o;
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    o.plaintext = 1;
    o.create = create;
    return sbprov_store_open(out, dir, &o);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->root, "/tmp/sbprov-store-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/store", f->root);
    snprintf(f->key, sizeof f->key, "%s/store.key", f->root);
    assert_ok(sbprov_store_create_key_file(f->key));
    assert_ok(open_keyfile(&f->s, f->dir, f->key, 1));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    sbprov_store_free(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void assert_value(sbprov_store *s, const char *name, const char *want)
{
    char buf[256];
    size_t len = 0;
    assert_ok(sbprov_store_get(buf, sizeof buf, &len, s, name));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static void test_put_get_delete_exists(void **state)
{
    fixture *f = *state;
    char small[4];
    size_t len = 0;
    void *v = NULL;
    struct stat st;

    assert_ok(sbprov_store_put(f->s, "azure.primary", "k1", 2));
    assert_value(f->s, "azure.primary", "k1");
    assert_ok(sbprov_store_put(f->s, "azure.primary", "second", 6));
    assert_value(f->s, "azure.primary", "second");
    /* EBUFS reports the size, writes nothing; size query with NULL. */
    assert_fails_with(sbprov_store_get(small, sizeof small, &len, f->s, "azure.primary"), SBPROV_EBUFS, "6 bytes");
    assert_int_equal(len, 6);
    assert_int_equal(sbprov_store_get(NULL, 0, &len, f->s, "azure.primary"), SBPROV_EBUFS);
    assert_int_equal(len, 6);
    assert_ok(sbprov_store_get_alloc(&v, &len, f->s, "azure.primary"));
    assert_int_equal(len, 6);
    assert_string_equal((char *)v, "second");
    sbprov_free(v);
    /* Binary values with NULs and the empty value. */
    assert_ok(sbprov_store_put(f->s, "bin", "a\0b", 3));
    assert_ok(sbprov_store_get_alloc(&v, &len, f->s, "bin"));
    assert_int_equal(len, 3);
    assert_memory_equal(v, "a\0b", 3);
    sbprov_free(v);
    assert_ok(sbprov_store_put(f->s, "empty", NULL, 0));
    assert_ok(sbprov_store_get(NULL, 0, &len, f->s, "empty"));
    assert_int_equal(len, 0);

    assert_ok(sbprov_store_exists(f->s, "bin"));
    assert_fails_with(sbprov_store_exists(f->s, "nope"), SBPROV_ENOTFOUND, "nope");
    assert_fails_with(sbprov_store_get(small, sizeof small, &len, f->s, "nope"), SBPROV_ENOTFOUND, "no entry 'nope'");
    assert_ok(sbprov_store_delete(f->s, "bin"));
    assert_fails_with(sbprov_store_delete(f->s, "bin"), SBPROV_ENOTFOUND, "bin");
    assert_int_equal(sbprov_store_exists(f->s, "bin"), SBPROV_ENOTFOUND);

    /* Files are private; the value is not on disk in the clear. */
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char p[256];
    path_in(p, sizeof p, f, "e.azure.primary");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    size_t flen;
    char *raw = test_slurp(p, &flen);
    assert_null(memmem(raw, flen, "second", 6));
    free(raw);

    /* Reopen with the same key: values persist. */
    sbprov_store_free(f->s);
    assert_ok(open_keyfile(&f->s, f->dir, f->key, 0));
    assert_value(f->s, "azure.primary", "second");
}

static void test_bad_arguments(void **state)
{
    fixture *f = *state;
    char longname[SBPROV_STORE_NAME_MAX + 2];
    static char big[SBPROV_STORE_VALUE_MAX + 1];
    size_t len;

    assert_fails_with(sbprov_store_put(f->s, "", "x", 1), SBPROV_EID, "empty");
    assert_fails_with(sbprov_store_put(f->s, ".", "x", 1), SBPROV_EID, "not allowed");
    assert_fails_with(sbprov_store_put(f->s, "..", "x", 1), SBPROV_EID, "not allowed");
    assert_fails_with(sbprov_store_put(f->s, "a/b", "x", 1), SBPROV_EID, "0x2f at position 1");
    assert_fails_with(sbprov_store_put(f->s, "a b", "x", 1), SBPROV_EID, "position 1");
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "\xc3\xa4"), SBPROV_EID, "0xc3");
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_fails_with(sbprov_store_put(f->s, longname, "x", 1), SBPROV_EID, "longer than 128");
    longname[SBPROV_STORE_NAME_MAX] = '\0';
    assert_ok(sbprov_store_put(f->s, longname, "x", 1));
    assert_ok(sbprov_store_put(f->s, "big", big, SBPROV_STORE_VALUE_MAX));
    assert_fails_with(sbprov_store_put(f->s, "big", big, SBPROV_STORE_VALUE_MAX + 1), SBPROV_EINVAL, "exceeds");
    assert_ok(sbprov_store_get(NULL, 0, &len, f->s, "big") == SBPROV_EBUFS ? SBPROV_OK : SBPROV_ERROR);
    assert_int_equal(len, SBPROV_STORE_VALUE_MAX);
    assert_fails_with(sbprov_store_put(NULL, "a", "x", 1), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_store_put(f->s, "a", NULL, 1), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_store_swap(f->s, "a", "a"), SBPROV_EINVAL, "itself");
    sbprov_store_free(NULL);

    /* Options. */
    sbprov_store_open_options o;
    sbprov_store *s = NULL;
    assert_fails_with(sbprov_store_open_options_init(&o, 4), SBPROV_EINVAL, "struct_size");
    assert_fails_with(sbprov_store_open(&s, f->dir, NULL), SBPROV_EINVAL, "options are required");
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    assert_fails_with(sbprov_store_open(&s, f->dir, &o), SBPROV_EINVAL, "exactly one");
    o.key_file = f->key;
    o.plaintext = 1;
    assert_fails_with(sbprov_store_open(&s, f->dir, &o), SBPROV_EINVAL, "exactly one");
    assert_null(s);
    char other[160];
    snprintf(other, sizeof other, "%s/absent", f->root);
    assert_fails_with(open_keyfile(&s, other, f->key, 0), SBPROV_ENOTFOUND, "absent");
    assert_fails_with(open_keyfile(&s, f->root, f->key, 0), SBPROV_ENOTFOUND, "no store here");
}

static void test_unsafe_paths(void **state)
{
    fixture *f = *state;
    char link[160], p[256], target[256];
    sbprov_store *s = NULL;
    size_t len;

    snprintf(link, sizeof link, "%s/link", f->root);
    assert_int_equal(symlink(f->dir, link), 0);
    assert_fails_with(open_keyfile(&s, link, f->key, 0), SBPROV_EUNSAFE, "symbolic link");

    assert_int_equal(chmod(f->dir, 0770), 0);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EUNSAFE, "group- or world-writable");
    assert_int_equal(chmod(f->dir, 0702), 0);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EUNSAFE, "0702");
    assert_int_equal(chmod(f->dir, 0700), 0);

    /* A symlinked entry is neither read nor replaced. */
    assert_ok(sbprov_store_put(f->s, "real", "v", 1));
    path_in(p, sizeof p, f, "e.evil");
    path_in(target, sizeof target, f, "e.real");
    assert_int_equal(symlink(target, p), 0);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "evil"), SBPROV_EUNSAFE, "symbolic link");
    assert_fails_with(sbprov_store_put(f->s, "evil", "x", 1), SBPROV_EUNSAFE, "symbolic link");
    assert_fails_with(sbprov_store_exists(f->s, "evil"), SBPROV_EUNSAFE, "symbolic link");
    assert_value(f->s, "real", "v");

    /* Key file readable by others. */
    assert_int_equal(chmod(f->key, 0644), 0);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EUNSAFE, "mode 0600");
    assert_int_equal(chmod(f->key, 0600), 0);
    assert_fails_with(sbprov_store_create_key_file(f->key), SBPROV_EEXISTS, "already exists");
}

static void test_wrong_keys_and_modes(void **state)
{
    fixture *f = *state;
    char key2[160], pdir[160], pldir[160];
    sbprov_store *s = NULL;

    snprintf(key2, sizeof key2, "%s/other.key", f->root);
    assert_ok(sbprov_store_create_key_file(key2));
    assert_fails_with(open_keyfile(&s, f->dir, key2, 0), SBPROV_EKEY, "wrong key file");
    assert_fails_with(open_pass(&s, f->dir, "pw", 0), SBPROV_EKEY, "key file, none was given");
    assert_fails_with(open_plain(&s, f->dir, 0), SBPROV_EKEY, "is encrypted, but plaintext");

    snprintf(pdir, sizeof pdir, "%s/pw", f->root);
    assert_ok(open_pass(&s, pdir, "correct horse", 1));
    assert_ok(sbprov_store_put(s, "x", "secret", 6));
    sbprov_store_free(s);
    s = NULL;
    assert_fails_with(open_pass(&s, pdir, "wrong horse", 0), SBPROV_EPASSPHRASE, "wrong passphrase");
    assert_fails_with(open_keyfile(&s, pdir, f->key, 0), SBPROV_EPASSPHRASE, "passphrase, none was given");
    assert_ok(open_pass(&s, pdir, "correct horse", 0));
    assert_value(s, "x", "secret");
    sbprov_store_free(s);
    char meta[200];
    snprintf(meta, sizeof meta, "%s/.sbprov-store", pdir);
    char *text = test_slurp(meta, NULL);
    assert_non_null(strstr(text, "kdf=scrypt\nscrypt_log2_n=10\nscrypt_r=8\nscrypt_p=1\nsalt="));
    free(text);

    /* Plaintext only when asked; a key store is not opened as plaintext. */
    snprintf(pldir, sizeof pldir, "%s/plain", f->root);
    assert_ok(open_plain(&s, pldir, 1));
    assert_ok(sbprov_store_put(s, "x", "visible", 7));
    assert_value(s, "x", "visible");
    sbprov_store_free(s);
    s = NULL;
    assert_fails_with(open_keyfile(&s, pldir, f->key, 0), SBPROV_EKEY, "is plaintext");
    char p[200];
    size_t len, flen;
    snprintf(p, sizeof p, "%s/e.x", pldir);
    char *raw = test_slurp(p, &flen);
    assert_non_null(memmem(raw, flen, "visible", 7));
    free(raw);
    /* Plaintext entries are still checksummed. */
    FILE *fp = fopen(p, "r+b");
    fseek(fp, SBPROV__ENTRY_HDR, SEEK_SET);
    fputc('V', fp);
    fclose(fp);
    assert_ok(open_plain(&s, pldir, 0));
    assert_fails_with(sbprov_store_get(NULL, 0, &len, s, "x"), SBPROV_ETAMPERED, "checksum");
    sbprov_store_free(s);
}

static sbprov_result open_sealed(sbprov_store **out, const char *dir, const sbprov_key *key, int create)
{
    sbprov_store_open_options o;
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    o.sealing_key = key;
    o.create = create;
    return sbprov_store_open(out, dir, &o);
}

static sbprov_key *new_key(sbprov_key_type type)
{
    sbprov_key_generate_options g;
    sbprov_key *k = NULL;
    assert_ok(sbprov_key_generate_options_init(&g, sizeof g));
    g.type = type;
    g.rsa_bits = 2048;
    assert_ok(sbprov_key_generate(&k, &g));
    return k;
}

/* Replace the metadata line starting with `prefix` by `prefix` + `value`. */
static void set_meta_line(const char *dir, const char *prefix, const char *value)
{
    char path[200], *text, *line, *end, out[4096];
    snprintf(path, sizeof path, "%s/.sbprov-store", dir);
    text = test_slurp(path, NULL);
    line = strstr(text, prefix);
    assert_non_null(line);
    end = strchr(line, '\n');
    snprintf(out, sizeof out, "%.*s%s%s%s", (int)(line - text), text, prefix, value, end);
    free(text);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(out, fp);
    fclose(fp);
}

/* A random store key sealed to an EC P-256 (ECDH) or RSA (OAEP) device key:
 * opens only with that private key; the other key, none, an Ed25519 or a
 * public-only key, and every change to the sealed metadata are refused. */
static void test_sealed_key(void **state)
{
    static const sbprov_key_type types[] = {SBPROV_KEY_ECDSA_P256, SBPROV_KEY_RSA};
    fixture *f = *state;
    char dir[200], meta[220], pem[2048];
    size_t i, len;
    sbprov_store *s = NULL;

    for (i = 0; i < 2; i++) {
        sbprov_key *k = new_key(types[i]), *other = new_key(types[i]), *ed = new_key(SBPROV_KEY_ED25519), *pub;
        char *text, saved[4096];

        snprintf(dir, sizeof dir, "%s/sealed%zu", f->root, i);
        snprintf(meta, sizeof meta, "%s/.sbprov-store", dir);
        assert_fails_with(open_sealed(&s, dir, ed, 1), SBPROV_EKEY, "Ed25519 key cannot seal");
        assert_ok(sbprov_key_public_pem(pem, sizeof pem, &len, k));
        assert_ok(sbprov_key_from_public_pem(&pub, pem, len));
        assert_fails_with(open_sealed(&s, dir, pub, 1), SBPROV_EKEY, "no private part");

        assert_ok(open_sealed(&s, dir, k, 1));
        assert_ok(sbprov_store_put(s, "azure.primary", "sealed secret", 13));
        sbprov_store_free(s);
        s = NULL;
        text = test_slurp(meta, NULL);
        assert_non_null(strstr(text, "kdf=sealed\nseal="));
        assert_non_null(strstr(text, i == 0 ? "seal=ecdh-p256\n" : "seal=rsa-oaep-sha256\n"));
        snprintf(saved, sizeof saved, "%s", text);
        free(text);

        assert_ok(open_sealed(&s, dir, k, 0));
        assert_value(s, "azure.primary", "sealed secret");
        sbprov_store_free(s);
        s = NULL;
        assert_fails_with(open_sealed(&s, dir, other, 0), SBPROV_EKEY, "not to the given key");
        assert_fails_with(open_sealed(&s, dir, ed, 0), SBPROV_EKEY, "not to the given key");
        assert_fails_with(open_sealed(&s, dir, pub, 0), SBPROV_EKEY, "no private part");
        assert_fails_with(open_keyfile(&s, dir, f->key, 0), SBPROV_EKEY, "no sealing key was given");
        assert_fails_with(open_pass(&s, dir, "pw", 0), SBPROV_EKEY, "no sealing key was given");

        /* The sealed key modified: it no longer authenticates / decrypts. */
        text = strstr(saved, "sealed=") + 7;
        char orig = text[10];
        text[10] = orig == 'A' ? 'B' : 'A';
        FILE *fp = fopen(meta, "w");
        fputs(saved, fp);
        fclose(fp);
        assert_fails_with(open_sealed(&s, dir, k, 0), SBPROV_ETAMPERED, "sealed key");
        text[10] = orig;
        fp = fopen(meta, "w");
        fputs(saved, fp);
        fclose(fp);
        assert_ok(open_sealed(&s, dir, k, 0));
        sbprov_store_free(s);
        s = NULL;

        /* Another scheme, a malformed or missing field. */
        set_meta_line(dir, "seal=", i == 0 ? "rsa-oaep-sha256" : "ecdh-p256");
        assert_fails_with(open_sealed(&s, dir, k, 0), SBPROV_EKEY, "cannot unseal");
        set_meta_line(dir, "seal=", "aes-keywrap");
        assert_fails_with(open_sealed(&s, dir, k, 0), SBPROV_ETAMPERED, "not understood");
        set_meta_line(dir, "seal=", i == 0 ? "ecdh-p256" : "rsa-oaep-sha256");
        set_meta_line(dir, "sealed=", "AAAA");
        assert_fails_with(open_sealed(&s, dir, k, 0), SBPROV_ETAMPERED, "malformed");
        set_meta_line(dir, "seal_key=", "00");
        assert_fails_with(open_sealed(&s, dir, k, 0), SBPROV_ETAMPERED, "not understood");

        sbprov_key_free(k);
        sbprov_key_free(other);
        sbprov_key_free(ed);
        sbprov_key_free(pub);
    }
    /* One key source only. */
    sbprov_store_open_options o;
    sbprov_key *k = new_key(SBPROV_KEY_ECDSA_P256);
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    o.sealing_key = k;
    o.key_file = f->key;
    assert_fails_with(sbprov_store_open(&s, f->dir, &o), SBPROV_EINVAL, "exactly one of");
    sbprov_key_free(k);
}

static void flip_byte(const char *path, long off)
{
    FILE *fp = fopen(path, "r+b");
    int c;
    assert_non_null(fp);
    fseek(fp, off, off < 0 ? SEEK_END : SEEK_SET);
    c = fgetc(fp);
    fseek(fp, -1, SEEK_CUR);
    fputc(c ^ 0x01, fp);
    fclose(fp);
}

static void test_tampering(void **state)
{
    fixture *f = *state;
    char pa[256], pb[256], cmd[600];
    size_t len;
    struct stat st;

    assert_ok(sbprov_store_put(f->s, "a", "value-a", 7));
    assert_ok(sbprov_store_put(f->s, "b", "value-b", 7));
    path_in(pa, sizeof pa, f, "e.a");
    path_in(pb, sizeof pb, f, "e.b");

    /* Every byte of the file is covered. */
    assert_int_equal(stat(pa, &st), 0);
    for (long off = 0; off < st.st_size; off++) {
        flip_byte(pa, off);
        sbprov_result rc = sbprov_store_get(NULL, 0, &len, f->s, "a");
        if (rc != SBPROV_ETAMPERED && rc != SBPROV_EFORMAT)
            fail_msg("flipping byte %ld gave %d (%s)", off, rc, sbprov_last_error());
        flip_byte(pa, off);
    }
    assert_value(f->s, "a", "value-a");

    /* Truncated. */
    assert_int_equal(truncate(pa, st.st_size - 1), 0);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "a"), SBPROV_ETAMPERED, "truncated");
    assert_int_equal(truncate(pa, 3), 0);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "a"), SBPROV_ETAMPERED, "not a store entry");
    assert_int_equal(truncate(pa, 0), 0);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "a"), SBPROV_ETAMPERED, "0 bytes");

    /* Entry b moved over a: authenticated under the wrong name. */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", pb, pa);
    assert_int_equal(system(cmd), 0);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "a"), SBPROV_ETAMPERED, "authentication failed");
    assert_value(f->s, "b", "value-b");

    /* A newer format version. */
    FILE *fp = fopen(pb, "r+b");
    fseek(fp, 4, SEEK_SET);
    fputc(2, fp);
    fclose(fp);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "b"), SBPROV_EFORMAT, "format version 2");

    /* Newer store metadata. */
    char meta[256];
    sbprov_store *s = NULL;
    path_in(meta, sizeof meta, f, ".sbprov-store");
    fp = fopen(meta, "r+b");
    fseek(fp, 13, SEEK_SET);
    fputc('7', fp);
    fclose(fp);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EFORMAT, "format version 7");
    fp = fopen(meta, "r+b");
    fseek(fp, 13, SEEK_SET);
    fputc('1', fp);
    fclose(fp);
    assert_ok(open_keyfile(&s, f->dir, f->key, 0));
    sbprov_store_free(s);
}

static int collect_cb(const char *name, void *payload)
{
    char *acc = payload;
    strcat(acc, name);
    strcat(acc, ";");
    return strcmp(name, "stop") == 0;
}

static void test_list_and_swap(void **state)
{
    fixture *f = *state;
    char names[256] = "", buf[64];
    size_t len;

    assert_ok(sbprov_store_list_names(buf, sizeof buf, &len, f->s));
    assert_string_equal(buf, "");
    assert_ok(sbprov_store_put(f->s, "primary", "P", 1));
    assert_ok(sbprov_store_put(f->s, "secondary", "S", 1));
    assert_ok(sbprov_store_put(f->s, "a-1", "A", 1));
    assert_ok(sbprov_store_list(f->s, collect_cb, names));
    assert_string_equal(names, "a-1;primary;secondary;");
    assert_ok(sbprov_store_list_names(buf, sizeof buf, &len, f->s));
    assert_string_equal(buf, "a-1\nprimary\nsecondary\n");
    assert_int_equal(len, 22);
    assert_fails_with(sbprov_store_list_names(buf, 5, &len, f->s), SBPROV_EBUFS, "");
    assert_int_equal(len, 23);
    assert_ok(sbprov_store_put(f->s, "stop", "", 0));
    names[0] = '\0';
    assert_ok(sbprov_store_list(f->s, collect_cb, names));
    assert_string_equal(names, "a-1;primary;secondary;stop;");

    assert_ok(sbprov_store_swap(f->s, "primary", "secondary"));
    assert_value(f->s, "primary", "S");
    assert_value(f->s, "secondary", "P");
    assert_fails_with(sbprov_store_swap(f->s, "primary", "missing"), SBPROV_ENOTFOUND, "missing");
    assert_value(f->s, "primary", "S");
    /* No journal or temporary file is left behind. */
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, "tmp") != NULL || strcmp(e->d_name, ".sbprov-swap") == 0)
            fail_msg("left over: %s", e->d_name);
    closedir(d);
}

static void test_interrupted_swap_and_temps(void **state)
{
    fixture *f = *state;
    char p[256];
    sbprov_store *s = NULL;

    assert_ok(sbprov_store_put(f->s, "p", "one", 3));
    assert_ok(sbprov_store_put(f->s, "q", "two", 3));
    /* A stale temporary file from a writer that died is removed at open. */
    path_in(p, sizeof p, f, ".e.p.tmp-1-2-3");
    FILE *fp = fopen(p, "wb");
    fputs("junk", fp);
    fclose(fp);
    assert_ok(open_keyfile(&s, f->dir, f->key, 0));
    assert_int_equal(access(p, F_OK), -1);
    sbprov_store_free(s);
    /* A corrupt journal is a clear error for every operation. */
    path_in(p, sizeof p, f, ".sbprov-swap");
    fp = fopen(p, "wb");
    fputs("SBPJ\x01garbage", fp);
    fclose(fp);
    assert_fails_with(sbprov_store_exists(f->s, "p"), SBPROV_ETAMPERED, "swap journal");
    unlink(p);
    assert_value(f->s, "p", "one");
}

static void test_env_export_import(void **state)
{
    fixture *f = *state;
    char env[200], *text;
    sbprov_store *s2 = NULL;
    char dir2[160];

    snprintf(env, sizeof env, "%s/out.env", f->root);
    assert_ok(sbprov_store_put(f->s, "IOTHUB_KEY", "abc+/=", 6));
    assert_ok(sbprov_store_put(f->s, "TRICKY", "a \"b\" $HOME `x` \\ c", 19));
    assert_ok(sbprov_store_put(f->s, "PEM", "line1\nline2\ttab", 15));
    assert_ok(sbprov_store_put(f->s, "dotted.name", "v", 1));

    assert_ok(sbprov_store_export_env(f->s, "IOTHUB_KEY,TRICKY", env, SBPROV_ENV_DOCKER));
    text = test_slurp(env, NULL);
    assert_string_equal(text, "IOTHUB_KEY=abc+/=\nTRICKY=a \"b\" $HOME `x` \\ c\n");
    free(text);
    struct stat st;
    assert_int_equal(stat(env, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_ok(sbprov_store_export_env(f->s, "TRICKY,PEM", env, SBPROV_ENV_SYSTEMD));
    text = test_slurp(env, NULL);
    assert_string_equal(text, "TRICKY=\"a \\\"b\\\" \\$HOME \\`x\\` \\\\ c\"\nPEM=\"line1\nline2\ttab\"\n");
    free(text);

    /* Round trip into a second store. */
    snprintf(dir2, sizeof dir2, "%s/second", f->root);
    assert_ok(open_keyfile(&s2, dir2, f->key, 1));
    assert_ok(sbprov_store_import_env(s2, env, SBPROV_ENV_SYSTEMD));
    assert_value(s2, "TRICKY", "a \"b\" $HOME `x` \\ c");
    assert_value(s2, "PEM", "line1\nline2\ttab");
    assert_ok(sbprov_store_export_env(f->s, "IOTHUB_KEY,TRICKY", env, SBPROV_ENV_DOCKER));
    assert_ok(sbprov_store_import_env(s2, env, SBPROV_ENV_DOCKER));
    assert_value(s2, "IOTHUB_KEY", "abc+/=");

    /* Values a format cannot carry: a clear error, the old file untouched. */
    assert_fails_with(sbprov_store_export_env(f->s, "PEM", env, SBPROV_ENV_DOCKER), SBPROV_EPARSE,
                      "control character 0x0a at byte 5");
    assert_ok(sbprov_store_put(f->s, "BIN", "\xff", 1));
    assert_fails_with(sbprov_store_export_env(f->s, "BIN", env, SBPROV_ENV_SYSTEMD), SBPROV_EPARSE, "UTF-8");
    assert_ok(sbprov_store_put(f->s, "CR", "a\rb", 3));
    assert_fails_with(sbprov_store_export_env(f->s, "CR", env, SBPROV_ENV_SYSTEMD), SBPROV_EPARSE, "0x0d");
    assert_ok(sbprov_store_put(f->s, "QUOTED", "\"x\"", 3));
    assert_fails_with(sbprov_store_export_env(f->s, "QUOTED", env, SBPROV_ENV_DOCKER), SBPROV_EPARSE, "quote");
    assert_fails_with(sbprov_store_export_env(f->s, "dotted.name", env, SBPROV_ENV_DOCKER), SBPROV_EID,
                      "environment variable name");
    assert_fails_with(sbprov_store_export_env(f->s, "IOTHUB_KEY,,PEM", env, SBPROV_ENV_DOCKER), SBPROV_EID, "empty");
    assert_fails_with(sbprov_store_export_env(f->s, "NOPE", env, SBPROV_ENV_DOCKER), SBPROV_ENOTFOUND, "NOPE");
    assert_fails_with(sbprov_store_export_env(f->s, NULL, env, (sbprov_env_format)9), SBPROV_EINVAL, "format");
    text = test_slurp(env, NULL);
    assert_string_equal(text, "IOTHUB_KEY=abc+/=\nTRICKY=a \"b\" $HOME `x` \\ c\n");
    free(text);

    /* Import errors; nothing is written from a malformed file. */
    FILE *fp = fopen(env, "wb");
    fputs("# comment\n\nGOOD=1\nBAD LINE\n", fp);
    fclose(fp);
    assert_fails_with(sbprov_store_import_env(s2, env, SBPROV_ENV_DOCKER), SBPROV_EPARSE, "line 4");
    assert_int_equal(sbprov_store_exists(s2, "GOOD"), SBPROV_ENOTFOUND);
    fp = fopen(env, "wb");
    fputs("; c\nK = \"unterminated\n", fp);
    fclose(fp);
    assert_fails_with(sbprov_store_import_env(s2, env, SBPROV_ENV_SYSTEMD), SBPROV_EPARSE, "unterminated");
    fp = fopen(env, "wb");
    fputs("K = 'single $x' \nU=  plain\\ value  \n", fp);
    fclose(fp);
    assert_ok(sbprov_store_import_env(s2, env, SBPROV_ENV_SYSTEMD));
    assert_value(s2, "K", "single $x");
    assert_value(s2, "U", "plain value");
    fp = fopen(env, "wb");
    fputs("a/b=1\n", fp);
    fclose(fp);
    assert_fails_with(sbprov_store_import_env(s2, env, SBPROV_ENV_DOCKER), SBPROV_EID, "a/b");
    sbprov_store_free(s2);
}

/* --- threads ------------------------------------------------------------------ */

#define THREADS 8
#define PUTS 40

typedef struct worker {
    fixture *f;
    int id;
    int own_handle;
} worker;

static void *writer(void *arg)
{
    worker *w = arg;
    sbprov_store *s = w->f->s;
    char name[32], value[32];

    if (w->own_handle && open_keyfile(&s, w->f->dir, w->f->key, 0) != SBPROV_OK)
        return (void *)1;
    for (int i = 0; i < PUTS; i++) {
        snprintf(name, sizeof name, "t%d-%d", w->id, i);
        snprintf(value, sizeof value, "value %d %d", w->id, i);
        if (sbprov_store_put(s, name, value, strlen(value)) != SBPROV_OK)
            return (void *)2;
        snprintf(value, sizeof value, "shared %d %d", w->id, i);
        if (sbprov_store_put(s, "shared", value, strlen(value)) != SBPROV_OK)
            return (void *)3;
    }
    if (w->own_handle)
        sbprov_store_free(s);
    return NULL;
}

static void test_threads_no_lost_update(void **state)
{
    fixture *f = *state;
    pthread_t t[THREADS];
    worker w[THREADS];
    char name[32], want[32];
    size_t len;
    void *ret;

    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){f, i, i % 2};
        assert_int_equal(pthread_create(&t[i], NULL, writer, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PUTS; j++) {
            snprintf(name, sizeof name, "t%d-%d", i, j);
            snprintf(want, sizeof want, "value %d %d", i, j);
            assert_value(f->s, name, want);
        }
    char buf[64];
    assert_ok(sbprov_store_get(buf, sizeof buf, &len, f->s, "shared"));
    assert_true(len > 7 && memcmp(buf, "shared ", 7) == 0);
}

/* --- several processes ---------------------------------------------------------
 * Each child opens the store itself (its own flock), overwrites entries of its
 * own, writes one shared entry and swaps a pair of its own; nothing may be lost,
 * torn or left behind. Children report by exit status, never through cmocka. */
#define PROCS 5
#define PROC_PUTS 50
#define PROC_OWN 10  /* own entries, each overwritten PROC_PUTS / PROC_OWN times */
#define PROC_SWAPS 3 /* odd: the pair ends up exchanged */

static int proc_child(const fixture *f, int id, int go_fd)
{
    sbprov_store *s = NULL;
    sbprov_store_open_options o;
    char name[32], other[32], value[48];
    char c;

    if (sbprov_store_open_options_init(&o, sizeof o) != SBPROV_OK)
        return 10;
    o.key_file = f->key;
    if (sbprov_store_open(&s, f->dir, &o) != SBPROV_OK)
        return 11;
    snprintf(name, sizeof name, "pa%d", id);
    snprintf(other, sizeof other, "pb%d", id);
    snprintf(value, sizeof value, "A%d", id);
    if (sbprov_store_put(s, name, value, strlen(value)) != SBPROV_OK)
        return 12;
    snprintf(value, sizeof value, "B%d", id);
    if (sbprov_store_put(s, other, value, strlen(value)) != SBPROV_OK)
        return 13;
    /* Start together: the parent closes the write end once all are forked. */
    while (read(go_fd, &c, 1) < 0)
        ;
    for (int i = 0; i < PROC_PUTS; i++) {
        snprintf(name, sizeof name, "p%d-%d", id, i % PROC_OWN);
        snprintf(value, sizeof value, "value %d %d", id, i);
        if (sbprov_store_put(s, name, value, strlen(value)) != SBPROV_OK)
            return 14;
        if (i % 5 == 0) {
            snprintf(value, sizeof value, "shared %d %d", id, i);
            if (sbprov_store_put(s, "shared", value, strlen(value)) != SBPROV_OK)
                return 15;
        }
        if (i % (PROC_PUTS / PROC_SWAPS) == 0 && i / (PROC_PUTS / PROC_SWAPS) < PROC_SWAPS) {
            snprintf(name, sizeof name, "pa%d", id);
            if (sbprov_store_swap(s, name, other) != SBPROV_OK)
                return 16;
        }
    }
    sbprov_store_free(s);
    return 0;
}

static void test_processes_no_lost_update(void **state)
{
    fixture *f = *state;
    pid_t pid[PROCS];
    int go[2], status;
    char name[32], want[48], buf[64];
    size_t len;

    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < PROCS; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            close(go[1]);
            _exit(proc_child(f, i, go[0]));
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < PROCS; i++) {
        assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("writer process %d: status 0x%x", i, status);
    }

    /* Every process's own entries hold its last value for them. */
    for (int i = 0; i < PROCS; i++) {
        for (int k = 0; k < PROC_OWN; k++) {
            snprintf(name, sizeof name, "p%d-%d", i, k);
            snprintf(want, sizeof want, "value %d %d", i, PROC_PUTS - PROC_OWN + k);
            assert_value(f->s, name, want);
        }
        /* An odd number of swaps: the pair is exchanged, neither lost nor doubled. */
        snprintf(name, sizeof name, "pa%d", i);
        snprintf(want, sizeof want, "B%d", i);
        assert_value(f->s, name, want);
        snprintf(name, sizeof name, "pb%d", i);
        snprintf(want, sizeof want, "A%d", i);
        assert_value(f->s, name, want);
    }
    /* The shared entry authenticates and holds one of the values written. */
    assert_ok(sbprov_store_get(buf, sizeof buf - 1, &len, f->s, "shared"));
    buf[len] = '\0';
    int id = -1, n = -1, end = 0;
    assert_int_equal(sscanf(buf, "shared %d %d%n", &id, &n, &end), 2);
    assert_int_equal((size_t)end, len);
    assert_true(id >= 0 && id < PROCS && n >= 0 && n < PROC_PUTS && n % 5 == 0);

    /* Exactly the expected entries, and no temporary file or journal left. */
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int entries = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".tmp-") != NULL || strcmp(e->d_name, SBPROV__STORE_JOURNAL) == 0)
            fail_msg("left behind in the store: %s", e->d_name);
        if (strncmp(e->d_name, SBPROV__ENTRY_PREFIX, 2) == 0)
            entries++;
    }
    closedir(d);
    assert_int_equal(entries, PROCS * (PROC_OWN + 2) + 1);
}

/* --- files owned by another user (root only) ------------------------------------ */
#define NOBODY 65534

static void test_owned_by_other_user(void **state)
{
    fixture *f = *state;
    sbprov_store *s = NULL;
    char p[256];
    size_t len;

    if (geteuid() != 0) {
        skip();
        return;
    }
    /* The store directory owned by someone else is refused at open. */
    assert_int_equal(chown(f->dir, NOBODY, NOBODY), 0);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EUNSAFE, "owned by uid 65534");
    assert_null(s);
    assert_int_equal(chown(f->dir, 0, 0), 0);

    /* Regression: entries and store files owned by another user were read
     * (only symlinks and file types were checked). */
    assert_ok(sbprov_store_put(f->s, "owned", "secret", 6));
    path_in(p, sizeof p, f, "e.owned");
    assert_int_equal(chown(p, NOBODY, NOBODY), 0);
    assert_fails_with(sbprov_store_get(NULL, 0, &len, f->s, "owned"), SBPROV_EUNSAFE, "owned");
    path_in(p, sizeof p, f, SBPROV__STORE_META);
    assert_int_equal(chown(p, NOBODY, NOBODY), 0);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EUNSAFE, "owned");
    assert_null(s);
    assert_int_equal(chown(p, 0, 0), 0);
    path_in(p, sizeof p, f, SBPROV__STORE_LOCK);
    assert_int_equal(chown(p, NOBODY, NOBODY), 0);
    assert_fails_with(open_keyfile(&s, f->dir, f->key, 0), SBPROV_EUNSAFE, "lock file");
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_delete_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_keys_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_swap_and_temps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_export_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_no_lost_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_no_lost_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owned_by_other_user, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
