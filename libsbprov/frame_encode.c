/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 *
 * Sensor frame encoder (docs/frame-format.md), C99, for microcontrollers:
 * copy this file and frame_encode.h into one directory of the firmware
 * project. No allocation, no library calls, no global state, no division
 * (Cortex-M0 has no divide instruction).
 *
 * CRC-32C is computed bit by bit: about 40 bytes of code and no table
 * instead of a 1 KiB table, at roughly 8 shift/xor steps per byte, which is
 * some 10k cycles for a maximal record; a node sends a few records a minute.
 */
#ifdef SBPROV_BUILDING_LIBRARY
#  include <sbprov/frame_encode.h>
#else
#  include "frame_encode.h"
#endif

enum { STATE_NONE = 0, STATE_OPEN = 1, STATE_READINGS = 2, STATE_FINISHED = 3 };

/* The reading table of docs/frame-format.md, indexed by kind - 1. */
static const struct {
    uint8_t length;
    int32_t min, max;
} kinds[SBPROV_FRAME_KIND_LAST] = {
    {2, 0, 40000},      /* 0x01 co2_ppm */
    {2, -4000, 12500},  /* 0x02 temperature_c (int16) */
    {2, 0, 10000},      /* 0x03 humidity_pct */
    {1, 0, 255},        /* 0x04 motion */
    {2, 0, 60000},      /* 0x05 voc_ppb */
    {4, 30000, 110000}, /* 0x06 pressure_pa */
    {4, 0, 200000},     /* 0x07 illuminance_lux */
    {2, 0, 10000},      /* 0x08 battery_mv */
};

int sbprov_frame_kind_info(uint8_t kind, uint8_t *length, int32_t *min, int32_t *max)
{
    if (kind < 1 || kind > SBPROV_FRAME_KIND_LAST)
        return 0;
    if (length != NULL)
        *length = kinds[kind - 1].length;
    if (min != NULL)
        *min = kinds[kind - 1].min;
    if (max != NULL)
        *max = kinds[kind - 1].max;
    return 1;
}

/* CRC-32C: reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n-- > 0) {
        int k;
        crc ^= *p++;
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le(uint8_t *p, uint32_t v, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++) {
        p[i] = (uint8_t)(v & 0xFFu);
        v >>= 8;
    }
}

static int is_open(const sbprov_frame_builder *b)
{
    return b != NULL && (b->state == STATE_OPEN || b->state == STATE_READINGS);
}

/* Room for `n` more bytes and the CRC. */
static int has_room(const sbprov_frame_builder *b, size_t n)
{
    return b->cap - b->len >= SBPROV_FRAME_CRC_SIZE && b->cap - b->len - SBPROV_FRAME_CRC_SIZE >= n;
}

sbprov_frame_enc_result sbprov_frame_builder_init(sbprov_frame_builder *b, uint8_t *buf, size_t buf_size,
                                                  uint8_t type, const uint8_t node[SBPROV_FRAME_NODE_SIZE],
                                                  uint16_t epoch, uint16_t seq)
{
    unsigned i;

    if (b == NULL)
        return SBPROV_FRAME_ENC_EINVAL;
    b->buf = NULL;
    b->cap = 0;
    b->len = 0;
    b->kinds = 0;
    b->state = STATE_NONE;
    if (buf == NULL || node == NULL || (type != SBPROV_FRAME_TYPE_READINGS && type != SBPROV_FRAME_TYPE_HELLO))
        return SBPROV_FRAME_ENC_EINVAL;
    if (buf_size < SBPROV_FRAME_MIN)
        return SBPROV_FRAME_ENC_ESPACE;
    b->buf = buf;
    b->cap = buf_size < SBPROV_FRAME_MAX ? buf_size : SBPROV_FRAME_MAX;
    buf[0] = SBPROV_FRAME_VERSION;
    buf[1] = type;
    buf[2] = 0;
    for (i = 0; i < SBPROV_FRAME_NODE_SIZE; i++)
        buf[3 + i] = node[i];
    put_le(buf + 11, epoch, 2);
    put_le(buf + 13, seq, 2);
    b->len = SBPROV_FRAME_HEADER_SIZE;
    b->state = STATE_OPEN;
    return SBPROV_FRAME_ENC_OK;
}

sbprov_frame_enc_result sbprov_frame_add_timestamp(sbprov_frame_builder *b, uint32_t time_ms)
{
    if (!is_open(b))
        return SBPROV_FRAME_ENC_EINVAL;
    if (b->state != STATE_OPEN || (b->buf[2] & SBPROV_FRAME_FLAG_TIME) != 0)
        return SBPROV_FRAME_ENC_EORDER;
    if (!has_room(b, SBPROV_FRAME_TIME_SIZE))
        return SBPROV_FRAME_ENC_ESPACE;
    b->buf[2] |= SBPROV_FRAME_FLAG_TIME;
    put_le(b->buf + b->len, time_ms, SBPROV_FRAME_TIME_SIZE);
    b->len += SBPROV_FRAME_TIME_SIZE;
    return SBPROV_FRAME_ENC_OK;
}

