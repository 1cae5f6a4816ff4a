/* Throughput and allocations of libsbprov's gateway frame decoder
 * (sbprov_frame_decoder_feed), each against a baseline measured in the same
 * run (docs/performance.md, design "Performance").
 *
 * Usage: sbprov-bench-frame [--n N] [--nodes K] [--seed S] [--reps R] [--sample-ms MS]
 *                           [--chunk BYTES] [--only NAME] [--quick]
 *
 * Inputs are generated from the seed: K nodes (random 8-byte IDs, random boot
 * epoch and first seq) sending, in turn, N readings records of 30 bytes
 * (header without timestamp, CO2, temperature, motion, CRC-32C), i.e. 32
 * bytes on the wire with the COBS code byte and the 0x00 delimiter. Two
 * streams hold the same N records, the second with every node's epoch + 1;
 * passes alternate between them, so a long-lived decoder accepts every frame
 * of every pass (within a pass each node's seq numbers are consecutive; its
 * first frame of a pass is a reboot). The same readings are rendered as SenML
 * packs (one per record, by sbprov_frame_to_senml, no base time).
 *
 * Variants, one pass = the N frames:
 *   frame_sbprov         sbprov_frame_decoder_feed over a stream in CHUNK-byte pieces (a
 *                        long-lived decoder), with a callback reading every field used
 *   frame_bare_cobs_crc  a bare pass written here: COBS-decode each frame into a buffer and
 *                        check its CRC-32C (SSE4.2 instruction when the CPU has it, else a
 *                        byte table, as the library chooses), no other check
 *   frame_cjson_senml    cJSON_ParseWithLength of each SenML pack, a walk of its records
 *                        reading bn, bver, n, u and v, cJSON_Delete
 * Before timing, every variant is checked to give exactly the generated
 * values (and the bare pass the generated record bytes), else the program
 * fails. Timing is as in bench_azure.c: a warm-up, passes per sample
 * calibrated to fill about MS milliseconds, R interleaved repetitions.
 *
 * Allocations: this program defines malloc, calloc, realloc and free (calling
 * glibc's __libc_* functions) and counts the calls, libsbprov.so's and
 * cJSON's included (checked: the calls of sbprov_frame_decoder_new must be
 * seen). Every call during the timed decoder's feeding is counted (warm-up and
 * calibration included; its creation is not). cJSON's calls are counted in its
 * check before timing; for timing it is given glibc's allocator directly
 * (cJSON_InitHooks), so that the counting does not slow the baseline down.
 *
 * After timing, the decoder's counters must show exactly the frames fed as
 * accepted, no drop and the expected reboots, else the program fails.
 *
 * --quick: a smoke test (ctest bench_frame_smoke): small inputs, one short
 * repetition; fails if a check fails or the decoder allocated while feeding.
 * No timing is judged.
 *
 * Output on stdout, machine-readable:
 *   RESULT <name> median_ops_per_s=<x> min=<x> max=<x> reps=<r> passes=<p> n=<n> samples=<x>,<x>,...
 *   ALLOCS <name> calls=<x> malloc=<x> calloc=<x> realloc=<x> free=<x> frames=<x> counting=on|off
 * (ops are frames; ALLOCS for frame_sbprov and frame_bare_cobs_crc) plus "INFO key=value" lines. Diagnostics go to stderr. */
#include <sbprov/sbprov.h>
#include <sbprov/frame.h>

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#  include <nmmintrin.h>
#  define HAVE_SSE42_PATH 1
#else
#  define HAVE_SSE42_PATH 0
#endif

#define MAX_REPS 64
#define RECORD_LEN 30 /* 15 header + 4 CO2 + 4 temperature + 3 motion + 4 CRC */
#define WIRE_LEN 32   /* + COBS code byte + 0x00 delimiter */
#define SENML_MAX SBPROV_FRAME_JSON_MAX

/* ------------------------------------------------------------------------ */
/* Counting allocations                                                      */
/* ------------------------------------------------------------------------ */

/* Sanitizers bring their own allocator; counting is then off (the smoke test
 * is not built with them). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define COUNT_ALLOCS 0
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#    define COUNT_ALLOCS 0
#  endif
#endif
#ifndef COUNT_ALLOCS
#  if defined(__GLIBC__)
#    define COUNT_ALLOCS 1
#  else
#    define COUNT_ALLOCS 0
#  endif
#endif

struct alloc_counts {
    unsigned long malloc_calls, calloc_calls, realloc_calls, free_calls;
};

/* Single-threaded program: plain counters. */
static struct alloc_counts allocs;

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

