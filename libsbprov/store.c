/* The credential store: opening and validating the directory, locking
 * (flock on a lock file for processes, a mutex for threads sharing a handle),
 * the swap journal, and the entry operations. Entries are sealed and opened
 * in store_entry.c; keys and metadata are in store_kdf.c. */
#include "store_internal.h"

#include "atomic_file.h"
#include "digest.h"
#include "error.h"
#include "options.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_SIZE (offsetof(sbprov_store_open_options, scrypt_log2_n) + sizeof(uint32_t))
#define JOURNAL_MAX (2 * SBPROV__ENTRY_MAX + 2 * SBPROV_STORE_NAME_MAX + 64)
#define FNAME_MAX (sizeof SBPROV__ENTRY_PREFIX + SBPROV_STORE_NAME_MAX)

sbprov_result sbprov_store_open_options_init(sbprov_store_open_options *opts, size_t struct_size)
{
    return sbprov__options_init(opts, struct_size, FIRST_SIZE, "store open options");
}

static void entry_file(char out[FNAME_MAX], const char *name)
{
    snprintf(out, FNAME_MAX, "%s%s", SBPROV__ENTRY_PREFIX, name);
}

sbprov_result sbprov__store_read_file(uint8_t **out, size_t *out_len, int dirfd, const char *file, size_t max,
                                      int store_file, const char *display)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        if (errno == ENOENT)
            return sbprov__fail(SBPROV_ENOTFOUND, "%s: '%s' does not exist", display, file);
        if (errno == ELOOP)
            return sbprov__fail(SBPROV_EUNSAFE, "%s: '%s' is a symbolic link", display, file);
        return sbprov__fail(SBPROV_EIO, "%s: cannot open '%s': %s", display, file, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sbprov__fail(SBPROV_EUNSAFE, "%s: '%s' is not a regular file", display, file);
    }
    /* A file in the store that another user owns could have been planted. */
    if (store_file && st.st_uid != geteuid()) {
        close(fd);
        return sbprov__fail(SBPROV_EUNSAFE, "%s: '%s' is owned by uid %u, not by this user (uid %u)", display, file,
                            (unsigned)st.st_uid, (unsigned)geteuid());
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return sbprov__fail(SBPROV_ETAMPERED, "%s: '%s' is %lld bytes, more than the %zu allowed", display, file,
                            (long long)st.st_size, max);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return sbprov__fail(SBPROV_ENOMEM, "%s: out of memory reading '%s'", display, file);
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            sbprov__wipe_free(buf, (size_t)st.st_size + 1);
            return sbprov__fail(SBPROV_EIO, "%s: reading '%s' failed: %s", display, file, strerror(e));
        }
        if (n == 0)
            break; /* shrank meanwhile: authentication will tell */
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return SBPROV_OK;
}

/* --- swap journal ------------------------------------------------------------
 * "SBPJ" | version | len_a | name_a | len_b | name_b | be32 | blob_a | be32 |
 * blob_b | SHA-256 of everything before. Blobs are sealed entries (under their
 * target names). Written atomically, replayed until it is removed. */

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static size_t put_be32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

