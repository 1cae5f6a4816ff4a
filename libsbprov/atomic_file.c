/* Crash-safe file replacement: temporary file in the same directory, fsync,
 * rename (or no-replace link), directory fsync. Used for private keys and any
 * other file that must never be seen half-written or with a wide mode. */
#include "atomic_file.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Longest part of the target's name copied into the temporary name, so the
 * temporary name stays below NAME_MAX (255) for any valid target name. */
#define TMP_NAME_BASE_MAX 200

static atomic_uint tmp_counter;

/* Split `path` into a directory (to open) and the last component. */
static sbprov_result split_path(const char *path, char **dir, const char **base)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len;

    *base = slash != NULL ? slash + 1 : path;
    if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: not a file name (ends with '/', '.' or '..')", path);
    if (slash == NULL) {
        *dir = strdup(".");
    } else {
        dir_len = slash == path ? 1 : (size_t)(slash - path); /* "/name" -> "/" */
        *dir = strndup(path, dir_len);
    }
    if (*dir == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "out of memory for a path");
    return SBPROV_OK;
}

/* Create ".<base>.tmp-<unique>" in dirfd with exactly `mode`. */
static int create_temp(int dirfd, const char *base, mode_t mode, char *name, size_t name_size)
{
    struct timespec ts;

    for (int tries = 0; tries < 100; tries++) {
        unsigned n = atomic_fetch_add(&tmp_counter, 1u);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(name, name_size, ".%.*s.tmp-%ld-%u-%06lx", TMP_NAME_BASE_MAX, base, (long)getpid(), n,
                 (unsigned long)(ts.tv_nsec & 0xffffff));
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) { /* cannot happen for a regular file; never loop forever */
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_retry(int fd)
{
    int r;
    do
        r = fsync(fd);
    while (r != 0 && errno == EINTR);
    return r;
}

/* Move the temporary file to `base` without replacing an existing file.
 * Returns 0, or -1 with errno (EEXIST when the target exists). */
static int link_no_replace(int dirfd, const char *tmp, const char *base)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(dirfd, tmp, dirfd, base, RENAME_NOREPLACE) == 0)
        return 0;
    /* EINVAL: the file system does not support the flag; ENOSYS: old kernel. */
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return -1;
#endif
    if (linkat(dirfd, tmp, dirfd, base, 0) != 0)
        return -1;
    /* The target is in place; a leftover temporary name only wastes a link. */
    (void)unlinkat(dirfd, tmp, 0);
    return 0;
}

int sbprov__fsync_dir(int dirfd)
{
    if (fsync_retry(dirfd) != 0 && errno != EINVAL && errno != EROFS)
        return -1;
    return 0;
}

sbprov_result sbprov__write_file_atomic_at(int dirfd, const char *base, const char *path, const void *data,
                                           size_t len, mode_t mode, int overwrite)
{
    char tmp[TMP_NAME_BASE_MAX + 64];
    int fd = -1, tmp_exists = 0;
    struct stat st;
    sbprov_result rc;

    if (base == NULL || *base == '\0' || path == NULL || (data == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "write file: NULL or empty argument");
    if (!overwrite && fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return sbprov__fail(SBPROV_EEXISTS, "%s: already exists (overwriting was not asked for)", path);

    fd = create_temp(dirfd, base, mode, tmp, sizeof tmp);
    if (fd < 0)
        return sbprov__fail(SBPROV_EIO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    tmp_exists = 1;
    /* The umask may have narrowed the mode; it can never have widened it. Set
     * it exactly so the result does not depend on the umask. */
    if (fchmod(fd, mode) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "%s: cannot set mode %04o: %s", path, (unsigned)mode, strerror(errno));
        goto out;
    }
    if (write_all(fd, data, len) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "%s: writing %zu bytes failed: %s", path, len, strerror(errno));
        goto out;
    }
    if (fsync_retry(fd) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "%s: fsync failed: %s", path, strerror(errno));
        goto out;
    }
    {
        int r = close(fd);
        fd = -1;
        if (r != 0 && errno != EINTR) {
            rc = sbprov__fail(SBPROV_EIO, "%s: close failed: %s", path, strerror(errno));
            goto out;
        }
    }

    if (overwrite) {
        if (renameat(dirfd, tmp, dirfd, base) != 0) {
            rc = sbprov__fail(SBPROV_EIO, "%s: cannot rename the temporary file over it: %s", path,
                              strerror(errno));
            goto out;
        }
    } else if (link_no_replace(dirfd, tmp, base) != 0) {
        if (errno == EEXIST)
            rc = sbprov__fail(SBPROV_EEXISTS, "%s: already exists (overwriting was not asked for)", path);
        else
            rc = sbprov__fail(SBPROV_EIO, "%s: cannot move the temporary file into place: %s", path,
                              strerror(errno));
        goto out;
    }
    tmp_exists = 0;

    /* Make the rename durable. Some file systems cannot fsync a directory
     * (EINVAL); the data itself is already synced there. */
    if (sbprov__fsync_dir(dirfd) != 0) {
        rc = sbprov__fail(SBPROV_EIO, "%s: written, but syncing its directory failed: %s", path, strerror(errno));
        goto out;
    }
    rc = SBPROV_OK;

out:
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        (void)unlinkat(dirfd, tmp, 0);
    return rc;
}

sbprov_result sbprov__write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                                        int overwrite)
{
    const char *base;
    char *dir = NULL;
    int dirfd;
    sbprov_result rc;

    if (path == NULL || *path == '\0' || (data == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "write file: NULL or empty argument");
    if ((rc = split_path(path, &dir, &base)) != SBPROV_OK)
        return rc;
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        rc = sbprov__fail(SBPROV_EIO, "%s: cannot open directory '%s': %s", path, dir, strerror(errno));
    } else {
        rc = sbprov__write_file_atomic_at(dirfd, base, path, data, len, mode, overwrite);
        close(dirfd);
    }
    free(dir);
    return rc;
}
