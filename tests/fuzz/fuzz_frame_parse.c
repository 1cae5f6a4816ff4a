/* libFuzzer target: the sensor frame decoder (docs/frame-format.md) on
 * arbitrary bytes, split into chunks the fuzzer chooses.
 *
 * Input: byte 0 = configuration (bits 0-2: node table size - 1; bit 7: also
 * decode the data as one datagram), byte 1 = n (0..15 used), then n chunk
 * sizes (each byte + 1), then the stream bytes, fed in those chunk sizes in
 * turn (the whole rest at once when n is 0).
 *
 * Invariants beyond "no crash, leak or undefined behaviour":
 *   - every delivered record is 19..254 bytes, with at most 8 readings;
 *   - counters only increase, and every byte is consumed;
 *   - any accepted record re-encodes to the same bytes with the encoder (and
 *     its COBS form decodes to it again);
 *   - both renderings (flat JSON, SenML) succeed and parse as JSON;
 *   - the chunked feed delivers exactly what feeding everything at once
 *     delivers, with the same counters.
 * Built and run by tests/fuzz/run-fuzzer.sh; seeds in corpus/frame are the
 * wire bytes of tests/frame/vectors.json (made by make_vectors.py). */
#include "fuzz_check.h"

#include <cjson/cJSON.h>
#include <sbprov/frame.h>
#include <sbprov/sbprov.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct trace {
    uint64_t hash; /* FNV-1a over every delivered record and its view */
    size_t count;
} trace;

static void mix(trace *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        t->hash = (t->hash ^ b[i]) * 0x100000001B3ULL;
}

/* Re-encode an accepted record from its view (and, for the position of
 * skipped unknown kinds, its bytes) and compare. */
static void check_reencode(const sbprov_frame *f)
{
    uint8_t out[SBPROV_FRAME_MAX], wire[SBPROV_FRAME_WIRE_MAX];
    sbprov_frame_builder b;
    size_t len = 0, wlen = 0, known = 0, unknown = 0, invalid = 0;
    const uint8_t *r = f->record;
    size_t pos = SBPROV_FRAME_HEADER_SIZE + (f->has_time ? SBPROV_FRAME_TIME_SIZE : 0);
    size_t end = f->record_len - SBPROV_FRAME_CRC_SIZE;

    CHECK(sbprov_frame_builder_init(&b, out, sizeof out, f->type, f->node, f->epoch, f->seq) == SBPROV_FRAME_ENC_OK);
    if (f->has_time)
        CHECK(sbprov_frame_add_timestamp(&b, f->time_ms) == SBPROV_FRAME_ENC_OK);
    while (pos < end) {
        uint8_t kind = r[pos], vlen = r[pos + 1], klen;
        int32_t min, max;
        if (sbprov_frame_kind_info(kind, &klen, &min, &max)) {
            CHECK(known < f->reading_count);
            const sbprov_frame_reading *rd = &f->readings[known++];
            CHECK(rd->kind == kind && vlen == klen);
            CHECK(rd->valid == (rd->value >= min && rd->value <= max));
            if (rd->valid) {
                CHECK(sbprov_frame_add_reading(&b, kind, (int32_t)rd->value) == SBPROV_FRAME_ENC_OK);
            } else {
                uint8_t v[4];
                for (int i = 0; i < klen; i++)
                    v[i] = (uint8_t)((uint64_t)rd->value >> (8 * i));
                CHECK(sbprov_frame_add_raw(&b, kind, v, klen) == SBPROV_FRAME_ENC_OK);
                invalid++;
            }
        } else {
            CHECK(sbprov_frame_add_raw(&b, kind, r + pos + 2, vlen) == SBPROV_FRAME_ENC_OK);
            unknown++;
        }
        pos += 2u + vlen;
    }
    CHECK(pos == end);
    CHECK(known == f->reading_count && unknown == f->unknown_kinds && invalid == f->out_of_range);
    out[2] = (uint8_t)(out[2] | (f->flags & ~SBPROV_FRAME_FLAG_TIME)); /* reserved bits, ignored but kept */
    CHECK(sbprov_frame_finish(&b, &len) == SBPROV_FRAME_ENC_OK);
    CHECK(len == f->record_len);
    CHECK(memcmp(out, f->record, len) == 0);
    CHECK(sbprov_cobs_encode(wire, sizeof wire, out, len, &wlen) == SBPROV_FRAME_ENC_OK);
    CHECK(wlen <= SBPROV_FRAME_WIRE_MAX && wire[wlen - 1] == 0 && memchr(wire, 0, wlen - 1) == NULL);
}

/* Both renderings succeed within SBPROV_FRAME_JSON_MAX and are valid JSON. */
static void check_render(const sbprov_frame *f)
{
    char text[SBPROV_FRAME_JSON_MAX];
    size_t n = 0;
    cJSON *parsed;

    CHECK(sbprov_frame_to_json(text, sizeof text, &n, f) == SBPROV_OK && n == strlen(text));
    CHECK((parsed = cJSON_Parse(text)) != NULL && cJSON_IsObject(parsed));
    cJSON_Delete(parsed);
    CHECK(sbprov_frame_to_senml(text, sizeof text, &n, f, SBPROV_FRAME_SENML_MAX_TIME_MS) == SBPROV_OK);
    CHECK((parsed = cJSON_Parse(text)) != NULL && cJSON_IsArray(parsed));
    CHECK((size_t)cJSON_GetArraySize(parsed) == f->reading_count - f->out_of_range);
    cJSON_Delete(parsed);
}

