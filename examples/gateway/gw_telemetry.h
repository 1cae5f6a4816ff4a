/*
 * sbprov-gateway: the telemetry queue and its sender thread.
 *
 * Records and room events wait in a ring of `queue_max_messages` slots,
 * allocated at start. A sender thread takes up to `batch_max_messages` of
 * them when that many wait or the oldest has waited `batch_max_ms`, and
 * sends them to IoT Hub as one message whose body is a JSON array. While the
 * hub throttles (429) or fails, the batch is retried with back-off and the
 * ring keeps filling; only a full ring drops its oldest message (counted).
 * So nothing is lost while fewer than queue_max_messages wait besides the
 * batch being sent: the documented loss bound.
 * SPDX-License-Identifier: MIT
 */
#ifndef GW_TELEMETRY_H
#define GW_TELEMETRY_H

#include <stdint.h>

#include <sbprov/air.h>
#include <sbprov/azure_http.h>
#include <sbprov/frame.h>

#include "gw_config.h"

typedef struct gw_telemetry gw_telemetry;

typedef struct gw_telemetry_stats {
    uint64_t queued;        /* messages put into the ring */
    uint64_t sent;          /* messages the hub accepted */
    uint64_t batches;       /* hub messages (batches) accepted */
    uint64_t dropped;       /* oldest messages dropped because the ring was full */
    uint64_t rejected;      /* messages in batches the hub refused as malformed (not retried) */
    uint64_t retries;       /* failed attempts that were retried */
    uint64_t unsent;        /* messages still waiting when the sender stopped */
    uint32_t waiting;       /* messages in the ring now (and in the batch being sent) */
    char last_error[256];   /* the latest failure, "" if none */
} gw_telemetry_stats;

/* Start the sender for `hub` (not owned; must outlive gw_telemetry_stop()).
 * Returns 0, or -1 (logged) when memory or the thread cannot be had. */
int gw_telemetry_start(gw_telemetry **out, sbprov_azure_hub *hub, const gw_config *cfg);

/* Queue one accepted record of the node in `room` ("" if in none), received
 * at `unix_ms`. Never blocks on the network. */
void gw_telemetry_push_frame(gw_telemetry *t, const sbprov_frame *frame, const char *room, int64_t unix_ms);

/* Queue one room event, as {"event": ..., "room": ..., ...}. */
void gw_telemetry_push_event(gw_telemetry *t, const sbprov_air_event *event, int64_t unix_ms);

void gw_telemetry_get_stats(gw_telemetry *t, gw_telemetry_stats *out);

/* Send what is waiting for at most `flush_ms`, then cancel the transfer in
 * progress, stop the thread and free everything. NULL is a no-op. */
void gw_telemetry_stop(gw_telemetry *t, uint32_t flush_ms, gw_telemetry_stats *final_stats);

#endif
