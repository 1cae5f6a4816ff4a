/* Device identity: attributes, parsing, canonical JSON, digest, ID templates,
 * option structs, the system probe (on fake sysfs trees) and identity scripts. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, pthread_sigmask */
#endif
#include "test_util.h"

#include <sbprov/identity.h>

#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- helpers ----------------------------------------------------------------- */

static sbprov_identity *identity_of(const char *text)
{
    sbprov_identity *id = NULL;
    assert_ok(sbprov_identity_parse(&id, text, strlen(text)));
    return id;
}

/* Canonical JSON of id into a static buffer. */
static const char *json_of(const sbprov_identity *id)
{
    static char buf[1 << 16];
    size_t len = 0;
    assert_ok(sbprov_identity_canonical_json(buf, sizeof buf, &len, id));
    assert_int_equal(len, strlen(buf));
    return buf;
}

static void assert_json(const char *text, const char *want)
{
    sbprov_identity *id = identity_of(text);
    assert_string_equal(json_of(id), want);
    sbprov_identity_free(id);
}

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(1024);
    assert_non_null(path);
    snprintf(path, 1024, "%s/sbprov-identity-XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    assert_int_equal(chmod(path, 0755), 0);
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

static void write_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    size_t len = strlen(content);
    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

/* mkdir -p for dir (a path under a test tree). */
static void make_dirs(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    mkdir(path, 0755);
}

static void file_at(const char *root, const char *rel, const char *content, mode_t mode)
{
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    make_dirs(dir);
    write_file(path, content, mode);
}

/* A fake /sys/class/net/<name> the way the kernel shows it. */
static void add_iface(const char *sysfs, const char *name, int type, int ifindex, const char *mac, int has_device)
{
    char rel[512], text[64];
    snprintf(rel, sizeof rel, "class/net/%s/type", name);
    snprintf(text, sizeof text, "%d\n", type);
    file_at(sysfs, rel, text, 0444);
    snprintf(rel, sizeof rel, "class/net/%s/ifindex", name);
    snprintf(text, sizeof text, "%d\n", ifindex);
    file_at(sysfs, rel, text, 0444);
    snprintf(rel, sizeof rel, "class/net/%s/address", name);
    snprintf(text, sizeof text, "%s\n", mac);
    file_at(sysfs, rel, text, 0444);
    if (has_device) {
        char link[1024], target[1024];
        snprintf(target, sizeof target, "%s/devices/pci0000:00/%s", sysfs, name);
        make_dirs(target);
        snprintf(link, sizeof link, "%s/class/net/%s/device", sysfs, name);
        assert_int_equal(symlink(target, link), 0);
    }
}

static sbprov_identity_probe_options probe_opts(const char *root)
{
    sbprov_identity_probe_options o;
    assert_ok(sbprov_identity_probe_options_init(&o, sizeof o));
    o.sysfs_root = root;
    o.etc_root = root;
    return o;
}

/* Probe and expect `mac`. */
static void assert_probe_mac(const sbprov_identity_probe_options *o, const char *mac)
{
    sbprov_identity *id = NULL;
    assert_ok(sbprov_identity_probe(&id, o));
    assert_int_equal(sbprov_identity_count(id), 1);
    assert_string_equal(sbprov_identity_name(id, 0), "mac");
    assert_string_equal(sbprov_identity_get(id, "mac"), mac);
    sbprov_identity_free(id);
}

static void assert_probe_fails(const sbprov_identity_probe_options *o, sbprov_result code, const char *needle)
{
    sbprov_identity *id = (sbprov_identity *)&id; /* must be reset to NULL */
    assert_fails_with(sbprov_identity_probe(&id, o), code, needle);
    assert_null(id);
}

static double elapsed_s(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* --- attributes -------------------------------------------------------------- */

static void test_add_and_read_back(void **state)
{
    sbprov_identity *id = NULL;
    (void)state;
    assert_ok(sbprov_identity_new(&id));
    assert_int_equal(sbprov_identity_count(id), 0);
    assert_ok(sbprov_identity_add(id, "mac", "00:11:22:33:44:55"));
    assert_ok(sbprov_identity_add(id, "serial", "A"));
    assert_ok(sbprov_identity_add(id, "serial", "B"));
    assert_ok(sbprov_identity_add(id, "empty", ""));
    assert_ok(sbprov_identity_add(id, "tab\tname", "tab\tvalue"));
    assert_ok(sbprov_identity_add(id, "bytes\xff", "\x80\x01 <&> \"'"));

    assert_int_equal(sbprov_identity_count(id), 5);
    assert_string_equal(sbprov_identity_name(id, 0), "mac");
    assert_string_equal(sbprov_identity_name(id, 1), "serial");
    assert_string_equal(sbprov_identity_name(id, 2), "empty");
    assert_int_equal(sbprov_identity_value_count(id, 0), 1);
    assert_int_equal(sbprov_identity_value_count(id, 1), 2);
    assert_string_equal(sbprov_identity_value(id, 1, 0), "A");
    assert_string_equal(sbprov_identity_value(id, 1, 1), "B");
    assert_string_equal(sbprov_identity_value(id, 2, 0), "");
    assert_string_equal(sbprov_identity_get(id, "serial"), "A");
    assert_string_equal(sbprov_identity_get(id, "bytes\xff"), "\x80\x01 <&> \"'");
    assert_string_equal(sbprov_identity_get(id, "tab\tname"), "tab\tvalue");

    /* Out of range and NULL. */
    assert_null(sbprov_identity_name(id, 5));
    assert_null(sbprov_identity_value(id, 1, 2));
    assert_null(sbprov_identity_value(id, 9, 0));
    assert_int_equal(sbprov_identity_value_count(id, 5), 0);
    assert_null(sbprov_identity_get(id, "Serial"));
    assert_null(sbprov_identity_get(id, "seria"));
    assert_null(sbprov_identity_get(id, NULL));
    assert_int_equal(sbprov_identity_count(NULL), 0);
    assert_null(sbprov_identity_name(NULL, 0));
    assert_int_equal(sbprov_identity_value_count(NULL, 0), 0);
    assert_null(sbprov_identity_value(NULL, 0, 0));
    assert_null(sbprov_identity_get(NULL, "mac"));

    assert_fails_with(sbprov_identity_add(NULL, "a", "b"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_add(id, NULL, "b"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_add(id, "a", NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_new(NULL), SBPROV_EINVAL, "NULL");
    sbprov_identity_free(id);
    sbprov_identity_free(NULL);
}

static void test_add_rejects_bad_names_and_values(void **state)
{
    sbprov_identity *id = NULL;
    char name[1026], value[4098];
    (void)state;
    assert_ok(sbprov_identity_new(&id));
    assert_fails_with(sbprov_identity_add(id, "", "x"), SBPROV_EPARSE, "attribute name is empty");
    assert_fails_with(sbprov_identity_add(id, "a=b", "x"), SBPROV_EPARSE, "\"a=b\" holds '=' at byte 2");
    assert_fails_with(sbprov_identity_add(id, "a\rb", "x"), SBPROV_EPARSE, "holds a CR at byte 2");
    assert_fails_with(sbprov_identity_add(id, "a\n", "x"), SBPROV_EPARSE, "holds an LF at byte 2");
    assert_fails_with(sbprov_identity_add(id, "mac", "a\rb"), SBPROV_EPARSE, "attribute \"mac\": value holds a CR");
    assert_fails_with(sbprov_identity_add(id, "mac", "ab\n"), SBPROV_EPARSE, "value holds an LF at byte 3");

    memset(name, 'n', 1024);
    name[1024] = '\0';
    assert_ok(sbprov_identity_add(id, name, "x"));
    name[1024] = 'n';
    name[1025] = '\0';
    assert_fails_with(sbprov_identity_add(id, name, "x"), SBPROV_EPARSE, "is 1025 bytes long; at most 1024");

    memset(value, 'v', 4096);
    value[4096] = '\0';
    assert_ok(sbprov_identity_add(id, "long", value));
    value[4096] = 'v';
    value[4097] = '\0';
    assert_fails_with(sbprov_identity_add(id, "long", value), SBPROV_EPARSE,
                      "attribute \"long\": value is 4097 bytes long; at most 4096");
    /* Nothing half-added. */
    assert_int_equal(sbprov_identity_count(id), 2);
    assert_int_equal(sbprov_identity_value_count(id, 1), 1);
    sbprov_identity_free(id);
}

static void test_limits_on_attributes_and_values(void **state)
{
    sbprov_identity *id = NULL;
    char name[32];
    (void)state;
    assert_ok(sbprov_identity_new(&id));
    for (int i = 0; i < 256; i++) {
        snprintf(name, sizeof name, "attr%d", i);
        assert_ok(sbprov_identity_add(id, name, "v"));
    }
    assert_fails_with(sbprov_identity_add(id, "one-more", "v"), SBPROV_EPARSE,
                      "too many attributes; an identity holds at most 256");
    /* An existing name still takes values, up to 256 of them. */
    for (int i = 1; i < 256; i++)
        assert_ok(sbprov_identity_add(id, "attr7", "v"));
    assert_fails_with(sbprov_identity_add(id, "attr7", "v"), SBPROV_EPARSE,
                      "attribute \"attr7\": too many values; an attribute holds at most 256");
    assert_int_equal(sbprov_identity_count(id), 256);
    assert_int_equal(sbprov_identity_value_count(id, 7), 256);
    /* The largest identity still has a canonical JSON and a digest. */
    {
        char digest[SBPROV_IDENTITY_DIGEST_SIZE];
        assert_ok(sbprov_identity_digest(digest, sizeof digest, NULL, id));
        static const char start[] = "{\"attr0\":\"v\",\"attr1\":\"v\",\"attr10\":\"v\"";
        assert_memory_equal(json_of(id), start, sizeof start - 1);
    }
    sbprov_identity_free(id);
}

/* --- parsing ----------------------------------------------------------------- */

static void test_parse_lines(void **state)
{
    sbprov_identity *id;
    (void)state;
    id = identity_of("mac=00:11:22:33:44:55\n\nserial=1\r\nserial=2\nkey=a=b=c\nempty=\n\r\n last = x \nmac=2");
    assert_int_equal(sbprov_identity_count(id), 5);
    assert_string_equal(sbprov_identity_name(id, 0), "mac");
    assert_int_equal(sbprov_identity_value_count(id, 0), 2);
    assert_string_equal(sbprov_identity_value(id, 0, 1), "2");
    assert_int_equal(sbprov_identity_value_count(id, 1), 2);
    assert_string_equal(sbprov_identity_value(id, 1, 0), "1"); /* CR removed */
    assert_string_equal(sbprov_identity_get(id, "key"), "a=b=c"); /* split at the first '=' */
    assert_string_equal(sbprov_identity_get(id, "empty"), "");
    assert_string_equal(sbprov_identity_get(id, " last "), " x "); /* blanks are kept */
    sbprov_identity_free(id);

    /* Not NUL-terminated: only len bytes are read. */
    {
        const char text[] = { 'a', '=', '1', '\n', 'b', '=', '2', 'X' };
        id = NULL;
        assert_ok(sbprov_identity_parse(&id, text, 7));
        assert_string_equal(sbprov_identity_get(id, "b"), "2");
        sbprov_identity_free(id);
    }
    /* Nothing at all is an empty identity. */
    id = NULL;
    assert_ok(sbprov_identity_parse(&id, NULL, 0));
    assert_int_equal(sbprov_identity_count(id), 0);
    sbprov_identity_free(id);
    id = identity_of("\n\r\n\n");
    assert_int_equal(sbprov_identity_count(id), 0);
    sbprov_identity_free(id);
}

static void test_parse_errors_name_the_line(void **state)
{
    static const struct {
        const char *text;
        size_t len;
        const char *needle;
    } bad[] = {
        { "mac=1\nserial=2\ngarbage\n", 0, "line 3: \"garbage\" has no '=' (expected key=value)" },
        { "=value\n", 0, "line 1: attribute name is empty" },
        { "a=1\n\n\n=x", 0, "line 4: attribute name is empty" },
        { "a=b\rc\n", 0, "line 1: attribute \"a\": value holds a CR at byte 2" },
        { "a\rb=c\n", 0, "line 1: attribute name \"a\\x0db\" holds a CR" },
        { "a=1\nb=2\0\n", 9, "line 2: NUL byte at column 4" },
        { "\0", 1, "line 1: NUL byte at column 1" },
        { "no equals\xff\x01", 0, "line 1: \"no equals\\xff\\x01\" has no '='" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sbprov_identity *id = (sbprov_identity *)&id;
        size_t len = bad[i].len != 0 ? bad[i].len : strlen(bad[i].text);
        assert_fails_with(sbprov_identity_parse(&id, bad[i].text, len), SBPROV_EPARSE, bad[i].needle);
        assert_null(id);
    }
    {
        /* A long line is shown cut short. */
        char text[300];
        memset(text, 'x', sizeof text - 1);
        text[sizeof text - 1] = '\0';
        sbprov_identity *id = NULL;
        assert_fails_with(sbprov_identity_parse(&id, text, strlen(text)), SBPROV_EPARSE, "xxx...\" has no '='");
    }
    {
        sbprov_identity *id = NULL;
        assert_fails_with(sbprov_identity_parse(NULL, "a=b", 3), SBPROV_EINVAL, "NULL");
        assert_fails_with(sbprov_identity_parse(&id, NULL, 3), SBPROV_EINVAL, "NULL");
    }
}

static void test_parse_limits(void **state)
{
    char *text = malloc(300 * 16);
    size_t n = 0;
    sbprov_identity *id = NULL;
    (void)state;
    assert_non_null(text);
    for (int i = 0; i < 257; i++)
        n += (size_t)sprintf(text + n, "k=%d\n", i);
    assert_fails_with(sbprov_identity_parse(&id, text, n), SBPROV_EPARSE, "line 257: attribute \"k\": too many values");
    n = 0;
    for (int i = 0; i < 257; i++)
        n += (size_t)sprintf(text + n, "k%d=1\n", i);
    assert_fails_with(sbprov_identity_parse(&id, text, n), SBPROV_EPARSE, "line 257: attribute \"k256\": too many attributes");
    free(text);
}

/* --- canonical JSON and digest ---------------------------------------------- */

static void test_canonical_json(void **state)
{
    (void)state;
    assert_json("mac=00:11:22:33:44:55", "{\"mac\":\"00:11:22:33:44:55\"}");
    /* Keys sorted by bytes (a prefix first, upper case before lower, UTF-8 after ASCII). */
    assert_json("b=2\na=1\nc=3\nc=4", "{\"a\":\"1\",\"b\":\"2\",\"c\":[\"3\",\"4\"]}");
    assert_json("\xc3\xa9=1\nz=2\nab=3\na=4\nZ=5\n~=6",
                "{\"Z\":\"5\",\"a\":\"4\",\"ab\":\"3\",\"z\":\"2\",\"~\":\"6\",\"\xc3\xa9\":\"1\"}");
    /* Repeated keys keep their order; empty values stay. */
    assert_json("k=2\nk=1\nk=\nk=2", "{\"k\":[\"2\",\"1\",\"\",\"2\"]}");
    assert_json("e=", "{\"e\":\"\"}");
    /* HTML characters, quotes and backslashes. */
    assert_json("x<y>=<a href=\"&\">\\</a>",
                "{\"x\\u003cy\\u003e\":\"\\u003ca href=\\\"\\u0026\\\"\\u003e\\\\\\u003c/a\\u003e\"}");
    /* Control characters: \b \f \t short, others \u00XX lower-case, DEL as is. */
    assert_json("c=\x01\x08\x0c\t\x0b\x1b\x1f\x7f/",
                "{\"c\":\"\\u0001\\b\\f\\t\\u000b\\u001b\\u001f\x7f/\"}");
    /* U+2028 and U+2029 escaped; other Unicode (astral too) as is. */
    assert_json("u=a\xe2\x80\xa8" "b\xe2\x80\xa9" "c \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd",
                "{\"u\":\"a\\u2028b\\u2029c \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\"}");
    /* Invalid UTF-8: every bad byte becomes U+FFFD (stray continuation,
     * truncated sequence, overlong, surrogate, above U+10FFFF). */
    assert_json("v=\x80|\xe2\x82|\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\xff",
                "{\"v\":\"\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                "\xef\xbf\xbd\"}");
    /* Names that the server reads as one key: it keeps the last (in byte order). */
    assert_json("k\xff=1\nk\xfe=2\nj=0", "{\"j\":\"0\",\"k\xef\xbf\xbd\":\"1\"}");
    assert_json("a\xef\xbf\xbd=1\na\x80=2", "{\"a\xef\xbf\xbd\":\"1\"}");
}

static void test_canonical_json_buffers(void **state)
{
    sbprov_identity *id = identity_of("mac=00:11:22:33:44:55"), *empty = NULL;
    static const char want[] = "{\"mac\":\"00:11:22:33:44:55\"}";
    char buf[64];
    size_t len = 0;
    (void)state;

    assert_fails_with(sbprov_identity_canonical_json(buf, sizeof want - 1, &len, id), SBPROV_EBUFS,
                      "too small");
    assert_int_equal(len, sizeof want);
    assert_ok(sbprov_identity_canonical_json(buf, len, &len, id));
    assert_string_equal(buf, want);
    assert_int_equal(len, sizeof want - 1);
    assert_ok(sbprov_identity_canonical_json(buf, sizeof buf, NULL, id));
    assert_fails_with(sbprov_identity_canonical_json(buf, 0, NULL, id), SBPROV_EBUFS, "too small");

    assert_ok(sbprov_identity_new(&empty));
    assert_fails_with(sbprov_identity_canonical_json(buf, sizeof buf, &len, empty), SBPROV_EINVAL,
                      "no attributes");
    assert_fails_with(sbprov_identity_canonical_json(buf, sizeof buf, &len, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_canonical_json(NULL, 10, &len, id), SBPROV_EINVAL, "NULL");
    sbprov_identity_free(empty);
    sbprov_identity_free(id);
}

static void test_digest(void **state)
{
    sbprov_identity *id = identity_of("mac=00:11:22:33:44:55"), *empty = NULL;
    char buf[SBPROV_IDENTITY_DIGEST_SIZE];
    size_t len = 0;
    (void)state;

    assert_ok(sbprov_identity_digest(buf, sizeof buf, &len, id));
    assert_string_equal(buf, "bfdbc2eced48df8a2609a8908dacf1a92d13febe35ff3c4a061caef57d30dc27");
    assert_int_equal(len, 64);
    sbprov_identity_free(id);

    id = identity_of("c=3\nb=2\nc=4\na=1");
    assert_ok(sbprov_identity_digest(buf, sizeof buf, NULL, id));
    assert_string_equal(buf, "5cf7a407c6d68c2ccd47da75a7bda9eb19b006a9de53ab38aece494c872882c4");
    assert_fails_with(sbprov_identity_digest(buf, 64, &len, id), SBPROV_EBUFS, "too small");
    assert_int_equal(len, 65);
    assert_fails_with(sbprov_identity_digest(NULL, 65, &len, id), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_digest(buf, sizeof buf, &len, NULL), SBPROV_EINVAL, "NULL");
    assert_ok(sbprov_identity_new(&empty));
    assert_fails_with(sbprov_identity_digest(buf, sizeof buf, &len, empty), SBPROV_EINVAL, "no attributes");
    sbprov_identity_free(empty);
    sbprov_identity_free(id);
}

/* --- ID templates ------------------------------------------------------------ */

static void assert_id(const sbprov_identity *id, const char *tpl, const char *want)
{
    char buf[200];
    size_t len = 0;
    assert_ok(sbprov_identity_format_id(buf, sizeof buf, &len, id, tpl));
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
}

static void test_format_id(void **state)
{
    sbprov_identity *id = identity_of("mac=AA:BB:CC:DD:EE:0F\nserial=SN-123.4\nserial=second\nsite=hq\n"
                                      "upper=ABC\nodd:name=x\nbraces=a{b}\nlong=" "0123456789012345678901234567890123456789"
                                      "0123456789012345678901234567890123456789012345678901234567890123456789");
    char buf[200];
    size_t len = 0;
    (void)state;

    assert_id(id, "gw-{mac:compact}", "gw-aabbccddee0f");
    assert_id(id, "{mac:lower}", "aa:bb:cc:dd:ee:0f");
    assert_id(id, "{site}-{serial:compact}", "hq-sn1234"); /* the first value */
    assert_id(id, "{site}.{serial:lower}", "hq.sn-123.4");
    assert_id(id, "{odd:name:lower}", "x"); /* the modifier follows the last ':' */
    assert_id(id, "plain-id", "plain-id");

    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "gw-{mac"), SBPROV_EPARSE,
                      "'{' at position 4 is not closed");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "gw-{a{mac}"), SBPROV_EPARSE,
                      "'{' at position 4 is not closed before the next '{'");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "gw-mac}"), SBPROV_EPARSE,
                      "'}' at position 7 has no matching '{'");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{mac:upper}"), SBPROV_EPARSE,
                      "unknown modifier \"upper\" at position 6");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{odd:name}"), SBPROV_EPARSE,
                      "unknown modifier \"name\"");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "gw-{}"), SBPROV_EPARSE,
                      "'{' at position 4 names no attribute");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "gw-{:lower}"), SBPROV_EPARSE,
                      "names no attribute");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "gw-{uuid}"), SBPROV_ENOTFOUND,
                      "the identity has no attribute \"uuid\"");
    /* Results must be valid registration IDs. */
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{upper}"), SBPROV_EID,
                      "ID from template: upper-case 'A' at position 1");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{mac}"), SBPROV_EID, "upper-case");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{{{site}}}"), SBPROV_EID,
                      "'{' at position 1 is not allowed");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "x{{}}"), SBPROV_EID, "'{'");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{braces}"), SBPROV_EID, "'{'");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, ""), SBPROV_EID, "empty");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "-{site}"), SBPROV_EID, "must start");
    assert_fails_with(sbprov_identity_format_id(buf, sizeof buf, &len, id, "{long}-{long}"), SBPROV_EID,
                      "221 characters, at most 128");
    /* Buffers. */
    assert_fails_with(sbprov_identity_format_id(buf, 5, &len, id, "gw-{site}"), SBPROV_EBUFS, "too small");
    assert_int_equal(len, 6);
    assert_ok(sbprov_identity_format_id(buf, 6, &len, id, "gw-{site}"));
    assert_string_equal(buf, "gw-hq");
    assert_fails_with(sbprov_identity_format_id(NULL, 6, &len, id, "x"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_format_id(buf, 6, &len, NULL, "x"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_format_id(buf, 6, &len, id, NULL), SBPROV_EINVAL, "NULL");
    sbprov_identity_free(id);
}

/* --- option structs ---------------------------------------------------------- */

typedef struct bigger_script_options {
    sbprov_identity_script_options base;
    uint64_t future_option;
} bigger_script_options;

static void test_options_struct_size(void **state)
{
    sbprov_identity_script_options so;
    sbprov_identity_probe_options po;
    bigger_script_options big;
    unsigned char raw[64];
    sbprov_identity *id = NULL;
    (void)state;

    assert_ok(sbprov_identity_script_options_init(&so, sizeof so));
    assert_int_equal(so.struct_size, sizeof so);
    assert_int_equal(so.timeout_ms, 10000);
    assert_int_equal(so.max_output, 65536);
    assert_ok(sbprov_identity_probe_options_init(&po, sizeof po));
    assert_int_equal(po.struct_size, sizeof po);
    assert_int_equal(po.sources, SBPROV_IDENTITY_MAC);
    assert_int_equal(po.skip_local_mac, 0);
    assert_null(po.physical_globs);
    assert_null(po.virtual_globs);
    assert_null(po.sysfs_root);
    assert_null(po.etc_root);

    /* Smaller than the first version, NULL, or garbage. */
    assert_fails_with(sbprov_identity_script_options_init(&so, sizeof so - 1), SBPROV_EINVAL,
                      "identity script options: struct_size 15 is smaller than the first version (16 bytes)");
    assert_fails_with(sbprov_identity_script_options_init(NULL, sizeof so), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_probe_options_init(&po, 8), SBPROV_EINVAL, "smaller than the first version");
    assert_fails_with(sbprov_identity_probe_options_init(NULL, sizeof po), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_probe_options_init(&po, 1u << 20), SBPROV_EINVAL, "implausibly large");

    /* A caller with a newer, larger struct: init zeroes the tail. */
    memset(&big, 0xa5, sizeof big);
    assert_ok(sbprov_identity_script_options_init(&big.base, sizeof big));
    assert_int_equal(big.base.struct_size, sizeof big);
    assert_int_equal(big.future_option, 0);
    big.base.timeout_ms = 1;
    assert_fails_with(sbprov_identity_from_script(&id, "/nonexistent/script", &big.base), SBPROV_ESCRIPT,
                      "cannot run it"); /* accepted: the tail is zero */
    big.future_option = 1;
    assert_fails_with(sbprov_identity_from_script(&id, "/nonexistent/script", &big.base), SBPROV_EINVAL,
                      "this library knows only the first 16 bytes");
    assert_null(id);

    /* Uninitialised structs are refused before anything runs. */
    memset(&so, 0, sizeof so);
    assert_fails_with(sbprov_identity_from_script(&id, "/bin/true", &so), SBPROV_EINVAL,
                      "struct_size 0 is smaller");
    memset(&po, 0, sizeof po);
    assert_fails_with(sbprov_identity_probe(&id, &po), SBPROV_EINVAL, "struct_size 0 is smaller");
    po.struct_size = (size_t)-1;
    assert_fails_with(sbprov_identity_probe(&id, &po), SBPROV_EINVAL, "implausibly large");

    /* The internal helpers directly. */
    memset(raw, 0, sizeof raw);
    assert_ok(sbprov__options_check(raw, 32, 16, 24, "x"));
    raw[30] = 1;
    assert_fails_with(sbprov__options_check(raw, 32, 16, 24, "x"), SBPROV_EINVAL, "x: byte 30 is set");
    assert_ok(sbprov__options_check(raw, 24, 16, 24, "x")); /* byte 30 lies outside the caller's struct */
    assert_ok(sbprov__options_check(raw, 16, 16, 24, "x"));
    assert_fails_with(sbprov__options_check(raw, 15, 16, 24, "x"), SBPROV_EINVAL, "x: struct_size 15");
    assert_fails_with(sbprov__options_check(NULL, 16, 16, 24, "x"), SBPROV_EINVAL, "x: NULL");
    {
        /* load: an older caller's struct (16 of 24 bytes) leaves the rest zero. */
        unsigned char dst[24];
        size_t sixteen = 16;
        memset(raw, 0x11, sizeof raw);
        memcpy(raw, &sixteen, sizeof sixteen);
        memset(dst, 0xff, sizeof dst);
        assert_ok(sbprov__options_load(dst, raw, 16, 24, "x"));
        assert_memory_equal(dst, raw, 16);
        for (size_t i = 16; i < 24; i++)
            assert_int_equal(dst[i], 0);
        assert_fails_with(sbprov__options_load(dst, NULL, 16, 24, "x"), SBPROV_EINVAL, "x: NULL");
        assert_fails_with(sbprov__options_init(raw, 4, 16, "x"), SBPROV_EINVAL, "x: struct_size 4");
    }
}

/* --- probe ------------------------------------------------------------------- */

static void test_probe_picks_lowest_physical_ethernet(void **state)
{
    char *root = make_tmpdir();
    sbprov_identity_probe_options o = probe_opts(root);
    (void)state;

    add_iface(root, "lo", 772, 1, "00:00:00:00:00:00", 0);
    add_iface(root, "sit0", 776, 2, "00:00:00:00", 0);
    add_iface(root, "ib0", 32, 3, "80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:07:7f:f1", 1);
    add_iface(root, "docker0", 1, 5, "02:42:ac:11:00:01", 0);
    add_iface(root, "veth1234", 1, 6, "02:42:ac:11:00:02", 1); /* virtual by name, even with a device link */
    add_iface(root, "eth9", 1, 7, "00:16:3e:00:00:07", 0);      /* virtual: no device link */
    add_iface(root, "enp3s0", 1, 8, "00:16:3e:00:00:08", 1);
    add_iface(root, "eth1", 1, 10, "00:16:3e:00:00:10", 1);
    add_iface(root, "wlan0", 1, 12, "00:16:3e:00:00:12", 1);
    file_at(root, "class/net/bonding_masters", "bond0\n", 0644);
    assert_probe_mac(&o, "00:16:3e:00:00:08");

    /* physical_globs overrides the name list and the device-link rule. */
    o.physical_globs = "veth*";
    assert_probe_mac(&o, "02:42:ac:11:00:02");
    o.physical_globs = " eth9 , docker0";
    assert_probe_mac(&o, "02:42:ac:11:00:01");
    o.physical_globs = "eth9";
    assert_probe_mac(&o, "00:16:3e:00:00:07");
    o.physical_globs = NULL;

    /* virtual_globs replaces the default list. */
    o.virtual_globs = "";
    assert_probe_mac(&o, "02:42:ac:11:00:02"); /* veth1234 has a device link */
    o.virtual_globs = "veth*,enp*";
    assert_probe_mac(&o, "00:16:3e:00:00:10");
    o.virtual_globs = "*";
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "eth1: virtual (name matches '*')");
    o.physical_globs = "wlan0";
    assert_probe_mac(&o, "00:16:3e:00:00:12");
    remove_tree(root);
}

