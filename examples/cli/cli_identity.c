/* `sbprov identity ...`: gather, show and canonicalise device identity. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int cli_identity(int argc, char **argv);

/* Where an identity comes from: the system (default for show and id), a
 * Mender identity script, or key=value lines on stdin. */
typedef struct identity_source {
    const char *script;
    int from_stdin;
    uint32_t sources;
    int skip_local_mac;
    const char *physical;
    const char *virtual_;
    uint32_t timeout_ms;
} identity_source;

enum { OPT_SCRIPT = 200, OPT_STDIN, OPT_SOURCE, OPT_PHYSICAL, OPT_VIRTUAL, OPT_SKIP_LOCAL, OPT_TIMEOUT };

#define IDENTITY_SOURCE_OPTIONS                                                   \
    { "script", required_argument, NULL, OPT_SCRIPT },                           \
        { "stdin", no_argument, NULL, OPT_STDIN },                               \
        { "source", required_argument, NULL, OPT_SOURCE },                       \
        { "physical", required_argument, NULL, OPT_PHYSICAL },                   \
        { "virtual", required_argument, NULL, OPT_VIRTUAL },                     \
        { "skip-local-mac", no_argument, NULL, OPT_SKIP_LOCAL },                 \
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT }

static const char source_help[] =
    "identity sources (default: probe this system for its MAC):\n"
    "  --script PATH        run a Mender identity script (key=value lines on stdout)\n"
    "  --stdin              read key=value lines from stdin\n"
    "  --source LIST        probe these, comma-separated: mac, machine-id, serial, uuid, hostname\n"
    "  --physical GLOBS     interface-name globs always treated as physical (e.g. eth0,enp*)\n"
    "  --virtual GLOBS      globs treated as virtual, replacing the default list\n"
    "  --skip-local-mac     skip locally administered MAC addresses\n"
    "  --timeout-ms N       identity script time limit (default 10000)\n";

/* Parse one identity-source option; returns 1 if handled, 0 if not, -1 on error. */
static int source_option(identity_source *src, int opt, const char *arg, const char *prog)
{
    long long n;
    switch (opt) {
    case OPT_SCRIPT: src->script = arg; return 1;
    case OPT_STDIN: src->from_stdin = 1; return 1;
    case OPT_PHYSICAL: src->physical = arg; return 1;
    case OPT_VIRTUAL: src->virtual_ = arg; return 1;
    case OPT_SKIP_LOCAL: src->skip_local_mac = 1; return 1;
    case OPT_TIMEOUT:
        if (cli_parse_i64(arg, &n) != 0 || n <= 0 || n > 3600000) {
            cli_usage_error(prog, "--timeout-ms: '%s' is not a number of milliseconds", arg);
            return -1;
        }
        src->timeout_ms = (uint32_t)n;
        return 1;
    case OPT_SOURCE: {
        static const struct { const char *name; uint32_t bit; } names[] = {
            { "mac", SBPROV_IDENTITY_MAC }, { "machine-id", SBPROV_IDENTITY_MACHINE_ID },
            { "serial", SBPROV_IDENTITY_DMI_SERIAL }, { "uuid", SBPROV_IDENTITY_DMI_UUID },
            { "hostname", SBPROV_IDENTITY_HOSTNAME },
        };
        char *copy = strdup(arg), *save = NULL;
        src->sources = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            size_t i = 0;
            while (i < sizeof names / sizeof names[0] && strcmp(names[i].name, tok) != 0)
                i++;
            if (i == sizeof names / sizeof names[0]) {
                cli_usage_error(prog, "--source: unknown source '%s'", tok);
                free(copy);
                return -1;
            }
            src->sources |= names[i].bit;
        }
        free(copy);
        return 1;
    }
    }
    return 0;
}

/* Gather the identity as `src` says; prints the error and returns an exit code on failure. */
static int load_identity(sbprov_identity **out, const identity_source *src)
{
    sbprov_result rc;
    if (src->script != NULL && src->from_stdin) {
        fprintf(stderr, "sbprov: give at most one of --script and --stdin\n");
        return EXIT_USAGE;
    }
    if (src->from_stdin) {
        size_t len = 0;
        char *text = cli_read_secret("-", &len);
        if (text == NULL)
            return EXIT_IO;
        rc = sbprov_identity_parse(out, text, len);
        cli_free_secret(text, len);
        return rc == SBPROV_OK ? 0 : cli_fail("identity from stdin", rc);
    }
    if (src->script != NULL) {
        sbprov_identity_script_options opts;
        if (sbprov_identity_script_options_init(&opts, sizeof opts) != SBPROV_OK)
            return cli_fail("identity script", SBPROV_EINVAL);
        if (src->timeout_ms != 0)
            opts.timeout_ms = src->timeout_ms;
        rc = sbprov_identity_from_script(out, src->script, &opts);
        return rc == SBPROV_OK ? 0 : cli_fail("identity", rc);
    }
    sbprov_identity_probe_options opts;
    if (sbprov_identity_probe_options_init(&opts, sizeof opts) != SBPROV_OK)
        return cli_fail("identity probe", SBPROV_EINVAL);
    if (src->sources != 0)
        opts.sources = src->sources;
    opts.skip_local_mac = src->skip_local_mac;
    opts.physical_globs = src->physical;
    opts.virtual_globs = src->virtual_;
    rc = sbprov_identity_probe(out, &opts);
    return rc == SBPROV_OK ? 0 : cli_fail("identity", rc);
}

