/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_FRAME_ENCODE_H
#define SBPROV_FRAME_ENCODE_H

/**
 * @file sbprov/frame_encode.h
 * @brief Sensor frame encoder for microcontrollers (format version 1).
 *
 * Builds the records of docs/frame-format.md and COBS-encodes them for a byte
 * stream. This header and `libsbprov/frame_encode.c` stand alone: copy the two
 * files into a microcontroller project (same directory) and compile them as
 * C99; they need only `<stddef.h>` and `<stdint.h>`, call no library function
 * (not even memcpy), allocate nothing, and keep no global state. The same
 * code is compiled into libsbprov, where the gateway uses it for tests and
 * tools (the decoder is in `sbprov/frame.h`).
 *
 * These functions do not use libsbprov's result codes or error details: they
 * return ::sbprov_frame_enc_result, small codes of their own.
 *
 * Typical use on a node (a 254-byte record buffer and a 256-byte wire buffer):
 * @code
 * sbprov_frame_builder b;
 * uint8_t rec[SBPROV_FRAME_MAX], wire[SBPROV_FRAME_WIRE_MAX];
 * size_t rec_len, wire_len;
 * sbprov_frame_builder_init(&b, rec, sizeof rec, SBPROV_FRAME_TYPE_READINGS, node_id, boot_epoch, seq++);
 * sbprov_frame_add_timestamp(&b, uptime_ms);
 * sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, 812);
 * sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, 2153);   // 21.53 degC
 * if (sbprov_frame_finish(&b, &rec_len) == SBPROV_FRAME_ENC_OK &&
 *     sbprov_cobs_encode(wire, sizeof wire, rec, rec_len, &wire_len) == SBPROV_FRAME_ENC_OK)
 *     uart_write(wire, wire_len);                                       // ends with 0x00
 * @endcode
 * Over UDP send the record itself (`rec`, `rec_len`), without COBS.
 */

#include <stddef.h>
#include <stdint.h>

/* Export marker: the same definition as sbprov/common.h (which this header
 * does not need), so the two may be included in either order. */
#ifndef SBPROV_API
#  if defined(SBPROV_STATIC)
#    define SBPROV_API
#  elif defined(_WIN32)
#    if defined(SBPROV_BUILDING_LIBRARY)
#      define SBPROV_API __declspec(dllexport)
#    else
#      define SBPROV_API __declspec(dllimport)
#    endif
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define SBPROV_API __attribute__((visibility("default")))
#  else
#    define SBPROV_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Format version written in byte 0 of every record. */
#define SBPROV_FRAME_VERSION 1
/** Largest record in bytes, CRC included. */
#define SBPROV_FRAME_MAX 254
/** Largest record on a byte stream: COBS adds one byte, plus the 0x00 delimiter. */
#define SBPROV_FRAME_WIRE_MAX 256
/** Header size without the timestamp. */
#define SBPROV_FRAME_HEADER_SIZE 15
/** Size of the optional timestamp after the header. */
#define SBPROV_FRAME_TIME_SIZE 4
/** Size of the CRC-32C trailer. */
#define SBPROV_FRAME_CRC_SIZE 4
/** Smallest record: a header without timestamp and the CRC. */
#define SBPROV_FRAME_MIN (SBPROV_FRAME_HEADER_SIZE + SBPROV_FRAME_CRC_SIZE)
/** Size of a node ID. */
#define SBPROV_FRAME_NODE_SIZE 8

/** Flags bit 0: a timestamp follows the header. Bits 1-7 are reserved (0). */
#define SBPROV_FRAME_FLAG_TIME 0x01

/** Record type: readings. */
#define SBPROV_FRAME_TYPE_READINGS 0x01
/** Record type: hello, sent once after boot (may carry readings). */
#define SBPROV_FRAME_TYPE_HELLO 0x02

/** Reading kinds (docs/frame-format.md "Readings"): value, encoding, range. */
#define SBPROV_FRAME_KIND_CO2_PPM 0x01         /**< CO2, ppm, uint16, 0..40000. */
#define SBPROV_FRAME_KIND_TEMPERATURE_C 0x02   /**< temperature, hundredths of degC, int16, -4000..12500. */
#define SBPROV_FRAME_KIND_HUMIDITY_PCT 0x03    /**< relative humidity, hundredths of %RH, uint16, 0..10000. */
#define SBPROV_FRAME_KIND_MOTION 0x04          /**< PIR motion count since the last record, uint8, 0..255. */
#define SBPROV_FRAME_KIND_VOC_PPB 0x05         /**< VOC, ppb, uint16, 0..60000. */
#define SBPROV_FRAME_KIND_PRESSURE_PA 0x06     /**< air pressure, Pa, uint32, 30000..110000. */
#define SBPROV_FRAME_KIND_ILLUMINANCE_LUX 0x07 /**< illuminance, lx, uint32, 0..200000. */
#define SBPROV_FRAME_KIND_BATTERY_MV 0x08      /**< battery voltage, mV, uint16, 0..10000. */
/** Highest kind this version knows; kinds 1 .. SBPROV_FRAME_KIND_LAST are known. */
#define SBPROV_FRAME_KIND_LAST 0x08

