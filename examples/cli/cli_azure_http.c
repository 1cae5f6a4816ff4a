/* `sbprov azure register|send|registry`: Azure over HTTPS from the command line.
 *
 *   register  DPS registration with a symmetric key (or one derived from an
 *             enrollment group key); optionally writes the device's
 *             connection string
 *   send      device-to-cloud telemetry: stdin as one message, or one message
 *             per line (a sensor pipe)
 *   registry  the IoT Hub identity registry: create, get, update, delete
 *
 * The pure Azure verbs (derive-key, sas, keygen, connstr) are in cli_azure.c,
 * which dispatches to the entry points here. Secrets are only read from files
 * or stdin. Exit codes beyond the common ones: 4 DPS did not assign the
 * device; 128 + signal number when SIGINT/SIGTERM cancelled a network call. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_azure_register(int argc, char **argv);
int cli_azure_send(int argc, char **argv);
int cli_azure_registry(int argc, char **argv);

enum { EXIT_NOT_ASSIGNED = 4, EXIT_SIGNAL_BASE = 128 };

/* Returned by parse_args when --help was printed: the command is done. */
#define DONE (-1)

/* IoT Hub's limit for one message body (the library's too). */
#define MESSAGE_MAX (256u * 1024u - 1u)
/* The library's limits for application properties. */
#define PROPERTY_MAX 64
#define PROPERTY_NAME_MAX 128
#define PROPERTY_VALUE_MAX 256

#define DEFAULT_WAIT_MS 60000u

/* ---- Ctrl-C: cancel the network call in progress ------------------------------ */

#if ATOMIC_POINTER_LOCK_FREE != 2
#error "a lock-free atomic pointer is needed for the signal handler"
#endif

static volatile sig_atomic_t caught_signal;
static _Atomic(sbprov_azure_dps *) cancel_dps;
static _Atomic(sbprov_azure_hub *) cancel_hub;
static _Atomic(sbprov_azure_registry *) cancel_registry;

/* Async-signal-safe: the cancel functions only store an atomic flag (NULL is a no-op). */
static void on_signal(int sig)
{
    caught_signal = sig;
    sbprov_azure_dps_cancel(atomic_load(&cancel_dps));
    sbprov_azure_hub_cancel(atomic_load(&cancel_hub));
    sbprov_azure_registry_cancel(atomic_load(&cancel_registry));
}

/* From here until release_signals(), SIGINT and SIGTERM cancel the client's
 * calls (the one in progress, or the next one) and interrupt waits for stdin,
 * instead of killing the process. No SA_RESTART: a blocked read returns. */
static void catch_signals(sbprov_azure_dps *dps, sbprov_azure_hub *hub, sbprov_azure_registry *reg)
{
    struct sigaction sa;
    atomic_store(&cancel_dps, dps);
    atomic_store(&cancel_hub, hub);
    atomic_store(&cancel_registry, reg);
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
    atomic_store(&cancel_dps, NULL);
    atomic_store(&cancel_hub, NULL);
    atomic_store(&cancel_registry, NULL);
}

static int interrupted(const char *what)
{
    int sig = caught_signal != 0 ? caught_signal : SIGINT;
    fprintf(stderr, "sbprov: %s: interrupted (%s)\n", what, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return EXIT_SIGNAL_BASE + sig;
}

/* Exit status of a network call that failed with `rc`. */
static int net_fail(const char *what, sbprov_result rc)
{
    return rc == SBPROV_ECANCELED ? interrupted(what) : cli_fail(what, rc);
}

/* ---- options ------------------------------------------------------------------ */

enum {
    /* transport */
    OPT_ENDPOINT = 500, OPT_CA, OPT_CLIENT_CERT, OPT_CLIENT_KEY, OPT_PROXY, OPT_TIMEOUT, OPT_ALLOW_HTTP,
    OPT_PROVIDER, OPT_OPENSSL_CONF, OPT_HELP, OPT_INLINE_SECRET,
    /* register */
    OPT_ID_SCOPE, OPT_REGISTRATION_ID, OPT_KEY_FILE, OPT_GROUP_KEY_FILE, OPT_PAYLOAD, OPT_PAYLOAD_FILE, OPT_WAIT,
    /* send */
    OPT_PROPERTY, OPT_MESSAGE_ID, OPT_CORRELATION_ID, OPT_CONTENT_TYPE, OPT_CONTENT_ENCODING, OPT_LINES,
    /* registry */
    OPT_PRIMARY_KEY_FILE, OPT_SECONDARY_KEY_FILE, OPT_ROTATE, OPT_ETAG, OPT_SHOW_KEYS, OPT_MISSING_OK,
    /* shared by several verbs */
    OPT_JSON, OPT_CONNSTR_FILE, OPT_CONNSTR_OUT,
};

#define TRANSPORT_OPTIONS                                                         \
    { "endpoint", required_argument, NULL, OPT_ENDPOINT },                       \
        { "ca", required_argument, NULL, OPT_CA },                               \
        { "client-cert", required_argument, NULL, OPT_CLIENT_CERT },             \
        { "client-key", required_argument, NULL, OPT_CLIENT_KEY },               \
        { "proxy", required_argument, NULL, OPT_PROXY },                         \
        { "timeout", required_argument, NULL, OPT_TIMEOUT },                     \
        { "allow-http", no_argument, NULL, OPT_ALLOW_HTTP },                     \
        { "provider", required_argument, NULL, OPT_PROVIDER },                   \
        { "openssl-conf", required_argument, NULL, OPT_OPENSSL_CONF },           \
        { "help", no_argument, NULL, OPT_HELP }

/* Exact names win over getopt's abbreviations: without these, "--key K"
 * would be taken as "--key-file K". A secret given inline is refused (and not
 * echoed); the message names the -file twin. */
#define TRAP(name) { name, required_argument, NULL, OPT_INLINE_SECRET }

static const char transport_help[] =
    "transport options:\n"
    "  --ca FILE|DIR           trusted CA certificates: a PEM file or a c_rehash directory\n"
    "                          (default: the system's)\n"
    "  --client-cert FILE      client certificate (PEM chain) for mutual TLS; needs --client-key\n"
    "  --client-key URI        its private key: a file or an OpenSSL store URI (handle:0x81000002)\n"
    "  --provider NAME         load an OpenSSL provider for the client key (repeatable)\n"
    "  --openssl-conf FILE     load this OpenSSL configuration first\n"
    "  --proxy URL             proxy for every request (\"\" = none even if https_proxy is set;\n"
    "                          default: the environment's https_proxy / no_proxy)\n"
    "  --timeout SECONDS       limit of each request (default 30; the connect limit is at most 10)\n"
    "  --allow-http            allow a plain http:// endpoint (local tests only)\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM cancels the request or wait in progress: exit 130 (143).\n";

/* Transport options and positional arguments, shared by every verb here. */
typedef struct targs {
    const char *prog;
    const char *endpoint, *ca, *client_cert, *client_key, *proxy, *openssl_conf;
    char providers[256];
    uint32_t timeout_ms;
    int allow_http;
    char **pos;
    int npos;
} targs;

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

/* 1 handled, 0 not a transport option, -1 usage error (printed). */
static int transport_option(targs *a, int opt, char *arg)
{
    switch (opt) {
    case OPT_ENDPOINT: a->endpoint = arg; return 1;
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
    }
    return 0;
}

/* Verb-specific option handler: 1 handled, 0 unknown, -1 usage error (printed). */
typedef int (*verb_option_fn)(int opt, char *arg, void *ctx);

/* Parse the options (in any order, between positional arguments too); 0 to
 * go on, DONE after --help, or an exit status. */
static int parse_args(targs *a, int argc, char **argv, const struct option *options, const char *help,
                      verb_option_fn verb_option, void *ctx)
{
    int opt, index = 0;
    optind = 0;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "", options, &index)) != -1) {
        if (opt == OPT_HELP) {
            fputs(help, stdout);
            printf("\n%s", transport_help);
            return DONE;
        }
        if (opt == OPT_INLINE_SECRET)
            return cli_usage_error(a->prog, "secrets are not taken on the command line (other users can see them "
                                            "in the process list): use --%s-file FILE (\"-\" = stdin)",
                                   options[index].name);
        int handled = transport_option(a, opt, optarg);
        if (handled == 0 && opt != '?' && verb_option != NULL)
            handled = verb_option(opt, optarg, ctx);
        if (handled < 0)
            return EXIT_USAGE;
        if (handled == 0)
            return cli_usage_error(a->prog, "bad option");
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    if ((a->client_cert == NULL) != (a->client_key == NULL))
        return cli_usage_error(a->prog, "--client-cert and --client-key go together");
    return 0;
}

