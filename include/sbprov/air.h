/*
 * libsbprov - provisioning core for smart-building IoT gateways.
 * SPDX-License-Identifier: MIT
 */
#ifndef SBPROV_AIR_H
#define SBPROV_AIR_H

/**
 * @file sbprov/air.h
 * @brief Rooms: ventilation advice and occupancy from decoded sensor readings.
 *
 * A room (::sbprov_air_room) is fed samples (::sbprov_air_sample: a time from
 * the gateway's monotonic clock plus optional CO2, PIR motion, temperature and
 * humidity) and keeps:
 *
 * - a **CO2 class** after the German UBA / ASR A3.6 steps: below 1000 ppm
 *   fine, 1000 to 2000 ppm ventilate, above 2000 ppm ventilate now (both
 *   thresholds configurable, e.g. 800 ppm for stricter policies), with
 *   hysteresis: a class is entered when the smoothed CO2 reaches its threshold
 *   and left only when it falls `hysteresis_ppm` below it;
 * - the **trend** in ppm/min (least squares over the readings of the last
 *   `trend_window_s` seconds, irregular sample times allowed) and the minutes
 *   until the next threshold at that trend;
 * - the **smoothed CO2**: an exponential average (time constant `smoothing_s`)
 *   plus trend x `smoothing_s`, the lag such an average has behind a steady
 *   trend, kept within the readings of the window; it follows a rise without
 *   delay and without the sensor noise;
 * - **occupancy**: PIR motion marks the room occupied; it becomes free after
 *   `pir_hold_s` seconds without motion, unless the CO2 has been rising faster
 *   than `co2_rise_ppm_per_min` for `co2_rise_s` (people sitting still), which
 *   also marks an unoccupied room occupied;
 * - **events** for every change (occupied, free, ventilation needed,
 *   ventilation done) with their reason, in a small fixed queue.
 *
 * Nothing is allocated per sample: the trend window is a ring of
 * ::SBPROV_AIR_TREND_CAPACITY samples and the event queue holds
 * ::SBPROV_AIR_EVENT_QUEUE_SIZE events, both inside the room. A building
 * (::sbprov_air_building) is a set of named rooms, each with its own options,
 * fed by the 64-bit IDs of the sensor nodes in them.
 *
 * The rules, their sources and the defaults are explained in docs/air.md.
 * Output structs (::sbprov_air_state, ::sbprov_air_event) begin with
 * `struct_size`, which the caller sets (`sbprov_air_state st = { .struct_size = sizeof st };`).
 */

#include <sbprov/common.h>
#include <sbprov/frame.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Samples the trend window can hold; faster samples shorten the window to the newest ones. */
#define SBPROV_AIR_TREND_CAPACITY 128
/** Events a room queues; when full, the oldest is dropped and counted (::sbprov_air_state::events_dropped). */
#define SBPROV_AIR_EVENT_QUEUE_SIZE 16
/** Size of the room-name buffer in ::sbprov_air_event (names have at most 63 bytes). */
#define SBPROV_AIR_NAME_SIZE 64
/** Size of the reason-text buffer in ::sbprov_air_event. */
#define SBPROV_AIR_REASON_SIZE 96
/** Largest CO2 value accepted, in ppm (as the sensor frame format, docs/frame-format.md). */
#define SBPROV_AIR_CO2_MAX 40000

/** CO2 class of a room. */
typedef enum sbprov_air_co2_class {
    SBPROV_AIR_CO2_UNKNOWN = 0,       /**< No CO2 reading yet. */
    SBPROV_AIR_CO2_FINE = 1,          /**< Below the ventilate threshold (default 1000 ppm). */
    SBPROV_AIR_CO2_VENTILATE = 2,     /**< At or above the ventilate threshold: ventilate. */
    SBPROV_AIR_CO2_VENTILATE_NOW = 3  /**< At or above the ventilate-now threshold (default 2000 ppm). */
} sbprov_air_co2_class;

/** What an event reports. */
typedef enum sbprov_air_event_kind {
    SBPROV_AIR_EVENT_NONE = 0,               /**< No event (the queue was empty). */
    SBPROV_AIR_EVENT_OCCUPIED = 1,           /**< The room became occupied. */
    SBPROV_AIR_EVENT_FREE = 2,               /**< The room became free. */
    SBPROV_AIR_EVENT_VENTILATION_NEEDED = 3, /**< The class rose to VENTILATE or VENTILATE_NOW, or fell from
                                                  VENTILATE_NOW to VENTILATE (see `co2_class`). */
    SBPROV_AIR_EVENT_VENTILATION_DONE = 4    /**< The class fell to FINE. */
} sbprov_air_event_kind;

