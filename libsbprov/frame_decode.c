/* Gateway decoder of sensor frames (docs/frame-format.md): a COBS stream
 * state machine over a fixed record buffer, the record checks in the order
 * the specification gives, and per-node sequence tracking in a fixed-size
 * table (open-addressing hash + least-recently-seen list). Nothing is
 * allocated after sbprov_frame_decoder_new(). */
#include "error.h"
#include "frame_internal.h"
#include "options.h"

#include "sbprov/frame.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* The reading table (sbprov_frame_kind_info()), copied for fast lookup. */
typedef struct kind_table {
    uint8_t len[SBPROV_FRAME_KIND_LAST + 1]; /* 0: unknown (no known kind has length 0) */
    int32_t min[SBPROV_FRAME_KIND_LAST + 1], max[SBPROV_FRAME_KIND_LAST + 1];
} kind_table;

static void kind_table_init(kind_table *t)
{
    t->len[0] = 0;
    for (unsigned k = 1; k <= SBPROV_FRAME_KIND_LAST; k++)
        if (!sbprov_frame_kind_info((uint8_t)k, &t->len[k], &t->min[k], &t->max[k]))
            t->len[k] = 0;
}

typedef struct node_entry {
    uint64_t id;
    uint16_t epoch, seq;
    uint32_t prev, next; /* recency list: prev is more recent */
} node_entry;

struct sbprov_frame_decoder {
    /* stream state */
    uint8_t buf[SBPROV_FRAME_MAX];
    size_t len;           /* decoded bytes of the record so far */
    unsigned left;        /* bytes left in the current COBS block; 0: a code byte is next */
    uint8_t pending_zero; /* the block ended below 0xFF: a 0x00 precedes the next block */
    uint8_t started;      /* a code byte arrived since the last delimiter */
    uint8_t discarding;   /* after too_long: skip to the next 0x00 */

    sbprov_frame_counters counters;
    sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
    kind_table kinds;

    /* node table */
    node_entry *nodes;
    uint32_t *slots; /* hash slots: entry index + 1, 0 empty */
    uint32_t cap, count, mask;
    uint32_t head, tail; /* most and least recently seen */
    uint64_t seed;
};

/* --- options and lifetime ---------------------------------------------------------- */

#define OPTIONS_V1_SIZE (offsetof(sbprov_frame_decoder_options, node_table_size) + sizeof(size_t))

sbprov_result sbprov_frame_decoder_options_init(sbprov_frame_decoder_options *opts, size_t struct_size)
{
    sbprov_result rc = sbprov__options_init(opts, struct_size, OPTIONS_V1_SIZE, "frame decoder options");
    if (rc != SBPROV_OK)
        return rc;
    opts->node_table_size = SBPROV_FRAME_NODE_TABLE_DEFAULT;
    return SBPROV_OK;
}

sbprov_result sbprov_frame_decoder_new(sbprov_frame_decoder **out, const sbprov_frame_decoder_options *opts)
{
    sbprov_frame_decoder_options o;
    sbprov_frame_decoder *dec;
    size_t slots = 1;

    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "frame decoder: out is NULL");
    *out = NULL;
    if (opts == NULL) {
        sbprov_result rc = sbprov_frame_decoder_options_init(&o, sizeof o);
        if (rc != SBPROV_OK)
            return rc;
    } else {
        sbprov_result rc = sbprov__options_load(&o, opts, OPTIONS_V1_SIZE, sizeof o, "frame decoder options");
        if (rc != SBPROV_OK)
            return rc;
    }
    if (o.node_table_size < 1 || o.node_table_size > SBPROV_FRAME_NODE_TABLE_MAX)
        return sbprov__fail(SBPROV_EINVAL, "frame decoder options: node_table_size %zu is not within 1..%d",
                            o.node_table_size, SBPROV_FRAME_NODE_TABLE_MAX);
    while (slots < 2 * o.node_table_size)
        slots *= 2;
    dec = calloc(1, sizeof *dec);
    if (dec != NULL) {
        dec->nodes = calloc(o.node_table_size, sizeof *dec->nodes);
        dec->slots = calloc(slots, sizeof *dec->slots);
    }
    if (dec == NULL || dec->nodes == NULL || dec->slots == NULL) {
        sbprov_frame_decoder_free(dec);
        return sbprov__fail(SBPROV_ENOMEM, "frame decoder: out of memory for %zu nodes", o.node_table_size);
    }
    kind_table_init(&dec->kinds);
    dec->cap = (uint32_t)o.node_table_size;
    dec->mask = (uint32_t)(slots - 1);
    dec->head = dec->tail = NONE;
    /* A secret hash seed, so that senders cannot choose node IDs that collide. */
    if (RAND_bytes((unsigned char *)&dec->seed, sizeof dec->seed) != 1)
        dec->seed = (uint64_t)(uintptr_t)dec ^ 0x9E3779B97F4A7C15u;
    *out = dec;
    return SBPROV_OK;
}

