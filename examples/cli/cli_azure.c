/* `sbprov azure ...`: key derivation, SAS tokens, key generation, connection
 * strings; the network verbs (register, send, registry) are in cli_azure_http.c. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_azure(int argc, char **argv);
int cli_azure_register(int argc, char **argv);
int cli_azure_send(int argc, char **argv);
int cli_azure_registry(int argc, char **argv);

/* A secret given inline (--key K) or from a file (--key-file F, "-" = stdin). */
typedef struct secret_arg {
    const char *inline_value;
    const char *path;
    char *owned;
    size_t len;
} secret_arg;

static const char *secret_get(secret_arg *s, size_t *len)
{
    if (s->path != NULL) {
        if (s->owned == NULL)
            s->owned = cli_read_secret(s->path, &s->len);
        *len = s->len;
        return s->owned;
    }
    *len = s->inline_value != NULL ? strlen(s->inline_value) : 0;
    return s->inline_value;
}

static void secret_release(secret_arg *s)
{
    cli_free_secret(s->owned, s->len);
    s->owned = NULL;
}

/* ---- derive-key ---------------------------------------------------------- */

static const char derive_help[] =
    "usage: sbprov azure derive-key (--group-key KEY | --group-key-file FILE)\n"
    "                               (--registration-id ID | --registration-ids-from FILE|-)\n"
    "\n"
    "Derive DPS group-enrollment device keys: Base64(HMAC-SHA256(group key, ID)).\n"
    "With --registration-ids-from, reads one ID per line and prints one key per line.\n";

static int derive_batch(sbprov_azure_deriver *d, const char *path)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[512];
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE];
    unsigned long lineno = 0;

    if (in == NULL) {
        perror(path);
        return EXIT_IO;
    }
    while (fgets(line, sizeof line, in) != NULL) {
        size_t n = strcspn(line, "\r\n");
        lineno++;
        if (line[n] == '\0' && !feof(in)) {
            fprintf(stderr, "sbprov: %s line %lu: longer than any registration ID\n", path, lineno);
            if (in != stdin)
                fclose(in);
            return EXIT_FAILED;
        }
        line[n] = '\0';
        sbprov_result rc = sbprov_azure_deriver_derive(key, sizeof key, NULL, d, line);
        if (rc != SBPROV_OK) {
            char what[64];
            snprintf(what, sizeof what, "%s line %lu", path, lineno);
            if (in != stdin)
                fclose(in);
            return cli_fail(what, rc);
        }
        puts(key);
    }
    if (in != stdin)
        fclose(in);
    return 0;
}