static void test_probe_mac_rules(void **state)
{
    char *root = make_tmpdir();
    sbprov_identity_probe_options o = probe_opts(root);
    (void)state;

    add_iface(root, "eth0", 1, 2, "02:00:00:00:00:02", 1); /* locally administered */
    add_iface(root, "eth1", 1, 3, "00:00:00:00:00:00", 1); /* all zeros: never */
    add_iface(root, "eth2", 1, 4, "AA:00:00:00:00:04", 1); /* 0xaa has the local bit too */
    add_iface(root, "eth3", 1, 5, "not-a-mac", 1);
    add_iface(root, "eth4", 1, 6, "00:1b:21:0a:0b:0c", 1);
    add_iface(root, "eth5", 1, 1, "00:1b:21:0a:0b:0d", 1);
    file_at(root, "class/net/eth5/ifindex", "one\n", 0444);
    assert_probe_mac(&o, "02:00:00:00:00:02");
    o.skip_local_mac = 1;
    assert_probe_mac(&o, "00:1b:21:0a:0b:0c");
    file_at(root, "class/net/eth4/address", "00:1B:21:0A:0B:0C\n", 0444);
    assert_probe_mac(&o, "00:1b:21:0a:0b:0c"); /* written the way sysfs writes it */
    o.virtual_globs = "eth4";
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "eth0: MAC 02:00:00:00:00:02 is locally administered");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "eth1: MAC is all zeros");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "eth3: address 'not-a-mac' is not a MAC");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "eth5: ifindex 'one' is not a number");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "mac: no physical Ethernet interface in");
    remove_tree(root);
}

