/* Command-line window on the identity API for the cross-checks against Go and
 * the network-namespace probe test (tests/identity/).
 *
 *   identity_tool canon            key=value lines on stdin -> canonical JSON
 *                                  line, then the digest line
 *   identity_tool cases [N SEED]   print the tricky identities and N random
 *                                  ones (default 3000, seed 1), one a line:
 *                                  hex(name) hex(value) hex(name) hex(value) ...
 *   identity_tool canon-cases      read such lines; print for each
 *                                  "hex(canonical JSON) digest"
 *   identity_tool probe [--sources LIST] [--physical GLOBS] [--virtual GLOBS]
 *                       [--skip-local-mac] [--sysfs DIR] [--etc DIR]
 *                                  probe; print key=value lines
 *
 * Every command prints "result=CODE" as its last line when a call fails (and
 * the detail on stderr) and exits 1; bad usage exits 2. */
#include <sbprov/sbprov.h>
#include <sbprov/identity.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed(const char *what, sbprov_result rc)
{
    fprintf(stderr, "identity_tool: %s: %s (%d): %s\n", what, sbprov_strerror(rc), (int)rc, sbprov_last_error());
    printf("result=%d\n", (int)rc);
    return 1;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            return NULL;
        }
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

/* Canonical JSON into a heap buffer (grown on EBUFS). */
static sbprov_result canonical(char **json, size_t *len, const sbprov_identity *id)
{
    size_t size = 64, needed = 0;
    for (;;) {
        char *buf = malloc(size);
        if (buf == NULL)
            return SBPROV_ENOMEM;
        sbprov_result rc = sbprov_identity_canonical_json(buf, size, &needed, id);
        if (rc == SBPROV_OK) {
            *json = buf;
            *len = needed;
            return rc;
        }
        free(buf);
        if (rc != SBPROV_EBUFS)
            return rc;
        size = needed;
    }
}

static int cmd_canon(void)
{
    size_t len, json_len;
    char *text = read_all(stdin, &len), *json, digest[SBPROV_IDENTITY_DIGEST_SIZE];
    sbprov_identity *id = NULL;
    sbprov_result rc;

    if (text == NULL)
        return failed("reading stdin", SBPROV_ENOMEM);
    rc = sbprov_identity_parse(&id, text, len);
    free(text);
    if (rc != SBPROV_OK)
        return failed("parse", rc);
    if ((rc = canonical(&json, &json_len, id)) != SBPROV_OK) {
        sbprov_identity_free(id);
        return failed("canonical JSON", rc);
    }
    rc = sbprov_identity_digest(digest, sizeof digest, NULL, id);
    sbprov_identity_free(id);
    if (rc != SBPROV_OK) {
        free(json);
        return failed("digest", rc);
    }
    fwrite(json, 1, json_len, stdout);
    printf("\n%s\n", digest);
    free(json);
    return 0;
}

/* --- cases ------------------------------------------------------------------ */

