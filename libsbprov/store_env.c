/* Env files from and into the store: docker/podman `--env-file` and systemd
 * `EnvironmentFile=`. A value a dialect cannot carry unchanged is refused
 * with the entry and byte named; no file is written then. Quoting rules:
 * docs/store-format.md. */
#include "store_internal.h"

#include "atomic_file.h"
#include "error.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_FILE_MAX (16u * 1024u * 1024u)

/* A growable byte buffer, wiped whenever it moves or is freed (it holds secrets). */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const void *data, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *np;
        while (cap - b->len < n)
            cap *= 2;
        if ((np = malloc(cap)) == NULL)
            return -1;
        if (b->len > 0)
            memcpy(np, b->p, b->len);
        sbprov__wipe_free(b->p, b->cap);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static int is_var_name(const char *n)
{
    if (!((n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z') || n[0] == '_'))
        return 0;
    for (const char *c = n; *c != '\0'; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    return 1;
}

/* Check that `v` can be carried by `format`; SBPROV_EPARSE naming the byte. */
static sbprov_result check_value(const char *name, const uint8_t *v, size_t len, sbprov_env_format format)
{
    const char *dialect = format == SBPROV_ENV_DOCKER ? "a docker/podman env file" : "a systemd EnvironmentFile";

    if (format == SBPROV_ENV_DOCKER && len > 0) {
        if (v[0] == '"' || v[0] == '\'' || v[0] == '`')
            return sbprov__fail(SBPROV_EPARSE, "entry '%s': a value starting with a quote cannot be carried by %s "
                                "(podman would parse it as a quoted value)", name, dialect);
        if (v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' || v[len - 1] == '\t')
            return sbprov__fail(SBPROV_EPARSE, "entry '%s': leading or trailing white space cannot be carried by "
                                "%s", name, dialect);
    }
    for (size_t i = 0; i < len;) {
        size_t n = sbprov__utf8_sequence(v + i, len - i);
        uint8_t c = v[i];
        if (n == 0)
            return sbprov__fail(SBPROV_EPARSE, "entry '%s': byte %zu (0x%02x) is not valid UTF-8, which %s "
                                "cannot carry", name, i, c, dialect);
        if (n == 1 && (c < 0x20 || c == 0x7f)) {
            int ok = format == SBPROV_ENV_SYSTEMD ? (c == '\t' || c == '\n') : c == '\t';
            if (!ok)
                return sbprov__fail(SBPROV_EPARSE, "entry '%s': control character 0x%02x at byte %zu cannot be "
                                    "carried by %s", name, c, i, dialect);
        }
        i += n;
    }
    return SBPROV_OK;
}

static int append_entry(buf *b, const char *name, const uint8_t *v, size_t len, sbprov_env_format format)
{
    if (buf_add(b, name, strlen(name)) != 0 || buf_add(b, "=", 1) != 0)
        return -1;
    if (format == SBPROV_ENV_DOCKER) {
        if (len > 0 && buf_add(b, v, len) != 0)
            return -1;
    } else {
        if (buf_add(b, "\"", 1) != 0)
            return -1;
        for (size_t i = 0; i < len; i++) {
            if (strchr("\\\"$`", v[i]) != NULL && v[i] != '\0' && buf_add(b, "\\", 1) != 0)
                return -1;
            if (buf_add(b, v + i, 1) != 0)
                return -1;
        }
        if (buf_add(b, "\"", 1) != 0)
            return -1;
    }
    return buf_add(b, "\n", 1);
}

/* Split "a,b,c" into a names array (no empty names). */
static sbprov_result split_names(char ***out, size_t *count, const char *names)
{
    size_t n = 1, i = 0;
    char **v;
    const char *p = names;

    for (const char *c = names; *c != '\0'; c++)
        n += *c == ',';
    if ((v = calloc(n, sizeof *v)) == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "export: out of memory");
    for (;;) {
        const char *end = strchr(p, ',');
        size_t l = end != NULL ? (size_t)(end - p) : strlen(p);
        if ((v[i] = strndup(p, l)) == NULL) {
            sbprov__store_free_names(v, i);
            return sbprov__fail(SBPROV_ENOMEM, "export: out of memory");
        }
        i++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = v;
    *count = i;
    return SBPROV_OK;
}

sbprov_result sbprov_store_export_env(sbprov_store *s, const char *names, const char *path, sbprov_env_format format)
{
    char **v = NULL;
    size_t n = 0;
    buf b = {0};
    sbprov_result rc;

    if (s == NULL || path == NULL)
        return sbprov__fail(SBPROV_EINVAL, "export: NULL argument");
    if (format != SBPROV_ENV_DOCKER && format != SBPROV_ENV_SYSTEMD)
        return sbprov__fail(SBPROV_EINVAL, "export: unknown env-file format %d", (int)format);
    if (names != NULL && (rc = split_names(&v, &n, names)) != SBPROV_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = sbprov__store_check_name(v[i])) != SBPROV_OK)
            goto out;
    if ((rc = sbprov__store_lock(s, 0)) != SBPROV_OK)
        goto out;
    if (names == NULL)
        rc = sbprov__store_collect_names(&v, &n, s);
    for (size_t i = 0; rc == SBPROV_OK && i < n; i++) {
        uint8_t *val = NULL;
        size_t len = 0;
        if (!is_var_name(v[i])) {
            rc = sbprov__fail(SBPROV_EID, "export: entry name '%s' is not a valid environment variable name "
                              "([A-Za-z_][A-Za-z0-9_]*)", v[i]);
            break;
        }
        if ((rc = sbprov__store_get_locked(&val, &len, s, v[i])) != SBPROV_OK)
            break;
        rc = check_value(v[i], val, len, format);
        if (rc == SBPROV_OK && append_entry(&b, v[i], val, len, format) != 0)
            rc = sbprov__fail(SBPROV_ENOMEM, "export: out of memory");
        sbprov__wipe_free(val, len + 1);
    }
    sbprov__store_unlock(s);
    if (rc == SBPROV_OK)
        rc = sbprov__write_file_atomic(path, b.len > 0 ? b.p : (const uint8_t *)"", b.len, 0600, 1);
out:
    sbprov__store_free_names(v, n);
    sbprov__wipe_free(b.p, b.cap);
    return rc;
}

/* --- import ------------------------------------------------------------------ */

typedef struct pair {
    char name[SBPROV_STORE_NAME_MAX + 1];
    buf value;
} pair;

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Parse one value at text[*pos] (systemd dialect) into `out`, leaving *pos
 * after the line. */
static sbprov_result parse_systemd_value(buf *out, const uint8_t *t, size_t len, size_t *pos, size_t lineno)
{
    size_t i = *pos;
    uint8_t q;

    while (i < len && is_space(t[i]))
        i++;
    if (i < len && (t[i] == '"' || t[i] == '\'')) {
        q = t[i++];
        for (;;) {
            if (i >= len)
                return sbprov__fail(SBPROV_EPARSE, "env file line %zu: unterminated %c quote", lineno, q);
            if (t[i] == q) {
                i++;
                break;
            }
            if (q == '"' && t[i] == '\\' && i + 1 < len) {
                uint8_t c = t[i + 1];
                i += 2;
                if (c == '\n')
                    continue;
                if (strchr("\"\\`$", c) == NULL && buf_add(out, "\\", 1) != 0)
                    goto oom;
                if (buf_add(out, &c, 1) != 0)
                    goto oom;
                continue;
            }
            if (buf_add(out, t + i, 1) != 0)
                goto oom;
            i++;
        }
        while (i < len && is_space(t[i]))
            i++;
        if (i < len && t[i] != '\n')
            return sbprov__fail(SBPROV_EPARSE, "env file line %zu: text after the closing quote", lineno);
    } else {
        size_t end;
        for (end = i; end < len && t[end] != '\n'; end++)
            ;
        while (end > i && is_space(t[end - 1]))
            end--;
        for (; i < end; i++) {
            if (t[i] == '\\' && i + 1 < end)
                i++;
            if (buf_add(out, t + i, 1) != 0)
                goto oom;
        }
        while (i < len && t[i] != '\n')
            i++;
    }
    *pos = i < len ? i + 1 : i;
    return SBPROV_OK;
oom:
    return sbprov__fail(SBPROV_ENOMEM, "import: out of memory");
}

static sbprov_result parse_env(pair **out, size_t *count, const uint8_t *t, size_t len, sbprov_env_format format)
{
    pair *v = NULL;
    size_t n = 0, pos = 0, lineno = 0;
    sbprov_result rc = SBPROV_OK;

    while (pos < len && rc == SBPROV_OK) {
        size_t start, eq, kend;
        const uint8_t *nl;
        pair *p;
        lineno++;
        while (pos < len && (is_space(t[pos]) || (format == SBPROV_ENV_DOCKER && t[pos] == '\r')))
            pos++;
        if (pos >= len)
            break;
        if (t[pos] == '\n' || t[pos] == '#' || (format == SBPROV_ENV_SYSTEMD && t[pos] == ';')) {
            nl = memchr(t + pos, '\n', len - pos);
            pos = nl != NULL ? (size_t)(nl - t) + 1 : len;
            continue;
        }
        start = pos;
        for (eq = pos; eq < len && t[eq] != '=' && t[eq] != '\n'; eq++)
            ;
        if (eq >= len || t[eq] != '=') {
            rc = sbprov__fail(SBPROV_EPARSE, "env file line %zu: no '=' (taking a value from the environment is "
                              "not supported)", lineno);
            break;
        }
        kend = eq;
        if (format == SBPROV_ENV_SYSTEMD)
            while (kend > start && is_space(t[kend - 1]))
                kend--;
        pair *nv = realloc(v, (n + 1) * sizeof *v);
        if (nv == NULL) {
            rc = sbprov__fail(SBPROV_ENOMEM, "import: out of memory");
            break;
        }
        v = nv;
        p = &v[n++];
        memset(p, 0, sizeof *p);
        if (kend - start > SBPROV_STORE_NAME_MAX) {
            rc = sbprov__fail(SBPROV_EID, "env file line %zu: name longer than %d characters", lineno,
                              SBPROV_STORE_NAME_MAX);
            break;
        }
        memcpy(p->name, t + start, kend - start);
        if (memchr(p->name, '\0', kend - start) != NULL || (rc = sbprov__store_check_name(p->name)) != SBPROV_OK) {
            rc = sbprov__fail(SBPROV_EID, "env file line %zu: '%.*s' is not a valid entry name", lineno,
                              (int)(kend - start), (const char *)(t + start));
            break;
        }
        pos = eq + 1;
        if (format == SBPROV_ENV_DOCKER) {
            nl = memchr(t + pos, '\n', len - pos);
            size_t end = nl != NULL ? (size_t)(nl - t) : len;
            if (end > pos && buf_add(&p->value, t + pos, end - pos) != 0)
                rc = sbprov__fail(SBPROV_ENOMEM, "import: out of memory");
            pos = nl != NULL ? end + 1 : len;
        } else {
            rc = parse_systemd_value(&p->value, t, len, &pos, lineno);
        }
        if (rc == SBPROV_OK && p->value.len > SBPROV_STORE_VALUE_MAX)
            rc = sbprov__fail(SBPROV_EINVAL, "env file line %zu: value longer than %u bytes", lineno,
                              SBPROV_STORE_VALUE_MAX);
    }
    *out = v;
    *count = n;
    return rc;
}

static void free_pairs(pair *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sbprov__wipe_free(v[i].value.p, v[i].value.cap);
    free(v);
}

sbprov_result sbprov_store_import_env(sbprov_store *s, const char *path, sbprov_env_format format)
{
    uint8_t *text = NULL;
    size_t len = 0, n = 0;
    pair *v = NULL;
    sbprov_result rc;

    if (s == NULL || path == NULL)
        return sbprov__fail(SBPROV_EINVAL, "import: NULL argument");
    if (format != SBPROV_ENV_DOCKER && format != SBPROV_ENV_SYSTEMD)
        return sbprov__fail(SBPROV_EINVAL, "import: unknown env-file format %d", (int)format);
    rc = sbprov__store_read_file(&text, &len, AT_FDCWD, path, ENV_FILE_MAX, 0, "import");
    if (rc == SBPROV_ETAMPERED)
        return sbprov__fail(SBPROV_EINVAL, "import: %s is larger than %u bytes", path, ENV_FILE_MAX);
    if (rc == SBPROV_ENOTFOUND || rc == SBPROV_EUNSAFE)
        return sbprov__fail(SBPROV_EIO, "import: cannot read %s (%s)", path, sbprov_strerror(rc));
    if (rc != SBPROV_OK)
        return rc;
    rc = parse_env(&v, &n, text, len, format);
    sbprov__wipe_free(text, len + 1);
    if (rc == SBPROV_OK && (rc = sbprov__store_lock(s, 1)) == SBPROV_OK) {
        for (size_t i = 0; rc == SBPROV_OK && i < n; i++)
            rc = sbprov__store_put_locked(s, v[i].name, v[i].value.len > 0 ? v[i].value.p : (const uint8_t *)"",
                                          v[i].value.len);
        sbprov__store_unlock(s);
    }
    free_pairs(v, n);
    return rc;
}
