/* Rendering decoded sensor records as text (docs/frame-format.md, "JSON and
 * SenML"): the flat telemetry object for Azure IoT Hub and a SenML pack. Both
 * write into the caller's buffer through sbprov__text, print fixed-point
 * values exactly, and allocate nothing. */
#include "error.h"
#include "frame_internal.h"
#include "text.h"

#include "sbprov/frame.h"

#include <stddef.h>
#include <string.h>

/* Per kind (index kind - 1): JSON name and decimals; SenML name, unit and
 * decimals (battery mV becomes V); whether the unit is an RFC 8798 secondary
 * unit, which makes the pack need bver 26. */
static const struct {
    const char *json;
    unsigned json_decimals;
    const char *senml, *unit;
    unsigned senml_decimals;
    int secondary;
} kinds[SBPROV_FRAME_KIND_LAST] = {
    {"co2_ppm", 0, "co2", "ppm", 0, 1},
    {"temperature_c", 2, "temperature", "Cel", 2, 0},
    {"humidity_pct", 2, "humidity", "%RH", 2, 0},
    {"motion", 0, "motion", "count", 0, 0},
    {"voc_ppb", 0, "voc", "ppb", 0, 1},
    {"pressure_pa", 0, "pressure", "Pa", 0, 0},
    {"illuminance_lux", 0, "illuminance", "lx", 0, 0},
    {"battery_mv", 0, "battery", "V", 3, 0},
};

#define FRAME_V1_SIZE (offsetof(sbprov_frame, record_len) + sizeof(size_t))

const char *sbprov_frame_kind_name(uint8_t kind)
{
    return kind >= 1 && kind <= SBPROV_FRAME_KIND_LAST ? kinds[kind - 1].json : NULL;
}

uint8_t sbprov_frame_kind_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    for (unsigned k = 1; k <= SBPROV_FRAME_KIND_LAST; k++)
        if (strcmp(name, kinds[k - 1].json) == 0)
            return (uint8_t)k;
    return 0;
}

unsigned sbprov_frame_kind_decimals(uint8_t kind)
{
    return kind >= 1 && kind <= SBPROV_FRAME_KIND_LAST ? kinds[kind - 1].json_decimals : 0;
}

