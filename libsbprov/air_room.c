/* Rooms: CO2 class with hysteresis, trend and prediction, occupancy from PIR
 * and rising CO2, events (docs/air.md). Nothing is allocated after
 * sbprov_air_room_new(): readings go into a fixed ring, events into a fixed
 * queue. The library does not link libm, so no <math.h> function is used
 * (only the isfinite macro). */
#include "air_internal.h"

#include "error.h"
#include "options.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTIONS_V1_SIZE sizeof(sbprov_air_room_options)
#define SAMPLE_V1_SIZE sizeof(sbprov_air_sample)

/* Below this slope (ppm/min) the CO2 counts as flat: no prediction. */
#define FLAT_PPM_PER_MIN 1.0

struct sbprov_air_room {
    sbprov_air_room_options opts;
    char name[SBPROV_AIR_NAME_SIZE];
    int in_building;

    int64_t time_ms; /* latest sample, -1 before any */
    uint64_t samples;

    sbprov_air_co2_class co2_class;
    int has_co2;
    uint32_t co2_ppm;
    double ema;       /* time-weighted exponential average of the readings */
    double smoothed;  /* ema corrected for its lag behind a trend: the level classes are decided on */
    int64_t co2_time; /* latest CO2 reading */

    int has_trend;
    double trend;            /* ppm/min */
    uint32_t window_min;     /* lowest and highest reading in the trend window (valid with has_trend) */
    uint32_t window_max;

    int occupied;
    sbprov_air_reason occupied_reason;
    int co2_rising;
    int64_t rise_since;  /* first sample of the current run of trends >= the rise rate, -1 if none */
    int64_t last_rising; /* latest sample at which co2_rising held, -1 if never */
    int64_t last_motion; /* -1 if never */

    int has_temperature;
    int32_t temperature_centi_c;
    int has_humidity;
    uint32_t humidity_centi_pct;

    /* CO2 readings, oldest at (ring_head - ring_count) mod capacity. */
    int64_t ring_time[SBPROV_AIR_TREND_CAPACITY];
    uint32_t ring_co2[SBPROV_AIR_TREND_CAPACITY];
    size_t ring_head; /* next slot written */
    size_t ring_count;

    sbprov_air_event queue[SBPROV_AIR_EVENT_QUEUE_SIZE];
    size_t queue_head; /* oldest */
    size_t queue_count;
    uint64_t dropped;
};

/* --- names -------------------------------------------------------------------- */

const char *sbprov_air_co2_class_name(sbprov_air_co2_class co2_class)
{
    switch (co2_class) {
    case SBPROV_AIR_CO2_UNKNOWN: return "unknown";
    case SBPROV_AIR_CO2_FINE: return "fine";
    case SBPROV_AIR_CO2_VENTILATE: return "ventilate";
    case SBPROV_AIR_CO2_VENTILATE_NOW: return "ventilate_now";
    }
    return "invalid";
}

const char *sbprov_air_event_kind_name(sbprov_air_event_kind kind)
{
    switch (kind) {
    case SBPROV_AIR_EVENT_NONE: return "none";
    case SBPROV_AIR_EVENT_OCCUPIED: return "occupied";
    case SBPROV_AIR_EVENT_FREE: return "free";
    case SBPROV_AIR_EVENT_VENTILATION_NEEDED: return "ventilation_needed";
    case SBPROV_AIR_EVENT_VENTILATION_DONE: return "ventilation_done";
    }
    return "invalid";
}

const char *sbprov_air_reason_name(sbprov_air_reason reason)
{
    switch (reason) {
    case SBPROV_AIR_REASON_NONE: return "none";
    case SBPROV_AIR_REASON_MOTION: return "motion";
    case SBPROV_AIR_REASON_CO2_RISING: return "co2_rising";
    case SBPROV_AIR_REASON_NO_PRESENCE: return "no_presence";
    case SBPROV_AIR_REASON_CO2_ABOVE: return "co2_above";
    case SBPROV_AIR_REASON_CO2_BELOW: return "co2_below";
    }
    return "invalid";
}

/* --- small helpers -------------------------------------------------------------- */

