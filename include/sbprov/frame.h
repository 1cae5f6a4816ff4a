/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_FRAME_H
#define SBPROV_FRAME_H

/**
 * @file sbprov/frame.h
 * @brief Gateway decoder of sensor frames (docs/frame-format.md, version 1).
 *
 * A decoder (::sbprov_frame_decoder) takes the bytes of a stream (UART, pty)
 * in chunks of any size with sbprov_frame_decoder_feed(), or one record per
 * UDP datagram with sbprov_frame_decode_record(). It checks every record
 * (COBS, length, CRC-32C, version, type, readings), tracks sequence numbers
 * per node, keeps a counter per drop reason (::sbprov_frame_counters), and
 * calls back once per accepted record with a decoded view (::sbprov_frame).
 *
 * Memory: sbprov_frame_decoder_new() allocates the decoder once, with its
 * record buffer (::SBPROV_FRAME_MAX bytes) and its node table; feeding
 * allocates nothing and keeps no pointer to the caller's bytes. (An opaque
 * handle rather than caller-provided buffers: its layout can grow without an
 * ABI break, and bindings such as Go's may not leave their memory with C.)
 *
 * One decoder is used by one thread at a time; decoders are independent. The
 * microcontroller side (encoder, COBS, the kind constants) is in
 * `sbprov/frame_encode.h`, which this header includes.
 */

#include <sbprov/common.h>
#include <sbprov/frame_encode.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default number of nodes whose sequence numbers a decoder tracks. */
#define SBPROV_FRAME_NODE_TABLE_DEFAULT 256
/** Largest node table. */
#define SBPROV_FRAME_NODE_TABLE_MAX 65536

/** A decoder: opaque, from sbprov_frame_decoder_new(). */
typedef struct sbprov_frame_decoder sbprov_frame_decoder;

/** Decoder options; set defaults with sbprov_frame_decoder_options_init(). */
typedef struct sbprov_frame_decoder_options {
    size_t struct_size;     /**< sizeof the struct, set by the init function. */
    size_t node_table_size; /**< nodes tracked (1 .. ::SBPROV_FRAME_NODE_TABLE_MAX); when full, the least
                                 recently seen node is replaced. Default ::SBPROV_FRAME_NODE_TABLE_DEFAULT. */
} sbprov_frame_decoder_options;

/** How an accepted record relates to the node's previous one. */
typedef enum sbprov_frame_seq_status {
    SBPROV_FRAME_SEQ_FIRST = 0,  /**< The node is not in the table (new, or replaced meanwhile). */
    SBPROV_FRAME_SEQ_NEXT = 1,   /**< Same epoch, seq one after the last. */
    SBPROV_FRAME_SEQ_GAP = 2,    /**< Same epoch, ::sbprov_frame::missed records missing before it. */
    SBPROV_FRAME_SEQ_REBOOT = 3  /**< Another epoch: the node rebooted; tracking restarts here. */
} sbprov_frame_seq_status;

/** What became of one record (sbprov_frame_decode_record()). */
typedef enum sbprov_frame_outcome {
    SBPROV_FRAME_ACCEPTED = 0,          /**< Accepted and delivered. */
    SBPROV_FRAME_DROP_CRC = 1,          /**< CRC mismatch. */
    SBPROV_FRAME_DROP_TOO_LONG = 2,     /**< Longer than ::SBPROV_FRAME_MAX. */
    SBPROV_FRAME_DROP_TRUNCATED = 3,    /**< Shorter than its header and CRC (or a COBS block cut off). */
    SBPROV_FRAME_DROP_BAD_VERSION = 4,  /**< Version is not 1. */
    SBPROV_FRAME_DROP_BAD_LENGTH = 5,   /**< A reading does not fit, has a wrong length, or repeats a known kind. */
    SBPROV_FRAME_DROP_UNKNOWN_TYPE = 6, /**< Type is neither readings nor hello. */
    SBPROV_FRAME_DROP_DUPLICATE = 7     /**< A duplicate or an old record of its node. */
} sbprov_frame_outcome;

/** One reading of a known kind. */
typedef struct sbprov_frame_reading {
    uint8_t kind;  /**< 1 .. ::SBPROV_FRAME_KIND_LAST (unknown kinds are skipped, not listed). */
    uint8_t valid; /**< 1 if `value` is within the kind's range, 0 if not (render as null). */
    int64_t value; /**< the decoded value (every uint32 and int16 fits), in the kind's unit. */
} sbprov_frame_reading;

/**
 * An accepted record, as passed to the callback. Every pointer in it is valid
 * only during the callback; copy what you keep.
 */
