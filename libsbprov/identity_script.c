/* Running a Mender identity script: no shell, empty environment but PATH,
 * stdin from /dev/null, stderr discarded, no other descriptors, stdout read
 * with a deadline and a size cap, the script's process group killed when it
 * overruns either (docs/identity.md).
 *
 * fork + execve rather than posix_spawn: the child reports a failed exec
 * through a close-on-exec pipe, which works everywhere (glibc's posix_spawn
 * cannot report it under valgrind, which turns its vfork into a fork). */
#include "identity_internal.h"

#include "error.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_MAX_OUTPUT 65536u
/* Size of the first public version of the options (all of today's fields). */
#define SCRIPT_OPTIONS_V1_SIZE sizeof(sbprov_identity_script_options)
/* Without a pidfd, how often to look whether the script has exited. */
#define EXIT_POLL_MS 10

static const char script_env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

sbprov_result sbprov_identity_script_options_init(sbprov_identity_script_options *opts, size_t struct_size)
{
    sbprov_result rc = sbprov__options_init(opts, struct_size, SCRIPT_OPTIONS_V1_SIZE, "identity script options");
    if (rc != SBPROV_OK)
        return rc;
    opts->timeout_ms = DEFAULT_TIMEOUT_MS;
    opts->max_output = DEFAULT_MAX_OUTPUT;
    return SBPROV_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What happened to one run, for the caller to turn into a result. */
typedef struct run {
    const char *path_quoted;
    pid_t pid;
    int out_fd;       /* read end of the script's stdout */
    int pidfd;        /* -1 if the kernel has none */
    char *buf;
    size_t len, cap;
    uint32_t max_output;
    int eof, exited, too_much;
} run;

/* Read what stdout has now (the fd is non-blocking). 0, or -1 with errno. */
static int read_available(run *r)
{
    for (;;) {
        if (r->len == r->cap) {
            size_t limit = (size_t)r->max_output + 1; /* one byte more tells "too much" */
            size_t cap = r->cap == 0 ? 4096 : r->cap * 2;
            char *buf;
            if (cap > limit)
                cap = limit;
            if (cap <= r->len) {
                r->too_much = 1;
                return 0;
            }
            if ((buf = realloc(r->buf, cap)) == NULL) {
                errno = ENOMEM;
                return -1;
            }
            r->buf = buf;
            r->cap = cap;
        }
        ssize_t n = read(r->out_fd, r->buf + r->len, r->cap - r->len);
        if (n > 0) {
            r->len += (size_t)n;
            if (r->len > r->max_output) {
                r->too_much = 1;
                return 0;
            }
            continue;
        }
        if (n == 0) {
            r->eof = 1;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}

/* Has the script exited? Looks without reaping it (WNOWAIT), so its process
 * group cannot be reused while we may still signal it. */
static int has_exited(const run *r)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    for (;;) {
        if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
            return si.si_pid != 0;
        if (errno != EINTR)
            return 1; /* ECHILD: reaped behind our back (SIGCHLD ignored); waitpid will say */
    }
}

/* Reap the script; its wait status, or -1 if it is unavailable. */
static int reap(pid_t pid)
{
    int status;
    for (;;) {
        if (waitpid(pid, &status, 0) == pid)
            return status;
        if (errno != EINTR)
            return -1;
    }
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL); /* in case it left its group */
}

static const char *signal_name(int sig)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *abbrev = sigabbrev_np(sig);
    return abbrev != NULL ? abbrev : "?";
#else
    (void)sig;
    return "?";
#endif
}

/* Set by the first pidfd_open that fails with ENOSYS (old kernels, valgrind):
 * later runs poll for the exit instead of asking again. */
static atomic_int pidfd_unsupported;

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    if (!atomic_load(&pidfd_unsupported)) {
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC); /* pidfds are close-on-exec already; be sure */
            return fd;
        }
        if (errno == ENOSYS)
            atomic_store(&pidfd_unsupported, 1);
    }
#else
    (void)pid;
#endif
    return -1;
}

/* Close every descriptor from `from` up, except `keep`. Runs in the child
 * between fork and exec: system calls only. */
