/*
 * sbprov-mcu-sim: simulates the sensor nodes of several rooms (docs/mcu-sim.md)
 * and sends their frames, built with the microcontroller encoder
 * (sbprov/frame_encode.h, compiled in as a node would), to a byte stream,
 * a pty, a serial device or UDP.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sbprov/frame_encode.h>

#include "room_model.h"
#include "scenario.h"
#include "sim_output.h"

static const char usage[] =
    "usage: sbprov-mcu-sim (--output FILE|- | --pty [--pty-link PATH] | --serial DEV [--baud N] | --udp HOST:PORT)\n"
    "                      [--scenario demo|steady] [--rooms N] [--speed X] [--period S] [--duration S]\n"
    "                      [--frames N] [--seed N] [--truth FILE] [--corrupt-rate P] [--drop-rate P]\n"
    "                      [--duplicate-rate P] [--reboot-at S] [--quiet]\n"
    "       sbprov-mcu-sim --list-nodes [--scenario ...] [--rooms N]\n"
    "\n"
    "  --scenario NAME   demo (3 rooms, 70 simulated minutes; default) or steady (--rooms N, constant)\n"
    "  --speed X         simulated seconds per real second (default 60; 0: as fast as possible)\n"
    "  --period S        simulated seconds between a node's records (default 30)\n"
    "  --duration S      simulated seconds to run (default: the scenario's length; steady: forever)\n"
    "  --frames N        stop after exactly N records in total (hello records included)\n"
    "  --truth FILE      JSON lines: each room's true state at each period\n"
    "  --corrupt-rate P  flip a bit in this fraction of records (streams only)\n"
    "  --drop-rate P     lose this fraction of records (sequence numbers still advance)\n"
    "  --duplicate-rate P  send this fraction of records twice\n"
    "  --reboot-at S     every node reboots at this simulated second (new epoch, hello)\n"
    "Exit status: 0 done or stopped by SIGINT/SIGTERM, 1 output failed, 2 usage error.\n";

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct node {
    size_t room;
    int sensor;          /* 0: CO2/climate (+PIR if the room has no PIR node); 1: PIR */
    uint8_t id[SBPROV_FRAME_NODE_SIZE];
    uint16_t epoch, seq;
    double boot_s;       /* simulated time of its boot */
    uint32_t battery_mv;
} node;

typedef struct options {
    const char *scenario, *output, *udp, *serial, *pty_link, *truth;
    int pty, list_nodes, quiet;
    unsigned rooms, baud;
    double speed, period_s, duration_s, corrupt, drop, duplicate, reboot_at_s;
    uint64_t frames, seed;
} options;