typedef struct sbprov_frame {
    size_t struct_size;  /**< sizeof(sbprov_frame) of the library: fields beyond an older caller's struct exist
                              only if it is at least their offset plus size. */
    uint8_t version;     /**< 1. */
    uint8_t type;        /**< ::SBPROV_FRAME_TYPE_READINGS or ::SBPROV_FRAME_TYPE_HELLO. */
    uint8_t flags;       /**< as received (reserved bits included, which version 1 ignores). */
    uint8_t node[SBPROV_FRAME_NODE_SIZE]; /**< node ID bytes in record order. */
    uint64_t node_id;    /**< the same 8 bytes as a big-endian number: printed as %016 PRIx64 it gives the
                              JSON form (16 lower-case hex digits in record order). */
    uint16_t epoch;      /**< boot epoch. */
    uint16_t seq;        /**< sequence number. */
    int has_time;        /**< 1 if the record has a timestamp (flags bit 0). */
    uint32_t time_ms;    /**< milliseconds since the node's boot; 0 without a timestamp. */
    const sbprov_frame_reading *readings; /**< known-kind readings in record order. */
    size_t reading_count;                 /**< number of `readings` (at most ::SBPROV_FRAME_KIND_LAST). */
    size_t unknown_kinds;                 /**< readings of unknown kinds that were skipped. */
    size_t out_of_range;                  /**< readings with `valid` 0. */
    sbprov_frame_seq_status seq_status;   /**< relation to the node's previous record. */
    uint32_t missed;                      /**< records missing before this one (::SBPROV_FRAME_SEQ_GAP), else 0. */
    const uint8_t *record;                /**< the record bytes, CRC included (after COBS decoding). */
    size_t record_len;                    /**< their number, ::SBPROV_FRAME_MIN .. ::SBPROV_FRAME_MAX. */
} sbprov_frame;

/**
 * Called once per accepted record. It must not call the decoder that calls it.
 *
 * @param frame   the record; valid only during the call.
 * @param payload the pointer given to the feeding function.
 * @return 0 to go on; non-zero to stop (the feeding function returns ::SBPROV_ECANCELED).
 */
typedef int (*sbprov_frame_cb)(const sbprov_frame *frame, void *payload);

/**
 * Counters of a decoder since it was created. Set `struct_size` before
 * calling sbprov_frame_decoder_counters() (`sbprov_frame_counters c = { sizeof c };`).
 * Drops: each dropped record raises exactly one of crc .. duplicate.
 */
typedef struct sbprov_frame_counters {
    size_t struct_size;     /**< set by the caller: sizeof the struct. */
    uint64_t frames;        /**< records accepted. */
    uint64_t crc;           /**< dropped: CRC mismatch. */
    uint64_t too_long;      /**< dropped: more than ::SBPROV_FRAME_MAX bytes. */
    uint64_t truncated;     /**< dropped: a COBS block cut by the delimiter, or shorter than header + CRC. */
    uint64_t bad_version;   /**< dropped: version not 1. */
    uint64_t bad_length;    /**< dropped: readings that do not fit, a wrong length, a repeated known kind. */
    uint64_t unknown_type;  /**< dropped: type not 1 or 2. */
    uint64_t duplicate;     /**< dropped: a duplicate or old record (sequence check). */
    uint64_t gaps;          /**< records missing, from sequence numbers. */
    uint64_t reboots;       /**< accepted records with a new epoch of a tracked node. */
    uint64_t unknown_kinds; /**< readings of unknown kinds skipped in accepted records. */
    uint64_t out_of_range;  /**< readings outside their range in accepted records. */
} sbprov_frame_counters;

/**
 * Set the default options.
 *
 * @param opts        the options struct.
 * @param struct_size `sizeof *opts`.
 * @retval SBPROV_OK     done.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is too small.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_decoder_options_init(sbprov_frame_decoder_options *opts,
                                                                           size_t struct_size);

/**
 * Create a decoder. It allocates here, once: the handle with its record
 * buffer and a node table of `node_table_size` entries (at most 40 bytes each).
 *
 * @param[out] out  receives the decoder; free it with sbprov_frame_decoder_free().
 * @param[in]  opts options, or NULL for the defaults.
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL `out` is NULL, or an option is invalid (node_table_size 0 or above the maximum,
 *                       a malformed struct, unknown non-zero fields).
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_decoder_new(sbprov_frame_decoder **out,
                                                                   const sbprov_frame_decoder_options *opts);

/**
 * Free a decoder.
 *
 * @param dec the decoder; NULL is allowed.
 */
SBPROV_API void sbprov_frame_decoder_free(sbprov_frame_decoder *dec);