/* x rounded to the nearest tenth, as an integer number of tenths (halves away from zero). */
static int64_t to_tenths(double x)
{
    if (x >= 0)
        return (int64_t)(x * 10.0 + 0.5);
    return -(int64_t)(-x * 10.0 + 0.5);
}

/* Decimal text of value / 10^decimals (sbprov__text_append_fixed) into out. */
static void format_fixed(char *out, size_t size, int64_t value, unsigned decimals)
{
    sbprov__text t;
    sbprov__text_init(&t, out, size);
    sbprov__text_append_fixed(&t, value, decimals);
    if (sbprov__text_finish(&t, NULL) != SBPROV_OK && size > 0)
        out[0] = '\0'; /* every caller's buffer is large enough */
}

/* A ppm/min value for messages: one decimal, trailing zero dropped. */
static void format_rate(char *out, size_t size, double x)
{
    format_fixed(out, size, to_tenths(x), 1);
}

/* A duration for messages, in whole seconds: "45 s", "10 min", "2 min 36 s". */
static void format_duration(char *out, size_t size, int64_t ms)
{
    long long s = (long long)(ms / 1000);

    if (s < 60)
        snprintf(out, size, "%lld s", s);
    else if (s % 60 == 0)
        snprintf(out, size, "%lld min", s / 60);
    else
        snprintf(out, size, "%lld min %lld s", s / 60, s % 60);
}

static uint32_t floor_ppm(double v)
{
    return v <= 0 ? 0 : (uint32_t)v;
}

/* --- options -------------------------------------------------------------------- */

sbprov_result sbprov_air_room_options_init(sbprov_air_room_options *opts, size_t struct_size)
{
    sbprov_result rc = sbprov__options_init(opts, struct_size, OPTIONS_V1_SIZE, "air room options");
    if (rc != SBPROV_OK)
        return rc;
    opts->ventilate_ppm = 1000;
    opts->ventilate_now_ppm = 2000;
    opts->hysteresis_ppm = 50;
    opts->smoothing_s = 60;
    opts->trend_window_s = 600;
    opts->trend_min_samples = 5;
    opts->trend_min_span_s = 300;
    opts->pir_hold_s = 600;
    opts->co2_rise_ppm_per_min = 10.0;
    opts->co2_rise_s = 180;
    return SBPROV_OK;
}

static sbprov_result check_options(const sbprov_air_room_options *o)
{
#define BAD(...) sbprov__fail(SBPROV_EINVAL, "air room options: " __VA_ARGS__)
    if (o->ventilate_ppm < 1 || o->ventilate_ppm > SBPROV_AIR_CO2_MAX)
        return BAD("ventilate_ppm %u is out of range (1..%u)", o->ventilate_ppm, SBPROV_AIR_CO2_MAX);
    if (o->ventilate_now_ppm <= o->ventilate_ppm || o->ventilate_now_ppm > SBPROV_AIR_CO2_MAX)
        return BAD("ventilate_now_ppm %u must be above ventilate_ppm (%u) and at most %u", o->ventilate_now_ppm,
                   o->ventilate_ppm, SBPROV_AIR_CO2_MAX);
    if (o->hysteresis_ppm >= o->ventilate_ppm)
        return BAD("hysteresis_ppm %u must be below ventilate_ppm (%u)", o->hysteresis_ppm, o->ventilate_ppm);
    if (o->hysteresis_ppm >= o->ventilate_now_ppm - o->ventilate_ppm)
        return BAD("hysteresis_ppm %u must be below ventilate_now_ppm - ventilate_ppm (%u)", o->hysteresis_ppm,
                   o->ventilate_now_ppm - o->ventilate_ppm);
    if (o->smoothing_s > 3600)
        return BAD("smoothing_s %u is out of range (0..3600)", o->smoothing_s);
    if (o->trend_window_s < 10 || o->trend_window_s > 86400)
        return BAD("trend_window_s %u is out of range (10..86400)", o->trend_window_s);
    if (o->trend_min_samples < 3 || o->trend_min_samples > SBPROV_AIR_TREND_CAPACITY)
        return BAD("trend_min_samples %u is out of range (3..%u)", o->trend_min_samples,
                   (unsigned)SBPROV_AIR_TREND_CAPACITY);
    if (o->trend_min_span_s > o->trend_window_s)
        return BAD("trend_min_span_s %u is longer than trend_window_s (%u)", o->trend_min_span_s,
                   o->trend_window_s);
    if (o->pir_hold_s < 1 || o->pir_hold_s > 86400)
        return BAD("pir_hold_s %u is out of range (1..86400)", o->pir_hold_s);
    if (!isfinite(o->co2_rise_ppm_per_min) || o->co2_rise_ppm_per_min < 0 || o->co2_rise_ppm_per_min > 1000)
        return BAD("co2_rise_ppm_per_min is out of range (0..1000)");
    if (o->co2_rise_s > 86400)
        return BAD("co2_rise_s %u is out of range (0..86400)", o->co2_rise_s);
    return SBPROV_OK;
#undef BAD
}

