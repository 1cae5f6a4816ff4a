/* Crash-test driver: runs crash_writer and kills it with SIGKILL at a random
 * moment, over and over (at least CRASH_MIN_ITERATIONS, within a time
 * budget). After every kill the store must open, hold no temporary file or
 * swap journal, every entry must decrypt and hold a value the writer wrote
 * for it, never older than one seen before (old or new), and the swapped pair
 * must hold both of its values (never one twice).
 * Usage: crash_driver <crash_writer> <work-dir> [iterations] [seconds] */
#include <sbprov/sbprov.h>

#include "crash_common.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRASH_MIN_ITERATIONS 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(long it, const char *what, const char *detail)
{
    fprintf(stderr, "crash: iteration %ld: %s: %s\n", it, what, detail);
    return 1;
}

static int get(sbprov_store *s, const char *name, char *buf, size_t size, size_t *len)
{
    if (sbprov_store_get(buf, size - 1, len, s, name) != SBPROV_OK)
        return -1;
    buf[*len] = '\0';
    return 0;
}

int main(int argc, char **argv)
{
    static char buf[8192], want[8192];
    char dir[512], key[512], arg[32];
    long last_k[CRASH_ENTRIES] = {0}, round = 1, it, iterations = CRASH_MIN_ITERATIONS, kills_mid = 0;
    double budget = 60, start = now();
    sbprov_store_open_options o;
    sbprov_store *s = NULL;
    size_t len;

    if (argc < 3)
        return 2;
    if (argc > 3)
        iterations = atol(argv[3]);
    if (argc > 4)
        budget = atof(argv[4]);
    snprintf(dir, sizeof dir, "%s/store", argv[2]);
    snprintf(key, sizeof key, "%s/store.key", argv[2]);
    snprintf(buf, sizeof buf, "rm -rf '%s' && mkdir -p '%s'", argv[2], argv[2]);
    if (system(buf) != 0)
        return 2;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    if (sbprov_store_create_key_file(key) != SBPROV_OK || sbprov_store_open_options_init(&o, sizeof o) != 0)
        return fail(0, "setup", sbprov_last_error());
    o.key_file = key;
    o.create = 1;
    if (sbprov_store_open(&s, dir, &o) != SBPROV_OK)
        return fail(0, "setup", sbprov_last_error());
    for (int j = 0; j < CRASH_ENTRIES; j++) {
        char name[16];
        snprintf(name, sizeof name, "e%d", j);
        len = crash_value(want, sizeof want, j, 0);
        if (sbprov_store_put(s, name, want, len) != SBPROV_OK)
            return fail(0, "setup", sbprov_last_error());
    }
    if (sbprov_store_put(s, "primary", CRASH_ALPHA, strlen(CRASH_ALPHA)) != SBPROV_OK ||
        sbprov_store_put(s, "secondary", CRASH_BETA, strlen(CRASH_BETA)) != SBPROV_OK)
        return fail(0, "setup", sbprov_last_error());
    sbprov_store_free(s);
    o.create = 0;

    for (it = 1; it <= iterations || (it <= CRASH_MIN_ITERATIONS * 10 && now() - start < budget / 4); it++) {
        pid_t pid;
        int status;

        if (now() - start > budget)
            return fail(it, "time budget exceeded", "too slow for the required iterations");
        int ready[2];
        char fdarg[16], byte;
        if (pipe(ready) != 0)
            return fail(it, "pipe", strerror(errno));
        snprintf(arg, sizeof arg, "%ld", round);
        snprintf(fdarg, sizeof fdarg, "%d", ready[1]);
        pid = fork();
        if (pid == 0) {
            close(ready[0]);
            execl(argv[1], argv[1], dir, key, arg, fdarg, (char *)NULL);
            _exit(127);
        }
        if (pid < 0)
            return fail(it, "fork", strerror(errno));
        close(ready[1]);
        /* One kill in ten lands anywhere (also during open and its recovery);
         * the others once the writer is writing. */
        if (rand() % 10 != 0 && read(ready[0], &byte, 1) != 1) {
            close(ready[0]);
            return fail(it, "writer", "died before opening the store (see its message above)");
        }
        close(ready[0]);
        usleep((useconds_t)(rand() % 4000));
        kill(pid, SIGKILL);
        if (waitpid(pid, &status, 0) != pid)
            return fail(it, "waitpid", strerror(errno));
        if (!WIFSIGNALED(status))
            return fail(it, "writer", "exited by itself (see its message above)");
        round += 1000000; /* the next writer's values are newer than any before */

        if (sbprov_store_open(&s, dir, &o) != SBPROV_OK)
            return fail(it, "open after kill", sbprov_last_error());
        /* Nothing left over that a later reader could misread. */
        DIR *d = opendir(dir);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strstr(e->d_name, ".tmp-") != NULL || strcmp(e->d_name, ".sbprov-swap") == 0)
                return fail(it, "left over after open", e->d_name);
        closedir(d);
        for (int j = 0; j < CRASH_ENTRIES; j++) {
            char name[16];
            long k;
            snprintf(name, sizeof name, "e%d", j);
            if (get(s, name, buf, sizeof buf, &len) != 0)
                return fail(it, name, sbprov_last_error());
            if (sscanf(buf, "v%ld-", &k) != 1)
                return fail(it, name, "not a value the writer wrote");
            crash_value(want, sizeof want, j, k);
            if (strcmp(buf, want) != 0)
                return fail(it, name, "value is not one the writer wrote (mixed or partial)");
            if (k < last_k[j])
                return fail(it, name, "went back to an older value");
            if (k != last_k[j])
                kills_mid++;
            last_k[j] = k;
        }
        char p[64], q[64];
        if (get(s, "primary", p, sizeof p, &len) != 0 || get(s, "secondary", q, sizeof q, &len) != 0)
            return fail(it, "swap pair", sbprov_last_error());
        if (!((strcmp(p, CRASH_ALPHA) == 0 && strcmp(q, CRASH_BETA) == 0) ||
              (strcmp(p, CRASH_BETA) == 0 && strcmp(q, CRASH_ALPHA) == 0)))
            return fail(it, "swap pair", "does not hold both values");
        sbprov_store_free(s);
    }
    printf("crash: %ld kills in %.1f s; entries advanced %ld times; every entry old or new, pair intact\n", it - 1,
           now() - start, kills_mid);
    return 0;
}
