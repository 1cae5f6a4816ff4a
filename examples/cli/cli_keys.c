/* `sbprov key ...`: device key pairs: generate, public key, sign, verify, CSR. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int cli_keys(int argc, char **argv);

enum { OPT_KEY = 300, OPT_PASSPHRASE_FILE, OPT_PROVIDER, OPT_OPENSSL_CONF, OPT_PROPQUERY, OPT_ERROR };

#define KEY_LOAD_OPTIONS                                                          \
    { "key", required_argument, NULL, OPT_KEY },                                 \
        { "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },     \
        { "provider", required_argument, NULL, OPT_PROVIDER },                   \
        { "openssl-conf", required_argument, NULL, OPT_OPENSSL_CONF },           \
        { "propquery", required_argument, NULL, OPT_PROPQUERY }

static const char load_help[] =
    "key options:\n"
    "  --key PATH|URI          private key file or OpenSSL store URI (handle:0x81000001, pkcs11:...)\n"
    "  --passphrase-file F     passphrase of an encrypted key file (\"-\" = stdin)\n"
    "  --provider NAME         load an OpenSSL provider (repeatable, e.g. tpm2 and default)\n"
    "  --openssl-conf FILE     load this OpenSSL configuration first\n"
    "  --propquery Q           property query for signing (default: the key's own provider)\n";

/* How to load the key, gathered from the options. */
typedef struct key_args {
    const char *uri;
    const char *passphrase_file;
    char providers[256];
    const char *openssl_conf;
    const char *propquery;
} key_args;

/* Returns 1 if `opt` is a key-loading option (handled), 0 if not, -1 on error. */
static int key_option(key_args *k, int opt, const char *arg, const char *prog)
{
    switch (opt) {
    case OPT_KEY: k->uri = arg; return 1;
    case OPT_PASSPHRASE_FILE: k->passphrase_file = arg; return 1;
    case OPT_OPENSSL_CONF: k->openssl_conf = arg; return 1;
    case OPT_PROPQUERY: k->propquery = arg; return 1;
    case OPT_PROVIDER:
        return cli_add_provider(k->providers, sizeof k->providers, arg, prog) == 0 ? 1 : -1;
    }
    return 0;
}

/* getopt_long that consumes the key-loading options itself: returns the next
 * other option, -1 at the end, or OPT_ERROR after printing a usage error. */
static int next_option(int argc, char **argv, const struct option *options, key_args *k, const char *prog)
{
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        int handled = key_option(k, opt, optarg, prog);
        if (handled < 0)
            return OPT_ERROR;
        if (!handled)
            return opt;
    }
    return -1;
}

static int load_key(sbprov_key **out, const key_args *k, const char *prog)
{
    sbprov_key_load_options opts;
    char *passphrase = NULL;
    size_t passphrase_len = 0;
    sbprov_result rc;

    if (k->uri == NULL)
        return cli_usage_error(prog, "--key is required");
    if (sbprov_key_load_options_init(&opts, sizeof opts) != SBPROV_OK)
        return cli_fail("key options", SBPROV_EINVAL);
    if (k->passphrase_file != NULL) {
        passphrase = cli_read_secret(k->passphrase_file, &passphrase_len);
        if (passphrase == NULL)
            return EXIT_IO;
        opts.passphrase = passphrase;
        opts.passphrase_len = passphrase_len;
    }
    opts.providers = k->providers[0] != '\0' ? k->providers : NULL;
    opts.openssl_conf = k->openssl_conf;
    opts.propquery = k->propquery;
    rc = sbprov_key_load(out, k->uri, &opts);
    cli_free_secret(passphrase, passphrase_len);
    return rc == SBPROV_OK ? 0 : cli_fail(k->uri, rc);
}

/* ---- generate -------------------------------------------------------------- */

static const char generate_help[] =
    "usage: sbprov key generate --out PATH [--type TYPE] [--passphrase-file F] [--force]\n"
    "\n"
    "Generate a key pair and write the private key as PKCS#8 PEM, created with\n"
    "mode 0600 through a temporary file, fsync and rename. TYPE: ed25519 (default),\n"
    "ecdsa-p256, rsa-2048, rsa-3072, rsa-4096. An existing file is kept unless\n"
    "--force. Prints the public key (SPKI PEM).\n";

static sbprov_result public_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    return sbprov_key_public_pem(buf, size, out_len, payload);
}

static sbprov_result fingerprint_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    return sbprov_key_fingerprint(buf, size, out_len, payload);
}

static int print_public(sbprov_key *key)
{
    return cli_print_text("public key", public_text, key);
}

