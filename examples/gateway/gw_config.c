/*
 * sbprov-gateway: configuration file parser. INI-like: `[section]`,
 * `[room "name"]`, `key = value`; `#` and `;` start comments (whole lines, or
 * after whitespace). Every unknown section or key, repeated key, bad number
 * and missing required key is an error with file:line, so a typo never
 * silently falls back to a default.
 * SPDX-License-Identifier: MIT
 */
#include "gw_config.h"
#include "gw_log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum key_type { T_STR, T_U32, T_LEVEL, T_CLOCK } key_type;

typedef struct key_def {
    const char *section;
    const char *key;
    key_type type;
    size_t offset;
    uint32_t min, max;
} key_def;

#define STR(sec, k, field) {sec, k, T_STR, offsetof(gw_config, field), 0, 0}
#define U32(sec, k, field, lo, hi) {sec, k, T_U32, offsetof(gw_config, field), lo, hi}

static const key_def keys[] = {
    STR("device", "state_dir", state_dir),
    STR("device", "store_key_file", store_key_file),
    STR("device", "key", key),
    STR("device", "key_providers", key_providers),
    STR("device", "key_openssl_conf", key_openssl_conf),
    STR("device", "identity", identity),
    STR("device", "env_file", env_file),
    STR("device", "stats_file", stats_file),
    STR("mender", "url", mender_url),
    STR("mender", "tenant_token_file", mender_tenant_token_file),
    STR("mender", "ca_file", mender_ca_file),
    U32("mender", "first_interval_s", mender_first_interval_s, 1, 86400),
    U32("mender", "max_interval_s", mender_max_interval_s, 1, 86400),
    STR("azure", "id_scope", azure_id_scope),
    STR("azure", "dps_url", azure_dps_url),
    STR("azure", "registration_id", azure_registration_id),
    STR("azure", "group_key_file", azure_group_key_file),
    STR("azure", "connection_string_file", azure_connection_string_file),
    STR("azure", "hub_url", azure_hub_url),
    STR("azure", "ca_file", azure_ca_file),
    U32("telemetry", "batch_max_messages", batch_max_messages, 1, 1000),
    U32("telemetry", "batch_max_ms", batch_max_ms, 1, 3600000),
    U32("telemetry", "queue_max_messages", queue_max_messages, 1, 1000000),
    U32("telemetry", "retry_max_s", retry_max_s, 1, 3600),
    STR("input", "serial", serial),
    U32("input", "baud", baud, 50, 4000000),
    STR("input", "udp", udp),
    {"input", "clock", T_CLOCK, offsetof(gw_config, clock_node), 0, 0},
    {"log", "level", T_LEVEL, offsetof(gw_config, log_level), 0, 0},
    U32("log", "stats_interval_ms", stats_interval_ms, 100, 3600000),
};

#define KEY_COUNT (sizeof keys / sizeof keys[0])

typedef struct parser {
    gw_config *cfg;
    const char *path;
    int line;
    char section[16];        /* "" before the first header; "room" in a room */
    gw_room_config *room;    /* the current room section */
    int seen[KEY_COUNT];     /* line where each key was set, 0 if not */
    int room_seen[1 + 6];    /* nodes, then room_keys */
    char *err;
    size_t err_size;
} parser;