/* Defined in the executable, these replace glibc's for every shared object
 * of the process (libsbprov.so, libcjson.so, OpenSSL): see the check of
 * sbprov_frame_decoder_new in main(). */
void *malloc(size_t n)
{
    allocs.malloc_calls++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    allocs.calloc_calls++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    allocs.realloc_calls++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    allocs.free_calls++;
    __libc_free(p);
}
#endif

static unsigned long alloc_total(const struct alloc_counts *a)
{
    return a->malloc_calls + a->calloc_calls + a->realloc_calls + a->free_calls;
}

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state;

/* splitmix64: small, seedable, the same on every platform. */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void die(const char *what)
{
    fprintf(stderr, "sbprov-bench-frame: %s\n", what);
    exit(1);
}

static void die_sbprov(const char *what, sbprov_result rc)
{
    fprintf(stderr, "sbprov-bench-frame: %s failed: %d (%s)\n", what, (int)rc, sbprov_last_error());
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        die("out of memory");
    return p;
}

/* The values of frame i (the same in both streams but for the epoch). */
struct frame_vals {
    uint8_t node[SBPROV_FRAME_NODE_SIZE];
    uint16_t epoch; /* in stream 0; stream 1 has epoch + 1 */
    uint16_t seq;
    int32_t co2, temperature, motion;
};

struct inputs {
    size_t n, nodes;
    struct frame_vals *vals;
    uint8_t *records[2]; /* n * RECORD_LEN: the record bytes of each stream */
    uint8_t *stream[2];  /* n * WIRE_LEN: COBS records and delimiters */
    size_t stream_len;
    char *senml;         /* the packs, back to back (each also NUL-terminated) */
    size_t *senml_off, *senml_len;
    size_t senml_bytes;
};

static uint64_t node_id_of(const uint8_t node[SBPROV_FRAME_NODE_SIZE])
{
    uint64_t id = 0;
    for (int i = 0; i < SBPROV_FRAME_NODE_SIZE; i++)
        id = (id << 8) | node[i];
    return id;
}

static void make_inputs(struct inputs *in, size_t n, size_t nodes, uint64_t seed)
{
    struct node {
        uint8_t id[SBPROV_FRAME_NODE_SIZE];
        uint16_t epoch, seq;
    } *node = xcalloc(nodes, sizeof *node);

    rng_state = seed;
    in->n = n;
    in->nodes = nodes;
    in->vals = xcalloc(n, sizeof *in->vals);
    for (size_t k = 0; k < nodes; k++) {
        uint64_t r = rng_next();
        for (int j = 0; j < SBPROV_FRAME_NODE_SIZE; j++)
            node[k].id[j] = (uint8_t)(r >> (8 * j));
        node[k].epoch = (uint16_t)(rng_next() % 0xFFFF); /* epoch + 1 must not wrap to it */
        node[k].seq = (uint16_t)rng_next();
    }
    for (size_t i = 0; i < n; i++) {
        struct frame_vals *v = &in->vals[i];
        struct node *nd = &node[i % nodes];
        memcpy(v->node, nd->id, sizeof v->node);
        v->epoch = nd->epoch;
        v->seq = nd->seq++;
        v->co2 = 400 + (int32_t)(rng_next() % 1600);        /* ppm */
        v->temperature = 1800 + (int32_t)(rng_next() % 800); /* hundredths of degC */
        v->motion = rng_next() % 4 == 0 ? 1 + (int32_t)(rng_next() % 3) : 0;
    }
    free(node);

    in->stream_len = n * WIRE_LEN;
    for (int s = 0; s < 2; s++) {
        in->records[s] = xcalloc(n, RECORD_LEN);
        in->stream[s] = xcalloc(n, WIRE_LEN);
        for (size_t i = 0; i < n; i++) {
            const struct frame_vals *v = &in->vals[i];
            uint8_t *rec = in->records[s] + i * RECORD_LEN;
            sbprov_frame_builder b;
            size_t rec_len = 0, wire_len = 0;
            if (sbprov_frame_builder_init(&b, rec, RECORD_LEN, SBPROV_FRAME_TYPE_READINGS, v->node,
                                          (uint16_t)(v->epoch + s), v->seq) != SBPROV_FRAME_ENC_OK ||
                sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, v->co2) != SBPROV_FRAME_ENC_OK ||
                sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, v->temperature) !=
                    SBPROV_FRAME_ENC_OK ||
                sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_MOTION, v->motion) != SBPROV_FRAME_ENC_OK ||
                sbprov_frame_finish(&b, &rec_len) != SBPROV_FRAME_ENC_OK || rec_len != RECORD_LEN ||
                sbprov_cobs_encode(in->stream[s] + i * WIRE_LEN, WIRE_LEN, rec, rec_len, &wire_len) !=
                    SBPROV_FRAME_ENC_OK ||
                wire_len != WIRE_LEN)
                die("encoding a frame failed (or it is not 32 bytes on the wire)");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* The bare baseline: COBS-decode + CRC-32C, nothing else                   */