/**
 * Bytes sbprov_cobs_encode() writes for `n` input bytes, the 0x00 delimiter
 * included (at most; exact when the input has no 0x00 byte). 256 for a
 * 254-byte record.
 */
#define SBPROV_COBS_ENCODED_SIZE(n) ((n) + ((n) + 253) / 254 + ((n) == 0) + 1)

/** Results of the encoder functions (not ::sbprov_result codes). */
typedef enum sbprov_frame_enc_result {
    SBPROV_FRAME_ENC_OK = 0,      /**< Success. */
    SBPROV_FRAME_ENC_EINVAL = -1, /**< A pointer is NULL, the type is not 1 or 2, or the builder is not open. */
    SBPROV_FRAME_ENC_ESPACE = -2, /**< The buffer (or the 254-byte record limit) has no room for it. */
    SBPROV_FRAME_ENC_EKIND = -3,  /**< Not a known kind (add_reading) or a known kind of another length (add_raw). */
    SBPROV_FRAME_ENC_ERANGE = -4, /**< The value is outside the kind's range. */
    SBPROV_FRAME_ENC_EDUP = -5,   /**< The record already has a reading of this known kind. */
    SBPROV_FRAME_ENC_EORDER = -6  /**< A timestamp after a reading, or a second timestamp. */
} sbprov_frame_enc_result;

/**
 * A record being built in a caller-provided buffer. Fill it only with
 * sbprov_frame_builder_init(); the fields are read-only for the caller. It
 * holds a pointer to the buffer, which must outlive it.
 */
typedef struct sbprov_frame_builder {
    uint8_t *buf;   /**< the caller's buffer. */
    size_t cap;     /**< usable bytes of `buf`: its size, at most ::SBPROV_FRAME_MAX. */
    size_t len;     /**< bytes written so far (the header, then readings). */
    uint16_t kinds; /**< known kinds added: bit k-1 for kind k. */
    uint8_t state;  /**< 1 open, 2 readings added, 3 finished, 0 not initialised or failed init. */
} sbprov_frame_builder;

/**
 * Start a record: writes the 15-byte header into `buf`.
 *
 * @param b        the builder to initialise.
 * @param buf      the record buffer; ::SBPROV_FRAME_MAX bytes hold any record.
 * @param buf_size size of `buf`, at least ::SBPROV_FRAME_MIN (19).
 * @param type     ::SBPROV_FRAME_TYPE_READINGS or ::SBPROV_FRAME_TYPE_HELLO.
 * @param node     the node's 8-byte ID, copied in this order.
 * @param epoch    boot epoch (incremented at every boot).
 * @param seq      sequence number of this record in the epoch.
 * @retval SBPROV_FRAME_ENC_OK     started.
 * @retval SBPROV_FRAME_ENC_EINVAL `b`, `buf` or `node` is NULL, or `type` is not 1 or 2.
 * @retval SBPROV_FRAME_ENC_ESPACE `buf_size` is below ::SBPROV_FRAME_MIN.
 * On failure `b` is unusable (every later call returns SBPROV_FRAME_ENC_EINVAL).
 */
SBPROV_API sbprov_frame_enc_result sbprov_frame_builder_init(sbprov_frame_builder *b, uint8_t *buf, size_t buf_size,
                                                             uint8_t type, const uint8_t node[SBPROV_FRAME_NODE_SIZE],
                                                             uint16_t epoch, uint16_t seq);

/**
 * Add the timestamp (milliseconds since boot) and set flags bit 0. Call it
 * before any reading, at most once.
 *
 * @param b       an open builder.
 * @param time_ms milliseconds since boot when the readings were taken.
 * @retval SBPROV_FRAME_ENC_OK     added.
 * @retval SBPROV_FRAME_ENC_EINVAL `b` is NULL or not open (not initialised, or finished).
 * @retval SBPROV_FRAME_ENC_EORDER a reading or a timestamp was already added.
 * @retval SBPROV_FRAME_ENC_ESPACE no room for it and the CRC.
 */
SBPROV_API sbprov_frame_enc_result sbprov_frame_add_timestamp(sbprov_frame_builder *b, uint32_t time_ms);

