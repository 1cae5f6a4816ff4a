/*
 * sbprov-gateway: rooms (see gw_rooms.h).
 * SPDX-License-Identifier: MIT
 */
#include "gw_rooms.h"
#include "gw_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* With clock = node, each node's uptime is mapped onto its room's clock:
 * a reboot (new epoch) or a 32-bit wrap would otherwise move time back. */
typedef struct node_clock {
    uint64_t node_id;
    int known;
    uint16_t epoch;
    int64_t wrap;     /* multiples of 2^32 ms added after wrap-arounds */
    int64_t last_raw; /* the node's last uptime, wraps included */
    int64_t offset;   /* room time = uptime + offset */
} node_clock;

#define UNPLACED_LOGGED_MAX 256

struct gw_rooms {
    sbprov_air_building *building;
    int clock_node;
    node_clock *clocks; /* sorted by node_id */
    size_t clock_count;
    uint64_t unplaced_frames;
    uint64_t unplaced_logged[UNPLACED_LOGGED_MAX];
    size_t unplaced_logged_count;
    int untimed_logged;
};

static int cmp_clock(const void *a, const void *b)
{
    uint64_t x = ((const node_clock *)a)->node_id, y = ((const node_clock *)b)->node_id;
    return x < y ? -1 : x > y;
}

int gw_rooms_new(gw_rooms **out, const gw_config *cfg)
{
    gw_rooms *r = calloc(1, sizeof *r);
    size_t nodes = 0;
    for (size_t i = 0; i < cfg->room_count; i++)
        nodes += cfg->rooms[i].node_count;
    if (r == NULL || (nodes > 0 && (r->clocks = calloc(nodes, sizeof *r->clocks)) == NULL)) {
        gw_log(GW_ERR, "rooms: out of memory");
        free(r);
        return -1;
    }
    r->clock_node = cfg->clock_node;
    sbprov_result rc = sbprov_air_building_new(&r->building);
    for (size_t i = 0; rc == SBPROV_OK && i < cfg->room_count; i++) {
        const gw_room_config *rc_room = &cfg->rooms[i];
        rc = sbprov_air_building_add_room(NULL, r->building, rc_room->name, &rc_room->options);
        for (size_t j = 0; rc == SBPROV_OK && j < rc_room->node_count; j++) {
            rc = sbprov_air_building_add_node(r->building, rc_room->nodes[j], rc_room->name);
            r->clocks[r->clock_count++].node_id = rc_room->nodes[j];
        }
        if (rc != SBPROV_OK)
            gw_log_result(GW_ERR, rc, "room \"%s\" (%s line %d)", rc_room->name, cfg->path, rc_room->line);
    }
    if (rc != SBPROV_OK) {
        gw_rooms_free(r);
        return -1;
    }
    qsort(r->clocks, r->clock_count, sizeof *r->clocks, cmp_clock);
    *out = r;
    return 0;
}

void gw_rooms_free(gw_rooms *r)
{
    if (r == NULL)
        return;
    sbprov_air_building_free(r->building);
    free(r->clocks);
    free(r);
}

static int64_t room_time(sbprov_air_room *room)
{
    sbprov_air_state st;
    st.struct_size = sizeof st;
    return sbprov_air_room_state(&st, room) == SBPROV_OK ? st.time_ms : -1;
}

