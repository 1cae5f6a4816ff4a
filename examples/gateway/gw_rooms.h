/*
 * sbprov-gateway: the rooms of the building, fed by accepted records.
 * SPDX-License-Identifier: MIT
 */
#ifndef GW_ROOMS_H
#define GW_ROOMS_H

#include <stdint.h>
#include <stdio.h>

#include <sbprov/air.h>
#include <sbprov/frame.h>

#include "gw_config.h"
#include "gw_telemetry.h"

typedef struct gw_rooms gw_rooms;

/* Build the rooms of `cfg` (its [room] sections). -1 (logged) on failure. */
int gw_rooms_new(gw_rooms **out, const gw_config *cfg);
void gw_rooms_free(gw_rooms *rooms);

/* Feed one accepted record to its node's room and queue it on `tele` (may be
 * NULL) with the room's name, followed by the room events it caused (also
 * logged). `arrival_ms` is the gateway's monotonic clock; with clock = node
 * the record's own timestamp drives its room instead. A node in no room is
 * logged once; its records are queued without a room. */
void gw_rooms_feed(gw_rooms *rooms, const sbprov_frame *frame, int64_t arrival_ms, int64_t unix_ms,
                   gw_telemetry *tele);

/* Counters for the stats file. */
uint64_t gw_rooms_unplaced_frames(const gw_rooms *rooms);

/* Write "[{room state},...]" (sbprov_air_room_state_json per room) to f. */
void gw_rooms_write_states(gw_rooms *rooms, FILE *f);

#endif
