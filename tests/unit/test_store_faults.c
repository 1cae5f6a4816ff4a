/* Injected file-system faults (linked with -Wl,--wrap=write,--wrap=fsync,
 * --wrap=renameat): a failing write (ENOSPC, EIO), fsync or rename makes the
 * store call fail with SBPROV_EIO naming the step and the OS error, leaves
 * the previous value intact and no temporary file behind. */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

static int write_errno, fsync_errno, rename_errno;
static int fsync_skip;       /* let this many fsync calls succeed first */
static int short_write_once; /* the first write writes one byte only */

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (short_write_once && n > 1) {
        short_write_once = 0;
        return __real_write(fd, buf, 1);
    }
    if (write_errno != 0) {
        errno = write_errno;
        return -1;
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    if (fsync_errno != 0 && fsync_skip-- <= 0) {
        errno = fsync_errno;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
    if (rename_errno != 0) {
        errno = rename_errno;
        return -1;
    }
    return __real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

static void no_faults(void)
{
    write_errno = fsync_errno = rename_errno = fsync_skip = short_write_once = 0;
}

typedef struct fixture {
    char root[64], dir[128], key[128];
    sbprov_store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sbprov_store_open_options o;

    no_faults();
    strcpy(f->root, "/tmp/sbprov-faults-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/store", f->root);
    snprintf(f->key, sizeof f->key, "%s/key", f->root);
    assert_ok(sbprov_store_create_key_file(f->key));
    assert_ok(sbprov_store_open_options_init(&o, sizeof o));
    o.key_file = f->key;
    o.create = 1;
    assert_ok(sbprov_store_open(&f->s, f->dir, &o));
    assert_ok(sbprov_store_put(f->s, "k", "old", 3));
    assert_ok(sbprov_store_put(f->s, "other", "second", 6));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    no_faults();
    sbprov_store_free(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void assert_intact(fixture *f)
{
    char buf[16];
    size_t len = 0;
    DIR *d;
    struct dirent *e;

    no_faults();
    assert_ok(sbprov_store_get(buf, sizeof buf, &len, f->s, "k"));
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "old", 3);
    assert_ok(sbprov_store_get(buf, sizeof buf, &len, f->s, "other"));
    assert_memory_equal(buf, "second", 6);
    d = opendir(f->dir);
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-") != NULL || strcmp(e->d_name, ".sbprov-swap") == 0)
            fail_msg("left behind: %s", e->d_name);
    closedir(d);
}

static void test_write_enospc(void **state)
{
    fixture *f = *state;
    write_errno = ENOSPC;
    assert_fails_with(sbprov_store_put(f->s, "k", "new", 3), SBPROV_EIO, "No space left on device");
    assert_fails_with(sbprov_store_put(f->s, "k", "new", 3), SBPROV_EIO, "entry 'k': writing");
    assert_intact(f);
}

static void test_write_eio_after_short_write(void **state)
{
    fixture *f = *state;
    short_write_once = 1;
    write_errno = EIO;
    assert_fails_with(sbprov_store_put(f->s, "k", "new", 3), SBPROV_EIO, "Input/output error");
    assert_intact(f);
    /* A short write alone is retried and succeeds. */
    short_write_once = 1;
    assert_ok(sbprov_store_put(f->s, "k", "old", 3));
    assert_intact(f);
}

static void test_fsync_fails(void **state)
{
    fixture *f = *state;
    fsync_errno = EIO;
    assert_fails_with(sbprov_store_put(f->s, "k", "new", 3), SBPROV_EIO, "fsync failed: Input/output error");
    assert_intact(f);
}

static void test_rename_fails(void **state)
{
    fixture *f = *state;
    rename_errno = EXDEV;
    assert_fails_with(sbprov_store_put(f->s, "k", "new", 3), SBPROV_EIO, "cannot rename the temporary file");
    assert_intact(f);
    rename_errno = EIO;
    assert_fails_with(sbprov_store_put(f->s, "k", "new", 3), SBPROV_EIO, "Input/output error");
    assert_intact(f);
}

static void test_swap_journal_write_fails(void **state)
{
    fixture *f = *state;
    write_errno = ENOSPC;
    assert_fails_with(sbprov_store_swap(f->s, "k", "other"), SBPROV_EIO, "swap journal");
    assert_intact(f);
    fsync_errno = EIO;
    assert_fails_with(sbprov_store_swap(f->s, "k", "other"), SBPROV_EIO, "fsync failed");
    assert_intact(f);
}

static void test_swap_replay_fails_then_completes(void **state)
{
    fixture *f = *state;
    char buf[16];
    size_t len;
    /* The journal is in place (link, no rename), then replaying it fails: the
     * swap is decided and the next call completes it. */
    rename_errno = EIO;
    assert_fails_with(sbprov_store_swap(f->s, "k", "other"), SBPROV_EIO, "cannot rename");
    no_faults();
    assert_ok(sbprov_store_get(buf, sizeof buf, &len, f->s, "k"));
    assert_memory_equal(buf, "second", 6);
    assert_ok(sbprov_store_get(buf, sizeof buf, &len, f->s, "other"));
    assert_memory_equal(buf, "old", 3);
}

static void test_directory_fsync_fails(void **state)
{
    fixture *f = *state;
    fsync_errno = EIO;
    fsync_skip = 1; /* the file's fsync succeeds, the directory's fails */
    assert_fails_with(sbprov_store_put(f->s, "k", "old", 3), SBPROV_EIO, "syncing its directory failed");
    assert_intact(f);
}

static void test_key_file_write_fails(void **state)
{
    fixture *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/new.key", f->root);
    write_errno = ENOSPC;
    assert_fails_with(sbprov_store_create_key_file(path), SBPROV_EIO, "No space left on device");
    no_faults();
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_eio_after_short_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_journal_write_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_replay_fails_then_completes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_fsync_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_write_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
