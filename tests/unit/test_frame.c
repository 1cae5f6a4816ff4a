/* Sensor frames (docs/frame-format.md): the MCU encoder, the gateway decoder
 * and CRC-32C, checked against tests/frame/vectors.json (made by the
 * independent Python reference), on arbitrary chunkings of streams, and on
 * 10,000 random records round-tripped through the C encoder and decoder. */
#include "test_util.h"

#include "frame_internal.h"
#include "frame_vectors.h"

#include <inttypes.h>
#include <sbprov/frame.h>

/* --- helpers --------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static void tohex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

static sbprov_frame_decoder *new_decoder(size_t node_table_size)
{
    sbprov_frame_decoder_options o;
    sbprov_frame_decoder *dec = NULL;
    assert_ok(sbprov_frame_decoder_options_init(&o, sizeof o));
    if (node_table_size != 0)
        o.node_table_size = node_table_size;
    assert_ok(sbprov_frame_decoder_new(&dec, &o));
    return dec;
}

static sbprov_frame_counters counters_of(const sbprov_frame_decoder *dec)
{
    sbprov_frame_counters c = {.struct_size = sizeof c};
    assert_ok(sbprov_frame_decoder_counters(&c, dec));
    return c;
}

static const char *const counter_names[] = {"frames", "crc", "too_long", "truncated", "bad_version", "bad_length",
                                            "unknown_type", "duplicate", "gaps", "reboots", "unknown_kinds",
                                            "out_of_range"};
#define NCOUNTERS (sizeof counter_names / sizeof counter_names[0])

static void counters_array(uint64_t out[NCOUNTERS], const sbprov_frame_counters *c)
{
    const uint64_t v[NCOUNTERS] = {c->frames, c->crc, c->too_long, c->truncated, c->bad_version, c->bad_length,
                                   c->unknown_type, c->duplicate, c->gaps, c->reboots, c->unknown_kinds,
                                   c->out_of_range};
    memcpy(out, v, sizeof v);
}

/* The counters equal `want` (a JSON object of non-zero counters). */
static void expect_counters(const sbprov_frame_decoder *dec, const cJSON *want, const char *what)
{
    sbprov_frame_counters c = counters_of(dec);
    uint64_t got[NCOUNTERS];
    counters_array(got, &c);
    for (size_t i = 0; i < NCOUNTERS; i++) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, counter_names[i]);
        uint64_t expected = w != NULL ? (uint64_t)w->valuedouble : 0;
        if (got[i] != expected)
            fail_msg("%s: counter %s is %" PRIu64 ", expected %" PRIu64, what, counter_names[i], got[i], expected);
    }
}

/* Only counter `name` is non-zero, and it is `n`. */
static void expect_only(const sbprov_frame_decoder *dec, const char *name, uint64_t n, const char *what)
{
    cJSON *want = cJSON_CreateObject();
    cJSON_AddNumberToObject(want, name, (double)n);
    expect_counters(dec, want, what);
    cJSON_Delete(want);
}

/* Accepted records, copied out of the callback. */
typedef struct got_record {
    sbprov_frame f; /* pointers cleared */
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    uint8_t record[SBPROV_FRAME_MAX];
} got_record;

typedef struct collector {
    got_record *items;
    size_t n, cap;
    size_t stop_after; /* stop (return 1) after this many records in total; 0 never */
} collector;

static int collect(const sbprov_frame *f, void *payload)
{
    collector *c = payload;
    assert_int_equal(f->struct_size, sizeof *f);
    assert_true(f->record_len >= SBPROV_FRAME_MIN && f->record_len <= SBPROV_FRAME_MAX);
    assert_true(f->reading_count <= SBPROV_FRAME_KIND_LAST);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->items = realloc(c->items, c->cap * sizeof *c->items);
        assert_non_null(c->items);
    }
    got_record *g = &c->items[c->n++];
    memset(g, 0, sizeof *g);
    g->f = *f;
    g->f.readings = NULL;
    g->f.record = NULL;
    memcpy(g->readings, f->readings, f->reading_count * sizeof *f->readings);
    memcpy(g->record, f->record, f->record_len);
    return c->stop_after != 0 && c->n >= c->stop_after;
}

static void collector_free(collector *c)
{
    free(c->items);
    memset(c, 0, sizeof *c);
}

/* Two views are equal field by field (not memcmp: padding is not part of them). */
static int same_view(const sbprov_frame *a, const sbprov_frame *b)
{
    return a->struct_size == b->struct_size && a->version == b->version && a->type == b->type &&
           a->flags == b->flags && memcmp(a->node, b->node, sizeof a->node) == 0 && a->node_id == b->node_id &&
           a->epoch == b->epoch && a->seq == b->seq && a->has_time == b->has_time && a->time_ms == b->time_ms &&
           a->reading_count == b->reading_count && a->unknown_kinds == b->unknown_kinds &&
           a->out_of_range == b->out_of_range && a->seq_status == b->seq_status && a->missed == b->missed &&
           a->record_len == b->record_len;
}

/* Two collections are the same records with the same views. */
static void expect_same_records(const collector *a, const collector *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %zu records vs %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const got_record *x = &a->items[i], *y = &b->items[i];
        if (!same_view(&x->f, &y->f) || memcmp(x->readings, y->readings, sizeof x->readings) != 0 ||
            memcmp(x->record, y->record, sizeof x->record) != 0)
            fail_msg("%s: record %zu differs", what, i);
    }
}

/* A decoded record matches the vector's fields. */
static void expect_fields(const got_record *g, const cJSON *v)
{
    const char *name = get_str(v, "name");
    const cJSON *f = get(v, "fields");
    char hex[2 * SBPROV_FRAME_MAX + 1], node_hex[17];
    size_t known = 0;
    const cJSON *r;

    tohex(hex, g->record, g->f.record_len);
    if (strcmp(hex, get_str(v, "record")) != 0)
        fail_msg("%s: delivered record %s", name, hex);
    assert_int_equal(g->f.version, get_int(f, "version"));
    assert_int_equal(g->f.type, get_int(f, "type"));
    assert_int_equal(g->f.flags, get_int(f, "flags"));
    tohex(node_hex, g->f.node, 8);
    assert_string_equal(node_hex, get_str(f, "node"));
    snprintf(node_hex, sizeof node_hex, "%016" PRIx64, g->f.node_id);
    assert_string_equal(node_hex, get_str(f, "node"));
    assert_int_equal(g->f.epoch, get_int(f, "epoch"));
    assert_int_equal(g->f.seq, get_int(f, "seq"));
    if (cJSON_IsNull(get(f, "time_ms"))) {
        assert_int_equal(g->f.has_time, 0);
        assert_int_equal(g->f.time_ms, 0);
    } else {
        assert_int_equal(g->f.has_time, 1);
        assert_int_equal(g->f.time_ms, get_int(f, "time_ms"));
    }
    cJSON_ArrayForEach(r, get(f, "readings"))
    {
        if (cJSON_GetObjectItemCaseSensitive(r, "raw") != NULL)
            continue;
        if (known >= g->f.reading_count)
            fail_msg("%s: only %zu readings delivered", name, g->f.reading_count);
        const sbprov_frame_reading *rd = &g->readings[known++];
        assert_int_equal(rd->kind, get_int(r, "kind"));
        if (rd->value != get_int(r, "value"))
            fail_msg("%s: kind %d value %" PRId64 ", expected %" PRId64, name, rd->kind, rd->value,
                     get_int(r, "value"));
        assert_int_equal(rd->valid, get_int(r, "valid"));
    }
    assert_int_equal(g->f.reading_count, known);
    assert_int_equal(g->f.unknown_kinds, get_int(v, "unknown_kinds"));
    assert_int_equal(g->f.out_of_range, get_int(v, "out_of_range"));
}

