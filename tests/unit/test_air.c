/* Rooms and buildings (sbprov/air.h): CO2 classes with hysteresis, trend and
 * prediction, occupancy from PIR and rising CO2, events, JSON, every error
 * path. The scenarios run a well-mixed room model,
 *     dC/dt = N * G / V - Q / V * (C - C_out),  G = 20 L/h per person,
 * (framing.md 5.2: 6 people in 50 m3 without ventilation give 40 ppm/min)
 * integrated in 1 s steps, with seeded sensor noise, so every run is the same. */
#include "test_util.h"

#include <sbprov/air.h>

#include <math.h> /* NAN, INFINITY (macros only: nothing links libm) */

/* --- helpers ----------------------------------------------------------------- */

/* xorshift64*: deterministic noise. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed != 0 ? seed : 1;
}

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Uniform integer in [lo, hi]. */
static int rng_int(int lo, int hi)
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

typedef struct room_sim {
    double volume_m3;
    double people;
    double airflow_m3h; /* Q */
    double co2;         /* ppm */
    double outdoor;     /* ppm */
    int64_t t_ms;       /* model time */
    double watch[2];    /* thresholds whose first upward crossing is recorded (0: none) */
    int64_t crossed[2]; /* when the air first reached them (1 s resolution), -1 before */
} room_sim;

static room_sim sim_room(double volume_m3, double airflow_m3h)
{
    room_sim r = { volume_m3, 0, airflow_m3h, 420, 420, 0, { 1000, 2000 }, { -1, -1 } };
    return r;
}

/* dC/dt in ppm/h: N * 0.020 m3/h / V * 1e6 - Q / V * (C - C_out). */
static void sim_advance(room_sim *r, double seconds)
{
    for (double s = 0; s < seconds; s += 1) {
        double per_hour = r->people * 0.020 * 1e6 / r->volume_m3 -
                          r->airflow_m3h / r->volume_m3 * (r->co2 - r->outdoor);
        r->co2 += per_hour / 3600.0;
        r->t_ms += 1000;
        for (int i = 0; i < 2; i++)
            if (r->crossed[i] < 0 && r->watch[i] > 0 && r->co2 >= r->watch[i])
                r->crossed[i] = r->t_ms;
    }
}

/* The sensor's reading: the true value plus noise of +-noise ppm, rounded. */
static uint32_t sim_read(const room_sim *r, int noise)
{
    double v = r->co2 + (noise > 0 ? rng_int(-noise, noise) : 0);
    return v < 0 ? 0 : (uint32_t)(v + 0.5);
}

static sbprov_air_sample sample_at(int64_t t)
{
    sbprov_air_sample s;
    assert_ok(sbprov_air_sample_init(&s, sizeof s));
    s.time_ms = t;
    return s;
}

/* Feed one sample: co2 < 0 means none, motion < 0 means no PIR in it. */
static void feed(sbprov_air_room *room, int64_t t, int64_t co2, int motion)
{
    sbprov_air_sample s = sample_at(t);
    if (co2 >= 0) {
        s.has_co2 = 1;
        s.co2_ppm = (uint32_t)co2;
    }
    if (motion >= 0) {
        s.has_motion = 1;
        s.motion = (uint32_t)motion;
    }
    assert_ok(sbprov_air_room_update(room, &s));
}

static sbprov_air_state state_of(const sbprov_air_room *room)
{
    sbprov_air_state st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    assert_ok(sbprov_air_room_state(&st, room));
    return st;
}

typedef struct event_log {
    sbprov_air_event ev[512];
    size_t n;
} event_log;

/* Move every queued event of `room` into `log`; returns how many. */
static size_t drain(sbprov_air_room *room, event_log *log)
{
    size_t got = 0;
    for (;;) {
        sbprov_air_event e;
        memset(&e, 0, sizeof e);
        e.struct_size = sizeof e;
        assert_ok(sbprov_air_room_next_event(&e, room));
        if (e.kind == SBPROV_AIR_EVENT_NONE)
            return got;
        assert_true(log->n < sizeof log->ev / sizeof log->ev[0]);
        log->ev[log->n++] = e;
        got++;
    }
}

static size_t count_kind(const event_log *log, sbprov_air_event_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < log->n; i++)
        n += log->ev[i].kind == kind;
    return n;
}

static size_t count_ventilation(const event_log *log)
{
    return count_kind(log, SBPROV_AIR_EVENT_VENTILATION_NEEDED) + count_kind(log, SBPROV_AIR_EVENT_VENTILATION_DONE);
}

static sbprov_air_room *new_room(const sbprov_air_room_options *opts)
{
    sbprov_air_room *room = NULL;
    assert_ok(sbprov_air_room_new(&room, opts));
    assert_non_null(room);
    return room;
}

static sbprov_air_room_options default_options(void)
{
    sbprov_air_room_options o;
    assert_ok(sbprov_air_room_options_init(&o, sizeof o));
    return o;
}

static double absd(double x)
{
    return x < 0 ? -x : x;
}

/* Predictions made while the class was below `threshold`: (time, minutes). */
typedef struct prediction_log {
    int64_t t[1024];
    double minutes[1024];
    uint32_t threshold[1024];
    size_t n;
} prediction_log;

static void record_prediction(prediction_log *p, int64_t t, const sbprov_air_state *st)
{
    if (st->minutes_to_threshold < 0 || p->n == sizeof p->t / sizeof p->t[0])
        return;
    p->t[p->n] = t;
    p->minutes[p->n] = st->minutes_to_threshold;
    p->threshold[p->n] = st->next_threshold_ppm;
    p->n++;
}

/* Every prediction for `threshold` made from `from_ms` on, at least
 * `min_ahead_min` minutes before the air really reached it (`truth_ms`, from
 * the noise-free model), must be within `tolerance` (relative) of the real
 * time left. Returns the largest relative error seen and the number checked. */
static double check_predictions(const prediction_log *p, uint32_t threshold, int64_t from_ms, int64_t truth_ms,
                                double min_ahead_min, double tolerance, size_t *checked)
{
    double worst = 0;
    *checked = 0;
    for (size_t i = 0; i < p->n; i++) {
        double actual = (double)(truth_ms - p->t[i]) / 60000.0, err;
        if (p->threshold[i] != threshold || p->t[i] < from_ms || actual < min_ahead_min)
            continue;
        err = absd(p->minutes[i] - actual) / actual;
        if (err > tolerance)
            fail_msg("prediction at t=%.1f min for %u ppm: %.2f min, real %.2f min (%.0f%% off)",
                     (double)p->t[i] / 60000.0, threshold, p->minutes[i], actual, err * 100);
        if (err > worst)
            worst = err;
        (*checked)++;
    }
    return worst;
}

static const sbprov_air_event *find_event(const event_log *log, sbprov_air_event_kind kind, size_t nth)
{
    for (size_t i = 0; i < log->n; i++)
        if (log->ev[i].kind == kind && nth-- == 0)
            return &log->ev[i];
    return NULL;
}

#define MIN_MS(m) ((int64_t)((m) * 60000.0))

/* --- options and structs ---------------------------------------------------------- */

typedef struct bigger_options {
    sbprov_air_room_options base;
    uint64_t future_option;
} bigger_options;

typedef struct bigger_sample {
    sbprov_air_sample base;
    uint64_t future_field;
} bigger_sample;

typedef struct bigger_state {
    sbprov_air_state base;
    uint64_t future_field;
} bigger_state;

static void test_options_defaults_and_struct_size(void **state)
{
    sbprov_air_room_options o;
    sbprov_air_sample s;
    bigger_options big;
    bigger_sample bs;
    sbprov_air_room *room = NULL;
    (void)state;

    assert_ok(sbprov_air_room_options_init(&o, sizeof o));
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.ventilate_ppm, 1000);
    assert_int_equal(o.ventilate_now_ppm, 2000);
    assert_int_equal(o.hysteresis_ppm, 50);
    assert_int_equal(o.smoothing_s, 60);
    assert_int_equal(o.trend_window_s, 600);
    assert_int_equal(o.trend_min_samples, 5);
    assert_int_equal(o.trend_min_span_s, 300);
    assert_int_equal(o.pir_hold_s, 600);
    assert_true(o.co2_rise_ppm_per_min == 10.0);
    assert_int_equal(o.co2_rise_s, 180);

    assert_fails_with(sbprov_air_room_options_init(NULL, sizeof o), SBPROV_EINVAL, "air room options: NULL");
    assert_fails_with(sbprov_air_room_options_init(&o, sizeof o - 1), SBPROV_EINVAL,
                      "smaller than the first version");
    assert_fails_with(sbprov_air_room_options_init(&o, 1u << 20), SBPROV_EINVAL, "implausibly large");
    assert_ok(sbprov_air_sample_init(&s, sizeof s));
    assert_int_equal(s.struct_size, sizeof s);
    assert_int_equal(s.has_co2 | s.has_motion | s.has_temperature | s.has_humidity, 0);
    assert_fails_with(sbprov_air_sample_init(NULL, sizeof s), SBPROV_EINVAL, "air sample: NULL");
    assert_fails_with(sbprov_air_sample_init(&s, 8), SBPROV_EINVAL, "smaller than the first version");

    /* A caller with a newer, larger options struct: accepted while the tail is zero. */
    memset(&big, 0xa5, sizeof big);
    assert_ok(sbprov_air_room_options_init(&big.base, sizeof big));
    assert_int_equal(big.future_option, 0);
    assert_ok(sbprov_air_room_new(&room, &big.base));
    sbprov_air_room_free(room);
    big.future_option = 7;
    room = (sbprov_air_room *)&big; /* must be reset to NULL on failure */
    assert_fails_with(sbprov_air_room_new(&room, &big.base), SBPROV_EINVAL, "an option from a newer version");
    assert_null(room);

    /* The same for samples. */
    room = new_room(NULL);
    memset(&bs, 0, sizeof bs);
    assert_ok(sbprov_air_sample_init(&bs.base, sizeof bs));
    bs.base.time_ms = 1000;
    assert_ok(sbprov_air_room_update(room, &bs.base));
    bs.future_field = 1;
    bs.base.time_ms = 2000;
    assert_fails_with(sbprov_air_room_update(room, &bs.base), SBPROV_EINVAL, "an option from a newer version");
    assert_int_equal(state_of(room).time_ms, 1000);
    sbprov_air_room_free(room);

    /* An uninitialised options struct. */
    memset(&o, 0, sizeof o);
    assert_fails_with(sbprov_air_room_new(&room, &o), SBPROV_EINVAL, "struct_size 0 is smaller");
}