static int cmd_derive_key(int argc, char **argv)
{
    static const struct option options[] = {
        { "group-key", required_argument, NULL, 'k' },
        { "group-key-file", required_argument, NULL, 'K' },
        { "registration-id", required_argument, NULL, 'r' },
        { "registration-ids-from", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    secret_arg group = { 0 };
    const char *id = NULL, *ids_from = NULL;
    const char *prog = "sbprov azure derive-key";
    sbprov_azure_deriver *d = NULL;
    int opt, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'k': group.inline_value = optarg; break;
        case 'K': group.path = optarg; break;
        case 'r': id = optarg; break;
        case 'f': ids_from = optarg; break;
        case 'h': fputs(derive_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if ((group.inline_value == NULL) == (group.path == NULL))
        return cli_usage_error(prog, "give exactly one of --group-key and --group-key-file");
    if ((id == NULL) == (ids_from == NULL))
        return cli_usage_error(prog, "give exactly one of --registration-id and --registration-ids-from");

    size_t key_len;
    const char *key = secret_get(&group, &key_len);
    if (key == NULL)
        return EXIT_IO;
    sbprov_result rc = sbprov_azure_deriver_new(&d, key, key_len);
    secret_release(&group);
    if (rc != SBPROV_OK)
        return cli_fail("group key", rc);
    if (id != NULL) {
        char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
        rc = sbprov_azure_deriver_derive(out, sizeof out, NULL, d, id);
        status = rc == SBPROV_OK ? (puts(out), 0) : cli_fail("derive-key", rc);
    } else {
        status = derive_batch(d, ids_from);
    }
    sbprov_azure_deriver_free(d);
    return status;
}

/* ---- sas ----------------------------------------------------------------- */

static const char sas_help[] =
    "usage: sbprov azure sas --resource URI (--key KEY | --key-file FILE)\n"
    "                        (--expiry EPOCH | --ttl SECONDS) [--policy NAME] [--now EPOCH]\n"
    "\n"
    "Build a SAS token. URI is host/path without scheme, e.g.\n"
    "myhub.azure-devices.net/devices/dev1 or 0ne00000000/registrations/dev1\n"
    "(DPS: --policy registration). The expiry must be after the current time;\n"
    "--now EPOCH replaces the clock for that check (0 skips it).\n";

typedef struct sas_call {
    const char *uri, *key, *policy;
    size_t key_len;
    long long expiry, now;
} sas_call;

static sbprov_result sas_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    sas_call *c = payload;
    return sbprov_azure_sas_token(buf, size, out_len, c->uri, c->key, c->key_len, c->policy, c->expiry, c->now);
}

static int cmd_sas(int argc, char **argv)
{
    static const struct option options[] = {
        { "resource", required_argument, NULL, 'r' },
        { "key", required_argument, NULL, 'k' },
        { "key-file", required_argument, NULL, 'K' },
        { "expiry", required_argument, NULL, 'e' },
        { "ttl", required_argument, NULL, 't' },
        { "policy", required_argument, NULL, 'p' },
        { "now", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov azure sas";
    secret_arg key = { 0 };
    sas_call call = { 0 };
    const char *expiry = NULL, *ttl = NULL, *now = NULL;
    long long ttl_value = 0;
    int opt, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'r': call.uri = optarg; break;
        case 'k': key.inline_value = optarg; break;
        case 'K': key.path = optarg; break;
        case 'e': expiry = optarg; break;
        case 't': ttl = optarg; break;
        case 'p': call.policy = optarg; break;
        case 'n': now = optarg; break;
        case 'h': fputs(sas_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (call.uri == NULL)
        return cli_usage_error(prog, "--resource is required");
    if ((key.inline_value == NULL) == (key.path == NULL))
        return cli_usage_error(prog, "give exactly one of --key and --key-file");
    if ((expiry == NULL) == (ttl == NULL))
        return cli_usage_error(prog, "give exactly one of --expiry and --ttl");
    call.now = (long long)time(NULL);
    if (now != NULL && cli_parse_i64(now, &call.now) != 0)
        return cli_usage_error(prog, "--now: '%s' is not an integer", now);
    if (expiry != NULL && cli_parse_i64(expiry, &call.expiry) != 0)
        return cli_usage_error(prog, "--expiry: '%s' is not an integer number of seconds", expiry);
    if (ttl != NULL) {
        if (cli_parse_i64(ttl, &ttl_value) != 0 || ttl_value <= 0)
            return cli_usage_error(prog, "--ttl: '%s' is not a positive number of seconds", ttl);
        call.expiry = (long long)time(NULL) + ttl_value;
    }
    call.key = secret_get(&key, &call.key_len);
    if (call.key == NULL)
        return EXIT_IO;
    status = cli_print_text("sas", sas_text, &call);
    secret_release(&key);
    return status;
}

/* ---- keygen -------------------------------------------------------------- */

static const char keygen_help[] =
    "usage: sbprov azure keygen [--bytes N] [--json]\n"
    "\n"
    "Generate a random primary and secondary symmetric key (N = 16..64 bytes,\n"
    "default 32) and print them on two lines, or as a JSON object.\n";

static int cmd_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        { "bytes", required_argument, NULL, 'b' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov azure keygen";
    char primary[SBPROV_AZURE_KEY_B64_SIZE(SBPROV_AZURE_KEY_MAX_BYTES)];
    char secondary[sizeof primary];
    long long nbytes = SBPROV_AZURE_KEY_DEFAULT_BYTES;
    int opt, json = 0;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'b':
            if (cli_parse_i64(optarg, &nbytes) != 0 || nbytes <= 0)
                return cli_usage_error(prog, "--bytes: '%s' is not a positive integer", optarg);
            break;
        case 'j': json = 1; break;
        case 'h': fputs(keygen_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    sbprov_result rc = sbprov_azure_generate_keys(primary, sizeof primary, secondary, sizeof secondary, NULL,
                                                  (size_t)nbytes);
    if (rc != SBPROV_OK)
        return cli_fail("keygen", rc);
    if (json)
        printf("{\"primary\":\"%s\",\"secondary\":\"%s\"}\n", primary, secondary);
    else
        printf("%s\n%s\n", primary, secondary);
    return 0;
}

/* ---- connstr ------------------------------------------------------------- */

static const char connstr_help[] =
    "usage: sbprov azure connstr parse STRING|-\n"
    "       sbprov azure connstr build --host-name H [--device-id D] [--module-id M]\n"
    "                                  [--shared-access-key-name N]\n"
    "                                  [--shared-access-key K | --shared-access-key-file F]\n"
    "                                  [--shared-access-signature S] [--gateway-host-name G] [--x509]\n"
    "\n"
    "parse validates a connection string (\"-\" reads it from stdin, which keeps the key\n"
    "out of the process list) and prints its fields as a JSON object. build validates\n"
    "the fields and prints the connection string.\n";

static int connstr_parse(int argc, char **argv)
{
    const char *prog = "sbprov azure connstr parse";
    sbprov_azure_connstr *cs = NULL;
    char *owned = NULL;
    const char *text;
    size_t len = 0;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(connstr_help, stdout);
        return 0;
    }
    if (argc != 2)
        return cli_usage_error(prog, "expected one connection string (or - for stdin)");
    if (strcmp(argv[1], "-") == 0) {
        owned = cli_read_secret("-", &len);
        if (owned == NULL)
            return EXIT_IO;
        text = owned;
    } else {
        text = argv[1];
        len = strlen(text);
    }
    sbprov_result rc = sbprov_azure_connstr_parse(&cs, text, len);
    cli_free_secret(owned, len);
    if (rc != SBPROV_OK)
        return cli_fail("connection string", rc);

    cJSON *obj = cJSON_CreateObject();
    for (int f = 0; sbprov_azure_cs_field_name((sbprov_azure_cs_field)f) != NULL; f++) {
        const char *value = sbprov_azure_connstr_get(cs, (sbprov_azure_cs_field)f);
        if (value != NULL)
            cJSON_AddStringToObject(obj, sbprov_azure_cs_field_name((sbprov_azure_cs_field)f), value);
    }
    char *json = cJSON_PrintUnformatted(obj);
    if (json != NULL)
        puts(json);
    if (json != NULL)
        cli_free_secret(json, strlen(json));
    cJSON_Delete(obj);
    sbprov_azure_connstr_free(cs);
    return json != NULL ? 0 : EXIT_FAILED;
}

static sbprov_result connstr_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    return sbprov_azure_connstr_build(buf, size, out_len, payload);
}

static int connstr_build(int argc, char **argv)
{
    static const struct option options[] = {
        { "host-name", required_argument, NULL, SBPROV_AZURE_CS_HOST_NAME },
        { "device-id", required_argument, NULL, SBPROV_AZURE_CS_DEVICE_ID },
        { "module-id", required_argument, NULL, SBPROV_AZURE_CS_MODULE_ID },
        { "shared-access-key-name", required_argument, NULL, SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME },
        { "shared-access-key", required_argument, NULL, SBPROV_AZURE_CS_SHARED_ACCESS_KEY },
        { "shared-access-signature", required_argument, NULL, SBPROV_AZURE_CS_SHARED_ACCESS_SIGNATURE },
        { "gateway-host-name", required_argument, NULL, SBPROV_AZURE_CS_GATEWAY_HOST_NAME },
        { "x509", no_argument, NULL, SBPROV_AZURE_CS_X509 },
        { "shared-access-key-file", required_argument, NULL, 100 },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov azure connstr build";
    sbprov_azure_connstr *cs = NULL;
    secret_arg key = { 0 };
    int opt, status = 0;

    if (sbprov_azure_connstr_new(&cs) != SBPROV_OK)
        return cli_fail("connstr", SBPROV_ENOMEM);
    while (status == 0 && (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        sbprov_result rc = SBPROV_OK;
        if (opt == 'h') {
            fputs(connstr_help, stdout);
            sbprov_azure_connstr_free(cs);
            return 0;
        } else if (opt == 100) {
            size_t len;
            key.path = optarg;
            const char *value = secret_get(&key, &len);
            if (value == NULL)
                status = EXIT_IO;
            else
                rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY, value);
        } else if (opt == SBPROV_AZURE_CS_X509) {
            rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_X509, "true");
        } else if (opt >= 0 && sbprov_azure_cs_field_name((sbprov_azure_cs_field)opt) != NULL) {
            rc = sbprov_azure_connstr_set(cs, (sbprov_azure_cs_field)opt, optarg);
        } else {
            status = cli_usage_error(prog, "bad option");
        }
        if (rc != SBPROV_OK)
            status = cli_fail("connection string", rc);
    }
    secret_release(&key);
    if (status == 0 && optind != argc)
        status = cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (status == 0)
        status = cli_print_text("connection string", connstr_text, cs);
    sbprov_azure_connstr_free(cs);
    return status;
}

static int cmd_connstr(int argc, char **argv)
{
    static const cli_command commands[] = {
        { "parse", "validate a connection string and print its fields as JSON", connstr_parse },
        { "build", "validate fields and print the connection string", connstr_build },
        { NULL, NULL, NULL },
    };
    return cli_dispatch(commands, "sbprov azure connstr", argc - 1, argv + 1);
}

int cli_azure(int argc, char **argv)
{
    static const cli_command commands[] = {
        { "derive-key", "derive DPS group-enrollment device keys", cmd_derive_key },
        { "sas", "build a SAS token", cmd_sas },
        { "keygen", "generate a primary and secondary symmetric key", cmd_keygen },
        { "connstr", "parse or build IoT Hub connection strings", cmd_connstr },
        { "register", "register with DPS (symmetric key); write the connection string", cli_azure_register },
        { "send", "send telemetry to IoT Hub: stdin as one message, or one per line", cli_azure_send },
        { "registry", "IoT Hub identity registry: create, get, update, delete devices", cli_azure_registry },
        { NULL, NULL, NULL },
    };
    return cli_dispatch(commands, "sbprov azure", argc - 1, argv + 1);
}