/** Why an event happened (also as text in ::sbprov_air_event::reason_text). */
typedef enum sbprov_air_reason {
    SBPROV_AIR_REASON_NONE = 0,        /**< No event. */
    SBPROV_AIR_REASON_MOTION = 1,      /**< OCCUPIED: the PIR saw motion ("motion"). */
    SBPROV_AIR_REASON_CO2_RISING = 2,  /**< OCCUPIED: CO2 rising fast enough for long enough
                                            ("co2 rising 38.2 ppm/min"). */
    SBPROV_AIR_REASON_NO_PRESENCE = 3, /**< FREE: no motion for the hold time and CO2 not rising
                                            ("no motion for 10 min and co2 flat (0.4 ppm/min)"). */
    SBPROV_AIR_REASON_CO2_ABOVE = 4,   /**< VENTILATION_NEEDED upwards: the smoothed CO2 reached a threshold
                                            ("co2 1012 ppm >= 1000"). */
    SBPROV_AIR_REASON_CO2_BELOW = 5    /**< VENTILATION_DONE, or VENTILATE_NOW down to VENTILATE: the smoothed
                                            CO2 fell below a threshold minus the hysteresis
                                            ("co2 fell to 949 ppm < 950 (1000 - 50 hysteresis)"). */
} sbprov_air_reason;

/** Options of a room. Initialise with sbprov_air_room_options_init(). */
typedef struct sbprov_air_room_options {
    size_t struct_size;          /**< sizeof(sbprov_air_room_options), set by the init function. */
    uint32_t ventilate_ppm;      /**< Enter VENTILATE at or above this (default 1000, UBA/ASR A3.6; 800 for
                                      stricter policies). 1..40000. */
    uint32_t ventilate_now_ppm;  /**< Enter VENTILATE_NOW at or above this (default 2000). Above `ventilate_ppm`,
                                      at most 40000. */
    uint32_t hysteresis_ppm;     /**< A class is left only when the smoothed CO2 falls below its threshold
                                      minus this (default 50). Below `ventilate_ppm` and below
                                      `ventilate_now_ppm - ventilate_ppm`; 0 turns hysteresis off. */
    uint32_t smoothing_s;        /**< Time constant of the smoothed CO2 (time-weighted exponential average,
                                      corrected for its lag behind the trend), in seconds (default 60; 0: the
                                      raw readings). At most 3600. */
    uint32_t trend_window_s;     /**< The trend is fitted over the CO2 readings of the last this many
                                      seconds (default 600). 10..86400. */
    uint32_t trend_min_samples;  /**< Readings needed in the window before a trend (and a prediction) is given
                                      (default 5). 3..::SBPROV_AIR_TREND_CAPACITY. */
    uint32_t trend_min_span_s;   /**< ... and the time they must span, in seconds (default 300). At most
                                      `trend_window_s`. */
    uint32_t pir_hold_s;         /**< The room stays occupied this long after the last motion (or the end of a
                                      CO2 rise), in seconds (default 600). 1..86400. */
    double co2_rise_ppm_per_min; /**< A trend at or above this counts as people present (default 10.0);
                                      0 disables CO2 for occupancy. 0..1000, finite. */
    uint32_t co2_rise_s;         /**< ... once it has lasted this long, in seconds (default 180). At most
                                      86400. */
} sbprov_air_room_options;