static void expect_bad_option(const sbprov_air_room_options *o, const char *needle)
{
    sbprov_air_room *room = NULL;
    assert_fails_with(sbprov_air_room_new(&room, o), SBPROV_EINVAL, needle);
    assert_null(room);
}

static void test_options_out_of_range(void **state)
{
    sbprov_air_room_options o;
    sbprov_air_room *room;
    (void)state;

#define BAD(field, value, needle)          \
    do {                                   \
        o = default_options();             \
        o.field = value;                   \
        expect_bad_option(&o, needle);     \
    } while (0)
    BAD(ventilate_ppm, 0, "ventilate_ppm 0 is out of range (1..40000)");
    BAD(ventilate_ppm, 2000, "ventilate_now_ppm 2000 must be above ventilate_ppm (2000)");
    BAD(ventilate_now_ppm, 40001, "ventilate_now_ppm 40001 must be above ventilate_ppm (1000) and at most 40000");
    BAD(ventilate_now_ppm, 1000, "ventilate_now_ppm 1000 must be above");
    BAD(hysteresis_ppm, 1000, "hysteresis_ppm 1000 must be below ventilate_ppm (1000)");
    BAD(smoothing_s, 3601, "smoothing_s 3601 is out of range (0..3600)");
    BAD(trend_window_s, 9, "trend_window_s 9 is out of range (10..86400)");
    BAD(trend_window_s, 86401, "trend_window_s 86401 is out of range");
    BAD(trend_min_samples, 2, "trend_min_samples 2 is out of range (3..128)");
    BAD(trend_min_samples, SBPROV_AIR_TREND_CAPACITY + 1, "trend_min_samples 129 is out of range");
    BAD(trend_min_span_s, 601, "trend_min_span_s 601 is longer than trend_window_s (600)");
    BAD(pir_hold_s, 0, "pir_hold_s 0 is out of range (1..86400)");
    BAD(pir_hold_s, 86401, "pir_hold_s 86401 is out of range");
    BAD(co2_rise_ppm_per_min, -1.0, "co2_rise_ppm_per_min is out of range (0..1000)");
    BAD(co2_rise_ppm_per_min, 1000.5, "co2_rise_ppm_per_min is out of range");
    BAD(co2_rise_ppm_per_min, NAN, "co2_rise_ppm_per_min is out of range");
    BAD(co2_rise_ppm_per_min, INFINITY, "co2_rise_ppm_per_min is out of range");
    BAD(co2_rise_s, 86401, "co2_rise_s 86401 is out of range (0..86400)");
#undef BAD
    /* Hysteresis must also fit between the two thresholds. */
    o = default_options();
    o.ventilate_ppm = 800;
    o.ventilate_now_ppm = 850;
    expect_bad_option(&o, "hysteresis_ppm 50 must be below ventilate_now_ppm - ventilate_ppm (50)");
    o.hysteresis_ppm = 49;
    room = new_room(&o);
    sbprov_air_room_free(room);
    /* Edges that are allowed. */
    o = default_options();
    o.ventilate_now_ppm = SBPROV_AIR_CO2_MAX;
    o.hysteresis_ppm = 0;
    o.smoothing_s = 0;
    o.trend_min_span_s = 0;
    o.co2_rise_ppm_per_min = 0;
    o.co2_rise_s = 0;
    room = new_room(&o);
    sbprov_air_room_free(room);
}

/* --- the meeting: arrival, 1000, 2000, window, departure --------------------------------- */

