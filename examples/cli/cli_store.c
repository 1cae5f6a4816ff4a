/* `sbprov store ...`: the encrypted credential store: put, get, list, delete,
 * exists, swap, env-file export and import, key files; the store key from a
 * key file, a passphrase, or sealed to a device key (e.g. in a TPM). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int cli_store(int argc, char **argv);

static const char store_help[] =
    "usage: sbprov store --dir DIR (--key-file F | --passphrase-file F | --sealing-key URI | --plaintext)\n"
    "                    [--provider NAME]... [--openssl-conf F] [--create] VERB ...\n"
    "       sbprov store keygen --out PATH\n"
    "\n"
    "Crash-safe, encrypted credential store (a directory, mode 0700).\n"
    "\n"
    "options (exactly one of --key-file, --passphrase-file, --sealing-key, --plaintext):\n"
    "  --dir DIR               the store directory\n"
    "  --key-file F            key file made by 'sbprov store keygen'\n"
    "  --passphrase-file F     file holding the passphrase (\"-\" = stdin; one trailing newline is dropped)\n"
    "  --sealing-key URI       private EC P-256 or RSA key (file or OpenSSL store URI, e.g. handle:0x81000003\n"
    "                          for a TPM key with the decrypt attribute) that seals the store's random key;\n"
    "                          only that key can open the store again\n"
    "  --provider NAME         with --sealing-key: load an OpenSSL provider (repeatable, e.g. tpm2 and default)\n"
    "  --openssl-conf FILE     with --sealing-key: load this OpenSSL configuration first\n"
    "  --plaintext             a store that keeps values unencrypted\n"
    "  --create                create the directory and the store if missing\n"
    "\n"
    "verbs:\n"
    "  put NAME                store stdin, byte for byte, as NAME\n"
    "  get NAME                write the value of NAME to stdout, byte for byte\n"
    "  list                    print the entry names, one a line\n"
    "  delete NAME             delete an entry\n"
    "  exists NAME             exit 0 if the entry exists, 2 if not (prints nothing)\n"
    "  swap A B                exchange two values atomically\n"
    "  export-env --format docker|systemd --out PATH [NAME...]\n"
    "                          write entries (all if no NAME) as an env file (0600)\n"
    "  import-env --format docker|systemd PATH\n"
    "                          store every NAME=value of an env file\n"
    "  keygen --out PATH       create a key file (32 random bytes, 0600)\n";

static int parse_format(const char *text, sbprov_env_format *out, const char *prog)
{
    if (text == NULL)
        return cli_usage_error(prog, "--format is required (docker or systemd)");
    if (strcmp(text, "docker") == 0)
        *out = SBPROV_ENV_DOCKER;
    else if (strcmp(text, "systemd") == 0)
        *out = SBPROV_ENV_SYSTEMD;
    else
        return cli_usage_error(prog, "--format: '%s' is not docker or systemd", text);
    return 0;
}

static int cmd_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov store keygen", *path = NULL;
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'o': path = optarg; break;
        case 'h': puts("usage: sbprov store keygen --out PATH\n\nCreate a store key file (32 random bytes, "
                       "mode 0600); an existing file is never replaced.");
                  return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (path == NULL)
        return cli_usage_error(prog, "--out is required");
    sbprov_result rc = sbprov_store_create_key_file(path);
    return rc == SBPROV_OK ? 0 : cli_fail(path, rc);
}

static int list_cb(const char *name, void *payload)
{
    (void)payload;
    return puts(name) < 0;
}

/* Verbs with positional arguments only: checks the count. */
static int want_args(int argc, char **argv, int n, const char *prog, const char *usage)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: sbprov store [OPTIONS] %s\n", usage);
        return -1;
    }
    if (argc - 1 != n) {
        cli_usage_error(prog, "expected: %s", usage);
        return EXIT_USAGE;
    }
    return 0;
}