static sbprov_result json_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    return sbprov_identity_canonical_json(buf, size, out_len, payload);
}

static sbprov_result digest_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    return sbprov_identity_digest(buf, size, out_len, payload);
}

static void print_lines(const sbprov_identity *id)
{
    for (size_t i = 0; i < sbprov_identity_count(id); i++)
        for (size_t v = 0; v < sbprov_identity_value_count(id, i); v++)
            printf("%s=%s\n", sbprov_identity_name(id, i), sbprov_identity_value(id, i, v));
}

static const char show_help[] = "usage: sbprov identity show [--json | --digest] [SOURCE OPTIONS]\n"
                                "\n"
                                "Print the device identity as key=value lines, as its canonical JSON\n"
                                "(what the Mender server stores), or as the SHA-256 of that JSON.\n\n";

static const char canonical_help[] = "usage: sbprov identity canonical [--digest] [SOURCE OPTIONS]\n"
                                     "\n"
                                     "Read key=value lines on stdin (unless another source is given) and\n"
                                     "print the canonical JSON, or with --digest its SHA-256 in hex.\n\n";

static const char id_help[] = "usage: sbprov identity id --template TEMPLATE [SOURCE OPTIONS]\n"
                              "\n"
                              "Make an Azure registration / device ID from the identity, e.g.\n"
                              "--template 'gw-{mac:compact}'. {name} is the first value of an\n"
                              "attribute; :compact lower-cases and drops ':' '-' '.'; :lower lower-cases.\n\n";

/* show, canonical and id share their options; `mode` picks the output. */
static int identity_command(int argc, char **argv, const char *prog, const char *help, int default_stdin,
                            int needs_template)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, 'j' },
        { "digest", no_argument, NULL, 'd' },
        { "template", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        IDENTITY_SOURCE_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    identity_source src = { 0 };
    const char *id_template = NULL;
    sbprov_identity *id = NULL;
    int opt, json = 0, digest = 0, status;

    int probe_options = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        int handled = source_option(&src, opt, optarg, prog);
        if (handled < 0)
            return EXIT_USAGE;
        if (handled) {
            probe_options |= opt == OPT_SOURCE || opt == OPT_PHYSICAL || opt == OPT_VIRTUAL || opt == OPT_SKIP_LOCAL;
            continue;
        }
        switch (opt) {
        case 'j': json = 1; break;
        case 'd': digest = 1; break;
        case 't': id_template = optarg; break;
        case 'h': fputs(help, stdout); fputs(source_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (json && digest)
        return cli_usage_error(prog, "give at most one of --json and --digest");
    if (needs_template != (id_template != NULL))
        return cli_usage_error(prog, needs_template ? "--template is required" : "--template belongs to 'identity id'");
    /* canonical reads stdin unless another source was named. */
    if (default_stdin && src.script == NULL && !probe_options)
        src.from_stdin = 1;
    if ((status = load_identity(&id, &src)) != 0)
        return status;
    if (needs_template) {
        status = 0;
        char buf[256];
        sbprov_result rc = sbprov_identity_format_id(buf, sizeof buf, NULL, id, id_template);
        if (rc == SBPROV_OK)
            puts(buf);
        else
            status = cli_fail("identity id", rc);
    } else if (digest) {
        status = cli_print_text("identity digest", digest_text, id);
    } else if (json || default_stdin) {
        status = cli_print_text("identity JSON", json_text, id);
    } else {
        print_lines(id);
        status = 0;
    }
    sbprov_identity_free(id);
    return status;
}

static int cmd_show(int argc, char **argv)
{
    return identity_command(argc, argv, "sbprov identity show", show_help, 0, 0);
}

static int cmd_canonical(int argc, char **argv)
{
    return identity_command(argc, argv, "sbprov identity canonical", canonical_help, 1, 0);
}

static int cmd_id(int argc, char **argv)
{
    return identity_command(argc, argv, "sbprov identity id", id_help, 0, 1);
}

int cli_identity(int argc, char **argv)
{
    static const cli_command commands[] = {
        { "show", "print this device's identity (key=value, JSON or digest)", cmd_show },
        { "canonical", "canonical JSON (or digest) of key=value lines on stdin", cmd_canonical },
        { "id", "make a registration / device ID from the identity", cmd_id },
        { NULL, NULL, NULL },
    };
    return cli_dispatch(commands, "sbprov identity", argc - 1, argv + 1);
}