static int cmd_generate(int argc, char **argv)
{
    static const struct option options[] = {
        { "out", required_argument, NULL, 'o' },
        { "type", required_argument, NULL, 't' },
        { "passphrase-file", required_argument, NULL, 'p' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov key generate";
    const char *path = NULL, *type = "ed25519", *passphrase_file = NULL;
    sbprov_key_generate_options opts;
    sbprov_key *key = NULL;
    int opt, force = 0, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'o': path = optarg; break;
        case 't': type = optarg; break;
        case 'p': passphrase_file = optarg; break;
        case 'f': force = 1; break;
        case 'h': fputs(generate_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (path == NULL)
        return cli_usage_error(prog, "--out is required");
    if (sbprov_key_generate_options_init(&opts, sizeof opts) != SBPROV_OK)
        return cli_fail("key options", SBPROV_EINVAL);
    if (strcmp(type, "ed25519") == 0)
        opts.type = SBPROV_KEY_ED25519;
    else if (strcmp(type, "ecdsa-p256") == 0)
        opts.type = SBPROV_KEY_ECDSA_P256;
    else if (strcmp(type, "rsa-2048") == 0 || strcmp(type, "rsa-3072") == 0 || strcmp(type, "rsa-4096") == 0) {
        opts.type = SBPROV_KEY_RSA;
        opts.rsa_bits = (uint32_t)atoi(type + 4);
    } else
        return cli_usage_error(prog, "--type: '%s' is not ed25519, ecdsa-p256, rsa-2048, rsa-3072 or rsa-4096", type);

    char *passphrase = NULL;
    size_t passphrase_len = 0;
    if (passphrase_file != NULL && (passphrase = cli_read_secret(passphrase_file, &passphrase_len)) == NULL)
        return EXIT_IO;
    sbprov_result rc = sbprov_key_generate(&key, &opts);
    if (rc == SBPROV_OK)
        rc = sbprov_key_save(key, path, passphrase, passphrase_len, force ? SBPROV_KEY_SAVE_OVERWRITE : 0);
    cli_free_secret(passphrase, passphrase_len);
    status = rc == SBPROV_OK ? print_public(key) : cli_fail(path, rc);
    sbprov_key_free(key);
    return status;
}

/* ---- public, sign, verify, csr ------------------------------------------------ */

static const char public_help[] = "usage: sbprov key public --key URI [--fingerprint] [KEY OPTIONS]\n"
                                  "\n"
                                  "Print the public key as SPKI PEM (what Mender expects), or with\n"
                                  "--fingerprint the SHA-256 of its DER encoding in hex.\n\n";

static int cmd_public(int argc, char **argv)
{
    static const struct option options[] = {
        { "fingerprint", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        KEY_LOAD_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov key public";
    key_args k = { 0 };
    sbprov_key *key = NULL;
    int opt, fingerprint = 0, status;

    while ((opt = next_option(argc, argv, options, &k, prog)) != -1) {
        if (opt == OPT_ERROR)
            return EXIT_USAGE;
        switch (opt) {
        case 'f': fingerprint = 1; break;
        case 'h': fputs(public_help, stdout); fputs(load_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if ((status = load_key(&key, &k, prog)) != 0)
        return status;
    status = fingerprint ? cli_print_text("fingerprint", fingerprint_text, key) : print_public(key);
    sbprov_key_free(key);
    return status;
}

static const char sign_help[] = "usage: sbprov key sign --key URI [KEY OPTIONS] < MESSAGE\n"
                                "\n"
                                "Sign stdin exactly as the Mender server verifies (RSA PKCS#1 v1.5 and\n"
                                "ECDSA over SHA-256, pure Ed25519) and print the Base64 signature.\n\n";

typedef struct sign_call {
    const sbprov_key *key;
    const char *data;
    size_t len;
} sign_call;

static sbprov_result sign_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    sign_call *c = payload;
    return sbprov_key_sign(buf, size, out_len, c->key, c->data, c->len);
}

static int cmd_sign(int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        KEY_LOAD_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov key sign";
    key_args k = { 0 };
    sbprov_key *key = NULL;
    int opt, status;

    while ((opt = next_option(argc, argv, options, &k, prog)) != -1) {
        if (opt == OPT_ERROR)
            return EXIT_USAGE;
        if (opt == 'h') {
            fputs(sign_help, stdout);
            fputs(load_help, stdout);
            return 0;
        }
        return cli_usage_error(prog, "bad option");
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if ((status = load_key(&key, &k, prog)) != 0)
        return status;
    sign_call call = { key, NULL, 0 };
    char *message = cli_read_raw("-", &call.len);
    if (message == NULL) {
        sbprov_key_free(key);
        return EXIT_IO;
    }
    call.data = message;
    status = cli_print_text("sign", sign_text, &call);
    cli_free_secret(message, call.len);
    sbprov_key_free(key);
    return status;
}

static const char verify_help[] =
    "usage: sbprov key verify (--key URI | --public-key PEMFILE) --signature B64 [KEY OPTIONS] < MESSAGE\n"
    "\n"
    "Verify a Base64 signature over stdin. Exit 0 and \"valid\" if it verifies,\n"
    "exit 2 and a message on stderr if it does not.\n\n";

static int cmd_verify(int argc, char **argv)
{
    static const struct option options[] = {
        { "public-key", required_argument, NULL, 'P' },
        { "signature", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        KEY_LOAD_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov key verify";
    const char *public_path = NULL, *signature = NULL;
    key_args k = { 0 };
    sbprov_key *key = NULL;
    int opt, status;

    while ((opt = next_option(argc, argv, options, &k, prog)) != -1) {
        if (opt == OPT_ERROR)
            return EXIT_USAGE;
        switch (opt) {
        case 'P': public_path = optarg; break;
        case 's': signature = optarg; break;
        case 'h': fputs(verify_help, stdout); fputs(load_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (signature == NULL)
        return cli_usage_error(prog, "--signature is required");
    if ((public_path == NULL) == (k.uri == NULL))
        return cli_usage_error(prog, "give exactly one of --key and --public-key");
    if (public_path != NULL) {
        size_t len = 0;
        char *pem = cli_read_raw(public_path, &len);
        if (pem == NULL)
            return EXIT_IO;
        sbprov_result rc = sbprov_key_from_public_pem(&key, pem, len);
        free(pem);
        if (rc != SBPROV_OK)
            return cli_fail(public_path, rc);
    } else if ((status = load_key(&key, &k, prog)) != 0) {
        return status;
    }
    size_t len = 0;
    char *message = cli_read_raw("-", &len);
    if (message == NULL) {
        sbprov_key_free(key);
        return EXIT_IO;
    }
    sbprov_result rc = sbprov_key_verify(key, message, len, signature, strlen(signature));
    free(message);
    sbprov_key_free(key);
    if (rc != SBPROV_OK)
        return cli_fail("verify", rc);
    puts("valid");
    return 0;
}

static const char csr_help[] = "usage: sbprov key csr --key URI --cn NAME [--san LIST] [KEY OPTIONS]\n"
                               "\n"
                               "Print a PKCS#10 CSR (PEM) for the key, subject CN=NAME, with\n"
                               "subjectAltNames in OpenSSL syntax (DNS:gw1.example,IP:10.0.0.7).\n\n";

typedef struct csr_call {
    const sbprov_key *key;
    const char *cn, *san;
} csr_call;

static sbprov_result csr_text(char *buf, size_t size, size_t *out_len, void *payload)
{
    csr_call *c = payload;
    return sbprov_key_csr(buf, size, out_len, c->key, c->cn, c->san);
}

static int cmd_csr(int argc, char **argv)
{
    static const struct option options[] = {
        { "cn", required_argument, NULL, 'c' },
        { "san", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        KEY_LOAD_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov key csr";
    key_args k = { 0 };
    csr_call call = { 0 };
    sbprov_key *key = NULL;
    int opt, status;

    while ((opt = next_option(argc, argv, options, &k, prog)) != -1) {
        if (opt == OPT_ERROR)
            return EXIT_USAGE;
        switch (opt) {
        case 'c': call.cn = optarg; break;
        case 's': call.san = optarg; break;
        case 'h': fputs(csr_help, stdout); fputs(load_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (call.cn == NULL)
        return cli_usage_error(prog, "--cn is required");
    if ((status = load_key(&key, &k, prog)) != 0)
        return status;
    call.key = key;
    status = cli_print_text("csr", csr_text, &call);
    sbprov_key_free(key);
    return status;
}

int cli_keys(int argc, char **argv)
{
    static const cli_command commands[] = {
        { "generate", "generate a key pair into a 0600 PKCS#8 file", cmd_generate },
        { "public", "print the public key (SPKI PEM) or its fingerprint", cmd_public },
        { "sign", "sign stdin as Mender verifies; Base64 out", cmd_sign },
        { "verify", "verify a Base64 signature over stdin", cmd_verify },
        { "csr", "print a PKCS#10 CSR for the key", cmd_csr },
        { NULL, NULL, NULL },
    };
    return cli_dispatch(commands, "sbprov key", argc - 1, argv + 1);
}