void sbprov_frame_decoder_free(sbprov_frame_decoder *dec)
{
    if (dec == NULL)
        return;
    free(dec->nodes);
    free(dec->slots);
    free(dec);
}

sbprov_result sbprov_frame_decoder_counters(sbprov_frame_counters *out, const sbprov_frame_decoder *dec)
{
    if (dec == NULL)
        return sbprov__fail(SBPROV_EINVAL, "frame decoder counters: dec is NULL");
    return sbprov__options_store(out, &dec->counters, offsetof(sbprov_frame_counters, out_of_range) + sizeof(uint64_t),
                                 sizeof dec->counters, "frame decoder counters");
}

/* --- node table -------------------------------------------------------------------- */

static uint32_t hash_slot(const sbprov_frame_decoder *dec, uint64_t id)
{
    uint64_t z = id ^ dec->seed; /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (uint32_t)z & dec->mask;
}

static uint32_t find_node(const sbprov_frame_decoder *dec, uint64_t id)
{
    for (uint32_t s = hash_slot(dec, id);; s = (s + 1) & dec->mask) {
        uint32_t e = dec->slots[s];
        if (e == 0)
            return NONE;
        if (dec->nodes[e - 1].id == id)
            return e - 1;
    }
}

/* Remove entry `e` from the hash slots (linear probing, backward shift). */
static void unhash_node(sbprov_frame_decoder *dec, uint32_t e)
{
    uint32_t s = hash_slot(dec, dec->nodes[e].id);
    while (dec->slots[s] != e + 1)
        s = (s + 1) & dec->mask;
    for (uint32_t j = (s + 1) & dec->mask;; j = (j + 1) & dec->mask) {
        uint32_t f = dec->slots[j];
        if (f == 0)
            break;
        uint32_t home = hash_slot(dec, dec->nodes[f - 1].id);
        /* f may move into the hole at s unless its home lies cyclically in (s, j]. */
        if (((j - home) & dec->mask) >= ((j - s) & dec->mask)) {
            dec->slots[s] = f;
            s = j;
        }
    }
    dec->slots[s] = 0;
}

static void hash_node(sbprov_frame_decoder *dec, uint32_t e)
{
    uint32_t s = hash_slot(dec, dec->nodes[e].id);
    while (dec->slots[s] != 0)
        s = (s + 1) & dec->mask;
    dec->slots[s] = e + 1;
}

static void unlink_node(sbprov_frame_decoder *dec, uint32_t e)
{
    node_entry *n = &dec->nodes[e];
    if (n->prev != NONE)
        dec->nodes[n->prev].next = n->next;
    else
        dec->head = n->next;
    if (n->next != NONE)
        dec->nodes[n->next].prev = n->prev;
    else
        dec->tail = n->prev;
}