/* Checks shared by add_reading and add_raw for a known kind of `len` bytes. */
static sbprov_frame_enc_result check_known(const sbprov_frame_builder *b, uint8_t kind, uint8_t len)
{
    if (kinds[kind - 1].length != len)
        return SBPROV_FRAME_ENC_EKIND;
    if ((b->kinds & (1u << (kind - 1))) != 0)
        return SBPROV_FRAME_ENC_EDUP;
    return SBPROV_FRAME_ENC_OK;
}

static void append(sbprov_frame_builder *b, uint8_t kind, uint8_t len)
{
    b->buf[b->len] = kind;
    b->buf[b->len + 1] = len;
    if (kind >= 1 && kind <= SBPROV_FRAME_KIND_LAST)
        b->kinds = (uint16_t)(b->kinds | (1u << (kind - 1)));
    b->len += 2u + len;
    b->state = STATE_READINGS;
}

sbprov_frame_enc_result sbprov_frame_add_reading(sbprov_frame_builder *b, uint8_t kind, int32_t value)
{
    sbprov_frame_enc_result rc;
    uint8_t len;

    if (!is_open(b))
        return SBPROV_FRAME_ENC_EINVAL;
    if (kind < 1 || kind > SBPROV_FRAME_KIND_LAST)
        return SBPROV_FRAME_ENC_EKIND;
    if (value < kinds[kind - 1].min || value > kinds[kind - 1].max)
        return SBPROV_FRAME_ENC_ERANGE;
    len = kinds[kind - 1].length;
    rc = check_known(b, kind, len);
    if (rc != SBPROV_FRAME_ENC_OK)
        return rc;
    if (!has_room(b, 2u + len))
        return SBPROV_FRAME_ENC_ESPACE;
    /* Two's complement of the low `len` bytes: int16 for temperature. */
    put_le(b->buf + b->len + 2, (uint32_t)value, len);
    append(b, kind, len);
    return SBPROV_FRAME_ENC_OK;
}

sbprov_frame_enc_result sbprov_frame_add_raw(sbprov_frame_builder *b, uint8_t kind, const uint8_t *value, uint8_t len)
{
    unsigned i;

    if (!is_open(b) || (value == NULL && len > 0))
        return SBPROV_FRAME_ENC_EINVAL;
    if (kind >= 1 && kind <= SBPROV_FRAME_KIND_LAST) {
        sbprov_frame_enc_result rc = check_known(b, kind, len);
        if (rc != SBPROV_FRAME_ENC_OK)
            return rc;
    }
    if (!has_room(b, 2u + len))
        return SBPROV_FRAME_ENC_ESPACE;
    for (i = 0; i < len; i++)
        b->buf[b->len + 2 + i] = value[i];
    append(b, kind, len);
    return SBPROV_FRAME_ENC_OK;
}

sbprov_frame_enc_result sbprov_frame_finish(sbprov_frame_builder *b, size_t *out_len)
{
    if (!is_open(b))
        return SBPROV_FRAME_ENC_EINVAL;
    /* Room for the CRC is kept free by every add. */
    put_le(b->buf + b->len, crc32c(b->buf, b->len), SBPROV_FRAME_CRC_SIZE);
    b->len += SBPROV_FRAME_CRC_SIZE;
    b->state = STATE_FINISHED;
    if (out_len != NULL)
        *out_len = b->len;
    return SBPROV_FRAME_ENC_OK;
}

/* Canonical COBS: a block ends at a 0x00 (which its code byte replaces) or
 * after 254 non-zero bytes (code 0xFF, no 0x00 implied); a final full block
 * gets no extra empty block. Writes only inside out_size but counts on, so a
 * too-small buffer learns the size it needs. */
sbprov_frame_enc_result sbprov_cobs_encode(uint8_t *out, size_t out_size, const uint8_t *in, size_t len,
                                           size_t *out_len)
{
    size_t i, o = 1, code_at = 0;
    uint8_t code = 1;
    int block_open = 1;

    if (out == NULL || (in == NULL && len > 0))
        return SBPROV_FRAME_ENC_EINVAL;
    for (i = 0; i < len; i++) {
        if (in[i] == 0) {
            if (code_at < out_size)
                out[code_at] = code;
            code_at = o++;
            code = 1;
            continue;
        }
        if (o < out_size)
            out[o] = in[i];
        o++;
        code++;
        if (code == 0xFF) {
            if (code_at < out_size)
                out[code_at] = code;
            if (i + 1 < len) {
                code_at = o++;
                code = 1;
            } else {
                block_open = 0;
            }
        }
    }
    if (block_open && code_at < out_size)
        out[code_at] = code;
    if (o < out_size)
        out[o] = 0;
    o++;
    if (out_len != NULL)
        *out_len = o;
    return o <= out_size ? SBPROV_FRAME_ENC_OK : SBPROV_FRAME_ENC_ESPACE;
}