/**
 * Fill `opts` with the defaults (1000 / 2000 ppm, 50 ppm hysteresis, 60 s
 * smoothing, 600 s trend window with at least 5 readings over 300 s, 600 s PIR
 * hold, occupancy from a CO2 rise of 10 ppm/min lasting 180 s).
 *
 * @param opts        the options to initialise.
 * @param struct_size sizeof(sbprov_air_room_options) as the caller knows it.
 * @retval SBPROV_OK     `opts` holds the defaults.
 * @retval SBPROV_EINVAL `opts` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_room_options_init(sbprov_air_room_options *opts,
                                                                       size_t struct_size);

/** One sample of a room's sensors. Initialise with sbprov_air_sample_init(), then set the fields present. */
typedef struct sbprov_air_sample {
    size_t struct_size;           /**< sizeof(sbprov_air_sample), set by the init function. */
    int64_t time_ms;              /**< When it was taken, in milliseconds of the gateway's monotonic clock
                                       (any origin, >= 0). Never before the room's previous sample. */
    int has_co2;                  /**< Non-zero: `co2_ppm` is set. */
    uint32_t co2_ppm;             /**< CO2 concentration in ppm, 0..::SBPROV_AIR_CO2_MAX. */
    int has_motion;               /**< Non-zero: `motion` is set (a PIR is there). */
    uint32_t motion;              /**< PIR motion events seen since the node's previous sample; 0 = none. */
    int has_temperature;          /**< Non-zero: `temperature_centi_c` is set (reported only). */
    int32_t temperature_centi_c;  /**< Air temperature in hundredths of a degree Celsius, -4000..12500. */
    int has_humidity;             /**< Non-zero: `humidity_centi_pct` is set (reported only). */
    uint32_t humidity_centi_pct;  /**< Relative humidity in hundredths of a percent, 0..10000. */
} sbprov_air_sample;

/**
 * Clear `sample` (no field present, time 0).
 *
 * @param sample      the sample to initialise.
 * @param struct_size sizeof(sbprov_air_sample) as the caller knows it.
 * @retval SBPROV_OK     `sample` is cleared.
 * @retval SBPROV_EINVAL `sample` is NULL or `struct_size` is smaller than the first version.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_sample_init(sbprov_air_sample *sample, size_t struct_size);

/**
 * Fill a sample from a decoded sensor record: CO2, motion, temperature and
 * humidity readings that are in range (others are left unset: a record
 * without any is a clock tick). The node's own timestamp (uptime) is not
 * used; `time_ms` is the gateway's clock when the record arrived.
 *
 * @param[out] sample  receives the sample; it is initialised here (set nothing before).
 * @param[in]  frame   the record (from a decoder callback or sbprov_frame_parse()).
 * @param[in]  time_ms the gateway's monotonic clock in milliseconds (>= 0).
 * @retval SBPROV_OK     `*sample` is set.
 * @retval SBPROV_EINVAL a pointer is NULL, `time_ms` is negative, or `frame` is malformed (an implausible
 *                       struct_size, too many readings, a reading of an unknown kind, no reading array).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_sample_from_frame(sbprov_air_sample *sample,
                                                                       const sbprov_frame *frame, int64_t time_ms);

/** Where a room stands after its latest sample. The caller sets `struct_size`. */
typedef struct sbprov_air_state {
    size_t struct_size;                /**< sizeof(sbprov_air_state), set by the caller. */
    int64_t time_ms;                   /**< Time of the latest sample; -1 before any. */
    uint64_t samples;                  /**< Samples accepted since the room was created or reset. */
    sbprov_air_co2_class co2_class;    /**< The CO2 class (UNKNOWN before the first CO2 reading). */
    int has_co2;                       /**< Non-zero once a CO2 reading arrived; the CO2 fields below need it. */
    uint32_t co2_ppm;                  /**< The latest CO2 reading, ppm. */
    double co2_smoothed_ppm;           /**< The smoothed CO2 the class is decided on, ppm. */
    int64_t ms_since_co2;              /**< Time since the latest CO2 reading; -1 if none. */
    int has_trend;                     /**< Non-zero: the window holds enough readings for a trend. */
    double trend_ppm_per_min;          /**< Least-squares slope of the readings in the window (0 without a trend). */
    uint32_t next_threshold_ppm;       /**< The threshold above the current class (0 in VENTILATE_NOW or UNKNOWN). */
    double minutes_to_threshold;       /**< Minutes from the latest CO2 reading until the smoothed CO2 reaches
                                            `next_threshold_ppm` at the trend; -1 when unknown, falling, flat
                                            (below 1 ppm/min) or there is no threshold above. */
    int occupied;                      /**< Non-zero: the room is occupied. */
    sbprov_air_reason occupied_reason; /**< Why it became occupied (MOTION or CO2_RISING), NONE when free. */
    int co2_rising;                    /**< Non-zero: the trend has been at or above `co2_rise_ppm_per_min` for
                                            `co2_rise_s` (counts as presence). */
    int64_t ms_since_motion;           /**< Time since the last motion; -1 if none was seen. */
    int has_temperature;               /**< Non-zero: `temperature_centi_c` holds the latest temperature. */
    int32_t temperature_centi_c;       /**< Latest temperature, hundredths of a degree Celsius. */
    int has_humidity;                  /**< Non-zero: `humidity_centi_pct` holds the latest humidity. */
    uint32_t humidity_centi_pct;       /**< Latest relative humidity, hundredths of a percent. */
    uint32_t events_pending;           /**< Events waiting in the queue. */
    uint64_t events_dropped;           /**< Events dropped because the queue was full (oldest first). */
} sbprov_air_state;

