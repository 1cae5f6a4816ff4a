/* Internal: rooms (air_room.c) as the building (air_building.c) sees them. */
#ifndef SBPROV_INTERNAL_AIR_H
#define SBPROV_INTERNAL_AIR_H

#include "sbprov/air.h"


/* Create a room with `opts` (NULL for the defaults) named `name` ("" for none;
 * the caller has checked it fits SBPROV_AIR_NAME_SIZE); `in_building` makes
 * sbprov_air_room_free() a no-op for it (sbprov__air_room_destroy() frees it). */
sbprov_result sbprov__air_room_create(sbprov_air_room **out, const sbprov_air_room_options *opts, const char *name,
                                      int in_building);

/* Free a room whatever owns it. NULL is a no-op. */
void sbprov__air_room_destroy(sbprov_air_room *room);

/* Time of the oldest queued event: 1 and *time_ms, or 0 if the queue is empty. */
int sbprov__air_room_peek_time(const sbprov_air_room *room, int64_t *time_ms);

#endif
