/* `sbprov mender ...`: Mender registration from the command line.
 *
 * Device side (signs with the device key): auth, inventory.
 * Management side (logs in with a user and password or a personal access
 * token): preauth, status, accept, reject, list, count, decommission.
 *
 * Exit codes beyond the common ones: 4 the device is not accepted (yet);
 * 128 + signal number when SIGINT/SIGTERM cancelled a device call. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_mender(int argc, char **argv);

enum { EXIT_PENDING = 4, EXIT_SIGNAL_BASE = 128 };

/* Returned by parse_args when --help was printed: the command is done. */
#define DONE (-1)

/* ---- Ctrl-C: cancel the device call in progress ----------------------------- */

#if ATOMIC_POINTER_LOCK_FREE != 2
#error "a lock-free atomic pointer is needed for the signal handler"
#endif

static volatile sig_atomic_t caught_signal;
static _Atomic(sbprov_mender *) cancel_target;

/* Async-signal-safe: sbprov_mender_cancel() only stores an atomic flag. */
static void on_signal(int sig)
{
    sbprov_mender *m = atomic_load(&cancel_target);
    caught_signal = sig;
    if (m != NULL)
        sbprov_mender_cancel(m);
}

/* From here until release_signals(), SIGINT and SIGTERM cancel `m`'s calls
 * (the one in progress, or the next one) instead of killing the process. */
static void catch_signals(sbprov_mender *m)
{
    struct sigaction sa;
    atomic_store(&cancel_target, m);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void release_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    atomic_store(&cancel_target, NULL);
}

