/* Test tool over the public keys API, for the script tests (Go verification,
 * TPM): generate, load, public key, fingerprint, sign, verify, CSR, save.
 *
 * usage: sbprov-key-tool [--providers P] [--openssl-conf F] [--propquery Q]
 *                        [--passphrase-file F] COMMAND ARGS...
 *   generate ed25519|p256|rsa[:BITS] OUT   generate and save (mode 0600)
 *   info URI                               "<type> <bits> <has_private>"
 *   pub URI                                SPKI PEM
 *   fingerprint URI                        SHA-256 of the SPKI, hex
 *   sign URI MESSAGE_FILE                  Base64 signature (no newline)
 *   verify PUBLIC_PEM_FILE MESSAGE_FILE SIGNATURE_FILE
 *   csr URI COMMON_NAME [SANS]             CSR PEM
 *   save URI OUT                           save the loaded key (no overwrite)
 *
 * Failures print "sbprov-key-tool: <what>: <code name> (<code>): <detail>"
 * to stderr and exit 1; usage errors exit 2. */
#include <sbprov/sbprov.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *code_name(sbprov_result rc)
{
    switch (rc) {
    case SBPROV_EINVAL: return "EINVAL";
    case SBPROV_ENOMEM: return "ENOMEM";
    case SBPROV_EBUFS: return "EBUFS";
    case SBPROV_EBASE64: return "EBASE64";
    case SBPROV_EID: return "EID";
    case SBPROV_ECRYPTO: return "ECRYPTO";
    case SBPROV_ENOTFOUND: return "ENOTFOUND";
    case SBPROV_EKEY: return "EKEY";
    case SBPROV_ESIGNATURE: return "ESIGNATURE";
    case SBPROV_EIO: return "EIO";
    case SBPROV_EPROVIDER: return "EPROVIDER";
    case SBPROV_EPASSPHRASE: return "EPASSPHRASE";
    case SBPROV_EEXISTS: return "EEXISTS";
    default: return "E?";
    }
}

static int fail(const char *what, sbprov_result rc)
{
    fprintf(stderr, "sbprov-key-tool: %s: %s (%d): %s\n", what, code_name(rc), (int)rc, sbprov_last_error());
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: sbprov-key-tool [--providers P] [--openssl-conf F] [--propquery Q] "
                    "[--passphrase-file F] generate|info|pub|fingerprint|sign|verify|csr|save ARGS...\n");
    return 2;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL) {
        perror(path);
        return NULL;
    }
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            char *p = realloc(buf, cap);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Call a text-producing function with a buffer that grows on SBPROV_EBUFS. */
typedef sbprov_result (*text_fn)(char *buf, size_t size, size_t *out_len, void *payload);

static int print_text(const char *what, text_fn fn, void *payload, int newline)
{
    size_t size = 16, len = 0;
    char *buf = malloc(size);
    sbprov_result rc;

    while (buf != NULL && (rc = fn(buf, size, &len, payload)) == SBPROV_EBUFS) {
        free(buf);
        size = len;
        buf = malloc(size);
    }
    if (buf == NULL)
        return fail(what, SBPROV_ENOMEM);
    if (rc != SBPROV_OK) {
        free(buf);
        return fail(what, rc);
    }
    fwrite(buf, 1, len, stdout);
    if (newline)
        fputc('\n', stdout);
    free(buf);
    return 0;
}

typedef struct call {
    sbprov_key *key;
    const char *data;
    size_t len;
    const char *cn, *sans;
} call;

static sbprov_result do_pub(char *b, size_t s, size_t *n, void *p)
{
    return sbprov_key_public_pem(b, s, n, ((call *)p)->key);
}
static sbprov_result do_fingerprint(char *b, size_t s, size_t *n, void *p)
{
    return sbprov_key_fingerprint(b, s, n, ((call *)p)->key);
}
static sbprov_result do_sign(char *b, size_t s, size_t *n, void *p)
{
    call *c = p;
    return sbprov_key_sign(b, s, n, c->key, c->data, c->len);
}
static sbprov_result do_csr(char *b, size_t s, size_t *n, void *p)
{
    call *c = p;
    return sbprov_key_csr(b, s, n, c->key, c->cn, c->sans);
}

