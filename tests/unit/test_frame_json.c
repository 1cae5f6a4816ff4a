/* Rendering sensor records (docs/frame-format.md, "JSON and SenML"): every
 * vector record's flat JSON and SenML, byte for byte as the independent
 * Python reference renders them, through the decoder and through
 * sbprov_frame_parse(); buffer sizes; argument checks; the worst case fits
 * SBPROV_FRAME_JSON_MAX; and feeding records to rooms (sbprov/air.h). */
#include "frame_vectors.h"

#include <sbprov/air.h>
#include <sbprov/frame.h>

typedef struct rendered {
    char json[SBPROV_FRAME_JSON_MAX], senml[SBPROV_FRAME_JSON_MAX], senml_at[SBPROV_FRAME_JSON_MAX];
    int64_t unix_time_ms;
    int calls;
} rendered;

static void render_all(rendered *r, const sbprov_frame *f)
{
    size_t n = 0;
    assert_ok(sbprov_frame_to_json(r->json, sizeof r->json, &n, f));
    assert_int_equal(n, strlen(r->json));
    assert_ok(sbprov_frame_to_senml(r->senml, sizeof r->senml, &n, f, 0));
    assert_int_equal(n, strlen(r->senml));
    assert_ok(sbprov_frame_to_senml(r->senml_at, sizeof r->senml_at, NULL, f, r->unix_time_ms));
}

static int render_cb(const sbprov_frame *f, void *payload)
{
    rendered *r = payload;
    render_all(r, f);
    r->calls++;
    return 0;
}

static void expect_rendered(const rendered *r, const cJSON *v)
{
    const char *name = get_str(v, "name");
    if (strcmp(r->json, get_str(v, "json")) != 0)
        fail_msg("%s: json\n got  %s\n want %s", name, r->json, get_str(v, "json"));
    if (strcmp(r->senml, get_str(v, "senml")) != 0)
        fail_msg("%s: senml\n got  %s\n want %s", name, r->senml, get_str(v, "senml"));
    if (strcmp(r->senml_at, get_str(v, "senml_at")) != 0)
        fail_msg("%s: senml_at\n got  %s\n want %s", name, r->senml_at, get_str(v, "senml_at"));
}

/* Every record of the vectors, decoded as a datagram by a fresh decoder and
 * parsed alone: both render exactly as the reference does; and each
 * rendering parses as JSON. */
static void test_vector_renderings(void **state)
{
    (void)state;
    cJSON *root = vectors();
    const int64_t at = get_int(root, "senml_unix_time_ms");
    const cJSON *v;
    int count = 0;

    cJSON_ArrayForEach(v, get(root, "records")) {
        size_t len;
        uint8_t *rec = unhex(get_str(v, "record"), &len);
        sbprov_frame_decoder *dec = NULL;
        sbprov_frame_outcome outcome = SBPROV_FRAME_DROP_CRC;
        rendered by_decoder = {.unix_time_ms = at}, by_parse = {.unix_time_ms = at};
        sbprov_frame f;
        sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];

        assert_ok(sbprov_frame_decoder_new(&dec, NULL));
        assert_ok(sbprov_frame_decode_record(&outcome, dec, rec, len, render_cb, &by_decoder));
        assert_int_equal(outcome, SBPROV_FRAME_ACCEPTED);
        assert_int_equal(by_decoder.calls, 1);
        expect_rendered(&by_decoder, v);
        sbprov_frame_decoder_free(dec);

        assert_ok(sbprov_frame_parse(&f, readings, &outcome, rec, len));
        assert_int_equal(outcome, SBPROV_FRAME_ACCEPTED);
        assert_int_equal(f.seq_status, SBPROV_FRAME_SEQ_FIRST);
        assert_ptr_equal(f.record, rec);
        render_all(&by_parse, &f);
        expect_rendered(&by_parse, v);

        const char *texts[] = {by_parse.json, by_parse.senml, by_parse.senml_at};
        for (size_t i = 0; i < 3; i++) {
            cJSON *parsed = cJSON_Parse(texts[i]);
            if (parsed == NULL)
                fail_msg("%s: not JSON: %s", get_str(v, "name"), texts[i]);
            cJSON_Delete(parsed);
        }
        free(rec);
        count++;
    }
    assert_true(count >= 60);
    cJSON_Delete(root);
}