/* Feed `data` split at random points (or 1 byte at a time, or whole). */
enum split { WHOLE, BYTES, RANDOM };

static void feed_split(sbprov_frame_decoder *dec, const uint8_t *data, size_t len, enum split how, collector *c)
{
    size_t i = 0;
    while (i < len || (len == 0 && i == 0)) {
        size_t n = how == WHOLE ? len : how == BYTES ? 1 : 1 + rnd_below(rnd_below(4) == 0 ? 300 : 40);
        if (n > len - i)
            n = len - i;
        size_t used = 0;
        assert_ok(sbprov_frame_decoder_feed(&used, dec, data + i, n, collect, c));
        assert_int_equal(used, n);
        i += n;
        if (len == 0)
            break;
    }
}

/* --- CRC-32C -------------------------------------------------------------------------------- */

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n-- > 0) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static void test_crc32c(void **state)
{
    (void)state;
    static const char check[] = "123456789";
    uint8_t buf[300 + 16];
    cJSON *root = vectors(), *v;

    print_message("CRC-32C path: %s\n", sbprov__crc32c_impl());
    assert_int_equal(sbprov__crc32c((const uint8_t *)check, 9), 0xE3069283u);
    assert_int_equal(sbprov__crc32c_sw((const uint8_t *)check, 9), 0xE3069283u);
    assert_int_equal(sbprov__crc32c(NULL, 0), 0);
    if (sbprov__crc32c_hw_available())
        assert_int_equal(sbprov__crc32c_hw((const uint8_t *)check, 9), 0xE3069283u);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        assert_string_equal(sbprov__crc32c_impl(), "sse4.2");
#endif
    cJSON_ArrayForEach(v, get(root, "crc32c"))
    {
        size_t n;
        uint8_t *in = unhex(get_str(v, "input"), &n);
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", sbprov__crc32c(in, n));
        assert_string_equal(hex, get_str(v, "crc"));
        assert_int_equal(sbprov__crc32c_sw(in, n), sbprov__crc32c(in, n));
        free(in);
    }
    cJSON_Delete(root);

    /* Both paths on random inputs of every length 0..300 at every alignment. */
    rng_state = 0x5eed0001;
    for (size_t len = 0; len <= 300; len++) {
        for (size_t off = 0; off < 8; off++) {
            for (size_t i = 0; i < len; i++)
                buf[off + i] = (uint8_t)rnd();
            uint32_t want = crc_bitwise(buf + off, len);
            assert_int_equal(sbprov__crc32c_sw(buf + off, len), want);
            assert_int_equal(sbprov__crc32c(buf + off, len), want);
            if (sbprov__crc32c_hw_available())
                assert_int_equal(sbprov__crc32c_hw(buf + off, len), want);
        }
    }
}

/* --- the kind table ------------------------------------------------------------------------------ */

static void test_kind_table(void **state)
{
    (void)state;
    cJSON *root = vectors(), *k;
    int n = 0;
    cJSON_ArrayForEach(k, get(root, "kinds"))
    {
        uint8_t len;
        int32_t min, max;
        assert_int_equal(sbprov_frame_kind_info((uint8_t)get_int(k, "kind"), &len, &min, &max), 1);
        assert_int_equal(len, get_int(k, "length"));
        assert_int_equal(min, get_int(k, "min"));
        assert_int_equal(max, get_int(k, "max"));
        assert_int_equal(min < 0, get_int(k, "signed"));
        n++;
    }
    assert_int_equal(n, SBPROV_FRAME_KIND_LAST);
    assert_int_equal(sbprov_frame_kind_info(0, NULL, NULL, NULL), 0);
    assert_int_equal(sbprov_frame_kind_info(SBPROV_FRAME_KIND_LAST + 1, NULL, NULL, NULL), 0);
    assert_int_equal(sbprov_frame_kind_info(0xFF, NULL, NULL, NULL), 0);
    assert_int_equal(sbprov_frame_kind_info(1, NULL, NULL, NULL), 1);
    cJSON_Delete(root);
}

/* --- valid records --------------------------------------------------------------------------------- */

static void test_vector_records_decode(void **state)
{
    (void)state;
    cJSON *root = vectors(), *v;
    size_t count = 0;

    cJSON_ArrayForEach(v, get(root, "records"))
    {
        const char *name = get_str(v, "name");
        size_t rlen, wlen;
        uint8_t *rec = unhex(get_str(v, "record"), &rlen);
        uint8_t *wire = unhex(get_str(v, "wire"), &wlen);
        cJSON *want = cJSON_CreateObject();
        cJSON_AddNumberToObject(want, "frames", 1);
        cJSON_AddNumberToObject(want, "unknown_kinds", (double)get_int(v, "unknown_kinds"));
        cJSON_AddNumberToObject(want, "out_of_range", (double)get_int(v, "out_of_range"));

        /* As a datagram: the view points into the caller's bytes. */
        sbprov_frame_decoder *dec = new_decoder(0);
        collector c = {0};
        sbprov_frame_outcome o = SBPROV_FRAME_DROP_CRC;
        assert_ok(sbprov_frame_decode_record(&o, dec, rec, rlen, collect, &c));
        if (o != SBPROV_FRAME_ACCEPTED || c.n != 1)
            fail_msg("%s: not accepted as a datagram (outcome %d)", name, (int)o);
        expect_fields(&c.items[0], v);
        expect_counters(dec, want, name);
        sbprov_frame_decoder_free(dec);
        collector_free(&c);

        /* On a stream: whole, byte by byte, and after a leading delimiter. */
        for (int how = WHOLE; how <= BYTES; how++) {
            dec = new_decoder(0);
            if (how == BYTES)
                feed_split(dec, (const uint8_t *)"", 1, WHOLE, &c);
            feed_split(dec, wire, wlen, (enum split)how, &c);
            if (c.n != 1)
                fail_msg("%s: %zu records from the wire bytes", name, c.n);
            expect_fields(&c.items[0], v);
            expect_counters(dec, want, name);
            sbprov_frame_decoder_free(dec);
            collector_free(&c);
        }
        cJSON_Delete(want);
        free(rec);
        free(wire);
        count++;
    }
    assert_true(count >= 50);
    cJSON_Delete(root);
}

/* Build a vector's record with the C encoder: known kinds in range with
 * add_reading, out-of-range values and unknown kinds with add_raw. */