sbprov_result sbprov_air_sample_init(sbprov_air_sample *sample, size_t struct_size)
{
    return sbprov__options_init(sample, struct_size, SAMPLE_V1_SIZE, "air sample");
}

/* --- lifetime ------------------------------------------------------------------ */

static void clear_state(sbprov_air_room *room)
{
    room->time_ms = -1;
    room->samples = 0;
    room->co2_class = SBPROV_AIR_CO2_UNKNOWN;
    room->has_co2 = 0;
    room->co2_ppm = 0;
    room->ema = 0;
    room->smoothed = 0;
    room->co2_time = -1;
    room->has_trend = 0;
    room->trend = 0;
    room->occupied = 0;
    room->occupied_reason = SBPROV_AIR_REASON_NONE;
    room->co2_rising = 0;
    room->rise_since = -1;
    room->last_rising = -1;
    room->last_motion = -1;
    room->has_temperature = 0;
    room->temperature_centi_c = 0;
    room->has_humidity = 0;
    room->humidity_centi_pct = 0;
    room->ring_head = 0;
    room->ring_count = 0;
    room->queue_head = 0;
    room->queue_count = 0;
    room->dropped = 0;
}

sbprov_result sbprov__air_room_create(sbprov_air_room **out, const sbprov_air_room_options *opts, const char *name,
                                      int in_building)
{
    sbprov_air_room_options o;
    sbprov_air_room *room;
    sbprov_result rc;

    if (opts == NULL) {
        if ((rc = sbprov_air_room_options_init(&o, sizeof o)) != SBPROV_OK)
            return rc;
    } else if ((rc = sbprov__options_load(&o, opts, OPTIONS_V1_SIZE, sizeof o, "air room options")) != SBPROV_OK) {
        return rc;
    }
    o.struct_size = sizeof o;
    if ((rc = check_options(&o)) != SBPROV_OK)
        return rc;
    room = calloc(1, sizeof *room);
    if (room == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "air room: out of memory");
    room->opts = o;
    snprintf(room->name, sizeof room->name, "%s", name);
    room->in_building = in_building;
    clear_state(room);
    *out = room;
    return SBPROV_OK;
}

sbprov_result sbprov_air_room_new(sbprov_air_room **out, const sbprov_air_room_options *opts)
{
    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air room: NULL output");
    *out = NULL;
    return sbprov__air_room_create(out, opts, "", 0);
}

void sbprov__air_room_destroy(sbprov_air_room *room)
{
    free(room);
}

void sbprov_air_room_free(sbprov_air_room *room)
{
    if (room == NULL || room->in_building)
        return;
    sbprov__air_room_destroy(room);
}

void sbprov_air_room_reset(sbprov_air_room *room)
{
    if (room != NULL)
        clear_state(room);
}

const char *sbprov_air_room_name(const sbprov_air_room *room)
{
    return room != NULL ? room->name : "";
}

/* --- events -------------------------------------------------------------------- */

