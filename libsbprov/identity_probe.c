/* Identity attributes from this system: the MAC of the first physical
 * Ethernet interface, /etc/machine-id, DMI serial and UUID, the host name
 * (docs/identity.md). Paths are relative to sysfs_root and etc_root so tests
 * can point them at a fake tree. */
#include "identity_internal.h"

#include "error.h"
#include "options.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROBE_OPTIONS_V1_SIZE sizeof(sbprov_identity_probe_options)
#define ALL_SOURCES                                                                                    \
    (SBPROV_IDENTITY_MAC | SBPROV_IDENTITY_MACHINE_ID | SBPROV_IDENTITY_DMI_SERIAL | SBPROV_IDENTITY_DMI_UUID | \
     SBPROV_IDENTITY_HOSTNAME)
#define ARPHRD_ETHER_TYPE 1
/* Attribute files are short; anything longer is not what we expect. */
#define MAX_FILE 4096

static const char default_virtual_globs[] = "lo,dummy*,veth*,br*,docker*,virbr*,tun*,tap*,gretap*,erspan*,vxlan*,"
                                            "macvlan*,macvtap*,bond*,team*,wg*,vlan*,cali*,flannel*,cni*,podman*,zt*";

sbprov_result sbprov_identity_probe_options_init(sbprov_identity_probe_options *opts, size_t struct_size)
{
    sbprov_result rc = sbprov__options_init(opts, struct_size, PROBE_OPTIONS_V1_SIZE, "identity probe options");
    if (rc != SBPROV_OK)
        return rc;
    opts->sources = SBPROV_IDENTITY_MAC;
    return SBPROV_OK;
}

/* Root without trailing slashes ("/" becomes ""), so root + "/class/net" is clean. */
static void trim_root(char *out, size_t size, const char *root)
{
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        n--;
    snprintf(out, size, "%.*s", (int)n, root);
}

/* Read a small file whole into buf (NUL-terminated). 0, or an errno value;
 * EFBIG if it does not fit. */
static int read_small_file(const char *path, char *buf, size_t size, size_t *len)
{
    int fd, err = 0;
    size_t n = 0;

    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno;
    for (;;) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == size - 1) {
            char extra;
            ssize_t more;
            do
                more = read(fd, &extra, 1);
            while (more < 0 && errno == EINTR);
            if (more != 0)
                err = more > 0 ? EFBIG : errno;
            break;
        }
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return err;
}

/* Strip ASCII whitespace at both ends of buf (len bytes) in place. */
static size_t trim(char *buf, size_t len)
{
    size_t start = 0;
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\n' ||
                       buf[len - 1] == '\r' || buf[len - 1] == '\v' || buf[len - 1] == '\f'))
        len--;
    while (start < len && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\n' || buf[start] == '\r' ||
                           buf[start] == '\v' || buf[start] == '\f'))
        start++;
    memmove(buf, buf + start, len - start);
    buf[len - start] = '\0';
    return len - start;
}

/* 1 if name matches one of the comma-separated globs (blanks around each
 * glob are ignored); *which receives the glob (for messages). */