static void test_probe_failures(void **state)
{
    char *root = make_tmpdir();
    sbprov_identity_probe_options o = probe_opts(root);
    char path[1024];
    sbprov_identity *id = NULL;
    (void)state;

    /* No class/net at all. */
    assert_probe_fails(&o, SBPROV_EIO, "mac: cannot list network interfaces in");
    /* Empty, then only loopback and virtual. */
    snprintf(path, sizeof path, "%s/class/net", root);
    make_dirs(path);
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "(0 examined)");
    add_iface(root, "lo", 772, 1, "00:00:00:00:00:00", 0);
    add_iface(root, "br0", 1, 2, "00:16:3e:00:00:02", 0);
    add_iface(root, "tap0", 1, 3, "00:16:3e:00:00:03", 0);
    add_iface(root, "usb0", 1, 4, "00:16:3e:00:00:04", 0);
    assert_probe_fails(&o, SBPROV_ENOTFOUND,
                       "4 examined: ");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "lo: type 772, not Ethernet");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "br0: virtual (name matches 'br*')");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "tap0: virtual (name matches 'tap*')");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "usb0: virtual (no device link)");
    /* A file that cannot be read is an I/O error, not a skipped interface. */
    snprintf(path, sizeof path, "%s/class/net/usb0/type", root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_probe_fails(&o, SBPROV_EIO, "class/net/usb0/type: Is a directory");

    /* Bad options. */
    o.sources = 0;
    assert_probe_fails(&o, SBPROV_EINVAL, "sources is 0");
    o.sources = 1u << 7;
    assert_probe_fails(&o, SBPROV_EINVAL, "unknown source bits 0x80");
    o.sources = SBPROV_IDENTITY_MAC;
    {
        char globs[300];
        memset(globs, 'x', sizeof globs - 1);
        globs[sizeof globs - 1] = '\0';
        o.physical_globs = globs;
        assert_probe_fails(&o, SBPROV_EINVAL, "physical_globs: glob 1 is 299 bytes long");
        o.physical_globs = NULL;
    }
    assert_fails_with(sbprov_identity_probe(NULL, &o), SBPROV_EINVAL, "NULL");
    (void)id;
    remove_tree(root);
}