/** A change in a room. The caller sets `struct_size`. */
typedef struct sbprov_air_event {
    size_t struct_size;                  /**< sizeof(sbprov_air_event), set by the caller. */
    sbprov_air_event_kind kind;          /**< What happened; NONE when there was no event. */
    sbprov_air_reason reason;            /**< Why. */
    int64_t time_ms;                     /**< Time of the sample that caused it. */
    sbprov_air_co2_class co2_class;      /**< The CO2 class after the event. */
    sbprov_air_co2_class previous_class; /**< The CO2 class before it (equal for occupancy events). */
    uint32_t co2_ppm;                    /**< Smoothed CO2 at the event, rounded down (0 if unknown). */
    uint32_t threshold_ppm;              /**< The threshold crossed (ventilation events), else 0. */
    double trend_ppm_per_min;            /**< The trend at the event (0 without one). */
    int64_t ms_since_motion;             /**< Time since the last motion at the event; -1 if none was seen. */
    char room[SBPROV_AIR_NAME_SIZE];     /**< The room's name in a building; "" for a room of its own. */
    char reason_text[SBPROV_AIR_REASON_SIZE]; /**< The reason as text, e.g. "co2 1012 ppm >= 1000". */
} sbprov_air_event;

/** A room: its options, recent readings, state and event queue. */
typedef struct sbprov_air_room sbprov_air_room;

/**
 * Create a room with no readings (class UNKNOWN, not occupied).
 *
 * @param[out] out  receives the room; free it with sbprov_air_room_free().
 * @param[in]  opts options (copied), or NULL for the defaults.
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL `out` is NULL, `opts` is not initialised, or an option is out of range (the
 *                       detail names it).
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_room_new(sbprov_air_room **out,
                                                              const sbprov_air_room_options *opts);

/**
 * Release a room. NULL is a no-op, and so is a room that belongs to a
 * building (the building frees it).
 *
 * @param room from sbprov_air_room_new(), or NULL.
 */
SBPROV_API void sbprov_air_room_free(sbprov_air_room *room);

/**
 * Feed one sample. Everything is checked before anything changes: a refused
 * sample leaves the room as it was. A sample with no field set is a clock
 * tick (it lets the PIR hold time expire without new readings).
 *
 * @param room   the room.
 * @param sample the sample (read during the call only).
 * @retval SBPROV_OK     the sample is taken; events may be queued.
 * @retval SBPROV_EINVAL a pointer is NULL, `sample` is not initialised, its time is negative or before
 *                       the previous sample's (a clock that went backwards: sbprov_air_room_reset()
 *                       starts over), or a value is out of range; the detail says which.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_room_update(sbprov_air_room *room,
                                                                 const sbprov_air_sample *sample);

/**
 * Forget every reading, the state, queued events and the drop count (the
 * options and the name stay), e.g. after the gateway's clock restarted.
 *
 * @param room the room; NULL is a no-op.
 */
SBPROV_API void sbprov_air_room_reset(sbprov_air_room *room);

/**
 * The room's current state.
 *
 * @param[out] out  receives the state; set its `struct_size` first. Bytes past what this library
 *                  knows (a newer caller's larger struct) are zeroed.
 * @param[in]  room the room.
 * @retval SBPROV_OK     `*out` is filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is smaller than the first version or
 *                       implausibly large.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_room_state(sbprov_air_state *out, const sbprov_air_room *room);

/**
 * Take the oldest queued event. The queue holds ::SBPROV_AIR_EVENT_QUEUE_SIZE
 * events; when an event arrives at a full queue the oldest one is dropped and
 * counted in ::sbprov_air_state::events_dropped, so the newest changes are
 * always kept (the state is always current anyway).
 *
 * @param[out] out  receives the event, or kind ::SBPROV_AIR_EVENT_NONE if the queue is empty; set its
 *                  `struct_size` first.
 * @param[in]  room the room.
 * @retval SBPROV_OK     `*out` is filled (an empty queue is not an error).
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small or implausibly large.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_room_next_event(sbprov_air_event *out, sbprov_air_room *room);

/**
 * The room's name: "" for a room of its own, the name given to
 * sbprov_air_building_add_room() for a room of a building.
 *
 * @param room the room (NULL gives "").
 * @return the name, borrowed from the room until it is freed.
 */