static void test_meeting_room_scenario(void **state)
{
    const int64_t step = 30000, arrival = MIN_MS(5);
    room_sim sim = sim_room(50, 5); /* 50 m3, tight room: 0.1 air changes per hour */
    sbprov_air_room *room = new_room(NULL);
    static event_log log;
    static prediction_log pred;
    int64_t t, window_open = -1, leave = -1, last_motion = -1;
    int band_seen = 0;
    const sbprov_air_event *e;
    size_t checked;
    double worst;
    (void)state;

    memset(&log, 0, sizeof log);
    memset(&pred, 0, sizeof pred);
    rng_seed(20240601);
    for (t = 0; t <= MIN_MS(150); t += step) {
        sbprov_air_state st;
        int motion = 0;

        if (t == arrival)
            sim.people = 6;
        if (sim.people > 0)
            motion = t == arrival ? 3 : rng_int(0, 9) < 4; /* people move now and then */
        if (motion > 0)
            last_motion = t;
        feed(room, t, sim_read(&sim, 20), motion);
        st = state_of(room);
        record_prediction(&pred, t, &st);
        if (st.co2_class == SBPROV_AIR_CO2_VENTILATE && st.co2_smoothed_ppm < 1000 && st.co2_smoothed_ppm >= 950)
            band_seen = 1; /* inside the hysteresis band, still VENTILATE */
        if (st.co2_class == SBPROV_AIR_CO2_FINE && window_open >= 0)
            assert_true(st.co2_smoothed_ppm < 950 || count_kind(&log, SBPROV_AIR_EVENT_VENTILATION_DONE) > 0);
        if (window_open >= 0 && st.has_trend && st.trend_ppm_per_min < 0)
            assert_true(st.minutes_to_threshold == -1); /* falling: no prediction */
        drain(room, &log);

        /* The room model runs on to the next sample. */
        sim_advance(&sim, (double)step / 1000);
        /* Five minutes after "ventilate now", a window opens wide (10 air changes per hour). */
        if (window_open < 0 && count_kind(&log, SBPROV_AIR_EVENT_VENTILATION_NEEDED) == 2 &&
            t >= find_event(&log, SBPROV_AIR_EVENT_VENTILATION_NEEDED, 1)->time_ms + MIN_MS(5)) {
            window_open = t + step;
            sim.airflow_m3h = 500;
        }
        /* Five minutes after the air is fine again, everybody leaves. */
        if (leave < 0 && count_kind(&log, SBPROV_AIR_EVENT_VENTILATION_DONE) == 1 &&
            t >= find_event(&log, SBPROV_AIR_EVENT_VENTILATION_DONE, 0)->time_ms + MIN_MS(5)) {
            leave = t + step;
            sim.people = 0;
        }
    }
    assert_true(window_open > 0);
    assert_true(leave > 0);

    /* Exactly these events, in this order: no flapping anywhere. */
    assert_int_equal(log.n, 6);
    assert_int_equal(log.ev[0].kind, SBPROV_AIR_EVENT_OCCUPIED);
    assert_int_equal(log.ev[1].kind, SBPROV_AIR_EVENT_VENTILATION_NEEDED);
    assert_int_equal(log.ev[2].kind, SBPROV_AIR_EVENT_VENTILATION_NEEDED);
    assert_int_equal(log.ev[3].kind, SBPROV_AIR_EVENT_VENTILATION_NEEDED);
    assert_int_equal(log.ev[4].kind, SBPROV_AIR_EVENT_VENTILATION_DONE);
    assert_int_equal(log.ev[5].kind, SBPROV_AIR_EVENT_FREE);

    /* People arrive: occupied at once, because of motion. */
    e = &log.ev[0];
    assert_int_equal(e->time_ms, arrival);
    assert_int_equal(e->reason, SBPROV_AIR_REASON_MOTION);
    assert_string_equal(e->reason_text, "motion");
    assert_int_equal(e->ms_since_motion, 0);
    assert_string_equal(e->room, "");

    /* 1000 ppm: ventilate. The rise is about 40 ppm/min (framing.md 5.2). */
    e = &log.ev[1];
    assert_int_equal(e->reason, SBPROV_AIR_REASON_CO2_ABOVE);
    assert_int_equal(e->previous_class, SBPROV_AIR_CO2_FINE);
    assert_int_equal(e->co2_class, SBPROV_AIR_CO2_VENTILATE);
    assert_int_equal(e->threshold_ppm, 1000);
    assert_true(e->co2_ppm >= 1000 && e->co2_ppm < 1050);
    {
        char want[64];
        snprintf(want, sizeof want, "co2 %u ppm >= 1000", e->co2_ppm);
        assert_string_equal(e->reason_text, want);
    }
    assert_true(e->trend_ppm_per_min > 34 && e->trend_ppm_per_min < 44);
    /* The level is corrected for the smoothing lag: the event comes within
     * about a sample interval of the moment the modelled air reached 1000 ppm. */
    assert_true(sim.crossed[0] > 0);
    assert_true(e->time_ms >= sim.crossed[0] - MIN_MS(1) && e->time_ms <= sim.crossed[0] + MIN_MS(1.5));
    /* Predictions once the trend window (10 min) is full of the rise, at
     * least 3 min ahead, were within 20% of when the air really got there. */
    worst = check_predictions(&pred, 1000, arrival + MIN_MS(10), sim.crossed[0], 3, 0.20, &checked);
    print_message("1000 ppm: %zu predictions checked, worst %.1f%% off; air at 1000 after %.1f min, event %+.1f "
                  "min later\n",
                  checked, worst * 100, (double)(sim.crossed[0] - arrival) / 60000.0,
                  (double)(e->time_ms - sim.crossed[0]) / 60000.0);
    assert_true(checked >= 4);

    /* 2000 ppm: ventilate now. */
    e = &log.ev[2];
    assert_int_equal(e->reason, SBPROV_AIR_REASON_CO2_ABOVE);
    assert_int_equal(e->previous_class, SBPROV_AIR_CO2_VENTILATE);
    assert_int_equal(e->co2_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    assert_int_equal(e->threshold_ppm, 2000);
    assert_true(sim.crossed[1] > 0);
    assert_true(e->time_ms >= sim.crossed[1] - MIN_MS(1) && e->time_ms <= sim.crossed[1] + MIN_MS(1.5));
    worst = check_predictions(&pred, 2000, arrival + MIN_MS(10), sim.crossed[1], 3, 0.20, &checked);
    print_message("2000 ppm: %zu predictions checked, worst %.1f%% off; air at 2000 after %.1f min, event %+.1f "
                  "min later\n",
                  checked, worst * 100, (double)(sim.crossed[1] - arrival) / 60000.0,
                  (double)(e->time_ms - sim.crossed[1]) / 60000.0);
    assert_true(checked >= 20);

    /* The window opens: down to VENTILATE below 1950, to FINE only below 950. */
    e = &log.ev[3];
    assert_true(e->time_ms > window_open);
    assert_int_equal(e->reason, SBPROV_AIR_REASON_CO2_BELOW);
    assert_int_equal(e->previous_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    assert_int_equal(e->co2_class, SBPROV_AIR_CO2_VENTILATE);
    assert_int_equal(e->threshold_ppm, 2000);
    assert_true(e->co2_ppm < 1950);
    {
        char want[96];
        snprintf(want, sizeof want, "co2 fell to %u ppm < 1950 (2000 - 50 hysteresis)", e->co2_ppm);
        assert_string_equal(e->reason_text, want);
    }
    e = &log.ev[4];
    assert_int_equal(e->kind, SBPROV_AIR_EVENT_VENTILATION_DONE);
    assert_int_equal(e->reason, SBPROV_AIR_REASON_CO2_BELOW);
    assert_int_equal(e->previous_class, SBPROV_AIR_CO2_VENTILATE);
    assert_int_equal(e->co2_class, SBPROV_AIR_CO2_FINE);
    assert_int_equal(e->threshold_ppm, 1000);
    assert_true(e->co2_ppm < 950 && e->co2_ppm > 850);
    assert_true(e->trend_ppm_per_min < -20);
    {
        char want[96];
        snprintf(want, sizeof want, "co2 fell to %u ppm < 950 (1000 - 50 hysteresis)", e->co2_ppm);
        assert_string_equal(e->reason_text, want);
    }
    assert_true(band_seen); /* it passed through 950..1000 without leaving VENTILATE */

    /* Everybody leaves: free after 10 min without motion, not before. */
    e = &log.ev[5];
    assert_int_equal(e->reason, SBPROV_AIR_REASON_NO_PRESENCE);
    assert_true(last_motion < leave);
    assert_true(e->time_ms - last_motion >= 600000 && e->time_ms - last_motion < 600000 + step);
    assert_int_equal(e->ms_since_motion, e->time_ms - last_motion);
    assert_non_null(strstr(e->reason_text, "no motion for 10 min and co2 "));
    print_message("FREE: \"%s\"\n", e->reason_text);

    {
        sbprov_air_state st = state_of(room);
        assert_int_equal(st.co2_class, SBPROV_AIR_CO2_FINE);
        assert_int_equal(st.occupied, 0);
        assert_int_equal(st.occupied_reason, SBPROV_AIR_REASON_NONE);
        assert_int_equal(st.events_pending, 0);
        assert_int_equal(st.events_dropped, 0);
        assert_int_equal(st.samples, MIN_MS(150) / step + 1);
        assert_int_equal(st.next_threshold_ppm, 1000);
    }
    sbprov_air_room_free(room);
}

/* --- no flapping -------------------------------------------------------------------- */

/* Feed `minutes` of readings `level` +- `noise` every 30 s from *t on. */
static void hover(sbprov_air_room *room, int64_t *t, int level, int noise, int minutes)
{
    for (int i = 0; i < minutes * 2; i++, *t += 30000)
        feed(room, *t, level + rng_int(-noise, noise), -1);
}

static void flap_phases(const sbprov_air_room_options *o, const char *what)
{
    sbprov_air_room *room = new_room(o);
    static event_log log;
    int64_t t = 0;

    memset(&log, 0, sizeof log);
    rng_seed(7);
    hover(room, &t, 600, 20, 10);
    assert_int_equal(drain(room, &log), 0);
    /* Right at 1000 ppm for 3 hours: ventilate, once. */
    hover(room, &t, 1000, 20, 180);
    assert_int_equal(drain(room, &log), 1);
    assert_int_equal(log.ev[0].co2_class, SBPROV_AIR_CO2_VENTILATE);
    /* Right at the way out (950) for 3 hours: done, once, and never back in. */
    hover(room, &t, 950, 20, 180);
    assert_int_equal(drain(room, &log), 1);
    assert_int_equal(log.ev[1].kind, SBPROV_AIR_EVENT_VENTILATION_DONE);
    /* Right at 2000 for 3 hours: needed (straight to VENTILATE_NOW or via
     * VENTILATE) and then no change back and forth. */
    hover(room, &t, 2000, 20, 180);
    drain(room, &log);
    assert_true(log.n <= 4);
    assert_int_equal(log.ev[log.n - 1].co2_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    print_message("%s: %zu ventilation events over 9 h around the thresholds\n", what, count_ventilation(&log));
    sbprov_air_room_free(room);
}

static void test_noise_around_thresholds_does_not_flap(void **state)
{
    sbprov_air_room_options o = default_options();
    sbprov_air_room *room;
    static event_log log;
    int64_t t = 0;
    (void)state;

    o.co2_rise_ppm_per_min = 0; /* the jumps between phases would count as people: only ventilation here */
    flap_phases(&o, "smoothed, 50 ppm hysteresis");
    o.smoothing_s = 0; /* raw readings: the hysteresis alone holds (+-20 noise < 50) */
    flap_phases(&o, "raw, 50 ppm hysteresis");

    /* Without hysteresis and smoothing the same readings flap: what the rules prevent. */
    o.hysteresis_ppm = 0;
    room = new_room(&o);
    memset(&log, 0, sizeof log);
    rng_seed(7);
    for (int i = 0; i < 360; i++, t += 30000) {
        feed(room, t, 1000 + rng_int(-20, 20), -1);
        drain(room, &log); /* read at once: the queue holds only 16 */
    }
    print_message("raw, no hysteresis: %zu events in 3 h at 1000 +- 20 ppm\n", log.n);
    assert_true(log.n > 100);
    assert_non_null(strstr(log.ev[1].reason_text, " ppm < 1000"));
    assert_null(strstr(log.ev[1].reason_text, "hysteresis"));
    sbprov_air_room_free(room);
}

/* --- occupancy ---------------------------------------------------------------------- */

/* One person sitting still in a 20 m3 office (about 16 ppm/min, as the
 * model gives) with one motion at arrival, for an hour; then they leave. */
static void still_person(const sbprov_air_room_options *o, event_log *log, int64_t *leave_out)
{
    const int64_t step = 30000, arrival = MIN_MS(2), leave = MIN_MS(62);
    room_sim sim = sim_room(20, 5);
    sbprov_air_room *room = new_room(o);

    rng_seed(99);
    for (int64_t t = 0; t <= MIN_MS(100); t += step) {
        if (t == arrival)
            sim.people = 1;
        if (t == leave)
            sim.people = 0;
        feed(room, t, sim_read(&sim, 20), t == arrival ? 1 : 0);
        drain(room, log);
        if (t > arrival + MIN_MS(10) && t < leave && o->co2_rise_ppm_per_min > 0) {
            sbprov_air_state st = state_of(room);
            assert_true(st.occupied);
            assert_int_equal(st.occupied_reason, SBPROV_AIR_REASON_MOTION);
            assert_true(st.ms_since_motion == t - arrival);
        }
        sim_advance(&sim, (double)step / 1000);
    }
    *leave_out = leave;
    sbprov_air_room_free(room);
}

static void test_still_person_keeps_room_occupied(void **state)
{
    sbprov_air_room_options o = default_options();
    static event_log log;
    const sbprov_air_event *occ, *fr;
    int64_t leave;
    (void)state;

    memset(&log, 0, sizeof log);
    still_person(&o, &log, &leave);
    occ = find_event(&log, SBPROV_AIR_EVENT_OCCUPIED, 0);
    fr = find_event(&log, SBPROV_AIR_EVENT_FREE, 0);
    assert_non_null(occ);
    assert_int_equal(occ->time_ms, MIN_MS(2));
    assert_int_equal(count_kind(&log, SBPROV_AIR_EVENT_OCCUPIED), 1);
    /* No motion for an hour, but the CO2 kept rising: free only after they left. */
    assert_int_equal(count_kind(&log, SBPROV_AIR_EVENT_FREE), 1);
    assert_non_null(fr);
    assert_true(fr->time_ms > leave + MIN_MS(10));
    assert_true(fr->time_ms < leave + MIN_MS(20));
    assert_true(strncmp(fr->reason_text, "no motion for ", 14) == 0);
    assert_non_null(strstr(fr->reason_text, " and co2 "));
    print_message("still person: free %.1f min after leaving: \"%s\"\n", (double)(fr->time_ms - leave) / 60000.0,
                  fr->reason_text);

    /* With CO2 left out of occupancy the PIR alone frees the room after 10 min,
     * with the person still in it (the known limit of PIR). */
    o.co2_rise_ppm_per_min = 0;
    memset(&log, 0, sizeof log);
    still_person(&o, &log, &leave);
    fr = find_event(&log, SBPROV_AIR_EVENT_FREE, 0);
    assert_non_null(fr);
    assert_int_equal(fr->time_ms, MIN_MS(12));
    assert_string_equal(fr->reason_text, "no motion for 10 min");
}

static void test_occupied_by_rising_co2_without_pir(void **state)
{
    const int64_t step = 30000, arrival = MIN_MS(5);
    room_sim sim = sim_room(50, 5);
    sbprov_air_room *room = new_room(NULL);
    static event_log log;
    const sbprov_air_event *e;
    double rate = 0;
    int64_t leave = -1;
    (void)state;

    memset(&log, 0, sizeof log);
    rng_seed(31337);
    for (int64_t t = 0; t <= MIN_MS(80); t += step) {
        if (t == arrival)
            sim.people = 6;
        if (t == MIN_MS(30)) { /* they leave and open the window */
            sim.people = 0;
            sim.airflow_m3h = 500;
            leave = t;
        }
        feed(room, t, sim_read(&sim, 20), -1); /* no PIR in this room */
        drain(room, &log);
        sim_advance(&sim, (double)step / 1000);
    }
    e = find_event(&log, SBPROV_AIR_EVENT_OCCUPIED, 0);
    assert_non_null(e);
    assert_int_equal(e->reason, SBPROV_AIR_REASON_CO2_RISING);
    /* The trend passes 10 ppm/min within a few minutes, then must hold for 3 min. */
    assert_true(e->time_ms >= arrival + MIN_MS(3) && e->time_ms <= arrival + MIN_MS(9));
    assert_int_equal(sscanf(e->reason_text, "co2 rising %lf ppm/min", &rate), 1);
    assert_true(rate >= 10 && absd(rate - e->trend_ppm_per_min) < 0.051);
    assert_int_equal(e->ms_since_motion, -1);
    print_message("co2 only: occupied %.1f min after arrival: \"%s\"\n", (double)(e->time_ms - arrival) / 60000.0,
                  e->reason_text);

    e = find_event(&log, SBPROV_AIR_EVENT_FREE, 0);
    assert_non_null(e);
    assert_int_equal(count_kind(&log, SBPROV_AIR_EVENT_OCCUPIED), 1);
    assert_int_equal(count_kind(&log, SBPROV_AIR_EVENT_FREE), 1);
    assert_true(e->time_ms >= leave + MIN_MS(10) && e->time_ms <= leave + MIN_MS(16));
    assert_non_null(strstr(e->reason_text, "no motion seen and co2 "));
    print_message("co2 only: free %.1f min after leaving: \"%s\"\n", (double)(e->time_ms - leave) / 60000.0,
                  e->reason_text);
    sbprov_air_room_free(room);
}

static void test_motion_hold_and_reason_texts(void **state)
{
    sbprov_air_room_options o = default_options();
    sbprov_air_room *room;
    static event_log log;
    sbprov_air_state st;
    (void)state;

    /* PIR only, no CO2 sensor: hold counted from the last motion; ticks let it expire. */
    memset(&log, 0, sizeof log);
    room = new_room(NULL);
    feed(room, 0, -1, 0);
    assert_int_equal(drain(room, &log), 0);
    feed(room, 1000, -1, 1);
    feed(room, 200000, -1, 2);  /* more motion: hold restarts */
    feed(room, 700000, -1, 0);  /* 500 s after the last motion */
    feed(room, 799999, -1, -1); /* a tick, 1 ms short */
    assert_int_equal(drain(room, &log), 1);
    st = state_of(room);
    assert_true(st.occupied);
    assert_int_equal(st.ms_since_motion, 599999);
    feed(room, 800000, -1, -1);
    assert_int_equal(drain(room, &log), 1);
    assert_int_equal(log.ev[1].kind, SBPROV_AIR_EVENT_FREE);
    assert_int_equal(log.ev[1].time_ms, 800000);
    assert_string_equal(log.ev[1].reason_text, "no motion for 10 min and no co2 trend");
    st = state_of(room);
    assert_false(st.occupied);
    assert_int_equal(st.co2_class, SBPROV_AIR_CO2_UNKNOWN);
    assert_false(st.has_co2);
    assert_int_equal(st.ms_since_co2, -1);
    assert_true(st.minutes_to_threshold == -1);
    sbprov_air_room_free(room);

    /* Short hold (90 s) and a flat CO2: seconds in the text, "flat". A
     * 5-min window that gives a trend after 2 min. */
    o.trend_window_s = 300;
    o.trend_min_span_s = 120;
    o.pir_hold_s = 90;
    room = new_room(&o);
    memset(&log, 0, sizeof log);
    for (int64_t t = 0; t <= 150000; t += 10000)
        feed(room, t, 800, t == 50000 ? 1 : 0);
    drain(room, &log);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1].time_ms, 140000);
    assert_string_equal(log.ev[1].reason_text, "no motion for 1 min 30 s and co2 flat (0 ppm/min)");
    sbprov_air_room_free(room);

    /* Rising, but slower than the rise rate: "rising only". Then rising fast
     * but not yet long enough: "for less than". Readings every 12 s. */
    o = default_options();
    o.trend_window_s = 300;
    o.trend_min_span_s = 120;
    o.pir_hold_s = 150;
    o.co2_rise_s = 600;
    room = new_room(&o);
    memset(&log, 0, sizeof log);
    for (int64_t k = 0; k <= 13; k++)
        feed(room, k * 12000, 500 + k, k == 0 ? 1 : 0); /* 5 ppm/min */
    drain(room, &log);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1].time_ms, 156000);
    assert_string_equal(log.ev[1].reason_text, "no motion for 2 min 36 s and co2 rising only 5 ppm/min (< 10)");
    for (int64_t k = 14; k <= 52; k++) /* 30 ppm/min from 168 s on; motion at 468 s */
        feed(room, k * 12000, 513 + 6 * (k - 13), k == 39 ? 1 : 0);
    drain(room, &log);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.ev[2].kind, SBPROV_AIR_EVENT_OCCUPIED);
    assert_int_equal(log.ev[2].time_ms, 468000);
    assert_int_equal(log.ev[3].kind, SBPROV_AIR_EVENT_FREE);
    assert_int_equal(log.ev[3].time_ms, 624000);
    assert_string_equal(log.ev[3].reason_text, "no motion for 2 min 36 s and co2 rising 30 ppm/min for less than 600 s");
    sbprov_air_room_free(room);
}