static int matches_globs(const char *name, const char *globs, char *which, size_t which_size)
{
    const char *p = globs;

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        char glob[256];

        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0 && n < sizeof glob) {
            memcpy(glob, p, n);
            glob[n] = '\0';
            if (fnmatch(glob, name, 0) == 0) {
                snprintf(which, which_size, "%s", glob);
                return 1;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

static sbprov_result check_globs(const char *globs, const char *what)
{
    const char *p = globs;
    size_t i = 0;

    if (globs == NULL)
        return SBPROV_OK;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n >= 256)
            return sbprov__fail(SBPROV_EINVAL, "%s: glob %zu is %zu bytes long; at most 255 are allowed", what, i + 1,
                                n);
        if (end == NULL)
            return SBPROV_OK;
        p = end + 1;
        i++;
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse "aa:bb:cc:dd:ee:ff" (sysfs writes lower-case hex) into 6 bytes. */
static int parse_mac(const char *s, unsigned char mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(s[3 * i]), lo = hi < 0 ? -1 : hex_digit(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || s[3 * i + 2] != (i == 5 ? '\0' : ':'))
            return 0;
        mac[i] = (unsigned char)(hi << 4 | lo);
    }
    return 1;
}

/* Parse a non-negative decimal integer that fills s. */
static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* Append a "name: reason" note to the summary of rejected interfaces. */
static void note(sbprov__text *notes, const char *fmt, ...) SBPROV__PRINTF(2, 3);
static void note(sbprov__text *notes, const char *fmt, ...)
{
    char line[384];
    va_list ap;

    if (notes->len > 0)
        sbprov__text_append(notes, "; ", 2);
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sbprov__text_append_str(notes, line);
}

typedef struct probe_ctx {
    const sbprov_identity_probe_options *opts;
    char sysfs[PATH_MAX];
    char etc[PATH_MAX];
} probe_ctx;

/* Read a file of an interface: 0 and the trimmed text, ENOENT/ENOTDIR when it
 * is absent (the interface went away, or is not a directory), or an errno. */
static int read_if_file(const probe_ctx *ctx, const char *ifname, const char *file, char *buf, size_t size,
                        char *path, size_t path_size)
{
    size_t len;
    int err;

    snprintf(path, path_size, "%s/class/net/%s/%s", ctx->sysfs, ifname, file);
    err = read_small_file(path, buf, size, &len);
    if (err == 0)
        trim(buf, len);
    return err;
}

static sbprov_result probe_mac(sbprov_identity *identity, const probe_ctx *ctx)
{
    const char *virtual_globs = ctx->opts->virtual_globs != NULL ? ctx->opts->virtual_globs : default_virtual_globs;
    const char *physical_globs = ctx->opts->physical_globs != NULL ? ctx->opts->physical_globs : "";
    char dir_path[PATH_MAX + 32], best_mac[18] = "", best_name[NAME_MAX + 1] = "";
    char notes_buf[400];
    sbprov__text notes;
    long best_index = -1;
    struct dirent *e;
    DIR *dir;
    size_t seen = 0;

    sbprov__text_init(&notes, notes_buf, sizeof notes_buf);
    snprintf(dir_path, sizeof dir_path, "%s/class/net", ctx->sysfs);
    if ((dir = opendir(dir_path)) == NULL)
        return sbprov__fail(SBPROV_EIO, "mac: cannot list network interfaces in %s: %s", dir_path, strerror(errno));
    for (;;) {
        char path[PATH_MAX + 2 * NAME_MAX], buf[128], glob[256];
        const char *name;
        unsigned char mac[6];
        long type, ifindex;
        int err, physical;
        struct stat st;

        errno = 0;
        if ((e = readdir(dir)) == NULL) {
            if (errno != 0) {
                int saved = errno;
                closedir(dir);
                return sbprov__fail(SBPROV_EIO, "mac: cannot list network interfaces in %s: %s", dir_path,
                                    strerror(saved));
            }
            break;
        }
        name = e->d_name;
        if (name[0] == '.')
            continue;
        err = read_if_file(ctx, name, "type", buf, sizeof buf, path, sizeof path);
        if (err == ENOENT || err == ENOTDIR)
            continue; /* not an interface (bonding_masters), or gone meanwhile */
        seen++;
        if (err != 0) {
            closedir(dir);
            return sbprov__fail(SBPROV_EIO, "mac: cannot read %s: %s", path, strerror(err));
        }
        if (!parse_long(buf, &type) || type != ARPHRD_ETHER_TYPE) {
            note(&notes, "%s: type %s, not Ethernet", name, buf);
            continue;
        }
        physical = matches_globs(name, physical_globs, glob, sizeof glob);
        if (!physical) {
            if (matches_globs(name, virtual_globs, glob, sizeof glob)) {
                note(&notes, "%s: virtual (name matches '%s')", name, glob);
                continue;
            }
            snprintf(path, sizeof path, "%s/class/net/%s/device", ctx->sysfs, name);
            if (lstat(path, &st) != 0) {
                note(&notes, "%s: virtual (no device link)", name);
                continue;
            }
        }
        err = read_if_file(ctx, name, "ifindex", buf, sizeof buf, path, sizeof path);
        if (err == ENOENT) {
            note(&notes, "%s: no ifindex (gone?)", name);
            continue;
        }
        if (err != 0) {
            closedir(dir);
            return sbprov__fail(SBPROV_EIO, "mac: cannot read %s: %s", path, strerror(err));
        }
        if (!parse_long(buf, &ifindex)) {
            note(&notes, "%s: ifindex '%s' is not a number", name, buf);
            continue;
        }
        err = read_if_file(ctx, name, "address", buf, sizeof buf, path, sizeof path);
        if (err == ENOENT) {
            note(&notes, "%s: no address (gone?)", name);
            continue;
        }
        if (err != 0) {
            closedir(dir);
            return sbprov__fail(SBPROV_EIO, "mac: cannot read %s: %s", path, strerror(err));
        }
        if (!parse_mac(buf, mac)) {
            note(&notes, "%s: address '%s' is not a MAC", name, buf);
            continue;
        }
        if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0) {
            note(&notes, "%s: MAC is all zeros", name);
            continue;
        }
        if (ctx->opts->skip_local_mac && (mac[0] & 0x02)) {
            note(&notes, "%s: MAC %s is locally administered", name, buf);
            continue;
        }
        if (best_index < 0 || ifindex < best_index) {
            static const char hex[] = "0123456789abcdef";
            best_index = ifindex;
            for (int i = 0; i < 6; i++) {
                best_mac[3 * i] = hex[mac[i] >> 4];
                best_mac[3 * i + 1] = hex[mac[i] & 15];
                best_mac[3 * i + 2] = i == 5 ? '\0' : ':';
            }
            snprintf(best_name, sizeof best_name, "%s", name);
        }
    }
    closedir(dir);
    if (best_index < 0) {
        if (notes.len >= notes.size)
            memcpy(notes_buf + notes.size - 4, "...", 4);
        else
            notes_buf[notes.len] = '\0';
        return sbprov__fail(SBPROV_ENOTFOUND, "mac: no physical Ethernet interface in %s (%zu examined%s%s)",
                            dir_path, seen, notes.len > 0 ? ": " : "", notes.len > 0 ? notes_buf : "");
    }
    sbprov__log(SBPROV_LOG_DEBUG, "identity: mac from interface %s (ifindex %ld)", best_name, best_index);
    return sbprov__identity_add_n(identity, "mac", 3, best_mac, 17, "");
}

