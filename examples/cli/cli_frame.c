/* `sbprov frame ...`: encode sensor records from JSON lines, and decode a
 * byte stream (stdin, a file, a serial device or pty) or UDP datagrams into
 * JSON lines (docs/frame-format.md). */
#include "cli.h"
#include "serial_tty.h"

#include <sbprov/frame.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int cli_frame(int argc, char **argv);

/* Longest JSON input line accepted by `encode`. */
#define LINE_MAX_BYTES 4096

/* --- shared: "HOST:PORT" or "PORT" to a UDP socket address --------------------- */

/* Resolve `spec` for UDP; `passive` for binding (a bare PORT then means every
 * interface). Returns 0 with *out (freeaddrinfo it), or EXIT_USAGE (printed). */
static int resolve_udp(struct addrinfo **out, const char *spec, int passive, const char *prog)
{
    char host[256] = "";
    const char *port = spec, *colon = strrchr(spec, ':');
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    int rc;

    if (colon != NULL) {
        size_t n = (size_t)(colon - spec);
        if (n >= sizeof host)
            return cli_usage_error(prog, "'%s': host name too long", spec);
        memcpy(host, spec, n);
        host[n] = '\0';
        if (n >= 2 && host[0] == '[' && host[n - 1] == ']') { /* [::1]:9000 */
            memmove(host, host + 1, n - 2);
            host[n - 2] = '\0';
        }
        port = colon + 1;
    } else if (!passive) {
        return cli_usage_error(prog, "'%s': give HOST:PORT", spec);
    }
    long long p;
    if (cli_parse_i64(port, &p) != 0 || p < 1 || p > 65535)
        return cli_usage_error(prog, "'%s': the port must be 1..65535", spec);
    if (passive)
        hints.ai_flags = AI_PASSIVE;
    rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, out);
    if (rc != 0)
        return cli_usage_error(prog, "'%s': %s", spec, gai_strerror(rc));
    return 0;
}

/* --- encode ----------------------------------------------------------------------- */

static const char encode_help[] =
    "usage: sbprov frame encode [--input FILE] [--hex | --udp HOST:PORT]\n"
    "\n"
    "Read one JSON object a line and write each as a sensor frame (docs/frame-format.md):\n"
    "  {\"node\":\"0011223344556677\",\"epoch\":1,\"seq\":5,\"time_ms\":1500,\"type\":\"hello\",\n"
    "   \"readings\":{\"co2_ppm\":812,\"temperature_c\":21.53,\"humidity_pct\":45.2,\"motion\":1}}\n"
    "node (16 hex digits) and seq are required; epoch defaults to 0; time_ms, type\n"
    "(\"readings\" or \"hello\") and readings are optional. Reading names: co2_ppm,\n"
    "temperature_c, humidity_pct, motion, voc_ppb, pressure_pa, illuminance_lux,\n"
    "battery_mv; values must be exact in the kind's resolution (0.01 for temperature\n"
    "and humidity, whole numbers otherwise) and within its range. Blank lines are\n"
    "skipped. The first bad line stops the command (exit 2) naming its number.\n"
    "\n"
    "  --input FILE       read FILE instead of stdin\n"
    "  (default)          write the COBS-encoded frames, each ending in 0x00, to stdout\n"
    "  --hex              write one line per frame instead: RECORD_HEX WIRE_HEX\n"
    "  --udp HOST:PORT    send each record as one UDP datagram (no COBS)\n";

typedef struct encode_line {
    uint8_t record[SBPROV_FRAME_MAX];
    size_t record_len;
} encode_line;