/* Exit status of a device call that failed with `rc`. */
static int device_fail(const char *what, sbprov_result rc)
{
    if (rc == SBPROV_ECANCELED) {
        int sig = caught_signal != 0 ? caught_signal : SIGINT;
        fprintf(stderr, "sbprov: %s: interrupted (%s)\n", what, sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return EXIT_SIGNAL_BASE + sig;
    }
    return cli_fail(what, rc);
}

/* ---- options ---------------------------------------------------------------- */

enum {
    /* connection */
    OPT_SERVER = 400, OPT_CA, OPT_CLIENT_CERT, OPT_CLIENT_KEY, OPT_PROXY, OPT_TIMEOUT, OPT_ALLOW_HTTP,
    OPT_PROVIDER, OPT_OPENSSL_CONF,
    /* identity */
    OPT_IDENTITY, OPT_IDENTITY_FILE, OPT_IDENTITY_SCRIPT, OPT_PROBE, OPT_PROBE_SOURCE,
    /* device key */
    OPT_KEY, OPT_PASSPHRASE_FILE, OPT_PUBLIC_KEY,
    /* management login */
    OPT_USER, OPT_PASSWORD_FILE, OPT_TOKEN_FILE,
    /* device client */
    OPT_TENANT_TOKEN_FILE, OPT_TIER,
    /* token store */
    OPT_STORE, OPT_STORE_KEY_FILE, OPT_STORE_PASSPHRASE_FILE, OPT_STORE_SEALING_KEY, OPT_STORE_PLAINTEXT,
    OPT_STORE_CREATE, OPT_TOKEN_ENTRY,
    /* per verb */
    OPT_HELP, OPT_JSON, OPT_WAIT, OPT_FIRST_INTERVAL, OPT_MAX_INTERVAL, OPT_PRINT_TOKEN, OPT_FORCE,
    OPT_STATUS, OPT_PER_PAGE, OPT_NUMBER, OPT_REPLACE, OPT_MISSING_OK,
    OPT_INLINE_SECRET,
};

#define CONN_OPTIONS                                                              \
    { "server", required_argument, NULL, OPT_SERVER },                           \
        { "ca", required_argument, NULL, OPT_CA },                               \
        { "client-cert", required_argument, NULL, OPT_CLIENT_CERT },             \
        { "client-key", required_argument, NULL, OPT_CLIENT_KEY },               \
        { "proxy", required_argument, NULL, OPT_PROXY },                         \
        { "timeout", required_argument, NULL, OPT_TIMEOUT },                     \
        { "allow-http", no_argument, NULL, OPT_ALLOW_HTTP },                     \
        { "provider", required_argument, NULL, OPT_PROVIDER },                   \
        { "openssl-conf", required_argument, NULL, OPT_OPENSSL_CONF },           \
        { "help", no_argument, NULL, OPT_HELP },                                 \
        SECRET_TRAPS

/* Exact names win over getopt's abbreviations: without these, "--password X"
 * would be taken as "--password-file X". Secrets are refused inline. */
#define SECRET_TRAPS                                                              \
    { "password", required_argument, NULL, OPT_INLINE_SECRET },                  \
        { "token", required_argument, NULL, OPT_INLINE_SECRET },                 \
        { "tenant-token", required_argument, NULL, OPT_INLINE_SECRET },          \
        { "passphrase", required_argument, NULL, OPT_INLINE_SECRET }

#define IDENTITY_OPTIONS                                                          \
    { "identity", required_argument, NULL, OPT_IDENTITY },                       \
        { "identity-file", required_argument, NULL, OPT_IDENTITY_FILE },         \
        { "identity-script", required_argument, NULL, OPT_IDENTITY_SCRIPT },     \
        { "probe", no_argument, NULL, OPT_PROBE },                               \
        { "probe-source", required_argument, NULL, OPT_PROBE_SOURCE }

#define KEY_OPTIONS                                                               \
    { "key", required_argument, NULL, OPT_KEY },                                 \
        { "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE }

#define LOGIN_OPTIONS                                                             \
    { "user", required_argument, NULL, OPT_USER },                               \
        { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },         \
        { "token-file", required_argument, NULL, OPT_TOKEN_FILE }

#define DEVICE_OPTIONS                                                            \
    { "tenant-token-file", required_argument, NULL, OPT_TENANT_TOKEN_FILE },     \
        { "tier", required_argument, NULL, OPT_TIER },                           \
        { "store", required_argument, NULL, OPT_STORE },                         \
        { "store-key-file", required_argument, NULL, OPT_STORE_KEY_FILE },       \
        { "store-passphrase-file", required_argument, NULL, OPT_STORE_PASSPHRASE_FILE }, \
        { "store-sealing-key", required_argument, NULL, OPT_STORE_SEALING_KEY }, \
        { "store-plaintext", no_argument, NULL, OPT_STORE_PLAINTEXT },           \
        { "store-create", no_argument, NULL, OPT_STORE_CREATE },                 \
        { "token-entry", required_argument, NULL, OPT_TOKEN_ENTRY }

static const char conn_help[] =
    "connection options:\n"
    "  --server URL            the Mender server, e.g. https://hosted.mender.io (required)\n"
    "  --ca FILE|DIR           trusted CA certificates: a PEM file or a c_rehash directory\n"
    "                          (default: the system's)\n"
    "  --client-cert FILE      client certificate (PEM chain) for mutual TLS; needs --client-key\n"
    "  --client-key URI        its private key: a file or an OpenSSL store URI (handle:0x81000002)\n"
    "  --provider NAME         load an OpenSSL provider for the keys (repeatable, e.g. tpm2 and default)\n"
    "  --openssl-conf FILE     load this OpenSSL configuration first\n"
    "  --proxy URL             proxy for every request (\"\" = none even if https_proxy is set;\n"
    "                          default: the environment's https_proxy / no_proxy)\n"
    "  --timeout SECONDS       limit of each request (default 30; the connect limit is at most 10)\n"
    "  --allow-http            allow a plain http:// server URL (local tests only)\n";

static const char identity_help[] =
    "identity (exactly one source):\n"
    "  --identity NAME=VALUE   an identity attribute (repeatable; a repeated name gives several values)\n"
    "  --identity-file FILE    key=value lines, as an identity script prints them (\"-\" = stdin)\n"
    "  --identity-script PATH  run a Mender identity script (mender-device-identity)\n"
    "  --probe                 probe this system (default: the MAC of its first physical interface)\n"
    "  --probe-source LIST     with --probe: mac, machine-id, serial, uuid, hostname (comma-separated)\n";

static const char key_help[] =
    "device key:\n"
    "  --key URI               the device's private key: a file or an OpenSSL store URI (TPM, PKCS#11)\n"
    "  --passphrase-file FILE  passphrase of an encrypted key file (\"-\" = stdin)\n";

static const char login_help[] =
    "management login (exactly one):\n"
    "  --user EMAIL --password-file FILE   log in with a user's password (\"-\" = stdin)\n"
    "  --token-file FILE                   a personal access token (\"-\" = stdin)\n";

static const char device_help[] =
    "device client:\n"
    "  --tenant-token-file FILE  tenant token of a hosted / Enterprise server (\"-\" = stdin)\n"
    "  --tier NAME             device tier sent with the auth request (default standard)\n"
    "  --store DIR             keep the device token in this credential store (entry mender.jwt), so\n"
    "                          later calls need no authentication round trip; with exactly one of\n"
    "                          --store-key-file F, --store-passphrase-file F, --store-sealing-key URI,\n"
    "                          --store-plaintext; --store-create creates a missing store;\n"
    "                          --token-entry NAME names the entry\n";

/* Everything a mender verb may be given. */
typedef struct margs {
    const char *prog;
    /* connection */
    const char *server, *ca, *client_cert, *client_key, *proxy, *openssl_conf;
    char providers[256];
    uint32_t timeout_ms;
    int allow_http;
    /* identity */
    sbprov_identity *inline_identity;
    const char *identity_file, *identity_script;
    int probe;
    uint32_t probe_sources;
    /* keys */
    const char *key, *passphrase_file, *public_key;
    /* login */
    const char *user, *password_file, *token_file;
    /* device */
    const char *tenant_token_file, *tier;
    const char *store, *store_key_file, *store_passphrase_file, *store_sealing_key, *token_entry;
    int store_plaintext, store_create;
    /* positional arguments */
    char **pos;
    int npos;
} margs;

static void margs_free(margs *a)
{
    sbprov_identity_free(a->inline_identity);
    a->inline_identity = NULL;
}

/* Seconds as a decimal ("30", "0.05") into milliseconds, 1 ms .. ~49 days. */
static int parse_seconds(const char *text, uint32_t *ms)
{
    char *end;
    errno = 0;
    double s = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(s) || s * 1000.0 < 1.0 || s * 1000.0 > 4.0e9)
        return -1;
    *ms = (uint32_t)(s * 1000.0 + 0.5);
    return 0;
}

static int parse_probe_sources(const char *arg, uint32_t *out, const char *prog)
{
    static const struct { const char *name; uint32_t bit; } names[] = {
        { "mac", SBPROV_IDENTITY_MAC }, { "machine-id", SBPROV_IDENTITY_MACHINE_ID },
        { "serial", SBPROV_IDENTITY_DMI_SERIAL }, { "uuid", SBPROV_IDENTITY_DMI_UUID },
        { "hostname", SBPROV_IDENTITY_HOSTNAME },
    };
    const char *p = arg;
    *out = 0;
    while (*p != '\0') {
        size_t n = strcspn(p, ","), i = 0;
        while (i < sizeof names / sizeof names[0] && !(strlen(names[i].name) == n && strncmp(names[i].name, p, n) == 0))
            i++;
        if (i == sizeof names / sizeof names[0])
            return cli_usage_error(prog, "--probe-source: unknown source '%.*s'", (int)n, p);
        *out |= names[i].bit;
        p += n + (p[n] == ',');
    }
    if (*out == 0)
        return cli_usage_error(prog, "--probe-source: no source given");
    return 0;
}

/* Handle one shared option; returns 1 if handled, 0 if not, -1 on a usage error (printed). */
static int common_option(margs *a, int opt, char *arg)
{
    switch (opt) {
    case OPT_SERVER: a->server = arg; return 1;
    case OPT_CA: a->ca = arg; return 1;
    case OPT_CLIENT_CERT: a->client_cert = arg; return 1;
    case OPT_CLIENT_KEY: a->client_key = arg; return 1;
    case OPT_PROXY: a->proxy = arg; return 1;
    case OPT_ALLOW_HTTP: a->allow_http = 1; return 1;
    case OPT_OPENSSL_CONF: a->openssl_conf = arg; return 1;
    case OPT_PROVIDER: return cli_add_provider(a->providers, sizeof a->providers, arg, a->prog) == 0 ? 1 : -1;
    case OPT_TIMEOUT:
        if (parse_seconds(arg, &a->timeout_ms) != 0) {
            cli_usage_error(a->prog, "--timeout: '%s' is not a number of seconds", arg);
            return -1;
        }
        return 1;
    case OPT_IDENTITY: {
        char *eq = strchr(arg, '=');
        if (eq == NULL || eq == arg) {
            cli_usage_error(a->prog, "--identity: '%s' is not NAME=VALUE", arg);
            return -1;
        }
        if (a->inline_identity == NULL && sbprov_identity_new(&a->inline_identity) != SBPROV_OK) {
            cli_fail("identity", SBPROV_ENOMEM);
            return -1;
        }
        *eq = '\0'; /* argv is ours to edit; restored below */
        sbprov_result rc = sbprov_identity_add(a->inline_identity, arg, eq + 1);
        *eq = '=';
        if (rc != SBPROV_OK) {
            fprintf(stderr, "sbprov: --identity %s: %s\nTry '%s --help'.\n", arg, sbprov_last_error(), a->prog);
            return -1;
        }
        return 1;
    }
    case OPT_IDENTITY_FILE: a->identity_file = arg; return 1;
    case OPT_IDENTITY_SCRIPT: a->identity_script = arg; return 1;
    case OPT_PROBE: a->probe = 1; return 1;
    case OPT_PROBE_SOURCE: return parse_probe_sources(arg, &a->probe_sources, a->prog) == 0 ? 1 : -1;
    case OPT_KEY: a->key = arg; return 1;
    case OPT_PASSPHRASE_FILE: a->passphrase_file = arg; return 1;
    case OPT_PUBLIC_KEY: a->public_key = arg; return 1;
    case OPT_USER: a->user = arg; return 1;
    case OPT_PASSWORD_FILE: a->password_file = arg; return 1;
    case OPT_TOKEN_FILE: a->token_file = arg; return 1;
    case OPT_TENANT_TOKEN_FILE: a->tenant_token_file = arg; return 1;
    case OPT_TIER: a->tier = arg; return 1;
    case OPT_STORE: a->store = arg; return 1;
    case OPT_STORE_KEY_FILE: a->store_key_file = arg; return 1;
    case OPT_STORE_PASSPHRASE_FILE: a->store_passphrase_file = arg; return 1;
    case OPT_STORE_SEALING_KEY: a->store_sealing_key = arg; return 1;
    case OPT_STORE_PLAINTEXT: a->store_plaintext = 1; return 1;
    case OPT_STORE_CREATE: a->store_create = 1; return 1;
    case OPT_TOKEN_ENTRY: a->token_entry = arg; return 1;
    case OPT_INLINE_SECRET:
        /* The value is not echoed. */
        cli_usage_error(a->prog, "secrets are never given on the command line (other users can read it): use "
                                 "--password-file, --token-file, --tenant-token-file or --passphrase-file "
                                 "(\"-\" = stdin)");
        return -1;
    }
    return 0;
}

/* What a verb needs checked after parsing. */
enum {
    NEED_SERVER = 1 << 0,
    NEED_LOGIN = 1 << 1,
    NEED_IDENTITY = 1 << 2,    /* exactly one identity source */
    NEED_KEY = 1 << 3,         /* --key */
    DEVICE_OR_IDENTITY = 1 << 4, /* a DEVICE_ID argument or an identity source, not both */
    HELP_KEY = 1 << 5,           /* --help shows the key options */
    HELP_DEVICE = 1 << 6,        /* --help shows the device client options */
};

/* Verb-specific option handler: 1 handled, -1 usage error (printed). */
typedef int (*verb_option_fn)(int opt, char *arg, void *ctx);

static int identity_sources(const margs *a)
{
    return (a->inline_identity != NULL) + (a->identity_file != NULL) + (a->identity_script != NULL) + a->probe;
}

/* Parse the options; 0 to go on, DONE after --help, or an exit status. */
static int parse_args(margs *a, int argc, char **argv, const struct option *options, const char *help,
                      unsigned sections, verb_option_fn verb_option, void *ctx)
{
    int opt;
    optind = 0;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP) {
            fputs(help, stdout);
            if (sections & (NEED_KEY | HELP_KEY))
                printf("\n%s", key_help);
            if (sections & (NEED_IDENTITY | DEVICE_OR_IDENTITY))
                printf("\n%s", identity_help);
            if (sections & NEED_LOGIN)
                printf("\n%s", login_help);
            if (sections & HELP_DEVICE)
                printf("\n%s", device_help);
            printf("\n%s", conn_help);
            return DONE;
        }
        int handled = common_option(a, opt, optarg);
        if (handled == 0 && verb_option != NULL && opt != '?')
            handled = verb_option(opt, optarg, ctx);
        if (handled < 0)
            return EXIT_USAGE;
        if (handled == 0)
            return cli_usage_error(a->prog, "bad option");
    }
    a->pos = argv + optind;
    a->npos = argc - optind;

    if ((sections & NEED_SERVER) && a->server == NULL)
        return cli_usage_error(a->prog, "--server is required");
    if ((a->client_cert == NULL) != (a->client_key == NULL))
        return cli_usage_error(a->prog, "--client-cert and --client-key go together");
    if (a->probe_sources != 0 && !a->probe)
        return cli_usage_error(a->prog, "--probe-source needs --probe");
    int sources = identity_sources(a);
    if ((sections & NEED_IDENTITY) && sources != 1)
        return cli_usage_error(a->prog, sources == 0 ? "an identity is required (--identity, --identity-file, "
                                                       "--identity-script or --probe)"
                                                     : "give one identity source (--identity, --identity-file, "
                                                       "--identity-script or --probe)");
    if (sections & DEVICE_OR_IDENTITY) {
        if (sources > 1)
            return cli_usage_error(a->prog, "give one identity source");
        if ((a->npos >= 1) == (sources == 1))
            return cli_usage_error(a->prog, "give a DEVICE_ID or an identity (--identity, --identity-file, ...), "
                                            "not both");
    }
    if ((sections & NEED_KEY) && a->key == NULL)
        return cli_usage_error(a->prog, "--key is required");
    if (sections & NEED_LOGIN) {
        if (a->token_file != NULL && (a->user != NULL || a->password_file != NULL))
            return cli_usage_error(a->prog, "give either --token-file or --user with --password-file");
        if (a->token_file == NULL && (a->user == NULL || a->password_file == NULL))
            return cli_usage_error(a->prog, a->user != NULL ? "--user needs --password-file (the password is "
                                                              "never given on the command line)"
                                                            : "log in with --user EMAIL --password-file FILE or "
                                                              "--token-file FILE");
    }
    /* stdin can feed one of the files only. */
    const char *stdin_users[] = { a->identity_file, a->passphrase_file, a->password_file, a->token_file,
                                  a->tenant_token_file, a->store_passphrase_file, a->public_key };
    int from_stdin = 0;
    for (size_t i = 0; i < sizeof stdin_users / sizeof stdin_users[0]; i++)
        from_stdin += stdin_users[i] != NULL && strcmp(stdin_users[i], "-") == 0;
    if (from_stdin > 1)
        return cli_usage_error(a->prog, "only one of the files can be \"-\" (stdin)");
    if (a->store == NULL && (a->store_key_file || a->store_passphrase_file || a->store_sealing_key ||
                             a->store_plaintext || a->store_create || a->token_entry))
        return cli_usage_error(a->prog, "the --store-... and --token-entry options need --store DIR");
    if (a->store != NULL && (a->store_key_file != NULL) + (a->store_passphrase_file != NULL) +
                                    (a->store_sealing_key != NULL) + a->store_plaintext != 1)
        return cli_usage_error(a->prog, "--store needs exactly one of --store-key-file, --store-passphrase-file, "
                                        "--store-sealing-key and --store-plaintext");
    return 0;
}