static void test_probe_machine_id_and_dmi(void **state)
{
    char *root = make_tmpdir();
    sbprov_identity_probe_options o = probe_opts(root);
    sbprov_identity *id = NULL;
    char host[300];
    (void)state;

    add_iface(root, "eth0", 1, 2, "00:16:3e:00:00:02", 1);
    file_at(root, "etc/machine-id", "0123456789abcdef0123456789ABCDEF\n", 0444);
    file_at(root, "class/dmi/id/product_serial", "  SN 42-A \n", 0400);
    file_at(root, "class/dmi/id/product_uuid", "4c4c4544-0042-3510-8052-b4c04f384d32\n", 0444);
    o.sources = SBPROV_IDENTITY_HOSTNAME | SBPROV_IDENTITY_DMI_UUID | SBPROV_IDENTITY_DMI_SERIAL |
                SBPROV_IDENTITY_MACHINE_ID | SBPROV_IDENTITY_MAC;
    assert_ok(sbprov_identity_probe(&id, &o));
    /* Always in the order of the source bits. */
    assert_int_equal(sbprov_identity_count(id), 5);
    assert_string_equal(sbprov_identity_name(id, 0), "mac");
    assert_string_equal(sbprov_identity_name(id, 1), "machine_id");
    assert_string_equal(sbprov_identity_name(id, 2), "serial");
    assert_string_equal(sbprov_identity_name(id, 3), "product_uuid");
    assert_string_equal(sbprov_identity_name(id, 4), "hostname");
    assert_string_equal(sbprov_identity_value(id, 1, 0), "0123456789abcdef0123456789ABCDEF");
    assert_string_equal(sbprov_identity_value(id, 2, 0), "SN 42-A"); /* trimmed */
    assert_string_equal(sbprov_identity_value(id, 3, 0), "4c4c4544-0042-3510-8052-b4c04f384d32");
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_string_equal(sbprov_identity_value(id, 4, 0), host);
    sbprov_identity_free(id);

    /* Without MAC, no sysfs network tree is needed; a trailing '/' on roots is fine. */
    {
        char root_slash[1100];
        snprintf(root_slash, sizeof root_slash, "%s//", root);
        o.sysfs_root = root_slash;
        o.etc_root = root_slash;
        o.sources = SBPROV_IDENTITY_MACHINE_ID;
        assert_ok(sbprov_identity_probe(&id, &o));
        assert_string_equal(sbprov_identity_get(id, "machine_id"), "0123456789abcdef0123456789ABCDEF");
        sbprov_identity_free(id);
        o.sysfs_root = root;
        o.etc_root = root;
    }

    /* machine-id: absent, empty, malformed, unreadable. */
    o.sources = SBPROV_IDENTITY_MACHINE_ID;
    file_at(root, "etc/machine-id", "uninitialized\n", 0444);
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "machine-id holds \"uninitialized\", not 32 hex digits");
    file_at(root, "etc/machine-id", "0123456789abcdef0123456789abcde\n", 0444);
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "not 32 hex digits");
    file_at(root, "etc/machine-id", "0123456789abcdef0123456789abcdeg", 0444);
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "not 32 hex digits");
    file_at(root, "etc/machine-id", "\n", 0444);
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "etc/machine-id is empty");
    {
        char path[1024];
        snprintf(path, sizeof path, "%s/etc/machine-id", root);
        assert_int_equal(unlink(path), 0);
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "machine_id: ");
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "/etc/machine-id does not exist");
        assert_int_equal(mkdir(path, 0755), 0);
        assert_probe_fails(&o, SBPROV_EIO, "machine-id: Is a directory");
    }

    /* DMI: absent, empty, too long. */
    o.sources = SBPROV_IDENTITY_DMI_SERIAL;
    file_at(root, "class/dmi/id/product_serial", " \t\n", 0444);
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "serial: ");
    assert_probe_fails(&o, SBPROV_ENOTFOUND, "class/dmi/id/product_serial is empty");
    {
        char big[5000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        file_at(root, "class/dmi/id/product_serial", big, 0444);
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "product_serial is longer than 4095 bytes");
        file_at(root, "class/dmi/id/product_serial", "line one\nline two\n", 0444);
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "holds a value that cannot be an attribute");
    }
    o.sources = SBPROV_IDENTITY_DMI_UUID;
    {
        char path[1024];
        snprintf(path, sizeof path, "%s/class/dmi/id/product_uuid", root);
        assert_int_equal(unlink(path), 0);
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "product_uuid: ");
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "class/dmi/id/product_uuid does not exist");
    }
    remove_tree(root);
}