/* At most one of `paths` (NULL entries ignored) may be "-". */
static int one_stdin(const char *prog, const char *const *paths, size_t n)
{
    int from_stdin = 0;
    for (size_t i = 0; i < n; i++)
        from_stdin += paths[i] != NULL && strcmp(paths[i], "-") == 0;
    return from_stdin > 1 ? cli_usage_error(prog, "only one of the files can be \"-\" (stdin)") : 0;
}

/* Transport options from the command line; `*client_key` is loaded if mutual
 * TLS is asked for (free it once the client is created: it takes a reference). */
static int make_http(sbprov_http_options *http, sbprov_key **client_key, const targs *a)
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
        int status = cli_load_key(client_key, a->client_key, a->providers, a->openssl_conf);
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

/* Hub / registry client options: the endpoint and the transport. */
static int make_hub_options(sbprov_azure_hub_options *o, const sbprov_http_options *http, const targs *a)
{
    if (sbprov_azure_hub_options_init(o, sizeof *o) != SBPROV_OK)
        return cli_fail("hub options", SBPROV_EINVAL);
    o->endpoint = a->endpoint;
    o->http = http;
    return 0;
}

/* ---- secrets and files -------------------------------------------------------- */

/* A secret from a file ("-" = stdin; one trailing newline dropped), which
 * must be non-empty and free of NUL bytes. NULL with *status set on failure. */
static char *read_secret_file(const char *path, size_t *len, int *status)
{
    char *s = cli_read_secret(path, len);
    if (s == NULL) {
        *status = EXIT_IO;
        return NULL;
    }
    if (*len == 0 || strlen(s) != *len) {
        fprintf(stderr, "sbprov: %s: %s\n", strcmp(path, "-") == 0 ? "stdin" : path,
                *len == 0 ? "empty" : "holds a NUL byte");
        cli_free_secret(s, *len);
        *status = EXIT_FAILED;
        return NULL;
    }
    return s;
}

/* A file written atomically with mode 0600: the temporary file is created
 * first (so a directory that cannot take it fails before anything is sent to
 * Azure), then written, synced and renamed over the target. */
typedef struct out_file {
    const char *path;
    char *tmp;
    int fd;
} out_file;

static int out_file_open(out_file *f, const char *path)
{
    struct stat st;
    f->path = path;
    f->fd = -1;
    f->tmp = NULL;
    if (path == NULL)
        return 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sbprov: %s: is a directory\n", path);
        return EXIT_IO;
    }
    if (asprintf(&f->tmp, "%s.tmp-XXXXXX", path) < 0) {
        f->tmp = NULL;
        return cli_fail(path, SBPROV_ENOMEM);
    }
    if ((f->fd = mkstemp(f->tmp)) < 0) { /* mkstemp creates it with mode 0600 */
        fprintf(stderr, "sbprov: %s: cannot create a file next to it: %s\n", path, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        return EXIT_IO;
    }
    return 0;
}

static void out_file_abandon(out_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp != NULL) {
        unlink(f->tmp);
        free(f->tmp);
    }
    f->fd = -1;
    f->tmp = NULL;
}

/* Sync the directory holding `path`, so that the rename survives a power loss. */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    int fd = dir != NULL ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

static int out_file_commit(out_file *f, const char *text, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(f->fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done != len || fchmod(f->fd, 0600) != 0 || fsync(f->fd) != 0) {
        fprintf(stderr, "sbprov: %s: %s\n", f->tmp, strerror(errno));
        out_file_abandon(f);
        return EXIT_IO;
    }
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0 || rename(f->tmp, f->path) != 0) {
        fprintf(stderr, "sbprov: %s: %s\n", f->path, strerror(errno));
        out_file_abandon(f);
        return EXIT_IO;
    }
    free(f->tmp);
    f->tmp = NULL;
    sync_parent(f->path);
    return 0;
}

/* Write "HostName=host;DeviceId=device;SharedAccessKey=key\n" to `f`. */
static int write_connstr(out_file *f, const char *host, const char *device, const char *key)
{
    sbprov_azure_connstr *cs = NULL;
    size_t size = 512, needed = 0;
    char *buf = NULL;
    sbprov_result rc = sbprov_azure_connstr_new(&cs);

    if (rc == SBPROV_OK && (rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_HOST_NAME, host)) == SBPROV_OK &&
        (rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_DEVICE_ID, device)) == SBPROV_OK &&
        (rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY, key)) == SBPROV_OK) {
        for (int attempt = 0; attempt < 2; attempt++) {
            if ((buf = malloc(size + 1)) == NULL) {
                rc = SBPROV_ENOMEM;
                break;
            }
            rc = sbprov_azure_connstr_build(buf, size, &needed, cs);
            if (rc != SBPROV_EBUFS)
                break;
            cli_free_secret(buf, size + 1);
            buf = NULL;
            size = needed;
        }
    }
    sbprov_azure_connstr_free(cs);
    if (rc != SBPROV_OK) {
        cli_free_secret(buf, buf != NULL ? size + 1 : 0);
        out_file_abandon(f);
        return cli_fail("connection string", rc);
    }
    buf[needed] = '\n';
    int status = out_file_commit(f, buf, needed + 1);
    cli_free_secret(buf, size + 1);
    if (status == 0)
        fprintf(stderr, "sbprov: connection string of device %s written to %s\n", device, f->path);
    return status;
}