/* ---- building the pieces --------------------------------------------------------- */

static int load_private_key(sbprov_key **out, const margs *a, const char *uri, int with_passphrase)
{
    sbprov_key_load_options opts;
    char *passphrase = NULL;
    size_t passphrase_len = 0;

    if (sbprov_key_load_options_init(&opts, sizeof opts) != SBPROV_OK)
        return cli_fail("key options", SBPROV_EINVAL);
    if (with_passphrase && a->passphrase_file != NULL) {
        if ((passphrase = cli_read_secret(a->passphrase_file, &passphrase_len)) == NULL)
            return EXIT_IO;
        opts.passphrase = passphrase;
        opts.passphrase_len = passphrase_len;
    }
    opts.providers = a->providers[0] != '\0' ? a->providers : NULL;
    opts.openssl_conf = a->openssl_conf;
    sbprov_result rc = sbprov_key_load(out, uri, &opts);
    cli_free_secret(passphrase, passphrase_len);
    return rc == SBPROV_OK ? 0 : cli_fail(uri, rc);
}

static int load_identity(sbprov_identity **out, margs *a)
{
    sbprov_result rc;
    if (a->inline_identity != NULL) {
        *out = a->inline_identity;
        a->inline_identity = NULL;
        return 0;
    }
    if (a->identity_file != NULL) {
        size_t len = 0;
        char *text = cli_read_raw(a->identity_file, &len);
        if (text == NULL)
            return EXIT_IO;
        rc = sbprov_identity_parse(out, text, len);
        free(text);
        if (rc == SBPROV_OK && sbprov_identity_count(*out) == 0) {
            sbprov_identity_free(*out);
            *out = NULL;
            fprintf(stderr, "sbprov: %s: no identity attributes\n", a->identity_file);
            return EXIT_FAILED;
        }
        return rc == SBPROV_OK ? 0 : cli_fail(a->identity_file, rc);
    }
    if (a->identity_script != NULL) {
        rc = sbprov_identity_from_script(out, a->identity_script, NULL);
        return rc == SBPROV_OK ? 0 : cli_fail(a->identity_script, rc);
    }
    sbprov_identity_probe_options opts;
    if (sbprov_identity_probe_options_init(&opts, sizeof opts) != SBPROV_OK)
        return cli_fail("identity probe", SBPROV_EINVAL);
    if (a->probe_sources != 0)
        opts.sources = a->probe_sources;
    rc = sbprov_identity_probe(out, &opts);
    return rc == SBPROV_OK ? 0 : cli_fail("identity probe", rc);
}

/* Transport options from the connection options; `*client_key` is loaded if
 * mutual TLS is asked for (free it after the client is created). */
static int make_http(sbprov_http_options *http, sbprov_key **client_key, const margs *a)
{
    struct stat st;
    *client_key = NULL;
    if (sbprov_http_options_init(http, sizeof *http) != SBPROV_OK)
        return cli_fail("http options", SBPROV_EINVAL);
    if (a->ca != NULL) {
        if (stat(a->ca, &st) != 0) {
            fprintf(stderr, "sbprov: --ca %s: %s\n", a->ca, strerror(errno));
            return EXIT_IO;
        }
        if (S_ISDIR(st.st_mode))
            http->ca_path = a->ca;
        else
            http->ca_file = a->ca;
    }
    if (a->client_cert != NULL) {
        if (stat(a->client_cert, &st) != 0) {
            fprintf(stderr, "sbprov: --client-cert %s: %s\n", a->client_cert, strerror(errno));
            return EXIT_IO;
        }
        int status = load_private_key(client_key, a, a->client_key, 0);
        if (status != 0)
            return status;
        http->client_cert = a->client_cert;
        http->client_key = *client_key;
    }
    http->proxy = a->proxy;
    http->allow_http = a->allow_http;
    if (a->timeout_ms != 0) {
        http->timeout_ms = a->timeout_ms;
        http->connect_timeout_ms =
            a->timeout_ms < SBPROV_HTTP_CONNECT_TIMEOUT_MS ? a->timeout_ms : SBPROV_HTTP_CONNECT_TIMEOUT_MS;
    }
    return 0;
}