static int run_verb(sbprov_store *store, int argc, char **argv)
{
    const char *verb = argv[0];
    const char *prog = "sbprov store";
    sbprov_result rc;
    int w;

    if (strcmp(verb, "put") == 0) {
        if ((w = want_args(argc, argv, 1, prog, "put NAME < VALUE")) != 0)
            return w < 0 ? 0 : w;
        size_t len = 0;
        char *value = cli_read_raw("-", &len);
        if (value == NULL)
            return EXIT_IO;
        rc = sbprov_store_put(store, argv[1], value, len);
        cli_free_secret(value, len);
        return rc == SBPROV_OK ? 0 : cli_fail(argv[1], rc);
    }
    if (strcmp(verb, "get") == 0) {
        if ((w = want_args(argc, argv, 1, prog, "get NAME")) != 0)
            return w < 0 ? 0 : w;
        void *value = NULL;
        size_t len = 0;
        rc = sbprov_store_get_alloc(&value, &len, store, argv[1]);
        if (rc != SBPROV_OK)
            return cli_fail(argv[1], rc);
        size_t written = fwrite(value, 1, len, stdout);
        volatile unsigned char *p = value;
        for (size_t i = 0; i < len; i++)
            p[i] = 0;
        sbprov_free(value);
        return written == len ? 0 : EXIT_IO;
    }
    if (strcmp(verb, "list") == 0) {
        if ((w = want_args(argc, argv, 0, prog, "list")) != 0)
            return w < 0 ? 0 : w;
        rc = sbprov_store_list(store, list_cb, NULL);
        return rc == SBPROV_OK ? 0 : cli_fail("list", rc);
    }
    if (strcmp(verb, "delete") == 0) {
        if ((w = want_args(argc, argv, 1, prog, "delete NAME")) != 0)
            return w < 0 ? 0 : w;
        rc = sbprov_store_delete(store, argv[1]);
        return rc == SBPROV_OK ? 0 : cli_fail(argv[1], rc);
    }
    if (strcmp(verb, "exists") == 0) {
        if ((w = want_args(argc, argv, 1, prog, "exists NAME")) != 0)
            return w < 0 ? 0 : w;
        rc = sbprov_store_exists(store, argv[1]);
        if (rc == SBPROV_ENOTFOUND)
            return EXIT_FAILED;
        return rc == SBPROV_OK ? 0 : cli_fail(argv[1], rc);
    }
    if (strcmp(verb, "swap") == 0) {
        if ((w = want_args(argc, argv, 2, prog, "swap A B")) != 0)
            return w < 0 ? 0 : w;
        rc = sbprov_store_swap(store, argv[1], argv[2]);
        return rc == SBPROV_OK ? 0 : cli_fail("swap", rc);
    }
    if (strcmp(verb, "export-env") == 0 || strcmp(verb, "import-env") == 0) {
        static const struct option options[] = {
            { "format", required_argument, NULL, 'f' },
            { "out", required_argument, NULL, 'o' },
            { "help", no_argument, NULL, 'h' },
            { NULL, 0, NULL, 0 },
        };
        int export = verb[0] == 'e';
        const char *format_text = NULL, *out = NULL;
        sbprov_env_format format = SBPROV_ENV_DOCKER;
        int opt;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
            switch (opt) {
            case 'f': format_text = optarg; break;
            case 'o':
                if (!export)
                    return cli_usage_error(prog, "import-env: --out is not an option (the file is an argument)");
                out = optarg;
                break;
            case 'h':
                printf("usage: sbprov store [OPTIONS] %s\n",
                       export ? "export-env --format docker|systemd --out PATH [NAME...]"
                              : "import-env --format docker|systemd PATH");
                return 0;
            default: return cli_usage_error(prog, "bad option");
            }
        }
        if ((w = parse_format(format_text, &format, prog)) != 0)
            return w;
        if (!export) {
            if (argc - optind != 1)
                return cli_usage_error(prog, "import-env: expected one env file");
            rc = sbprov_store_import_env(store, argv[optind], format);
            return rc == SBPROV_OK ? 0 : cli_fail(argv[optind], rc);
        }
        if (out == NULL)
            return cli_usage_error(prog, "export-env: --out is required");
        char *names = NULL;
        if (optind < argc) {
            size_t total = 0;
            for (int i = optind; i < argc; i++) {
                if (strchr(argv[i], ',') != NULL || argv[i][0] == '\0')
                    return cli_usage_error(prog, "export-env: '%s' is not an entry name", argv[i]);
                total += strlen(argv[i]) + 1;
            }
            names = malloc(total);
            if (names == NULL)
                return cli_fail("export-env", SBPROV_ENOMEM);
            names[0] = '\0';
            for (int i = optind; i < argc; i++) {
                if (i > optind)
                    strcat(names, ",");
                strcat(names, argv[i]);
            }
        }
        rc = sbprov_store_export_env(store, names, out, format);
        free(names);
        return rc == SBPROV_OK ? 0 : cli_fail(out, rc);
    }
    return cli_usage_error(prog, "unknown verb '%s'", verb);
}