typedef struct counts {
    uint64_t frames, hello, corrupted, dropped, duplicated, reboots;
    uint64_t *per_room;
} counts;

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_options(options *o, int argc, char **argv)
{
    *o = (options){.scenario = "demo", .rooms = 10, .baud = 115200, .speed = 60, .period_s = 30,
                   .duration_s = -1, .reboot_at_s = -1, .seed = 1};
    int outputs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
#define NEED()                                                                         \
    do {                                                                               \
        if (v == NULL) {                                                               \
            fprintf(stderr, "sbprov-mcu-sim: %s needs a value\n", a);                  \
            return -1;                                                                 \
        }                                                                              \
        i++;                                                                           \
    } while (0)
#define RANGE(lo, hi, what)                                                             \
    do {                                                                                \
        NEED();                                                                         \
        if (parse_double(v, lo, hi, &d) != 0) {                                         \
            fprintf(stderr, "sbprov-mcu-sim: %s: '%s' is not %s\n", a, v, what);        \
            return -1;                                                                  \
        }                                                                               \
    } while (0)
        if (strcmp(a, "--output") == 0) { NEED(); o->output = v; outputs++; }
        else if (strcmp(a, "--udp") == 0) { NEED(); o->udp = v; outputs++; }
        else if (strcmp(a, "--serial") == 0) { NEED(); o->serial = v; outputs++; }
        else if (strcmp(a, "--pty") == 0) { o->pty = 1; outputs++; }
        else if (strcmp(a, "--pty-link") == 0) { NEED(); o->pty_link = v; }
        else if (strcmp(a, "--truth") == 0) { NEED(); o->truth = v; }
        else if (strcmp(a, "--scenario") == 0) { NEED(); o->scenario = v; }
        else if (strcmp(a, "--list-nodes") == 0) o->list_nodes = 1;
        else if (strcmp(a, "--quiet") == 0) o->quiet = 1;
        else if (strcmp(a, "--rooms") == 0) { RANGE(1, SCENARIO_ROOMS_MAX, "a room count 1..4096"); o->rooms = (unsigned)d; }
        else if (strcmp(a, "--baud") == 0) { RANGE(50, 4000000, "a baud rate"); o->baud = (unsigned)d; }
        else if (strcmp(a, "--speed") == 0) { RANGE(0, 1e9, "a speed >= 0"); o->speed = d; }
        else if (strcmp(a, "--period") == 0) { RANGE(1, 3600, "1..3600 seconds"); o->period_s = d; }
        else if (strcmp(a, "--duration") == 0) { RANGE(0, 1e9, "seconds >= 0"); o->duration_s = d; }
        else if (strcmp(a, "--frames") == 0) { RANGE(1, 1e15, "a count >= 1"); o->frames = (uint64_t)d; }
        else if (strcmp(a, "--seed") == 0) { RANGE(0, 1e15, "a seed >= 0"); o->seed = (uint64_t)d; }
        else if (strcmp(a, "--corrupt-rate") == 0) { RANGE(0, 1, "a rate 0..1"); o->corrupt = d; }
        else if (strcmp(a, "--drop-rate") == 0) { RANGE(0, 1, "a rate 0..1"); o->drop = d; }
        else if (strcmp(a, "--duplicate-rate") == 0) { RANGE(0, 1, "a rate 0..1"); o->duplicate = d; }
        else if (strcmp(a, "--reboot-at") == 0) { RANGE(0, 1e9, "seconds >= 0"); o->reboot_at_s = d; }
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { fputs(usage, stdout); exit(0); }
        else {
            fprintf(stderr, "sbprov-mcu-sim: unknown option '%s'\n%s", a, usage);
            return -1;
        }
    }
    if (!o->list_nodes && outputs != 1) {
        fprintf(stderr, "sbprov-mcu-sim: give exactly one of --output, --pty, --serial, --udp\n");
        return -1;
    }
    if (o->udp != NULL && o->corrupt > 0) {
        fprintf(stderr, "sbprov-mcu-sim: --corrupt-rate needs a byte stream (UDP has its own checksum)\n");
        return -1;
    }
    return 0;
}

static void list_nodes(const scenario *s)
{
    printf("{\"scenario\":\"%s\",\"rooms\":[", s->name);
    for (size_t i = 0; i < s->room_count; i++) {
        const scenario_room *r = &s->rooms[i];
        printf("%s{\"name\":\"%s\",\"volume_m3\":%.1f,\"nodes\":[\"%016" PRIx64 "\"", i ? "," : "", r->name,
               r->volume_m3, scenario_node_id(i, 0));
        if (r->pir_node)
            printf(",\"%016" PRIx64 "\"", scenario_node_id(i, 1));
        printf("]}");
    }
    printf("]}\n");
}

/* Build a node's record at simulated time t. Returns its length (0 on an encoder error). */
static size_t build_record(uint8_t *rec, const node *n, const room_model *room, int has_pir_node, uint32_t motion,
                           int hello, double t, sim_rng *g)
{
    sbprov_frame_builder b;
    size_t len = 0;
    uint32_t uptime_ms = (uint32_t)fmod((t - n->boot_s) * 1000.0, 4294967296.0);
    if (sbprov_frame_builder_init(&b, rec, SBPROV_FRAME_MAX, hello ? SBPROV_FRAME_TYPE_HELLO : SBPROV_FRAME_TYPE_READINGS,
                                  n->id, n->epoch, n->seq) != SBPROV_FRAME_ENC_OK ||
        sbprov_frame_add_timestamp(&b, uptime_ms) != SBPROV_FRAME_ENC_OK)
        return 0;
    if (!hello && n->sensor == 0) {
        /* Sensor noise of NDIR CO2 (about 5 ppm) and an SHT-class climate sensor. */
        double co2 = room->co2_ppm + 5.0 * sim_rng_normal(g);
        double temp = room->temperature_c + 0.02 * sim_rng_normal(g);
        double hum = room->humidity_pct + 0.1 * sim_rng_normal(g);
        sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, (int32_t)lround(co2 < 0 ? 0 : co2));
        sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, (int32_t)lround(temp * 100.0));
        sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_HUMIDITY_PCT, (int32_t)lround(hum * 100.0));
        if (!has_pir_node)
            sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_MOTION, (int32_t)(motion > 255 ? 255 : motion));
    } else if (!hello) {
        sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_MOTION, (int32_t)(motion > 255 ? 255 : motion));
    }
    sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_BATTERY_MV, (int32_t)n->battery_mv);
    return sbprov_frame_finish(&b, &len) == SBPROV_FRAME_ENC_OK ? len : 0;
}