/**
 * Feed stream bytes (COBS records separated by 0x00), in chunks of any size:
 * the result is the same however the stream is split. A record is processed
 * when its delimiter arrives; bytes of an unfinished record are kept for the
 * next call. Every accepted record is passed to `cb`; dropped ones are only
 * counted. After an error the decoder skips to the next 0x00.
 *
 * @param[out] consumed receives the number of bytes of `data` used: `len`, or less if `cb` stopped (the
 *                      bytes after the delimiter of the record it stopped at); may be NULL.
 * @param[in]  dec      the decoder.
 * @param[in]  data     the bytes; may be NULL when `len` is 0.
 * @param[in]  len      number of bytes.
 * @param[in]  cb       called per accepted record; NULL to only count and track.
 * @param[in]  payload  passed to `cb`.
 * @retval SBPROV_OK        every byte was used.
 * @retval SBPROV_ECANCELED `cb` returned non-zero; feed the rest (from `*consumed`) later.
 * @retval SBPROV_EINVAL    `dec` is NULL, or `data` is NULL with `len` > 0 (nothing was used).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_decoder_feed(size_t *consumed, sbprov_frame_decoder *dec,
                                                                    const uint8_t *data, size_t len,
                                                                    sbprov_frame_cb cb, void *payload);

/**
 * Decode one record without COBS (a UDP datagram), with the same checks,
 * counters and sequence tracking as a record from the stream. It does not
 * disturb a stream record in progress on the same decoder.
 *
 * @param[out] outcome receives what became of the record; may be NULL.
 * @param[in]  dec     the decoder.
 * @param[in]  record  the record bytes; may be NULL when `len` is 0 (then truncated).
 * @param[in]  len     number of bytes.
 * @param[in]  cb      called if the record is accepted; may be NULL.
 * @param[in]  payload passed to `cb`.
 * @retval SBPROV_OK        the record was processed (accepted or dropped: see `*outcome`).
 * @retval SBPROV_ECANCELED the record was accepted and `cb` returned non-zero.
 * @retval SBPROV_EINVAL    `dec` is NULL, or `record` is NULL with `len` > 0 (nothing was counted).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_decode_record(sbprov_frame_outcome *outcome,
                                                                     sbprov_frame_decoder *dec, const uint8_t *record,
                                                                     size_t len, sbprov_frame_cb cb, void *payload);

/**
 * Read the counters.
 *
 * @param[out] out receives the counters; the caller sets `out->struct_size` first. Fields beyond what
 *                 this library knows are set to 0.
 * @param[in]  dec the decoder.
 * @retval SBPROV_OK     `*out` is filled.
 * @retval SBPROV_EINVAL a pointer is NULL, or `out->struct_size` is too small or implausible.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_decoder_counters(sbprov_frame_counters *out,
                                                                        const sbprov_frame_decoder *dec);

/**
 * Check and decode one record on its own (no COBS), without a decoder: the
 * same checks as the decoder in the same order, but no sequence tracking and
 * no counters. For records kept to be rendered later (a telemetry queue, a
 * binding's frame object). `out->seq_status` is ::SBPROV_FRAME_SEQ_FIRST and
 * `out->missed` 0; `out->readings` points into `readings` and `out->record`
 * into `record`, so both must outlive the use of `*out`.
 *
 * @param[out] out      receives the decoded view.
 * @param[out] readings room for the readings: ::SBPROV_FRAME_KIND_LAST entries.
 * @param[out] outcome  receives ::SBPROV_FRAME_ACCEPTED or the drop reason; may be NULL.
 * @param[in]  record   the record bytes, CRC included.
 * @param[in]  len      their number.
 * @retval SBPROV_OK     the record is valid; `*out` is set.
 * @retval SBPROV_EPARSE the record fails a check (`*outcome` says which; never ::SBPROV_FRAME_DROP_DUPLICATE).
 * @retval SBPROV_EINVAL `out` or `readings` is NULL, or `record` is NULL with `len` > 0.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_parse(sbprov_frame *out, sbprov_frame_reading *readings,
                                                             sbprov_frame_outcome *outcome, const uint8_t *record,
                                                             size_t len);

/**
 * Static name of an outcome: "accepted", or the counter a drop raises ("crc",
 * "too_long", "truncated", "bad_version", "bad_length", "unknown_type",
 * "duplicate").
 *
 * @param outcome an outcome.
 * @return the name, or "invalid" for other values; never NULL.
 */
SBPROV_API const char *sbprov_frame_outcome_name(sbprov_frame_outcome outcome);

/**
 * Static name of a sequence status: "first", "next", "gap" or "reboot".
 *
 * @param status a status.
 * @return the name, or "invalid" for other values; never NULL.
 */
SBPROV_API const char *sbprov_frame_seq_status_name(sbprov_frame_seq_status status);

/** A buffer of this size holds either rendering of any version-1 record, NUL included. */
#define SBPROV_FRAME_JSON_MAX 512