static size_t encode_fields(uint8_t *out, const cJSON *f)
{
    sbprov_frame_builder b;
    uint8_t node[8];
    size_t len = 0;
    const cJSON *r;
    int flags = (int)get_int(f, "flags");

    assert_int_equal(test_hex(node, get_str(f, "node")), 8);
    assert_int_equal(sbprov_frame_builder_init(&b, out, SBPROV_FRAME_MAX, (uint8_t)get_int(f, "type"), node,
                                               (uint16_t)get_int(f, "epoch"), (uint16_t)get_int(f, "seq")),
                     SBPROV_FRAME_ENC_OK);
    if (!cJSON_IsNull(get(f, "time_ms")))
        assert_int_equal(sbprov_frame_add_timestamp(&b, (uint32_t)get_int(f, "time_ms")), SBPROV_FRAME_ENC_OK);
    cJSON_ArrayForEach(r, get(f, "readings"))
    {
        uint8_t kind = (uint8_t)get_int(r, "kind");
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(r, "raw");
        if (raw != NULL) {
            size_t n;
            uint8_t *bytes = unhex(raw->valuestring, &n);
            assert_int_equal(sbprov_frame_add_raw(&b, kind, bytes, (uint8_t)n), SBPROV_FRAME_ENC_OK);
            free(bytes);
        } else if (get_int(r, "valid")) {
            assert_int_equal(sbprov_frame_add_reading(&b, kind, (int32_t)get_int(r, "value")), SBPROV_FRAME_ENC_OK);
        } else {
            uint8_t klen, bytes[4];
            int64_t value = get_int(r, "value");
            assert_int_equal(sbprov_frame_add_reading(&b, kind, (int32_t)value), SBPROV_FRAME_ENC_ERANGE);
            assert_int_equal(sbprov_frame_kind_info(kind, &klen, NULL, NULL), 1);
            for (int i = 0; i < klen; i++)
                bytes[i] = (uint8_t)((uint64_t)value >> (8 * i));
            assert_int_equal(sbprov_frame_add_raw(&b, kind, bytes, klen), SBPROV_FRAME_ENC_OK);
        }
    }
    /* The builder writes no reserved flag bits; a vector that has them gets
     * them patched in before the CRC. */
    assert_int_equal(b.buf[2], flags & SBPROV_FRAME_FLAG_TIME);
    b.buf[2] = (uint8_t)flags;
    assert_int_equal(sbprov_frame_finish(&b, &len), SBPROV_FRAME_ENC_OK);
    assert_int_equal(len, b.len);
    return len;
}

static void test_vector_records_encode(void **state)
{
    (void)state;
    cJSON *root = vectors(), *v;

    cJSON_ArrayForEach(v, get(root, "records"))
    {
        const char *name = get_str(v, "name");
        uint8_t rec[SBPROV_FRAME_MAX], wire[SBPROV_FRAME_WIRE_MAX + 8];
        char hex[2 * sizeof wire + 1];
        size_t len = encode_fields(rec, get(v, "fields")), wlen = 0;

        tohex(hex, rec, len);
        if (strcmp(hex, get_str(v, "record")) != 0)
            fail_msg("%s: C encoder gives %s", name, hex);
        assert_int_equal(sbprov_cobs_encode(wire, sizeof wire, rec, len, &wlen), SBPROV_FRAME_ENC_OK);
        tohex(hex, wire, wlen);
        if (strcmp(hex, get_str(v, "wire")) != 0)
            fail_msg("%s: C COBS gives %s", name, hex);
        assert_true(wlen <= SBPROV_COBS_ENCODED_SIZE(len));
        assert_true(wlen <= SBPROV_FRAME_WIRE_MAX);
        /* Exactly the room needed is enough; one byte less is not, and says so. */
        assert_int_equal(sbprov_cobs_encode(wire, wlen, rec, len, &wlen), SBPROV_FRAME_ENC_OK);
        size_t need = 0;
        assert_int_equal(sbprov_cobs_encode(wire, wlen - 1, rec, len, &need), SBPROV_FRAME_ENC_ESPACE);
        assert_int_equal(need, wlen);
    }
    cJSON_Delete(root);
}

/* --- malformed inputs and resynchronisation ---------------------------------------------------------- */

/* The counter an outcome raises (the library's outcome names are the drop
 * counters' names; vectors.json checks them independently). */
static const char *outcome_counter(sbprov_frame_outcome o)
{
    return o == SBPROV_FRAME_ACCEPTED ? "frames" : sbprov_frame_outcome_name(o);
}

static void test_vector_malformed(void **state)
{
    (void)state;
    cJSON *root = vectors(), *v;
    /* A good record to follow each error, from the vectors. */
    const cJSON *good = cJSON_GetArrayItem(get(root, "records"), 0);
    size_t glen, gwlen;
    uint8_t *grec = unhex(get_str(good, "record"), &glen);
    uint8_t *gwire = unhex(get_str(good, "wire"), &gwlen);
    int datagrams = 0, streams = 0;

    cJSON_ArrayForEach(v, get(root, "malformed"))
    {
        const char *name = get_str(v, "name"), *counter = get_str(v, "counter");
        size_t wlen;
        uint8_t *wire = unhex(get_str(v, "wire"), &wlen);
        collector c = {0};
        sbprov_frame_decoder *dec;

        if (strcmp(get_str(v, "input"), "record") == 0) {
            size_t rlen;
            uint8_t *rec = unhex(get_str(v, "record"), &rlen);
            sbprov_frame_outcome o = SBPROV_FRAME_ACCEPTED;
            dec = new_decoder(0);
            assert_ok(sbprov_frame_decode_record(&o, dec, rec, rlen, collect, &c));
            if (strcmp(outcome_counter(o), counter) != 0)
                fail_msg("%s: datagram outcome %s", name, outcome_counter(o));
            assert_int_equal(c.n, 0);
            expect_only(dec, counter, 1, name);
            assert_ok(sbprov_frame_decode_record(&o, dec, grec, glen, collect, &c));
            assert_int_equal(o, SBPROV_FRAME_ACCEPTED);
            assert_int_equal(c.n, 1);
            sbprov_frame_decoder_free(dec);
            collector_free(&c);
            free(rec);
            datagrams++;
        }

        /* On a stream, whole and byte by byte: exactly its counter, then the
         * good record after it is accepted (resynchronisation). */
        for (int how = WHOLE; how <= BYTES; how++) {
            dec = new_decoder(0);
            feed_split(dec, wire, wlen, (enum split)how, &c);
            assert_int_equal(c.n, 0);
            expect_only(dec, counter, 1, name);
            feed_split(dec, gwire, gwlen, (enum split)how, &c);
            if (c.n != 1)
                fail_msg("%s: the good record after it was not accepted", name);
            sbprov_frame_decoder_free(dec);
            collector_free(&c);
        }
        /* Without its delimiter, glued to a good record: the error swallows
         * the good record's bytes up to its delimiter (one drop, nothing
         * delivered), and the next good record is accepted. */
        dec = new_decoder(0);
        feed_split(dec, wire, wlen - 1, WHOLE, &c);
        feed_split(dec, gwire, gwlen, WHOLE, &c);
        sbprov_frame_counters k = counters_of(dec);
        uint64_t all[NCOUNTERS], drops = 0;
        counters_array(all, &k);
        for (size_t i = 1; i <= 7; i++)
            drops += all[i];
        assert_int_equal(drops, 1);
        assert_int_equal(c.n, 0);
        feed_split(dec, gwire, gwlen, WHOLE, &c);
        assert_int_equal(c.n, 1);
        sbprov_frame_decoder_free(dec);
        collector_free(&c);
        free(wire);
        streams++;
    }
    print_message("%d malformed inputs (%d also as datagrams)\n", streams, datagrams);
    assert_true(streams >= 30 && datagrams >= 20);
    free(grec);
    free(gwire);
    cJSON_Delete(root);
}

