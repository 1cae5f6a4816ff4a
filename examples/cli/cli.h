/* Shared helpers of the sbprov command-line tool. */
#ifndef SBPROV_CLI_H
#define SBPROV_CLI_H

#include <sbprov/sbprov.h>

#include <stddef.h>
#include <stdio.h>

/* Exit codes: 0 success, 1 usage error, 2 the operation failed, 3 I/O error. */
enum { EXIT_USAGE = 1, EXIT_FAILED = 2, EXIT_IO = 3 };

/* One subcommand: name, one-line summary, handler (argv[0] is the name). */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

/* Dispatch argv[0] among commands; prints `usage` for --help or no command. */
int cli_dispatch(const cli_command *commands, const char *prog, int argc, char **argv);

/* Print "sbprov: <what>: <library detail>" to stderr and return EXIT_FAILED. */
int cli_fail(const char *what, sbprov_result rc);
/* Print "sbprov: <message>" and a --help hint to stderr, return EXIT_USAGE. */
int cli_usage_error(const char *prog, const char *fmt, ...);

/* Read a whole file ("-" = stdin) byte for byte into a NUL-terminated heap
 * buffer (free with cli_free_secret). NULL (message printed) on failure. */
char *cli_read_raw(const char *path, size_t *len);

/* Read a whole file ("-" = stdin) into a NUL-terminated heap buffer; strips
 * one trailing newline. Returns NULL (with a message printed) on failure. */
char *cli_read_secret(const char *path, size_t *len);
/* Cleanse and free what cli_read_secret returned. */
void cli_free_secret(char *secret, size_t len);

/* Append `name` to the comma-separated OpenSSL provider list `list` (of
 * `size` bytes, "" when empty), for a repeatable --provider option. Returns 0,
 * or EXIT_USAGE (message printed) if the list would not fit. */
int cli_add_provider(char *list, size_t size, const char *name, const char *prog);

/* Load a private key (a path or an OpenSSL store URI such as
 * handle:0x81000003) without a passphrase; `providers` ("" or NULL for none)
 * and `openssl_conf` (or NULL) as in sbprov_key_load_options. Returns 0 with
 * `*out` set (free it with sbprov_key_free), or EXIT_FAILED (message printed). */
int cli_load_key(sbprov_key **out, const char *uri, const char *providers, const char *openssl_conf);

/* Parse a decimal int64; returns 0 on success, -1 if malformed. */
int cli_parse_i64(const char *text, long long *out);

/* Run a text-producing library call with a growing buffer and print the
 * result, ending with a newline; `call` fills (buf, size, &out_len). */
typedef sbprov_result (*cli_text_fn)(char *buf, size_t size, size_t *out_len, void *payload);
int cli_print_text(const char *what, cli_text_fn call, void *payload);

#endif