/* Read a one-line file for attribute `attr`; ENOTFOUND if it is absent,
 * unreadable or empty. */
static sbprov_result read_attr_file(char *buf, size_t size, size_t *len, const char *path, const char *attr,
                                    int unreadable_is_io)
{
    int err = read_small_file(path, buf, size, len);
    if (err == ENOENT || err == ENOTDIR)
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: %s does not exist", attr, path);
    if (err == EACCES || err == EPERM) {
        if (unreadable_is_io)
            return sbprov__fail(SBPROV_EIO, "%s: cannot read %s: %s", attr, path, strerror(err));
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: %s is not readable (%s; DMI data is root-only on most systems)",
                            attr, path, strerror(err));
    }
    if (err == EFBIG)
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: %s is longer than %zu bytes", attr, path, size - 1);
    if (err != 0)
        return sbprov__fail(SBPROV_EIO, "%s: cannot read %s: %s", attr, path, strerror(err));
    *len = trim(buf, *len);
    if (*len == 0)
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: %s is empty", attr, path);
    return SBPROV_OK;
}

static sbprov_result add_file_value(sbprov_identity *identity, const char *attr, const char *path, char *buf,
                                    size_t len)
{
    char detail[512];
    sbprov_result rc = sbprov__identity_add_n(identity, attr, strlen(attr), buf, len, "");
    if (rc == SBPROV_EPARSE) {
        snprintf(detail, sizeof detail, "%s", sbprov_last_error());
        return sbprov__fail(SBPROV_ENOTFOUND, "%s: %s holds a value that cannot be an attribute (%s)", attr, path,
                            detail);
    }
    return rc;
}

static sbprov_result probe_machine_id(sbprov_identity *identity, const probe_ctx *ctx)
{
    char path[PATH_MAX + 32], buf[MAX_FILE], quoted[200];
    size_t len;
    sbprov_result rc;

    snprintf(path, sizeof path, "%s/etc/machine-id", ctx->etc);
    if ((rc = read_attr_file(buf, sizeof buf, &len, path, "machine_id", 1)) != SBPROV_OK)
        return rc;
    if (len != 32 || strspn(buf, "0123456789abcdefABCDEF") != 32) {
        sbprov__identity_quote(quoted, sizeof quoted, buf, len, 40);
        return sbprov__fail(SBPROV_ENOTFOUND, "machine_id: %s holds \"%s\", not 32 hex digits", path, quoted);
    }
    return sbprov__identity_add_n(identity, "machine_id", 10, buf, len, "");
}