/* --- thresholds ----------------------------------------------------------------------- */

static void test_stricter_threshold_800(void **state)
{
    const int64_t step = 30000;
    sbprov_air_room_options o = default_options();
    room_sim sim = sim_room(50, 5);
    sbprov_air_room *room;
    static event_log log;
    const sbprov_air_event *e;
    int64_t t;
    int open = 0;
    (void)state;

    o.ventilate_ppm = 800;
    room = new_room(&o);
    memset(&log, 0, sizeof log);
    rng_seed(800);
    sim.people = 6;
    for (t = 0; t <= MIN_MS(60); t += step) {
        sbprov_air_state st;
        feed(room, t, sim_read(&sim, 20), 1);
        st = state_of(room);
        if (st.co2_class == SBPROV_AIR_CO2_FINE)
            assert_int_equal(st.next_threshold_ppm, 800);
        drain(room, &log);
        if (!open && count_kind(&log, SBPROV_AIR_EVENT_VENTILATION_NEEDED) == 1) {
            open = 1;
            sim.airflow_m3h = 500;
        }
        sim_advance(&sim, (double)step / 1000);
    }
    assert_int_equal(count_ventilation(&log), 2);
    e = find_event(&log, SBPROV_AIR_EVENT_VENTILATION_NEEDED, 0);
    assert_int_equal(e->threshold_ppm, 800);
    assert_true(e->co2_ppm >= 800 && e->co2_ppm < 850);
    {
        char want[64];
        snprintf(want, sizeof want, "co2 %u ppm >= 800", e->co2_ppm);
        assert_string_equal(e->reason_text, want);
    }
    assert_true(e->time_ms >= MIN_MS(9) && e->time_ms <= MIN_MS(13)); /* (800 - 420) / 40 = 9.5 min + lag */
    e = find_event(&log, SBPROV_AIR_EVENT_VENTILATION_DONE, 0);
    assert_non_null(e);
    assert_true(e->co2_ppm < 750);
    {
        char want[96];
        snprintf(want, sizeof want, "co2 fell to %u ppm < 750 (800 - 50 hysteresis)", e->co2_ppm);
        assert_string_equal(e->reason_text, want);
    }
    sbprov_air_room_free(room);
}