/* sbprov_frame_parse() drops exactly what the decoder drops, with the
 * outcome named as the counter the vector names. */
static void test_parse_malformed(void **state)
{
    (void)state;
    cJSON *root = vectors();
    const cJSON *v;
    int count = 0;

    cJSON_ArrayForEach(v, get(root, "malformed")) {
        if (cJSON_GetObjectItemCaseSensitive(v, "record") == NULL)
            continue; /* stream-only input */
        size_t len;
        uint8_t *rec = unhex(get_str(v, "record"), &len);
        sbprov_frame f;
        sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
        sbprov_frame_outcome outcome = SBPROV_FRAME_ACCEPTED;

        assert_int_equal(sbprov_frame_parse(&f, readings, &outcome, rec, len), SBPROV_EPARSE);
        assert_string_equal(sbprov_frame_outcome_name(outcome), get_str(v, "counter"));
        assert_non_null(strstr(sbprov_last_error(), get_str(v, "counter")));
        free(rec);
        count++;
    }
    assert_true(count >= 20);
    cJSON_Delete(root);
}

/* A record with every kind at its longest rendering, a timestamp and the
 * largest header numbers. */
static size_t worst_record(uint8_t *rec, int hello)
{
    static const uint8_t node[SBPROV_FRAME_NODE_SIZE] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const int32_t values[SBPROV_FRAME_KIND_LAST + 1] = {0, 39999, -3999, 9999, 255, 59999, 109999, 199999, 9999};
    sbprov_frame_builder b;
    size_t len = 0;
    assert_int_equal(sbprov_frame_builder_init(&b, rec, SBPROV_FRAME_MAX,
                                               hello ? SBPROV_FRAME_TYPE_HELLO : SBPROV_FRAME_TYPE_READINGS, node,
                                               65535, 65535),
                     SBPROV_FRAME_ENC_OK);
    assert_int_equal(sbprov_frame_add_timestamp(&b, UINT32_MAX), SBPROV_FRAME_ENC_OK);
    for (uint8_t k = 1; k <= SBPROV_FRAME_KIND_LAST; k++)
        assert_int_equal(sbprov_frame_add_reading(&b, k, values[k]), SBPROV_FRAME_ENC_OK);
    assert_int_equal(sbprov_frame_finish(&b, &len), SBPROV_FRAME_ENC_OK);
    return len;
}

/* The worst case fits SBPROV_FRAME_JSON_MAX; every smaller buffer gives
 * EBUFS with the size needed, and a NULL buffer of size 0 asks for it. */
static void test_sizes(void **state)
{
    (void)state;
    uint8_t rec[SBPROV_FRAME_MAX];
    sbprov_frame f;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    char buf[SBPROV_FRAME_JSON_MAX];
    size_t need_json = 0, need_senml = 0, n;
    size_t len = worst_record(rec, 1);

    assert_ok(sbprov_frame_parse(&f, readings, NULL, rec, len));
    assert_int_equal(sbprov_frame_to_json(NULL, 0, &need_json, &f), SBPROV_EBUFS);
    assert_int_equal(sbprov_frame_to_senml(NULL, 0, &need_senml, &f, SBPROV_FRAME_SENML_MAX_TIME_MS - 1),
                     SBPROV_EBUFS);
    assert_true(need_json <= SBPROV_FRAME_JSON_MAX && need_json > 200);
    assert_true(need_senml <= SBPROV_FRAME_JSON_MAX && need_senml > 300);
    for (size_t size = 1; size < need_json; size++) {
        n = 0;
        assert_int_equal(sbprov_frame_to_json(buf, size, &n, &f), SBPROV_EBUFS);
        assert_int_equal(n, need_json);
    }
    assert_ok(sbprov_frame_to_json(buf, need_json, &n, &f));
    assert_int_equal(n + 1, need_json);
    assert_string_equal(buf, "{\"node\":\"ffffffffffffffff\",\"epoch\":65535,\"seq\":65535,\"time_ms\":4294967295,"
                             "\"type\":\"hello\",\"co2_ppm\":39999,\"temperature_c\":-39.99,\"humidity_pct\":99.99,"
                             "\"motion\":255,\"voc_ppb\":59999,\"pressure_pa\":109999,\"illuminance_lux\":199999,"
                             "\"battery_mv\":9999}");
    for (size_t size = 1; size < need_senml; size++)
        assert_int_equal(sbprov_frame_to_senml(buf, size, NULL, &f, SBPROV_FRAME_SENML_MAX_TIME_MS - 1),
                         SBPROV_EBUFS);
    assert_ok(sbprov_frame_to_senml(buf, need_senml, &n, &f, SBPROV_FRAME_SENML_MAX_TIME_MS - 1));
    assert_int_equal(n + 1, need_senml);
    assert_non_null(strstr(buf, "\"bt\":253402300799.998,"));
    assert_non_null(strstr(buf, "{\"n\":\"battery\",\"u\":\"V\",\"v\":9.999}]"));
}