/* --- streams and arbitrary chunking --------------------------------------------------------------------- */

static void test_vector_streams(void **state)
{
    (void)state;
    cJSON *root = vectors(), *v;
    rng_state = 0x5eed0002;

    cJSON_ArrayForEach(v, get(root, "streams"))
    {
        const char *name = get_str(v, "name");
        size_t len;
        uint8_t *data = unhex(get_str(v, "wire"), &len);
        collector first = {0};

        for (int round = 0; round < 12; round++) {
            enum split how = round == 0 ? WHOLE : round == 1 ? BYTES : RANDOM;
            sbprov_frame_decoder *dec = new_decoder(0);
            collector c = {0};
            feed_split(dec, data, len, how, &c);
            expect_counters(dec, get(v, "counters"), name);
            if (c.n != (size_t)cJSON_GetArraySize(get(v, "records")))
                fail_msg("%s: %zu records", name, c.n);
            size_t i = 0;
            const cJSON *r;
            cJSON_ArrayForEach(r, get(v, "records"))
            {
                char hex[2 * SBPROV_FRAME_MAX + 1];
                tohex(hex, c.items[i].record, c.items[i].f.record_len);
                assert_string_equal(hex, r->valuestring);
                i++;
            }
            if (round == 0)
                first = c;
            else {
                expect_same_records(&first, &c, name);
                collector_free(&c);
            }
            sbprov_frame_decoder_free(dec);
        }
        collector_free(&first);
        free(data);
    }
    cJSON_Delete(root);
}

/* Every vector's wire bytes in one stream: whole == byte by byte == random
 * splits, in records delivered and counters. */
static void test_all_vectors_any_chunking(void **state)
{
    (void)state;
    cJSON *root = vectors(), *v;
    const char *sections[] = {"records", "malformed", "streams"};
    uint8_t *stream = NULL;
    size_t len = 0;

    for (size_t s = 0; s < 3; s++) {
        cJSON_ArrayForEach(v, get(root, sections[s]))
        {
            size_t n;
            uint8_t *w = unhex(get_str(v, "wire"), &n);
            stream = realloc(stream, len + n + 1);
            assert_non_null(stream);
            memcpy(stream + len, w, n);
            len += n;
            stream[len++] = 0; /* the streams section may end without a delimiter */
            free(w);
        }
    }
    rng_state = 0x5eed0003;
    collector ref = {0};
    sbprov_frame_counters ref_counters = {0};
    for (int round = 0; round < 30; round++) {
        enum split how = round == 0 ? WHOLE : round == 1 ? BYTES : RANDOM;
        sbprov_frame_decoder *dec = new_decoder(0);
        collector c = {0};
        feed_split(dec, stream, len, how, &c);
        sbprov_frame_counters k = counters_of(dec);
        if (round == 0) {
            ref = c;
            ref_counters = k;
            print_message("one stream of %zu bytes: %" PRIu64 " records accepted, %" PRIu64 " crc, %" PRIu64
                          " truncated\n",
                          len, k.frames, k.crc, k.truncated);
            assert_true(k.frames > 50);
        } else {
            expect_same_records(&ref, &c, "chunking");
            assert_memory_equal(&k, &ref_counters, sizeof k);
            collector_free(&c);
        }
        sbprov_frame_decoder_free(dec);
    }
    collector_free(&ref);
    free(stream);
    cJSON_Delete(root);
}

/* --- sequence scenarios ---------------------------------------------------------------------------------- */


static void test_vector_sequences(void **state)
{
    (void)state;
    cJSON *root = vectors(), *v;

    cJSON_ArrayForEach(v, get(root, "sequences"))
    {
        const char *name = get_str(v, "name");
        size_t table = (size_t)get_int(v, "node_table_size");
        /* As datagrams, step by step. */
        sbprov_frame_decoder *dec = new_decoder(table);
        sbprov_frame_decoder *sdec = new_decoder(table);
        collector c = {0}, sc = {0};
        const cJSON *step;
        int i = 0;
        cJSON_ArrayForEach(step, get(v, "steps"))
        {
            size_t rlen;
            uint8_t *rec = unhex(get_str(step, "record"), &rlen);
            sbprov_frame_outcome o;
            size_t before = c.n;
            assert_ok(sbprov_frame_decode_record(&o, dec, rec, rlen, collect, &c));
            const char *expect = get_str(step, "expect");
            if (strcmp(expect, "accepted") == 0) {
                if (o != SBPROV_FRAME_ACCEPTED || c.n != before + 1)
                    fail_msg("%s: step %d not accepted (%s)", name, i, outcome_counter(o));
                const got_record *g = &c.items[c.n - 1];
                if (strcmp(sbprov_frame_seq_status_name(g->f.seq_status), get_str(step, "seq_status")) != 0 ||
                    g->f.missed != (uint32_t)get_int(step, "missed"))
                    fail_msg("%s: step %d: %s missed %u", name, i, sbprov_frame_seq_status_name(g->f.seq_status), g->f.missed);
            } else if (strcmp(outcome_counter(o), expect) != 0) {
                fail_msg("%s: step %d: %s instead of %s", name, i, outcome_counter(o), expect);
            }
            /* The same records on a stream, one by one. */
            uint8_t wire[SBPROV_FRAME_WIRE_MAX];
            size_t wlen;
            assert_int_equal(sbprov_cobs_encode(wire, sizeof wire, rec, rlen, &wlen), SBPROV_FRAME_ENC_OK);
            feed_split(sdec, wire, wlen, BYTES, &sc);
            free(rec);
            i++;
        }
        expect_counters(dec, get(v, "counters"), name);
        expect_counters(sdec, get(v, "counters"), name);
        expect_same_records(&c, &sc, name);
        sbprov_frame_decoder_free(dec);
        sbprov_frame_decoder_free(sdec);
        collector_free(&c);
        collector_free(&sc);
    }
    cJSON_Delete(root);
}

/* A simple model of the node table (linear, least recently seen by tick)
 * against the decoder's hash + list, under churn. */
typedef struct model_node {
    uint64_t id;
    uint16_t epoch, seq;
    uint64_t tick;
    int used;
} model_node;