/* Print `item` (consumed) on one line; string values holding secrets are
 * wiped from cJSON's copies and from the printed text afterwards. */
static int print_json(cJSON *item)
{
    char *text = item != NULL ? cJSON_PrintUnformatted(item) : NULL;
    int status = 0;
    if (text == NULL) {
        status = cli_fail("json", SBPROV_ENOMEM);
    } else {
        puts(text);
        cli_free_secret(text, strlen(text));
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, item)
        if (cJSON_IsString(v) && v->valuestring != NULL)
            memset(v->valuestring, 0, strlen(v->valuestring));
    cJSON_Delete(item);
    return status;
}

/* ---- register ----------------------------------------------------------------- */

static const char register_help[] =
    "usage: sbprov azure register --id-scope SCOPE --registration-id ID\n"
    "                             (--key-file FILE | --group-key-file FILE)\n"
    "                             [--payload JSON | --payload-file FILE] [--endpoint URL]\n"
    "                             [--wait SECONDS] [--json] [--connection-string-out FILE]\n"
    "\n"
    "Register the device with the Azure IoT Hub Device Provisioning Service (DPS)\n"
    "using a symmetric key, wait until DPS has decided, and print the outcome\n"
    "(status, hub, device, substatus lines). Registering again is allowed.\n"
    "\n"
    "  --id-scope SCOPE        the DPS ID scope (0ne...)\n"
    "  --registration-id ID    the registration ID (lower-case letters, digits and '-' are safe)\n"
    "  --key-file FILE         the device's key, Base64: an individual enrollment's key or one\n"
    "                          derived already (\"-\" = stdin)\n"
    "  --group-key-file FILE   an enrollment group's key: the device key is derived from it and\n"
    "                          the registration ID (\"-\" = stdin)\n"
    "  --payload JSON          custom data sent with the registration (custom allocation)\n"
    "  --payload-file FILE     the same from a file (\"-\" = stdin)\n"
    "  --endpoint URL          the DPS endpoint (default " SBPROV_AZURE_DPS_ENDPOINT ")\n"
    "  --wait SECONDS          how long to wait for DPS's decision, polling included (default 60)\n"
    "  --json                  print {\"status\", \"registration_id\", \"assigned_hub\", \"device_id\",\n"
    "                          \"substatus\", \"payload\"}, or {\"status\", \"registration_id\",\n"
    "                          \"error_code\", \"error_message\"} when not assigned\n"
    "  --connection-string-out FILE\n"
    "                          when assigned, write the device connection string\n"
    "                          (HostName=HUB;DeviceId=ID;SharedAccessKey=KEY) to FILE: mode 0600,\n"
    "                          replaced atomically\n"
    "\n"
    "exit: 0 assigned, 1 usage, 2 failed (wrong key, clock too far off, network, ...),\n"
    "      3 a file could not be read or written, 4 not assigned (DPS says failed or\n"
    "      disabled, or still assigning when --wait is over; Azure's error code and message\n"
    "      on stderr), 130 interrupted (SIGINT; 143 for SIGTERM)\n";

typedef struct reg_opts {
    const char *prog;
    const char *id_scope, *registration_id, *key_file, *group_key_file, *payload, *payload_file, *connstr_out;
    uint32_t wait_ms;
    int json;
} reg_opts;

static int register_option(int opt, char *arg, void *ctx)
{
    reg_opts *o = ctx;
    switch (opt) {
    case OPT_ID_SCOPE: o->id_scope = arg; return 1;
    case OPT_REGISTRATION_ID: o->registration_id = arg; return 1;
    case OPT_KEY_FILE: o->key_file = arg; return 1;
    case OPT_GROUP_KEY_FILE: o->group_key_file = arg; return 1;
    case OPT_PAYLOAD: o->payload = arg; return 1;
    case OPT_PAYLOAD_FILE: o->payload_file = arg; return 1;
    case OPT_CONNSTR_OUT: o->connstr_out = arg; return 1;
    case OPT_JSON: o->json = 1; return 1;
    case OPT_WAIT:
        if (parse_seconds(arg, &o->wait_ms) != 0) {
            cli_usage_error(o->prog, "--wait: '%s' is not a number of seconds", arg);
            return -1;
        }
        return 1;
    }
    return 0;
}

/* The device key: read, or derived from the group key. NULL with *status set on failure. */
static char *device_key(const reg_opts *o, size_t *len, int *status)
{
    if (o->key_file != NULL)
        return read_secret_file(o->key_file, len, status);
    size_t group_len = 0;
    char *group = read_secret_file(o->group_key_file, &group_len, status);
    if (group == NULL)
        return NULL;
    char *key = malloc(SBPROV_AZURE_DERIVED_KEY_SIZE);
    sbprov_result rc = key == NULL ? SBPROV_ENOMEM
                                   : sbprov_azure_derive_device_key(key, SBPROV_AZURE_DERIVED_KEY_SIZE, len, group,
                                                                    group_len, o->registration_id);
    cli_free_secret(group, group_len);
    if (rc != SBPROV_OK) {
        cli_free_secret(key, key != NULL ? SBPROV_AZURE_DERIVED_KEY_SIZE : 0);
        *status = cli_fail(o->group_key_file, rc);
        return NULL;
    }
    return key;
}

/* Print the outcome; returns the exit status. */
static int print_registration(const sbprov_azure_dps_result *r, const reg_opts *o)
{
    const char *status = sbprov_azure_dps_result_status(r);
    int assigned = strcmp(status, "assigned") == 0;
    cJSON *answer = cJSON_Parse(sbprov_azure_dps_result_json(r));
    const cJSON *payload =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(answer, "registrationState"), "payload");
    const char *hub = sbprov_azure_dps_result_hub(r), *dev = sbprov_azure_dps_result_device_id(r);
    const char *sub = sbprov_azure_dps_result_substatus(r), *msg = sbprov_azure_dps_result_error_message(r);
    int32_t code = sbprov_azure_dps_result_error_code(r);
    int exit_status = assigned ? 0 : EXIT_NOT_ASSIGNED;

    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "status", status);
        cJSON_AddStringToObject(j, "registration_id", o->registration_id);
        if (hub != NULL)
            cJSON_AddStringToObject(j, "assigned_hub", hub);
        if (dev != NULL)
            cJSON_AddStringToObject(j, "device_id", dev);
        if (sub != NULL)
            cJSON_AddStringToObject(j, "substatus", sub);
        if (code != 0)
            cJSON_AddNumberToObject(j, "error_code", code);
        if (msg != NULL)
            cJSON_AddStringToObject(j, "error_message", msg);
        if (payload != NULL)
            cJSON_AddItemToObject(j, "payload", cJSON_Duplicate(payload, 1));
        if (print_json(j) != 0)
            exit_status = EXIT_FAILED;
    } else if (assigned) {
        printf("status:    %s\nhub:       %s\ndevice:    %s\n", status, hub, dev);
        if (sub != NULL)
            printf("substatus: %s\n", sub);
        if (payload != NULL) {
            char *text = cJSON_PrintUnformatted(payload);
            if (text != NULL)
                printf("payload:   %s\n", text);
            cJSON_free(text);
        }
    } else {
        printf("status:    %s\n", status);
    }
    cJSON_Delete(answer);
    if (!assigned) {
        if (code != 0 || msg != NULL)
            fprintf(stderr, "sbprov: registration %s: %s: Azure error %ld: %s\n", o->registration_id, status,
                    (long)code, msg != NULL ? msg : "(no message)");
        else if (strcmp(status, "disabled") == 0)
            fprintf(stderr, "sbprov: registration %s: disabled (the enrollment or the registration is disabled "
                            "in DPS)\n", o->registration_id);
        else
            fprintf(stderr, "sbprov: registration %s: not assigned (status %s)\n", o->registration_id, status);
    }
    return exit_status;
}

