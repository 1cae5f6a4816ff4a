/* Command-line window on the sensor frame encoder and decoder, for the
 * comparison with the Python reference (tests/frame/roundtrip.py).
 *
 *   frame_tool encode
 *       stdin: one JSON object a line with the fields of tests/frame/vectors.json
 *       ({"type", "flags", "node", "epoch", "seq", "time_ms" or null,
 *       "readings": [{"kind", "value"} | {"kind", "raw": hex}]}); a value
 *       outside its kind's range is sent raw. stdout: "RECORD_HEX WIRE_HEX"
 *       a line, or "error CODE" where the encoder refused.
 *   frame_tool decode [--nodes N] [--chunk N]
 *       stdin: a byte stream (binary), fed in chunks of N bytes (default 4096).
 *   frame_tool decode --datagrams [--nodes N]
 *       stdin: one record a line, in hex.
 *       Both print one JSON line per accepted record ({"record", "version",
 *       "type", "flags", "node", "epoch", "seq", "time_ms", "readings",
 *       "unknown_kinds", "out_of_range", "seq_status", "missed", and the
 *       renderings "json" and "senml_at" (received at 1767225600250 ms) as
 *       strings}) and last a line {"counters": {...}}.
 *
 * Exit 1 on a failed call (detail on stderr), 2 on bad usage or input. */
#include <sbprov/sbprov.h>
#include <sbprov/frame.h>

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: frame_tool encode | decode [--datagrams] [--nodes N] [--chunk N]\n");
    return 2;
}

static int hex_to_bytes(uint8_t *out, size_t cap, const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        n--;
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return -1;
        out[i] = (uint8_t)b;
    }
    *len = n / 2;
    return 0;
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static int num(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = v->valuedouble;
    return 0;
}

/* One line of fields -> record and wire; 0 ok, 1 encoder refused (printed), -1 bad input. */
static int encode_line(const char *line)
{
    cJSON *f = cJSON_Parse(line), *r;
    uint8_t rec[SBPROV_FRAME_MAX], wire[SBPROV_FRAME_WIRE_MAX], node[8];
    size_t nlen, len, wlen;
    double type, flags, epoch, seq, t;
    sbprov_frame_builder b;
    int rc = -1, e;

    if (f == NULL || num(f, "type", &type) || num(f, "flags", &flags) || num(f, "epoch", &epoch) ||
        num(f, "seq", &seq) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "node")) ||
        hex_to_bytes(node, sizeof node, cJSON_GetObjectItemCaseSensitive(f, "node")->valuestring, &nlen) || nlen != 8)
        goto done;
#define TRY(call)                          \
    do {                                   \
        if ((e = (call)) != 0) {           \
            printf("error %d\n", e);       \
            rc = 1;                        \
            goto done;                     \
        }                                  \
    } while (0)
    TRY(sbprov_frame_builder_init(&b, rec, sizeof rec, (uint8_t)type, node, (uint16_t)epoch, (uint16_t)seq));
    if (num(f, "time_ms", &t) == 0)
        TRY(sbprov_frame_add_timestamp(&b, (uint32_t)t));
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(f, "readings"))
    {
        double kind, value;
        uint8_t raw[255], klen;
        int32_t min, max;
        const cJSON *rawhex = cJSON_GetObjectItemCaseSensitive(r, "raw");
        if (num(r, "kind", &kind))
            goto done;
        if (cJSON_IsString(rawhex)) {
            size_t rl;
            if (hex_to_bytes(raw, sizeof raw, rawhex->valuestring, &rl))
                goto done;
            TRY(sbprov_frame_add_raw(&b, (uint8_t)kind, raw, (uint8_t)rl));
        } else if (num(r, "value", &value) == 0) {
            if (sbprov_frame_kind_info((uint8_t)kind, &klen, &min, &max) && (value < min || value > max)) {
                for (int i = 0; i < klen; i++)
                    raw[i] = (uint8_t)((uint64_t)(int64_t)value >> (8 * i));
                TRY(sbprov_frame_add_raw(&b, (uint8_t)kind, raw, klen));
            } else {
                TRY(sbprov_frame_add_reading(&b, (uint8_t)kind, (int32_t)value));
            }
        } else {
            goto done;
        }
    }
    /* Reserved flag bits are not the builder's business: patched in before the CRC. */
    rec[2] = (uint8_t)(rec[2] | ((uint8_t)flags & ~SBPROV_FRAME_FLAG_TIME));
    TRY(sbprov_frame_finish(&b, &len));
    TRY(sbprov_cobs_encode(wire, sizeof wire, rec, len, &wlen));
#undef TRY
    print_hex(rec, len);
    putchar(' ');
    print_hex(wire, wlen);
    putchar('\n');
    rc = 0;
done:
    cJSON_Delete(f);
    return rc;
}

/* The SenML receive time roundtrip.py renders with too. */
#define RENDER_UNIX_TIME_MS 1767225600250LL