static void test_node_table_churn(void **state)
{
    (void)state;
    enum { TABLE = 16, NODES = 40, RECORDS = 60000 };
    model_node model[TABLE];
    uint16_t next_seq[NODES], epoch[NODES];
    uint64_t tick = 0;
    sbprov_frame_decoder *dec = new_decoder(TABLE);
    collector c = {0};
    uint8_t rec[SBPROV_FRAME_MAX];

    memset(model, 0, sizeof model);
    memset(next_seq, 0, sizeof next_seq);
    memset(epoch, 0, sizeof epoch);
    rng_state = 0x5eed0004;
    for (int i = 0; i < RECORDS; i++) {
        /* Skewed choice: low-numbered nodes are frequent. */
        uint32_t n = rnd_below(rnd_below(3) == 0 ? NODES : 12);
        uint64_t id = 0x00AB000000000000ULL | ((uint64_t)n * 0x10001ULL);
        uint32_t what = rnd_below(20);
        if (what == 0)
            epoch[n]++;
        uint16_t seq = next_seq[n];
        if (what == 1)
            seq = (uint16_t)(seq - 1 - rnd_below(5)); /* old */
        else if (what == 2)
            seq = (uint16_t)(seq + rnd_below(100)); /* gap */
        if (seq == next_seq[n] || (uint16_t)(seq - next_seq[n]) < 32768)
            next_seq[n] = (uint16_t)(seq + 1);

        /* The model. */
        int m = -1, lru = -1;
        const char *want;
        uint32_t want_missed = 0;
        for (int k = 0; k < TABLE; k++)
            if (model[k].used && model[k].id == id)
                m = k;
        for (int k = 0; k < TABLE && lru < 0; k++)
            if (!model[k].used)
                lru = k;
        if (lru < 0) {
            lru = 0;
            for (int k = 1; k < TABLE; k++)
                if (model[k].tick < model[lru].tick)
                    lru = k;
        }
        if (m < 0) {
            m = lru;
            model[m].used = 1;
            model[m].id = id;
            want = "first";
        } else if (model[m].epoch != epoch[n]) {
            want = "reboot";
        } else {
            uint16_t d = (uint16_t)(seq - model[m].seq);
            want = d == 0 || d >= 32768 ? "duplicate" : d == 1 ? "next" : "gap";
            want_missed = d >= 2 && d < 32768 ? d - 1u : 0;
        }
        model[m].tick = ++tick;
        if (strcmp(want, "duplicate") != 0) {
            model[m].epoch = epoch[n];
            model[m].seq = seq;
        }

        /* The decoder. */
        sbprov_frame_builder b;
        uint8_t node[8];
        size_t len;
        for (int k = 0; k < 8; k++)
            node[k] = (uint8_t)(id >> (56 - 8 * k));
        assert_int_equal(sbprov_frame_builder_init(&b, rec, sizeof rec, 1, node, epoch[n], seq), 0);
        assert_int_equal(sbprov_frame_finish(&b, &len), 0);
        sbprov_frame_outcome o;
        size_t before = c.n;
        assert_ok(sbprov_frame_decode_record(&o, dec, rec, len, collect, &c));
        if (strcmp(want, "duplicate") == 0) {
            if (o != SBPROV_FRAME_DROP_DUPLICATE)
                fail_msg("record %d: expected duplicate, got %s", i, outcome_counter(o));
        } else {
            if (o != SBPROV_FRAME_ACCEPTED || c.n != before + 1)
                fail_msg("record %d: expected %s, got %s", i, want, outcome_counter(o));
            const got_record *g = &c.items[c.n - 1];
            if (strcmp(sbprov_frame_seq_status_name(g->f.seq_status), want) != 0 || g->f.missed != want_missed)
                fail_msg("record %d (node %u): expected %s/%u, got %s/%u", i, n, want, want_missed,
                         sbprov_frame_seq_status_name(g->f.seq_status), g->f.missed);
            assert_int_equal(g->f.node_id, id);
        }
        if (c.n > 1000)
            c.n = 0;
    }
    sbprov_frame_decoder_free(dec);
    collector_free(&c);
}

/* --- random round trips ------------------------------------------------------------------------------------ */

typedef struct planned {
    uint8_t type, node[8];
    uint16_t epoch, seq;
    int has_time;
    uint32_t time_ms;
    size_t n;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    size_t unknown, out_of_range;
} planned;

/* Build a random record with the encoder; returns its length and what the
 * decoder must report. */
static size_t random_record(uint8_t *rec, planned *p, uint32_t index)
{
    sbprov_frame_builder b;
    uint8_t kinds[SBPROV_FRAME_KIND_LAST];
    size_t len = 0;

    memset(p, 0, sizeof *p);
    p->type = rnd_below(5) == 0 ? SBPROV_FRAME_TYPE_HELLO : SBPROV_FRAME_TYPE_READINGS;
    uint64_t r = rnd();
    for (int k = 0; k < 4; k++)
        p->node[k] = (uint8_t)(r >> (8 * k));
    for (int k = 0; k < 4; k++) /* a distinct node per record: every record is "first" */
        p->node[4 + k] = (uint8_t)(index >> (24 - 8 * k));
    p->epoch = (uint16_t)rnd();
    p->seq = (uint16_t)rnd();
    assert_int_equal(sbprov_frame_builder_init(&b, rec, SBPROV_FRAME_MAX, p->type, p->node, p->epoch, p->seq), 0);
    if (rnd_below(2)) {
        p->has_time = 1;
        p->time_ms = (uint32_t)rnd();
        assert_int_equal(sbprov_frame_add_timestamp(&b, p->time_ms), 0);
    }
    /* A random order of a random subset of the known kinds, mixed with unknown ones. */
    for (int k = 0; k < SBPROV_FRAME_KIND_LAST; k++)
        kinds[k] = (uint8_t)(k + 1);
    for (int k = SBPROV_FRAME_KIND_LAST - 1; k > 0; k--) {
        uint32_t j = rnd_below((uint32_t)k + 1);
        uint8_t t = kinds[k];
        kinds[k] = kinds[j];
        kinds[j] = t;
    }
    size_t nk = rnd_below(SBPROV_FRAME_KIND_LAST + 1);
    for (size_t k = 0; k < nk; k++) {
        uint8_t len8;
        int32_t min, max;
        if (rnd_below(4) == 0) { /* an unknown kind */
            uint8_t raw[255], rl = (uint8_t)rnd_below(rnd_below(8) == 0 ? 256 : 12);
            uint8_t kind = (uint8_t)(SBPROV_FRAME_KIND_LAST + 1 + rnd_below(255 - SBPROV_FRAME_KIND_LAST));
            if (rnd_below(10) == 0)
                kind = 0;
            for (int i = 0; i < rl; i++)
                raw[i] = (uint8_t)rnd();
            sbprov_frame_enc_result rc = sbprov_frame_add_raw(&b, kind, raw, rl);
            if (rc == SBPROV_FRAME_ENC_OK)
                p->unknown++;
            else
                assert_int_equal(rc, SBPROV_FRAME_ENC_ESPACE);
        }
        assert_int_equal(sbprov_frame_kind_info(kinds[k], &len8, &min, &max), 1);
        sbprov_frame_reading *rd = &p->readings[p->n];
        rd->kind = kinds[k];
        rd->valid = 1;
        uint32_t pick = rnd_below(8);
        int64_t span = (int64_t)max - min + 1;
        rd->value = pick == 0 ? min : pick == 1 ? max : min + (int64_t)(rnd() % (uint64_t)span);
        sbprov_frame_enc_result rc;
        if (pick == 2 && kinds[k] != SBPROV_FRAME_KIND_MOTION) { /* out of range, sent raw */
            uint8_t bytes[4];
            uint64_t full = len8 == 4 ? 0xFFFFFFFFull : len8 == 2 ? 0xFFFF : 0xFF;
            int64_t v;
            do {
                uint64_t u = rnd() & full;
                v = min < 0 ? (int64_t)(int16_t)u : (int64_t)u;
            } while (v >= min && v <= max);
            rd->value = v;
            rd->valid = 0;
            for (int i = 0; i < len8; i++)
                bytes[i] = (uint8_t)((uint64_t)v >> (8 * i));
            rc = sbprov_frame_add_raw(&b, rd->kind, bytes, len8);
        } else {
            rc = sbprov_frame_add_reading(&b, rd->kind, (int32_t)rd->value);
        }
        if (rc == SBPROV_FRAME_ENC_OK) {
            p->out_of_range += !rd->valid;
            p->n++;
        } else {
            assert_int_equal(rc, SBPROV_FRAME_ENC_ESPACE);
        }
    }
    assert_int_equal(sbprov_frame_finish(&b, &len), 0);
    return len;
}