static sbprov_air_event *push_event(sbprov_air_room *room, sbprov_air_event_kind kind, sbprov_air_reason reason,
                                    int64_t t)
{
    sbprov_air_event *e;

    if (room->queue_count == SBPROV_AIR_EVENT_QUEUE_SIZE) {
        room->queue_head = (room->queue_head + 1) % SBPROV_AIR_EVENT_QUEUE_SIZE;
        room->queue_count--;
        room->dropped++;
    }
    e = &room->queue[(room->queue_head + room->queue_count) % SBPROV_AIR_EVENT_QUEUE_SIZE];
    room->queue_count++;
    memset(e, 0, sizeof *e);
    e->struct_size = sizeof *e;
    e->kind = kind;
    e->reason = reason;
    e->time_ms = t;
    e->co2_class = room->co2_class;
    e->previous_class = room->co2_class;
    e->co2_ppm = room->has_co2 ? floor_ppm(room->smoothed) : 0;
    e->trend_ppm_per_min = room->has_trend ? room->trend : 0;
    e->ms_since_motion = room->last_motion >= 0 ? t - room->last_motion : -1;
    snprintf(e->room, sizeof e->room, "%s", room->name);
    return e;
}

static void event_text(sbprov_air_event *e, const char *fmt, ...) SBPROV__PRINTF(2, 3);
static void event_text(sbprov_air_event *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason_text, sizeof e->reason_text, fmt, ap);
    va_end(ap);
}

int sbprov__air_room_peek_time(const sbprov_air_room *room, int64_t *time_ms)
{
    if (room->queue_count == 0)
        return 0;
    *time_ms = room->queue[room->queue_head].time_ms;
    return 1;
}

sbprov_result sbprov_air_room_next_event(sbprov_air_event *out, sbprov_air_room *room)
{
    sbprov_air_event none;
    sbprov_result rc;

    if (room == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air event: NULL room");
    if (room->queue_count == 0) {
        memset(&none, 0, sizeof none);
        none.struct_size = sizeof none;
        none.ms_since_motion = -1;
        return sbprov__options_store(out, &none, sizeof none, sizeof none, "air event");
    }
    rc = sbprov__options_store(out, &room->queue[room->queue_head], sizeof *out, sizeof *out, "air event");
    if (rc != SBPROV_OK)
        return rc;
    room->queue_head = (room->queue_head + 1) % SBPROV_AIR_EVENT_QUEUE_SIZE;
    room->queue_count--;
    return SBPROV_OK;
}

/* --- the rules ------------------------------------------------------------------ */

/* Least-squares slope (ppm/min) of the readings in the window that ends at t.
 * Times are taken relative to the newest reading, in minutes, and the sums
 * are centred (two passes), so large monotonic times lose no precision. */
static void compute_trend(sbprov_air_room *room, int64_t t)
{
    const int64_t window_ms = (int64_t)room->opts.trend_window_s * 1000;
    size_t n = 0, cap = SBPROV_AIR_TREND_CAPACITY;
    int64_t newest, oldest;
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    uint32_t lo = UINT32_MAX, hi = 0;

    room->has_trend = 0;
    room->trend = 0;
    if (room->ring_count == 0)
        return;
    newest = room->ring_time[(room->ring_head + cap - 1) % cap];
    oldest = newest;
    for (size_t i = 0; i < room->ring_count; i++) {
        size_t k = (room->ring_head + cap - 1 - i) % cap;
        if (t - room->ring_time[k] > window_ms)
            break; /* older ones are older still */
        oldest = room->ring_time[k];
        mx += (double)(room->ring_time[k] - newest) / 60000.0;
        my += (double)room->ring_co2[k];
        lo = room->ring_co2[k] < lo ? room->ring_co2[k] : lo;
        hi = room->ring_co2[k] > hi ? room->ring_co2[k] : hi;
        n++;
    }
    if (n < room->opts.trend_min_samples || newest - oldest < (int64_t)room->opts.trend_min_span_s * 1000)
        return;
    mx /= (double)n;
    my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        size_t k = (room->ring_head + cap - 1 - i) % cap;
        double dx = (double)(room->ring_time[k] - newest) / 60000.0 - mx;
        sxx += dx * dx;
        sxy += dx * ((double)room->ring_co2[k] - my);
    }
    if (!(sxx > 0))
        return;
    room->has_trend = 1;
    room->trend = sxy / sxx;
    room->window_min = lo;
    room->window_max = hi;
}