/* key then s as a JSON string: the renderings have quotes but no backslashes or controls. */
static void print_json_string(const char *key, const char *s)
{
    fputs(key, stdout);
    putchar('"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static int print_frame(const sbprov_frame *f, void *payload)
{
    char text[SBPROV_FRAME_JSON_MAX];
    (void)payload;
    printf("{\"record\":\"");
    print_hex(f->record, f->record_len);
    printf("\",\"version\":%u,\"type\":%u,\"flags\":%u,\"node\":\"%016" PRIx64 "\",\"epoch\":%u,\"seq\":%u,",
           f->version, f->type, f->flags, f->node_id, f->epoch, f->seq);
    if (f->has_time)
        printf("\"time_ms\":%" PRIu32 ",", f->time_ms);
    else
        printf("\"time_ms\":null,");
    printf("\"readings\":[");
    for (size_t i = 0; i < f->reading_count; i++)
        printf("%s{\"kind\":%u,\"value\":%" PRId64 ",\"valid\":%s}", i ? "," : "", f->readings[i].kind,
               f->readings[i].value, f->readings[i].valid ? "true" : "false");
    printf("],\"unknown_kinds\":%zu,\"out_of_range\":%zu,\"seq_status\":\"%s\",\"missed\":%" PRIu32,
           f->unknown_kinds, f->out_of_range, sbprov_frame_seq_status_name(f->seq_status), f->missed);
    if (sbprov_frame_to_json(text, sizeof text, NULL, f) != SBPROV_OK)
        return 1;
    print_json_string(",\"json\":", text);
    if (sbprov_frame_to_senml(text, sizeof text, NULL, f, RENDER_UNIX_TIME_MS) != SBPROV_OK)
        return 1;
    print_json_string(",\"senml_at\":", text);
    printf("}\n");
    return 0;
}

static int failed(const char *what, sbprov_result rc)
{
    fprintf(stderr, "frame_tool: %s: %s (%d): %s\n", what, sbprov_strerror(rc), (int)rc, sbprov_last_error());
    return 1;
}

static int decode(int datagrams, size_t nodes, size_t chunk)
{
    sbprov_frame_decoder_options o;
    sbprov_frame_decoder *dec = NULL;
    sbprov_frame_counters c = {.struct_size = sizeof c};
    sbprov_result rc;

    if ((rc = sbprov_frame_decoder_options_init(&o, sizeof o)) != SBPROV_OK)
        return failed("options", rc);
    if (nodes > 0)
        o.node_table_size = nodes;
    if ((rc = sbprov_frame_decoder_new(&dec, &o)) != SBPROV_OK)
        return failed("new", rc);
    if (datagrams) {
        static char line[4096];
        static uint8_t rec[2048];
        while (fgets(line, sizeof line, stdin) != NULL) {
            size_t len;
            if (hex_to_bytes(rec, sizeof rec, line, &len)) {
                fprintf(stderr, "frame_tool: bad hex line\n");
                sbprov_frame_decoder_free(dec);
                return 2;
            }
            if ((rc = sbprov_frame_decode_record(NULL, dec, rec, len, print_frame, NULL)) != SBPROV_OK)
                return failed("decode record", rc);
        }
    } else {
        uint8_t *buf = malloc(chunk);
        size_t n;
        if (buf == NULL)
            return 1;
        while ((n = fread(buf, 1, chunk, stdin)) > 0) {
            if ((rc = sbprov_frame_decoder_feed(NULL, dec, buf, n, print_frame, NULL)) != SBPROV_OK) {
                free(buf);
                return failed("feed", rc);
            }
        }
        free(buf);
    }
    if ((rc = sbprov_frame_decoder_counters(&c, dec)) != SBPROV_OK)
        return failed("counters", rc);
    printf("{\"counters\":{\"frames\":%" PRIu64 ",\"crc\":%" PRIu64 ",\"too_long\":%" PRIu64 ",\"truncated\":%" PRIu64
           ",\"bad_version\":%" PRIu64 ",\"bad_length\":%" PRIu64 ",\"unknown_type\":%" PRIu64
           ",\"duplicate\":%" PRIu64 ",\"gaps\":%" PRIu64 ",\"reboots\":%" PRIu64 ",\"unknown_kinds\":%" PRIu64
           ",\"out_of_range\":%" PRIu64 "}}\n",
           c.frames, c.crc, c.too_long, c.truncated, c.bad_version, c.bad_length, c.unknown_type, c.duplicate, c.gaps,
           c.reboots, c.unknown_kinds, c.out_of_range);
    sbprov_frame_decoder_free(dec);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "encode") == 0 && argc == 2) {
        static char line[65536];
        while (fgets(line, sizeof line, stdin) != NULL) {
            if (encode_line(line) < 0) {
                fprintf(stderr, "frame_tool: bad input line: %s", line);
                return 2;
            }
        }
        return 0;
    }
    if (strcmp(argv[1], "decode") == 0) {
        int datagrams = 0;
        size_t nodes = 0, chunk = 4096;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--datagrams") == 0)
                datagrams = 1;
            else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
                nodes = strtoul(argv[++i], NULL, 10);
            else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc && strtoul(argv[i + 1], NULL, 10) > 0)
                chunk = strtoul(argv[++i], NULL, 10);
            else
                return usage();
        }
        return decode(datagrams, nodes, chunk);
    }
    return usage();
}