/* ------------------------------------------------------------------------ */

static uint32_t crc_tab[256];

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_tab[i] = c;
    }
}

static inline uint32_t crc32c_table(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n-- > 0)
        crc = (crc >> 8) ^ crc_tab[(crc ^ *p++) & 0xFFu];
    return ~crc;
}

#if HAVE_SSE42_PATH
__attribute__((target("sse4.2"))) static inline uint32_t crc32c_hw(const uint8_t *p, size_t n)
{
    uint64_t crc = 0xFFFFFFFFu;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        crc = _mm_crc32_u64(crc, v);
        p += 8;
        n -= 8;
    }
    uint32_t c = (uint32_t)crc;
    while (n-- > 0)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}
#endif

static inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* COBS-decode the frame at *pp (up to and including its 0x00 delimiter) into
 * rec (SBPROV_FRAME_MAX + 1 bytes). Returns the record length, or -1 if the
 * frame is cut off by the end of the buffer or too long. Trusts the code
 * bytes: no check that data bytes are non-zero. */
static inline long bare_cobs_frame(const uint8_t **pp, const uint8_t *end, uint8_t *rec)
{
    const uint8_t *p = *pp;
    size_t n = 0;
    for (;;) {
        if (p >= end)
            return -1;
        unsigned code = *p++;
        if (code == 0)
            break;
        size_t k = code - 1u;
        if (k > (size_t)(end - p) || k > SBPROV_FRAME_MAX - n)
            return -1;
        for (size_t j = 0; j < k; j++)
            rec[n + j] = p[j];
        n += k;
        p += k;
        if (code != 0xFF && p < end && *p != 0)
            rec[n++] = 0;
    }
    *pp = p;
    return (long)n;
}

/* One pass over a stream: frames with a correct CRC, and a sum of their CRCs. */
#define BARE_PASS_BODY(CRC)                                                                          \
    const uint8_t *p = data, *end = data + len;                                                      \
    uint8_t rec[SBPROV_FRAME_MAX + 1];                                                               \
    uint64_t ok = 0, acc = 0;                                                                        \
    while (p < end) {                                                                                \
        long n = bare_cobs_frame(&p, end, rec);                                                      \
        if (n < 0)                                                                                   \
            break;                                                                                   \
        if (n < SBPROV_FRAME_CRC_SIZE)                                                               \
            continue;                                                                                \
        uint32_t crc = CRC(rec, (size_t)n - SBPROV_FRAME_CRC_SIZE);                                  \
        if (crc == get_le32(rec + n - SBPROV_FRAME_CRC_SIZE)) {                                      \
            ok++;                                                                                    \
            acc += crc;                                                                              \
        }                                                                                            \
    }                                                                                                \
    *acc_out = acc;                                                                                  \
    return ok;

static uint64_t bare_pass_table(const uint8_t *data, size_t len, uint64_t *acc_out)
{
    BARE_PASS_BODY(crc32c_table)
}

#if HAVE_SSE42_PATH
__attribute__((target("sse4.2"))) static uint64_t bare_pass_hw(const uint8_t *data, size_t len, uint64_t *acc_out)
{
    BARE_PASS_BODY(crc32c_hw)
}
#endif

typedef uint64_t (*bare_pass_fn)(const uint8_t *data, size_t len, uint64_t *acc_out);

/* ------------------------------------------------------------------------ */
/* Variants: each runs one pass (all N frames) over stream s (0 or 1).       */
/* ------------------------------------------------------------------------ */

struct ctx {
    const struct inputs *in;
    size_t chunk;
    sbprov_frame_decoder *dec; /* the timed decoder, long-lived */
    uint64_t fed_frames;       /* frames fed to it */
    uint64_t fed_passes;
    bare_pass_fn bare;
    const char *crc_impl;
};

typedef uint64_t (*variant_fn)(struct ctx *c, int s);

struct cb_state {
    uint64_t acc;
    uint64_t frames;
};

/* What a gateway reads from each frame: node, epoch, seq, sequence status, readings. */
static int on_frame(const sbprov_frame *f, void *payload)
{
    struct cb_state *st = payload;
    uint64_t a = st->acc ^ f->node_id;
    a += (uint64_t)f->seq + ((uint64_t)f->epoch << 16) + ((uint64_t)f->seq_status << 32);
    for (size_t r = 0; r < f->reading_count; r++) {
        const sbprov_frame_reading *rd = &f->readings[r];
        a = a * 31 + (uint64_t)rd->value + ((uint64_t)rd->kind << 40) + ((uint64_t)rd->valid << 48);
    }
    st->acc = a;
    st->frames++;
    return 0;
}