/* A logged-in management client. */
static int make_mgmt(sbprov_mender_mgmt **out, const margs *a)
{
    sbprov_http_options http;
    sbprov_key *client_key = NULL;
    sbprov_mender_mgmt *m = NULL;
    int status = make_http(&http, &client_key, a);
    sbprov_result rc;

    if (status != 0)
        return status;
    rc = sbprov_mender_mgmt_new(&m, a->server, &http);
    sbprov_key_free(client_key);
    if (rc != SBPROV_OK)
        return cli_fail(a->server, rc);

    const char *path = a->token_file != NULL ? a->token_file : a->password_file;
    size_t len = 0;
    char *secret = cli_read_secret(path, &len);
    if (secret == NULL) {
        sbprov_mender_mgmt_free(m);
        return EXIT_IO;
    }
    if (len == 0 || strlen(secret) != len) {
        fprintf(stderr, "sbprov: %s: %s\n", path, len == 0 ? "empty" : "holds a NUL byte");
        cli_free_secret(secret, len);
        sbprov_mender_mgmt_free(m);
        return EXIT_FAILED;
    }
    if (a->token_file != NULL) {
        rc = sbprov_mender_mgmt_set_token(m, secret);
        status = rc == SBPROV_OK ? 0 : cli_fail(a->token_file, rc);
    } else {
        rc = sbprov_mender_mgmt_login(m, a->user, secret, len);
        status = rc == SBPROV_OK ? 0 : cli_fail("login", rc);
    }
    cli_free_secret(secret, len);
    if (status != 0) {
        sbprov_mender_mgmt_free(m);
        return status;
    }
    *out = m;
    return 0;
}

/* What a device client holds on to until it is freed. */
typedef struct device_ctx {
    sbprov_mender *m;
    sbprov_store *store;
} device_ctx;

static void device_free(device_ctx *d)
{
    release_signals();
    sbprov_mender_free(d->m);
    sbprov_store_free(d->store);
    d->m = NULL;
    d->store = NULL;
}

static int open_store(sbprov_store **out, const margs *a)
{
    sbprov_store_open_options so;
    sbprov_key *sealing = NULL;
    char *passphrase = NULL;
    size_t passphrase_len = 0;
    int status;

    if (sbprov_store_open_options_init(&so, sizeof so) != SBPROV_OK)
        return cli_fail("store options", SBPROV_EINVAL);
    so.key_file = a->store_key_file;
    so.plaintext = a->store_plaintext;
    so.create = a->store_create;
    if (a->store_passphrase_file != NULL) {
        if ((passphrase = cli_read_secret(a->store_passphrase_file, &passphrase_len)) == NULL)
            return EXIT_IO;
        so.passphrase = passphrase;
        so.passphrase_len = passphrase_len;
    }
    if (a->store_sealing_key != NULL) {
        if ((status = load_private_key(&sealing, a, a->store_sealing_key, 0)) != 0) {
            cli_free_secret(passphrase, passphrase_len);
            return status;
        }
        so.sealing_key = sealing;
    }
    sbprov_result rc = sbprov_store_open(out, a->store, &so);
    cli_free_secret(passphrase, passphrase_len);
    sbprov_key_free(sealing);
    return rc == SBPROV_OK ? 0 : cli_fail(a->store, rc);
}

/* A device client from the identity, key, store and connection options, with
 * SIGINT/SIGTERM routed to sbprov_mender_cancel(). */
static int make_device(device_ctx *d, margs *a)
{
    sbprov_identity *id = NULL;
    sbprov_key *key = NULL, *client_key = NULL;
    sbprov_http_options http;
    sbprov_mender_options o;
    char *tenant = NULL;
    size_t tenant_len = 0;
    int status;

    memset(d, 0, sizeof *d);
    if ((status = load_identity(&id, a)) != 0)
        return status;
    if ((status = load_private_key(&key, a, a->key, 1)) != 0)
        goto out;
    if (a->tenant_token_file != NULL) {
        if ((tenant = cli_read_secret(a->tenant_token_file, &tenant_len)) == NULL) {
            status = EXIT_IO;
            goto out;
        }
        if (tenant_len == 0 || strlen(tenant) != tenant_len) {
            fprintf(stderr, "sbprov: %s: %s\n", a->tenant_token_file, tenant_len == 0 ? "empty" : "holds a NUL byte");
            status = EXIT_FAILED;
            goto out;
        }
    }
    if (a->store != NULL && (status = open_store(&d->store, a)) != 0)
        goto out;
    if ((status = make_http(&http, &client_key, a)) != 0)
        goto out;
    if (sbprov_mender_options_init(&o, sizeof o) != SBPROV_OK) {
        status = cli_fail("mender options", SBPROV_EINVAL);
        goto out;
    }
    o.http = &http;
    o.tenant_token = tenant;
    o.tier = a->tier;
    o.token_store = d->store;
    o.token_entry = a->token_entry;
    sbprov_result rc = sbprov_mender_new(&d->m, a->server, id, key, &o);
    status = rc == SBPROV_OK ? 0 : cli_fail(a->server, rc);
    if (status == 0)
        catch_signals(d->m);
out:
    cli_free_secret(tenant, tenant_len);
    sbprov_key_free(client_key);
    sbprov_key_free(key);
    sbprov_identity_free(id);
    if (status != 0)
        device_free(d);
    return status;
}

/* A library string output (token, device ID, fingerprint) in a heap buffer. */
static char *get_text(cli_text_fn call, void *payload, sbprov_result *rc)
{
    size_t size = 128, needed = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *buf = malloc(size);
        if (buf == NULL) {
            *rc = SBPROV_ENOMEM;
            return NULL;
        }
        *rc = call(buf, size, &needed, payload);
        if (*rc == SBPROV_OK)
            return buf;
        cli_free_secret(buf, size);
        if (*rc != SBPROV_EBUFS)
            return NULL;
        size = needed;
    }
    return NULL;
}

static sbprov_result token_text(char *buf, size_t size, size_t *out_len, void *m)
{
    return sbprov_mender_token(buf, size, out_len, m);
}

static sbprov_result device_id_text(char *buf, size_t size, size_t *out_len, void *m)
{
    return sbprov_mender_token_device_id(buf, size, out_len, m);
}

static sbprov_result fingerprint_text(char *buf, size_t size, size_t *out_len, void *key)
{
    return sbprov_key_fingerprint(buf, size, out_len, key);
}

/* Print `item` (a cJSON tree, consumed) on one line. */
static int print_json(cJSON *item)
{
    char *text = item != NULL ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (text == NULL)
        return cli_fail("json", SBPROV_ENOMEM);
    puts(text);
    cJSON_free(text);
    return 0;
}

/* ---- auth --------------------------------------------------------------------- */

static const char auth_help[] =
    "usage: sbprov mender auth --server URL --key URI IDENTITY [--tenant-token-file F]\n"
    "                          [--wait SECONDS [--first-interval S] [--max-interval S]]\n"
    "                          [--store DIR ...] [--print-token] [--json]\n"
    "\n"
    "Authenticate the device (POST .../authentication/auth_requests, signed with the\n"
    "device key). Accepted: exit 0 and the device ID on stdout (the token with\n"
    "--print-token). Not accepted (pending, rejected or unknown to the server): exit 4.\n"
    "\n"
    "  --wait SECONDS          retry until accepted, at most this long, on Mender's schedule\n"
    "                          (every 60 s three times, then doubling up to 300 s); exit 4 if the\n"
    "                          device is still not accepted. When the next attempt would fall after\n"
    "                          SECONDS, one last attempt is made before the end. Ctrl-C cancels\n"
    "                          (exit 130).\n"
    "  --first-interval S      first wait between attempts (default 60; decimals allowed)\n"
    "  --max-interval S        longest wait between attempts (default 300)\n"
    "  --print-token           print the device token (a JWT) instead of the device ID\n"
    "  --json                  print {\"status\", \"device_id\", \"expires\"[, \"token\"]}\n"
    "\n"
    "exit: 0 accepted, 1 usage, 2 failed, 3 a file could not be read, 4 not accepted,\n"
    "      130 interrupted (SIGINT; 143 for SIGTERM)\n";