static void expect_planned(const got_record *g, const planned *p, const uint8_t *rec, size_t len)
{
    assert_int_equal(g->f.record_len, len);
    assert_memory_equal(g->record, rec, len);
    assert_int_equal(g->f.type, p->type);
    assert_memory_equal(g->f.node, p->node, 8);
    assert_int_equal(g->f.epoch, p->epoch);
    assert_int_equal(g->f.seq, p->seq);
    assert_int_equal(g->f.has_time, p->has_time);
    assert_int_equal(g->f.time_ms, p->time_ms);
    assert_int_equal(g->f.flags, p->has_time ? 1 : 0);
    assert_int_equal(g->f.reading_count, p->n);
    for (size_t i = 0; i < p->n; i++) {
        assert_int_equal(g->readings[i].kind, p->readings[i].kind);
        assert_int_equal(g->readings[i].value, p->readings[i].value);
        assert_int_equal(g->readings[i].valid, p->readings[i].valid);
    }
    assert_int_equal(g->f.unknown_kinds, p->unknown);
    assert_int_equal(g->f.out_of_range, p->out_of_range);
    assert_int_equal(g->f.seq_status, SBPROV_FRAME_SEQ_FIRST);
}

static void test_random_round_trips(void **state)
{
    (void)state;
    enum { N = 10000 };
    sbprov_frame_decoder *dgram = new_decoder(SBPROV_FRAME_NODE_TABLE_MAX);
    sbprov_frame_decoder *stream = new_decoder(SBPROV_FRAME_NODE_TABLE_MAX);
    static uint8_t wire_all[N * SBPROV_FRAME_WIRE_MAX];
    size_t wire_len = 0, max_len = 0, total_unknown = 0, total_oor = 0;
    planned *plans = calloc(N, sizeof *plans);
    uint8_t(*recs)[SBPROV_FRAME_MAX] = calloc(N, SBPROV_FRAME_MAX);
    size_t *lens = calloc(N, sizeof *lens);
    collector c = {0}, sc = {0};

    assert_non_null(plans);
    assert_non_null(recs);
    assert_non_null(lens);
    rng_state = 0x5eed0005;
    for (uint32_t i = 0; i < N; i++) {
        lens[i] = random_record(recs[i], &plans[i], i);
        if (lens[i] > max_len)
            max_len = lens[i];
        total_unknown += plans[i].unknown;
        total_oor += plans[i].out_of_range;
        sbprov_frame_outcome o;
        assert_ok(sbprov_frame_decode_record(&o, dgram, recs[i], lens[i], collect, &c));
        assert_int_equal(o, SBPROV_FRAME_ACCEPTED);
        assert_int_equal(c.n, i + 1);
        expect_planned(&c.items[i], &plans[i], recs[i], lens[i]);
        size_t wl;
        assert_int_equal(sbprov_cobs_encode(wire_all + wire_len, SBPROV_FRAME_WIRE_MAX, recs[i], lens[i], &wl), 0);
        wire_len += wl;
    }
    /* All of them as one stream in random chunks. */
    feed_split(stream, wire_all, wire_len, RANDOM, &sc);
    assert_int_equal(sc.n, N);
    for (uint32_t i = 0; i < N; i++)
        expect_planned(&sc.items[i], &plans[i], recs[i], lens[i]);
    sbprov_frame_counters k = counters_of(stream);
    assert_int_equal(k.frames, N);
    assert_int_equal(k.unknown_kinds, total_unknown);
    assert_int_equal(k.out_of_range, total_oor);
    sbprov_frame_counters want = {.struct_size = sizeof k, .frames = N, .unknown_kinds = total_unknown,
                                  .out_of_range = total_oor};
    assert_memory_equal(&k, &want, sizeof k);
    print_message("%d random records (longest %zu bytes, %zu unknown kinds, %zu out of range), %zu wire bytes\n", N,
                  max_len, total_unknown, total_oor, wire_len);
    assert_int_equal(max_len, SBPROV_FRAME_MAX);
    sbprov_frame_decoder_free(dgram);
    sbprov_frame_decoder_free(stream);
    collector_free(&c);
    collector_free(&sc);
    free(plans);
    free(recs);
    free(lens);
}

/* --- encoder contract ---------------------------------------------------------------------------------------- */

/* A small COBS decoder for checking the encoder on arbitrary input. */
static size_t cobs_decode_test(uint8_t *out, const uint8_t *in, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        uint8_t code = in[i++];
        assert_true(code != 0);
        for (int k = 1; k < code; k++) {
            assert_true(i < n);
            out[o++] = in[i++];
        }
        if (code != 0xFF && i < n)
            out[o++] = 0;
    }
    return o;
}

