/*
 * sbprov-gateway: the configuration file (docs/gateway.md "Configuration").
 * SPDX-License-Identifier: MIT
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <sbprov/air.h>

#define GW_ROOMS_MAX 4096

typedef struct gw_room_config {
    char name[SBPROV_AIR_NAME_SIZE];
    int line;                     /* of its [room "..."] header, for messages */
    uint64_t *nodes;              /* owned */
    size_t node_count;
    sbprov_air_room_options options;
} gw_room_config;

/* Strings are owned (NULL when not set); numbers hold their defaults. */
typedef struct gw_config {
    char *path;

    /* [device] */
    char *state_dir;              /* required */
    char *store_key_file;         /* default <state_dir>/store.key */
    char *key;                    /* path or URI; default <state_dir>/device.pem */
    char *key_providers;          /* e.g. "tpm2,default" */
    char *key_openssl_conf;
    char *identity;               /* "auto" (default), "stored", "probe" or "script:PATH" */
    char *env_file;               /* default <state_dir>/azure-iot.env */
    char *stats_file;             /* default <state_dir>/gateway-stats.json */

    /* [mender] (skipped when url is not set) */
    char *mender_url;
    char *mender_tenant_token_file;
    char *mender_ca_file;
    uint32_t mender_first_interval_s; /* 0: Mender's 60 s */
    uint32_t mender_max_interval_s;   /* 0: Mender's 300 s */

    /* [azure] (skipped when neither DPS nor a connection string is configured or stored) */
    char *azure_id_scope;
    char *azure_dps_url;
    char *azure_registration_id;  /* template, e.g. gw-{mac:compact} */
    char *azure_group_key_file;
    char *azure_connection_string_file;
    char *azure_hub_url;          /* connect here instead of https://<HostName> */
    char *azure_ca_file;

    /* [telemetry] */
    uint32_t batch_max_messages;  /* default 50 */
    uint32_t batch_max_ms;        /* default 5000 */
    uint32_t queue_max_messages;  /* default 4096: the loss bound */
    uint32_t retry_max_s;         /* longest back-off between attempts, default 60 */

    /* [input] (exactly one of serial and udp) */
    char *serial;
    uint32_t baud;                /* default 115200 */
    char *udp;                    /* [host]:port */
    int clock_node;               /* clock = node: the frames' timestamps drive the rooms */

    /* [log] */
    int log_level;                /* gw_level; default info */
    uint32_t stats_interval_ms;   /* default 2000 */

    gw_room_config *rooms;
    size_t room_count;
} gw_config;

/* Read and check `path`. On failure returns -1 with "file:line: problem" in
 * err; nothing is allocated then. */
int gw_config_load(gw_config *out, const char *path, char *err, size_t err_size);

void gw_config_free(gw_config *cfg);

#endif