static void test_arguments(void **state)
{
    (void)state;
    uint8_t rec[SBPROV_FRAME_MAX];
    sbprov_frame f, bad;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST], bad_readings[SBPROV_FRAME_KIND_LAST];
    char buf[SBPROV_FRAME_JSON_MAX];
    size_t len = worst_record(rec, 0);

    assert_int_equal(sbprov_frame_parse(NULL, readings, NULL, rec, len), SBPROV_EINVAL);
    assert_int_equal(sbprov_frame_parse(&f, NULL, NULL, rec, len), SBPROV_EINVAL);
    assert_int_equal(sbprov_frame_parse(&f, readings, NULL, NULL, len), SBPROV_EINVAL);
    assert_int_equal(sbprov_frame_parse(&f, readings, NULL, NULL, 0), SBPROV_EPARSE); /* empty: truncated */
    assert_ok(sbprov_frame_parse(&f, readings, NULL, rec, len));

    assert_int_equal(sbprov_frame_to_json(buf, sizeof buf, NULL, NULL), SBPROV_EINVAL);
    assert_int_equal(sbprov_frame_to_json(NULL, 10, NULL, &f), SBPROV_EINVAL);
    assert_int_equal(sbprov_frame_to_senml(NULL, 10, NULL, &f, 0), SBPROV_EINVAL);
    /* Times SenML would read as relative, negative, or beyond year 9999. */
    assert_int_equal(sbprov_frame_to_senml(buf, sizeof buf, NULL, &f, SBPROV_FRAME_SENML_MIN_TIME_MS - 1), SBPROV_EINVAL);
    assert_non_null(strstr(sbprov_last_error(), "relative"));
    assert_int_equal(sbprov_frame_to_senml(buf, sizeof buf, NULL, &f, -1), SBPROV_EINVAL);
    assert_int_equal(sbprov_frame_to_senml(buf, sizeof buf, NULL, &f, SBPROV_FRAME_SENML_MAX_TIME_MS + 1), SBPROV_EINVAL);
    assert_ok(sbprov_frame_to_senml(buf, sizeof buf, NULL, &f, SBPROV_FRAME_SENML_MIN_TIME_MS));
    assert_non_null(strstr(buf, "\"bt\":268435456,"));

    /* Frames the library could not have made. */
    bad = f;
    bad.struct_size = 8;
    assert_int_equal(sbprov_frame_to_json(buf, sizeof buf, NULL, &bad), SBPROV_EINVAL);
    bad = f;
    bad.reading_count = SBPROV_FRAME_KIND_LAST + 1;
    assert_int_equal(sbprov_frame_to_json(buf, sizeof buf, NULL, &bad), SBPROV_EINVAL);
    bad = f;
    bad.readings = NULL;
    assert_int_equal(sbprov_frame_to_senml(buf, sizeof buf, NULL, &bad, 0), SBPROV_EINVAL);
    memcpy(bad_readings, readings, sizeof readings);
    bad_readings[2].kind = 0x09;
    bad = f;
    bad.readings = bad_readings;
    assert_int_equal(sbprov_frame_to_json(buf, sizeof buf, NULL, &bad), SBPROV_EINVAL);
    assert_non_null(strstr(sbprov_last_error(), "unknown kind 9"));
}