/* An unreadable DMI file (root-only on real systems) is "not available". Root
 * reads anything, so as root the probe runs in a child that dropped to nobody. */
static void test_probe_unreadable_dmi(void **state)
{
    char *root = make_tmpdir();
    sbprov_identity_probe_options o = probe_opts(root);
    (void)state;

    file_at(root, "class/dmi/id/product_serial", "SN1\n", 0400);
    o.sources = SBPROV_IDENTITY_DMI_SERIAL;
    if (geteuid() != 0) {
        assert_probe_fails(&o, SBPROV_ENOTFOUND, "product_serial is not readable (Permission denied");
    } else {
        int status = 0;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            sbprov_identity *id = NULL;
            sbprov_result rc;
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            rc = sbprov_identity_probe(&id, &o);
            sbprov_identity_free(id);
            _exit(rc == SBPROV_ENOTFOUND && strstr(sbprov_last_error(), "is not readable (Permission denied") ? 0
                                                                                                              : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    remove_tree(root);
}

/* --- identity scripts -------------------------------------------------------- */

typedef struct script_env {
    char *dir;
} script_env;

static int script_setup(void **state)
{
    script_env *env = calloc(1, sizeof *env);
    if (env == NULL)
        return -1;
    env->dir = make_tmpdir();
    *state = env;
    return 0;
}

static int script_teardown(void **state)
{
    script_env *env = *state;
    remove_tree(env->dir);
    free(env);
    return 0;
}

/* Write an executable /bin/sh script; returns its path (static buffer). */
static const char *script(void **state, const char *name, const char *body)
{
    static char path[1024];
    script_env *env = *state;
    char text[8192];
    snprintf(path, sizeof path, "%s/%s", env->dir, name);
    snprintf(text, sizeof text, "#!/bin/sh\n%s", body);
    write_file(path, text, 0755);
    return path;
}

static sbprov_result run(sbprov_identity **out, const char *path, uint32_t timeout_ms, uint32_t max_output)
{
    sbprov_identity_script_options o;
    assert_ok(sbprov_identity_script_options_init(&o, sizeof o));
    o.timeout_ms = timeout_ms;
    o.max_output = max_output;
    *out = (sbprov_identity *)out; /* must be set to NULL on failure */
    return sbprov_identity_from_script(out, path, &o);
}

static void test_script_good_output(void **state)
{
    sbprov_identity *id = NULL;
    const char *path = script(state, "good",
                              "echo mac=00:11:22:33:44:55\n"
                              "printf 'serial=1\\r\\n\\nserial=2\\n'\n"
                              "echo \"path=$PATH\"\n"
                              "echo \"home=${HOME-unset}\"\n"
                              "echo \"vars=$(env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' | tr '\\n' ' ')\"\n"
                              "if read -r line; then echo stdin=data; else echo stdin=eof; fi\n"
                              "echo 'to stderr' >&2\n"
                              "if [ -e /proc/$$/fd/42 ]; then echo fd42=open; else echo fd42=closed; fi\n"
                              "echo \"sigign=$(grep SigIgn /proc/$$/status | cut -f2)\"\n"
                              "echo \"sigblk=$(grep SigBlk /proc/$$/status | cut -f2)\"\n");
    int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: must still not reach the script */
    sigset_t block, old;
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);

    assert_true(leak >= 0);
    assert_int_equal(dup2(leak, 42), 42);
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);

    assert_ok(run(&id, path, 5000, 0));

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, old_pipe);
    close(42);
    close(leak);

    assert_string_equal(sbprov_identity_get(id, "mac"), "00:11:22:33:44:55");
    assert_int_equal(sbprov_identity_value_count(id, 1), 2);
    assert_string_equal(sbprov_identity_value(id, 1, 0), "1");
    assert_string_equal(sbprov_identity_value(id, 1, 1), "2");
    assert_string_equal(sbprov_identity_get(id, "path"), "/usr/sbin:/usr/bin:/sbin:/bin");
    assert_string_equal(sbprov_identity_get(id, "home"), "unset");
    assert_string_equal(sbprov_identity_get(id, "vars"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin ");
    assert_string_equal(sbprov_identity_get(id, "stdin"), "eof");
    assert_string_equal(sbprov_identity_get(id, "fd42"), "closed");
    /* No standard signal (1..31) ignored or blocked. (glibc's posix_spawn may
     * leave its internal signals 32 and 33 ignored: harmless, exec'd glibc
     * programs install their own handlers for them.) */
    assert_int_equal(strtoull(sbprov_identity_get(id, "sigign"), NULL, 16) & 0x7fffffffull, 0);
    assert_int_equal(strtoull(sbprov_identity_get(id, "sigblk"), NULL, 16) & 0x7fffffffull, 0);
    sbprov_identity_free(id);

    /* NULL options mean the defaults. */
    assert_ok(sbprov_identity_from_script(&id, script(state, "small", "echo a=b\n"), NULL));
    assert_string_equal(sbprov_identity_get(id, "a"), "b");
    sbprov_identity_free(id);
}

static void test_script_exit_and_signal(void **state)
{
    sbprov_identity *id;
    assert_fails_with(run(&id, script(state, "exit3", "echo mac=1\nexit 3\n"), 5000, 0), SBPROV_ESCRIPT,
                      "exited with status 3");
    assert_null(id);
    assert_fails_with(run(&id, script(state, "term", "echo mac=1\nkill -TERM $$\nsleep 5\n"), 5000, 0),
                      SBPROV_ESCRIPT, "killed by signal 15 (SIGTERM)");
    assert_fails_with(run(&id, script(state, "segv", "kill -SEGV $$\n"), 5000, 0), SBPROV_ESCRIPT,
                      "killed by signal 11 (SIGSEGV)");
    assert_null(id);
}

static void test_script_timeouts(void **state)
{
    sbprov_identity *id;
    struct timespec start;
    script_env *env = *state;
    char pidfile[1100], body[1400], stat_path[64], buf[512];
    long child = 0;
    FILE *f;

    /* Hangs: killed at the deadline, with what it started. */
    snprintf(pidfile, sizeof pidfile, "%s/bg.pid", env->dir);
    snprintf(body, sizeof body, "echo mac=1\nsleep 30 &\necho $! > '%s'\nsleep 30\n", pidfile);
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_fails_with(run(&id, script(state, "hang", body), 300, 0), SBPROV_ETIMEOUT,
                      "still running after 300 ms; killed");
    assert_true(elapsed_s(&start) < 3.0);
    assert_null(id);
    f = fopen(pidfile, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &child), 1);
    fclose(f);
    /* The background sleep got SIGKILL too: gone, or a zombie awaiting its new parent. */
    for (int i = 0; i < 100; i++) {
        snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", child);
        f = fopen(stat_path, "r");
        if (f == NULL)
            break;
        buf[0] = '\0';
        if (fgets(buf, sizeof buf, f) == NULL)
            buf[0] = '\0';
        fclose(f);
        if (strstr(buf, ") Z ") != NULL)
            break;
        usleep(10000);
        if (i == 99)
            fail_msg("background process %ld of the timed-out script is still alive: %s", child, buf);
    }

    /* Closes stdout, keeps running. */
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_fails_with(run(&id, script(state, "closed", "echo mac=1\nexec >&-\nsleep 30\n"), 300, 0),
                      SBPROV_ETIMEOUT, "still running after 300 ms");
    assert_true(elapsed_s(&start) < 3.0);

    /* Exits while something it started keeps stdout open: done at once. */
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_ok(run(&id, script(state, "bg", "sleep 3 &\necho mac=1\n"), 5000, 0));
    assert_true(elapsed_s(&start) < 2.0);
    assert_string_equal(sbprov_identity_get(id, "mac"), "1");
    sbprov_identity_free(id);
}