/* The level: the exponential average lags a steady trend k by k * tau, so
 * add that back; never outside the readings in the window (a jump in the
 * readings must not overshoot). Without a trend, the average itself. */
static void update_level(sbprov_air_room *room)
{
    double level = room->ema;

    if (room->has_trend && room->opts.smoothing_s > 0) {
        level += room->trend * (double)room->opts.smoothing_s / 60.0;
        if (level < (double)room->window_min)
            level = (double)room->window_min;
        if (level > (double)room->window_max)
            level = (double)room->window_max;
    }
    room->smoothed = level;
}

/* co2_rising: the trend has been at or above the rise rate since rise_since,
 * for at least co2_rise_s. */
static void update_rising(sbprov_air_room *room, int64_t t)
{
    const sbprov_air_room_options *o = &room->opts;

    if (o->co2_rise_ppm_per_min > 0 && room->has_trend && room->trend >= o->co2_rise_ppm_per_min) {
        if (room->rise_since < 0)
            room->rise_since = t;
        room->co2_rising = t - room->rise_since >= (int64_t)o->co2_rise_s * 1000;
    } else {
        room->rise_since = -1;
        room->co2_rising = 0;
    }
    if (room->co2_rising)
        room->last_rising = t;
}

static void update_occupancy(sbprov_air_room *room, int64_t t, int motion)
{
    const sbprov_air_room_options *o = &room->opts;
    char rate[32], limit[32], dur[32], tail[128];
    int64_t evidence;
    sbprov_air_event *e;

    if (!room->occupied) {
        if (motion) {
            room->occupied = 1;
            room->occupied_reason = SBPROV_AIR_REASON_MOTION;
            e = push_event(room, SBPROV_AIR_EVENT_OCCUPIED, SBPROV_AIR_REASON_MOTION, t);
            event_text(e, "motion");
        } else if (room->co2_rising) {
            room->occupied = 1;
            room->occupied_reason = SBPROV_AIR_REASON_CO2_RISING;
            e = push_event(room, SBPROV_AIR_EVENT_OCCUPIED, SBPROV_AIR_REASON_CO2_RISING, t);
            format_rate(rate, sizeof rate, room->trend);
            event_text(e, "co2 rising %s ppm/min", rate);
        }
        return;
    }
    if (motion || room->co2_rising)
        return;
    evidence = room->last_motion > room->last_rising ? room->last_motion : room->last_rising;
    if (evidence >= 0 && t - evidence < (int64_t)o->pir_hold_s * 1000)
        return;

    room->occupied = 0;
    room->occupied_reason = SBPROV_AIR_REASON_NONE;
    e = push_event(room, SBPROV_AIR_EVENT_FREE, SBPROV_AIR_REASON_NO_PRESENCE, t);
    if (o->co2_rise_ppm_per_min <= 0) {
        tail[0] = '\0';
    } else if (!room->has_trend) {
        snprintf(tail, sizeof tail, " and no co2 trend");
    } else {
        format_rate(rate, sizeof rate, room->trend < 0 ? -room->trend : room->trend);
        format_rate(limit, sizeof limit, o->co2_rise_ppm_per_min);
        if (room->trend > -FLAT_PPM_PER_MIN && room->trend < FLAT_PPM_PER_MIN) {
            format_rate(rate, sizeof rate, room->trend);
            snprintf(tail, sizeof tail, " and co2 flat (%s ppm/min)", rate);
        }
        else if (room->trend < 0)
            snprintf(tail, sizeof tail, " and co2 falling %s ppm/min", rate);
        else if (room->trend >= o->co2_rise_ppm_per_min) /* not for co2_rise_s yet */
            snprintf(tail, sizeof tail, " and co2 rising %s ppm/min for less than %u s", rate, o->co2_rise_s);
        else
            snprintf(tail, sizeof tail, " and co2 rising only %s ppm/min (< %s)", rate, limit);
    }
    if (room->last_motion >= 0) {
        format_duration(dur, sizeof dur, t - room->last_motion);
        event_text(e, "no motion for %s%s", dur, tail);
    } else {
        event_text(e, "no motion seen%s", tail);
    }
}

