/*
 * sbprov-mcu-sim: scenarios, i.e. who is in which room when, and windows.
 * SPDX-License-Identifier: MIT
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#define SCENARIO_ROOMS_MAX 4096
#define SCENARIO_CHANGES_MAX 8

/* From t_s on (simulated seconds), `people` are in the room and the window is open or not. */
typedef struct scenario_change {
    double t_s;
    int people;
    int window_open;
} scenario_change;

typedef struct scenario_room {
    char name[32];
    double volume_m3;
    int pir_node;  /* 1: a second node, a PIR-only sensor, as ceiling PIRs often are */
    scenario_change changes[SCENARIO_CHANGES_MAX];
    size_t change_count;
} scenario_room;

typedef struct scenario {
    const char *name;
    double duration_s;    /* the default length; 0 = runs until --duration/--frames */
    scenario_room *rooms; /* owned */
    size_t room_count;
} scenario;

/* "demo" (three rooms, a fixed 70-minute timeline) or "steady" (`rooms`
 * rooms, random sizes and constant occupancy from `seed`). Returns 0, or -1
 * with a message in err. */
int scenario_make(scenario *out, const char *name, unsigned rooms, uint64_t seed, char *err, size_t err_size);
void scenario_free(scenario *s);

/* People and window of a room at t_s. */
void scenario_state(const scenario_room *r, double t_s, int *people, int *window_open);

/* The 64-bit node ID of a room's sensor (0: the main one, 1: the PIR):
 * "SB" 0x5342, then the room number and the sensor index. */
uint64_t scenario_node_id(size_t room_index, int sensor);

#endif