static sbprov_result replay_journal(sbprov_store *s)
{
    uint8_t *j = NULL, md[SBPROV__SHA256_LEN];
    size_t len = 0, alloc_len = 0, pos = 5;
    char name[2][SBPROV_STORE_NAME_MAX + 1], fname[FNAME_MAX];
    const uint8_t *blob[2];
    size_t blob_len[2];
    sbprov_result rc;

    rc = sbprov__store_read_file(&j, &len, s->dirfd, SBPROV__STORE_JOURNAL, JOURNAL_MAX, 1, s->dir);
    if (rc == SBPROV_ENOTFOUND)
        return SBPROV_OK;
    if (rc != SBPROV_OK)
        return rc;
    alloc_len = len + 1;
    if (len < 5 + SBPROV__SHA256_LEN || memcmp(j, "SBPJ", 4) != 0 || j[4] != SBPROV__STORE_FORMAT)
        goto bad;
    if ((rc = sbprov__sha256(md, j, len - SBPROV__SHA256_LEN)) != SBPROV_OK)
        goto out;
    if (CRYPTO_memcmp(md, j + len - SBPROV__SHA256_LEN, SBPROV__SHA256_LEN) != 0)
        goto bad;
    len -= SBPROV__SHA256_LEN;
    for (int i = 0; i < 2; i++) {
        size_t n;
        if (pos >= len || (n = j[pos++]) == 0 || n > SBPROV_STORE_NAME_MAX || len - pos < n)
            goto bad;
        memcpy(name[i], j + pos, n);
        name[i][n] = '\0';
        pos += n;
        if (sbprov__store_check_name(name[i]) != SBPROV_OK)
            goto bad;
    }
    for (int i = 0; i < 2; i++) {
        if (len - pos < 4)
            goto bad;
        blob_len[i] = be32(j + pos);
        pos += 4;
        if (len - pos < blob_len[i])
            goto bad;
        blob[i] = j + pos;
        pos += blob_len[i];
    }
    if (pos != len)
        goto bad;
    for (int i = 0; i < 2; i++) {
        entry_file(fname, name[i]);
        rc = sbprov__write_file_atomic_at(s->dirfd, fname, name[i], blob[i], blob_len[i], 0600, 1);
        if (rc != SBPROV_OK)
            goto out;
    }
    if (unlinkat(s->dirfd, SBPROV__STORE_JOURNAL, 0) != 0 || sbprov__fsync_dir(s->dirfd) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "store %s: cannot remove the swap journal: %s", s->dir, strerror(errno));
        goto out;
    }
    sbprov__log(SBPROV_LOG_INFO, "store %s: completed an interrupted swap of '%s' and '%s'", s->dir, name[0],
                name[1]);
    rc = SBPROV_OK;
    goto out;
bad:
    rc = sbprov__fail(SBPROV_ETAMPERED, "store %s: the swap journal %s is corrupt", s->dir, SBPROV__STORE_JOURNAL);
out:
    sbprov__wipe_free(j, alloc_len);
    return rc;
}

/* --- locking ---------------------------------------------------------------- */

static int flock_retry(int fd, int op)
{
    int r;
    do
        r = flock(fd, op);
    while (r != 0 && errno == EINTR);
    return r;
}