static sbprov_air_co2_class classify(const sbprov_air_room *room)
{
    const sbprov_air_room_options *o = &room->opts;
    const double v = room->smoothed;
    const double low = (double)o->ventilate_ppm, high = (double)o->ventilate_now_ppm;
    const double h = (double)o->hysteresis_ppm;

    switch (room->co2_class) {
    case SBPROV_AIR_CO2_VENTILATE:
        return v >= high ? SBPROV_AIR_CO2_VENTILATE_NOW : v < low - h ? SBPROV_AIR_CO2_FINE : SBPROV_AIR_CO2_VENTILATE;
    case SBPROV_AIR_CO2_VENTILATE_NOW:
        return v < low - h ? SBPROV_AIR_CO2_FINE : v < high - h ? SBPROV_AIR_CO2_VENTILATE : SBPROV_AIR_CO2_VENTILATE_NOW;
    default: /* UNKNOWN, FINE */
        return v >= high ? SBPROV_AIR_CO2_VENTILATE_NOW : v >= low ? SBPROV_AIR_CO2_VENTILATE : SBPROV_AIR_CO2_FINE;
    }
}

static void update_class(sbprov_air_room *room, int64_t t)
{
    const sbprov_air_room_options *o = &room->opts;
    sbprov_air_co2_class before = room->co2_class, after = classify(room);
    uint32_t threshold;
    sbprov_air_event *e;

    if (after == before)
        return;
    room->co2_class = after;
    if (before == SBPROV_AIR_CO2_UNKNOWN && after == SBPROV_AIR_CO2_FINE)
        return; /* the first reading: nothing changed for anyone */
    if (after > before) {
        threshold = after == SBPROV_AIR_CO2_VENTILATE_NOW ? o->ventilate_now_ppm : o->ventilate_ppm;
        e = push_event(room, SBPROV_AIR_EVENT_VENTILATION_NEEDED, SBPROV_AIR_REASON_CO2_ABOVE, t);
        event_text(e, "co2 %u ppm >= %u", floor_ppm(room->smoothed), threshold);
    } else {
        threshold = after == SBPROV_AIR_CO2_FINE ? o->ventilate_ppm : o->ventilate_now_ppm;
        e = push_event(room,
                       after == SBPROV_AIR_CO2_FINE ? SBPROV_AIR_EVENT_VENTILATION_DONE
                                                    : SBPROV_AIR_EVENT_VENTILATION_NEEDED,
                       SBPROV_AIR_REASON_CO2_BELOW, t);
        if (o->hysteresis_ppm > 0)
            event_text(e, "co2 fell to %u ppm < %u (%u - %u hysteresis)", floor_ppm(room->smoothed),
                       threshold - o->hysteresis_ppm, threshold, o->hysteresis_ppm);
        else
            event_text(e, "co2 fell to %u ppm < %u", floor_ppm(room->smoothed), threshold);
    }
    e->previous_class = before;
    e->threshold_ppm = threshold;
}

static sbprov_result check_sample(const sbprov_air_room *room, const sbprov_air_sample *s)
{
    if (s->time_ms < 0)
        return sbprov__fail(SBPROV_EINVAL, "air sample: time_ms %lld is negative", (long long)s->time_ms);
    if (room->time_ms >= 0 && s->time_ms < room->time_ms)
        return sbprov__fail(SBPROV_EINVAL,
                            "air sample: time %lld ms is before the previous sample's %lld ms (the clock went "
                            "backwards; sbprov_air_room_reset() starts over)",
                            (long long)s->time_ms, (long long)room->time_ms);
    if (s->has_co2 && s->co2_ppm > SBPROV_AIR_CO2_MAX)
        return sbprov__fail(SBPROV_EINVAL, "air sample: co2_ppm %u is out of range (0..%u)", s->co2_ppm,
                            SBPROV_AIR_CO2_MAX);
    if (s->has_temperature && (s->temperature_centi_c < -4000 || s->temperature_centi_c > 12500))
        return sbprov__fail(SBPROV_EINVAL, "air sample: temperature_centi_c %d is out of range (-4000..12500)",
                            (int)s->temperature_centi_c);
    if (s->has_humidity && s->humidity_centi_pct > 10000)
        return sbprov__fail(SBPROV_EINVAL, "air sample: humidity_centi_pct %u is out of range (0..10000)",
                            s->humidity_centi_pct);
    return SBPROV_OK;
}