static uint64_t frame_sbprov(struct ctx *c, int s)
{
    const uint8_t *data = c->in->stream[s];
    size_t len = c->in->stream_len;
    struct cb_state st = { 0, 0 };

    for (size_t off = 0; off < len; off += c->chunk) {
        size_t k = len - off < c->chunk ? len - off : c->chunk, used = 0;
        sbprov_result rc = sbprov_frame_decoder_feed(&used, c->dec, data + off, k, on_frame, &st);
        if (rc != SBPROV_OK || used != k)
            die_sbprov("sbprov_frame_decoder_feed", rc);
    }
    if (st.frames != c->in->n)
        die("frame_sbprov: the decoder did not deliver every frame of the pass");
    c->fed_frames += c->in->n;
    c->fed_passes++;
    return st.acc;
}

static uint64_t frame_bare_cobs_crc(struct ctx *c, int s)
{
    uint64_t acc = 0;
    if (c->bare(c->in->stream[s], c->in->stream_len, &acc) != c->in->n)
        die("frame_bare_cobs_crc: not every frame of the pass has a correct CRC");
    return acc;
}

static uint64_t frame_cjson_senml(struct ctx *c, int s)
{
    const struct inputs *in = c->in;
    uint64_t acc = 0;

    (void)s; /* SenML has no epoch: both streams are the same packs */
    for (size_t i = 0; i < in->n; i++) {
        cJSON *root = cJSON_ParseWithLength(in->senml + in->senml_off[i], in->senml_len[i]);
        const cJSON *rec;
        if (!cJSON_IsArray(root))
            die("frame_cjson_senml: cJSON_Parse failed");
        cJSON_ArrayForEach(rec, root) {
            const cJSON *bn = cJSON_GetObjectItemCaseSensitive(rec, "bn");
            const cJSON *bver = cJSON_GetObjectItemCaseSensitive(rec, "bver");
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(rec, "n");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "u");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "v");
            if (!cJSON_IsString(nm) || !cJSON_IsString(u) || !cJSON_IsNumber(v))
                die("frame_cjson_senml: a SenML record without n, u or v");
            if (cJSON_IsString(bn))
                acc ^= (uint64_t)(unsigned char)bn->valuestring[12] << 56;
            if (cJSON_IsNumber(bver))
                acc += (uint64_t)bver->valueint;
            double x = v->valuedouble * 100.0;
            acc = acc * 31 + (uint64_t)(int64_t)(x + (x < 0 ? -0.5 : 0.5)) + (unsigned char)nm->valuestring[0] +
                  ((uint64_t)(unsigned char)u->valuestring[0] << 8);
        }
        cJSON_Delete(root);
    }
    return acc;
}

/* ------------------------------------------------------------------------ */
/* Checks before timing                                                      */
/* ------------------------------------------------------------------------ */

struct check_state {
    const struct inputs *in;
    int s;         /* stream */
    size_t next;   /* index of the frame expected next */
    int render;    /* render the SenML packs (stream 0) */
};

static int check_frame(const sbprov_frame *f, void *payload)
{
    struct check_state *cs = payload;
    const struct inputs *in = cs->in;
    size_t i = cs->next++;
    char msg[160];

    if (i >= in->n)
        die("check: the decoder delivered more frames than fed");
    const struct frame_vals *v = &in->vals[i];
    /* Stream 0 first: each node's first frame is new to the decoder; stream 1: a reboot. */
    sbprov_frame_seq_status want_status = i < in->nodes ? (cs->s == 0 ? SBPROV_FRAME_SEQ_FIRST : SBPROV_FRAME_SEQ_REBOOT)
                                                        : SBPROV_FRAME_SEQ_NEXT;
    if (f->node_id != node_id_of(v->node) || memcmp(f->node, v->node, sizeof v->node) != 0 ||
        f->epoch != (uint16_t)(v->epoch + cs->s) || f->seq != v->seq || f->type != SBPROV_FRAME_TYPE_READINGS ||
        f->has_time || f->reading_count != 3 || f->unknown_kinds != 0 || f->out_of_range != 0 ||
        f->seq_status != want_status || f->missed != 0 || f->record_len != RECORD_LEN ||
        memcmp(f->record, in->records[cs->s] + i * RECORD_LEN, RECORD_LEN) != 0 ||
        f->readings[0].kind != SBPROV_FRAME_KIND_CO2_PPM || f->readings[0].value != v->co2 ||
        f->readings[1].kind != SBPROV_FRAME_KIND_TEMPERATURE_C || f->readings[1].value != v->temperature ||
        f->readings[2].kind != SBPROV_FRAME_KIND_MOTION || f->readings[2].value != v->motion ||
        !f->readings[0].valid || !f->readings[1].valid || !f->readings[2].valid) {
        snprintf(msg, sizeof msg, "check: frame %zu of stream %d decoded differently from what was encoded", i,
                 cs->s);
        die(msg);
    }
    if (cs->render) {
        size_t len = 0;
        sbprov_result rc = sbprov_frame_to_senml(in->senml + in->senml_off[i], SENML_MAX, &len, f, 0);
        if (rc != SBPROV_OK)
            die_sbprov("sbprov_frame_to_senml", rc);
        ((struct inputs *)in)->senml_len[i] = len;
    }
    return 0;
}