typedef struct auth_opts {
    uint32_t wait_ms, first_ms, max_ms;
    int print_token, json;
    const char *prog;
} auth_opts;

static int auth_option(int opt, char *arg, void *ctx)
{
    auth_opts *o = ctx;
    uint32_t *target = opt == OPT_WAIT ? &o->wait_ms : opt == OPT_FIRST_INTERVAL ? &o->first_ms
                                                   : opt == OPT_MAX_INTERVAL ? &o->max_ms : NULL;
    if (target != NULL) {
        if (parse_seconds(arg, target) != 0) {
            cli_usage_error(o->prog, "'%s' is not a number of seconds", arg);
            return -1;
        }
        return 1;
    }
    switch (opt) {
    case OPT_PRINT_TOKEN: o->print_token = 1; return 1;
    case OPT_JSON: o->json = 1; return 1;
    }
    return 0;
}

/* Print the outcome of an accepted authentication. */
static int print_accepted(sbprov_mender *m, const auth_opts *o)
{
    sbprov_result rc;
    char *dev = get_text(device_id_text, m, &rc);
    char *token = NULL;
    int status = 0;

    if (dev == NULL)
        return cli_fail("device ID", rc);
    if (o->print_token && (token = get_text(token_text, m, &rc)) == NULL) {
        free(dev);
        return cli_fail("token", rc);
    }
    if (o->json) {
        int64_t exp = 0;
        cJSON *j = cJSON_CreateObject();
        if (sbprov_mender_token_expiry(&exp, m) != SBPROV_OK)
            exp = 0;
        cJSON_AddStringToObject(j, "status", "accepted");
        cJSON_AddStringToObject(j, "device_id", dev);
        cJSON_AddNumberToObject(j, "expires", (double)exp);
        if (token != NULL)
            cJSON_AddStringToObject(j, "token", token);
        char *text = cJSON_PrintUnformatted(j);
        if (text != NULL) {
            puts(text);
            cli_free_secret(text, strlen(text));
        } else {
            status = cli_fail("json", SBPROV_ENOMEM);
        }
        cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
        if (cJSON_IsString(t)) { /* cJSON's own copy of the token (cJSON allocates with malloc) */
            cli_free_secret(t->valuestring, strlen(t->valuestring));
            t->valuestring = NULL;
        }
        cJSON_Delete(j);
    } else {
        puts(token != NULL ? token : dev);
    }
    if (token != NULL)
        cli_free_secret(token, strlen(token));
    free(dev);
    return status;
}

static int not_accepted(const auth_opts *o, const char *detail)
{
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "status", "pending");
        (void)print_json(j);
    }
    fprintf(stderr, "sbprov: the device is not accepted (yet): %s\n", detail);
    return EXIT_PENDING;
}

static int cmd_auth(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, IDENTITY_OPTIONS, KEY_OPTIONS, DEVICE_OPTIONS,
        { "wait", required_argument, NULL, OPT_WAIT },
        { "first-interval", required_argument, NULL, OPT_FIRST_INTERVAL },
        { "max-interval", required_argument, NULL, OPT_MAX_INTERVAL },
        { "print-token", no_argument, NULL, OPT_PRINT_TOKEN },
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender auth" };
    auth_opts o = { .prog = a.prog };
    device_ctx d;
    int status = parse_args(&a, argc, argv, options, auth_help,
                            NEED_SERVER | NEED_IDENTITY | NEED_KEY | HELP_DEVICE, auth_option,
                            &o);
    if (status == 0 && a.npos != 0)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[0]);
    if (status == 0 && o.wait_ms == 0 && (o.first_ms != 0 || o.max_ms != 0))
        status = cli_usage_error(a.prog, "--first-interval and --max-interval need --wait");
    if (status == 0)
        status = make_device(&d, &a);
    margs_free(&a);
    if (status != 0)
        return status == DONE ? 0 : status;

    sbprov_result rc;
    if (o.wait_ms == 0) {
        sbprov_mender_auth_status st = SBPROV_MENDER_PENDING;
        rc = sbprov_mender_authenticate(&st, d.m);
        if (rc != SBPROV_OK)
            status = device_fail("auth", rc);
        else if (st != SBPROV_MENDER_ACCEPTED)
            status = not_accepted(&o, "the server answered 401 (pending, rejected or unknown)");
        else
            status = print_accepted(d.m, &o);
    } else {
        sbprov_mender_wait_options w;
        if (sbprov_mender_wait_options_init(&w, sizeof w) != SBPROV_OK) {
            device_free(&d);
            return cli_fail("wait options", SBPROV_EINVAL);
        }
        w.timeout_ms = o.wait_ms;
        w.first_interval_ms = o.first_ms;
        w.max_interval_ms = o.max_ms;
        rc = sbprov_mender_authenticate_until_accepted(d.m, &w);
        if (rc == SBPROV_OK) {
            status = print_accepted(d.m, &o);
        } else {
            sbprov_http_response_info info = { .struct_size = sizeof info };
            /* Timed out while the server kept answering 401: still pending. */
            if (rc == SBPROV_ETIMEOUT && sbprov_mender_last_response(&info, d.m) == SBPROV_OK && info.status == 401)
                status = not_accepted(&o, sbprov_last_error());
            else
                status = device_fail("auth", rc);
        }
    }
    device_free(&d);
    return status;
}

/* ---- inventory ------------------------------------------------------------------ */

static const char inventory_help[] =
    "usage: sbprov mender inventory --server URL --key URI IDENTITY [--replace]\n"
    "                               [--number NAME=NUMBER]... [NAME=VALUE]...\n"
    "\n"
    "Send inventory attributes as the device (authenticating first; with --store a\n"
    "stored token is used). A name given several times becomes an array. Values are\n"
    "strings; --number NAME=1.5 sends a number (an array never mixes the two).\n"
    "By default the attributes are merged into the device's inventory (PATCH);\n"
    "--replace makes them the whole inventory (PUT). At most 100 attributes.\n"
    "Exit 4 if the device is not accepted.\n";

typedef struct inv_opts {
    char **numbers;
    int nnumbers;
    int replace;
    const char *prog;
} inv_opts;

static int inventory_option(int opt, char *arg, void *ctx)
{
    inv_opts *o = ctx;
    switch (opt) {
    case OPT_NUMBER: o->numbers[o->nnumbers++] = arg; return 1;
    case OPT_REPLACE: o->replace = 1; return 1;
    }
    return 0;
}

/* Length of NAME in "NAME=VALUE", or 0 if it is not of that shape. */
static size_t name_len(const char *pair)
{
    const char *eq = strchr(pair, '=');
    return eq == NULL ? 0 : (size_t)(eq - pair);
}

static int same_name(const char *pair, const char *name, size_t n)
{
    return name_len(pair) == n && strncmp(pair, name, n) == 0;
}

/* Build the attribute set: names in order of first appearance, strings from
 * the arguments, numbers from --number. */