static int fail(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser *p, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(p->err, p->err_size, "%s:%d: %s", p->path, line, msg);
    else
        snprintf(p->err, p->err_size, "%s: %s", p->path, msg);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Cut a comment: '#' or ';' at the start or after whitespace. */
static void strip_comment(char *s)
{
    for (char *c = s; *c != '\0'; c++) {
        if ((*c == '#' || *c == ';') && (c == s || isspace((unsigned char)c[-1]))) {
            *c = '\0';
            return;
        }
    }
}

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (!isdigit((unsigned char)v[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

static int parse_node_id(const char *s, size_t n, uint64_t *out)
{
    if (n != 16)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int room_nodes(parser *p, const char *value)
{
    gw_room_config *r = p->room;
    for (const char *s = value; *s != '\0';) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (*s == '\0')
            break;
        size_t n = strcspn(s, " \t,");
        uint64_t id;
        if (parse_node_id(s, n, &id) != 0)
            return fail(p, p->line, "node ID '%.*s' is not 16 hex digits (as the frames carry it)", (int)n, s);
        for (size_t i = 0; i < p->cfg->room_count; i++) {
            const gw_room_config *o = &p->cfg->rooms[i];
            for (size_t j = 0; j < o->node_count; j++)
                if (o->nodes[j] == id)
                    return fail(p, p->line, "node %.*s is already in room \"%s\" (line %d); a node is in one room",
                                (int)n, s, o->name, o->line);
        }
        uint64_t *grown = realloc(r->nodes, (r->node_count + 1) * sizeof *grown);
        if (grown == NULL)
            return fail(p, p->line, "out of memory");
        r->nodes = grown;
        r->nodes[r->node_count++] = id;
        s += n;
    }
    if (r->node_count == 0)
        return fail(p, p->line, "nodes: no node ID given");
    return 0;
}

/* The options of a [room "..."] section: fields of sbprov_air_room_options
 * (the library checks their ranges and combinations, see finish_room()). */
static const struct room_key {
    const char *key;
    size_t offset;
} room_keys[] = {
    {"ventilate_ppm", offsetof(sbprov_air_room_options, ventilate_ppm)},
    {"ventilate_now_ppm", offsetof(sbprov_air_room_options, ventilate_now_ppm)},
    {"hysteresis_ppm", offsetof(sbprov_air_room_options, hysteresis_ppm)},
    {"smoothing_s", offsetof(sbprov_air_room_options, smoothing_s)},
    {"pir_hold_s", offsetof(sbprov_air_room_options, pir_hold_s)},
    {"trend_window_s", offsetof(sbprov_air_room_options, trend_window_s)},
};

#define ROOM_KEY_COUNT (sizeof room_keys / sizeof room_keys[0])
_Static_assert(1 + ROOM_KEY_COUNT == sizeof ((parser *)0)->room_seen / sizeof(int), "room_seen has a line per key");

static int room_key(parser *p, const char *key, const char *value)
{
    /* seen[0] is 'nodes', seen[1 + k] room_keys[k]. */
    size_t k = 0;
    if (strcmp(key, "nodes") != 0) {
        while (k < ROOM_KEY_COUNT && strcmp(room_keys[k].key, key) != 0)
            k++;
        if (k == ROOM_KEY_COUNT)
            return fail(p, p->line, "unknown key '%s' in [room \"%s\"] (known: nodes, ventilate_ppm, "
                        "ventilate_now_ppm, hysteresis_ppm, smoothing_s, pir_hold_s, trend_window_s)", key,
                        p->room->name);
        k++;
    }
    if (p->room_seen[k] != 0)
        return fail(p, p->line, "'%s' is set twice in [room \"%s\"] (first on line %d)", key, p->room->name,
                    p->room_seen[k]);
    p->room_seen[k] = p->line;
    if (k == 0)
        return room_nodes(p, value);
    uint32_t v;
    if (parse_u32(value, 0, 86400, &v) != 0)
        return fail(p, p->line, "%s: '%s' is not a whole number 0..86400", key, value);
    *(uint32_t *)((char *)&p->room->options + room_keys[k - 1].offset) = v;
    return 0;
}

static int finish_room(parser *p)
{
    if (p->room == NULL)
        return 0;
    if (p->room->node_count == 0)
        return fail(p, p->room->line, "[room \"%s\"] has no 'nodes'", p->room->name);
    /* The library checks the options; its detail names the one at fault. */
    sbprov_air_room *probe = NULL;
    sbprov_result rc = sbprov_air_room_new(&probe, &p->room->options);
    sbprov_air_room_free(probe);
    if (rc != SBPROV_OK)
        return fail(p, p->room->line, "[room \"%s\"]: %s", p->room->name, sbprov_last_error());
    p->room = NULL;
    return 0;
}

static int section_header(parser *p, char *s)
{
    if (finish_room(p) != 0)
        return -1;
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != ']')
        return fail(p, p->line, "malformed section header (want [name] or [room \"name\"])");
    s[n - 1] = '\0';
    char *name = trim(s + 1);
    if (strncmp(name, "room", 4) == 0 && isspace((unsigned char)name[4])) {
        char *q = trim(name + 4);
        size_t qn = strlen(q);
        if (qn < 3 || q[0] != '"' || q[qn - 1] != '"')
            return fail(p, p->line, "room section: write [room \"name\"]");
        q[qn - 1] = '\0';
        q++;
        if (strlen(q) >= SBPROV_AIR_NAME_SIZE)
            return fail(p, p->line, "room name longer than %d bytes", SBPROV_AIR_NAME_SIZE - 1);
        for (size_t i = 0; i < p->cfg->room_count; i++)
            if (strcmp(p->cfg->rooms[i].name, q) == 0)
                return fail(p, p->line, "room \"%s\" is defined twice (first on line %d)", q, p->cfg->rooms[i].line);
        if (p->cfg->room_count == GW_ROOMS_MAX)
            return fail(p, p->line, "more than %d rooms", GW_ROOMS_MAX);
        gw_room_config *grown = realloc(p->cfg->rooms, (p->cfg->room_count + 1) * sizeof *grown);
        if (grown == NULL)
            return fail(p, p->line, "out of memory");
        p->cfg->rooms = grown;
        gw_room_config *r = &grown[p->cfg->room_count++];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", q);
        r->line = p->line;
        if (sbprov_air_room_options_init(&r->options, sizeof r->options) != SBPROV_OK)
            return fail(p, p->line, "room options: %s", sbprov_last_error());
        p->room = r;
        memset(p->room_seen, 0, sizeof p->room_seen);
        snprintf(p->section, sizeof p->section, "room");
        return 0;
    }
    static const char *const sections[] = {"device", "mender", "azure", "telemetry", "input", "log"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (strcmp(name, sections[i]) == 0) {
            snprintf(p->section, sizeof p->section, "%s", name);
            return 0;
        }
    }
    return fail(p, p->line, "unknown section [%s] (known: device, mender, azure, telemetry, input, log, "
                "room \"name\")", name);
}

static int set_key(parser *p, const char *key, const char *value)
{
    if (p->section[0] == '\0')
        return fail(p, p->line, "'%s' before any [section]", key);
    if (p->room != NULL)
        return room_key(p, key, value);
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const key_def *d = &keys[i];
        if (strcmp(d->section, p->section) != 0 || strcmp(d->key, key) != 0)
            continue;
        if (p->seen[i] != 0)
            return fail(p, p->line, "'%s' is set twice in [%s] (first on line %d)", key, p->section, p->seen[i]);
        p->seen[i] = p->line;
        void *field = (char *)p->cfg + d->offset;
        switch (d->type) {
        case T_STR:
            if (value[0] == '\0')
                return fail(p, p->line, "%s: empty value", key);
            if ((*(char **)field = strdup(value)) == NULL)
                return fail(p, p->line, "out of memory");
            return 0;
        case T_U32:
            if (parse_u32(value, d->min, d->max, field) != 0)
                return fail(p, p->line, "%s: '%s' is not a whole number %u..%u", key, value, d->min, d->max);
            return 0;
        case T_CLOCK:
            if (strcmp(value, "arrival") != 0 && strcmp(value, "node") != 0)
                return fail(p, p->line, "clock: '%s' is neither 'arrival' nor 'node'", value);
            *(int *)field = strcmp(value, "node") == 0;
            return 0;
        case T_LEVEL: {
            static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
            for (int l = 0; l < 5; l++) {
                if (strcmp(value, names[l]) == 0) {
                    *(int *)field = GW_ERR + l;
                    return 0;
                }
            }
            return fail(p, p->line, "level: '%s' is not one of error, warning, notice, info, debug", value);
        }
        }
    }
    return fail(p, p->line, "unknown key '%s' in [%s]", key, p->section);
}

static int seen_key(const parser *p, const char *section, const char *key)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
            return p->seen[i];
    return 0;
}

static int default_path(parser *p, char **field, const char *name)
{
    if (*field != NULL)
        return 0;
    size_t n = strlen(p->cfg->state_dir) + strlen(name) + 2;
    if ((*field = malloc(n)) == NULL)
        return fail(p, 0, "out of memory");
    snprintf(*field, n, "%s/%s", p->cfg->state_dir, name);
    return 0;
}

/* Checks across keys, once the whole file is read. */
static int check(parser *p)
{
    gw_config *c = p->cfg;
    if (c->state_dir == NULL)
        return fail(p, 0, "[device] state_dir is required (where the store, env file and stats live)");
    if ((c->serial != NULL) == (c->udp != NULL))
        return fail(p, seen_key(p, "input", "udp"), "[input] needs exactly one of 'serial' and 'udp'");
    if (c->identity != NULL && strcmp(c->identity, "auto") != 0 && strcmp(c->identity, "stored") != 0 &&
        strcmp(c->identity, "probe") != 0 && strncmp(c->identity, "script:", 7) != 0)
        return fail(p, seen_key(p, "device", "identity"),
                    "identity: '%s' is not auto, stored, probe or script:PATH", c->identity);
    if (c->azure_group_key_file != NULL && c->azure_connection_string_file != NULL)
        return fail(p, seen_key(p, "azure", "connection_string_file"),
                    "give either group_key_file (DPS) or connection_string_file, not both");
    if (c->mender_first_interval_s != 0 && c->mender_max_interval_s != 0 &&
        c->mender_max_interval_s < c->mender_first_interval_s)
        return fail(p, seen_key(p, "mender", "max_interval_s"), "max_interval_s is below first_interval_s");
    if (c->batch_max_messages > c->queue_max_messages)
        return fail(p, seen_key(p, "telemetry", "batch_max_messages"),
                    "batch_max_messages (%u) exceeds queue_max_messages (%u)", c->batch_max_messages,
                    c->queue_max_messages);
    if (default_path(p, &c->store_key_file, "store.key") != 0 || default_path(p, &c->key, "device.pem") != 0 ||
        default_path(p, &c->env_file, "azure-iot.env") != 0 ||
        default_path(p, &c->stats_file, "gateway-stats.json") != 0)
        return -1;
    return 0;
}

static int parse_line(parser *p, char *raw)
{
    strip_comment(raw);
    char *s = trim(raw);
    if (*s == '\0')
        return 0;
    if (*s == '[')
        return section_header(p, s);
    char *eq = strchr(s, '=');
    if (eq == NULL)
        return fail(p, p->line, "expected 'key = value' or a [section]");
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (*key == '\0')
        return fail(p, p->line, "missing key before '='");
    return set_key(p, key, value);
}

int gw_config_load(gw_config *out, const char *path, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    out->batch_max_messages = 50;
    out->batch_max_ms = 5000;
    out->queue_max_messages = 4096;
    out->retry_max_s = 60;
    out->baud = 115200;
    out->log_level = GW_INFO;
    out->stats_interval_ms = 2000;

    parser p = {.cfg = out, .path = path, .err = err, .err_size = err_size};
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        p.line++;
        if ((size_t)n != strlen(line))
            rc = fail(&p, p.line, "NUL byte in the line");
        else if (n > 4096)
            rc = fail(&p, p.line, "line longer than 4096 bytes");
        else
            rc = parse_line(&p, line);
    }
    if (rc == 0 && ferror(f))
        rc = fail(&p, 0, "read error: %s", strerror(errno));
    free(line);
    fclose(f);
    if (rc == 0)
        rc = finish_room(&p);
    if (rc == 0)
        rc = check(&p);
    if (rc == 0 && (out->path = strdup(path)) == NULL)
        rc = fail(&p, 0, "out of memory");
    if (rc != 0)
        gw_config_free(out);
    return rc;
}

void gw_config_free(gw_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (keys[i].type == T_STR)
            free(*(char **)((char *)cfg + keys[i].offset));
    for (size_t i = 0; i < cfg->room_count; i++)
        free(cfg->rooms[i].nodes);
    free(cfg->rooms);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}