static void close_from(int from, int keep, int max_fd)
{
#ifdef SYS_close_range
    if (keep > from && syscall(SYS_close_range, (unsigned)from, (unsigned)keep - 1, 0u) == 0 &&
        syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
        return;
    if (keep < from && syscall(SYS_close_range, (unsigned)from, ~0u, 0u) == 0)
        return;
#endif
    for (int fd = from; fd < max_fd; fd++)
        if (fd != keep)
            close(fd);
}

/* The child after fork: only async-signal-safe calls until execve. On failure
 * the errno goes to err_fd (close-on-exec, so the parent reads EOF when exec
 * succeeds). */
static void run_child(const char *path, int null_in, int out_w, int null_err, int err_fd, int max_fd)
{
    char *const argv[] = { (char *)path, NULL };
    char *const envp[] = { (char *)script_env_path, NULL };
    struct sigaction dfl;
    sigset_t none;
    int err;

    /* A group of its own, so a timeout kills everything it started. */
    setpgid(0, 0);
    /* Default dispositions (a parent ignoring SIGPIPE must not pass that on),
     * then nothing blocked (the parent blocked everything around fork). */
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(null_in, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 || dup2(null_err, STDERR_FILENO) < 0)
        goto fail;
    /* Only 0, 1, 2 reach the script, whatever the application left open. */
    close_from(STDERR_FILENO + 1, err_fd, max_fd);
    execve(path, argv, envp);
fail:
    err = errno;
    while (write(err_fd, &err, sizeof err) < 0 && errno == EINTR)
        ;
    _exit(127);
}

/* Move a descriptor of ours above 0, 1 and 2 (an application that closed
 * its standard streams gets those numbers back from pipe() and open()), so
 * the child's dup2() onto 0, 1, 2 cannot clobber another of them. */
static int above_stdio(int fd)
{
    int moved;
    if (fd < 0 || fd > STDERR_FILENO)
        return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close(fd);
    return moved;
}

static sbprov_result spawn_script(run *r, const char *path)
{
    int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, null_in = -1, null_err = -1, err = 0, child_errno = 0;
    sigset_t all, old;
    struct rlimit lim;
    int max_fd = 65536;
    ssize_t n;
    sbprov_result rc = SBPROV_OK;

    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < (rlim_t)max_fd)
        max_fd = (int)lim.rlim_cur;
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
        (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
        (null_err = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 ||
        (out_pipe[0] = above_stdio(out_pipe[0])) < 0 || (out_pipe[1] = above_stdio(out_pipe[1])) < 0 ||
        (err_pipe[0] = above_stdio(err_pipe[0])) < 0 || (err_pipe[1] = above_stdio(err_pipe[1])) < 0 ||
        (null_in = above_stdio(null_in)) < 0 || (null_err = above_stdio(null_err)) < 0) {
        rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: cannot set up its pipes: %s", r->path_quoted,
                          strerror(errno));
        goto out;
    }
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r->pid = fork();
    if (r->pid == 0)
        run_child(path, null_in, out_pipe[1], null_err, err_pipe[1], max_fd);
    err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r->pid < 0) {
        rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: cannot start a process: %s", r->path_quoted,
                          strerror(err));
        goto out;
    }
    /* EOF: exec worked. An int: the errno of a failed exec. */
    close(err_pipe[1]);
    err_pipe[1] = -1;
    do
        n = read(err_pipe[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        reap(r->pid);
        rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: cannot run it: %s", r->path_quoted,
                          n == (ssize_t)sizeof child_errno ? strerror(child_errno) : "unknown error");
        goto out;
    }
    r->out_fd = out_pipe[0];
    out_pipe[0] = -1;
    if (fcntl(r->out_fd, F_SETFL, fcntl(r->out_fd, F_GETFL) | O_NONBLOCK) != 0) {
        err = errno;
        kill_group(r->pid);
        reap(r->pid);
        close(r->out_fd);
        rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: cannot set up its pipe: %s", r->path_quoted,
                          strerror(err));
        goto out;
    }
    r->pidfd = open_pidfd(r->pid);
out:
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    if (null_in >= 0)
        close(null_in);
    if (null_err >= 0)
        close(null_err);
    return rc;
}

/* Collect stdout until the script exits, overruns its time or its output
 * limit. Returns SBPROV_OK (the script has exited; not reaped yet),
 * SBPROV_ETIMEOUT, SBPROV_ESCRIPT (too much output) or an error. */