static int build_inventory(sbprov_inventory *inv, const margs *a, const inv_opts *o)
{
    int total = a->npos + o->nnumbers;
    const char **values = calloc((size_t)total + 1, sizeof *values);
    double *nums = calloc((size_t)total + 1, sizeof *nums);
    int status = 0;

    if (values == NULL || nums == NULL) {
        free(values);
        free(nums);
        return cli_fail("inventory", SBPROV_ENOMEM);
    }
    for (int i = 0; i < total && status == 0; i++) {
        int is_number = i >= a->npos;
        const char *pair = is_number ? o->numbers[i - a->npos] : a->pos[i];
        size_t n = name_len(pair);
        int seen = 0, other = 0;
        if (n == 0) {
            status = cli_usage_error(a->prog, "'%s' is not NAME=VALUE", pair);
            break;
        }
        for (int j = 0; j < total; j++) {
            const char *p = j >= a->npos ? o->numbers[j - a->npos] : a->pos[j];
            if (!same_name(p, pair, n))
                continue;
            if (j < i)
                seen = 1;
            if ((j >= a->npos) != is_number)
                other = 1;
        }
        if (seen)
            continue;
        if (other) {
            status = cli_usage_error(a->prog, "'%.*s' is given both as a string and as a --number (an attribute "
                                              "is one or the other)", (int)n, pair);
            break;
        }
        size_t count = 0;
        for (int j = i; j < total; j++) {
            const char *p = j >= a->npos ? o->numbers[j - a->npos] : a->pos[j];
            if (!same_name(p, pair, n))
                continue;
            const char *value = p + n + 1;
            if (is_number) {
                char *end;
                errno = 0;
                nums[count] = strtod(value, &end);
                if (errno != 0 || end == value || *end != '\0' || !isfinite(nums[count])) {
                    status = cli_usage_error(a->prog, "--number %s: '%s' is not a finite number", p, value);
                    break;
                }
            } else {
                values[count] = value;
            }
            count++;
        }
        if (status != 0)
            break;
        char *name = strndup(pair, n);
        if (name == NULL) {
            status = cli_fail("inventory", SBPROV_ENOMEM);
            break;
        }
        sbprov_result rc = is_number ? sbprov_inventory_add_numbers(inv, name, nums, count)
                                     : sbprov_inventory_add_strings(inv, name, values, count);
        if (rc != SBPROV_OK)
            status = cli_fail(name, rc);
        free(name);
    }
    free(values);
    free(nums);
    return status;
}

static int cmd_inventory(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, IDENTITY_OPTIONS, KEY_OPTIONS, DEVICE_OPTIONS,
        { "number", required_argument, NULL, OPT_NUMBER },
        { "replace", no_argument, NULL, OPT_REPLACE },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender inventory" };
    inv_opts o = { .prog = a.prog };
    sbprov_inventory *inv = NULL;
    device_ctx d = { 0 };
    int status;

    if ((o.numbers = calloc((size_t)argc + 1, sizeof *o.numbers)) == NULL)
        return cli_fail("inventory", SBPROV_ENOMEM);
    status = parse_args(&a, argc, argv, options, inventory_help,
                        NEED_SERVER | NEED_IDENTITY | NEED_KEY | HELP_DEVICE, inventory_option, &o);
    if (status == 0 && a.npos + o.nnumbers == 0)
        status = cli_usage_error(a.prog, "no attributes given (NAME=VALUE or --number NAME=NUMBER)");
    if (status == 0 && sbprov_inventory_new(&inv) != SBPROV_OK)
        status = cli_fail("inventory", SBPROV_ENOMEM);
    if (status == 0)
        status = build_inventory(inv, &a, &o);
    if (status == 0)
        status = make_device(&d, &a);
    if (status == 0) {
        sbprov_result rc = sbprov_mender_update_inventory(d.m, inv, o.replace ? SBPROV_INVENTORY_REPLACE
                                                                                : SBPROV_INVENTORY_MERGE);
        if (rc == SBPROV_EAUTH) {
            fprintf(stderr, "sbprov: inventory: %s\n", sbprov_last_error());
            status = EXIT_PENDING;
        } else if (rc != SBPROV_OK) {
            status = device_fail("inventory", rc);
        }
        device_free(&d);
    }
    sbprov_inventory_free(inv);
    free(o.numbers);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

/* ---- preauth ------------------------------------------------------------------------ */

static const char preauth_help[] =
    "usage: sbprov mender preauth --server URL LOGIN IDENTITY (--public-key PEMFILE | --key URI)\n"
    "                             [--force] [--json]\n"
    "\n"
    "Preauthorize a device, so that its first authentication with this identity and\n"
    "key is accepted at once. Prints the device ID. Idempotent: if the server knows\n"
    "the identity already, its device ID is printed (exit 0 too) and stderr says so;\n"
    "the existing device is not changed unless --force adds this key as a\n"
    "preauthorized auth set.\n"
    "\n"
    "  --public-key PEMFILE    the device's public key (SPKI PEM, as 'sbprov key public' prints it)\n"
    "  --key URI               or its private key, of which the public part is sent\n"
    "  --force                 add the key to an identity the server knows already\n"
    "  --json                  print {\"device_id\", \"existed\"}\n";

typedef struct flag_opts {
    int force, json, missing_ok;
    const char *status;
    uint32_t per_page;
    const char *prog;
} flag_opts;

static int flag_option(int opt, char *arg, void *ctx)
{
    flag_opts *o = ctx;
    long long n;
    switch (opt) {
    case OPT_FORCE: o->force = 1; return 1;
    case OPT_JSON: o->json = 1; return 1;
    case OPT_MISSING_OK: o->missing_ok = 1; return 1;
    case OPT_STATUS: o->status = arg; return 1;
    case OPT_PER_PAGE:
        if (cli_parse_i64(arg, &n) != 0 || n < 1 || n > 500) {
            cli_usage_error(o->prog, "--per-page: '%s' is not a number from 1 to 500", arg);
            return -1;
        }
        o->per_page = (uint32_t)n;
        return 1;
    }
    return 0;
}

static int cmd_preauth(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, IDENTITY_OPTIONS, KEY_OPTIONS, LOGIN_OPTIONS,
        { "public-key", required_argument, NULL, OPT_PUBLIC_KEY },
        { "force", no_argument, NULL, OPT_FORCE },
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender preauth" };
    flag_opts o = { .prog = a.prog };
    sbprov_identity *id = NULL;
    sbprov_key *key = NULL;
    sbprov_mender_mgmt *mg = NULL;
    int status = parse_args(&a, argc, argv, options, preauth_help,
                            NEED_SERVER | NEED_LOGIN | NEED_IDENTITY | HELP_KEY, flag_option, &o);

    if (status == 0 && a.npos != 0)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[0]);
    if (status == 0 && (a.public_key == NULL) == (a.key == NULL))
        status = cli_usage_error(a.prog, "give exactly one of --public-key and --key");
    if (status == 0)
        status = load_identity(&id, &a);
    if (status == 0 && a.public_key != NULL) {
        size_t len = 0;
        char *pem = cli_read_raw(a.public_key, &len);
        if (pem == NULL) {
            status = EXIT_IO;
        } else {
            sbprov_result rc = sbprov_key_from_public_pem(&key, pem, len);
            free(pem);
            if (rc != SBPROV_OK)
                status = cli_fail(a.public_key, rc);
        }
    } else if (status == 0) {
        status = load_private_key(&key, &a, a.key, 1);
    }
    if (status == 0)
        status = make_mgmt(&mg, &a);
    if (status == 0) {
        char dev[128];
        int existed = 0;
        sbprov_result rc = sbprov_mender_mgmt_preauthorize(dev, sizeof dev, NULL, &existed, mg, id, key,
                                                           o.force ? SBPROV_MENDER_PREAUTH_FORCE : 0);
        if (rc != SBPROV_OK) {
            status = cli_fail("preauthorize", rc);
        } else if (o.json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "device_id", dev);
            cJSON_AddBoolToObject(j, "existed", existed);
            status = print_json(j);
        } else {
            puts(dev);
        }
        if (rc == SBPROV_OK && existed)
            fprintf(stderr, "sbprov: the identity is already known as device %s; it was not changed (--force "
                            "adds this key as a preauthorized auth set)\n", dev);
        else if (rc == SBPROV_OK)
            fprintf(stderr, "sbprov: device %s preauthorized%s\n", dev, o.force ? " (forced)" : "");
    }
    sbprov_mender_mgmt_free(mg);
    sbprov_key_free(key);
    sbprov_identity_free(id);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

/* ---- device lookups: status, accept, reject, decommission ---------------------------- */

