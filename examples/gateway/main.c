/*
 * sbprov-gateway: the smart-building gateway daemon (docs/gateway.md).
 * Provisions the gateway once (Mender, Azure DPS, credential store, env
 * file), then reads sensor frames, keeps per-room state, logs occupancy and
 * ventilation events, and sends telemetry to IoT Hub in batches.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sbprov/sbprov.h>

#include "gw_config.h"
#include "gw_input.h"
#include "gw_log.h"
#include "gw_provision.h"
#include "gw_rooms.h"
#include "gw_telemetry.h"

#define FLUSH_MS 5000 /* how long a stop may spend sending what waits */

static const char usage[] =
    "usage: sbprov-gateway [-c FILE] [--check-config] [--provision-only] [-v | -q]\n"
    "\n"
    "  -c, --config FILE   configuration file (default /etc/sbprov/gateway.conf)\n"
    "  --check-config      read and check the configuration, print a summary, exit\n"
    "  --provision-only    provision (Mender, Azure, store, env file) and exit\n"
    "  -v, --verbose       log debug lines too;  -q, --quiet: warnings and errors only\n"
    "  --version           print the version\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop (sending what waits for up to 5 s); SIGHUP reloads the rooms.\n"
    "Exit status: 0 stopped cleanly, 1 provisioning or runtime failure, 2 usage or configuration error.\n";

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    gw_provision_cancel();
}

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct feed_ctx {
    gw_rooms *rooms;
    gw_telemetry *tele;
    int64_t mono_ms, unix_ms; /* of the read that brought the records */
} feed_ctx;

static int on_frame(const sbprov_frame *frame, void *payload)
{
    feed_ctx *ctx = payload;
    gw_rooms_feed(ctx->rooms, frame, ctx->mono_ms, ctx->unix_ms, ctx->tele);
    return 0;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* The stats file: counters and room states as one JSON object, replaced
 * atomically, for operators, monitoring and the tests. */
static void write_stats(const gw_config *cfg, const gw_device *dev, const sbprov_frame_decoder *dec, gw_rooms *rooms,
                        const gw_telemetry_stats *ts, int64_t started_ms, int final)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", cfg->stats_file);
    FILE *f = fopen(tmp, "we");
    if (f == NULL) {
        gw_log(GW_WARN, "stats file %s: %s", tmp, strerror(errno));
        return;
    }
    sbprov_frame_counters c = {.struct_size = sizeof c};
    if (sbprov_frame_decoder_counters(&c, dec) != SBPROV_OK)
        memset(&c, 0, sizeof c);
    fprintf(f, "{\"pid\":%ld,\"final\":%s,\"time_unix_ms\":%" PRId64 ",\"uptime_ms\":%" PRId64 ",\"provisioning\":{",
            (long)getpid(), final ? "true" : "false", clock_ms(CLOCK_REALTIME), clock_ms(CLOCK_MONOTONIC) - started_ms);
    fputs("\"mender_device_id\":", f);
    json_string(f, dev->mender_device_id);
    fprintf(f, ",\"mender_reused\":%s,\"azure_device_id\":", dev->mender_reused ? "true" : "false");
    json_string(f, dev->azure_device_id);
    fputs(",\"azure_hub\":", f);
    json_string(f, dev->azure_hub_host);
    fprintf(f, ",\"azure_reused\":%s},", dev->azure_reused ? "true" : "false");
    fprintf(f,
            "\"frames\":{\"accepted\":%" PRIu64 ",\"crc\":%" PRIu64 ",\"too_long\":%" PRIu64 ",\"truncated\":%" PRIu64
            ",\"bad_version\":%" PRIu64 ",\"bad_length\":%" PRIu64 ",\"unknown_type\":%" PRIu64 ",\"duplicate\":%" PRIu64
            ",\"gaps\":%" PRIu64 ",\"reboots\":%" PRIu64 ",\"unplaced\":%" PRIu64 "},",
            c.frames, c.crc, c.too_long, c.truncated, c.bad_version, c.bad_length, c.unknown_type, c.duplicate, c.gaps,
            c.reboots, gw_rooms_unplaced_frames(rooms));
    fprintf(f,
            "\"telemetry\":{\"enabled\":%s,\"queued\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"batches\":%" PRIu64
            ",\"dropped\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"retries\":%" PRIu64 ",\"unsent\":%" PRIu64
            ",\"waiting\":%u,\"queue_max_messages\":%u,\"last_error\":",
            dev->hub != NULL ? "true" : "false", ts->queued, ts->sent, ts->batches, ts->dropped, ts->rejected,
            ts->retries, ts->unsent, ts->waiting, cfg->queue_max_messages);
    json_string(f, ts->last_error);
    fputs("},\"rooms\":", f);
    gw_rooms_write_states(rooms, f);
    fputs("}\n", f);
    if (fclose(f) != 0 || rename(tmp, cfg->stats_file) != 0) {
        gw_log(GW_WARN, "stats file %s: %s", cfg->stats_file, strerror(errno));
        unlink(tmp);
    }
}