static void check_counters(const sbprov_frame_decoder *dec, uint64_t frames, uint64_t reboots, const char *what)
{
    sbprov_frame_counters cnt;
    memset(&cnt, 0, sizeof cnt);
    cnt.struct_size = sizeof cnt;
    sbprov_result rc = sbprov_frame_decoder_counters(&cnt, dec);
    if (rc != SBPROV_OK)
        die_sbprov("sbprov_frame_decoder_counters", rc);
    if (cnt.frames != frames || cnt.crc != 0 || cnt.too_long != 0 || cnt.truncated != 0 || cnt.bad_version != 0 ||
        cnt.bad_length != 0 || cnt.unknown_type != 0 || cnt.duplicate != 0 || cnt.gaps != 0 ||
        cnt.reboots != reboots || cnt.unknown_kinds != 0 || cnt.out_of_range != 0) {
        fprintf(stderr,
                "sbprov-bench-frame: %s: decoder counters differ from what was fed: frames %" PRIu64
                " (fed %" PRIu64 "), crc %" PRIu64 ", too_long %" PRIu64 ", truncated %" PRIu64
                ", bad_version %" PRIu64 ", bad_length %" PRIu64 ", unknown_type %" PRIu64 ", duplicate %" PRIu64
                ", gaps %" PRIu64 ", reboots %" PRIu64 " (expected %" PRIu64 ")\n",
                what, cnt.frames, frames, cnt.crc, cnt.too_long, cnt.truncated, cnt.bad_version, cnt.bad_length,
                cnt.unknown_type, cnt.duplicate, cnt.gaps, cnt.reboots, reboots);
        exit(1);
    }
}

/* Decode both streams with a fresh decoder in the benchmark's chunks and check
 * every delivered frame; render the SenML packs from stream 0's frames. */
static void check_decoder(struct inputs *in, size_t chunk)
{
    sbprov_frame_decoder *dec;
    sbprov_result rc = sbprov_frame_decoder_new(&dec, NULL);
    if (rc != SBPROV_OK)
        die_sbprov("sbprov_frame_decoder_new", rc);
    for (int s = 0; s < 2; s++) {
        struct check_state cs = { in, s, 0, s == 0 };
        for (size_t off = 0; off < in->stream_len; off += chunk) {
            size_t k = in->stream_len - off < chunk ? in->stream_len - off : chunk, used = 0;
            rc = sbprov_frame_decoder_feed(&used, dec, in->stream[s] + off, k, check_frame, &cs);
            if (rc != SBPROV_OK || used != k)
                die_sbprov("sbprov_frame_decoder_feed", rc);
        }
        if (cs.next != in->n)
            die("check: the decoder did not deliver every frame");
    }
    check_counters(dec, 2 * (uint64_t)in->n, in->n < in->nodes ? in->n : in->nodes, "check");
    sbprov_frame_decoder_free(dec);
}

/* The bare pass must see every record with its CRC and decode it to the
 * generated bytes. */
static void check_bare(const struct inputs *in, bare_pass_fn bare)
{
    static const uint8_t check[] = "123456789";
    uint8_t rec[SBPROV_FRAME_MAX + 1];
    if (crc32c_table(check, 9) != 0xE3069283u)
        die("check: the bare table CRC-32C has a wrong check value");
#if HAVE_SSE42_PATH
    if (__builtin_cpu_supports("sse4.2") && crc32c_hw(check, 9) != 0xE3069283u)
        die("check: the bare SSE4.2 CRC-32C has a wrong check value");
#endif
    for (int s = 0; s < 2; s++) {
        const uint8_t *p = in->stream[s], *end = p + in->stream_len;
        uint64_t acc;
        for (size_t i = 0; i < in->n; i++) {
            long n = bare_cobs_frame(&p, end, rec);
            if (n != RECORD_LEN || memcmp(rec, in->records[s] + i * RECORD_LEN, RECORD_LEN) != 0)
                die("check: the bare COBS decoder gives other record bytes than were encoded");
        }
        if (p != end)
            die("check: the bare COBS decoder did not end at the end of the stream");
        if (bare(in->stream[s], in->stream_len, &acc) != in->n)
            die("check: the bare pass does not find every frame with a correct CRC");
    }
}

