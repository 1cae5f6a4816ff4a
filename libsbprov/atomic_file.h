/* Internal: crash-safe, never-world-readable file replacement. */
#ifndef SBPROV_INTERNAL_ATOMIC_FILE_H
#define SBPROV_INTERNAL_ATOMIC_FILE_H

#include "sbprov/common.h"

#include <stddef.h>
#include <sys/types.h>

/* Write `len` bytes of `data` to `path` so that a reader (or a crash) sees the
 * old file or the complete new one, never a mix:
 *
 *   1. a temporary file ".<name>.tmp-<random>" is created in the target's
 *      directory with O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC and `mode` from the
 *      start (then fchmod to `mode`, so the umask can only narrow it and
 *      nothing wider ever exists);
 *   2. all bytes are written (EINTR and short writes are retried), the file is
 *      fsynced and closed;
 *   3. it is renamed over `path` (`overwrite`), or linked to `path` without
 *      replacing anything (renameat2 RENAME_NOREPLACE; where the file system
 *      lacks it, link() + unlink());
 *   4. the directory is fsynced, so the rename itself is durable.
 *
 * A symbolic link at `path` is replaced, never followed. On any failure the
 * temporary file is removed and the previous `path` is untouched.
 *
 * Results: SBPROV_OK; SBPROV_EEXISTS if `path` exists and !overwrite;
 * SBPROV_EIO naming the failing step, the path and strerror(errno);
 * SBPROV_EINVAL if path is NULL or empty or names a directory ("dir/"). */
sbprov_result sbprov__write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                                        int overwrite);

/* The same within an open directory: `base` is a plain file name in `dirfd`;
 * `display` names the target in messages. The caller keeps `dirfd` open. */
sbprov_result sbprov__write_file_atomic_at(int dirfd, const char *base, const char *display, const void *data,
                                           size_t len, mode_t mode, int overwrite);

/* fsync a directory; EINVAL/EROFS (cannot sync directories there) count as
 * success. Returns 0 or -1 with errno. */
int sbprov__fsync_dir(int dirfd);

#endif