/* Send one record with the configured faults. 0, or -1 when the output failed. */
static int send_record(sim_output *out, const options *o, sim_rng *g, uint8_t *rec, size_t len, counts *c)
{
    if (o->drop > 0 && sim_rng_uniform(g) < o->drop) {
        c->dropped++;
        return 0;
    }
    int copies = o->duplicate > 0 && sim_rng_uniform(g) < o->duplicate ? 2 : 1;
    c->duplicated += (uint64_t)(copies - 1);
    for (int k = 0; k < copies; k++) {
        if (o->corrupt > 0 && sim_rng_uniform(g) < o->corrupt) {
            uint8_t wire[SBPROV_FRAME_WIRE_MAX];
            size_t wire_len;
            if (sbprov_cobs_encode(wire, sizeof wire, rec, len, &wire_len) != SBPROV_FRAME_ENC_OK)
                return -1;
            size_t at = (size_t)(sim_rng_uniform(g) * (double)(wire_len - 1)); /* never the delimiter */
            wire[at] ^= (uint8_t)(1u << (unsigned)(sim_rng_uniform(g) * 8));
            c->corrupted++;
            if (sim_output_raw(out, wire, wire_len) != 0)
                return -1;
        } else if (sim_output_record(out, rec, len) != 0) {
            return -1;
        }
    }
    return 0;
}