/* The device named by the DEVICE_ID argument or by the identity options. */
static int lookup_device(sbprov_mender_device **out, sbprov_mender_mgmt *mg, margs *a)
{
    sbprov_result rc;
    if (a->npos >= 1) {
        rc = sbprov_mender_mgmt_get_device(out, mg, a->pos[0]);
        if (rc == SBPROV_ENOTFOUND) {
            fprintf(stderr, "sbprov: no device %s on the server\n", a->pos[0]);
            return EXIT_FAILED;
        }
        return rc == SBPROV_OK ? 0 : cli_fail(a->pos[0], rc);
    }
    sbprov_identity *id = NULL;
    int status = load_identity(&id, a);
    if (status != 0)
        return status;
    rc = sbprov_mender_mgmt_find_device(out, mg, id);
    sbprov_identity_free(id);
    if (rc == SBPROV_ENOTFOUND) {
        fprintf(stderr, "sbprov: no device with this identity on the server\n");
        return EXIT_FAILED;
    }
    return rc == SBPROV_OK ? 0 : cli_fail("find device", rc);
}

static const char *json_string(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_device_text(const sbprov_mender_device *d)
{
    cJSON *j = cJSON_Parse(sbprov_mender_device_json(d));
    static const struct { const char *field, *label; } times[] = {
        { "created_ts", "created:" }, { "updated_ts", "updated:" }, { "check_in_time", "check-in:" },
    };

    printf("device:   %s\n", sbprov_mender_device_id(d));
    printf("status:   %s\n", sbprov_mender_device_status(d));
    printf("identity: %s\n", sbprov_mender_device_identity_json(d));
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        const char *v = json_string(j, times[i].field);
        if (v != NULL && v[0] != '\0')
            printf("%-9s %s\n", times[i].label, v);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "decommissioning")))
        puts("decommissioning: true");
    cJSON_Delete(j);
    for (size_t i = 0; i < sbprov_mender_device_auth_set_count(d); i++) {
        const char *pem = sbprov_mender_device_auth_set_pubkey(d, i);
        sbprov_key *k = NULL;
        char *fp = NULL;
        sbprov_result rc;
        if (pem != NULL && sbprov_key_from_public_pem(&k, pem, strlen(pem)) == SBPROV_OK)
            fp = get_text(fingerprint_text, k, &rc);
        printf("auth set: %s %s key-sha256 %s\n", sbprov_mender_device_auth_set_id(d, i),
               sbprov_mender_device_auth_set_status(d, i), fp != NULL ? fp : "-");
        free(fp);
        sbprov_key_free(k);
    }
}

static const char status_help[] =
    "usage: sbprov mender status --server URL LOGIN (DEVICE_ID | IDENTITY) [--json]\n"
    "\n"
    "Show a device: its ID, status, identity, times and auth sets (ID, status and the\n"
    "SHA-256 of the public key, as 'sbprov key public --fingerprint' prints it).\n"
    "With --json, the server's description of the device.\n";

static int cmd_status(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, IDENTITY_OPTIONS, LOGIN_OPTIONS,
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender status" };
    flag_opts o = { .prog = a.prog };
    sbprov_mender_mgmt *mg = NULL;
    sbprov_mender_device *d = NULL;
    int status = parse_args(&a, argc, argv, options, status_help, NEED_SERVER | NEED_LOGIN | DEVICE_OR_IDENTITY,
                            flag_option, &o);

    if (status == 0 && a.npos > 1)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[1]);
    if (status == 0)
        status = make_mgmt(&mg, &a);
    if (status == 0)
        status = lookup_device(&d, mg, &a);
    if (status == 0) {
        if (o.json)
            puts(sbprov_mender_device_json(d));
        else
            print_device_text(d);
    }
    sbprov_mender_device_free(d);
    sbprov_mender_mgmt_free(mg);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

static const char accept_help[] =
    "usage: sbprov mender accept|reject --server URL LOGIN (DEVICE_ID [AUTH_SET_ID] | IDENTITY)\n"
    "\n"
    "Accept or reject a device's auth set (an identity + key pair). Without\n"
    "AUTH_SET_ID:\n"
    "  accept  the device's one pending auth set (after a key rotation: the new key;\n"
    "          accepting it rejects the old one), or its one rejected set if it has\n"
    "          neither pending nor accepted ones. Several candidates: name one (exit 1).\n"
    "          Already accepted with nothing pending: nothing to do (exit 0).\n"
    "  reject  every pending and accepted auth set (the device loses its token).\n"
    "Preauthorized auth sets cannot be rejected: decommission the device instead.\n"
    "Prints one line per auth set changed.\n";

static int set_auth(sbprov_mender_mgmt *mg, const char *dev, const char *aid, const char *to)
{
    sbprov_result rc = sbprov_mender_mgmt_set_auth_status(mg, dev, aid, to);
    if (rc != SBPROV_OK)
        return cli_fail(aid, rc);
    printf("device %s: auth set %s %s\n", dev, aid, to);
    return 0;
}

static int accept_or_reject(int argc, char **argv, int accept)
{
    static const struct option options[] = {
        CONN_OPTIONS, IDENTITY_OPTIONS, LOGIN_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = accept ? "sbprov mender accept" : "sbprov mender reject" };
    sbprov_mender_mgmt *mg = NULL;
    sbprov_mender_device *d = NULL;
    const char *to = accept ? "accepted" : "rejected";
    int status = parse_args(&a, argc, argv, options, accept_help, NEED_SERVER | NEED_LOGIN | DEVICE_OR_IDENTITY,
                            NULL, NULL);

    if (status == 0 && a.npos > 2)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[2]);
    if (status == 0)
        status = make_mgmt(&mg, &a);
    if (status == 0 && a.npos == 2) {
        status = set_auth(mg, a.pos[0], a.pos[1], to);
        goto out;
    }
    if (status == 0)
        status = lookup_device(&d, mg, &a);
    if (status != 0)
        goto out;

    const char *dev = sbprov_mender_device_id(d);
    size_t n = sbprov_mender_device_auth_set_count(d), pending = 0, accepted = 0, rejected = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = sbprov_mender_device_auth_set_status(d, i);
        pending += strcmp(s, "pending") == 0;
        accepted += strcmp(s, "accepted") == 0;
        rejected += strcmp(s, "rejected") == 0;
    }
    if (!accept) {
        if (pending + accepted == 0) {
            if (rejected > 0 && n == rejected) {
                printf("device %s: already rejected\n", dev);
            } else {
                fprintf(stderr, "sbprov: device %s has no pending or accepted auth set to reject (its status is "
                                "%s; decommission it to remove it)\n", dev, sbprov_mender_device_status(d));
                status = EXIT_FAILED;
            }
        }
        for (size_t i = 0; i < n && status == 0; i++) {
            const char *s = sbprov_mender_device_auth_set_status(d, i);
            if (strcmp(s, "pending") == 0 || strcmp(s, "accepted") == 0)
                status = set_auth(mg, dev, sbprov_mender_device_auth_set_id(d, i), to);
        }
        goto out;
    }
    /* accept: the pending set, else (never accepted) the rejected one. */
    const char *want = pending > 0 ? "pending" : accepted == 0 && rejected > 0 ? "rejected" : NULL;
    size_t candidates = pending > 0 ? pending : want != NULL ? rejected : 0;
    if (want == NULL) {
        if (accepted > 0) {
            printf("device %s: already accepted\n", dev);
        } else {
            fprintf(stderr, "sbprov: device %s has no auth set to accept (status %s)\n", dev,
                    sbprov_mender_device_status(d));
            status = EXIT_FAILED;
        }
        goto out;
    }
    if (candidates > 1) {
        fprintf(stderr, "sbprov: device %s has %zu %s auth sets; name one:\n", dev, candidates, want);
        for (size_t i = 0; i < n; i++)
            if (strcmp(sbprov_mender_device_auth_set_status(d, i), want) == 0)
                fprintf(stderr, "  %s accept %s %s\n", "sbprov mender", dev, sbprov_mender_device_auth_set_id(d, i));
        status = EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(sbprov_mender_device_auth_set_status(d, i), want) == 0)
            status = set_auth(mg, dev, sbprov_mender_device_auth_set_id(d, i), to);