/* Set *out to an integer field's value within [min, max]; 0, or -1 with `err` set. */
static int json_uint(const cJSON *o, const char *name, int required, long long def, long long max, long long *out,
                     char *err, size_t err_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL) {
        if (required) {
            snprintf(err, err_size, "'%s' is missing", name);
            return -1;
        }
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)max ||
        v->valuedouble != floor(v->valuedouble)) {
        snprintf(err, err_size, "'%s' must be a whole number 0..%lld", name, max);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

/* A JSON number as the kind's fixed-point integer, exactly. */
static int reading_value(const cJSON *v, uint8_t kind, int32_t *out, char *err, size_t err_size)
{
    unsigned decimals = sbprov_frame_kind_decimals(kind);
    double scale = decimals == 2 ? 100.0 : 1.0, x, r;
    int32_t min = 0, max = 0;

    if (!cJSON_IsNumber(v)) {
        snprintf(err, err_size, "reading '%s' must be a number", v->string);
        return -1;
    }
    (void)sbprov_frame_kind_info(kind, NULL, &min, &max);
    x = v->valuedouble * scale;
    r = nearbyint(x);
    /* A decimal with at most `decimals` places lands within rounding noise of an integer. */
    if (fabs(x - r) > 1e-6 * (fabs(x) > 1.0 ? fabs(x) : 1.0)) {
        snprintf(err, err_size, "reading '%s' %.17g has more than %u decimal%s", v->string, v->valuedouble,
                 decimals, decimals == 1 ? "" : "s");
        return -1;
    }
    if (r < (double)min || r > (double)max) {
        snprintf(err, err_size, "reading '%s' %.17g is out of range (%g..%g)", v->string, v->valuedouble,
                 min / scale, max / scale);
        return -1;
    }
    *out = (int32_t)r;
    return 0;
}

static int parse_node(const char *hex, uint8_t node[SBPROV_FRAME_NODE_SIZE])
{
    if (strlen(hex) != 2 * SBPROV_FRAME_NODE_SIZE)
        return -1;
    for (int i = 0; i < 2 * SBPROV_FRAME_NODE_SIZE; i++) {
        char c = hex[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        if (i % 2 == 0)
            node[i / 2] = (uint8_t)(d << 4);
        else
            node[i / 2] |= (uint8_t)d;
    }
    return 0;
}

/* One JSON line to a record; 0, or -1 with `err` set. */
static int encode_json_line(encode_line *out, const char *text, char *err, size_t err_size)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *v, *readings;
    uint8_t node[SBPROV_FRAME_NODE_SIZE], type = SBPROV_FRAME_TYPE_READINGS;
    long long epoch, seq, time_ms;
    sbprov_frame_builder b;
    sbprov_frame_enc_result er;
    int rc = -1;

    if (!cJSON_IsObject(o)) {
        snprintf(err, err_size, "not a JSON object");
        goto done;
    }
    for (const cJSON *f = o->child; f != NULL; f = f->next) {
        static const char *const known[] = {"node", "epoch", "seq", "time_ms", "type", "readings"};
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(known[i], f->string) != 0)
            i++;
        if (i == sizeof known / sizeof known[0]) {
            snprintf(err, err_size, "unknown field '%s'", f->string);
            goto done;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "node");
    if (!cJSON_IsString(v) || parse_node(v->valuestring, node) != 0) {
        snprintf(err, err_size, "'node' must be 16 hex digits");
        goto done;
    }
    if (json_uint(o, "epoch", 0, 0, 65535, &epoch, err, err_size) != 0 ||
        json_uint(o, "seq", 1, 0, 65535, &seq, err, err_size) != 0 ||
        json_uint(o, "time_ms", 0, -1, UINT32_MAX, &time_ms, err, err_size) != 0)
        goto done;
    v = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (v != NULL) {
        if (cJSON_IsString(v) && strcmp(v->valuestring, "hello") == 0)
            type = SBPROV_FRAME_TYPE_HELLO;
        else if (!cJSON_IsString(v) || strcmp(v->valuestring, "readings") != 0) {
            snprintf(err, err_size, "'type' must be \"readings\" or \"hello\"");
            goto done;
        }
    }
    er = sbprov_frame_builder_init(&b, out->record, sizeof out->record, type, node, (uint16_t)epoch, (uint16_t)seq);
    if (er == SBPROV_FRAME_ENC_OK && time_ms >= 0)
        er = sbprov_frame_add_timestamp(&b, (uint32_t)time_ms);
    readings = cJSON_GetObjectItemCaseSensitive(o, "readings");
    if (readings != NULL && !cJSON_IsObject(readings)) {
        snprintf(err, err_size, "'readings' must be an object of name: value");
        goto done;
    }
    for (const cJSON *r = readings != NULL ? readings->child : NULL; r != NULL && er == SBPROV_FRAME_ENC_OK;
         r = r->next) {
        uint8_t kind = sbprov_frame_kind_from_name(r->string);
        int32_t value;
        if (kind == 0) {
            snprintf(err, err_size, "unknown reading '%s'", r->string);
            goto done;
        }
        if (reading_value(r, kind, &value, err, err_size) != 0)
            goto done;
        er = sbprov_frame_add_reading(&b, kind, value);
        if (er == SBPROV_FRAME_ENC_EDUP) {
            snprintf(err, err_size, "reading '%s' appears twice", r->string);
            goto done;
        }
    }
    if (er == SBPROV_FRAME_ENC_OK)
        er = sbprov_frame_finish(&b, &out->record_len);
    if (er != SBPROV_FRAME_ENC_OK) {
        snprintf(err, err_size, "%s", er == SBPROV_FRAME_ENC_ESPACE
                                          ? "the record would be longer than 254 bytes"
                                          : "the encoder refused the record");
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(o);
    return rc;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

static int cmd_encode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'}, {"hex", no_argument, NULL, 'x'},
        {"udp", required_argument, NULL, 'u'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prog = "sbprov frame encode", *what = "frame encode", *input = NULL, *udp = NULL;
    int hex = 0, c, sock = -1, status = 0;
    struct addrinfo *dest = NULL;
    FILE *in = stdin;
    char line[LINE_MAX_BYTES + 2], err[256];
    unsigned long lineno = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 'x': hex = 1; break;
        case 'u': udp = optarg; break;
        case 'h': fputs(encode_help, stdout); return 0;
        default: return cli_usage_error(prog, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (hex && udp != NULL)
        return cli_usage_error(prog, "--hex and --udp exclude each other");
    if (udp != NULL) {
        if ((status = resolve_udp(&dest, udp, 0, prog)) != 0)
            return status;
        sock = socket(dest->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0) {
            fprintf(stderr, "sbprov: %s: socket: %s\n", what, strerror(errno));
            freeaddrinfo(dest);
            return EXIT_IO;
        }
    }
    if (input != NULL && strcmp(input, "-") != 0 && (in = fopen(input, "r")) == NULL) {
        fprintf(stderr, "sbprov: %s: %s: %s\n", what, input, strerror(errno));
        status = EXIT_IO;
        goto done;
    }
    while (fgets(line, sizeof line, in) != NULL) {
        encode_line rec;
        size_t n = strlen(line);
        lineno++;
        if (n > LINE_MAX_BYTES && line[n - 1] != '\n') {
            fprintf(stderr, "sbprov: %s: line %lu: longer than %d bytes\n", what, lineno, LINE_MAX_BYTES);
            status = EXIT_FAILED;
            goto done;
        }
        if (strspn(line, " \t\r\n") == n)
            continue;
        if (encode_json_line(&rec, line, err, sizeof err) != 0) {
            fprintf(stderr, "sbprov: %s: line %lu: %s\n", what, lineno, err);
            status = EXIT_FAILED;
            goto done;
        }
        if (sock >= 0) {
            if (sendto(sock, rec.record, rec.record_len, 0, dest->ai_addr, dest->ai_addrlen) < 0) {
                fprintf(stderr, "sbprov: %s: line %lu: sendto %s: %s\n", what, lineno, udp, strerror(errno));
                status = EXIT_IO;
                goto done;
            }
            continue;
        }
        uint8_t wire[SBPROV_FRAME_WIRE_MAX];
        size_t wire_len = 0;
        if (sbprov_cobs_encode(wire, sizeof wire, rec.record, rec.record_len, &wire_len) != SBPROV_FRAME_ENC_OK) {
            fprintf(stderr, "sbprov: %s: line %lu: COBS encoding failed\n", what, lineno);
            status = EXIT_FAILED;
            goto done;
        }
        if (hex) {
            print_hex(stdout, rec.record, rec.record_len);
            putchar(' ');
            print_hex(stdout, wire, wire_len);
            putchar('\n');
        } else {
            fwrite(wire, 1, wire_len, stdout);
        }
        if (ferror(stdout)) {
            status = EXIT_IO;
            goto done;
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "sbprov: %s: reading %s: %s\n", what, input != NULL ? input : "stdin", strerror(errno));
        status = EXIT_IO;
    }
done:
    if (in != stdin && in != NULL)
        fclose(in);
    if (sock >= 0)
        close(sock);
    if (dest != NULL)
        freeaddrinfo(dest);
    return status;
}

/* --- decode ----------------------------------------------------------------------- */

static const char decode_help[] =
    "usage: sbprov frame decode [--input FILE | --serial DEVICE [--baud N] | --udp [HOST:]PORT]\n"
    "                           [--format json|senml] [--count N] [--timeout-ms N] [--nodes N]\n"
    "\n"
    "Decode sensor frames (docs/frame-format.md) and write one JSON line per accepted\n"
    "record; at the end, the decoder's counters as one JSON line on stderr:\n"
    "{\"counters\":{\"frames\":..,\"crc\":..,...}}. Dropped records are only counted.\n"
    "\n"
    "  --input FILE         a byte stream (COBS records ending in 0x00) from FILE; default stdin\n"
    "  --serial DEVICE      a serial device or pty, set to raw mode at --baud (default 115200)\n"
    "  --udp [HOST:]PORT    one record per datagram (no COBS); PORT alone binds every interface\n"
    "  --format json        the flat telemetry object (default): node, epoch, seq, time_ms,\n"
    "                       then co2_ppm, temperature_c, humidity_pct, motion, voc_ppb,\n"
    "                       pressure_pa, illuminance_lux, battery_mv (null when out of range)\n"
    "  --format senml       a SenML pack (RFC 8428) per record, bt = the time it arrived\n"
    "  --count N            stop after N accepted records\n"
    "  --timeout-ms N       stop after N ms (serial and UDP run until a signal otherwise)\n"
    "  --nodes N            nodes whose sequence numbers are tracked (default 256)\n"
    "SIGINT or SIGTERM stops reading; the counters are still printed (exit 0).\n";

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct decode_run {
    int senml;
    long long count;     /* stop after this many accepted; 0 = no limit */
    long long accepted;
    int io_error;
} decode_run;

static int64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int print_record(const sbprov_frame *f, void *payload)
{
    decode_run *run = payload;
    char text[SBPROV_FRAME_JSON_MAX];
    sbprov_result rc = run->senml ? sbprov_frame_to_senml(text, sizeof text, NULL, f, realtime_ms())
                                  : sbprov_frame_to_json(text, sizeof text, NULL, f);
    if (rc != SBPROV_OK) {
        cli_fail("frame decode: rendering", rc);
        run->io_error = EXIT_FAILED;
        return 1;
    }
    puts(text);
    fflush(stdout); /* one line as soon as its record arrives: consumers follow live */
    if (ferror(stdout)) {
        run->io_error = EXIT_IO;
        return 1;
    }
    run->accepted++;
    return run->count > 0 && run->accepted >= run->count;
}

static void print_counters(const sbprov_frame_decoder *dec)
{
    sbprov_frame_counters c = {.struct_size = sizeof c};
    if (sbprov_frame_decoder_counters(&c, dec) != SBPROV_OK)
        return;
    fprintf(stderr,
            "{\"counters\":{\"frames\":%llu,\"crc\":%llu,\"too_long\":%llu,\"truncated\":%llu,\"bad_version\":%llu,"
            "\"bad_length\":%llu,\"unknown_type\":%llu,\"duplicate\":%llu,\"gaps\":%llu,\"reboots\":%llu,"
            "\"unknown_kinds\":%llu,\"out_of_range\":%llu}}\n",
            (unsigned long long)c.frames, (unsigned long long)c.crc, (unsigned long long)c.too_long,
            (unsigned long long)c.truncated, (unsigned long long)c.bad_version, (unsigned long long)c.bad_length,
            (unsigned long long)c.unknown_type, (unsigned long long)c.duplicate, (unsigned long long)c.gaps,
            (unsigned long long)c.reboots, (unsigned long long)c.unknown_kinds, (unsigned long long)c.out_of_range);
}

/* Open a serial device or pty in raw mode. Returns the fd, or -1 (printed). */
static int open_serial(const char *path, unsigned long baud, const char *what)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "sbprov: %s: %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    if (serial_tty_raw(fd, baud) != 0) {
        fprintf(stderr, errno == ENOTTY ? "sbprov: %s: %s is not a terminal device: %s\n"
                                        : "sbprov: %s: %s: cannot set raw mode: %s\n",
                what, path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Open a UDP socket bound to the first of `addrs` that binds. Returns the fd, or -1 (printed). */
static int open_udp(const struct addrinfo *addrs, const char *spec, const char *what)
{
    int fd = -1;
    for (const struct addrinfo *a = addrs; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
            fprintf(stderr, "sbprov: %s: bind %s: %s\n", what, spec, strerror(errno));
            close(fd);
            fd = -1;
            break;
        }
    }
    return fd;
}

/* Wait until fd is readable, the deadline passes or a signal asks to stop.
 * Returns 1 readable, 0 stop, -1 error (printed). */
static int wait_readable(int fd, int64_t deadline_ms, const char *what)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int timeout = -1, rc;
        if (stop_requested)
            return 0;
        if (deadline_ms > 0) {
            int64_t left = deadline_ms - monotonic_ms();
            if (left <= 0)
                return 0;
            timeout = left > 1000 ? 1000 : (int)left;
        }
        rc = poll(&p, 1, timeout);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "sbprov: %s: poll: %s\n", what, strerror(errno));
            return -1;
        }
    }
}