static void sleep_until(const struct timespec *start, double real_s)
{
    struct timespec ts = *start;
    double whole = floor(real_s);
    ts.tv_sec += (time_t)whole;
    ts.tv_nsec += (long)((real_s - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static int simulate(const options *o, const scenario *s, sim_output *out, FILE *truth, counts *c)
{
    size_t node_count = 0;
    for (size_t i = 0; i < s->room_count; i++)
        node_count += 1 + (size_t)s->rooms[i].pir_node;
    room_model *rooms = calloc(s->room_count, sizeof *rooms);
    node *nodes = calloc(node_count, sizeof *nodes);
    c->per_room = calloc(s->room_count, sizeof *c->per_room);
    if (rooms == NULL || nodes == NULL || c->per_room == NULL) {
        fprintf(stderr, "sbprov-mcu-sim: out of memory\n");
        free(rooms);
        free(nodes);
        return 1;
    }
    sim_rng g;
    sim_rng_seed(&g, o->seed);
    size_t k = 0;
    for (size_t i = 0; i < s->room_count; i++) {
        room_model_init(&rooms[i], s->rooms[i].volume_m3);
        for (int sensor = 0; sensor <= s->rooms[i].pir_node; sensor++, k++) {
            node *n = &nodes[k];
            n->room = i;
            n->sensor = sensor;
            uint64_t id = scenario_node_id(i, sensor);
            for (int b = 0; b < 8; b++)
                n->id[b] = (uint8_t)(id >> (56 - 8 * b));
            n->epoch = 1;
            n->seq = (uint16_t)(sim_rng_uniform(&g) * 65536); /* nodes start anywhere: wrap-around happens */
            n->battery_mv = 3000 + (uint32_t)(sim_rng_uniform(&g) * 300);
        }
    }
    double duration = o->duration_s >= 0 ? o->duration_s : o->frames > 0 ? 0 : s->duration_s;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0, rebooted = 0, hello_due = 1;
    uint8_t rec[SBPROV_FRAME_MAX];
    for (double t = 0; !stop_requested; t += o->period_s) {
        if (duration > 0 && t > duration)
            break;
        if (o->speed > 0)
            sleep_until(&start, t / o->speed);
        if (o->reboot_at_s >= 0 && !rebooted && t >= o->reboot_at_s) {
            for (size_t j = 0; j < node_count; j++) {
                nodes[j].epoch++;
                nodes[j].seq = 0;
                nodes[j].boot_s = t;
            }
            rebooted = 1;
            hello_due = 1;
            c->reboots += node_count;
        }
        for (size_t i = 0; i < s->room_count; i++) {
            int people, window;
            scenario_state(&s->rooms[i], t, &people, &window);
            rooms[i].people = people;
            rooms[i].window_open = window;
            if (t > 0)
                room_model_step(&rooms[i], o->period_s);
            if (truth != NULL)
                fprintf(truth, "{\"t_s\":%.0f,\"room\":\"%s\",\"people\":%d,\"window\":%s,\"co2_ppm\":%.1f,"
                        "\"temperature_c\":%.2f,\"humidity_pct\":%.2f}\n", t, s->rooms[i].name, people,
                        window ? "true" : "false", rooms[i].co2_ppm, rooms[i].temperature_c, rooms[i].humidity_pct);
        }
        for (int pass = hello_due ? 0 : 1; pass < 2 && status == 0; pass++) {
            for (size_t j = 0; j < node_count && !stop_requested; j++) {
                node *n = &nodes[j];
                const room_model *room = &rooms[n->room];
                /* PIR: events per period, about one per person per minute while seated. */
                uint32_t motion = room->people > 0 ? sim_rng_poisson(&g, room->people * o->period_s / 60.0) : 0;
                size_t len = build_record(rec, n, room, s->rooms[n->room].pir_node, motion, pass == 0, t, &g);
                if (len == 0 || send_record(out, o, &g, rec, len, c) != 0) {
                    status = 1;
                    break;
                }
                n->seq++;
                c->frames++;
                c->hello += pass == 0;
                c->per_room[n->room]++;
                if (n->battery_mv > 2000 && sim_rng_uniform(&g) < 0.01)
                    n->battery_mv--;
                if (o->frames > 0 && c->frames >= o->frames)
                    goto done;
            }
        }
        hello_due = 0;
        if (status != 0)
            break;
    }
done:
    free(rooms);
    free(nodes);
    return status;
}

static void print_summary(const scenario *s, const counts *c)
{
    fprintf(stderr, "{\"frames\":%" PRIu64 ",\"hello\":%" PRIu64 ",\"corrupted\":%" PRIu64 ",\"dropped\":%" PRIu64
            ",\"duplicated\":%" PRIu64 ",\"reboots\":%" PRIu64 ",\"rooms\":{",
            c->frames, c->hello, c->corrupted, c->dropped, c->duplicated, c->reboots);
    for (size_t i = 0; i < s->room_count && c->per_room != NULL; i++)
        fprintf(stderr, "%s\"%s\":%" PRIu64, i ? "," : "", s->rooms[i].name, c->per_room[i]);
    fprintf(stderr, "}}\n");
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(&o, argc, argv) != 0)
        return 2;
    scenario s;
    char err[256];
    if (scenario_make(&s, o.scenario, o.rooms, o.seed, err, sizeof err) != 0) {
        fprintf(stderr, "sbprov-mcu-sim: %s\n", err);
        return 2;
    }
    if (o.list_nodes) {
        list_nodes(&s);
        scenario_free(&s);
        return 0;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    sim_output out;
    sim_output_kind kind = o.udp != NULL ? OUT_UDP : o.pty ? OUT_PTY : o.serial != NULL ? OUT_SERIAL : OUT_FILE;
    const char *target = o.udp != NULL ? o.udp : o.serial != NULL ? o.serial : o.output;
    FILE *truth = NULL;
    if (o.truth != NULL && (truth = fopen(o.truth, "w")) == NULL) {
        fprintf(stderr, "sbprov-mcu-sim: --truth %s: %s\n", o.truth, strerror(errno));
        scenario_free(&s);
        return 1;
    }
    if (sim_output_open(&out, kind, target, o.pty_link, o.baud) != 0) {
        if (truth != NULL)
            fclose(truth);
        scenario_free(&s);
        return 1;
    }
    counts c = {0};
    int status = simulate(&o, &s, &out, truth, &c);
    sim_output_close(&out, &stop_requested);
    if (truth != NULL)
        fclose(truth);
    if (!o.quiet)
        print_summary(&s, &c);
    free(c.per_room);
    scenario_free(&s);
    return status;
}