static void test_names(void **state)
{
    (void)state;
    cJSON *root = vectors();
    const cJSON *k;
    unsigned n = 0;

    cJSON_ArrayForEach(k, get(root, "kinds")) {
        uint8_t kind = (uint8_t)get_int(k, "kind");
        assert_string_equal(sbprov_frame_kind_name(kind), get_str(k, "name"));
        assert_int_equal(sbprov_frame_kind_from_name(get_str(k, "name")), kind);
        n++;
    }
    assert_int_equal(n, SBPROV_FRAME_KIND_LAST);
    assert_null(sbprov_frame_kind_name(0));
    assert_null(sbprov_frame_kind_name(SBPROV_FRAME_KIND_LAST + 1));
    assert_int_equal(sbprov_frame_kind_from_name("co2"), 0);
    assert_int_equal(sbprov_frame_kind_from_name(NULL), 0);
    assert_int_equal(sbprov_frame_kind_decimals(SBPROV_FRAME_KIND_TEMPERATURE_C), 2);
    assert_int_equal(sbprov_frame_kind_decimals(SBPROV_FRAME_KIND_HUMIDITY_PCT), 2);
    assert_int_equal(sbprov_frame_kind_decimals(SBPROV_FRAME_KIND_CO2_PPM), 0);
    assert_int_equal(sbprov_frame_kind_decimals(0x77), 0);
    assert_string_equal(sbprov_frame_outcome_name(SBPROV_FRAME_ACCEPTED), "accepted");
    assert_string_equal(sbprov_frame_outcome_name(SBPROV_FRAME_DROP_DUPLICATE), "duplicate");
    assert_string_equal(sbprov_frame_outcome_name((sbprov_frame_outcome)42), "invalid");
    assert_string_equal(sbprov_frame_seq_status_name(SBPROV_FRAME_SEQ_REBOOT), "reboot");
    assert_string_equal(sbprov_frame_seq_status_name((sbprov_frame_seq_status)9), "invalid");
    cJSON_Delete(root);
}

/* --- rooms fed by records --------------------------------------------------------------- */

static size_t room_record(uint8_t *rec, const uint8_t node[SBPROV_FRAME_NODE_SIZE], uint16_t seq, int32_t co2,
                          int32_t motion, int32_t temp, int32_t hum)
{
    sbprov_frame_builder b;
    size_t len = 0;
    assert_int_equal(sbprov_frame_builder_init(&b, rec, SBPROV_FRAME_MAX, SBPROV_FRAME_TYPE_READINGS, node, 1, seq),
                     SBPROV_FRAME_ENC_OK);
    if (co2 > 40000) { /* out of range: only the raw form lets the encoder send it */
        const uint8_t raw[2] = {(uint8_t)(co2 & 0xFF), (uint8_t)(co2 >> 8)};
        assert_int_equal(sbprov_frame_add_raw(&b, SBPROV_FRAME_KIND_CO2_PPM, raw, 2), SBPROV_FRAME_ENC_OK);
    } else if (co2 >= 0) {
        assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, co2), SBPROV_FRAME_ENC_OK);
    }
    if (motion >= 0)
        assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_MOTION, motion), SBPROV_FRAME_ENC_OK);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, temp), SBPROV_FRAME_ENC_OK);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_HUMIDITY_PCT, hum), SBPROV_FRAME_ENC_OK);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_BATTERY_MV, 3000), SBPROV_FRAME_ENC_OK);
    assert_int_equal(sbprov_frame_finish(&b, &len), SBPROV_FRAME_ENC_OK);
    return len;
}