static int on_frame(const sbprov_frame *f, void *payload)
{
    trace *t = payload;
    CHECK(f->struct_size == sizeof *f);
    CHECK(f->record_len >= SBPROV_FRAME_MIN && f->record_len <= SBPROV_FRAME_MAX);
    CHECK(f->reading_count <= SBPROV_FRAME_KIND_LAST);
    CHECK(f->version == SBPROV_FRAME_VERSION);
    CHECK(f->type == SBPROV_FRAME_TYPE_READINGS || f->type == SBPROV_FRAME_TYPE_HELLO);
    CHECK(f->has_time == ((f->flags & SBPROV_FRAME_FLAG_TIME) != 0));
    CHECK(f->seq_status == SBPROV_FRAME_SEQ_GAP ? f->missed >= 1 && f->missed < 32767 : f->missed == 0);
    check_reencode(f);
    check_render(f);
    mix(t, f->record, f->record_len);
    mix(t, &f->seq_status, sizeof f->seq_status);
    mix(t, &f->missed, sizeof f->missed);
    for (size_t i = 0; i < f->reading_count; i++) {
        mix(t, &f->readings[i].value, sizeof f->readings[i].value);
        mix(t, &f->readings[i].valid, 1);
    }
    t->count++;
    return 0;
}

static sbprov_frame_counters counters(const sbprov_frame_decoder *dec)
{
    sbprov_frame_counters c = {.struct_size = sizeof c};
    CHECK(sbprov_frame_decoder_counters(&c, dec) == SBPROV_OK);
    return c;
}

static void check_increase(const sbprov_frame_counters *a, const sbprov_frame_counters *b)
{
    const uint64_t x[] = {a->frames, a->crc, a->too_long, a->truncated, a->bad_version, a->bad_length,
                          a->unknown_type, a->duplicate, a->gaps, a->reboots, a->unknown_kinds, a->out_of_range};
    const uint64_t y[] = {b->frames, b->crc, b->too_long, b->truncated, b->bad_version, b->bad_length,
                          b->unknown_type, b->duplicate, b->gaps, b->reboots, b->unknown_kinds, b->out_of_range};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        CHECK(y[i] >= x[i]);
}

static sbprov_frame_decoder *new_decoder(size_t table)
{
    sbprov_frame_decoder_options o;
    sbprov_frame_decoder *dec = NULL;
    CHECK(sbprov_frame_decoder_options_init(&o, sizeof o) == SBPROV_OK);
    o.node_table_size = table;
    CHECK(sbprov_frame_decoder_new(&dec, &o) == SBPROV_OK);
    return dec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunks[16], nchunks, table;
    int datagram;

    if (size < 2)
        return 0;
    table = 1u + (data[0] & 7u);
    datagram = (data[0] & 0x80) != 0;
    nchunks = data[1] & 15u;
    if (size < 2 + nchunks)
        return 0;
    for (size_t i = 0; i < nchunks; i++)
        chunks[i] = (size_t)data[2 + i] + 1;
    data += 2 + nchunks;
    size -= 2 + nchunks;

    /* Chunked. */
    sbprov_frame_decoder *dec = new_decoder(table);
    trace split = {0xCBF29CE484222325ULL, 0};
    sbprov_frame_counters before = counters(dec);
    for (size_t pos = 0, k = 0; pos < size; k++) {
        size_t n = nchunks ? chunks[k % nchunks] : size - pos, used = 0;
        if (n > size - pos)
            n = size - pos;
        CHECK(sbprov_frame_decoder_feed(&used, dec, data + pos, n, on_frame, &split) == SBPROV_OK);
        CHECK(used == n);
        sbprov_frame_counters now = counters(dec);
        check_increase(&before, &now);
        before = now;
        pos += n;
    }

    /* All at once: the same records and counters. */
    sbprov_frame_decoder *whole = new_decoder(table);
    trace all = {0xCBF29CE484222325ULL, 0};
    size_t used = 0;
    CHECK(sbprov_frame_decoder_feed(&used, whole, data, size, on_frame, &all) == SBPROV_OK);
    CHECK(used == size);
    sbprov_frame_counters c1 = counters(dec), c2 = counters(whole);
    CHECK(memcmp(&c1, &c2, sizeof c1) == 0);
    CHECK(split.count == all.count && split.hash == all.hash);
    CHECK(c1.frames == all.count);

    /* The bytes as one datagram: exactly one outcome is counted. */
    if (datagram) {
        sbprov_frame_outcome o;
        trace one = {0, 0};
        sbprov_frame_counters b0 = counters(whole), b1;
        CHECK(sbprov_frame_decode_record(&o, whole, data, size, on_frame, &one) == SBPROV_OK);
        b1 = counters(whole);
        check_increase(&b0, &b1);
        uint64_t drops0 = b0.crc + b0.too_long + b0.truncated + b0.bad_version + b0.bad_length + b0.unknown_type +
                          b0.duplicate;
        uint64_t drops1 = b1.crc + b1.too_long + b1.truncated + b1.bad_version + b1.bad_length + b1.unknown_type +
                          b1.duplicate;
        CHECK((o == SBPROV_FRAME_ACCEPTED) == (one.count == 1));
        CHECK(b1.frames - b0.frames == one.count && drops1 - drops0 == 1 - one.count);
    }
    sbprov_frame_decoder_free(dec);
    sbprov_frame_decoder_free(whole);
    return 0;
}