static void test_cobs_encode_any_input(void **state)
{
    (void)state;
    static uint8_t in[1200], out[1300], back[1300];
    rng_state = 0x5eed0006;
    for (size_t len = 0; len <= 1100; len += (len < 600 ? 1 : 37)) {
        for (int density = 0; density < 4; density++) {
            for (size_t i = 0; i < len; i++) {
                uint8_t x = (uint8_t)rnd();
                in[i] = density == 0 ? (uint8_t)(x | 1) : density == 1 ? 0 : (rnd_below(density * 8) == 0 ? 0 : x);
            }
            size_t wl = 0;
            assert_int_equal(sbprov_cobs_encode(out, sizeof out, in, len, &wl), 0);
            assert_true(wl >= len + 2);
            assert_true(wl <= SBPROV_COBS_ENCODED_SIZE(len));
            if (density == 0)
                assert_int_equal(wl, SBPROV_COBS_ENCODED_SIZE(len));
            assert_int_equal(out[wl - 1], 0);
            assert_null(memchr(out, 0, wl - 1));
            assert_int_equal(cobs_decode_test(back, out, wl - 1), len);
            assert_memory_equal(back, in, len);
            size_t need = 0;
            assert_int_equal(sbprov_cobs_encode(out, wl - 1, in, len, &need), SBPROV_FRAME_ENC_ESPACE);
            assert_int_equal(need, wl);
        }
    }
    size_t need = 0;
    assert_int_equal(sbprov_cobs_encode(out, 0, NULL, 0, &need), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(need, 2);
    assert_int_equal(sbprov_cobs_encode(out, 2, NULL, 0, NULL), SBPROV_FRAME_ENC_OK);
    assert_memory_equal(out, "\x01\x00", 2);
    assert_int_equal(sbprov_cobs_encode(NULL, 10, in, 1, NULL), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_cobs_encode(out, 10, NULL, 1, NULL), SBPROV_FRAME_ENC_EINVAL);
}

static void test_encoder_errors(void **state)
{
    (void)state;
    static const uint8_t node[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t buf[300], raw[255];
    sbprov_frame_builder b;
    size_t len;

    memset(raw, 0x5A, sizeof raw);
    /* init */
    assert_int_equal(sbprov_frame_builder_init(NULL, buf, sizeof buf, 1, node, 0, 0), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_builder_init(&b, NULL, sizeof buf, 1, node, 0, 0), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_add_reading(&b, 1, 1), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_builder_init(&b, buf, sizeof buf, 1, NULL, 0, 0), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_builder_init(&b, buf, sizeof buf, 0, node, 0, 0), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_builder_init(&b, buf, sizeof buf, 3, node, 0, 0), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_builder_init(&b, buf, SBPROV_FRAME_MIN - 1, 1, node, 0, 0), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(sbprov_frame_finish(&b, &len), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_add_timestamp(NULL, 1), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_add_reading(NULL, 1, 1), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_add_raw(NULL, 9, raw, 1), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_finish(NULL, &len), SBPROV_FRAME_ENC_EINVAL);

    /* The smallest buffer holds a record without readings, nothing more. */
    assert_int_equal(sbprov_frame_builder_init(&b, buf, SBPROV_FRAME_MIN, 2, node, 1, 2), 0);
    assert_int_equal(sbprov_frame_add_timestamp(&b, 5), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(sbprov_frame_add_reading(&b, 4, 1), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(sbprov_frame_add_raw(&b, 9, NULL, 0), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(sbprov_frame_finish(&b, NULL), 0);
    assert_int_equal(b.len, SBPROV_FRAME_MIN);
    assert_int_equal(sbprov_frame_finish(&b, &len), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(sbprov_frame_add_reading(&b, 4, 1), SBPROV_FRAME_ENC_EINVAL);

    /* Order, kinds, ranges, duplicates; a failed add changes nothing. */
    assert_int_equal(sbprov_frame_builder_init(&b, buf, sizeof buf, 1, node, 1, 2), 0);
    assert_int_equal(b.cap, SBPROV_FRAME_MAX);
    assert_int_equal(sbprov_frame_add_timestamp(&b, 5), 0);
    assert_int_equal(sbprov_frame_add_timestamp(&b, 6), SBPROV_FRAME_ENC_EORDER);
    assert_int_equal(sbprov_frame_add_reading(&b, 0, 1), SBPROV_FRAME_ENC_EKIND);
    assert_int_equal(sbprov_frame_add_reading(&b, 9, 1), SBPROV_FRAME_ENC_EKIND);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, 40001), SBPROV_FRAME_ENC_ERANGE);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, -1), SBPROV_FRAME_ENC_ERANGE);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, -4001), SBPROV_FRAME_ENC_ERANGE);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_PRESSURE_PA, 29999), SBPROV_FRAME_ENC_ERANGE);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_MOTION, 256), SBPROV_FRAME_ENC_ERANGE);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, -4000), 0);
    assert_int_equal(sbprov_frame_add_timestamp(&b, 6), SBPROV_FRAME_ENC_EORDER);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, 0), SBPROV_FRAME_ENC_EDUP);
    assert_int_equal(sbprov_frame_add_raw(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, raw, 2), SBPROV_FRAME_ENC_EDUP);
    assert_int_equal(sbprov_frame_add_raw(&b, SBPROV_FRAME_KIND_CO2_PPM, raw, 3), SBPROV_FRAME_ENC_EKIND);
    assert_int_equal(sbprov_frame_add_raw(&b, 9, NULL, 1), SBPROV_FRAME_ENC_EINVAL);
    assert_int_equal(b.len, SBPROV_FRAME_HEADER_SIZE + 4 + 4);
    assert_int_equal(sbprov_frame_add_raw(&b, SBPROV_FRAME_KIND_CO2_PPM, (const uint8_t *)"\xff\xff", 2), 0);
    assert_int_equal(sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, 1), SBPROV_FRAME_ENC_EDUP);
    /* Fill to exactly 254 bytes: 254 - 4 (CRC) - 27 used = 223 = 2 + 221. */
    assert_int_equal(b.len, 27);
    assert_int_equal(sbprov_frame_add_raw(&b, 0x99, raw, 222), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(b.len, 27);
    assert_int_equal(sbprov_frame_add_raw(&b, 0x99, raw, 221), 0);
    assert_int_equal(sbprov_frame_add_raw(&b, 0x9A, NULL, 0), SBPROV_FRAME_ENC_ESPACE);
    assert_int_equal(sbprov_frame_finish(&b, &len), 0);
    assert_int_equal(len, SBPROV_FRAME_MAX);

    /* It decodes: temperature -40.00, CO2 out of range, one unknown kind. */
    sbprov_frame_decoder *dec = new_decoder(0);
    collector c = {0};
    sbprov_frame_outcome o;
    assert_ok(sbprov_frame_decode_record(&o, dec, buf, len, collect, &c));
    assert_int_equal(o, SBPROV_FRAME_ACCEPTED);
    assert_int_equal(c.items[0].f.reading_count, 2);
    assert_int_equal(c.items[0].readings[0].value, -4000);
    assert_int_equal(c.items[0].readings[1].value, 0xFFFF); /* 65535 ppm: out of range */
    assert_int_equal(c.items[0].readings[1].valid, 0);
    assert_int_equal(c.items[0].f.unknown_kinds, 1);
    assert_int_equal(c.items[0].f.time_ms, 5);
    sbprov_frame_decoder_free(dec);
    collector_free(&c);
}

/* --- decoder API ---------------------------------------------------------------------------------------------- */