/**
 * Add a reading of a known kind, encoded with the kind's length (1, 2 or 4
 * bytes, little-endian). A failed call leaves the record as it was.
 *
 * @param b     an open builder.
 * @param kind  1 .. ::SBPROV_FRAME_KIND_LAST.
 * @param value the value in the kind's unit (hundredths for temperature and humidity).
 * @retval SBPROV_FRAME_ENC_OK     added.
 * @retval SBPROV_FRAME_ENC_EINVAL `b` is NULL or not open.
 * @retval SBPROV_FRAME_ENC_EKIND  `kind` is not a known kind (use sbprov_frame_add_raw()).
 * @retval SBPROV_FRAME_ENC_ERANGE `value` is outside the kind's range.
 * @retval SBPROV_FRAME_ENC_EDUP   the record already has this kind (a decoder would drop it).
 * @retval SBPROV_FRAME_ENC_ESPACE no room for it and the CRC.
 */
SBPROV_API sbprov_frame_enc_result sbprov_frame_add_reading(sbprov_frame_builder *b, uint8_t kind, int32_t value);

/**
 * Add a reading as raw value bytes: for kinds newer than this encoder (which
 * version-1 decoders skip), or a known kind's value outside its range (which
 * decoders report as invalid). The value is not checked, but the record stays
 * well-formed: a known kind must have its table length and appear once.
 *
 * @param b     an open builder.
 * @param kind  any kind, 0..255.
 * @param value the value bytes, as sent; may be NULL when `len` is 0.
 * @param len   number of value bytes, 0..255.
 * @retval SBPROV_FRAME_ENC_OK     added.
 * @retval SBPROV_FRAME_ENC_EINVAL `b` is NULL or not open, or `value` is NULL with `len` > 0.
 * @retval SBPROV_FRAME_ENC_EKIND  `kind` is known and `len` is not its length.
 * @retval SBPROV_FRAME_ENC_EDUP   `kind` is known and already in the record.
 * @retval SBPROV_FRAME_ENC_ESPACE no room for it and the CRC.
 */
SBPROV_API sbprov_frame_enc_result sbprov_frame_add_raw(sbprov_frame_builder *b, uint8_t kind, const uint8_t *value,
                                                        uint8_t len);

/**
 * Finish the record: append the CRC-32C of everything before it
 * (little-endian). The record is `b->buf[0 .. *out_len - 1]`; the builder is
 * then closed (further calls return SBPROV_FRAME_ENC_EINVAL; start the next
 * record with sbprov_frame_builder_init()).
 *
 * @param b       an open builder.
 * @param out_len receives the record length (19..254); may be NULL.
 * @retval SBPROV_FRAME_ENC_OK     finished.
 * @retval SBPROV_FRAME_ENC_EINVAL `b` is NULL or not open.
 */
SBPROV_API sbprov_frame_enc_result sbprov_frame_finish(sbprov_frame_builder *b, size_t *out_len);

/**
 * COBS-encode `in` and append the 0x00 delimiter: the bytes to write to a
 * byte stream. Any length is accepted; a 254-byte record gives 256 bytes
 * (see ::SBPROV_COBS_ENCODED_SIZE). `out` and `in` must not overlap.
 *
 * @param out      receives the encoded bytes and the delimiter.
 * @param out_size size of `out`.
 * @param in       the bytes to encode (may be NULL when `len` is 0).
 * @param len      number of bytes in `in`.
 * @param out_len  receives the number of bytes written, or on
 *                 SBPROV_FRAME_ENC_ESPACE the size `out` needs; may be NULL.
 * @retval SBPROV_FRAME_ENC_OK     encoded.
 * @retval SBPROV_FRAME_ENC_EINVAL `out` is NULL, or `in` is NULL with `len` > 0.
 * @retval SBPROV_FRAME_ENC_ESPACE `out` is too small (its content is then unspecified).
 */
SBPROV_API sbprov_frame_enc_result sbprov_cobs_encode(uint8_t *out, size_t out_size, const uint8_t *in, size_t len,
                                                      size_t *out_len);

/**
 * The reading table: length and range of a known kind.
 *
 * @param kind   any kind.
 * @param length receives the value length in bytes (1, 2 or 4); may be NULL.
 * @param min    receives the smallest valid value; may be NULL.
 * @param max    receives the largest valid value; may be NULL.
 * @return 1 if `kind` is known (the outputs are set), 0 if not (they are untouched).
 *         Values of kinds with a negative `min` are signed (two's complement).
 */
SBPROV_API int sbprov_frame_kind_info(uint8_t kind, uint8_t *length, int32_t *min, int32_t *max);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_FRAME_ENCODE_H */