static void push_front(sbprov_frame_decoder *dec, uint32_t e)
{
    node_entry *n = &dec->nodes[e];
    n->prev = NONE;
    n->next = dec->head;
    if (dec->head != NONE)
        dec->nodes[dec->head].prev = e;
    dec->head = e;
    if (dec->tail == NONE)
        dec->tail = e;
}

/* The sequence check of docs/frame-format.md. Returns 0 for a duplicate or
 * old record, else 1 with the status and the records missed. */
static int track(sbprov_frame_decoder *dec, uint64_t id, uint16_t epoch, uint16_t seq,
                 sbprov_frame_seq_status *status, uint32_t *missed)
{
    uint32_t e = find_node(dec, id);
    *missed = 0;
    if (e == NONE) {
        if (dec->count < dec->cap) {
            e = dec->count++;
        } else {
            e = dec->tail; /* least recently seen */
            unlink_node(dec, e);
            unhash_node(dec, e);
        }
        dec->nodes[e].id = id;
        hash_node(dec, e);
        push_front(dec, e);
        *status = SBPROV_FRAME_SEQ_FIRST;
    } else {
        if (dec->head != e) { /* seen now, duplicates included */
            unlink_node(dec, e);
            push_front(dec, e);
        }
        if (dec->nodes[e].epoch != epoch) {
            *status = SBPROV_FRAME_SEQ_REBOOT;
        } else {
            uint16_t n = (uint16_t)(seq - dec->nodes[e].seq);
            if (n == 0 || n >= 32768)
                return 0;
            *status = n == 1 ? SBPROV_FRAME_SEQ_NEXT : SBPROV_FRAME_SEQ_GAP;
            *missed = (uint32_t)n - 1;
        }
    }
    dec->nodes[e].epoch = epoch;
    dec->nodes[e].seq = seq;
    return 1;
}

/* --- one record -------------------------------------------------------------------- */

/* Little-endian fields of 1, 2 or 4 bytes (the only lengths known kinds have),
 * written out so the compiler makes single loads of them. */