static sbprov_result probe_dmi(sbprov_identity *identity, const probe_ctx *ctx, const char *file, const char *attr)
{
    char path[PATH_MAX + 32], buf[MAX_FILE];
    size_t len;
    sbprov_result rc;

    snprintf(path, sizeof path, "%s/class/dmi/id/%s", ctx->sysfs, file);
    if ((rc = read_attr_file(buf, sizeof buf, &len, path, attr, 0)) != SBPROV_OK)
        return rc;
    return add_file_value(identity, attr, path, buf, len);
}

static sbprov_result probe_hostname(sbprov_identity *identity)
{
    char buf[HOST_NAME_MAX + 2];

    memset(buf, 0, sizeof buf);
    if (gethostname(buf, sizeof buf - 1) != 0)
        return sbprov__fail(SBPROV_ENOTFOUND, "hostname: gethostname failed: %s", strerror(errno));
    if (buf[0] == '\0')
        return sbprov__fail(SBPROV_ENOTFOUND, "hostname: the host name is empty");
    return add_file_value(identity, "hostname", "gethostname()", buf, strlen(buf));
}

sbprov_result sbprov_identity_probe(sbprov_identity **out, const sbprov_identity_probe_options *opts_in)
{
    sbprov_identity_probe_options opts;
    sbprov_identity *identity = NULL;
    probe_ctx ctx;
    sbprov_result rc;

    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "sbprov_identity_probe: NULL argument");
    *out = NULL;
    if (opts_in == NULL)
        rc = sbprov_identity_probe_options_init(&opts, sizeof opts);
    else
        rc = sbprov__options_load(&opts, opts_in, PROBE_OPTIONS_V1_SIZE, sizeof opts, "identity probe options");
    if (rc != SBPROV_OK)
        return rc;
    if (opts.sources == 0)
        return sbprov__fail(SBPROV_EINVAL, "identity probe options: sources is 0; ask for at least one attribute");
    if (opts.sources & ~(uint32_t)ALL_SOURCES)
        return sbprov__fail(SBPROV_EINVAL, "identity probe options: unknown source bits 0x%x in sources",
                            (unsigned)(opts.sources & ~(uint32_t)ALL_SOURCES));
    if ((rc = check_globs(opts.physical_globs, "identity probe options: physical_globs")) != SBPROV_OK ||
        (rc = check_globs(opts.virtual_globs, "identity probe options: virtual_globs")) != SBPROV_OK)
        return rc;
    if (opts.sysfs_root != NULL && strlen(opts.sysfs_root) >= PATH_MAX - 64)
        return sbprov__fail(SBPROV_EINVAL, "identity probe options: sysfs_root is too long");
    if (opts.etc_root != NULL && strlen(opts.etc_root) >= PATH_MAX - 64)
        return sbprov__fail(SBPROV_EINVAL, "identity probe options: etc_root is too long");
    ctx.opts = &opts;
    trim_root(ctx.sysfs, sizeof ctx.sysfs, opts.sysfs_root != NULL ? opts.sysfs_root : "/sys");
    trim_root(ctx.etc, sizeof ctx.etc, opts.etc_root != NULL ? opts.etc_root : "/");

    if ((rc = sbprov_identity_new(&identity)) != SBPROV_OK)
        return rc;
    if (opts.sources & SBPROV_IDENTITY_MAC)
        rc = probe_mac(identity, &ctx);
    if (rc == SBPROV_OK && (opts.sources & SBPROV_IDENTITY_MACHINE_ID))
        rc = probe_machine_id(identity, &ctx);
    if (rc == SBPROV_OK && (opts.sources & SBPROV_IDENTITY_DMI_SERIAL))
        rc = probe_dmi(identity, &ctx, "product_serial", "serial");
    if (rc == SBPROV_OK && (opts.sources & SBPROV_IDENTITY_DMI_UUID))
        rc = probe_dmi(identity, &ctx, "product_uuid", "product_uuid");
    if (rc == SBPROV_OK && (opts.sources & SBPROV_IDENTITY_HOSTNAME))
        rc = probe_hostname(identity);
    if (rc != SBPROV_OK) {
        sbprov_identity_free(identity);
        return rc;
    }
    *out = identity;
    return SBPROV_OK;
}