static void test_first_reading_and_jumps(void **state)
{
    sbprov_air_room_options o = default_options();
    sbprov_air_room *room;
    static event_log log;
    (void)state;

    o.smoothing_s = 0;
    o.co2_rise_ppm_per_min = 0; /* these jumps would count as people */
    /* A first reading that is fine gives no event; one that is not gives one. */
    room = new_room(&o);
    memset(&log, 0, sizeof log);
    feed(room, 0, 999, -1);
    assert_int_equal(drain(room, &log), 0);
    assert_int_equal(state_of(room).co2_class, SBPROV_AIR_CO2_FINE);
    sbprov_air_room_free(room);

    room = new_room(&o);
    feed(room, 0, 2000, -1);
    assert_int_equal(drain(room, &log), 1);
    assert_int_equal(log.ev[0].previous_class, SBPROV_AIR_CO2_UNKNOWN);
    assert_int_equal(log.ev[0].co2_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    assert_string_equal(log.ev[0].reason_text, "co2 2000 ppm >= 2000");
    /* Straight from VENTILATE_NOW to FINE (e.g. after a gap): one DONE event. */
    feed(room, 60000, 949, -1);
    assert_int_equal(drain(room, &log), 1);
    assert_int_equal(log.ev[1].kind, SBPROV_AIR_EVENT_VENTILATION_DONE);
    assert_int_equal(log.ev[1].previous_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    assert_string_equal(log.ev[1].reason_text, "co2 fell to 949 ppm < 950 (1000 - 50 hysteresis)");
    /* And straight up again. */
    feed(room, 120000, 1000, -1);
    feed(room, 180000, 1999, -1);
    feed(room, 240000, 1950, -1); /* in the band: stays VENTILATE */
    feed(room, 300000, 2000, -1);
    feed(room, 360000, 1950, -1); /* in the band: stays VENTILATE_NOW */
    feed(room, 420000, 1949, -1);
    assert_int_equal(drain(room, &log), 3);
    assert_string_equal(log.ev[2].reason_text, "co2 1000 ppm >= 1000");
    assert_string_equal(log.ev[3].reason_text, "co2 2000 ppm >= 2000");
    assert_string_equal(log.ev[4].reason_text, "co2 fell to 1949 ppm < 1950 (2000 - 50 hysteresis)");
    assert_int_equal(log.ev[4].kind, SBPROV_AIR_EVENT_VENTILATION_NEEDED);
    assert_int_equal(log.ev[4].co2_class, SBPROV_AIR_CO2_VENTILATE);
    sbprov_air_room_free(room);
}

/* --- trend and prediction ------------------------------------------------------------ */

static void test_trend_exact_on_irregular_times(void **state)
{
    sbprov_air_room_options o = default_options();
    sbprov_air_room *room;
    sbprov_air_state st;
    const int64_t t0 = 1000000000000LL; /* a monotonic clock 31 years in: no precision lost */
    int64_t t = t0;
    int n = 0, trends = 0;
    (void)state;

    o.smoothing_s = 0;
    room = new_room(&o);
    rng_seed(4242);
    /* Exactly 25 ppm/min at irregular intervals (1..90 s): readings are whole
     * ppm, so 12.5 ppm/30 s steps land on integers only at even times; use
     * times in whole 2.4-s units (1 ppm each). */
    while (t - t0 < MIN_MS(20)) {
        feed(room, t, 500 + (t - t0) / 2400, -1);
        st = state_of(room);
        n++;
        if (n < 5 || t - t0 < 300000) {
            assert_false(st.has_trend); /* too few readings or too short a span */
            assert_true(st.minutes_to_threshold == -1);
        } else if (st.has_trend) { /* (gaps of up to 89 s can leave < 5 readings in 300 s) */
            trends++;
            assert_true(absd(st.trend_ppm_per_min - 25.0) < 1e-6);
            /* minutes = (1000 - value now) / 25 */
            assert_true(absd(st.minutes_to_threshold - (1000.0 - st.co2_smoothed_ppm) / 25.0) < 1e-6 ||
                        st.co2_class != SBPROV_AIR_CO2_FINE);
        }
        t += 2400 * rng_int(1, 37);
    }
    assert_true(trends >= 10);
    /* The same second twice is taken (two nodes of one room may report together). */
    feed(room, t, 600, -1);
    feed(room, t, 600, -1);
    sbprov_air_room_free(room);

    /* Falling and flat: no prediction; a trend needs readings in the window. */
    room = new_room(&o);
    for (int i = 0; i <= 10; i++)
        feed(room, i * 30000, 900 - i * 3, -1);
    st = state_of(room);
    assert_true(st.has_trend && st.trend_ppm_per_min < -5.9 && st.trend_ppm_per_min > -6.1);
    assert_true(st.minutes_to_threshold == -1);
    assert_int_equal(st.next_threshold_ppm, 1000);
    feed(room, 330000, 870, -1);
    feed(room, 360000, 870, -1);
    feed(room, 390000, 871, -1);
    st = state_of(room);
    assert_true(st.minutes_to_threshold == -1 || st.trend_ppm_per_min >= 1.0);
    /* Readings stop (PIR-only ticks): after the window there is no trend. */
    feed(room, 390000 + 600001, -1, 0);
    st = state_of(room);
    assert_false(st.has_trend);
    assert_true(st.trend_ppm_per_min == 0);
    assert_int_equal(st.ms_since_co2, 600001);
    assert_int_equal(st.co2_ppm, 871);
    sbprov_air_room_free(room);

    /* In VENTILATE_NOW there is no threshold above. */
    room = new_room(&o);
    for (int i = 0; i <= 10; i++)
        feed(room, i * 30000, 2100 + i * 30, -1);
    st = state_of(room);
    assert_int_equal(st.co2_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    assert_int_equal(st.next_threshold_ppm, 0);
    assert_true(st.minutes_to_threshold == -1);
    sbprov_air_room_free(room);
}

static void test_prediction_with_irregular_noisy_samples(void **state)
{
    room_sim sim = sim_room(50, 5);
    sbprov_air_room *room = new_room(NULL);
    static event_log log;
    static prediction_log pred;
    const sbprov_air_event *e;
    int64_t t = 0;
    size_t checked;
    double worst;
    (void)state;

    memset(&log, 0, sizeof log);
    memset(&pred, 0, sizeof pred);
    rng_seed(123456789);
    sim.people = 6;
    while (count_kind(&log, SBPROV_AIR_EVENT_VENTILATION_NEEDED) < 2) {
        sbprov_air_state st;
        int64_t dt = 1000 * rng_int(5, 60); /* 5 to 60 s apart */
        feed(room, t, sim_read(&sim, 20), 1);
        st = state_of(room);
        record_prediction(&pred, t, &st);
        if (st.has_trend && t >= MIN_MS(5))
            assert_true(st.trend_ppm_per_min > 32 && st.trend_ppm_per_min < 46);
        drain(room, &log);
        sim_advance(&sim, (double)dt / 1000);
        t += dt;
        assert_true(t < MIN_MS(120));
    }
    for (int i = 0; i < 2; i++) {
        e = find_event(&log, SBPROV_AIR_EVENT_VENTILATION_NEEDED, (size_t)i);
        assert_true(e->time_ms >= sim.crossed[i] - MIN_MS(1) && e->time_ms <= sim.crossed[i] + MIN_MS(1.5));
        worst = check_predictions(&pred, i == 0 ? 1000 : 2000, MIN_MS(10), sim.crossed[i], 3, 0.20, &checked);
        print_message("irregular %d ppm: %zu predictions checked, worst %.1f%% off; event %+.1f min from the air\n",
                      i == 0 ? 1000 : 2000, checked, worst * 100, (double)(e->time_ms - sim.crossed[i]) / 60000.0);
        assert_true(checked >= (i == 0 ? 4u : 20u));
    }
    sbprov_air_room_free(room);
}

/* --- time, ranges, queue --------------------------------------------------------------- */

static void assert_same_state(const sbprov_air_room *room, const sbprov_air_state *before)
{
    sbprov_air_state now = state_of(room);
    assert_memory_equal(&now, before, sizeof now);
}

static void test_time_backwards_and_absurd_values_refused(void **state)
{
    sbprov_air_room *room = new_room(NULL);
    sbprov_air_sample s;
    sbprov_air_state before;
    (void)state;

    feed(room, 5000, 700, 1);
    feed(room, 10000, 720, 0);
    before = state_of(room);

    s = sample_at(9999);
    s.has_co2 = 1;
    s.co2_ppm = 730;
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL,
                      "air sample: time 9999 ms is before the previous sample's 10000 ms (the clock went backwards");
    assert_same_state(room, &before);
    s.time_ms = -1;
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL, "time_ms -1 is negative");
    assert_same_state(room, &before);

    s = sample_at(20000);
    s.has_co2 = 1;
    s.co2_ppm = SBPROV_AIR_CO2_MAX + 1;
    s.has_motion = 1;
    s.motion = 5; /* a bad sample changes nothing, motion included */
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL, "co2_ppm 40001 is out of range (0..40000)");
    assert_same_state(room, &before);
    s = sample_at(20000);
    s.has_temperature = 1;
    s.temperature_centi_c = -4001;
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL,
                      "temperature_centi_c -4001 is out of range (-4000..12500)");
    s.temperature_centi_c = 12501;
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL, "temperature_centi_c 12501");
    assert_same_state(room, &before);
    s = sample_at(20000);
    s.has_humidity = 1;
    s.humidity_centi_pct = 10001;
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL,
                      "humidity_centi_pct 10001 is out of range (0..10000)");
    assert_same_state(room, &before);

    /* Values not flagged present are not looked at. */
    s = sample_at(20000);
    s.co2_ppm = 99999;
    s.temperature_centi_c = -99999;
    s.humidity_centi_pct = 99999;
    assert_ok(sbprov_air_room_update(room, &s));
    assert_int_equal(state_of(room).co2_ppm, 720);
    /* The edges are accepted; equal time too. */
    s = sample_at(20000);
    s.has_co2 = 1;
    s.co2_ppm = SBPROV_AIR_CO2_MAX;
    s.has_temperature = 1;
    s.temperature_centi_c = -4000;
    s.has_humidity = 1;
    s.humidity_centi_pct = 10000;
    assert_ok(sbprov_air_room_update(room, &s));
    s.co2_ppm = 0;
    s.temperature_centi_c = 12500;
    s.humidity_centi_pct = 0;
    assert_ok(sbprov_air_room_update(room, &s));

    /* After a reset earlier times are fine again; everything is forgotten. */
    sbprov_air_room_reset(room);
    {
        sbprov_air_state st = state_of(room);
        assert_int_equal(st.time_ms, -1);
        assert_int_equal(st.samples, 0);
        assert_int_equal(st.co2_class, SBPROV_AIR_CO2_UNKNOWN);
        assert_int_equal(st.events_pending, 0);
        assert_int_equal(st.ms_since_motion, -1);
        assert_false(st.has_temperature);
    }
    feed(room, 0, 500, -1);
    assert_int_equal(state_of(room).samples, 1);
    sbprov_air_room_reset(NULL);
    sbprov_air_room_free(room);
}