static sbprov_result collect(run *r, uint32_t timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    for (;;) {
        struct pollfd fds[2];
        nfds_t n = 0;
        int64_t remaining = deadline - now_ms();
        int wait_ms, out_slot = -1, pid_slot = -1;

        if (remaining <= 0)
            return sbprov__fail(SBPROV_ETIMEOUT, "identity script %s: still running after %u ms; killed",
                                r->path_quoted, timeout_ms);
        wait_ms = remaining > INT32_MAX ? INT32_MAX : (int)remaining;
        if (!r->eof) {
            out_slot = (int)n;
            fds[n++] = (struct pollfd){ .fd = r->out_fd, .events = POLLIN };
        }
        if (r->pidfd >= 0) {
            pid_slot = (int)n;
            fds[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
        } else if (wait_ms > EXIT_POLL_MS) {
            wait_ms = EXIT_POLL_MS;
        }
        if (poll(fds, n, wait_ms) < 0) {
            if (errno == EINTR)
                continue;
            return sbprov__fail(SBPROV_ESCRIPT, "identity script %s: poll failed: %s", r->path_quoted,
                                strerror(errno));
        }
        if (out_slot >= 0 && fds[out_slot].revents != 0) {
            if (read_available(r) != 0)
                return sbprov__fail(errno == ENOMEM ? SBPROV_ENOMEM : SBPROV_ESCRIPT,
                                    "identity script %s: cannot read its output: %s", r->path_quoted,
                                    strerror(errno));
            if (r->too_much)
                return sbprov__fail(SBPROV_ESCRIPT, "identity script %s: printed more than %u bytes (max_output); "
                                    "killed", r->path_quoted, r->max_output);
        }
        if ((pid_slot < 0 || fds[pid_slot].revents != 0) && has_exited(r)) {
            /* Everything the script wrote is in the pipe by now; whatever it
             * left running may hold the pipe open, so do not wait for EOF. */
            if (!r->eof && read_available(r) != 0)
                return sbprov__fail(errno == ENOMEM ? SBPROV_ENOMEM : SBPROV_ESCRIPT,
                                    "identity script %s: cannot read its output: %s", r->path_quoted,
                                    strerror(errno));
            if (r->too_much)
                return sbprov__fail(SBPROV_ESCRIPT, "identity script %s: printed more than %u bytes (max_output)",
                                    r->path_quoted, r->max_output);
            r->exited = 1;
            return SBPROV_OK;
        }
    }
}

/* Re-record the detail of a parse failure with the script's name in front. */
static sbprov_result prefix_error(sbprov_result rc, const char *path_quoted)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", sbprov_last_error());
    return sbprov__fail(rc, "identity script %s: output %s", path_quoted, detail);
}

sbprov_result sbprov_identity_from_script(sbprov_identity **out, const char *path,
                                          const sbprov_identity_script_options *opts_in)
{
    sbprov_identity_script_options opts;
    char quoted[4 * 160 + 16];
    run r;
    int status;
    sbprov_result rc;

    if (out == NULL || path == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_from_script: NULL argument");
    *out = NULL;
    if (opts_in == NULL) {
        rc = sbprov_identity_script_options_init(&opts, sizeof opts);
    } else {
        rc = sbprov__options_load(&opts, opts_in, SCRIPT_OPTIONS_V1_SIZE, sizeof opts, "identity script options");
    }
    if (rc != SBPROV_OK)
        return rc;
    if (path[0] == '\0')
        return sbprov__fail(SBPROV_EINVAL, "identity script: empty path");

    sbprov__identity_quote(quoted, sizeof quoted, path, strlen(path), 160);
    memset(&r, 0, sizeof r);
    r.path_quoted = quoted;
    r.max_output = opts.max_output != 0 ? opts.max_output : DEFAULT_MAX_OUTPUT;
    r.pidfd = -1;
    if ((rc = spawn_script(&r, path)) != SBPROV_OK)
        return rc;

    rc = collect(&r, opts.timeout_ms != 0 ? opts.timeout_ms : DEFAULT_TIMEOUT_MS);
    if (rc != SBPROV_OK)
        kill_group(r.pid);
    status = reap(r.pid);
    close(r.out_fd);
    if (r.pidfd >= 0)
        close(r.pidfd);

    if (rc == SBPROV_OK) {
        if (status == -1)
            rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: its exit status is unavailable (is SIGCHLD "
                              "ignored in this process?)", quoted);
        else if (WIFSIGNALED(status))
            rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: killed by signal %d (SIG%s)", quoted,
                              WTERMSIG(status), signal_name(WTERMSIG(status)));
        else if (!WIFEXITED(status))
            rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: ended with wait status 0x%x", quoted, status);
        else if (WEXITSTATUS(status) != 0)
            rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: exited with status %d", quoted,
                              WEXITSTATUS(status));
    }
    if (rc == SBPROV_OK) {
        rc = sbprov_identity_parse(out, r.buf, r.len);
        if (rc == SBPROV_EPARSE)
            rc = prefix_error(rc, quoted);
        else if (rc == SBPROV_OK && (*out)->count == 0) {
            sbprov_identity_free(*out);
            *out = NULL;
            rc = sbprov__fail(SBPROV_ESCRIPT, "identity script %s: printed no attributes (%zu bytes of output)",
                              quoted, r.len);
        }
    }
    free(r.buf);
    return rc;
}