SBPROV_API const char *sbprov_air_room_name(const sbprov_air_room *room);

/**
 * The state as one flat JSON object for IoT Hub telemetry, with DTDL-legal
 * names; fields that are not known yet are left out:
 * `{"room":"4.12","time_ms":900000,"co2_class":"ventilate","co2_ppm":1013,"co2_smoothed_ppm":1008.4,
 * "co2_trend_ppm_per_min":38.2,"next_threshold_ppm":2000,"minutes_to_threshold":26,"occupied":true,
 * "occupied_reason":"motion","seconds_since_motion":30,"temperature_c":21.53,"humidity_pct":45.2,
 * "events_dropped":0}` (in this order). Temperature and humidity are exact (fixed-point hundredths,
 * trailing zeros dropped); computed values are rounded to one decimal (trailing zero dropped).
 *
 * @param[out] buf      buffer for the NUL-terminated JSON.
 * @param[in]  buf_size its size.
 * @param[out] out_len  length without the NUL, or the size needed (NUL included) on ::SBPROV_EBUFS; may be NULL.
 * @param[in]  room     the room.
 * @retval SBPROV_OK     `buf` holds the JSON.
 * @retval SBPROV_EBUFS  `buf` is too small; `*out_len` has the size needed.
 * @retval SBPROV_EINVAL `room` is NULL, or `buf` is NULL with a non-zero `buf_size`.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_room_state_json(char *buf, size_t buf_size, size_t *out_len,
                                                                     const sbprov_air_room *room);

/**
 * Static name of a CO2 class.
 * @param co2_class a class.
 * @return "unknown", "fine", "ventilate", "ventilate_now", or "invalid" for other values; never NULL.
 */
SBPROV_API const char *sbprov_air_co2_class_name(sbprov_air_co2_class co2_class);

/**
 * Static name of an event kind.
 * @param kind an event kind.
 * @return "none", "occupied", "free", "ventilation_needed", "ventilation_done", or "invalid"; never NULL.
 */
SBPROV_API const char *sbprov_air_event_kind_name(sbprov_air_event_kind kind);

/**
 * Static name of an event reason.
 * @param reason a reason.
 * @return "none", "motion", "co2_rising", "no_presence", "co2_above", "co2_below", or "invalid"; never NULL.
 */
SBPROV_API const char *sbprov_air_reason_name(sbprov_air_reason reason);

/* ------------------------------------------------------------------------ */
/* Building: named rooms fed by sensor node IDs                             */
/* ------------------------------------------------------------------------ */

/** A set of named rooms, each with its own options, and the sensor nodes in them. */
typedef struct sbprov_air_building sbprov_air_building;

/**
 * Create an empty building.
 *
 * @param[out] out receives the building; free it with sbprov_air_building_free().
 * @retval SBPROV_OK     `*out` is set.
 * @retval SBPROV_EINVAL `out` is NULL.
 * @retval SBPROV_ENOMEM out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_new(sbprov_air_building **out);

/**
 * Release a building and its rooms. NULL is a no-op.
 *
 * @param building from sbprov_air_building_new(), or NULL.
 */
SBPROV_API void sbprov_air_building_free(sbprov_air_building *building);