/**
 * Render a record as the flat JSON object sent as Azure IoT Hub telemetry
 * (docs/frame-format.md, "JSON and SenML"). Names are DTDL-legal; keys in this
 * order: `node` (16 hex digits), `epoch`, `seq`, `time_ms` (if the record has a
 * timestamp), `"type":"hello"` (hello records only), then one key per reading
 * in record order (`co2_ppm`, `temperature_c`, `humidity_pct`, `motion`,
 * `voc_ppb`, `pressure_pa`, `illuminance_lux`, `battery_mv`), `null` when out
 * of range. Fixed-point values print exactly (2153 -> `21.53`, 4520 -> `45.2`).
 * Example: `{"node":"0011223344556677","epoch":1,"seq":5,"co2_ppm":812,"temperature_c":21.53}`.
 * Allocates nothing.
 *
 * @param[out] buf      buffer for the NUL-terminated JSON (::SBPROV_FRAME_JSON_MAX is always enough).
 * @param[in]  buf_size its size.
 * @param[out] out_len  length without the NUL, or the size needed (NUL included) on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  frame    the record, from a decoder callback or sbprov_frame_parse().
 * @retval SBPROV_OK     `buf` holds the JSON.
 * @retval SBPROV_EBUFS  `buf` is too small (its contents are unspecified); `*out_len` has the size needed.
 * @retval SBPROV_EINVAL `frame` is NULL or malformed (a reading of an unknown kind, too many readings, an
 *                       implausible struct_size), or `buf` is NULL with a non-zero `buf_size`.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_to_json(char *buf, size_t buf_size, size_t *out_len,
                                                               const sbprov_frame *frame);

/** Smallest `unix_time_ms` for sbprov_frame_to_senml(): 2^28 s (SenML reads smaller times as relative). */
#define SBPROV_FRAME_SENML_MIN_TIME_MS 268435456000LL
/** Largest `unix_time_ms` for sbprov_frame_to_senml(): 9999-12-31T23:59:59.999Z. */
#define SBPROV_FRAME_SENML_MAX_TIME_MS 253402300799999LL

/**
 * Render a record as a SenML pack (RFC 8428, application/senml+json): base
 * name `urn:dev:mac:<node>:` (RFC 9039), one record per reading in range, with
 * the names and units `co2` ppm, `temperature` Cel, `humidity` %RH, `motion`
 * count, `voc` ppb, `pressure` Pa, `illuminance` lx, `battery` V (from mV,
 * exact). `"bver":26` (RFC 9100: secondary units) when the pack uses `ppm` or
 * `ppb` (RFC 8798 secondary units). Out-of-range readings are left out (a SenML
 * record needs a value); a record without readings in range gives `[]`.
 * SenML has no place for epoch, seq or the node's uptime: use sbprov_frame_to_json()
 * where those matter. Allocates nothing.
 *
 * @param[out] buf          buffer for the NUL-terminated JSON (::SBPROV_FRAME_JSON_MAX is always enough).
 * @param[in]  buf_size     its size.
 * @param[out] out_len      length without the NUL, or the size needed (NUL included) on ::SBPROV_EBUFS;
 *                          may be NULL.
 * @param[in]  frame        the record.
 * @param[in]  unix_time_ms when the gateway received it, in milliseconds since the Unix epoch, written as
 *                          the base time `bt` in seconds (exact, up to 3 decimals); 0 for no `bt` (SenML then
 *                          means "now"). Otherwise ::SBPROV_FRAME_SENML_MIN_TIME_MS .. ::SBPROV_FRAME_SENML_MAX_TIME_MS.
 * @retval SBPROV_OK     `buf` holds the JSON.
 * @retval SBPROV_EBUFS  `buf` is too small (its contents are unspecified); `*out_len` has the size needed.
 * @retval SBPROV_EINVAL as sbprov_frame_to_json(), or `unix_time_ms` is out of range.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_frame_to_senml(char *buf, size_t buf_size, size_t *out_len,
                                                                const sbprov_frame *frame, int64_t unix_time_ms);

/**
 * The JSON name of a reading kind.
 *
 * @param kind a kind, 1 .. ::SBPROV_FRAME_KIND_LAST.
 * @return a static string such as "co2_ppm" or "temperature_c", or NULL for a kind version 1 does not know.
 */
SBPROV_API const char *sbprov_frame_kind_name(uint8_t kind);

/**
 * The kind of a JSON reading name (the inverse of sbprov_frame_kind_name()).
 *
 * @param name a name such as "co2_ppm"; NULL gives 0.
 * @return the kind, or 0 if no kind has that name.
 */
SBPROV_API uint8_t sbprov_frame_kind_from_name(const char *name);

/**
 * Decimal places of a kind's fixed-point value in JSON: 2 for temperature_c
 * and humidity_pct (hundredths), 0 for the others.
 *
 * @param kind a kind.
 * @return the number of decimals; 0 for unknown kinds.
 */
SBPROV_API unsigned sbprov_frame_kind_decimals(uint8_t kind);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_FRAME_H */