/* SIGHUP: the rooms and the log level from the file again; the rest needs a restart. */
static void reload(gw_config *cfg, gw_rooms **rooms)
{
    gw_config fresh;
    char err[768];
    gw_rooms *r;
    if (gw_config_load(&fresh, cfg->path, err, sizeof err) != 0) {
        gw_log(GW_ERR, "reload: %s; keeping the running configuration", err);
        return;
    }
    if (gw_rooms_new(&r, &fresh) != 0) {
        gw_log(GW_ERR, "reload: keeping the running rooms");
        gw_config_free(&fresh);
        return;
    }
    gw_rooms_free(*rooms);
    *rooms = r;
    gw_log_set_level((gw_level)fresh.log_level);
    gw_log(GW_NOTICE, "reloaded %s: %zu rooms (their state starts afresh); changes outside [room] and [log] take "
           "effect at the next start", cfg->path, fresh.room_count);
    gw_config_free(&fresh);
}

static void print_summary(const gw_config *cfg)
{
    size_t nodes = 0;
    for (size_t i = 0; i < cfg->room_count; i++)
        nodes += cfg->rooms[i].node_count;
    printf("%s: OK\nstate_dir  %s\nkey        %s\nmender     %s\nazure      %s\ninput      %s%s\n"
           "telemetry  batches of %u messages or %u ms, queue %u messages\nrooms      %zu (%zu nodes)\n",
           cfg->path, cfg->state_dir, cfg->key, cfg->mender_url != NULL ? cfg->mender_url : "(not used)",
           cfg->azure_connection_string_file != NULL ? "connection string file"
           : cfg->azure_id_scope != NULL             ? "DPS"
                                                     : "from the store (fleet bundle), if any",
           cfg->udp != NULL ? "udp " : "serial ", cfg->udp != NULL ? cfg->udp : cfg->serial, cfg->batch_max_messages,
           cfg->batch_max_ms, cfg->queue_max_messages, cfg->room_count, nodes);
}