static void test_sample_from_frame(void **state)
{
    (void)state;
    static const uint8_t node[SBPROV_FRAME_NODE_SIZE] = {0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    uint8_t rec[SBPROV_FRAME_MAX];
    sbprov_frame f;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    sbprov_air_sample s;
    size_t len = room_record(rec, node, 1, 812, 2, 2153, 4520);

    assert_ok(sbprov_frame_parse(&f, readings, NULL, rec, len));
    assert_ok(sbprov_air_sample_from_frame(&s, &f, 5000));
    assert_int_equal(s.time_ms, 5000);
    assert_true(s.has_co2 && s.co2_ppm == 812);
    assert_true(s.has_motion && s.motion == 2);
    assert_true(s.has_temperature && s.temperature_centi_c == 2153);
    assert_true(s.has_humidity && s.humidity_centi_pct == 4520);

    /* Out of range (CO2 65535) is left unset; a record without room readings is a clock tick. */
    len = room_record(rec, node, 2, 65535, -1, -1234, 0);
    assert_ok(sbprov_frame_parse(&f, readings, NULL, rec, len));
    assert_int_equal(f.out_of_range, 1);
    assert_ok(sbprov_air_sample_from_frame(&s, &f, 6000));
    assert_false(s.has_co2);
    assert_false(s.has_motion);
    assert_true(s.has_temperature && s.temperature_centi_c == -1234);

    assert_int_equal(sbprov_air_sample_from_frame(NULL, &f, 0), SBPROV_EINVAL);
    assert_int_equal(sbprov_air_sample_from_frame(&s, NULL, 0), SBPROV_EINVAL);
    assert_int_equal(sbprov_air_sample_from_frame(&s, &f, -1), SBPROV_EINVAL);
    f.struct_size = 4; /* not a frame view the library made */
    assert_int_equal(sbprov_air_sample_from_frame(&s, &f, 0), SBPROV_EINVAL);
    f.struct_size = sizeof f;
    f.reading_count = 99;
    assert_int_equal(sbprov_air_sample_from_frame(&s, &f, 0), SBPROV_EINVAL);
}

typedef struct building_feed {
    sbprov_air_building *building;
    int64_t now_ms;
    sbprov_result last;
} building_feed;

static int feed_building(const sbprov_frame *f, void *payload)
{
    building_feed *b = payload;
    b->last = sbprov_air_building_update_frame(b->building, f, b->now_ms);
    return 0;
}

/* Records decoded from a stream drive a room: CO2 climbing 40 ppm/min with
 * motion raises "occupied" and then "ventilate"; a node not placed in any
 * room is ENOTFOUND and changes nothing. */
static void test_building_fed_by_stream(void **state)
{
    (void)state;
    static const uint8_t node[SBPROV_FRAME_NODE_SIZE] = {0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    static const uint8_t stranger[SBPROV_FRAME_NODE_SIZE] = {9, 9, 9, 9, 9, 9, 9, 9};
    sbprov_air_building *building = NULL;
    sbprov_air_room *room = NULL;
    sbprov_frame_decoder *dec = NULL;
    building_feed feed = {0};
    uint8_t rec[SBPROV_FRAME_MAX], wire[SBPROV_FRAME_WIRE_MAX];
    int occupied = 0, ventilate = 0;

    assert_ok(sbprov_air_building_new(&building));
    assert_ok(sbprov_air_building_add_room(&room, building, "4.12", NULL));
    assert_ok(sbprov_air_building_add_node(building, 0x0011223344556677ULL, "4.12"));
    assert_ok(sbprov_frame_decoder_new(&dec, NULL));
    feed.building = building;

    for (uint16_t minute = 0; minute < 40; minute++) {
        size_t len = room_record(rec, node, minute, 600 + 40 * minute, minute % 3 == 0 ? 1 : 0, 2150, 4500), wlen = 0;
        assert_int_equal(sbprov_cobs_encode(wire, sizeof wire, rec, len, &wlen), SBPROV_FRAME_ENC_OK);
        feed.now_ms = (int64_t)minute * 60000;
        assert_ok(sbprov_frame_decoder_feed(NULL, dec, wire, wlen, feed_building, &feed));
        assert_ok(feed.last);
    }
    sbprov_air_event ev = {.struct_size = sizeof ev};
    for (;;) {
        assert_ok(sbprov_air_building_next_event(&ev, building));
        if (ev.kind == SBPROV_AIR_EVENT_NONE)
            break;
        assert_string_equal(ev.room, "4.12");
        occupied += ev.kind == SBPROV_AIR_EVENT_OCCUPIED;
        ventilate += ev.kind == SBPROV_AIR_EVENT_VENTILATION_NEEDED;
    }
    assert_int_equal(occupied, 1);
    assert_true(ventilate >= 1);
    sbprov_air_state st = {.struct_size = sizeof st};
    assert_ok(sbprov_air_room_state(&st, room));
    assert_true(st.occupied);
    assert_int_equal(st.temperature_centi_c, 2150);

    size_t len = room_record(rec, stranger, 1, 500, 1, 2000, 4000);
    sbprov_frame f;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    assert_ok(sbprov_frame_parse(&f, readings, NULL, rec, len));
    assert_int_equal(sbprov_air_building_update_frame(building, &f, 3000000), SBPROV_ENOTFOUND);
    assert_int_equal(sbprov_air_building_update_frame(NULL, &f, 0), SBPROV_EINVAL);
    assert_int_equal(sbprov_air_building_update_frame(building, NULL, 0), SBPROV_EINVAL);

    sbprov_frame_decoder_free(dec);
    sbprov_air_building_free(building);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_renderings),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sample_from_frame),
        cmocka_unit_test(test_building_fed_by_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