/* Timed out while DPS kept answering "assigning": not assigned (yet). */
static int still_assigning(const reg_opts *o)
{
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "status", "assigning");
        cJSON_AddStringToObject(j, "registration_id", o->registration_id);
        (void)print_json(j);
    } else {
        puts("status:    assigning");
    }
    fprintf(stderr, "sbprov: registration %s: %s (try again later, or a longer --wait)\n", o->registration_id,
            sbprov_last_error());
    return EXIT_NOT_ASSIGNED;
}

int cli_azure_register(int argc, char **argv)
{
    static const struct option options[] = {
        TRANSPORT_OPTIONS,
        { "id-scope", required_argument, NULL, OPT_ID_SCOPE },
        { "registration-id", required_argument, NULL, OPT_REGISTRATION_ID },
        { "key-file", required_argument, NULL, OPT_KEY_FILE },
        { "group-key-file", required_argument, NULL, OPT_GROUP_KEY_FILE },
        { "payload", required_argument, NULL, OPT_PAYLOAD },
        { "payload-file", required_argument, NULL, OPT_PAYLOAD_FILE },
        { "wait", required_argument, NULL, OPT_WAIT },
        { "json", no_argument, NULL, OPT_JSON },
        { "connection-string-out", required_argument, NULL, OPT_CONNSTR_OUT },
        TRAP("key"), TRAP("group-key"),
        { NULL, 0, NULL, 0 },
    };
    targs a = { .prog = "sbprov azure register" };
    reg_opts o = { .prog = a.prog, .wait_ms = DEFAULT_WAIT_MS };
    out_file out = { .fd = -1 };
    char *payload = NULL, *key = NULL;
    size_t payload_len = 0, key_len = 0;
    sbprov_key *client_key = NULL;
    sbprov_azure_dps *dps = NULL;
    sbprov_azure_dps_result *r = NULL;
    sbprov_http_options http;
    sbprov_azure_dps_options dopts;
    int status = parse_args(&a, argc, argv, options, register_help, register_option, &o);

    if (status == 0 && a.npos != 0)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[0]);
    if (status == 0 && o.id_scope == NULL)
        status = cli_usage_error(a.prog, "--id-scope is required");
    if (status == 0 && o.registration_id == NULL)
        status = cli_usage_error(a.prog, "--registration-id is required");
    if (status == 0 && (o.key_file == NULL) == (o.group_key_file == NULL))
        status = cli_usage_error(a.prog, "give exactly one of --key-file and --group-key-file");
    if (status == 0 && o.payload != NULL && o.payload_file != NULL)
        status = cli_usage_error(a.prog, "give at most one of --payload and --payload-file");
    if (status == 0 && o.connstr_out != NULL && strcmp(o.connstr_out, "-") == 0)
        status = cli_usage_error(a.prog, "--connection-string-out needs a file (the connection string is a secret)");
    if (status == 0) {
        const char *stdin_users[] = { o.key_file, o.group_key_file, o.payload_file };
        status = one_stdin(a.prog, stdin_users, sizeof stdin_users / sizeof stdin_users[0]);
    }
    if (status != 0)
        return status == DONE ? 0 : status;

    if (o.payload_file != NULL) {
        if ((payload = cli_read_raw(o.payload_file, &payload_len)) == NULL)
            return EXIT_IO;
        if (strlen(payload) != payload_len) {
            fprintf(stderr, "sbprov: %s: holds a NUL byte\n", o.payload_file);
            free(payload);
            return EXIT_FAILED;
        }
    }
    if ((key = device_key(&o, &key_len, &status)) == NULL)
        goto out;
    if ((status = out_file_open(&out, o.connstr_out)) != 0 || (status = make_http(&http, &client_key, &a)) != 0)
        goto out;
    if (sbprov_azure_dps_options_init(&dopts, sizeof dopts) != SBPROV_OK) {
        status = cli_fail("dps options", SBPROV_EINVAL);
        goto out;
    }
    dopts.endpoint = a.endpoint;
    dopts.http = &http;
    sbprov_result rc = sbprov_azure_dps_new(&dps, o.id_scope, o.registration_id, key, key_len, &dopts);
    if (rc != SBPROV_OK) {
        status = cli_fail("register", rc);
        goto out;
    }
    catch_signals(dps, NULL, NULL);
    rc = sbprov_azure_dps_register(&r, dps, payload != NULL ? payload : o.payload, o.wait_ms);
    release_signals();
    if (rc == SBPROV_ETIMEOUT) {
        sbprov_http_response_info info = { .struct_size = sizeof info };
        /* The time ran out between polls while DPS said "assigning" (202). */
        if (sbprov_azure_dps_last_response(&info, dps) == SBPROV_OK && info.status == 202)
            status = still_assigning(&o);
        else
            status = cli_fail("register", rc);
    } else if (rc != SBPROV_OK) {
        status = net_fail("register", rc);
    } else {
        status = print_registration(r, &o);
        if (status == 0 && out.tmp != NULL)
            status = write_connstr(&out, sbprov_azure_dps_result_hub(r), sbprov_azure_dps_result_device_id(r), key);
    }
out:
    out_file_abandon(&out);
    sbprov_azure_dps_result_free(r);
    sbprov_azure_dps_free(dps);
    sbprov_key_free(client_key);
    cli_free_secret(key, key_len);
    free(payload);
    return status;
}

/* ---- send --------------------------------------------------------------------- */