static void test_event_queue_overflow_is_counted(void **state)
{
    sbprov_air_room_options o = default_options();
    sbprov_air_room *room;
    sbprov_air_state st;
    sbprov_air_event e;
    int64_t t = 0;
    (void)state;

    o.pir_hold_s = 1;
    room = new_room(&o);
    /* 40 changes (occupied, free, ...) without anyone reading them. */
    for (int i = 0; i < 20; i++) {
        feed(room, t, -1, 1);
        t += 1000;
        feed(room, t, -1, 0);
        t += 1000;
    }
    st = state_of(room);
    assert_int_equal(st.events_pending, SBPROV_AIR_EVENT_QUEUE_SIZE);
    assert_int_equal(st.events_dropped, 40 - SBPROV_AIR_EVENT_QUEUE_SIZE);
    /* The newest 16 are kept, oldest first. */
    for (int i = 0; i < SBPROV_AIR_EVENT_QUEUE_SIZE; i++) {
        memset(&e, 0, sizeof e);
        e.struct_size = sizeof e;
        assert_ok(sbprov_air_room_next_event(&e, room));
        assert_int_equal(e.kind, i % 2 == 0 ? SBPROV_AIR_EVENT_OCCUPIED : SBPROV_AIR_EVENT_FREE);
        assert_int_equal(e.time_ms, (40 - SBPROV_AIR_EVENT_QUEUE_SIZE + i) * 1000);
    }
    assert_ok(sbprov_air_room_next_event(&e, room));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_NONE);
    assert_int_equal(e.reason, SBPROV_AIR_REASON_NONE);
    assert_int_equal(e.ms_since_motion, -1);
    st = state_of(room);
    assert_int_equal(st.events_pending, 0);
    assert_int_equal(st.events_dropped, 24); /* stays until reset */
    sbprov_air_room_reset(room);
    assert_int_equal(state_of(room).events_dropped, 0);
    sbprov_air_room_free(room);
}

/* --- JSON ------------------------------------------------------------------------------ */

static void test_state_json(void **state)
{
    sbprov_air_room_options o = default_options();
    sbprov_air_room *room;
    sbprov_air_sample s;
    char buf[1024], small[16];
    size_t len = 0;
    (void)state;

    o.smoothing_s = 0;
    room = new_room(&o);
    assert_ok(sbprov_air_room_state_json(buf, sizeof buf, &len, room));
    assert_string_equal(buf, "{\"co2_class\":\"unknown\",\"occupied\":false,\"events_dropped\":0}");
    assert_int_equal(len, strlen(buf));

    /* 38 ppm/min over 5 minutes, motion, temperature and humidity. */
    for (int i = 0; i <= 10; i++) {
        s = sample_at(i * 30000);
        s.has_co2 = 1;
        s.co2_ppm = (uint32_t)(600 + i * 19);
        s.has_motion = 1;
        s.motion = i == 9;
        s.has_temperature = 1;
        s.temperature_centi_c = 2153;
        s.has_humidity = 1;
        s.humidity_centi_pct = 4520;
        assert_ok(sbprov_air_room_update(room, &s));
    }
    assert_ok(sbprov_air_room_state_json(buf, sizeof buf, &len, room));
    /* (1000 - 790) / 38 = 5.526 min */
    assert_string_equal(buf, "{\"time_ms\":300000,\"co2_class\":\"fine\",\"co2_ppm\":790,\"co2_smoothed_ppm\":790,"
                             "\"co2_trend_ppm_per_min\":38,\"next_threshold_ppm\":1000,"
                             "\"minutes_to_threshold\":5.5,\"occupied\":true,\"occupied_reason\":\"motion\","
                             "\"seconds_since_motion\":30,\"temperature_c\":21.53,\"humidity_pct\":45.2,"
                             "\"events_dropped\":0}");
    {
        cJSON *root = cJSON_Parse(buf);
        assert_non_null(root);
        for (cJSON *item = root->child; item != NULL; item = item->next) {
            /* DTDL: letters, digits, underscore; starts with a letter, ends alphanumeric. */
            size_t n = strlen(item->string);
            assert_true(n >= 1 && n <= 64);
            assert_true((item->string[0] >= 'a' && item->string[0] <= 'z'));
            assert_true(item->string[n - 1] != '_');
            for (size_t i = 0; i < n; i++)
                assert_true((item->string[i] >= 'a' && item->string[i] <= 'z') ||
                            (item->string[i] >= '0' && item->string[i] <= '9') || item->string[i] == '_');
        }
        cJSON_Delete(root);
    }

    /* Negative fixed-point, trailing zeros, falling trend. */
    for (int i = 1; i <= 4; i++) {
        s = sample_at(300000 + i * 30000);
        s.has_co2 = 1;
        s.co2_ppm = 500;
        s.has_temperature = 1;
        s.temperature_centi_c = -5;
        s.has_humidity = 1;
        s.humidity_centi_pct = 10000;
        assert_ok(sbprov_air_room_update(room, &s));
    }
    assert_ok(sbprov_air_room_state_json(buf, sizeof buf, &len, room));
    assert_non_null(strstr(buf, "\"temperature_c\":-0.05,\"humidity_pct\":100,"));
    assert_non_null(strstr(buf, "\"co2_trend_ppm_per_min\":-"));
    assert_null(strstr(buf, "minutes_to_threshold"));
    s = sample_at(420001);
    s.has_temperature = 1;
    s.temperature_centi_c = -1230;
    assert_ok(sbprov_air_room_update(room, &s));
    assert_ok(sbprov_air_room_state_json(buf, sizeof buf, &len, room));
    assert_non_null(strstr(buf, "\"temperature_c\":-12.3,"));

    /* Too small: EBUFS with the size needed; one retry succeeds. */
    {
        size_t need = 0, full = strlen(buf);
        assert_fails_with(sbprov_air_room_state_json(small, sizeof small, &need, room), SBPROV_EBUFS, "too small");
        assert_int_equal(need, full + 1);
        assert_fails_with(sbprov_air_room_state_json(NULL, 0, &need, room), SBPROV_EBUFS, "too small");
        assert_int_equal(need, full + 1);
        assert_fails_with(sbprov_air_room_state_json(buf, full, NULL, room), SBPROV_EBUFS, "too small");
        assert_ok(sbprov_air_room_state_json(buf, full + 1, NULL, room));
        assert_int_equal(strlen(buf), full);
    }
    assert_fails_with(sbprov_air_room_state_json(buf, sizeof buf, &len, NULL), SBPROV_EINVAL, "NULL room");
    assert_fails_with(sbprov_air_room_state_json(NULL, 10, &len, room), SBPROV_EINVAL, "NULL buffer");
    sbprov_air_room_free(room);
}