static int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},  {"serial", required_argument, NULL, 's'},
        {"baud", required_argument, NULL, 'b'},   {"udp", required_argument, NULL, 'u'},
        {"format", required_argument, NULL, 'f'}, {"count", required_argument, NULL, 'c'},
        {"timeout-ms", required_argument, NULL, 't'}, {"nodes", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *prog = "sbprov frame decode", *what = "frame decode", *input = NULL, *serial = NULL, *udp = NULL;
    long long baud = 115200, timeout_ms = 0, nodes = SBPROV_FRAME_NODE_TABLE_DEFAULT;
    decode_run run = {0};
    int c, fd = -1, status = 0, sources;
    sbprov_frame_decoder *dec = NULL;
    sbprov_frame_decoder_options dopts;
    sbprov_result rc;
    struct addrinfo *udp_addrs = NULL;
    int64_t deadline = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 's': serial = optarg; break;
        case 'u': udp = optarg; break;
        case 'b':
            if (cli_parse_i64(optarg, &baud) != 0 || baud <= 0 || serial_tty_speed((unsigned long)baud) == 0)
                return cli_usage_error(prog, "--baud: '%s' is not a standard rate (1200 to 4000000, e.g. "
                                             "9600, 115200, 921600)", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "senml") != 0)
                return cli_usage_error(prog, "--format: '%s' is not json or senml", optarg);
            run.senml = strcmp(optarg, "senml") == 0;
            break;
        case 'c':
            if (cli_parse_i64(optarg, &run.count) != 0 || run.count < 1)
                return cli_usage_error(prog, "--count: '%s' is not a positive number", optarg);
            break;
        case 't':
            if (cli_parse_i64(optarg, &timeout_ms) != 0 || timeout_ms < 1)
                return cli_usage_error(prog, "--timeout-ms: '%s' is not a positive number", optarg);
            break;
        case 'n':
            if (cli_parse_i64(optarg, &nodes) != 0 || nodes < 1 || nodes > SBPROV_FRAME_NODE_TABLE_MAX)
                return cli_usage_error(prog, "--nodes: '%s' is not within 1..%d", optarg,
                                       SBPROV_FRAME_NODE_TABLE_MAX);
            break;
        case 'h': fputs(decode_help, stdout); return 0;
        default: return cli_usage_error(prog, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    sources = (input != NULL) + (serial != NULL) + (udp != NULL);
    if (sources > 1)
        return cli_usage_error(prog, "give one of --input, --serial and --udp");
    if (udp != NULL && (status = resolve_udp(&udp_addrs, udp, 1, prog)) != 0)
        return status;

    if ((rc = sbprov_frame_decoder_options_init(&dopts, sizeof dopts)) != SBPROV_OK)
        return cli_fail("frame decode", rc);
    dopts.node_table_size = (size_t)nodes;
    if ((rc = sbprov_frame_decoder_new(&dec, &dopts)) != SBPROV_OK) {
        if (udp_addrs != NULL)
            freeaddrinfo(udp_addrs);
        return cli_fail("frame decode", rc);
    }

    if (serial != NULL)
        fd = open_serial(serial, (unsigned long)baud, what);
    else if (udp != NULL) {
        fd = open_udp(udp_addrs, udp, what);
        freeaddrinfo(udp_addrs);
    }
    else if (input != NULL && strcmp(input, "-") != 0) {
        fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fprintf(stderr, "sbprov: %s: %s: %s\n", what, input, strerror(errno));
    } else {
        fd = dup(STDIN_FILENO);
    }
    if (fd < 0) {
        sbprov_frame_decoder_free(dec);
        return EXIT_IO;
    }

    /* No SA_RESTART: a signal interrupts poll/read so the loop can stop. */
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (timeout_ms > 0)
        deadline = monotonic_ms() + timeout_ms;

    for (;;) {
        uint8_t buf[65536];
        ssize_t n;
        int ready = wait_readable(fd, deadline, what);
        if (ready <= 0) {
            status = ready < 0 ? EXIT_IO : 0;
            break;
        }
        if (udp != NULL)
            n = recv(fd, buf, sizeof buf, 0);
        else
            n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == EIO && serial != NULL) /* a pty whose other side closed */
                break;
            fprintf(stderr, "sbprov: %s: read: %s\n", what, strerror(errno));
            status = EXIT_IO;
            break;
        }
        if (n == 0 && udp == NULL)
            break; /* end of the stream */
        rc = udp != NULL ? sbprov_frame_decode_record(NULL, dec, buf, (size_t)n, print_record, &run)
                         : sbprov_frame_decoder_feed(NULL, dec, buf, (size_t)n, print_record, &run);
        if (rc == SBPROV_ECANCELED) { /* --count reached, or output failed */
            status = run.io_error;
            break;
        }
        if (rc != SBPROV_OK) {
            status = cli_fail("frame decode", rc);
            break;
        }
    }
    print_counters(dec);
    close(fd);
    sbprov_frame_decoder_free(dec);
    return status;
}

int cli_frame(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"encode", "JSON lines to sensor frames (stdout, hex or UDP)", cmd_encode},
        {"decode", "sensor frames (stdin, file, serial, UDP) to JSON lines", cmd_decode},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(commands, "sbprov frame", argc - 1, argv + 1);
}