static const char send_help[] =
    "usage: sbprov azure send --connection-string-file FILE [--endpoint URL] [--lines]\n"
    "                         [--property NAME=VALUE]... [--message-id ID] [--correlation-id ID]\n"
    "                         [--content-type TYPE] [--content-encoding ENC] < DATA\n"
    "\n"
    "Send device-to-cloud messages to IoT Hub over HTTPS, as the device of the\n"
    "connection string (HostName=...;DeviceId=...;SharedAccessKey=..., as 'sbprov\n"
    "azure register --connection-string-out' writes it). Without --lines, stdin is\n"
    "one message, byte for byte (at most 256 KiB - 1). With --lines, each line of\n"
    "stdin is a message of its own (JSON lines from a sensor pipe), sent as soon as\n"
    "it is read; empty lines are skipped, CRLF is accepted. 429 and 5xx answers are\n"
    "retried for up to 60 s per message.\n"
    "Prints \"N messages accepted\" on stdout, after a failure too (exit 2: the first\n"
    "N were accepted, the failing message and the rest of stdin were not sent).\n"
    "\n"
    "  --connection-string-file FILE  the device connection string (not stdin: stdin is the data)\n"
    "  --endpoint URL          where to connect (default https://HostName of the connection string)\n"
    "  --lines                 one message per line of stdin\n"
    "  --property NAME=VALUE   an application property of every message (repeatable, at most 64)\n"
    "  --message-id ID         the message ID (default: a random UUID; not with --lines)\n"
    "  --correlation-id ID     the correlation ID\n"
    "  --content-type TYPE     the content type (default application/json)\n"
    "  --content-encoding ENC  the content encoding (default utf-8)\n";

typedef struct send_opts {
    const char *prog;
    const char *connstr_file, *message_id, *correlation_id, *content_type, *content_encoding;
    sbprov_azure_property props[PROPERTY_MAX];
    size_t nprops;
    int lines;
} send_opts;

/* Printable ASCII without leading or trailing space, at most `max` bytes. */
static int header_value_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max || (n > 0 && (s[0] == ' ' || s[n - 1] == ' ')))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int add_property(send_opts *o, char *arg)
{
    static const char tchar[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~";
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        cli_usage_error(o->prog, "--property: '%s' is not NAME=VALUE", arg);
        return -1;
    }
    if (o->nprops == PROPERTY_MAX) {
        cli_usage_error(o->prog, "--property: at most %d properties", PROPERTY_MAX);
        return -1;
    }
    size_t n = (size_t)(eq - arg);
    if (n > PROPERTY_NAME_MAX || strspn(arg, tchar) != n) {
        cli_usage_error(o->prog, "--property: the name '%.*s' is not a token (letters, digits and "
                                 "!#$%%&'*+-.^_`|~, at most %d)", (int)n, arg, PROPERTY_NAME_MAX);
        return -1;
    }
    if (!header_value_ok(eq + 1, PROPERTY_VALUE_MAX)) {
        cli_usage_error(o->prog, "--property %.*s: the value must be printable ASCII without leading or trailing "
                                 "spaces, at most %d characters", (int)n, arg, PROPERTY_VALUE_MAX);
        return -1;
    }
    *eq = '\0'; /* argv is ours: the name ends here */
    o->props[o->nprops].name = arg;
    o->props[o->nprops].value = eq + 1;
    o->nprops++;
    return 1;
}

static int send_option(int opt, char *arg, void *ctx)
{
    send_opts *o = ctx;
    switch (opt) {
    case OPT_CONNSTR_FILE: o->connstr_file = arg; return 1;
    case OPT_PROPERTY: return add_property(o, arg);
    case OPT_MESSAGE_ID: o->message_id = arg; return 1;
    case OPT_CORRELATION_ID: o->correlation_id = arg; return 1;
    case OPT_CONTENT_TYPE: o->content_type = arg; return 1;
    case OPT_CONTENT_ENCODING: o->content_encoding = arg; return 1;
    case OPT_LINES: o->lines = 1; return 1;
    }
    return 0;
}

/* Buffered reading of stdin that a caught SIGINT/SIGTERM interrupts at once. */
typedef struct reader {
    char *buf;
    size_t len, cap, pos; /* unread data is buf[pos..len) */
    int eof;
} reader;

enum { READ_INTERRUPTED = -1, READ_ERROR = -2, READ_TOO_LONG = -3 };

/* Wait until stdin is readable, or a signal was caught (READ_INTERRUPTED).
 * The signals are blocked between the check and ppoll(), which unblocks them
 * atomically: a signal cannot slip in between and leave us waiting. */
static int wait_stdin(void)
{
    struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
    sigset_t block, old;
    int r = 0;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (caught_signal == 0 && (r = ppoll(&p, 1, NULL, &old)) < 0 && errno == EINTR)
        ;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return caught_signal != 0 ? READ_INTERRUPTED : 0; /* a poll error: read() reports it */
}

/* Read more: 1 data, 0 end of input, or a READ_ error (READ_ERROR printed). */
static int reader_fill(reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        /* A message plus its line end fits; more is too long. */
        size_t max = MESSAGE_MAX + 2, cap = r->cap == 0 ? 16384 : r->cap * 2 > max ? max : r->cap * 2;
        if (r->cap >= max)
            return READ_TOO_LONG;
        char *bigger = realloc(r->buf, cap);
        if (bigger == NULL) {
            fprintf(stderr, "sbprov: stdin: out of memory\n");
            return READ_ERROR;
        }
        r->buf = bigger;
        r->cap = cap;
    }
    for (;;) {
        if (wait_stdin() != 0)
            return READ_INTERRUPTED;
        ssize_t n = read(STDIN_FILENO, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "sbprov: stdin: %s\n", strerror(errno));
            return READ_ERROR;
        }
        if (n == 0) {
            r->eof = 1;
            return 0;
        }
        r->len += (size_t)n;
        return 1;
    }
}

/* The next line without its "\n" or "\r\n": 1 a line, 0 end of input, or a READ_ error. */
static int reader_line(reader *r, const char **line, size_t *n)
{
    size_t scanned = 0;
    for (;;) {
        const char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos, len;
        const char *nl = avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;
        if (nl != NULL || (r->eof && avail > 0)) {
            len = nl != NULL ? (size_t)(nl - start) : avail;
            r->pos += nl != NULL ? len + 1 : len;
            if (len > 0 && start[len - 1] == '\r')
                len--;
            if (len > MESSAGE_MAX)
                return READ_TOO_LONG;
            *line = start;
            *n = len;
            return 1;
        }
        if (r->eof)
            return 0;
        scanned = avail;
        int f = reader_fill(r);
        if (f < 0)
            return f;
    }
}

/* All of stdin: 0 or a READ_ error. */
static int reader_all(reader *r)
{
    while (!r->eof) {
        int f = reader_fill(r);
        if (f < 0)
            return f;
    }
    return r->len > MESSAGE_MAX ? READ_TOO_LONG : 0;
}

static void print_accepted(size_t n)
{
    printf("%zu message%s accepted\n", n, n == 1 ? "" : "s");
}

static int send_lines(sbprov_azure_hub *hub, sbprov_azure_message *m, reader *in, size_t *accepted)
{
    unsigned long lineno = 0;
    for (;;) {
        const char *line;
        size_t n;
        int got = caught_signal != 0 ? READ_INTERRUPTED : reader_line(in, &line, &n);
        if (got == 0)
            return 0;
        lineno++;
        if (got == READ_INTERRUPTED)
            return interrupted("send");
        if (got == READ_TOO_LONG) {
            fprintf(stderr, "sbprov: send: line %lu: longer than %u bytes, IoT Hub's limit for a message\n",
                    lineno, MESSAGE_MAX);
            return EXIT_FAILED;
        }
        if (got < 0)
            return EXIT_IO;
        if (n == 0)
            continue;
        m->body = line;
        m->body_len = n;
        sbprov_result rc = sbprov_azure_hub_send(hub, m, 1, NULL);
        if (rc != SBPROV_OK) {
            char what[48];
            snprintf(what, sizeof what, "send: line %lu", lineno);
            return net_fail(what, rc);
        }
        ++*accepted;
    }
}