static void test_script_bad_output(void **state)
{
    sbprov_identity *id;
    struct timespec start;

    assert_fails_with(run(&id, script(state, "garbage", "echo mac=1\necho 'hello world'\n"), 5000, 0),
                      SBPROV_EPARSE, "output line 2: \"hello world\" has no '='");
    assert_null(id);
    assert_fails_with(run(&id, script(state, "nul", "printf 'a=1\\000\\n'\n"), 5000, 0), SBPROV_EPARSE,
                      "line 1: NUL byte");
    assert_fails_with(run(&id, script(state, "nothing", "exit 0\n"), 5000, 0), SBPROV_ESCRIPT,
                      "printed no attributes (0 bytes of output)");
    assert_fails_with(run(&id, script(state, "blank", "echo; echo\n"), 5000, 0), SBPROV_ESCRIPT,
                      "printed no attributes (2 bytes");
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_fails_with(run(&id, script(state, "flood", "yes mac=00:11:22:33:44:55 | head -c 10000000\n"), 5000, 0),
                      SBPROV_ESCRIPT, "printed more than 65536 bytes (max_output)");
    assert_true(elapsed_s(&start) < 3.0);
    /* Exactly max_output bytes is fine; one more is not. */
    assert_ok(run(&id, script(state, "exact", "printf 'a=12345678\\n'\n"), 5000, 11));
    sbprov_identity_free(id);
    assert_fails_with(run(&id, script(state, "over", "printf 'a=123456789\\n'\n"), 5000, 11), SBPROV_ESCRIPT,
                      "printed more than 11 bytes");
    assert_null(id);
}

