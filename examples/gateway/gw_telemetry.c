/*
 * sbprov-gateway: telemetry ring and sender thread (see gw_telemetry.h).
 * SPDX-License-Identifier: MIT
 */
#include "gw_telemetry.h"
#include "gw_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A slot keeps what arrived, not its JSON: the raw record of a frame, or
 * the library's event struct. The sender renders both, so the input path
 * does no JSON work and every slot has a size fixed by construction. */
enum { SLOT_FRAME = 1, SLOT_EVENT = 2 };
#define BODY_MAX (256u * 1024u - 1u) /* IoT Hub's message size limit */

typedef struct slot {
    int64_t unix_ms;
    int64_t queued_ms; /* monotonic, for batch_max_ms */
    uint8_t type;
    uint8_t len;       /* of record */
    char room[SBPROV_AIR_NAME_SIZE];
    union {
        uint8_t record[SBPROV_FRAME_MAX];
        sbprov_air_event event;
    } u;
} slot;

_Static_assert(SBPROV_FRAME_MAX <= UINT8_MAX, "a record length fits the slot's len");

struct gw_telemetry {
    sbprov_azure_hub *hub;
    uint32_t batch_max, batch_max_ms, capacity, retry_max_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* messages queued, or stop */
    pthread_cond_t done;     /* the thread ended */
    int stopping, finished;
    int64_t flush_deadline_ms;
    slot *ring;              /* capacity slots */
    uint32_t head, count;    /* oldest at ring[head] */
    slot *batch;             /* the batch being sent (sender thread) */
    uint32_t batch_count;
    char *body;              /* BODY_MAX + 1 */
    gw_telemetry_stats stats;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(struct timespec *ts, int64_t mono_deadline_ms)
{
    /* The condition variables run on CLOCK_MONOTONIC (set at init). */
    ts->tv_sec = (time_t)(mono_deadline_ms / 1000);
    ts->tv_nsec = (long)(mono_deadline_ms % 1000) * 1000000L;
}

/* The next free slot, dropping the oldest when full. Called locked. */
static slot *claim_slot(gw_telemetry *t)
{
    if (t->count == t->capacity) {
        t->head = (t->head + 1) % t->capacity;
        t->count--;
        if (t->stats.dropped++ == 0)
            gw_log(GW_WARN, "telemetry queue full (%u messages): dropping the oldest (counted in telemetry.dropped)",
                   t->capacity);
    }
    slot *s = &t->ring[(t->head + t->count) % t->capacity];
    t->count++;
    t->stats.queued++;
    return s;
}

/* Claim a slot (locked) and fill its header; the caller fills `u`. */
static slot *begin_push(gw_telemetry *t, uint8_t type, const char *room, int64_t unix_ms)
{
    pthread_mutex_lock(&t->lock);
    slot *s = claim_slot(t);
    s->type = type;
    s->unix_ms = unix_ms;
    s->queued_ms = mono_ms();
    snprintf(s->room, sizeof s->room, "%s", room);
    return s;
}

static void end_push(gw_telemetry *t)
{
    if (t->count >= t->batch_max || t->count == 1)
        pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void gw_telemetry_push_frame(gw_telemetry *t, const sbprov_frame *frame, const char *room, int64_t unix_ms)
{
    if (t == NULL)
        return;
    slot *s = begin_push(t, SLOT_FRAME, room, unix_ms);
    s->len = (uint8_t)frame->record_len; /* the decoder's records are at most SBPROV_FRAME_MAX */
    memcpy(s->u.record, frame->record, frame->record_len);
    end_push(t);
}

void gw_telemetry_push_event(gw_telemetry *t, const sbprov_air_event *ev, int64_t unix_ms)
{
    if (t == NULL)
        return;
    slot *s = begin_push(t, SLOT_EVENT, ev->room, unix_ms);
    s->u.event = *ev;
    end_push(t);
}

/* Room names are printable ASCII (the library checks): only " and \ need escaping. */
static size_t json_name(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 2 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
    return n;
}

/* {"event":"ventilation_needed","room":...,"reason":...,...} into obj. */
static int render_event(char *obj, size_t size, const slot *s)
{
    const sbprov_air_event *ev = &s->u.event;
    char room[2 * SBPROV_AIR_NAME_SIZE], reason[2 * SBPROV_AIR_REASON_SIZE];
    json_name(room, sizeof room, s->room);
    json_name(reason, sizeof reason, ev->reason_text);
    return snprintf(obj, size,
                    "{\"event\":\"%s\",\"room\":\"%s\",\"received_ms\":%lld,\"reason\":\"%s\",\"co2_class\":\"%s\","
                    "\"co2_ppm\":%u,\"threshold_ppm\":%u,\"trend_ppm_per_min\":%.1f}",
                    sbprov_air_event_kind_name(ev->kind), room, (long long)s->unix_ms, reason,
                    sbprov_air_co2_class_name(ev->co2_class), ev->co2_ppm, ev->threshold_ppm, ev->trend_ppm_per_min);
}

/* Append one slot's JSON object to body[*len]; 0 when it does not fit. */
static int render_slot(char *body, size_t *len, const slot *s)
{
    /* Room and reason at most double when escaped: the buffer holds any object. */
    char obj[SBPROV_FRAME_JSON_MAX + 4 * SBPROV_AIR_NAME_SIZE + 2 * SBPROV_AIR_REASON_SIZE + 256];
    size_t n;
    if (s->type == SLOT_EVENT) {
        int k = render_event(obj, sizeof obj, s);
        if (k < 0 || (size_t)k >= sizeof obj)
            return 1; /* cannot happen (sized above); skip it rather than stall */
        n = (size_t)k;
    } else {
        sbprov_frame frame;
        sbprov_frame_reading readings[SBPROV_FRAME_KIND_LAST];
        char json[SBPROV_FRAME_JSON_MAX];
        size_t json_len;
        frame.struct_size = sizeof frame;
        if (sbprov_frame_parse(&frame, readings, NULL, s->u.record, s->len) != SBPROV_OK ||
            sbprov_frame_to_json(json, sizeof json, &json_len, &frame) != SBPROV_OK)
            return 1; /* cannot happen for a record the decoder accepted; skip it rather than stall */
        char room[2 * SBPROV_AIR_NAME_SIZE];
        json_name(room, sizeof room, s->room);
        /* {"room":"4.12","received_ms":...,<the record's own fields>} */
        int k = s->room[0] != '\0'
                    ? snprintf(obj, sizeof obj, "{\"room\":\"%s\",\"received_ms\":%lld,", room, (long long)s->unix_ms)
                    : snprintf(obj, sizeof obj, "{\"received_ms\":%lld,", (long long)s->unix_ms);
        if (k < 0 || (size_t)k + json_len > sizeof obj)
            return 1;
        memcpy(obj + k, json + 1, json_len - 1);
        n = (size_t)k + json_len - 1;
    }
    if (*len + n + 2 > BODY_MAX) /* the comma and the closing ] */
        return 0;
    if (*len > 1)
        body[(*len)++] = ',';
    memcpy(body + *len, obj, n);
    *len += n;
    return 1;
}

/* Send t->batch as one hub message. Returns the library's result. */
static sbprov_result send_batch(gw_telemetry *t, uint32_t *sent)
{
    size_t len = 0;
    uint32_t n = 0;
    t->body[len++] = '[';
    while (n < t->batch_count && render_slot(t->body, &len, &t->batch[n]))
        n++;
    t->body[len++] = ']';
    char count[16];
    snprintf(count, sizeof count, "%u", n);
    sbprov_azure_property props[] = {{"records", count}, {"source", "sbprov-gateway"}};
    sbprov_azure_message msg;
    if (sbprov_azure_message_init(&msg, sizeof msg) != SBPROV_OK)
        return SBPROV_EINVAL;
    msg.body = t->body;
    msg.body_len = len;
    msg.properties = props;
    msg.property_count = 2;
    *sent = n;
    return sbprov_azure_hub_send(t->hub, &msg, 1, NULL);
}

static int retryable(sbprov_result rc)
{
    return rc == SBPROV_ERATELIMIT || rc == SBPROV_ESERVER || rc == SBPROV_ENETWORK || rc == SBPROV_ETIMEOUT ||
           rc == SBPROV_ERESPONSE || rc == SBPROV_EAUTH || rc == SBPROV_ECLOCK || rc == SBPROV_ETLS ||
           rc == SBPROV_ECERT || rc == SBPROV_ENOMEM;
}

/* Wait (locked) until a batch is due or stop; returns 0 to stop. */
static int wait_for_batch(gw_telemetry *t)
{
    for (;;) {
        if (t->stopping)
            return t->count > 0 && mono_ms() < t->flush_deadline_ms;
        if (t->count >= t->batch_max)
            return 1;
        if (t->count == 0) {
            pthread_cond_wait(&t->wake, &t->lock);
            continue;
        }
        int64_t due = t->ring[t->head].queued_ms + t->batch_max_ms;
        if (mono_ms() >= due)
            return 1;
        struct timespec ts;
        deadline_ts(&ts, due);
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
    }
}

/* Sleep (unlocked on entry) for a back-off, waking early on stop. */
static void back_off(gw_telemetry *t, uint32_t ms)
{
    pthread_mutex_lock(&t->lock);
    int64_t until = mono_ms() + ms;
    struct timespec ts;
    deadline_ts(&ts, until);
    while (!t->stopping && mono_ms() < until)
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
    pthread_mutex_unlock(&t->lock);
}

static void *sender(void *arg)
{
    gw_telemetry *t = arg;
    uint32_t failures = 0;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        if (t->batch_count == 0) {
            if (!wait_for_batch(t))
                break; /* leaves locked */
            /* Take the batch out of the ring: the ring keeps filling meanwhile. */
            while (t->batch_count < t->batch_max && t->count > 0) {
                t->batch[t->batch_count++] = t->ring[t->head];
                t->head = (t->head + 1) % t->capacity;
                t->count--;
            }
        } else if (t->stopping && mono_ms() >= t->flush_deadline_ms) {
            break;
        }
        int stopping = t->stopping;
        pthread_mutex_unlock(&t->lock);

        uint32_t n = 0;
        sbprov_result rc = send_batch(t, &n);
        pthread_mutex_lock(&t->lock);
        if (rc == SBPROV_OK) {
            t->stats.sent += n;
            t->stats.batches++;
            memmove(t->batch, t->batch + n, (t->batch_count - n) * sizeof *t->batch);
            t->batch_count -= n;
            if (failures > 0)
                gw_log(GW_NOTICE, "telemetry: IoT Hub accepts messages again after %u failed attempts", failures);
            failures = 0;
            pthread_mutex_unlock(&t->lock);
            continue;
        }
        snprintf(t->stats.last_error, sizeof t->stats.last_error, "%s (%s)", sbprov_last_error(),
                 sbprov_strerror(rc));
        if (rc == SBPROV_ECANCELED)
            break; /* gw_telemetry_stop() after its deadline */
        if (!retryable(rc)) {
            /* The hub refused the batch itself (e.g. 413): retrying cannot help. */
            t->stats.rejected += t->batch_count;
            gw_log(GW_ERR, "telemetry: IoT Hub refused a batch of %u messages, dropped: %s", t->batch_count,
                   t->stats.last_error);
            t->batch_count = 0;
            pthread_mutex_unlock(&t->lock);
            continue;
        }
        t->stats.retries++;
        if (stopping)
            break; /* flushing within the stop deadline: no back-off, no second try */
        pthread_mutex_unlock(&t->lock);
        /* Back-off: the hub's Retry-After, else 1 s doubling up to retry_max_s. */
        sbprov_http_response_info info;
        info.struct_size = sizeof info;
        uint64_t ms = 1000ull << (failures < 16 ? failures : 16);
        if (sbprov_azure_hub_last_response(&info, t->hub) == SBPROV_OK && info.retry_after_s >= 0)
            ms = (uint64_t)info.retry_after_s * 1000u;
        if (ms > (uint64_t)t->retry_max_s * 1000u)
            ms = (uint64_t)t->retry_max_s * 1000u;
        if (ms == 0)
            ms = 100;
        failures++;
        gw_log(failures == 1 ? GW_WARN : GW_INFO, "telemetry: sending %u messages failed (attempt %u), retrying in %llu ms: %s",
               t->batch_count, failures, (unsigned long long)ms, t->stats.last_error);
        back_off(t, (uint32_t)ms);
    }
    /* Locked here. */
    t->stats.unsent = t->count + t->batch_count;
    t->finished = 1;
    pthread_cond_broadcast(&t->done);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int gw_telemetry_start(gw_telemetry **out, sbprov_azure_hub *hub, const gw_config *cfg)
{
    gw_telemetry *t = calloc(1, sizeof *t);
    if (t == NULL)
        goto oom;
    t->hub = hub;
    t->batch_max = cfg->batch_max_messages;
    t->batch_max_ms = cfg->batch_max_ms;
    t->capacity = cfg->queue_max_messages;
    t->retry_max_s = cfg->retry_max_s;
    /* calloc: pages of the ring are only touched (resident) once used. */
    t->ring = calloc(t->capacity, sizeof *t->ring);
    t->batch = calloc(t->batch_max, sizeof *t->batch);
    t->body = malloc(BODY_MAX + 1);
    if (t->ring == NULL || t->batch == NULL || t->body == NULL)
        goto oom;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, &ca);
    pthread_cond_init(&t->done, &ca);
    pthread_condattr_destroy(&ca);
    int err = pthread_create(&t->thread, NULL, sender, t);
    if (err != 0) {
        gw_log(GW_ERR, "telemetry: cannot start the sender thread: %s", strerror(err));
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        pthread_cond_destroy(&t->done);
        goto fail;
    }
    *out = t;
    return 0;
oom:
    gw_log(GW_ERR, "telemetry: out of memory for a queue of %u messages", cfg->queue_max_messages);
fail:
    if (t != NULL) {
        free(t->ring);
        free(t->batch);
        free(t->body);
        free(t);
    }
    return -1;
}

void gw_telemetry_get_stats(gw_telemetry *t, gw_telemetry_stats *out)
{
    memset(out, 0, sizeof *out);
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    *out = t->stats;
    out->waiting = t->count + t->batch_count;
    pthread_mutex_unlock(&t->lock);
}

void gw_telemetry_stop(gw_telemetry *t, uint32_t flush_ms, gw_telemetry_stats *final_stats)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    t->flush_deadline_ms = mono_ms() + flush_ms;
    pthread_cond_broadcast(&t->wake);
    struct timespec ts;
    deadline_ts(&ts, t->flush_deadline_ms + 100);
    while (!t->finished && pthread_cond_timedwait(&t->done, &t->lock, &ts) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&t->lock);
    /* A transfer still running past the deadline is cancelled; the thread
     * then sees SBPROV_ECANCELED and ends. */
    sbprov_azure_hub_cancel(t->hub);
    pthread_join(t->thread, NULL);
    if (final_stats != NULL) {
        *final_stats = t->stats;
        final_stats->waiting = t->count + t->batch_count;
    }
    if (t->stats.unsent > 0)
        gw_log(GW_WARN, "telemetry: %llu messages were not sent before the stop deadline",
               (unsigned long long)t->stats.unsent);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->done);
    free(t->ring);
    free(t->batch);
    free(t->body);
    free(t);
}