static const char *senml_unit_of(const char *name, int32_t *want, const struct frame_vals *v)
{
    if (strcmp(name, "co2") == 0) {
        *want = v->co2 * 100;
        return "ppm";
    }
    if (strcmp(name, "temperature") == 0) {
        *want = v->temperature;
        return "Cel";
    }
    if (strcmp(name, "motion") == 0) {
        *want = v->motion * 100;
        return "count";
    }
    return NULL;
}

/* Every SenML pack must give, through cJSON, the node and the readings of its frame. */
static void check_senml(const struct inputs *in)
{
    char msg[200];
    for (size_t i = 0; i < in->n; i++) {
        const struct frame_vals *v = &in->vals[i];
        const char *text = in->senml + in->senml_off[i];
        char bn[64];
        snprintf(bn, sizeof bn, "urn:dev:mac:%016" PRIx64 ":", node_id_of(v->node));
        cJSON *root = cJSON_ParseWithLength(text, in->senml_len[i]);
        const cJSON *rec;
        int k = 0, ok = cJSON_IsArray(root) && cJSON_GetArraySize(root) == 3 && strlen(text) == in->senml_len[i];
        cJSON_ArrayForEach(rec, root) {
            const cJSON *jbn = cJSON_GetObjectItemCaseSensitive(rec, "bn");
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(rec, "n");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "u");
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(rec, "v");
            int32_t want = 0;
            const char *unit = cJSON_IsString(nm) ? senml_unit_of(nm->valuestring, &want, v) : NULL;
            if (k == 0)
                ok = ok && cJSON_IsString(jbn) && strcmp(jbn->valuestring, bn) == 0;
            ok = ok && unit != NULL && cJSON_IsString(u) && strcmp(u->valuestring, unit) == 0 &&
                 cJSON_IsNumber(val) && (int64_t)(val->valuedouble * 100.0 + 0.5) == want;
            k++;
        }
        cJSON_Delete(root);
        if (!ok) {
            snprintf(msg, sizeof msg, "check: SenML pack %zu does not carry the values of frame %zu: %.100s", i, i,
                     text);
            die(msg);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Timing (as in bench_azure.c)                                              */
/* ------------------------------------------------------------------------ */

struct variant {
    const char *name;
    variant_fn fn;
    unsigned passes;
    unsigned long next_pass; /* passes alternate between the two streams */
    double ops_per_s[MAX_REPS];
    struct alloc_counts allocs; /* during all its passes */
    uint64_t frames;            /* frames of all its passes */
};

static volatile uint64_t sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run `passes` passes; returns seconds. Allocation calls are added up outside
 * the timed interval. */
static double run_passes(struct ctx *c, struct variant *v, unsigned passes)
{
    struct alloc_counts a0 = allocs;
    uint64_t acc = 0;
    double t0 = now_s();
    for (unsigned p = 0; p < passes; p++)
        acc += v->fn(c, (int)(v->next_pass++ & 1));
    double t1 = now_s();
    struct alloc_counts a1 = allocs;
    sink += acc;
    v->allocs.malloc_calls += a1.malloc_calls - a0.malloc_calls;
    v->allocs.calloc_calls += a1.calloc_calls - a0.calloc_calls;
    v->allocs.realloc_calls += a1.realloc_calls - a0.realloc_calls;
    v->allocs.free_calls += a1.free_calls - a0.free_calls;
    v->frames += (uint64_t)passes * c->in->n;
    return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
    double tmp[MAX_REPS];
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void bench(struct ctx *c, struct variant *v, size_t nv, unsigned reps, double sample_s)
{
    /* Warm-up (caches, CPU frequency, the decoder's node table) and
     * calibration of the passes per sample. */
    for (size_t k = 0; k < nv; k++) {
        double t = run_passes(c, &v[k], 2);
        t = run_passes(c, &v[k], 2) / 2;
        unsigned passes = (unsigned)(sample_s / (t > 1e-9 ? t : 1e-9) + 0.5);
        v[k].passes = passes < 1 ? 1 : passes;
    }
    for (unsigned r = 0; r < reps; r++)
        for (size_t k = 0; k < nv; k++) {
            double t = run_passes(c, &v[k], v[k].passes);
            v[k].ops_per_s[r] = (double)c->in->n * v[k].passes / t;
        }
    for (size_t k = 0; k < nv; k++) {
        double mn = v[k].ops_per_s[0], mx = v[k].ops_per_s[0];
        for (unsigned r = 1; r < reps; r++) {
            mn = v[k].ops_per_s[r] < mn ? v[k].ops_per_s[r] : mn;
            mx = v[k].ops_per_s[r] > mx ? v[k].ops_per_s[r] : mx;
        }
        printf("RESULT %s median_ops_per_s=%.0f min=%.0f max=%.0f reps=%u passes=%u n=%zu samples=", v[k].name,
               median(v[k].ops_per_s, reps), mn, mx, reps, v[k].passes, c->in->n);
        for (unsigned r = 0; r < reps; r++)
            printf("%s%.0f", r ? "," : "", v[k].ops_per_s[r]);
        printf("\n");
        fflush(stdout);
    }
}

/* ------------------------------------------------------------------------ */

static unsigned long parse_ul(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s) {
        fprintf(stderr, "sbprov-bench-frame: bad value for %s: %s\n", opt, s);
        exit(2);
    }
    return v;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--n N] [--nodes K] [--seed S] [--reps R] [--sample-ms MS] [--chunk BYTES] [--only NAME] "
            "[--quick]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    size_t n = 8192, nodes = 128, chunk = 4095;
    uint64_t seed = 20240601;
    unsigned reps = 7;
    double sample_s = 0.04;
    const char *only = NULL;
    int quick = 0;
    struct inputs in;
    struct ctx c = { .in = &in };
    sbprov_result rc;

    for (int a = 1; a < argc; a++) {
        const char *opt = argv[a];
        if (strcmp(opt, "--quick") == 0) {
            quick = 1;
            n = 1024;
            nodes = 64;
            reps = 1;
            sample_s = 0.002;
            continue;
        }
        if (a + 1 >= argc)
            usage(argv[0]);
        const char *val = argv[++a];
        if (strcmp(opt, "--n") == 0)
            n = parse_ul(val, opt);
        else if (strcmp(opt, "--nodes") == 0)
            nodes = parse_ul(val, opt);
        else if (strcmp(opt, "--seed") == 0)
            seed = parse_ul(val, opt);
        else if (strcmp(opt, "--reps") == 0)
            reps = (unsigned)parse_ul(val, opt);
        else if (strcmp(opt, "--sample-ms") == 0)
            sample_s = (double)parse_ul(val, opt) / 1000.0;
        else if (strcmp(opt, "--chunk") == 0)
            chunk = parse_ul(val, opt);
        else if (strcmp(opt, "--only") == 0)
            only = val;
        else {
            fprintf(stderr, "sbprov-bench-frame: unknown option %s\n", opt);
            usage(argv[0]);
        }
    }
    /* Every node must stay in the decoder's default node table (256). */
    if (n == 0 || reps == 0 || reps > MAX_REPS || chunk == 0 || nodes == 0 ||
        nodes > SBPROV_FRAME_NODE_TABLE_DEFAULT)
        die("--n must be > 0, --nodes 1..256, --chunk > 0 and --reps 1..64");

    crc_table_init();
    c.chunk = chunk;
    c.bare = bare_pass_table;
    c.crc_impl = "table";
#if HAVE_SSE42_PATH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        c.bare = bare_pass_hw;
        c.crc_impl = "sse4.2";
    }
#endif

    make_inputs(&in, n, nodes, seed);
    in.senml = xcalloc(n, SENML_MAX);
    in.senml_off = xcalloc(n, sizeof *in.senml_off);
    in.senml_len = xcalloc(n, sizeof *in.senml_len);
    for (size_t i = 0; i < n; i++)
        in.senml_off[i] = i * SENML_MAX;

    printf("INFO sbprov=%s\n", sbprov_version());
    printf("INFO cjson=%s\n", cJSON_Version());
    printf("INFO frame_n=%zu frame_nodes=%zu frame_seed=%llu frame_reps=%u frame_sample_ms=%.0f frame_chunk=%zu "
           "frame_record_bytes=%d frame_wire_bytes=%d frame_bare_crc=%s frame_stream_bytes=%zu\n",
           n, nodes, (unsigned long long)seed, reps, sample_s * 1000, chunk, RECORD_LEN, WIRE_LEN, c.crc_impl,
           in.stream_len);

    /* Checks before timing; the SenML packs are rendered from the decoded frames. */
    check_decoder(&in, chunk);
    /* Pack them back to back (as received, one after the other), each NUL-terminated. */
    {
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            memmove(in.senml + off, in.senml + in.senml_off[i], in.senml_len[i] + 1);
            in.senml_off[i] = off;
            off += in.senml_len[i] + 1;
        }
        in.senml_bytes = off;
    }
    check_bare(&in, c.bare);
    struct alloc_counts a0 = allocs;
    check_senml(&in);
    unsigned long cjson_calls = alloc_total(&allocs) - alloc_total(&a0);
    printf("INFO frame_verified=decoder,bare,senml frame_verified_frames=%zu frame_senml_bytes_per_pack=%.1f "
           "frame_senml_example=%s\n",
           n,
           (double)(in.senml_bytes - n) / (double)n, in.senml);
    /* cJSON's allocation calls are counted in that check (parse + delete of
     * every pack). For timing, cJSON calls glibc's allocator directly, so that
     * the counting wrappers do not slow the baseline down. */
    printf("INFO frame_cjson_alloc_calls_per_pack=%.4g\n", (double)cjson_calls / (double)n);