/**
 * Add a room. Rooms are added at configuration time (this allocates); a
 * building holds at most 4096 rooms.
 *
 * @param[out] out      receives the room, owned by the building (valid until it is freed; do not
 *                      free it); may be NULL.
 * @param[in]  building the building.
 * @param[in]  name     the room's name (copied): 1..63 bytes of printable ASCII, unique in the building.
 * @param[in]  opts     its options (copied), or NULL for the defaults.
 * @retval SBPROV_OK      the room is added.
 * @retval SBPROV_EEXISTS a room of that name exists.
 * @retval SBPROV_EINVAL  a pointer is NULL, the name is empty, too long or not printable ASCII, the
 *                        building is full, or an option is invalid (as sbprov_air_room_new()).
 * @retval SBPROV_ENOMEM  out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_add_room(sbprov_air_room **out,
                                                                       sbprov_air_building *building,
                                                                       const char *name,
                                                                       const sbprov_air_room_options *opts);

/**
 * Place a sensor node in a room: its samples then go to that room. A room
 * may have several nodes (e.g. a CO2 sensor and a PIR); a node is in one
 * room. At most 65536 nodes.
 *
 * @param building the building.
 * @param node_id  the node's 64-bit ID (as in the sensor frames).
 * @param room     the room's name.
 * @retval SBPROV_OK       the node is placed.
 * @retval SBPROV_ENOTFOUND there is no room of that name.
 * @retval SBPROV_EEXISTS  the node is already placed (in any room).
 * @retval SBPROV_EINVAL   a pointer is NULL or the building has too many nodes.
 * @retval SBPROV_ENOMEM   out of memory.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_add_node(sbprov_air_building *building,
                                                                       uint64_t node_id, const char *room);

/**
 * Feed a node's sample to its room (sbprov_air_room_update()).
 *
 * @param building the building.
 * @param node_id  the node that sent it.
 * @param sample   the sample.
 * @retval SBPROV_OK       taken.
 * @retval SBPROV_ENOTFOUND the node is not placed in a room (nothing changed).
 * @retval SBPROV_EINVAL   as sbprov_air_room_update() (nothing changed).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_update(sbprov_air_building *building, uint64_t node_id,
                                                                     const sbprov_air_sample *sample);

/**
 * Feed a decoded sensor record to the room of its node: sbprov_air_sample_from_frame()
 * and sbprov_air_building_update() in one call.
 *
 * @param building the building.
 * @param frame    the record; its `node_id` selects the room.
 * @param time_ms  the gateway's monotonic clock in milliseconds when it arrived.
 * @retval SBPROV_OK       taken.
 * @retval SBPROV_ENOTFOUND the node is not placed in a room (nothing changed).
 * @retval SBPROV_EINVAL   as sbprov_air_sample_from_frame() or sbprov_air_room_update() (nothing changed).
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_update_frame(sbprov_air_building *building,
                                                                           const sbprov_frame *frame,
                                                                           int64_t time_ms);

/**
 * Find a room by name.
 *
 * @param[out] out      receives the room, owned by the building.
 * @param[in]  building the building.
 * @param[in]  name     the room's name.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ENOTFOUND no room has that name.
 * @retval SBPROV_EINVAL   a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_room(sbprov_air_room **out,
                                                                   sbprov_air_building *building, const char *name);

/**
 * Find the room a node is in.
 *
 * @param[out] out      receives the room, owned by the building.
 * @param[in]  building the building.
 * @param[in]  node_id  the node.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ENOTFOUND the node is not placed.
 * @retval SBPROV_EINVAL   a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_room_for_node(sbprov_air_room **out,
                                                                            sbprov_air_building *building,
                                                                            uint64_t node_id);

/**
 * Number of rooms.
 *
 * @param building the building (NULL gives 0).
 * @return the number of rooms added.
 */
SBPROV_API size_t sbprov_air_building_room_count(const sbprov_air_building *building);

/**
 * The room at `index`, in the order the rooms were added.
 *
 * @param[out] out      receives the room, owned by the building.
 * @param[in]  building the building.
 * @param[in]  index    0 .. sbprov_air_building_room_count() - 1.
 * @retval SBPROV_OK       `*out` is set.
 * @retval SBPROV_ENOTFOUND `index` is out of range.
 * @retval SBPROV_EINVAL   a pointer is NULL.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_room_at(sbprov_air_room **out,
                                                                      sbprov_air_building *building, size_t index);

/**
 * Take the oldest queued event of any room: the one with the earliest time,
 * and of those the one of the room added first. `out->room` names the room.
 *
 * @param[out] out      receives the event, or kind ::SBPROV_AIR_EVENT_NONE if every queue is empty; set
 *                      its `struct_size` first.
 * @param[in]  building the building.
 * @retval SBPROV_OK     `*out` is filled.
 * @retval SBPROV_EINVAL a pointer is NULL or `out->struct_size` is too small or implausibly large.
 */
SBPROV_API SBPROV_NODISCARD sbprov_result sbprov_air_building_next_event(sbprov_air_event *out,
                                                                         sbprov_air_building *building);

#ifdef __cplusplus
}
#endif

#endif /* SBPROV_AIR_H */