int cli_store(int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "key-file", required_argument, NULL, 'k' },
        { "passphrase-file", required_argument, NULL, 'p' },
        { "sealing-key", required_argument, NULL, 's' },
        { "provider", required_argument, NULL, 'P' },
        { "openssl-conf", required_argument, NULL, 'C' },
        { "plaintext", no_argument, NULL, 't' },
        { "create", no_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = "sbprov store";
    const char *dir = NULL, *passphrase_file = NULL, *sealing_uri = NULL, *openssl_conf = NULL;
    char providers[256] = "";
    sbprov_store_open_options opts;
    sbprov_store *store = NULL;
    sbprov_key *sealing_key = NULL;
    int opt, status;

    if (sbprov_store_open_options_init(&opts, sizeof opts) != SBPROV_OK)
        return cli_fail("store options", SBPROV_EINVAL);
    /* "+": stop at the verb; its own options follow it. */
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'k': opts.key_file = optarg; break;
        case 'p': passphrase_file = optarg; break;
        case 's': sealing_uri = optarg; break;
        case 'P':
            if ((status = cli_add_provider(providers, sizeof providers, optarg, prog)) != 0)
                return status;
            break;
        case 'C': openssl_conf = optarg; break;
        case 't': opts.plaintext = 1; break;
        case 'c': opts.create = 1; break;
        case 'h': fputs(store_help, stdout); return 0;
        default: return cli_usage_error(prog, "bad option");
        }
    }
    if (optind >= argc)
        return cli_usage_error(prog, "a verb is required (put, get, list, delete, exists, swap, export-env, "
                                     "import-env, keygen)");
    argc -= optind;
    argv += optind;
    if (strcmp(argv[0], "keygen") == 0)
        return cmd_keygen(argc, argv);
    if (dir == NULL)
        return cli_usage_error(prog, "--dir is required");
    if ((opts.key_file != NULL) + (passphrase_file != NULL) + (sealing_uri != NULL) + (opts.plaintext != 0) != 1)
        return cli_usage_error(prog, "give exactly one of --key-file, --passphrase-file, --sealing-key and "
                                     "--plaintext");
    if (sealing_uri == NULL && (providers[0] != '\0' || openssl_conf != NULL))
        return cli_usage_error(prog, "--provider and --openssl-conf apply to --sealing-key only");

    char *passphrase = NULL;
    size_t passphrase_len = 0;
    if (passphrase_file != NULL) {
        if (strcmp(passphrase_file, "-") == 0 && strcmp(argv[0], "put") == 0)
            return cli_usage_error(prog, "put reads the value from stdin: the passphrase cannot come from there");
        if ((passphrase = cli_read_secret(passphrase_file, &passphrase_len)) == NULL)
            return EXIT_IO;
        opts.passphrase = passphrase;
        opts.passphrase_len = passphrase_len;
    }
    if (sealing_uri != NULL) {
        /* The key (in a TPM: a reference to it) is needed during the open only. */
        if ((status = cli_load_key(&sealing_key, sealing_uri, providers, openssl_conf)) != 0) {
            cli_free_secret(passphrase, passphrase_len);
            return status;
        }
        opts.sealing_key = sealing_key;
    }
    sbprov_result rc = sbprov_store_open(&store, dir, &opts);
    cli_free_secret(passphrase, passphrase_len);
    sbprov_key_free(sealing_key);
    if (rc != SBPROV_OK)
        return cli_fail(dir, rc);
    status = run_verb(store, argc, argv);
    sbprov_store_free(store);
    return status;
}