sbprov_result sbprov__frame_view_check(const char *what, const sbprov_frame *f)
{
    if (f == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: frame is NULL", what);
    if (f->struct_size < FRAME_V1_SIZE || f->struct_size > 16 * sizeof *f)
        return sbprov__fail(SBPROV_EINVAL, "%s: frame struct_size %zu is implausible", what, f->struct_size);
    if (f->reading_count > SBPROV_FRAME_KIND_LAST || (f->reading_count > 0 && f->readings == NULL))
        return sbprov__fail(SBPROV_EINVAL, "%s: frame has %zu readings%s", what, f->reading_count,
                            f->readings == NULL ? " but no reading array" : " (too many)");
    for (size_t i = 0; i < f->reading_count; i++)
        if (f->readings[i].kind < 1 || f->readings[i].kind > SBPROV_FRAME_KIND_LAST)
            return sbprov__fail(SBPROV_EINVAL, "%s: reading %zu has unknown kind %u", what, i,
                                (unsigned)f->readings[i].kind);
    return SBPROV_OK;
}

/* The checks both renderings make. */
static sbprov_result check_frame(const char *what, char *buf, size_t buf_size, const sbprov_frame *f)
{
    if (buf == NULL && buf_size > 0)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL buffer with a size", what);
    return sbprov__frame_view_check(what, f);
}

static void append_node(sbprov__text *t, const sbprov_frame *f)
{
    static const char hex[] = "0123456789abcdef";
    char out[2 * SBPROV_FRAME_NODE_SIZE];
    for (int i = 0; i < SBPROV_FRAME_NODE_SIZE; i++) {
        out[2 * i] = hex[f->node[i] >> 4];
        out[2 * i + 1] = hex[f->node[i] & 0x0F];
    }
    sbprov__text_append(t, out, sizeof out);
}

static void append_key(sbprov__text *t, const char *key)
{
    sbprov__text_append_str(t, ",\"");
    sbprov__text_append_str(t, key);
    sbprov__text_append_str(t, "\":");
}

sbprov_result sbprov_frame_to_json(char *buf, size_t buf_size, size_t *out_len, const sbprov_frame *frame)
{
    sbprov__text t;
    sbprov_result rc = check_frame("frame json", buf, buf_size, frame);

    if (rc != SBPROV_OK)
        return rc;
    sbprov__text_init(&t, buf, buf_size);
    sbprov__text_append_str(&t, "{\"node\":\"");
    append_node(&t, frame);
    sbprov__text_append_str(&t, "\",\"epoch\":");
    sbprov__text_append_i64(&t, frame->epoch);
    sbprov__text_append_str(&t, ",\"seq\":");
    sbprov__text_append_i64(&t, frame->seq);
    if (frame->has_time) {
        sbprov__text_append_str(&t, ",\"time_ms\":");
        sbprov__text_append_i64(&t, frame->time_ms);
    }
    if (frame->type == SBPROV_FRAME_TYPE_HELLO)
        sbprov__text_append_str(&t, ",\"type\":\"hello\"");
    for (size_t i = 0; i < frame->reading_count; i++) {
        const sbprov_frame_reading *r = &frame->readings[i];
        append_key(&t, kinds[r->kind - 1].json);
        if (r->valid)
            sbprov__text_append_fixed(&t, r->value, kinds[r->kind - 1].json_decimals);
        else
            sbprov__text_append_str(&t, "null");
    }
    sbprov__text_append_str(&t, "}");
    return sbprov__text_finish(&t, out_len);
}

sbprov_result sbprov_frame_to_senml(char *buf, size_t buf_size, size_t *out_len, const sbprov_frame *frame,
                                    int64_t unix_time_ms)
{
    sbprov__text t;
    int secondary = 0, first = 1;
    sbprov_result rc = check_frame("frame senml", buf, buf_size, frame);

    if (rc != SBPROV_OK)
        return rc;
    if (unix_time_ms != 0 &&
        (unix_time_ms < SBPROV_FRAME_SENML_MIN_TIME_MS || unix_time_ms > SBPROV_FRAME_SENML_MAX_TIME_MS))
        return sbprov__fail(SBPROV_EINVAL,
                            "frame senml: unix_time_ms %lld is not 0 or within %lld..%lld (1978..9999; SenML "
                            "reads smaller times as relative)",
                            (long long)unix_time_ms, SBPROV_FRAME_SENML_MIN_TIME_MS, SBPROV_FRAME_SENML_MAX_TIME_MS);
    for (size_t i = 0; i < frame->reading_count; i++)
        if (frame->readings[i].valid && kinds[frame->readings[i].kind - 1].secondary)
            secondary = 1;
    sbprov__text_init(&t, buf, buf_size);
    sbprov__text_append_str(&t, "[");
    for (size_t i = 0; i < frame->reading_count; i++) {
        const sbprov_frame_reading *r = &frame->readings[i];
        if (!r->valid)
            continue; /* a SenML record needs a value */
        sbprov__text_append_str(&t, first ? "{" : ",{");
        if (first) {
            sbprov__text_append_str(&t, "\"bn\":\"urn:dev:mac:");
            append_node(&t, frame);
            sbprov__text_append_str(&t, ":\",");
            if (secondary)
                sbprov__text_append_str(&t, "\"bver\":26,"); /* RFC 9100: 10 + feature 4 */
            if (unix_time_ms != 0) {
                sbprov__text_append_str(&t, "\"bt\":");
                sbprov__text_append_fixed(&t, unix_time_ms, 3);
                sbprov__text_append_str(&t, ",");
            }
            first = 0;
        }
        sbprov__text_append_str(&t, "\"n\":\"");
        sbprov__text_append_str(&t, kinds[r->kind - 1].senml);
        sbprov__text_append_str(&t, "\",\"u\":\"");
        sbprov__text_append_str(&t, kinds[r->kind - 1].unit);
        sbprov__text_append_str(&t, "\",\"v\":");
        sbprov__text_append_fixed(&t, r->value, kinds[r->kind - 1].senml_decimals);
        sbprov__text_append_str(&t, "}");
    }
    sbprov__text_append_str(&t, "]");
    return sbprov__text_finish(&t, out_len);
}