sbprov_result sbprov__store_lock(sbprov_store *s, int exclusive)
{
    struct stat st;
    sbprov_result rc = SBPROV_OK;

    pthread_mutex_lock(&s->mu);
    if (flock_retry(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "store %s: cannot lock: %s", s->dir, strerror(errno));
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    if (fstatat(s->dirfd, SBPROV__STORE_JOURNAL, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        /* A writer died during a swap: finish it before anyone reads. */
        if (!exclusive && flock_retry(s->lockfd, LOCK_EX) != 0)
            rc = sbprov__fail(SBPROV_EIO, "store %s: cannot lock: %s", s->dir, strerror(errno));
        if (rc == SBPROV_OK)
            rc = replay_journal(s);
        if (rc == SBPROV_OK && !exclusive && flock_retry(s->lockfd, LOCK_SH) != 0)
            rc = sbprov__fail(SBPROV_EIO, "store %s: cannot lock: %s", s->dir, strerror(errno));
    }
    if (rc != SBPROV_OK)
        sbprov__store_unlock(s);
    return rc;
}

void sbprov__store_unlock(sbprov_store *s)
{
    (void)flock_retry(s->lockfd, LOCK_UN);
    pthread_mutex_unlock(&s->mu);
}

/* --- open / close ------------------------------------------------------------ */

static sbprov_result check_dir(const struct stat *st, const char *dir)
{
    if (S_ISLNK(st->st_mode))
        return sbprov__fail(SBPROV_EUNSAFE, "store %s: is a symbolic link", dir);
    if (!S_ISDIR(st->st_mode))
        return sbprov__fail(SBPROV_EINVAL, "store %s: is not a directory", dir);
    if (st->st_uid != geteuid())
        return sbprov__fail(SBPROV_EUNSAFE, "store %s: owned by uid %u, not by the caller (uid %u)", dir,
                            (unsigned)st->st_uid, (unsigned)geteuid());
    if ((st->st_mode & 022) != 0)
        return sbprov__fail(SBPROV_EUNSAFE, "store %s: mode %04o is group- or world-writable (use 0700)", dir,
                            (unsigned)(st->st_mode & 07777));
    return SBPROV_OK;
}

/* Remove temporary files left by writers that died (only under the
 * exclusive lock, so no live writer owns them). */
static void remove_stale_temps(sbprov_store *s)
{
    int fd = dup(s->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    int removed = 0;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp-") != NULL && unlinkat(s->dirfd, e->d_name, 0) == 0)
            removed = 1;
    closedir(d);
    if (removed)
        (void)sbprov__fsync_dir(s->dirfd);
}

sbprov_result sbprov_store_open(sbprov_store **out, const char *dir, const sbprov_store_open_options *opts)
{
    sbprov_store_open_options o;
    sbprov_store *s;
    struct stat st;
    sbprov_result rc;
    int sources;

    if (out == NULL || dir == NULL || *dir == '\0')
        return sbprov__fail(SBPROV_EINVAL, "store open: NULL or empty argument");
    *out = NULL;
    if (opts == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store open: options are required (a key file, a passphrase, a "
                            "sealing key or plaintext must be chosen)");
    if ((rc = sbprov__options_load(&o, opts, FIRST_SIZE, sizeof o, "store open options")) != SBPROV_OK)
        return rc;
    sources = (o.key_file != NULL) + (o.passphrase != NULL) + (o.sealing_key != NULL) + (o.plaintext != 0);
    if (sources != 1)
        return sbprov__fail(SBPROV_EINVAL, "store open: exactly one of key_file, passphrase, sealing_key and "
                            "plaintext must be set (%d are)", sources);

    if (o.create && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return sbprov__fail(SBPROV_EIO, "store %s: cannot create the directory: %s", dir, strerror(errno));
    if (lstat(dir, &st) != 0)
        return sbprov__fail(errno == ENOENT ? SBPROV_ENOTFOUND : SBPROV_EIO, "store %s: %s", dir, strerror(errno));
    if ((rc = check_dir(&st, dir)) != SBPROV_OK)
        return rc;

    s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        return sbprov__fail(SBPROV_ENOMEM, "store %s: out of memory", dir);
    }
    s->lockfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s->dirfd < 0) {
        rc = sbprov__fail(errno == ELOOP ? SBPROV_EUNSAFE : SBPROV_EIO, "store %s: cannot open: %s", dir,
                          strerror(errno));
        goto fail;
    }
    if (fstat(s->dirfd, &st) != 0 || (rc = check_dir(&st, dir)) != SBPROV_OK) {
        if (rc == SBPROV_OK)
            rc = sbprov__fail(SBPROV_EIO, "store %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (!o.create && fstatat(s->dirfd, SBPROV__STORE_META, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = sbprov__fail(SBPROV_ENOTFOUND, "store %s: no store here (no %s)", dir, SBPROV__STORE_META);
        goto fail;
    }
    s->lockfd = openat(s->dirfd, SBPROV__STORE_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (s->lockfd < 0) {
        rc = sbprov__fail(errno == ELOOP ? SBPROV_EUNSAFE : SBPROV_EIO, "store %s: cannot open the lock file: %s",
                          dir, strerror(errno));
        goto fail;
    }
    {
        struct stat lock_st;
        if (fstat(s->lockfd, &lock_st) != 0 || !S_ISREG(lock_st.st_mode) || lock_st.st_uid != geteuid()) {
            rc = sbprov__fail(SBPROV_EUNSAFE, "store %s: the lock file is not a regular file owned by this user",
                              dir);
            goto fail;
        }
    }
    if ((rc = sbprov__store_lock(s, 1)) != SBPROV_OK)
        goto fail;
    rc = sbprov__store_setup_key(s, &o);
    if (rc == SBPROV_OK)
        remove_stale_temps(s);
    sbprov__store_unlock(s);
    if (rc != SBPROV_OK)
        goto fail;
    *out = s;
    return SBPROV_OK;
fail:
    sbprov_store_free(s);
    return rc;
}

void sbprov_store_free(sbprov_store *s)
{
    if (s == NULL)
        return;
    if (s->lockfd >= 0)
        close(s->lockfd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

/* --- entries ----------------------------------------------------------------- */

sbprov_result sbprov__store_get_locked(uint8_t **out, size_t *out_len, sbprov_store *s, const char *name)
{
    char fname[FNAME_MAX], display[512];
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    sbprov_result rc;

    entry_file(fname, name);
    snprintf(display, sizeof display, "store %s: entry '%s'", s->dir, name);
    rc = sbprov__store_read_file(&blob, &blob_len, s->dirfd, fname, SBPROV__ENTRY_MAX, 1, display);
    if (rc == SBPROV_ENOTFOUND)
        return sbprov__fail(SBPROV_ENOTFOUND, "store %s: no entry '%s'", s->dir, name);
    if (rc != SBPROV_OK)
        return rc;
    rc = sbprov__entry_open(out, out_len, s, name, blob, blob_len);
    sbprov__wipe_free(blob, blob_len + 1); /* plaintext in plaintext mode */
    return rc;
}

sbprov_result sbprov__store_put_locked(sbprov_store *s, const char *name, const void *value, size_t len)
{
    char fname[FNAME_MAX], display[512];
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    struct stat st;
    sbprov_result rc;

    entry_file(fname, name);
    snprintf(display, sizeof display, "store %s: entry '%s'", s->dir, name);
    if (fstatat(s->dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
        return sbprov__fail(SBPROV_EUNSAFE, "%s: is a symbolic link or not a regular file", display);
    if ((rc = sbprov__entry_seal(&blob, &blob_len, s, name, value, len)) != SBPROV_OK)
        return rc;
    rc = sbprov__write_file_atomic_at(s->dirfd, fname, display, blob, blob_len, 0600, 1);
    sbprov__wipe_free(blob, blob_len);
    return rc;
}

static sbprov_result check_value(const void *value, size_t len)
{
    if (value == NULL && len > 0)
        return sbprov__fail(SBPROV_EINVAL, "store put: value is NULL");
    if (len > SBPROV_STORE_VALUE_MAX)
        return sbprov__fail(SBPROV_EINVAL, "store put: value of %zu bytes exceeds the %u allowed", len,
                            SBPROV_STORE_VALUE_MAX);
    return SBPROV_OK;
}

sbprov_result sbprov_store_put(sbprov_store *s, const char *name, const void *value, size_t len)
{
    sbprov_result rc;

    if (s == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store put: NULL store");
    if ((rc = sbprov__store_check_name(name)) != SBPROV_OK || (rc = check_value(value, len)) != SBPROV_OK)
        return rc;
    if ((rc = sbprov__store_lock(s, 1)) != SBPROV_OK)
        return rc;
    rc = sbprov__store_put_locked(s, name, value, len);
    sbprov__store_unlock(s);
    return rc;
}

sbprov_result sbprov_store_get_alloc(void **out, size_t *out_len, sbprov_store *s, const char *name)
{
    uint8_t *v = NULL;
    size_t len = 0;
    sbprov_result rc;

    if (out == NULL || out_len == NULL || s == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store get: NULL argument");
    *out = NULL;
    *out_len = 0;
    if ((rc = sbprov__store_check_name(name)) != SBPROV_OK)
        return rc;
    if ((rc = sbprov__store_lock(s, 0)) != SBPROV_OK)
        return rc;
    rc = sbprov__store_get_locked(&v, &len, s, name);
    sbprov__store_unlock(s);
    if (rc == SBPROV_OK) {
        *out = v;
        *out_len = len;
    }
    return rc;
}

sbprov_result sbprov_store_get(void *buf, size_t buf_size, size_t *out_len, sbprov_store *s, const char *name)
{
    uint8_t *v = NULL;
    size_t len = 0;
    sbprov_result rc;

    if (s == NULL || (buf == NULL && buf_size > 0))
        return sbprov__fail(SBPROV_EINVAL, "store get: NULL argument");
    if ((rc = sbprov_store_get_alloc((void **)&v, &len, s, name)) != SBPROV_OK)
        return rc;
    if (len > buf_size) {
        rc = sbprov__fail(SBPROV_EBUFS, "store get: entry '%s' is %zu bytes, the buffer holds %zu", name, len,
                          buf_size);
    } else if (len > 0) {
        memcpy(buf, v, len);
    }
    if (out_len != NULL)
        *out_len = len;
    sbprov__wipe_free(v, len + 1);
    return rc;
}

sbprov_result sbprov_store_delete(sbprov_store *s, const char *name)
{
    char fname[FNAME_MAX];
    sbprov_result rc;

    if (s == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store delete: NULL store");
    if ((rc = sbprov__store_check_name(name)) != SBPROV_OK)
        return rc;
    entry_file(fname, name);
    if ((rc = sbprov__store_lock(s, 1)) != SBPROV_OK)
        return rc;
    if (unlinkat(s->dirfd, fname, 0) != 0)
        rc = sbprov__fail(errno == ENOENT ? SBPROV_ENOTFOUND : SBPROV_EIO, "store %s: cannot delete entry '%s': %s",
                          s->dir, name, strerror(errno));
    else if (sbprov__fsync_dir(s->dirfd) != 0)
        rc = sbprov__fail(SBPROV_EIO, "store %s: entry '%s' deleted, but syncing the directory failed: %s", s->dir,
                          name, strerror(errno));
    sbprov__store_unlock(s);
    return rc;
}

sbprov_result sbprov_store_exists(sbprov_store *s, const char *name)
{
    char fname[FNAME_MAX];
    struct stat st;
    sbprov_result rc;

    if (s == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store exists: NULL store");
    if ((rc = sbprov__store_check_name(name)) != SBPROV_OK)
        return rc;
    entry_file(fname, name);
    if ((rc = sbprov__store_lock(s, 0)) != SBPROV_OK)
        return rc;
    if (fstatat(s->dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) != 0)
        rc = sbprov__fail(errno == ENOENT ? SBPROV_ENOTFOUND : SBPROV_EIO, "store %s: entry '%s': %s", s->dir, name,
                          strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = sbprov__fail(SBPROV_EUNSAFE, "store %s: entry '%s' is a symbolic link or not a regular file", s->dir,
                          name);
    sbprov__store_unlock(s);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int name_ok(const char *n)
{
    size_t i;
    for (i = 0; n[i] != '\0'; i++)
        if (i >= SBPROV_STORE_NAME_MAX || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
                                                 n[i]) == NULL)
            return 0;
    return i > 0 && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/* Sorted names (malloc'd array of malloc'd strings); the caller holds a lock. */
sbprov_result sbprov__store_collect_names(char ***out, size_t *count, sbprov_store *s)
{
    int fd = dup(s->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    char **v = NULL;
    size_t n = 0, cap = 0;
    const size_t plen = sizeof SBPROV__ENTRY_PREFIX - 1;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return sbprov__fail(SBPROV_EIO, "store %s: cannot read the directory: %s", s->dir, strerror(errno));
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, SBPROV__ENTRY_PREFIX, plen) != 0 || !name_ok(e->d_name + plen))
            continue;
        if (n == cap) {
            char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (nv == NULL)
                goto oom;
            v = nv;
        }
        if ((v[n] = strdup(e->d_name + plen)) == NULL)
            goto oom;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *count = n;
    return SBPROV_OK;
oom:
    closedir(d);
    while (n > 0)
        free(v[--n]);
    free(v);
    return sbprov__fail(SBPROV_ENOMEM, "store %s: out of memory listing entries", s->dir);
}

void sbprov__store_free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

sbprov_result sbprov_store_list(sbprov_store *s, sbprov_store_list_cb cb, void *payload)
{
    char **v = NULL;
    size_t n = 0;
    sbprov_result rc;

    if (s == NULL || cb == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store list: NULL argument");
    if ((rc = sbprov__store_lock(s, 0)) != SBPROV_OK)
        return rc;
    rc = sbprov__store_collect_names(&v, &n, s);
    sbprov__store_unlock(s);
    if (rc != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (cb(v[i], payload) != 0)
            break;
    sbprov__store_free_names(v, n);
    return SBPROV_OK;
}

sbprov_result sbprov_store_list_names(char *buf, size_t buf_size, size_t *out_len, sbprov_store *s)
{
    char **v = NULL;
    size_t n = 0;
    sbprov__text t;
    sbprov_result rc;

    if (s == NULL || (buf == NULL && buf_size > 0))
        return sbprov__fail(SBPROV_EINVAL, "store list: NULL argument");
    if ((rc = sbprov__store_lock(s, 0)) != SBPROV_OK)
        return rc;
    rc = sbprov__store_collect_names(&v, &n, s);
    sbprov__store_unlock(s);
    if (rc != SBPROV_OK)
        return rc;
    sbprov__text_init(&t, buf, buf_size);
    for (size_t i = 0; i < n; i++) {
        sbprov__text_append_str(&t, v[i]);
        sbprov__text_append(&t, "\n", 1);
    }
    sbprov__store_free_names(v, n);
    return sbprov__text_finish(&t, out_len);
}

sbprov_result sbprov_store_swap(sbprov_store *s, const char *a, const char *b)
{
    uint8_t *va = NULL, *vb = NULL, *ba = NULL, *bb = NULL, *j = NULL;
    size_t la = 0, lb = 0, bla = 0, blb = 0, jl = 0, pos = 0;
    char display[512];
    sbprov_result rc;

    if (s == NULL)
        return sbprov__fail(SBPROV_EINVAL, "store swap: NULL store");
    if ((rc = sbprov__store_check_name(a)) != SBPROV_OK || (rc = sbprov__store_check_name(b)) != SBPROV_OK)
        return rc;
    if (strcmp(a, b) == 0)
        return sbprov__fail(SBPROV_EINVAL, "store swap: '%s' with itself", a);
    if ((rc = sbprov__store_lock(s, 1)) != SBPROV_OK)
        return rc;
    if ((rc = sbprov__store_get_locked(&va, &la, s, a)) != SBPROV_OK ||
        (rc = sbprov__store_get_locked(&vb, &lb, s, b)) != SBPROV_OK ||
        (rc = sbprov__entry_seal(&ba, &bla, s, a, vb, lb)) != SBPROV_OK ||
        (rc = sbprov__entry_seal(&bb, &blb, s, b, va, la)) != SBPROV_OK)
        goto out;
    jl = 5 + 2 + strlen(a) + strlen(b) + 8 + bla + blb + SBPROV__SHA256_LEN;
    if ((j = malloc(jl)) == NULL) {
        rc = sbprov__fail(SBPROV_ENOMEM, "store swap: out of memory");
        goto out;
    }
    memcpy(j, "SBPJ", 4);
    j[4] = SBPROV__STORE_FORMAT;
    pos = 5;
    j[pos++] = (uint8_t)strlen(a);
    memcpy(j + pos, a, strlen(a));
    pos += strlen(a);
    j[pos++] = (uint8_t)strlen(b);
    memcpy(j + pos, b, strlen(b));
    pos += strlen(b);
    pos += put_be32(j + pos, bla);
    memcpy(j + pos, ba, bla);
    pos += bla;
    pos += put_be32(j + pos, blb);
    memcpy(j + pos, bb, blb);
    pos += blb;
    if ((rc = sbprov__sha256(j + pos, j, pos)) != SBPROV_OK)
        goto out;
    snprintf(display, sizeof display, "store %s: swap journal", s->dir);
    /* Once the journal is in place the swap is decided: replaying it (now, or
     * after a crash by the next caller) writes both entries. */
    rc = sbprov__write_file_atomic_at(s->dirfd, SBPROV__STORE_JOURNAL, display, j, jl, 0600, 0);
    if (rc == SBPROV_OK)
        rc = replay_journal(s);
out:
    sbprov__store_unlock(s);
    if (va != NULL)
        sbprov__wipe_free(va, la + 1);
    if (vb != NULL)
        sbprov__wipe_free(vb, lb + 1);
    sbprov__wipe_free(ba, bla);
    sbprov__wipe_free(bb, blb);
    sbprov__wipe_free(j, jl);
    return rc;
}