int cli_azure_send(int argc, char **argv)
{
    static const struct option options[] = {
        TRANSPORT_OPTIONS,
        { "connection-string-file", required_argument, NULL, OPT_CONNSTR_FILE },
        { "property", required_argument, NULL, OPT_PROPERTY },
        { "message-id", required_argument, NULL, OPT_MESSAGE_ID },
        { "correlation-id", required_argument, NULL, OPT_CORRELATION_ID },
        { "content-type", required_argument, NULL, OPT_CONTENT_TYPE },
        { "content-encoding", required_argument, NULL, OPT_CONTENT_ENCODING },
        { "lines", no_argument, NULL, OPT_LINES },
        TRAP("connection-string"),
        { NULL, 0, NULL, 0 },
    };
    targs a = { .prog = "sbprov azure send" };
    send_opts o = { .prog = a.prog };
    sbprov_key *client_key = NULL;
    sbprov_azure_hub *hub = NULL;
    sbprov_azure_hub_options ho;
    sbprov_http_options http;
    sbprov_azure_message m;
    reader in = { 0 };
    size_t accepted = 0, cs_len = 0;
    char *cs = NULL;
    int status = parse_args(&a, argc, argv, options, send_help, send_option, &o);

    if (status == 0 && a.npos != 0)
        status = cli_usage_error(a.prog, "unexpected argument '%s' (the data is read from stdin)", a.pos[0]);
    if (status == 0 && o.connstr_file == NULL)
        status = cli_usage_error(a.prog, "--connection-string-file is required");
    if (status == 0 && strcmp(o.connstr_file, "-") == 0)
        status = cli_usage_error(a.prog, "--connection-string-file cannot be \"-\": stdin is the data to send");
    if (status == 0 && o.lines && o.message_id != NULL)
        status = cli_usage_error(a.prog, "--message-id names one message: with --lines every message gets a "
                                         "random ID");
    if (status != 0)
        return status == DONE ? 0 : status;

    if ((cs = read_secret_file(o.connstr_file, &cs_len, &status)) == NULL)
        return status;
    if ((status = make_http(&http, &client_key, &a)) != 0 || (status = make_hub_options(&ho, &http, &a)) != 0)
        goto out;
    sbprov_result rc = sbprov_azure_hub_new(&hub, cs, cs_len, &ho);
    if (rc != SBPROV_OK) {
        status = cli_fail(o.connstr_file, rc);
        goto out;
    }
    if (sbprov_azure_message_init(&m, sizeof m) != SBPROV_OK) {
        status = cli_fail("message", SBPROV_EINVAL);
        goto out;
    }
    m.message_id = o.message_id;
    m.correlation_id = o.correlation_id;
    m.content_type = o.content_type;
    m.content_encoding = o.content_encoding;
    m.properties = o.nprops > 0 ? o.props : NULL;
    m.property_count = o.nprops;

    catch_signals(NULL, hub, NULL);
    if (o.lines) {
        status = send_lines(hub, &m, &in, &accepted);
    } else {
        int got = reader_all(&in);
        if (got == READ_INTERRUPTED) {
            status = interrupted("send");
        } else if (got == READ_TOO_LONG) {
            fprintf(stderr, "sbprov: send: stdin holds more than %u bytes, IoT Hub's limit for a message (--lines "
                            "sends one message per line)\n", MESSAGE_MAX);
            status = EXIT_FAILED;
        } else if (got < 0) {
            status = EXIT_IO;
        } else if (in.len == 0) {
            fprintf(stderr, "sbprov: send: stdin is empty: nothing to send\n");
            status = EXIT_FAILED;
        } else {
            m.body = in.buf;
            m.body_len = in.len;
            rc = sbprov_azure_hub_send(hub, &m, 1, &accepted);
            if (rc != SBPROV_OK)
                status = net_fail("send", rc);
        }
    }
    release_signals();
    print_accepted(accepted);
out:
    sbprov_azure_hub_free(hub);
    sbprov_key_free(client_key);
    cli_free_secret(cs, cs_len);
    free(in.buf);
    return status;
}

/* ---- registry ----------------------------------------------------------------- */

static const char registry_help[] =
    "usage: sbprov azure registry VERB DEVICE_ID --connection-string-file FILE [--endpoint URL] [options]\n"
    "\n"
    "  create DEVICE_ID [--primary-key-file F] [--secondary-key-file F]\n"
    "  get    DEVICE_ID\n"
    "  update DEVICE_ID [--primary-key-file F] [--secondary-key-file F] [--rotate] [--etag E]\n"
    "  delete DEVICE_ID [--etag E] [--missing-ok]\n"
    "\n"
    "Manage device identities (symmetric keys) in the IoT Hub identity registry, with\n"
    "a service connection string (HostName=...;SharedAccessKeyName=POLICY;\n"
    "SharedAccessKey=...; the policy needs RegistryRead, and RegistryWrite to change\n"
    "anything: iothubowner or registryReadWrite). Options may come in any order.\n"
    "\n"
    "create makes a device (exit 2 if it exists); keys not given are generated.\n"
    "update changes keys: the ones not given are kept as they are, --rotate makes a new\n"
    "random primary key and the current primary the secondary (devices keep working\n"
    "with the old key). The update is conditional on --etag E, or else on the etag\n"
    "read with the kept keys; with both keys given and no --etag it is unconditional.\n"
    "A device changed meanwhile is not overwritten (exit 2, \"etag\").\n"
    "create, get and update print the device (device, status, etag, auth lines).\n"
    "delete deletes, if its etag is still E with --etag.\n"
    "\n"
    "  --connection-string-file FILE  the service connection string (\"-\" = stdin)\n"
    "  --endpoint URL          where to connect (default https://HostName of the connection string)\n"
    "  --primary-key-file F    the primary key, Base64 of 16 to 64 bytes (\"-\" = stdin)\n"
    "  --secondary-key-file F  the secondary key\n"
    "  --rotate                update: a new primary key; the current primary becomes the secondary\n"
    "  --etag E                update or delete only if the device's etag is still E\n"
    "  --missing-ok            delete: exit 0 if there is no such device\n"
    "  --json                  print {\"device_id\", \"status\", \"etag\", \"symmetric_keys\"[, \"primary_key\",\n"
    "                          \"secondary_key\"]}\n"
    "  --show-keys             print the device's keys too (they are secrets)\n"
    "  --connection-string-out FILE\n"
    "                          create, get, update: write the device connection string with\n"
    "                          its primary key to FILE (mode 0600, replaced atomically)\n";