int main(int argc, char **argv)
{
    sbprov_key_load_options opts;
    char *passphrase = NULL;
    size_t passphrase_len = 0;
    call c = { NULL, NULL, 0, NULL, NULL };
    sbprov_result rc;
    int i = 1, status = 1;

    if (sbprov_key_load_options_init(&opts, sizeof opts) != SBPROV_OK)
        return fail("options", SBPROV_EINVAL);
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--providers") == 0)
            opts.providers = argv[i + 1];
        else if (strcmp(argv[i], "--openssl-conf") == 0)
            opts.openssl_conf = argv[i + 1];
        else if (strcmp(argv[i], "--propquery") == 0)
            opts.propquery = argv[i + 1];
        else if (strcmp(argv[i], "--passphrase-file") == 0) {
            if ((passphrase = read_file(argv[i + 1], &passphrase_len)) == NULL)
                return 1;
            opts.passphrase = passphrase;
            opts.passphrase_len = passphrase_len;
        } else
            return usage();
    }
    if (i >= argc)
        return usage();
    const char *cmd = argv[i++];
    int nargs = argc - i;
    char **args = argv + i;

    if (strcmp(cmd, "generate") == 0) {
        sbprov_key_generate_options g;
        if (nargs != 2 || sbprov_key_generate_options_init(&g, sizeof g) != SBPROV_OK)
            return usage();
        if (strcmp(args[0], "ed25519") == 0)
            g.type = SBPROV_KEY_ED25519;
        else if (strcmp(args[0], "p256") == 0)
            g.type = SBPROV_KEY_ECDSA_P256;
        else if (strncmp(args[0], "rsa", 3) == 0) {
            g.type = SBPROV_KEY_RSA;
            if (args[0][3] == ':')
                g.rsa_bits = (uint32_t)strtoul(args[0] + 4, NULL, 10);
        } else
            return usage();
        if ((rc = sbprov_key_generate(&c.key, &g)) != SBPROV_OK)
            return fail("generate", rc);
        rc = sbprov_key_save(c.key, args[1], NULL, 0, 0);
        status = rc == SBPROV_OK ? 0 : fail("save", rc);
        goto out;
    }
    if (strcmp(cmd, "verify") == 0) {
        size_t pem_len, sig_len;
        char *pem, *sig;
        if (nargs != 3)
            return usage();
        if ((pem = read_file(args[0], &pem_len)) == NULL)
            return 1;
        rc = sbprov_key_from_public_pem(&c.key, pem, pem_len);
        free(pem);
        if (rc != SBPROV_OK)
            return fail("public key", rc);
        if ((c.data = read_file(args[1], &c.len)) == NULL || (sig = read_file(args[2], &sig_len)) == NULL)
            goto out;
        while (sig_len > 0 && sig[sig_len - 1] == '\n')
            sig_len--;
        rc = sbprov_key_verify(c.key, c.data, c.len, sig, sig_len);
        free(sig);
        status = rc == SBPROV_OK ? 0 : fail("verify", rc);
        goto out;
    }

    if (nargs < 1)
        return usage();
    if ((rc = sbprov_key_load(&c.key, args[0], &opts)) != SBPROV_OK) {
        status = fail(args[0], rc);
        goto out;
    }
    if (strcmp(cmd, "info") == 0 && nargs == 1) {
        printf("%d %u %d\n", (int)sbprov_key_get_type(c.key), (unsigned)sbprov_key_bits(c.key),
               sbprov_key_has_private(c.key));
        status = 0;
    } else if (strcmp(cmd, "pub") == 0 && nargs == 1) {
        status = print_text("public key", do_pub, &c, 0);
    } else if (strcmp(cmd, "fingerprint") == 0 && nargs == 1) {
        status = print_text("fingerprint", do_fingerprint, &c, 1);
    } else if (strcmp(cmd, "sign") == 0 && nargs == 2) {
        if ((c.data = read_file(args[1], &c.len)) != NULL)
            status = print_text("sign", do_sign, &c, 0);
    } else if (strcmp(cmd, "csr") == 0 && (nargs == 2 || nargs == 3)) {
        c.cn = args[1];
        c.sans = nargs == 3 ? args[2] : NULL;
        status = print_text("csr", do_csr, &c, 0);
    } else if (strcmp(cmd, "save") == 0 && nargs == 2) {
        rc = sbprov_key_save(c.key, args[1], NULL, 0, 0);
        status = rc == SBPROV_OK ? 0 : fail("save", rc);
    } else {
        status = usage();
    }
out:
    free((char *)c.data);
    sbprov_key_free(c.key);
    if (passphrase != NULL) {
        memset(passphrase, 0, passphrase_len);
        free(passphrase);
    }
    return status;
}
