/* Helpers shared by the sbprov subcommands: dispatch, errors, secret input. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_dispatch(const cli_command *commands, const char *prog, int argc, char **argv)
{
    int help = argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
               strcmp(argv[0], "help") == 0;

    if (!help) {
        for (const cli_command *c = commands; c->name != NULL; c++)
            if (strcmp(argv[0], c->name) == 0)
                return c->run(argc, argv);
    }
    FILE *out = help ? stdout : stderr;
    if (!help)
        fprintf(stderr, "%s: unknown command '%s'\n\n", prog, argv[0]);
    fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", prog);
    for (const cli_command *c = commands; c->name != NULL; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nRun '%s <command> --help' for the options of a command.\n", prog);
    return help && argc >= 1 ? 0 : EXIT_USAGE;
}

int cli_fail(const char *what, sbprov_result rc)
{
    const char *detail = sbprov_last_error();
    fprintf(stderr, "sbprov: %s: %s\n", what, detail[0] != '\0' ? detail : sbprov_strerror(rc));
    return EXIT_FAILED;
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sbprov: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return EXIT_USAGE;
}

char *cli_read_raw(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 256, n = 0;
    char *buf;

    if (f == NULL) {
        fprintf(stderr, "sbprov: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(cap);
    while (buf != NULL) {
        size_t got;
        if (n + 1 == cap) {
            /* Grow by copying, so no secret is left behind in freed memory. */
            char *bigger = malloc(cap * 2);
            if (bigger != NULL)
                memcpy(bigger, buf, n);
            cli_free_secret(buf, n);
            buf = bigger;
            cap *= 2;
            continue;
        }
        got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (f != stdin)
        fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "sbprov: %s: out of memory\n", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

char *cli_read_secret(const char *path, size_t *len)
{
    char *buf = cli_read_raw(path, len);
    if (buf == NULL)
        return NULL;
    if (*len > 0 && buf[*len - 1] == '\n')
        buf[--*len] = '\0';
    if (*len > 0 && buf[*len - 1] == '\r')
        buf[--*len] = '\0';
    return buf;
}

void cli_free_secret(char *secret, size_t len)
{
    if (secret == NULL)
        return;
    volatile char *p = secret;
    for (size_t i = 0; i < len; i++)
        p[i] = 0;
    free(secret);
}

int cli_add_provider(char *list, size_t size, const char *name, const char *prog)
{
    if (strlen(list) + strlen(name) + 2 > size)
        return cli_usage_error(prog, "--provider: too many providers");
    if (list[0] != '\0')
        strcat(list, ",");
    strcat(list, name);
    return 0;
}

int cli_load_key(sbprov_key **out, const char *uri, const char *providers, const char *openssl_conf)
{
    sbprov_key_load_options opts;
    sbprov_result rc = sbprov_key_load_options_init(&opts, sizeof opts);

    if (rc == SBPROV_OK) {
        opts.providers = providers != NULL && providers[0] != '\0' ? providers : NULL;
        opts.openssl_conf = openssl_conf;
        rc = sbprov_key_load(out, uri, &opts);
    }
    return rc == SBPROV_OK ? 0 : cli_fail(uri, rc);
}

int cli_parse_i64(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int cli_print_text(const char *what, cli_text_fn call, void *payload)
{
    size_t size = 256, needed = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *buf = malloc(size);
        if (buf == NULL) {
            fprintf(stderr, "sbprov: out of memory\n");
            return EXIT_FAILED;
        }
        sbprov_result rc = call(buf, size, &needed, payload);
        if (rc == SBPROV_OK) {
            /* PEM text already ends with a newline. */
            fputs(buf, stdout);
            if (needed == 0 || buf[needed - 1] != '\n')
                putchar('\n');
            cli_free_secret(buf, size);
            return 0;
        }
        cli_free_secret(buf, size);
        if (rc != SBPROV_EBUFS)
            return cli_fail(what, rc);
        size = needed;
    }
    return cli_fail(what, SBPROV_EBUFS);
}
