/* libFuzzer target: the credential store's on-disk parsers on arbitrary bytes.
 * The input is taken, in turn, as
 *   - the raw bytes of the entry file of "azure.primary", opened by
 *     sbprov__entry_open() in an encrypted store (fixed key file) and in a
 *     plaintext store;
 *   - the store metadata file .sbprov-store, read by sbprov__store_setup_key()
 *     with a key file and in plaintext mode (never a passphrase: a metadata
 *     file may ask for an scrypt cost far beyond a fuzzer's budget);
 *   - the swap journal .sbprov-swap, replayed by the next operation.
 * Every call must end in one of its documented results; nothing may crash,
 * leak or read out of bounds. Built and run by tests/fuzz/run-fuzzer.sh; the
 * seeds in corpus/store are real files of stores with the key below. */
#include "store_internal.h"
#include "fuzz_check.h"

#include <sbprov/sbprov.h>
#include <sbprov/store.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENTRY_NAME "azure.primary"

static char root[64], keyfile[128], metadir[128];
static sbprov_store *enc, *plain; /* real stores: entries and journals */
static sbprov_store meta_s;       /* a bare handle over metadir for setup_key */

/* The fixed master key of the seeds: bytes 0x40, 0x41, ... 0x5f. */
static void write_key(const char *path)
{
    uint8_t key[SBPROV_STORE_KEY_SIZE];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    for (int i = 0; i < SBPROV_STORE_KEY_SIZE; i++)
        key[i] = (uint8_t)(0x40 + i);
    CHECK(write(fd, key, sizeof key) == (ssize_t)sizeof key);
    CHECK(close(fd) == 0);
}

static sbprov_store *open_store(const char *sub, int plaintext)
{
    char dir[160];
    sbprov_store_open_options o;
    sbprov_store *s = NULL;

    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    CHECK(sbprov_store_open_options_init(&o, sizeof o) == SBPROV_OK);
    if (plaintext)
        o.plaintext = 1;
    else
        o.key_file = keyfile;
    o.create = 1;
    CHECK(sbprov_store_open(&s, dir, &o) == SBPROV_OK);
    return s;
}

static void cleanup(void)
{
    char cmd[128];
    sbprov_store_free(enc);
    sbprov_store_free(plain);
    if (meta_s.dirfd > 0)
        close(meta_s.dirfd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_store_parse: could not remove %s\n", root);
}

static void init(void)
{
    strcpy(root, "/tmp/sbprov-fuzz-store-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    snprintf(keyfile, sizeof keyfile, "%s/key", root);
    snprintf(metadir, sizeof metadir, "%s/meta", root);
    write_key(keyfile);
    enc = open_store("enc", 0);
    plain = open_store("plain", 1);
    CHECK(mkdir(metadir, 0700) == 0);
    meta_s.dirfd = open(metadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(meta_s.dirfd >= 0);
    meta_s.lockfd = -1;
    meta_s.dir = metadir;
    atexit(cleanup);
}

static void put_file(int dirfd, const char *file, const uint8_t *data, size_t size)
{
    int fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
    CHECK(close(fd) == 0);
}

static void fuzz_entry(const sbprov_store *s, const uint8_t *data, size_t size)
{
    uint8_t *v = NULL;
    size_t len = 12345;
    sbprov_result rc = sbprov__entry_open(&v, &len, s, ENTRY_NAME, data, size);

    if (rc != SBPROV_OK) {
        CHECK(rc == SBPROV_ETAMPERED || rc == SBPROV_EFORMAT);
        CHECK(v == NULL && sbprov_last_error()[0] != '\0');
        return;
    }
    /* Authenticated: the header's length is the file's, the value is NUL-ended. */
    CHECK(v != NULL && size == SBPROV__ENTRY_HDR + len + SBPROV__ENTRY_TAG && v[len] == '\0');
    CHECK(data[5] == (s->plaintext ? 0 : 1));
    if (s->plaintext)
        CHECK(len == 0 || memcmp(v, data + SBPROV__ENTRY_HDR, len) == 0);
    /* Sealing the value again gives an entry that opens to the same bytes. */
    uint8_t *blob = NULL, *v2 = NULL;
    size_t blob_len = 0, len2 = 0;
    CHECK(sbprov__entry_seal(&blob, &blob_len, s, ENTRY_NAME, v, len) == SBPROV_OK);
    CHECK(blob_len == size);
    CHECK(sbprov__entry_open(&v2, &len2, s, ENTRY_NAME, blob, blob_len) == SBPROV_OK);
    CHECK(len2 == len && (len == 0 || memcmp(v, v2, len) == 0));
    /* Under another name it must not authenticate. */
    sbprov__wipe_free(v2, len2 + 1);
    v2 = NULL;
    CHECK(sbprov__entry_open(&v2, &len2, s, ENTRY_NAME "x", data, size) == SBPROV_ETAMPERED && v2 == NULL);
    sbprov__wipe_free(blob, blob_len);
    sbprov__wipe_free(v, len + 1);
}

static void fuzz_meta(const uint8_t *data, size_t size)
{
    sbprov_store_open_options o;
    sbprov_result rc;

    put_file(meta_s.dirfd, SBPROV__STORE_META, data, size);
    for (int plaintext = 0; plaintext <= 1; plaintext++) {
        CHECK(sbprov_store_open_options_init(&o, sizeof o) == SBPROV_OK);
        if (plaintext)
            o.plaintext = 1;
        else
            o.key_file = keyfile;
        meta_s.plaintext = -1;
        rc = sbprov__store_setup_key(&meta_s, &o);
        CHECK(rc == SBPROV_OK || rc == SBPROV_ETAMPERED || rc == SBPROV_EFORMAT || rc == SBPROV_EKEY ||
              rc == SBPROV_EPASSPHRASE);
        if (rc == SBPROV_OK)
            CHECK(meta_s.plaintext == plaintext);
        else
            CHECK(sbprov_last_error()[0] != '\0');
    }
    OPENSSL_cleanse(meta_s.key, sizeof meta_s.key);
}

static void fuzz_journal(sbprov_store *s, const uint8_t *data, size_t size)
{
    sbprov_result rc;

    put_file(s->dirfd, SBPROV__STORE_JOURNAL, data, size);
    rc = sbprov_store_exists(s, ENTRY_NAME);
    CHECK(rc == SBPROV_OK || rc == SBPROV_ENOTFOUND || rc == SBPROV_ETAMPERED || rc == SBPROV_EFORMAT);
    if (rc == SBPROV_ETAMPERED) {
        /* A journal that does not verify stays, and blocks every operation. */
        CHECK(faccessat(s->dirfd, SBPROV__STORE_JOURNAL, F_OK, 0) == 0);
        CHECK(unlinkat(s->dirfd, SBPROV__STORE_JOURNAL, 0) == 0);
    } else if (rc != SBPROV_EFORMAT) {
        /* Replayed (or there was none): it is gone. */
        CHECK(faccessat(s->dirfd, SBPROV__STORE_JOURNAL, F_OK, 0) != 0);
    } else {
        (void)unlinkat(s->dirfd, SBPROV__STORE_JOURNAL, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;

    if (!ready) {
        init();
        ready = 1;
    }
    fuzz_entry(enc, data, size);
    fuzz_entry(plain, data, size);
    fuzz_meta(data, size);
    fuzz_journal(enc, data, size);
    return 0;
}
