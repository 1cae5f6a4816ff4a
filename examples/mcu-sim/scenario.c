/*
 * sbprov-mcu-sim: scenarios (see scenario.h).
 * SPDX-License-Identifier: MIT
 */
#include "scenario.h"
#include "room_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(scenario_room *r, double minute, int people, int window)
{
    r->changes[r->change_count++] = (scenario_change){minute * 60.0, people, window};
}

/* The demo's timeline (simulated minutes):
 *   4.12 (50 m^3): 6 people at 2, CO2 passes 1000 ppm about 15 min later, the
 *        window opens at 30 for 10 min, everyone leaves at 50.
 *   4.14 (35 m^3): 2 people from 5 to 25.
 *   4.16 (60 m^3): empty all along. */
static int make_demo(scenario *s)
{
    s->room_count = 3;
    s->duration_s = 70 * 60; /* 20 minutes after the meeting: the room becomes free */
    if ((s->rooms = calloc(3, sizeof *s->rooms)) == NULL)
        return -1;
    scenario_room *r = s->rooms;
    snprintf(r[0].name, sizeof r[0].name, "4.12");
    r[0].volume_m3 = 50;
    r[0].pir_node = 1;
    add(&r[0], 0, 0, 0);
    add(&r[0], 2, 6, 0);
    add(&r[0], 30, 6, 1);
    add(&r[0], 40, 6, 0);
    add(&r[0], 50, 0, 0);
    snprintf(r[1].name, sizeof r[1].name, "4.14");
    r[1].volume_m3 = 35;
    add(&r[1], 0, 0, 0);
    add(&r[1], 5, 2, 0);
    add(&r[1], 25, 0, 0);
    snprintf(r[2].name, sizeof r[2].name, "4.16");
    r[2].volume_m3 = 60;
    add(&r[2], 0, 0, 0);
    return 0;
}

static int make_steady(scenario *s, unsigned rooms, uint64_t seed)
{
    sim_rng g;
    sim_rng_seed(&g, seed ^ 0x5354454144590000ull);
    s->room_count = rooms;
    s->duration_s = 0;
    if ((s->rooms = calloc(rooms, sizeof *s->rooms)) == NULL)
        return -1;
    for (unsigned i = 0; i < rooms; i++) {
        scenario_room *r = &s->rooms[i];
        snprintf(r->name, sizeof r->name, "room-%u", i + 1);
        r->volume_m3 = 30 + 50 * sim_rng_uniform(&g);
        add(r, 0, (int)(sim_rng_uniform(&g) * 9), 0);
    }
    return 0;
}

int scenario_make(scenario *out, const char *name, unsigned rooms, uint64_t seed, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (strcmp(name, "demo") == 0) {
        out->name = "demo";
        rc = make_demo(out);
    } else if (strcmp(name, "steady") == 0) {
        if (rooms < 1 || rooms > SCENARIO_ROOMS_MAX) {
            snprintf(err, err_size, "--rooms: %u is not 1..%d", rooms, SCENARIO_ROOMS_MAX);
            return -1;
        }
        out->name = "steady";
        rc = make_steady(out, rooms, seed);
    } else {
        snprintf(err, err_size, "unknown scenario '%s' (demo, steady)", name);
        return -1;
    }
    if (rc != 0)
        snprintf(err, err_size, "out of memory");
    return rc;
}

void scenario_free(scenario *s)
{
    free(s->rooms);
    memset(s, 0, sizeof *s);
}

void scenario_state(const scenario_room *r, double t_s, int *people, int *window_open)
{
    *people = 0;
    *window_open = 0;
    for (size_t i = 0; i < r->change_count && r->changes[i].t_s <= t_s; i++) {
        *people = r->changes[i].people;
        *window_open = r->changes[i].window_open;
    }
}

uint64_t scenario_node_id(size_t room_index, int sensor)
{
    return 0x5342000000000000ull | (uint64_t)(room_index + 1) << 8 | (uint64_t)sensor;
}