sbprov_result sbprov_air_room_update(sbprov_air_room *room, const sbprov_air_sample *sample)
{
    sbprov_air_sample s;
    sbprov_result rc;
    int64_t t;

    if (room == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air update: NULL room");
    if ((rc = sbprov__options_load(&s, sample, SAMPLE_V1_SIZE, sizeof s, "air sample")) != SBPROV_OK)
        return rc;
    if ((rc = check_sample(room, &s)) != SBPROV_OK)
        return rc;

    /* Checked: from here on nothing fails. */
    t = s.time_ms;
    room->time_ms = t;
    room->samples++;
    if (s.has_temperature) {
        room->has_temperature = 1;
        room->temperature_centi_c = s.temperature_centi_c;
    }
    if (s.has_humidity) {
        room->has_humidity = 1;
        room->humidity_centi_pct = s.humidity_centi_pct;
    }
    if (s.has_co2) {
        const double v = (double)s.co2_ppm;
        if (!room->has_co2 || room->opts.smoothing_s == 0) {
            room->ema = v;
        } else {
            /* First-order low-pass with time constant tau, backward Euler:
             * alpha = dt / (tau + dt), for any dt; it lags a ramp of slope k
             * by exactly k * tau. */
            const double dt = (double)(t - room->co2_time), tau = (double)room->opts.smoothing_s * 1000.0;
            room->ema += dt / (tau + dt) * (v - room->ema);
        }
        room->has_co2 = 1;
        room->co2_ppm = s.co2_ppm;
        room->co2_time = t;
        room->ring_time[room->ring_head] = t;
        room->ring_co2[room->ring_head] = s.co2_ppm;
        room->ring_head = (room->ring_head + 1) % SBPROV_AIR_TREND_CAPACITY;
        if (room->ring_count < SBPROV_AIR_TREND_CAPACITY)
            room->ring_count++;
    }
    compute_trend(room, t);
    if (s.has_co2)
        update_level(room);
    update_rising(room, t);
    if (s.has_motion && s.motion > 0)
        room->last_motion = t;
    update_occupancy(room, t, s.has_motion && s.motion > 0);
    if (s.has_co2)
        update_class(room, t);
    return SBPROV_OK;
}

/* --- state ---------------------------------------------------------------------- */

static void fill_state(sbprov_air_state *st, const sbprov_air_room *room)
{
    const sbprov_air_room_options *o = &room->opts;
    int64_t t = room->time_ms;

    memset(st, 0, sizeof *st);
    st->struct_size = sizeof *st;
    st->time_ms = t;
    st->samples = room->samples;
    st->co2_class = room->co2_class;
    st->has_co2 = room->has_co2;
    st->co2_ppm = room->co2_ppm;
    st->co2_smoothed_ppm = room->has_co2 ? room->smoothed : 0;
    st->ms_since_co2 = room->has_co2 ? t - room->co2_time : -1;
    st->has_trend = room->has_trend;
    st->trend_ppm_per_min = room->has_trend ? room->trend : 0;
    st->minutes_to_threshold = -1;
    if (room->co2_class == SBPROV_AIR_CO2_FINE)
        st->next_threshold_ppm = o->ventilate_ppm;
    else if (room->co2_class == SBPROV_AIR_CO2_VENTILATE)
        st->next_threshold_ppm = o->ventilate_now_ppm;
    if (st->next_threshold_ppm > 0 && room->has_trend && room->trend >= FLAT_PPM_PER_MIN) {
        double m = ((double)st->next_threshold_ppm - room->smoothed) / room->trend;
        st->minutes_to_threshold = m > 0 ? m : 0;
    }
    st->occupied = room->occupied;
    st->occupied_reason = room->occupied_reason;
    st->co2_rising = room->co2_rising;
    st->ms_since_motion = room->last_motion >= 0 ? t - room->last_motion : -1;
    st->has_temperature = room->has_temperature;
    st->temperature_centi_c = room->temperature_centi_c;
    st->has_humidity = room->has_humidity;
    st->humidity_centi_pct = room->humidity_centi_pct;
    st->events_pending = (uint32_t)room->queue_count;
    st->events_dropped = room->dropped;
}

sbprov_result sbprov_air_room_state(sbprov_air_state *out, const sbprov_air_room *room)
{
    sbprov_air_state st;

    if (room == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air state: NULL room");
    fill_state(&st, room);
    return sbprov__options_store(out, &st, sizeof st, sizeof st, "air state");
}

/* --- JSON ----------------------------------------------------------------------- */

static void json_key(sbprov__text *t, const char *key)
{
    sbprov__text_append_str(t, t->len > 1 ? ",\"" : "\"");
    sbprov__text_append_str(t, key);
    sbprov__text_append_str(t, "\":");
}

static void json_fixed(sbprov__text *t, const char *key, int64_t value, unsigned decimals)
{
    json_key(t, key);
    sbprov__text_append_fixed(t, value, decimals);
}

static void json_string(sbprov__text *t, const char *key, const char *s)
{
    json_key(t, key);
    sbprov__text_append_str(t, "\"");
    for (; *s != '\0'; s++) { /* names are printable ASCII */
        if (*s == '"' || *s == '\\')
            sbprov__text_append_str(t, "\\");
        sbprov__text_append(t, s, 1);
    }
    sbprov__text_append_str(t, "\"");
}

sbprov_result sbprov_air_room_state_json(char *buf, size_t buf_size, size_t *out_len, const sbprov_air_room *room)
{
    sbprov_air_state st;
    sbprov__text t;

    if (room == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air state json: NULL room");
    if (buf == NULL && buf_size > 0)
        return sbprov__fail(SBPROV_EINVAL, "air state json: NULL buffer with a size");
    fill_state(&st, room);
    sbprov__text_init(&t, buf, buf_size);
    sbprov__text_append_str(&t, "{");
    if (room->name[0] != '\0')
        json_string(&t, "room", room->name);
    if (st.time_ms >= 0)
        json_fixed(&t, "time_ms", st.time_ms, 0);
    json_string(&t, "co2_class", sbprov_air_co2_class_name(st.co2_class));
    if (st.has_co2) {
        json_fixed(&t, "co2_ppm", st.co2_ppm, 0);
        json_fixed(&t, "co2_smoothed_ppm", to_tenths(st.co2_smoothed_ppm), 1);
    }
    if (st.has_trend)
        json_fixed(&t, "co2_trend_ppm_per_min", to_tenths(st.trend_ppm_per_min), 1);
    if (st.next_threshold_ppm > 0)
        json_fixed(&t, "next_threshold_ppm", st.next_threshold_ppm, 0);
    if (st.minutes_to_threshold >= 0)
        json_fixed(&t, "minutes_to_threshold", to_tenths(st.minutes_to_threshold), 1);
    json_key(&t, "occupied");
    sbprov__text_append_str(&t, st.occupied ? "true" : "false");
    if (st.occupied)
        json_string(&t, "occupied_reason", sbprov_air_reason_name(st.occupied_reason));
    if (st.ms_since_motion >= 0)
        json_fixed(&t, "seconds_since_motion", st.ms_since_motion / 1000, 0);
    if (st.has_temperature)
        json_fixed(&t, "temperature_c", st.temperature_centi_c, 2);
    if (st.has_humidity)
        json_fixed(&t, "humidity_pct", st.humidity_centi_pct, 2);
    json_fixed(&t, "events_dropped", (int64_t)st.events_dropped, 0);
    sbprov__text_append_str(&t, "}");
    return sbprov__text_finish(&t, out_len);
}