typedef struct registry_opts {
    const char *prog;
    const char *connstr_file, *primary_file, *secondary_file, *etag, *connstr_out;
    int rotate, json, show_keys, missing_ok;
} registry_opts;

static int registry_option(int opt, char *arg, void *ctx)
{
    registry_opts *o = ctx;
    switch (opt) {
    case OPT_CONNSTR_FILE: o->connstr_file = arg; return 1;
    case OPT_PRIMARY_KEY_FILE: o->primary_file = arg; return 1;
    case OPT_SECONDARY_KEY_FILE: o->secondary_file = arg; return 1;
    case OPT_ETAG: o->etag = arg; return 1;
    case OPT_CONNSTR_OUT: o->connstr_out = arg; return 1;
    case OPT_ROTATE: o->rotate = 1; return 1;
    case OPT_JSON: o->json = 1; return 1;
    case OPT_SHOW_KEYS: o->show_keys = 1; return 1;
    case OPT_MISSING_OK: o->missing_ok = 1; return 1;
    }
    return 0;
}

enum { VERB_CREATE, VERB_GET, VERB_UPDATE, VERB_DELETE };

/* Which options each verb takes (a usage error otherwise). */
static int registry_check(const registry_opts *o, int verb, const char *prog)
{
    static const char *const names[] = { "create", "get", "update", "delete" };
    const struct { int given, ok; const char *name; } checks[] = {
        { o->primary_file != NULL, verb == VERB_CREATE || verb == VERB_UPDATE, "--primary-key-file" },
        { o->secondary_file != NULL, verb == VERB_CREATE || verb == VERB_UPDATE, "--secondary-key-file" },
        { o->rotate, verb == VERB_UPDATE, "--rotate" },
        { o->etag != NULL, verb == VERB_UPDATE || verb == VERB_DELETE, "--etag" },
        { o->missing_ok, verb == VERB_DELETE, "--missing-ok" },
        { o->json, verb != VERB_DELETE, "--json" },
        { o->show_keys, verb != VERB_DELETE, "--show-keys" },
        { o->connstr_out != NULL, verb != VERB_DELETE, "--connection-string-out" },
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (checks[i].given && !checks[i].ok)
            return cli_usage_error(prog, "%s does not go with %s", checks[i].name, names[verb]);
    if (o->connstr_file == NULL)
        return cli_usage_error(prog, "--connection-string-file is required");
    if (verb == VERB_UPDATE && o->primary_file == NULL && o->secondary_file == NULL && !o->rotate)
        return cli_usage_error(prog, "update: nothing to change (give --primary-key-file, --secondary-key-file or "
                                     "--rotate)");
    if (o->rotate && o->secondary_file != NULL)
        return cli_usage_error(prog, "--rotate makes the current primary key the secondary: not with "
                                     "--secondary-key-file");
    if (o->connstr_out != NULL && strcmp(o->connstr_out, "-") == 0)
        return cli_usage_error(prog, "--connection-string-out needs a file (the connection string is a secret)");
    const char *stdin_users[] = { o->connstr_file, o->primary_file, o->secondary_file };
    return one_stdin(prog, stdin_users, sizeof stdin_users / sizeof stdin_users[0]);
}

static int print_device(const sbprov_azure_device *d, const registry_opts *o)
{
    const char *primary = sbprov_azure_device_primary_key(d), *secondary = sbprov_azure_device_secondary_key(d);
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "device_id", sbprov_azure_device_id(d));
        cJSON_AddStringToObject(j, "status", sbprov_azure_device_status(d));
        cJSON_AddStringToObject(j, "etag", sbprov_azure_device_etag(d));
        cJSON_AddBoolToObject(j, "symmetric_keys", primary != NULL);
        if (o->show_keys && primary != NULL)
            cJSON_AddStringToObject(j, "primary_key", primary);
        if (o->show_keys && secondary != NULL)
            cJSON_AddStringToObject(j, "secondary_key", secondary);
        return print_json(j);
    }
    printf("device:    %s\nstatus:    %s\netag:      %s\n", sbprov_azure_device_id(d), sbprov_azure_device_status(d),
           sbprov_azure_device_etag(d));
    printf("auth:      %s\n", primary != NULL ? "symmetric keys" : "no symmetric keys (X.509 or none)");
    if (o->show_keys && primary != NULL)
        printf("primary:   %s\n", primary);
    if (o->show_keys && secondary != NULL)
        printf("secondary: %s\n", secondary);
    return 0;
}

/* Read an optional key file into *key (NULL if not given). */
static int read_key_option(const char *path, char **key, size_t *len)
{
    int status = 0;
    *key = NULL;
    *len = 0;
    if (path != NULL && (*key = read_secret_file(path, len, &status)) == NULL)
        return status;
    return 0;
}

/* A copy of a library string (a key: wiped with cli_free_secret). */
static char *dup_or_fail(const char *s, size_t *len, int *status)
{
    char *c = s != NULL ? strdup(s) : NULL;
    if (s != NULL && c == NULL)
        *status = cli_fail("registry", SBPROV_ENOMEM);
    *len = c != NULL ? strlen(c) : 0;
    return c;
}

/* create / update: compute the keys and etag to send, then PUT. */
static int registry_put(sbprov_azure_device **out, sbprov_azure_registry *reg, const char *id, int verb,
                        const registry_opts *o)
{
    char *primary = NULL, *secondary = NULL, *kept_etag = NULL;
    size_t primary_len = 0, secondary_len = 0, etag_len = 0;
    const char *etag = o->etag;
    int status;
    sbprov_result rc;

    if ((status = read_key_option(o->primary_file, &primary, &primary_len)) != 0 ||
        (status = read_key_option(o->secondary_file, &secondary, &secondary_len)) != 0)
        goto out;
    if (verb == VERB_UPDATE && (secondary == NULL || (primary == NULL && !o->rotate))) {
        /* Keys to keep (or to move): read the device as it is now. */
        sbprov_azure_device *cur = NULL;
        if ((rc = sbprov_azure_registry_get_device(&cur, reg, id)) != SBPROV_OK) {
            status = rc == SBPROV_ENOTFOUND ? (fprintf(stderr, "sbprov: no device %s in the hub\n", id), EXIT_FAILED)
                                            : net_fail(id, rc);
            goto out;
        }
        const char *cur_primary = sbprov_azure_device_primary_key(cur);
        if (cur_primary == NULL) {
            fprintf(stderr, "sbprov: device %s has no symmetric keys to keep; give both --primary-key-file and "
                            "--secondary-key-file\n", id);
            status = EXIT_FAILED;
        } else if (o->rotate) {
            secondary = dup_or_fail(cur_primary, &secondary_len, &status);
            if (primary == NULL && status == 0) {
                /* Generated here: what a NULL key means on update is the library's choice. */
                primary_len = SBPROV_AZURE_KEY_B64_SIZE(SBPROV_AZURE_KEY_DEFAULT_BYTES);
                if ((primary = malloc(primary_len)) == NULL)
                    status = cli_fail("registry", SBPROV_ENOMEM);
                else if ((rc = sbprov_azure_generate_key(primary, primary_len, NULL, 0)) != SBPROV_OK)
                    status = cli_fail("new primary key", rc);
            }
        } else {
            if (primary == NULL)
                primary = dup_or_fail(cur_primary, &primary_len, &status);
            if (secondary == NULL && status == 0)
                secondary = dup_or_fail(sbprov_azure_device_secondary_key(cur), &secondary_len, &status);
        }
        if (etag == NULL && status == 0 && (kept_etag = dup_or_fail(sbprov_azure_device_etag(cur), &etag_len,
                                                                      &status)) != NULL)
            etag = kept_etag[0] != '\0' ? kept_etag : "*";
        sbprov_azure_device_free(cur);
        if (status != 0)
            goto out;
    } else if (verb == VERB_UPDATE && etag == NULL) {
        etag = "*";
    }
    rc = sbprov_azure_registry_put_device(out, reg, id, primary, secondary, verb == VERB_CREATE ? NULL : etag);
    if (rc == SBPROV_EEXISTS) {
        fprintf(stderr, "sbprov: device %s exists already (%s)\n", id, sbprov_last_error());
        status = EXIT_FAILED;
    } else if (rc == SBPROV_ENOTFOUND && verb == VERB_UPDATE) {
        fprintf(stderr, "sbprov: no device %s in the hub\n", id);
        status = EXIT_FAILED;
    } else if (rc != SBPROV_OK) {
        status = net_fail(id, rc);
    }
out:
    cli_free_secret(primary, primary_len);
    cli_free_secret(secondary, secondary_len);
    free(kept_etag);
    return status;
}