out:
    sbprov_mender_device_free(d);
    sbprov_mender_mgmt_free(mg);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

static int cmd_accept(int argc, char **argv)
{
    return accept_or_reject(argc, argv, 1);
}

static int cmd_reject(int argc, char **argv)
{
    return accept_or_reject(argc, argv, 0);
}

static const char decommission_help[] =
    "usage: sbprov mender decommission --server URL LOGIN (DEVICE_ID | IDENTITY) [--missing-ok]\n"
    "\n"
    "Decommission a device: the server forgets it and revokes its tokens.\n"
    "  --missing-ok            exit 0 if there is no such device\n";

static int cmd_decommission(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, IDENTITY_OPTIONS, LOGIN_OPTIONS,
        { "missing-ok", no_argument, NULL, OPT_MISSING_OK },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender decommission" };
    flag_opts o = { .prog = a.prog };
    sbprov_mender_mgmt *mg = NULL;
    sbprov_mender_device *d = NULL;
    char *dev = NULL;
    int status = parse_args(&a, argc, argv, options, decommission_help,
                            NEED_SERVER | NEED_LOGIN | DEVICE_OR_IDENTITY, flag_option, &o);

    if (status == 0 && a.npos > 1)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[1]);
    if (status == 0)
        status = make_mgmt(&mg, &a);
    if (status == 0 && a.npos == 0) {
        sbprov_identity *id = NULL;
        if ((status = load_identity(&id, &a)) == 0) {
            sbprov_result rc = sbprov_mender_mgmt_find_device(&d, mg, id);
            if (rc == SBPROV_OK && (dev = strdup(sbprov_mender_device_id(d))) == NULL)
                rc = SBPROV_ENOMEM;
            if (rc == SBPROV_ENOTFOUND) {
                fprintf(stderr, "sbprov: no device with this identity on the server%s\n",
                        o.missing_ok ? " (nothing to do)" : "");
                status = o.missing_ok ? 0 : EXIT_FAILED;
            } else if (rc != SBPROV_OK) {
                status = cli_fail("find device", rc);
            }
        }
        sbprov_identity_free(id);
    } else if (status == 0 && (dev = strdup(a.pos[0])) == NULL) {
        status = cli_fail("decommission", SBPROV_ENOMEM);
    }
    if (status == 0 && dev != NULL) {
        sbprov_result rc = sbprov_mender_mgmt_decommission(mg, dev);
        if (rc == SBPROV_OK) {
            printf("device %s decommissioned\n", dev);
        } else if (rc == SBPROV_ENOTFOUND) {
            fprintf(stderr, "sbprov: no device %s on the server%s\n", dev, o.missing_ok ? " (nothing to do)" : "");
            status = o.missing_ok ? 0 : EXIT_FAILED;
        } else {
            status = cli_fail(dev, rc);
        }
    }
    free(dev);
    sbprov_mender_device_free(d);
    sbprov_mender_mgmt_free(mg);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

/* ---- list, count ----------------------------------------------------------------------- */

static const char list_help[] =
    "usage: sbprov mender list --server URL LOGIN [--status STATUS] [--json] [--per-page N]\n"
    "\n"
    "List every device (all pages), oldest first: one line each with its ID, status\n"
    "and identity (canonical JSON), or with --json one JSON array of the server's\n"
    "descriptions. STATUS: pending, accepted, rejected, preauthorized or noauth.\n"
    "  --per-page N            devices fetched per request (1 to 500, default 500)\n";

static const char count_help[] =
    "usage: sbprov mender count --server URL LOGIN [--status STATUS]\n"
    "\n"
    "Print the number of devices (with this status: pending, accepted, rejected,\n"
    "preauthorized or noauth).\n";

static int check_status_arg(const char *s, const char *prog)
{
    static const char *const ok[] = { "pending", "accepted", "rejected", "preauthorized", "noauth" };
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return 0;
    return cli_usage_error(prog, "--status: '%s' is not pending, accepted, rejected, preauthorized or noauth", s);
}

static int cmd_list(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, LOGIN_OPTIONS,
        { "status", required_argument, NULL, OPT_STATUS },
        { "json", no_argument, NULL, OPT_JSON },
        { "per-page", required_argument, NULL, OPT_PER_PAGE },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender list" };
    flag_opts o = { .prog = a.prog, .per_page = 500 };
    sbprov_mender_mgmt *mg = NULL;
    int status = parse_args(&a, argc, argv, options, list_help, NEED_SERVER | NEED_LOGIN, flag_option, &o);

    if (status == 0 && a.npos != 0)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[0]);
    if (status == 0)
        status = check_status_arg(o.status, a.prog);
    if (status == 0)
        status = make_mgmt(&mg, &a);
    if (status == 0) {
        size_t printed = 0;
        if (o.json)
            putchar('[');
        for (uint32_t page = 1; status == 0; page++) {
            sbprov_mender_device_list *list = NULL;
            sbprov_result rc = sbprov_mender_mgmt_list_devices(&list, mg, o.status, page, o.per_page);
            if (rc != SBPROV_OK) {
                status = cli_fail("list devices", rc);
                break;
            }
            for (size_t i = 0; i < sbprov_mender_device_list_count(list); i++) {
                const sbprov_mender_device *d = sbprov_mender_device_list_get(list, i);
                if (o.json)
                    printf("%s%s", printed++ ? "," : "", sbprov_mender_device_json(d));
                else
                    printf("%s %s %s\n", sbprov_mender_device_id(d), sbprov_mender_device_status(d),
                           sbprov_mender_device_identity_json(d));
            }
            int more = sbprov_mender_device_list_has_next(list) && sbprov_mender_device_list_count(list) > 0;
            sbprov_mender_device_list_free(list);
            if (!more)
                break;
        }
        if (o.json && status == 0)
            puts("]");
        else if (o.json)
            putchar('\n');
    }
    sbprov_mender_mgmt_free(mg);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

static int cmd_count(int argc, char **argv)
{
    static const struct option options[] = {
        CONN_OPTIONS, LOGIN_OPTIONS,
        { "status", required_argument, NULL, OPT_STATUS },
        { NULL, 0, NULL, 0 },
    };
    margs a = { .prog = "sbprov mender count" };
    flag_opts o = { .prog = a.prog };
    sbprov_mender_mgmt *mg = NULL;
    int status = parse_args(&a, argc, argv, options, count_help, NEED_SERVER | NEED_LOGIN, flag_option, &o);

    if (status == 0 && a.npos != 0)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[0]);
    if (status == 0)
        status = check_status_arg(o.status, a.prog);
    if (status == 0)
        status = make_mgmt(&mg, &a);
    if (status == 0) {
        uint64_t n = 0;
        sbprov_result rc = sbprov_mender_mgmt_count(&n, mg, o.status);
        if (rc == SBPROV_OK)
            printf("%llu\n", (unsigned long long)n);
        else
            status = cli_fail("count", rc);
    }
    sbprov_mender_mgmt_free(mg);
    margs_free(&a);
    return status == DONE ? 0 : status;
}

int cli_mender(int argc, char **argv)
{
    static const cli_command commands[] = {
        { "auth", "device: authenticate (once, or --wait until accepted)", cmd_auth },
        { "inventory", "device: send inventory attributes", cmd_inventory },
        { "preauth", "preauthorize an identity and key; prints the device ID", cmd_preauth },
        { "status", "show a device (by ID or identity): status, auth sets", cmd_status },
        { "accept", "accept a device's pending auth set", cmd_accept },
        { "reject", "reject a device's auth sets", cmd_reject },
        { "list", "list devices [--status S]", cmd_list },
        { "count", "count devices [--status S]", cmd_count },
        { "decommission", "decommission a device", cmd_decommission },
        { NULL, NULL, NULL },
    };
    return cli_dispatch(commands, "sbprov mender", argc - 1, argv + 1);
}