static void test_script_cannot_run(void **state)
{
    sbprov_identity *id;
    script_env *env = *state;
    char path[1100];

    snprintf(path, sizeof path, "%s/plain", env->dir);
    write_file(path, "#!/bin/sh\necho a=b\n", 0644);
    assert_fails_with(run(&id, path, 5000, 0), SBPROV_ESCRIPT, "cannot run it: Permission denied");
    assert_true(strstr(sbprov_last_error(), path) != NULL);
    assert_null(id);
    snprintf(path, sizeof path, "%s/missing", env->dir);
    assert_fails_with(run(&id, path, 5000, 0), SBPROV_ESCRIPT, "cannot run it: No such file or directory");
    assert_fails_with(run(&id, env->dir, 5000, 0), SBPROV_ESCRIPT, "cannot run it: Permission denied");
    snprintf(path, sizeof path, "%s/noshebang", env->dir);
    write_file(path, "echo a=b\n", 0755);
    assert_fails_with(run(&id, path, 5000, 0), SBPROV_ESCRIPT, "cannot run it: Exec format error");

    assert_fails_with(sbprov_identity_from_script(NULL, "/bin/true", NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_from_script(&id, NULL, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_identity_from_script(&id, "", NULL), SBPROV_EINVAL, "empty path");
}

/* A daemon that closed stdin, stdout and stderr: the pipes get fds 0..2. */
static void test_script_with_closed_stdio(void **state)
{
    const char *path = script(state, "stdio", "echo a=b\nif [ -e /proc/$$/fd/3 ]; then echo fd3=open; fi\n");
    int status = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sbprov_identity *id = NULL;
        sbprov_result rc;
        close(0);
        close(1);
        close(2);
        rc = sbprov_identity_from_script(&id, path, NULL);
        int ok = rc == SBPROV_OK && sbprov_identity_count(id) == 1 && strcmp(sbprov_identity_get(id, "a"), "b") == 0;
        sbprov_identity_free(id);
        if (ok) {
            /* And a failed exec is still reported as such. */
            rc = sbprov_identity_from_script(&id, "/nonexistent/script", NULL);
            ok = rc == SBPROV_ESCRIPT && strstr(sbprov_last_error(), "cannot run it") != NULL;
        }
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_read_back),
        cmocka_unit_test(test_add_rejects_bad_names_and_values),
        cmocka_unit_test(test_limits_on_attributes_and_values),
        cmocka_unit_test(test_parse_lines),
        cmocka_unit_test(test_parse_errors_name_the_line),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_canonical_json),
        cmocka_unit_test(test_canonical_json_buffers),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_format_id),
        cmocka_unit_test(test_options_struct_size),
        cmocka_unit_test(test_probe_picks_lowest_physical_ethernet),
        cmocka_unit_test(test_probe_mac_rules),
        cmocka_unit_test(test_probe_failures),
        cmocka_unit_test(test_probe_machine_id_and_dmi),
        cmocka_unit_test(test_probe_unreadable_dmi),
        cmocka_unit_test_setup_teardown(test_script_good_output, script_setup, script_teardown),
        cmocka_unit_test_setup_teardown(test_script_exit_and_signal, script_setup, script_teardown),
        cmocka_unit_test_setup_teardown(test_script_timeouts, script_setup, script_teardown),
        cmocka_unit_test_setup_teardown(test_script_bad_output, script_setup, script_teardown),
        cmocka_unit_test_setup_teardown(test_script_cannot_run, script_setup, script_teardown),
        cmocka_unit_test_setup_teardown(test_script_with_closed_stdio, script_setup, script_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