#if COUNT_ALLOCS
    cJSON_Hooks hooks = { __libc_malloc, __libc_free };
    cJSON_InitHooks(&hooks);
#endif

    /* The allocation counter must see libsbprov's own calls. */
    a0 = allocs;
    if ((rc = sbprov_frame_decoder_new(&c.dec, NULL)) != SBPROV_OK)
        die_sbprov("sbprov_frame_decoder_new", rc);
    unsigned long new_calls = alloc_total(&allocs) - alloc_total(&a0);
    printf("INFO frame_alloc_counting=%s frame_decoder_new_alloc_calls=%lu\n", COUNT_ALLOCS ? "on" : "off",
           new_calls);
    if (COUNT_ALLOCS && new_calls == 0)
        die("the allocation counter does not see libsbprov's calls (sbprov_frame_decoder_new counted none)");

    struct variant v[] = {
        { "frame_bare_cobs_crc", frame_bare_cobs_crc, 0, 0, { 0 }, { 0, 0, 0, 0 }, 0 },
        { "frame_sbprov", frame_sbprov, 0, 0, { 0 }, { 0, 0, 0, 0 }, 0 },
        { "frame_cjson_senml", frame_cjson_senml, 0, 0, { 0 }, { 0, 0, 0, 0 }, 0 },
    };
    size_t nv = sizeof v / sizeof *v;
    if (only != NULL) {
        /* Profiling aid: time one variant alone. */
        size_t k = 0;
        while (k < nv && strcmp(v[k].name, only) != 0)
            k++;
        if (k == nv)
            die("--only: no such variant");
        bench(&c, &v[k], 1, reps, sample_s);
    } else {
        bench(&c, v, nv, reps, sample_s);
    }

    /* Everything fed to the timed decoder must have been accepted. Stream 0
     * first: every node's first frame of every pass after the first is a reboot. */
    if (c.fed_passes > 0)
        check_counters(c.dec, c.fed_frames, (c.fed_passes - 1) * (n < nodes ? n : nodes), "after timing");
    printf("INFO frame_decoder_checked_frames=%" PRIu64 " frame_decoder_checked_passes=%" PRIu64 "\n", c.fed_frames,
           c.fed_passes);
    for (size_t k = 0; k < nv; k++) {
        if (v[k].frames == 0 || v[k].fn == frame_cjson_senml)
            continue;
        printf("ALLOCS %s calls=%lu malloc=%lu calloc=%lu realloc=%lu free=%lu frames=%" PRIu64 " counting=%s\n",
               v[k].name, alloc_total(&v[k].allocs), v[k].allocs.malloc_calls, v[k].allocs.calloc_calls,
               v[k].allocs.realloc_calls, v[k].allocs.free_calls, v[k].frames, COUNT_ALLOCS ? "on" : "off");
    }
    fflush(stdout);

    int status = 0;
    const struct variant *lib = &v[1]; /* frame_sbprov */
    if (quick && COUNT_ALLOCS && lib->frames > 0 && alloc_total(&lib->allocs) != 0) {
        /* Smoke test: correctness was checked above; the decoder must not allocate while feeding. */
        fprintf(stderr, "sbprov-bench-frame: the decoder made %lu allocation calls over %" PRIu64 " frames\n",
                alloc_total(&lib->allocs), lib->frames);
        status = 1;
    }

    sbprov_frame_decoder_free(c.dec);
    for (int s = 0; s < 2; s++) {
        free(in.stream[s]);
        free(in.records[s]);
    }
    free(in.vals);
    free(in.senml);
    free(in.senml_off);
    free(in.senml_len);
    return status;
}