/* --- building ------------------------------------------------------------------------ */

static void test_building(void **state)
{
    sbprov_air_building *b = NULL;
    sbprov_air_room_options strict = default_options();
    sbprov_air_room *r1 = NULL, *r2 = NULL, *found = NULL;
    sbprov_air_sample s;
    sbprov_air_event e;
    char buf[512];
    (void)state;

    assert_ok(sbprov_air_building_new(&b));
    strict.ventilate_ppm = 800;
    strict.smoothing_s = 0;
    assert_ok(sbprov_air_building_add_room(&r1, b, "4.12 \"big\"", NULL));
    assert_ok(sbprov_air_building_add_room(&r2, b, "kita", &strict));
    assert_ok(sbprov_air_building_add_room(NULL, b, "hall", NULL));
    assert_int_equal(sbprov_air_building_room_count(b), 3);
    assert_string_equal(sbprov_air_room_name(r1), "4.12 \"big\"");
    assert_string_equal(sbprov_air_room_name(r2), "kita");
    assert_ok(sbprov_air_building_room_at(&found, b, 2));
    assert_string_equal(sbprov_air_room_name(found), "hall");
    assert_ok(sbprov_air_building_room(&found, b, "kita"));
    assert_ptr_equal(found, r2);

    assert_ok(sbprov_air_building_add_node(b, 0x0011223344556677ULL, "4.12 \"big\""));
    assert_ok(sbprov_air_building_add_node(b, 0x0011223344556600ULL, "4.12 \"big\"")); /* its PIR */
    assert_ok(sbprov_air_building_add_node(b, 0xffffffffffffffffULL, "kita"));
    assert_ok(sbprov_air_building_add_node(b, 0, "kita"));
    assert_ok(sbprov_air_building_room_for_node(&found, b, 0x0011223344556600ULL));
    assert_ptr_equal(found, r1);
    assert_ok(sbprov_air_building_room_for_node(&found, b, 0));
    assert_ptr_equal(found, r2);

    /* The same air in both rooms (5 ppm/min: too slow to count as people):
     * only the strict one asks for ventilation. The PIR node of 4.12 reports
     * motion later than kita's CO2 crossing. */
    for (int i = 0; i <= 24; i++) {
        s = sample_at(i * 60000);
        s.has_co2 = 1;
        s.co2_ppm = (uint32_t)(700 + 5 * i);
        assert_ok(sbprov_air_building_update(b, 0x0011223344556677ULL, &s));
        assert_ok(sbprov_air_building_update(b, 0xffffffffffffffffULL, &s));
    }
    s = sample_at(1440000);
    s.has_motion = 1;
    s.motion = 1;
    assert_ok(sbprov_air_building_update(b, 0x0011223344556600ULL, &s));
    memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    assert_ok(sbprov_air_building_next_event(&e, b));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_VENTILATION_NEEDED);
    assert_string_equal(e.room, "kita");
    assert_int_equal(e.time_ms, 1200000);
    assert_string_equal(e.reason_text, "co2 800 ppm >= 800");
    assert_ok(sbprov_air_building_next_event(&e, b));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_OCCUPIED);
    assert_string_equal(e.room, "4.12 \"big\"");
    assert_ok(sbprov_air_building_next_event(&e, b));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_NONE);

    /* JSON names the room (escaped). */
    assert_ok(sbprov_air_room_state_json(buf, sizeof buf, NULL, r1));
    assert_true(strncmp(buf, "{\"room\":\"4.12 \\\"big\\\"\",", 23) == 0);
    {
        cJSON *root = cJSON_Parse(buf);
        assert_non_null(root);
        assert_string_equal(cJSON_GetObjectItem(root, "room")->valuestring, "4.12 \"big\"");
        cJSON_Delete(root);
    }

    /* Ties in time: the room added first comes first. */
    s = sample_at(1500000);
    s.has_co2 = 1;
    s.co2_ppm = 2500;
    assert_ok(sbprov_air_building_update(b, 0, &s));
    assert_ok(sbprov_air_building_update(b, 0x0011223344556677ULL, &s));
    assert_ok(sbprov_air_room_update(r1, &s)); /* rooms of a building can be fed directly too */
    assert_ok(sbprov_air_building_next_event(&e, b));
    assert_string_equal(e.room, "4.12 \"big\"");
    do /* every event of 4.12 at this time comes before kita's */
        assert_ok(sbprov_air_building_next_event(&e, b));
    while (strcmp(e.room, "4.12 \"big\"") == 0);
    assert_string_equal(e.room, "kita");
    assert_int_equal(e.time_ms, 1500000);
    assert_int_equal(e.co2_class, SBPROV_AIR_CO2_VENTILATE_NOW);
    assert_ok(sbprov_air_building_next_event(&e, b));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_NONE);

    /* Errors. */
    assert_fails_with(sbprov_air_building_add_room(&found, b, "kita", NULL), SBPROV_EEXISTS,
                      "a room named \"kita\" exists");
    assert_null(found);
    assert_fails_with(sbprov_air_building_add_room(NULL, b, "", NULL), SBPROV_EINVAL, "empty room name");
    assert_fails_with(sbprov_air_building_add_room(NULL, b, "a\tb", NULL), SBPROV_EINVAL,
                      "byte 0x09 at position 1 (printable ASCII only)");
    assert_fails_with(sbprov_air_building_add_room(NULL, b, "caf\xc3\xa9", NULL), SBPROV_EINVAL, "byte 0xc3");
    {
        char long_name[65];
        memset(long_name, 'x', 64);
        long_name[64] = '\0';
        assert_fails_with(sbprov_air_building_add_room(NULL, b, long_name, NULL), SBPROV_EINVAL,
                          "room name of 64 bytes is too long (at most 63)");
        long_name[63] = '\0';
        assert_ok(sbprov_air_building_add_room(NULL, b, long_name, NULL));
    }
    strict.hysteresis_ppm = 900;
    assert_fails_with(sbprov_air_building_add_room(NULL, b, "bad", &strict), SBPROV_EINVAL, "hysteresis_ppm 900");
    assert_fails_with(sbprov_air_building_room(&found, b, "bad"), SBPROV_ENOTFOUND, "no room named \"bad\"");
    assert_null(found);
    assert_fails_with(sbprov_air_building_add_room(NULL, NULL, "x", NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_add_room(NULL, b, NULL, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_add_node(b, 1, "nowhere"), SBPROV_ENOTFOUND, "no room named \"nowhere\"");
    assert_fails_with(sbprov_air_building_add_node(b, 0, "hall"), SBPROV_EEXISTS,
                      "node 0000000000000000 is already in room \"kita\"");
    assert_fails_with(sbprov_air_building_add_node(NULL, 1, "hall"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_add_node(b, 1, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_update(b, 42, &s), SBPROV_ENOTFOUND, "node 000000000000002a is in no room");
    assert_fails_with(sbprov_air_building_update(NULL, 0, &s), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_update(b, 0, NULL), SBPROV_EINVAL, "NULL");
    s.time_ms = 1;
    assert_fails_with(sbprov_air_building_update(b, 0, &s), SBPROV_EINVAL, "before the previous sample's");
    assert_fails_with(sbprov_air_building_room(NULL, b, "kita"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_room(&found, NULL, "kita"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_room(&found, b, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_room_for_node(&found, b, 42), SBPROV_ENOTFOUND, "in no room");
    assert_null(found);
    assert_fails_with(sbprov_air_building_room_for_node(NULL, b, 0), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_room_for_node(&found, NULL, 0), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_room_at(&found, b, 4), SBPROV_ENOTFOUND, "no room at index 4 (4 rooms)");
    assert_fails_with(sbprov_air_building_room_at(NULL, b, 0), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_room_at(&found, NULL, 0), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_air_building_next_event(&e, NULL), SBPROV_EINVAL, "NULL building");
    assert_fails_with(sbprov_air_building_next_event(NULL, b), SBPROV_EINVAL, "air event: NULL");
    assert_fails_with(sbprov_air_building_new(NULL), SBPROV_EINVAL, "NULL");
    assert_int_equal(sbprov_air_building_room_count(NULL), 0);

    /* Freeing a building's room yourself is a no-op (the building frees it). */
    sbprov_air_room_free(r1);
    assert_string_equal(sbprov_air_room_name(r1), "4.12 \"big\"");
    sbprov_air_building_free(b);
    sbprov_air_building_free(NULL);

    /* An empty building has no events. */
    assert_ok(sbprov_air_building_new(&b));
    memset(&e, 0xff, sizeof e);
    e.struct_size = sizeof e;
    assert_ok(sbprov_air_building_next_event(&e, b));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_NONE);
    assert_string_equal(e.room, "");
    sbprov_air_building_free(b);
}

static void test_building_limits(void **state)
{
    sbprov_air_building *b = NULL;
    char name[32];
    (void)state;

    assert_ok(sbprov_air_building_new(&b));
    for (int i = 0; i < 4096; i++) {
        snprintf(name, sizeof name, "r%d", i);
        assert_ok(sbprov_air_building_add_room(NULL, b, name, NULL));
    }
    assert_fails_with(sbprov_air_building_add_room(NULL, b, "one more", NULL), SBPROV_EINVAL,
                      "already 4096 rooms");
    for (uint64_t id = 1; id <= 65536; id++)
        if (sbprov_air_building_add_node(b, id * 7919, id % 2 ? "r1" : "r0") != SBPROV_OK)
            fail_msg("add_node %llu: %s", (unsigned long long)id, sbprov_last_error());
    assert_fails_with(sbprov_air_building_add_node(b, 1, "r0"), SBPROV_EINVAL, "already 65536 nodes");
    {
        sbprov_air_room *r = NULL;
        assert_ok(sbprov_air_building_room_for_node(&r, b, 7919 * 3));
        assert_string_equal(sbprov_air_room_name(r), "r1");
        assert_ok(sbprov_air_building_room_for_node(&r, b, 7919 * 65536));
        assert_string_equal(sbprov_air_room_name(r), "r0");
        assert_fails_with(sbprov_air_building_room_for_node(&r, b, 7919 * 3 + 1), SBPROV_ENOTFOUND, "in no room");
    }
    sbprov_air_building_free(b);
}

/* --- the remaining error paths ----------------------------------------------------------- */

static void test_errors_and_names(void **state)
{
    sbprov_air_room *room = new_room(NULL);
    sbprov_air_sample s = sample_at(0);
    sbprov_air_state st;
    sbprov_air_event e;
    bigger_state big;
    (void)state;

    assert_fails_with(sbprov_air_room_new(NULL, NULL), SBPROV_EINVAL, "NULL output");
    assert_fails_with(sbprov_air_room_update(NULL, &s), SBPROV_EINVAL, "NULL room");
    assert_fails_with(sbprov_air_room_update(room, NULL), SBPROV_EINVAL, "air sample: NULL");
    memset(&s, 0, sizeof s);
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL, "air sample: struct_size 0 is smaller");
    s.struct_size = 5000;
    assert_fails_with(sbprov_air_room_update(room, &s), SBPROV_EINVAL, "implausibly large");

    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    assert_fails_with(sbprov_air_room_state(NULL, room), SBPROV_EINVAL, "air state: NULL");
    assert_fails_with(sbprov_air_room_state(&st, NULL), SBPROV_EINVAL, "NULL room");
    st.struct_size = sizeof st - 1;
    assert_fails_with(sbprov_air_room_state(&st, room), SBPROV_EINVAL, "smaller than the first version");
    st.struct_size = 4097;
    assert_fails_with(sbprov_air_room_state(&st, room), SBPROV_EINVAL, "implausibly large");
    /* A newer caller's larger struct: the part this library does not know is zeroed. */
    memset(&big, 0xee, sizeof big);
    big.base.struct_size = sizeof big;
    assert_ok(sbprov_air_room_state(&big.base, room));
    assert_int_equal(big.base.struct_size, sizeof big);
    assert_int_equal(big.future_field, 0);
    assert_int_equal(big.base.time_ms, -1);
    assert_int_equal(big.base.co2_class, SBPROV_AIR_CO2_UNKNOWN);

    memset(&e, 0, sizeof e);
    assert_fails_with(sbprov_air_room_next_event(NULL, room), SBPROV_EINVAL, "air event: NULL");
    e.struct_size = sizeof e;
    assert_fails_with(sbprov_air_room_next_event(&e, NULL), SBPROV_EINVAL, "NULL room");
    e.struct_size = 8;
    assert_fails_with(sbprov_air_room_next_event(&e, room), SBPROV_EINVAL, "smaller than the first version");
    /* A pending event stays queued when the output is refused. */
    feed(room, 0, -1, 1);
    assert_fails_with(sbprov_air_room_next_event(&e, room), SBPROV_EINVAL, "smaller than the first version");
    assert_int_equal(state_of(room).events_pending, 1);
    e.struct_size = sizeof e;
    assert_ok(sbprov_air_room_next_event(&e, room));
    assert_int_equal(e.kind, SBPROV_AIR_EVENT_OCCUPIED);

    assert_string_equal(sbprov_air_room_name(NULL), "");
    assert_string_equal(sbprov_air_room_name(room), "");
    sbprov_air_room_free(room);
    sbprov_air_room_free(NULL);

    assert_string_equal(sbprov_air_co2_class_name(SBPROV_AIR_CO2_UNKNOWN), "unknown");
    assert_string_equal(sbprov_air_co2_class_name(SBPROV_AIR_CO2_FINE), "fine");
    assert_string_equal(sbprov_air_co2_class_name(SBPROV_AIR_CO2_VENTILATE), "ventilate");
    assert_string_equal(sbprov_air_co2_class_name(SBPROV_AIR_CO2_VENTILATE_NOW), "ventilate_now");
    assert_string_equal(sbprov_air_co2_class_name((sbprov_air_co2_class)9), "invalid");
    assert_string_equal(sbprov_air_event_kind_name(SBPROV_AIR_EVENT_NONE), "none");
    assert_string_equal(sbprov_air_event_kind_name(SBPROV_AIR_EVENT_OCCUPIED), "occupied");
    assert_string_equal(sbprov_air_event_kind_name(SBPROV_AIR_EVENT_FREE), "free");
    assert_string_equal(sbprov_air_event_kind_name(SBPROV_AIR_EVENT_VENTILATION_NEEDED), "ventilation_needed");
    assert_string_equal(sbprov_air_event_kind_name(SBPROV_AIR_EVENT_VENTILATION_DONE), "ventilation_done");
    assert_string_equal(sbprov_air_event_kind_name((sbprov_air_event_kind)-1), "invalid");
    assert_string_equal(sbprov_air_reason_name(SBPROV_AIR_REASON_NONE), "none");
    assert_string_equal(sbprov_air_reason_name(SBPROV_AIR_REASON_MOTION), "motion");
    assert_string_equal(sbprov_air_reason_name(SBPROV_AIR_REASON_CO2_RISING), "co2_rising");
    assert_string_equal(sbprov_air_reason_name(SBPROV_AIR_REASON_NO_PRESENCE), "no_presence");
    assert_string_equal(sbprov_air_reason_name(SBPROV_AIR_REASON_CO2_ABOVE), "co2_above");
    assert_string_equal(sbprov_air_reason_name(SBPROV_AIR_REASON_CO2_BELOW), "co2_below");
    assert_string_equal(sbprov_air_reason_name((sbprov_air_reason)6), "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults_and_struct_size),
        cmocka_unit_test(test_options_out_of_range),
        cmocka_unit_test(test_meeting_room_scenario),
        cmocka_unit_test(test_noise_around_thresholds_does_not_flap),
        cmocka_unit_test(test_still_person_keeps_room_occupied),
        cmocka_unit_test(test_occupied_by_rising_co2_without_pir),
        cmocka_unit_test(test_motion_hold_and_reason_texts),
        cmocka_unit_test(test_stricter_threshold_800),
        cmocka_unit_test(test_first_reading_and_jumps),
        cmocka_unit_test(test_trend_exact_on_irregular_times),
        cmocka_unit_test(test_prediction_with_irregular_noisy_samples),
        cmocka_unit_test(test_time_backwards_and_absurd_values_refused),
        cmocka_unit_test(test_event_queue_overflow_is_counted),
        cmocka_unit_test(test_state_json),
        cmocka_unit_test(test_building),
        cmocka_unit_test(test_building_limits),
        cmocka_unit_test(test_errors_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