static void put_hex(const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

/* One case from alternating name, value strings (NULL-terminated list); a
 * string may hold any byte but NUL, given with its length via the S() macro. */
typedef struct blob {
    const char *s;
    size_t n;
} blob;
#define S(lit) { lit, sizeof(lit) - 1 }
#define END { NULL, 0 }

static void put_case(const blob *b)
{
    for (size_t i = 0; b[i].s != NULL; i++) {
        if (i > 0)
            putchar(' ');
        put_hex(b[i].s, b[i].n);
    }
    putchar('\n');
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
    /* xorshift64*: deterministic across platforms. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* Append one random "tricky" piece to buf; names exclude '='. */
static size_t random_piece(char *buf, int is_name)
{
    static const char *const pieces[] = {
        "a", "b", "Z", "0", "mac", "id", "<", ">", "&", "\"", "\\", "/", "\t", "\x01", "\x08", "\x0c",
        "\x1f", "\x7f", " ", "=", "\xc3\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xf0\x9f\x98\x80", "\xef\xbf\xbd",
        "\xe2\x82\xac", "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf",
        "\xf4\x90\x80\x80", "\xf5", "\xff", "\xfe", "\xe2\x82", "\xf0\x9f\x98", "\xc3", "\xe2", "\xf0",
        "\xf4\x8f\xbf\xbf", "\xee\x80\x80", "\xc2\x80", "\xc2\xa0", "\xdf\xbf", "\xe0\xa0\x80", "\xf0\x90\x80\x80",
    };
    const size_t count = sizeof pieces / sizeof pieces[0];
    for (;;) {
        const char *p = pieces[rnd() % count];
        if (is_name && strcmp(p, "=") == 0)
            continue;
        size_t n = strlen(p);
        memcpy(buf, p, n);
        return n;
    }
}

static void random_case(void)
{
    char names[8][64];
    size_t name_lens[8];
    int nnames = 1 + (int)(rnd() % 6), nitems = 1 + (int)(rnd() % 10);

    for (int i = 0; i < nnames; i++) {
        size_t n = 0;
        int pieces = 1 + (int)(rnd() % 6);
        for (int k = 0; k < pieces; k++)
            n += random_piece(names[i] + n, 1);
        name_lens[i] = n;
    }
    for (int i = 0; i < nitems; i++) {
        char value[128];
        size_t n = 0;
        int pieces = (int)(rnd() % 12), which = (int)(rnd() % (unsigned)nnames);
        for (int k = 0; k < pieces; k++)
            n += random_piece(value + n, 0);
        if (i > 0)
            putchar(' ');
        put_hex(names[which], name_lens[which]);
        putchar(' ');
        put_hex(value, n);
    }
    putchar('\n');
}

static int cmd_cases(int argc, char **argv)
{
    static const blob fixed[][12] = {
        { S("mac"), S("00:11:22:33:44:55"), END },
        { S("a"), S("<script>&amp;</script>"), END },
        { S("html<>&"), S("x"), END },
        { S("u"), S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"), END },
        { S("ls"), S("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"), END },
        { S("lone"), S("\x80\xbf\x80"), END },
        { S("trunc"), S("\xe2\x82 \xf0\x9f\x98 \xc3"), END },
        { S("overlong"), S("\xc0\x80\xc1\xbf\xe0\x80\xaf\xf0\x80\x80\xaf"), END },
        { S("surrogates"), S("\xed\xa0\x80\xed\xbf\xbf\xed\xa0\xbd\xed\xb8\x80"), END },
        { S("toobig"), S("\xf4\x90\x80\x80\xf5\x80\x80\x80\xff\xfe"), END },
        { S("real-fffd"), S("\xef\xbf\xbd"), END },
        { S("ctl"), S("\x01\x02\x03\x04\x05\x06\x07\x08\t\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
                      "\x1a\x1b\x1c\x1d\x1e\x1f\x7f"), END },
        { S("q"), S("\"quoted\" and \\backslash\\ and /slash/"), END },
        { S("k"), S("1"), S("k"), S("2"), S("k"), S("3"), END },
        { S("k"), S(""), S("e"), S(""), END },
        { S("\xc3\xa9"), S("1"), S("z"), S("2"), S("e"), S("3"), S("\xe2\x82\xac"), S("4"), S("E"), S("5"), END },
        { S("ab"), S("1"), S("a"), S("2"), S("abc"), S("3"), S("a\x7f"), S("4"), S("a "), S("5"), END },
        { S("a\xff"), S("1"), S("a\xfe"), S("2"), END },
        { S("a\xef\xbf\xbd"), S("1"), S("a\x80"), S("2"), S("a\xef\xbf\xbe"), S("3"), END },
        { S("x\xe2\x80\xa8"), S("key with LS"), S("<"), S(">"), END },
        { S(" "), S(" "), S("\t"), S("\t"), END },
    };
    long n_random = 3000;
    unsigned long long seed = 1;

    if (argc >= 1)
        n_random = strtol(argv[0], NULL, 10);
    if (argc >= 2)
        seed = strtoull(argv[1], NULL, 10);
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        put_case(fixed[i]);
    /* Many values, and all control characters as names. */
    for (int i = 0; i < 256; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        if (i > 0)
            putchar(' ');
        put_hex("many", 4);
        putchar(' ');
        put_hex(v, strlen(v));
    }
    putchar('\n');
    for (int c = 1; c < 0x20; c++) {
        char name[2] = { (char)c, 0 };
        if (c == '\n' || c == '\r')
            continue;
        if (c > 1)
            putchar(' ');
        put_hex(name, 1);
        putchar(' ');
        put_hex(name, 1);
    }
    putchar('\n');
    for (long i = 0; i < n_random; i++)
        random_case();
    return 0;
}

static int unhex(const char *hex, size_t n, char *out)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
    return 0;
}

static int cmd_canon_cases(void)
{
    size_t len, line_no = 0;
    char *text = read_all(stdin, &len), *save = NULL;

    if (text == NULL)
        return failed("reading stdin", SBPROV_ENOMEM);
    text = realloc(text, len + 1);
    text[len] = '\0';
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        sbprov_identity *id = NULL;
        char *tokens[2 * 1024], *json;
        size_t ntok = 0, json_len;
        char digest[SBPROV_IDENTITY_DIGEST_SIZE];
        sbprov_result rc;

        line_no++;
        /* Empty hex tokens are written as nothing between spaces: split by hand. */
        for (char *p = line;; ) {
            char *sp = strchr(p, ' ');
            if (ntok == sizeof tokens / sizeof tokens[0]) {
                fprintf(stderr, "identity_tool: case %zu: too many fields\n", line_no);
                return 2;
            }
            tokens[ntok++] = p;
            if (sp == NULL)
                break;
            *sp = '\0';
            p = sp + 1;
        }
        if (ntok % 2 != 0) {
            fprintf(stderr, "identity_tool: case %zu: odd number of fields\n", line_no);
            return 2;
        }
        if ((rc = sbprov_identity_new(&id)) != SBPROV_OK)
            return failed("new", rc);
        for (size_t i = 0; i < ntok; i += 2) {
            size_t nl = strlen(tokens[i]), vl = strlen(tokens[i + 1]);
            char *name = malloc(nl / 2 + 1), *value = malloc(vl / 2 + 1);
            if (name == NULL || value == NULL || unhex(tokens[i], nl, name) != 0 ||
                unhex(tokens[i + 1], vl, value) != 0) {
                fprintf(stderr, "identity_tool: case %zu: bad hex\n", line_no);
                return 2;
            }
            rc = sbprov_identity_add(id, name, value);
            free(name);
            free(value);
            if (rc != SBPROV_OK) {
                fprintf(stderr, "identity_tool: case %zu: ", line_no);
                return failed("add", rc);
            }
        }
        if ((rc = canonical(&json, &json_len, id)) != SBPROV_OK)
            return failed("canonical JSON", rc);
        if ((rc = sbprov_identity_digest(digest, sizeof digest, NULL, id)) != SBPROV_OK)
            return failed("digest", rc);
        put_hex(json, json_len);
        printf(" %s\n", digest);
        free(json);
        sbprov_identity_free(id);
    }
    free(text);
    return 0;
}

/* --- probe ------------------------------------------------------------------ */

static int cmd_probe(int argc, char **argv)
{
    sbprov_identity_probe_options opts;
    sbprov_identity *id = NULL;
    sbprov_result rc;

    if ((rc = sbprov_identity_probe_options_init(&opts, sizeof opts)) != SBPROV_OK)
        return failed("options", rc);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--skip-local-mac") == 0) {
            opts.skip_local_mac = 1;
            continue;
        }
        if (val == NULL) {
            fprintf(stderr, "identity_tool: %s needs a value\n", arg);
            return 2;
        }
        i++;
        if (strcmp(arg, "--physical") == 0)
            opts.physical_globs = val;
        else if (strcmp(arg, "--virtual") == 0)
            opts.virtual_globs = val;
        else if (strcmp(arg, "--sysfs") == 0)
            opts.sysfs_root = val;
        else if (strcmp(arg, "--etc") == 0)
            opts.etc_root = val;
        else if (strcmp(arg, "--sources") == 0) {
            static const struct {
                const char *name;
                uint32_t bit;
            } names[] = {
                { "mac", SBPROV_IDENTITY_MAC },           { "machine_id", SBPROV_IDENTITY_MACHINE_ID },
                { "serial", SBPROV_IDENTITY_DMI_SERIAL }, { "product_uuid", SBPROV_IDENTITY_DMI_UUID },
                { "hostname", SBPROV_IDENTITY_HOSTNAME },
            };
            const char *p = val;
            opts.sources = 0;
            while (*p != '\0') {
                size_t n = strcspn(p, ","), k = 0;
                while (k < sizeof names / sizeof names[0] &&
                       !(strlen(names[k].name) == n && strncmp(names[k].name, p, n) == 0))
                    k++;
                if (k == sizeof names / sizeof names[0]) {
                    fprintf(stderr, "identity_tool: unknown source '%.*s'\n", (int)n, p);
                    return 2;
                }
                opts.sources |= names[k].bit;
                p += n + (p[n] == ',');
            }
        } else {
            fprintf(stderr, "identity_tool: unknown option %s\n", arg);
            return 2;
        }
    }
    if ((rc = sbprov_identity_probe(&id, &opts)) != SBPROV_OK)
        return failed("probe", rc);
    for (size_t i = 0; i < sbprov_identity_count(id); i++)
        for (size_t v = 0; v < sbprov_identity_value_count(id, i); v++)
            printf("%s=%s\n", sbprov_identity_name(id, i), sbprov_identity_value(id, i, v));
    sbprov_identity_free(id);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "canon") == 0)
        return cmd_canon();
    if (argc >= 2 && strcmp(argv[1], "cases") == 0)
        return cmd_cases(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "canon-cases") == 0)
        return cmd_canon_cases();
    if (argc >= 2 && strcmp(argv[1], "probe") == 0)
        return cmd_probe(argc - 2, argv + 2);
    fprintf(stderr, "usage: identity_tool canon | cases [N SEED] | canon-cases | probe [OPTIONS]\n");
    return 2;
}