static void test_decoder_api(void **state)
{
    (void)state;
    sbprov_frame_decoder *dec = NULL;
    sbprov_frame_decoder_options o;
    struct {
        sbprov_frame_decoder_options o;
        uint64_t future;
    } big;
    collector c = {0};
    size_t used = 99;

    assert_fails_with(sbprov_frame_decoder_new(NULL, NULL), SBPROV_EINVAL, "out");
    assert_fails_with(sbprov_frame_decoder_options_init(NULL, sizeof o), SBPROV_EINVAL, "options");
    assert_fails_with(sbprov_frame_decoder_options_init(&o, 1), SBPROV_EINVAL, "options");
    assert_ok(sbprov_frame_decoder_options_init(&o, sizeof o));
    assert_int_equal(o.node_table_size, SBPROV_FRAME_NODE_TABLE_DEFAULT);
    o.node_table_size = 0;
    assert_fails_with(sbprov_frame_decoder_new(&dec, &o), SBPROV_EINVAL, "node_table_size 0");
    assert_null(dec);
    o.node_table_size = SBPROV_FRAME_NODE_TABLE_MAX + 1;
    assert_fails_with(sbprov_frame_decoder_new(&dec, &o), SBPROV_EINVAL, "node_table_size");
    memset(&big, 0, sizeof big);
    assert_ok(sbprov_frame_decoder_options_init(&big.o, sizeof big));
    big.future = 1;
    assert_fails_with(sbprov_frame_decoder_new(&dec, &big.o), SBPROV_EINVAL, "options");
    big.future = 0;
    assert_ok(sbprov_frame_decoder_new(&dec, &big.o));
    sbprov_frame_decoder_free(dec);
    sbprov_frame_decoder_free(NULL);
    assert_ok(sbprov_frame_decoder_new(&dec, NULL));

    assert_fails_with(sbprov_frame_decoder_feed(&used, NULL, (const uint8_t *)"", 1, NULL, NULL), SBPROV_EINVAL,
                      "dec");
    assert_int_equal(used, 0);
    assert_fails_with(sbprov_frame_decoder_feed(NULL, dec, NULL, 1, NULL, NULL), SBPROV_EINVAL, "data");
    assert_ok(sbprov_frame_decoder_feed(&used, dec, NULL, 0, NULL, NULL));
    assert_fails_with(sbprov_frame_decode_record(NULL, NULL, (const uint8_t *)"", 1, NULL, NULL), SBPROV_EINVAL,
                      "dec");
    assert_fails_with(sbprov_frame_decode_record(NULL, dec, NULL, 1, NULL, NULL), SBPROV_EINVAL, "record");
    sbprov_frame_outcome oc;
    assert_ok(sbprov_frame_decode_record(&oc, dec, NULL, 0, NULL, NULL));
    assert_int_equal(oc, SBPROV_FRAME_DROP_TRUNCATED);

    sbprov_frame_counters k = {0};
    assert_fails_with(sbprov_frame_decoder_counters(&k, dec), SBPROV_EINVAL, "struct_size");
    assert_fails_with(sbprov_frame_decoder_counters(NULL, dec), SBPROV_EINVAL, "out");
    k.struct_size = sizeof k;
    assert_fails_with(sbprov_frame_decoder_counters(&k, NULL), SBPROV_EINVAL, "dec");
    /* A newer caller's larger struct: the unknown tail is zeroed. */
    struct {
        sbprov_frame_counters c;
        uint64_t later;
    } bigc;
    memset(&bigc, 0xEE, sizeof bigc);
    bigc.c.struct_size = sizeof bigc;
    assert_ok(sbprov_frame_decoder_counters(&bigc.c, dec));
    assert_int_equal(bigc.later, 0);
    assert_int_equal(bigc.c.truncated, 1);
    sbprov_frame_decoder_free(dec);

    /* The callback stops: ECANCELED, consumed ends at that record's
     * delimiter; feeding the rest delivers the others. */
    uint8_t recs[3][SBPROV_FRAME_MAX], stream[3 * SBPROV_FRAME_WIRE_MAX];
    size_t slen = 0, ends[3];
    static const uint8_t node[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    for (int i = 0; i < 3; i++) {
        sbprov_frame_builder b;
        size_t len, wl;
        assert_int_equal(sbprov_frame_builder_init(&b, recs[i], SBPROV_FRAME_MAX, 1, node, 1, (uint16_t)i), 0);
        assert_int_equal(sbprov_frame_add_reading(&b, 1, 400 + i), 0);
        assert_int_equal(sbprov_frame_finish(&b, &len), 0);
        assert_int_equal(sbprov_cobs_encode(stream + slen, SBPROV_FRAME_WIRE_MAX, recs[i], len, &wl), 0);
        slen += wl;
        ends[i] = slen;
    }
    dec = new_decoder(0);
    c.stop_after = 1;
    assert_fails_with(sbprov_frame_decoder_feed(&used, dec, stream, slen, collect, &c), SBPROV_ECANCELED, "callback");
    assert_int_equal(used, ends[0]);
    assert_int_equal(c.n, 1);
    c.stop_after = 0;
    size_t used2;
    assert_ok(sbprov_frame_decoder_feed(&used2, dec, stream + used, slen - used, collect, &c));
    assert_int_equal(used2, slen - used);
    assert_int_equal(c.n, 3);
    assert_int_equal(counters_of(dec).frames, 3);
    /* A datagram whose callback stops. */
    c.stop_after = 4;
    uint8_t again[SBPROV_FRAME_MAX];
    sbprov_frame_builder b;
    size_t alen;
    assert_int_equal(sbprov_frame_builder_init(&b, again, sizeof again, 1, node, 1, 3), 0);
    assert_int_equal(sbprov_frame_finish(&b, &alen), 0);
    assert_fails_with(sbprov_frame_decode_record(&oc, dec, again, alen, collect, &c), SBPROV_ECANCELED, "callback");
    assert_int_equal(oc, SBPROV_FRAME_ACCEPTED);
    /* A NULL callback only counts. */
    assert_int_equal(sbprov_frame_builder_init(&b, again, sizeof again, 1, node, 1, 4), 0);
    assert_int_equal(sbprov_frame_finish(&b, &alen), 0);
    assert_ok(sbprov_frame_decode_record(&oc, dec, again, alen, NULL, NULL));
    assert_int_equal(counters_of(dec).frames, 5);
    sbprov_frame_decoder_free(dec);
    collector_free(&c);

    /* A datagram in the middle of a stream record leaves it intact. */
    static const uint8_t other[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    dec = new_decoder(0);
    assert_ok(sbprov_frame_decoder_feed(NULL, dec, stream, 10, collect, &c));
    assert_int_equal(sbprov_frame_builder_init(&b, again, sizeof again, 1, other, 1, 5), 0);
    assert_int_equal(sbprov_frame_finish(&b, &alen), 0);
    assert_ok(sbprov_frame_decode_record(&oc, dec, again, alen, collect, &c));
    assert_int_equal(oc, SBPROV_FRAME_ACCEPTED);
    assert_ok(sbprov_frame_decoder_feed(NULL, dec, stream + 10, ends[0] - 10, collect, &c));
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.items[1].record, recs[0], c.items[1].f.record_len);
    assert_int_equal(counters_of(dec).frames, 2);
    sbprov_frame_decoder_free(dec);
    collector_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_kind_table),
        cmocka_unit_test(test_vector_records_decode),
        cmocka_unit_test(test_vector_records_encode),
        cmocka_unit_test(test_vector_malformed),
        cmocka_unit_test(test_vector_streams),
        cmocka_unit_test(test_all_vectors_any_chunking),
        cmocka_unit_test(test_vector_sequences),
        cmocka_unit_test(test_node_table_churn),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_cobs_encode_any_input),
        cmocka_unit_test(test_encoder_errors),
        cmocka_unit_test(test_decoder_api),
    };
    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