/* The room clock for a record under clock = node; -1 to skip it. */
static int64_t node_time(gw_rooms *r, const sbprov_frame *f, sbprov_air_room *room)
{
    node_clock key = {.node_id = f->node_id};
    node_clock *c = bsearch(&key, r->clocks, r->clock_count, sizeof *c, cmp_clock);
    int64_t now = room_time(room);
    if (c == NULL)
        return -1;
    if (!f->has_time) {
        if (!r->untimed_logged++)
            gw_log(GW_WARN, "clock = node, but node %016" PRIx64 " sends records without a timestamp; "
                   "they keep the room's time", f->node_id);
        return now >= 0 ? now : 0;
    }
    int64_t uptime = (int64_t)f->time_ms;
    if (!c->known || f->epoch != c->epoch) {
        /* First record or a reboot: continue from the room's clock. */
        c->known = 1;
        c->epoch = f->epoch;
        c->wrap = 0;
        c->offset = now >= 0 ? now - uptime : 0;
    } else if (uptime + c->wrap < c->last_raw - (INT64_C(1) << 31)) {
        c->wrap += INT64_C(1) << 32;
    }
    c->last_raw = uptime + c->wrap;
    int64_t t = c->last_raw + c->offset;
    /* Another node of the room may be ahead: never go back. */
    return t < now ? now : t;
}

static void log_unplaced(gw_rooms *r, uint64_t node_id)
{
    r->unplaced_frames++;
    for (size_t i = 0; i < r->unplaced_logged_count; i++)
        if (r->unplaced_logged[i] == node_id)
            return;
    if (r->unplaced_logged_count < UNPLACED_LOGGED_MAX)
        r->unplaced_logged[r->unplaced_logged_count++] = node_id;
    gw_log(GW_WARN, "node %016" PRIx64 " is in no room (add it to a [room] 'nodes' line); its records are sent "
           "without a room", node_id);
}

static void drain_events(gw_rooms *r, gw_telemetry *tele, int64_t unix_ms)
{
    for (;;) {
        sbprov_air_event ev;
        ev.struct_size = sizeof ev;
        if (sbprov_air_building_next_event(&ev, r->building) != SBPROV_OK || ev.kind == SBPROV_AIR_EVENT_NONE)
            return;
        gw_level level = ev.kind == SBPROV_AIR_EVENT_VENTILATION_NEEDED ? GW_NOTICE : GW_INFO;
        gw_log(level, "room %s: %s (%s)%s", ev.room, sbprov_air_event_kind_name(ev.kind), ev.reason_text,
               ev.co2_class == SBPROV_AIR_CO2_VENTILATE_NOW && ev.kind == SBPROV_AIR_EVENT_VENTILATION_NEEDED
                   ? ": open the windows now"
                   : "");
        gw_telemetry_push_event(tele, &ev, unix_ms);
    }
}

void gw_rooms_feed(gw_rooms *r, const sbprov_frame *f, int64_t arrival_ms, int64_t unix_ms, gw_telemetry *tele)
{
    sbprov_air_room *room = NULL;
    if (sbprov_air_building_room_for_node(&room, r->building, f->node_id) != SBPROV_OK) {
        log_unplaced(r, f->node_id);
        gw_telemetry_push_frame(tele, f, "", unix_ms);
        return;
    }
    const char *room_name = sbprov_air_room_name(room);
    /* The record first, then the events it causes: the order a reader expects. */
    gw_telemetry_push_frame(tele, f, room_name, unix_ms);
    int64_t t = r->clock_node ? node_time(r, f, room) : arrival_ms;
    sbprov_result rc = t < 0 ? SBPROV_EINVAL : sbprov_air_building_update_frame(r->building, f, t);
    if (rc != SBPROV_OK)
        gw_log_result(GW_DEBUG, rc, "room %s: record of node %016" PRIx64 " not used", room_name, f->node_id);
    drain_events(r, tele, unix_ms);
}

uint64_t gw_rooms_unplaced_frames(const gw_rooms *r)
{
    return r->unplaced_frames;
}

void gw_rooms_write_states(gw_rooms *r, FILE *f)
{
    fputc('[', f);
    size_t n = sbprov_air_building_room_count(r->building);
    for (size_t i = 0; i < n; i++) {
        sbprov_air_room *room;
        char json[1024];
        if (sbprov_air_building_room_at(&room, r->building, i) == SBPROV_OK &&
            sbprov_air_room_state_json(json, sizeof json, NULL, room) == SBPROV_OK)
            fprintf(f, "%s%s", i > 0 ? "," : "", json);
    }
    fputc(']', f);
}