int cli_azure_registry(int argc, char **argv)
{
    static const struct option options[] = {
        TRANSPORT_OPTIONS,
        { "connection-string-file", required_argument, NULL, OPT_CONNSTR_FILE },
        { "primary-key-file", required_argument, NULL, OPT_PRIMARY_KEY_FILE },
        { "secondary-key-file", required_argument, NULL, OPT_SECONDARY_KEY_FILE },
        { "rotate", no_argument, NULL, OPT_ROTATE },
        { "etag", required_argument, NULL, OPT_ETAG },
        { "missing-ok", no_argument, NULL, OPT_MISSING_OK },
        { "json", no_argument, NULL, OPT_JSON },
        { "show-keys", no_argument, NULL, OPT_SHOW_KEYS },
        { "connection-string-out", required_argument, NULL, OPT_CONNSTR_OUT },
        TRAP("connection-string"), TRAP("primary-key"), TRAP("secondary-key"),
        { NULL, 0, NULL, 0 },
    };
    static const char *const verbs[] = { "create", "get", "update", "delete" };
    targs a = { .prog = "sbprov azure registry" };
    registry_opts o = { .prog = a.prog };
    out_file out = { .fd = -1 };
    sbprov_key *client_key = NULL;
    sbprov_azure_registry *reg = NULL;
    sbprov_azure_connstr *parsed = NULL;
    sbprov_azure_device *d = NULL;
    sbprov_azure_hub_options ho;
    sbprov_http_options http;
    char *cs = NULL;
    size_t cs_len = 0;
    int verb = -1;
    int status = parse_args(&a, argc, argv, options, registry_help, registry_option, &o);

    if (status == 0 && a.npos == 0)
        status = cli_usage_error(a.prog, "a verb is required: create, get, update or delete");
    for (int v = 0; status == 0 && v < 4 && verb < 0; v++)
        if (strcmp(a.pos[0], verbs[v]) == 0)
            verb = v;
    if (status == 0 && verb < 0)
        status = cli_usage_error(a.prog, "unknown verb '%s' (create, get, update or delete)", a.pos[0]);
    if (status == 0 && a.npos < 2)
        status = cli_usage_error(a.prog, "%s: a DEVICE_ID is required", verbs[verb]);
    if (status == 0 && a.npos > 2)
        status = cli_usage_error(a.prog, "unexpected argument '%s'", a.pos[2]);
    if (status == 0)
        status = registry_check(&o, verb, a.prog);
    if (status != 0)
        return status == DONE ? 0 : status;

    const char *id = a.pos[1];
    if ((cs = read_secret_file(o.connstr_file, &cs_len, &status)) == NULL)
        return status;
    sbprov_result rc = sbprov_azure_connstr_parse(&parsed, cs, cs_len);
    if (rc != SBPROV_OK) {
        status = cli_fail(o.connstr_file, rc);
        goto out;
    }
    if ((status = out_file_open(&out, o.connstr_out)) != 0 || (status = make_http(&http, &client_key, &a)) != 0 ||
        (status = make_hub_options(&ho, &http, &a)) != 0)
        goto out;
    if ((rc = sbprov_azure_registry_new(&reg, cs, cs_len, &ho)) != SBPROV_OK) {
        status = cli_fail(o.connstr_file, rc);
        goto out;
    }
    catch_signals(NULL, NULL, reg);
    switch (verb) {
    case VERB_CREATE:
    case VERB_UPDATE:
        status = registry_put(&d, reg, id, verb, &o);
        if (status == 0)
            fprintf(stderr, "sbprov: device %s %s\n", id, verb == VERB_CREATE ? "created" : "updated");
        break;
    case VERB_GET:
        rc = sbprov_azure_registry_get_device(&d, reg, id);
        if (rc == SBPROV_ENOTFOUND) {
            fprintf(stderr, "sbprov: no device %s in the hub\n", id);
            status = EXIT_FAILED;
        } else if (rc != SBPROV_OK) {
            status = net_fail(id, rc);
        }
        break;
    case VERB_DELETE:
        rc = sbprov_azure_registry_delete_device(reg, id, o.etag);
        if (rc == SBPROV_OK) {
            printf("device %s deleted\n", id);
        } else if (rc == SBPROV_ENOTFOUND) {
            fprintf(stderr, "sbprov: no device %s in the hub%s\n", id, o.missing_ok ? " (nothing to do)" : "");
            status = o.missing_ok ? 0 : EXIT_FAILED;
        } else {
            status = net_fail(id, rc);
        }
        break;
    }
    release_signals();
    if (status == 0 && d != NULL)
        status = print_device(d, &o);
    if (status == 0 && d != NULL && out.tmp != NULL) {
        const char *key = sbprov_azure_device_primary_key(d);
        if (key == NULL) {
            fprintf(stderr, "sbprov: device %s has no symmetric key: no connection string written\n", id);
            status = EXIT_FAILED;
        } else {
            status = write_connstr(&out, sbprov_azure_connstr_get(parsed, SBPROV_AZURE_CS_HOST_NAME),
                                   sbprov_azure_device_id(d), key);
        }
    }
out:
    out_file_abandon(&out);
    sbprov_azure_device_free(d);
    sbprov_azure_registry_free(reg);
    sbprov_azure_connstr_free(parsed);
    sbprov_key_free(client_key);
    cli_free_secret(cs, cs_len);
    return status;
}