static uint32_t get_le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t get_le(const uint8_t *p, unsigned n)
{
    return n == 1 ? p[0] : n == 2 ? get_le16(p) : get_le32(p);
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
           (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* Check and decode a record into `f` (readings into `readings`), in the
 * specification's order. Sequence tracking is not done here. */
static sbprov_frame_outcome parse(const kind_table *kinds, sbprov_frame_reading *readings, sbprov_frame *f,
                                  const uint8_t *r, size_t len)
{
    size_t pos = SBPROV_FRAME_HEADER_SIZE, end;
    uint16_t seen = 0;

    if (len > SBPROV_FRAME_MAX)
        return SBPROV_FRAME_DROP_TOO_LONG;
    if (len < SBPROV_FRAME_MIN)
        return SBPROV_FRAME_DROP_TRUNCATED;
    end = len - SBPROV_FRAME_CRC_SIZE;
    if (sbprov__crc32c(r, end) != get_le32(r + end))
        return SBPROV_FRAME_DROP_CRC;
    if (r[0] != SBPROV_FRAME_VERSION)
        return SBPROV_FRAME_DROP_BAD_VERSION;
    if (r[1] != SBPROV_FRAME_TYPE_READINGS && r[1] != SBPROV_FRAME_TYPE_HELLO)
        return SBPROV_FRAME_DROP_UNKNOWN_TYPE;

    /* Every field set one by one: cheaper than clearing the whole view first,
     * which showed in profiles at tens of millions of records a second. */
    f->struct_size = sizeof *f;
    f->version = r[0];
    f->type = r[1];
    f->flags = r[2];
    memcpy(f->node, r + 3, SBPROV_FRAME_NODE_SIZE);
    f->node_id = get_be64(r + 3);
    f->epoch = (uint16_t)get_le16(r + 11);
    f->seq = (uint16_t)get_le16(r + 13);
    f->has_time = 0;
    f->time_ms = 0;
    f->readings = readings;
    f->reading_count = 0;
    f->unknown_kinds = 0;
    f->out_of_range = 0;
    f->seq_status = SBPROV_FRAME_SEQ_FIRST;
    f->missed = 0;
    f->record = r;
    f->record_len = len;
    if (r[2] & SBPROV_FRAME_FLAG_TIME) {
        if (end - pos < SBPROV_FRAME_TIME_SIZE)
            return SBPROV_FRAME_DROP_TRUNCATED;
        f->has_time = 1;
        f->time_ms = get_le32(r + pos);
        pos += SBPROV_FRAME_TIME_SIZE;
    }
    while (pos < end) {
        uint8_t kind, vlen;
        int32_t min, max;
        if (end - pos < 2)
            return SBPROV_FRAME_DROP_BAD_LENGTH;
        kind = r[pos];
        vlen = r[pos + 1];
        pos += 2;
        if (vlen > end - pos)
            return SBPROV_FRAME_DROP_BAD_LENGTH;
        if (kind > SBPROV_FRAME_KIND_LAST || kinds->len[kind] == 0) {
            f->unknown_kinds++;
            pos += vlen;
            continue;
        }
        min = kinds->min[kind];
        max = kinds->max[kind];
        if (vlen != kinds->len[kind] || (seen & (1u << (kind - 1))) != 0)
            return SBPROV_FRAME_DROP_BAD_LENGTH;
        seen = (uint16_t)(seen | (1u << (kind - 1)));
        uint32_t u = get_le(r + pos, vlen);
        int64_t v = u;
        if (min < 0) /* signed: sign-extend from vlen bytes */
            v = vlen == 1 ? (int8_t)u : vlen == 2 ? (int16_t)u : (int32_t)u;
        sbprov_frame_reading *rd = &readings[f->reading_count++];
        rd->kind = kind;
        rd->value = v;
        rd->valid = v >= min && v <= max;
        if (!rd->valid)
            f->out_of_range++;
        pos += vlen;
    }
    return SBPROV_FRAME_ACCEPTED;
}

const char *sbprov_frame_outcome_name(sbprov_frame_outcome outcome)
{
    switch (outcome) {
    case SBPROV_FRAME_ACCEPTED: return "accepted";
    case SBPROV_FRAME_DROP_CRC: return "crc";
    case SBPROV_FRAME_DROP_TOO_LONG: return "too_long";
    case SBPROV_FRAME_DROP_TRUNCATED: return "truncated";
    case SBPROV_FRAME_DROP_BAD_VERSION: return "bad_version";
    case SBPROV_FRAME_DROP_BAD_LENGTH: return "bad_length";
    case SBPROV_FRAME_DROP_UNKNOWN_TYPE: return "unknown_type";
    case SBPROV_FRAME_DROP_DUPLICATE: return "duplicate";
    }
    return "invalid";
}

const char *sbprov_frame_seq_status_name(sbprov_frame_seq_status status)
{
    switch (status) {
    case SBPROV_FRAME_SEQ_FIRST: return "first";
    case SBPROV_FRAME_SEQ_NEXT: return "next";
    case SBPROV_FRAME_SEQ_GAP: return "gap";
    case SBPROV_FRAME_SEQ_REBOOT: return "reboot";
    }
    return "invalid";
}

static void count_drop(sbprov_frame_counters *c, sbprov_frame_outcome o)
{
    switch (o) {
    case SBPROV_FRAME_DROP_CRC: c->crc++; break;
    case SBPROV_FRAME_DROP_TOO_LONG: c->too_long++; break;
    case SBPROV_FRAME_DROP_TRUNCATED: c->truncated++; break;
    case SBPROV_FRAME_DROP_BAD_VERSION: c->bad_version++; break;
    case SBPROV_FRAME_DROP_BAD_LENGTH: c->bad_length++; break;
    case SBPROV_FRAME_DROP_UNKNOWN_TYPE: c->unknown_type++; break;
    case SBPROV_FRAME_DROP_DUPLICATE: c->duplicate++; break;
    case SBPROV_FRAME_ACCEPTED: break;
    }
}

/* Process a complete record; *stop is set if the callback asked to stop. */
static sbprov_frame_outcome process(sbprov_frame_decoder *dec, const uint8_t *r, size_t len, sbprov_frame_cb cb,
                                    void *payload, int *stop)
{
    sbprov_frame f;
    sbprov_frame_outcome o = parse(&dec->kinds, dec->readings, &f, r, len);

    if (o == SBPROV_FRAME_ACCEPTED && !track(dec, f.node_id, f.epoch, f.seq, &f.seq_status, &f.missed))
        o = SBPROV_FRAME_DROP_DUPLICATE;
    if (o != SBPROV_FRAME_ACCEPTED) {
        count_drop(&dec->counters, o);
        return o;
    }
    dec->counters.frames++;
    dec->counters.gaps += f.missed;
    dec->counters.reboots += f.seq_status == SBPROV_FRAME_SEQ_REBOOT;
    dec->counters.unknown_kinds += f.unknown_kinds;
    dec->counters.out_of_range += f.out_of_range;
    if (cb != NULL && cb(&f, payload) != 0)
        *stop = 1;
    return o;
}

sbprov_result sbprov_frame_decode_record(sbprov_frame_outcome *outcome, sbprov_frame_decoder *dec,
                                         const uint8_t *record, size_t len, sbprov_frame_cb cb, void *payload)
{
    int stop = 0;
    sbprov_frame_outcome o;

    if (dec == NULL || (record == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "frame decode record: %s is NULL", dec == NULL ? "dec" : "record");
    o = process(dec, record, len, cb, payload, &stop);
    if (outcome != NULL)
        *outcome = o;
    return stop ? sbprov__fail(SBPROV_ECANCELED, "frame decode record: the callback stopped") : SBPROV_OK;
}

sbprov_result sbprov_frame_parse(sbprov_frame *out, sbprov_frame_reading *readings, sbprov_frame_outcome *outcome,
                                 const uint8_t *record, size_t len)
{
    kind_table kinds;
    sbprov_frame_outcome o;

    if (out == NULL || readings == NULL || (record == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "frame parse: %s is NULL",
                            out == NULL ? "out" : readings == NULL ? "readings" : "record");
    kind_table_init(&kinds);
    o = parse(&kinds, readings, out, record, len);
    if (outcome != NULL)
        *outcome = o;
    if (o != SBPROV_FRAME_ACCEPTED)
        return sbprov__fail(SBPROV_EPARSE, "frame parse: record of %zu bytes dropped: %s", len,
                            sbprov_frame_outcome_name(o));
    return SBPROV_OK;
}

/* --- the stream ---------------------------------------------------------------------- */

/* Decode one whole COBS record that starts at `p` and ends with its 0x00
 * within `avail` bytes into `out` (SBPROV_FRAME_MAX bytes). Returns the bytes
 * used, delimiter included, with *out_len set; or 0 if the record is not
 * complete here or not well-formed (the caller then takes the general path,
 * which counts what is wrong). */
static size_t fast_record(uint8_t *out, size_t *out_len, const uint8_t *p, size_t avail)
{
    /* A record of SBPROV_FRAME_MAX bytes encodes in at most 257 bytes (an
     * optional final 01 included), plus the delimiter. */
    const uint8_t *z = memchr(p, 0, avail < 258 ? avail : 258), *q = p;
    size_t n = 0;

    if (z == NULL || z == p)
        return 0;
    while (q < z) {
        unsigned code = *q++;
        size_t block = code - 1u;
        if (block > (size_t)(z - q) || block > SBPROV_FRAME_MAX - n)
            return 0; /* cut by the delimiter, or too long */
        memcpy(out + n, q, block);
        n += block;
        q += block;
        if (code != 0xFF && q < z) { /* the 0x00 this block stands for */
            if (n == SBPROV_FRAME_MAX)
                return 0;
            out[n++] = 0;
        }
    }
    *out_len = n;
    return (size_t)(z - p) + 1;
}

sbprov_result sbprov_frame_decoder_feed(size_t *consumed, sbprov_frame_decoder *dec, const uint8_t *data, size_t len,
                                        sbprov_frame_cb cb, void *payload)
{
    const uint8_t *p = data, *end = data + len;
    int stop = 0;

    if (consumed != NULL)
        *consumed = 0;
    if (dec == NULL || (data == NULL && len > 0))
        return sbprov__fail(SBPROV_EINVAL, "frame decoder feed: %s is NULL", dec == NULL ? "dec" : "data");
    /* The stream state lives in locals while bytes flow (stores into buf
     * could alias the struct's fields otherwise). */
    uint8_t *buf = dec->buf;
    size_t n = dec->len;
    unsigned left = dec->left;
    int pending_zero = dec->pending_zero, started = dec->started, discarding = dec->discarding;
    while (p < end) {
        /* Fast path: at a record boundary with the whole record and its
         * delimiter in this chunk, decode it in one pass. Anything unusual
         * (a block cut short, too long, empty) goes the general way below,
         * so both paths count exactly the same. */
        if (n == 0 && !started && !discarding) {
            size_t rec_len = 0, in = fast_record(buf, &rec_len, p, (size_t)(end - p));
            if (in > 0) {
                process(dec, buf, rec_len, cb, payload, &stop);
                p += in;
                if (stop)
                    break;
                continue;
            }
        }
        if (discarding) {
            const uint8_t *z = memchr(p, 0, (size_t)(end - p));
            if (z == NULL) {
                p = end;
                break;
            }
            p = z + 1;
            discarding = 0;
            continue;
        }
        if (left > 0) { /* data bytes of a block: copy them up to a 0x00, which would cut it */
            size_t lim = (size_t)(end - p), k = 0;
            if (lim > left)
                lim = left;
            if (lim > SBPROV_FRAME_MAX - n)
                lim = SBPROV_FRAME_MAX - n;
            const uint8_t *z = memchr(p, 0, lim);
            k = z != NULL ? (size_t)(z - p) : lim;
            memcpy(buf + n, p, k);
            n += k;
            left -= (unsigned)k;
            p += k;
            if (k < lim || (n == SBPROV_FRAME_MAX && left > 0 && p < end)) {
                /* Stopped early: at a 0x00 (the delimiter inside a block), or
                 * at a data byte that would be the record's 255th. */
                if (*p++ == 0) {
                    dec->counters.truncated++;
                } else {
                    dec->counters.too_long++;
                    discarding = 1;
                }
                n = 0;
                left = 0;
                pending_zero = started = 0;
            }
            continue;
        }
        uint8_t c = *p++;
        if (c == 0) { /* the delimiter at a block boundary */
            if (started)
                process(dec, buf, n, cb, payload, &stop);
            n = 0;
            pending_zero = started = 0;
            if (stop)
                break;
            continue;
        }
        /* A code byte: the 0x00 the previous block implied, then a new block. */
        if (pending_zero) {
            if (n == SBPROV_FRAME_MAX) {
                dec->counters.too_long++;
                n = 0;
                pending_zero = started = 0;
                discarding = 1;
                continue;
            }
            buf[n++] = 0;
        }
        started = 1;
        pending_zero = c != 0xFF;
        left = c - 1u;
    }
    dec->len = n;
    dec->left = left;
    dec->pending_zero = (uint8_t)pending_zero;
    dec->started = (uint8_t)started;
    dec->discarding = (uint8_t)discarding;
    if (consumed != NULL)
        *consumed = (size_t)(p - data);
    return stop ? sbprov__fail(SBPROV_ECANCELED, "frame decoder feed: the callback stopped") : SBPROV_OK;
}