static int run(gw_config *cfg, int provision_only)
{
    int64_t started = clock_ms(CLOCK_MONOTONIC);
    gw_device dev;
    int r = gw_provision(&dev, cfg);
    if (r != 0 || provision_only || stop_requested) {
        gw_device_free(&dev);
        if (r == 2 || (r == 0 && stop_requested))
            gw_log(GW_NOTICE, "stopped during provisioning");
        return r == 1 ? 1 : 0;
    }

    /* From here the stop signals reach the main loop only inside ppoll, and
     * the sender thread (created below) never takes them. */
    sigset_t stop_set, run_mask;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_set, &run_mask);
    sigdelset(&run_mask, SIGTERM);
    sigdelset(&run_mask, SIGINT);
    sigdelset(&run_mask, SIGHUP);

    gw_rooms *rooms = NULL;
    gw_input *in = NULL;
    gw_telemetry *tele = NULL;
    sbprov_frame_decoder *dec = NULL;
    sbprov_frame_decoder_options dopts;
    int status = 1;
    if (sbprov_frame_decoder_options_init(&dopts, sizeof dopts) != SBPROV_OK ||
        sbprov_frame_decoder_new(&dec, &dopts) != SBPROV_OK) {
        gw_log_result(GW_ERR, sbprov_last_error_code(), "frame decoder");
        goto out;
    }
    if (gw_rooms_new(&rooms, cfg) != 0 || gw_input_open(&in, cfg) != 0 ||
        (dev.hub != NULL && gw_telemetry_start(&tele, dev.hub, cfg) != 0))
        goto out;
    gw_log(GW_NOTICE, "running: %zu rooms, telemetry %s", cfg->room_count,
           tele != NULL ? "to IoT Hub" : "off (no Azure configuration)");

    gw_telemetry_stats ts;
    feed_ctx ctx = {.rooms = rooms, .tele = tele};
    int64_t next_stats = 0;
    status = 0;
    while (!stop_requested) {
        int64_t now = clock_ms(CLOCK_MONOTONIC);
        if (now >= next_stats) {
            gw_telemetry_get_stats(tele, &ts);
            write_stats(cfg, &dev, dec, rooms, &ts, started, 0);
            next_stats = now + cfg->stats_interval_ms;
        }
        if (reload_requested) {
            reload_requested = 0;
            reload(cfg, &rooms);
            ctx.rooms = rooms;
        }
        struct pollfd p = {.fd = gw_input_fd(in), .events = POLLIN};
        int64_t wait = next_stats - now;
        int retry = gw_input_retry_ms(in);
        if (retry >= 0 && retry < wait)
            wait = retry;
        struct timespec to = {.tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(wait % 1000) * 1000000L};
        int n = ppoll(&p, p.fd >= 0 ? 1 : 0, &to, &run_mask);
        if (n < 0 && errno != EINTR) {
            gw_log(GW_ERR, "poll: %s", strerror(errno));
            status = 1;
            break;
        }
        if ((n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) || (p.fd < 0 && n == 0)) {
            ctx.mono_ms = clock_ms(CLOCK_MONOTONIC);
            ctx.unix_ms = clock_ms(CLOCK_REALTIME);
            if (gw_input_read(in, dec, on_frame, &ctx) != 0) {
                status = 1;
                break;
            }
        }
    }
    gw_log(GW_NOTICE, "stopping%s", tele != NULL ? ": sending what waits (up to 5 s)" : "");
    memset(&ts, 0, sizeof ts);
    gw_telemetry_stop(tele, FLUSH_MS, &ts);
    tele = NULL;
    write_stats(cfg, &dev, dec, rooms, &ts, started, 1);
out:
    gw_telemetry_stop(tele, 0, NULL);
    gw_input_close(in);
    gw_rooms_free(rooms);
    sbprov_frame_decoder_free(dec);
    gw_device_free(&dev);
    return status;
}

int main(int argc, char **argv)
{
    const char *path = "/etc/sbprov/gateway.conf";
    int check_only = 0, provision_only = 0, level = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(a, "--config=", 9) == 0)
            path = a + 9;
        else if (strcmp(a, "--check-config") == 0)
            check_only = 1;
        else if (strcmp(a, "--provision-only") == 0)
            provision_only = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            level = GW_DEBUG;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            level = GW_WARN;
        else if (strcmp(a, "--version") == 0) {
            printf("sbprov-gateway %s\n", sbprov_version());
            return 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "sbprov-gateway: unknown or incomplete option '%s'\n%s", a, usage);
            return 2;
        }
    }

    gw_config cfg;
    char err[768];
    if (gw_config_load(&cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "sbprov-gateway: %s\n", err);
        return 2;
    }
    if (check_only) {
        print_summary(&cfg);
        gw_config_free(&cfg);
        return 0;
    }
    gw_log_set_level(level >= 0 ? (gw_level)level : (gw_level)cfg.log_level);

    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (sbprov_global_init() < 0) {
        fprintf(stderr, "sbprov-gateway: library initialisation failed: %s\n", sbprov_last_error());
        gw_config_free(&cfg);
        return 1;
    }
    gw_log(GW_INFO, "sbprov-gateway %s starting with %s", sbprov_version(), cfg.path);
    int status = run(&cfg, provision_only);
    sbprov_global_shutdown();
    gw_config_free(&cfg);
    return status;
}
