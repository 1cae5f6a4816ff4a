/* IoT Hub device-to-cloud telemetry over HTTPS (azure_http.h): one POST per
 * message with the system and application properties as headers. */
#include "azure_conn.h"

#include "error.h"
#include "options.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_SIZE (offsetof(sbprov_azure_hub_options, retry_timeout_ms) + sizeof(uint32_t))
#define MSG_FIRST_SIZE (offsetof(sbprov_azure_message, property_count) + sizeof(size_t))
#define MESSAGE_MAX (256u * 1024u - 1u) /* as the Azure device SDKs cap it */
#define PROPERTY_MAX 64                 /* headers per message we are willing to send */
#define HEADER_MAX 512
#define DEFAULT_RETRY_MS 60000u

struct sbprov_azure_hub {
    sbprov__azure_conn conn;
    char *device_id;
    char *events_url;
    uint32_t retry_timeout_ms;
};

sbprov_result sbprov_azure_hub_options_init(sbprov_azure_hub_options *opts, size_t struct_size)
{
    return sbprov__options_init(opts, struct_size, FIRST_SIZE, "hub options");
}

sbprov_result sbprov_azure_message_init(sbprov_azure_message *msg, size_t struct_size)
{
    return sbprov__options_init(msg, struct_size, MSG_FIRST_SIZE, "azure message");
}

sbprov_result sbprov__azure_hub_options_load(sbprov_azure_hub_options *o, const sbprov_azure_hub_options *opts)
{
    return opts == NULL ? sbprov_azure_hub_options_init(o, sizeof *o)
                        : sbprov__options_load(o, opts, FIRST_SIZE, sizeof *o, "hub options");
}

void sbprov_azure_hub_free(sbprov_azure_hub *hub)
{
    if (hub == NULL)
        return;
    sbprov__azure_conn_free(&hub->conn);
    free(hub->device_id);
    free(hub->events_url);
    free(hub);
}

sbprov_result sbprov_azure_hub_new(sbprov_azure_hub **out, const char *connstr, size_t len,
                                   const sbprov_azure_hub_options *opts)
{
    sbprov_azure_hub_options o;
    sbprov_azure_connstr *cs = NULL;
    sbprov_azure_hub *hub = NULL;
    const char *host, *device, *key;
    char resource[SBPROV_AZURE_RESOURCE_URI_MAX_LEN + 1], endpoint[300];
    sbprov_result rc;

    if (out == NULL || connstr == NULL)
        return sbprov__fail(SBPROV_EINVAL, "hub: NULL argument");
    *out = NULL;
    if ((rc = sbprov__azure_hub_options_load(&o, opts)) != SBPROV_OK ||
        (rc = sbprov_azure_connstr_parse(&cs, connstr, len)) != SBPROV_OK)
        return rc;
    host = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_HOST_NAME);
    device = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_DEVICE_ID);
    key = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY);
    if (host == NULL || device == NULL || key == NULL ||
        sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_MODULE_ID) != NULL ||
        sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY_NAME) != NULL) {
        sbprov_azure_connstr_free(cs);
        return sbprov__fail(SBPROV_ECONNSTR, "hub: a device connection string is needed (HostName, DeviceId and "
                            "SharedAccessKey; no ModuleId or SharedAccessKeyName)");
    }
    snprintf(endpoint, sizeof endpoint, "https://%s", host);
    if ((rc = sbprov_azure_hub_device_uri(resource, sizeof resource, NULL, host, device)) != SBPROV_OK)
        goto out;
    if ((hub = calloc(1, sizeof *hub)) == NULL) {
        rc = sbprov__fail(SBPROV_ENOMEM, "hub: out of memory");
        goto out;
    }
    rc = sbprov__azure_conn_init(&hub->conn, o.endpoint, endpoint, o.http, resource, NULL, key, strlen(key),
                                 o.token_ttl_s, o.max_clock_skew_s, "azure hub");
    hub->retry_timeout_ms = o.retry_timeout_ms != 0 ? o.retry_timeout_ms : DEFAULT_RETRY_MS;
    if (rc == SBPROV_OK &&
        ((hub->device_id = strdup(device)) == NULL ||
         (hub->events_url = sbprov__http_url(hub->conn.base_url, "/devices/", device,
                                              "/messages/events?api-version=" SBPROV_AZURE_HUB_API_VERSION)) ==
             NULL))
        rc = sbprov__fail(SBPROV_ENOMEM, "hub: out of memory");
out:
    sbprov_azure_connstr_free(cs);
    if (rc != SBPROV_OK) {
        sbprov_azure_hub_free(hub);
        return rc;
    }
    *out = hub;
    return SBPROV_OK;
}

void sbprov_azure_hub_cancel(sbprov_azure_hub *hub)
{
    if (hub != NULL)
        sbprov__http_cancel(hub->conn.http);
}

sbprov_result sbprov_azure_hub_last_response(sbprov_http_response_info *out, sbprov_azure_hub *hub)
{
    return sbprov__http_last_response(out, hub != NULL ? hub->conn.http : NULL, hub != NULL ? &hub->conn.mu : NULL,
                                      "hub last response");
}

/* An HTTP token (RFC 9110 tchar): what a header name may hold. */
static int is_token(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") == strlen(s);
}

/* Printable ASCII without leading/trailing space, not empty (libcurl drops an
 * empty header): what a header value may hold here. */
static int is_header_value(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (s == NULL || n == 0 || n > 256 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static sbprov_result check_message(const sbprov_azure_message *m, size_t index, sbprov_azure_message *copy)
{
    sbprov_result rc = sbprov__options_load(copy, m, MSG_FIRST_SIZE, sizeof *copy, "azure message");

    if (rc != SBPROV_OK)
        return rc;
    if (copy->body == NULL && copy->body_len != 0)
        return sbprov__fail(SBPROV_EINVAL, "message %zu: NULL body", index);
    if (copy->body_len > MESSAGE_MAX)
        return sbprov__fail(SBPROV_EINVAL, "message %zu: %zu bytes, IoT Hub takes at most %u", index,
                            copy->body_len, MESSAGE_MAX);
    if ((copy->message_id != NULL && !is_header_value(copy->message_id)) ||
        (copy->correlation_id != NULL && !is_header_value(copy->correlation_id)) ||
        (copy->content_type != NULL && !is_header_value(copy->content_type)) ||
        (copy->content_encoding != NULL && !is_header_value(copy->content_encoding)))
        return sbprov__fail(SBPROV_EINVAL, "message %zu: an ID or content type/encoding is empty or not "
                            "printable ASCII (at most 256 characters)", index);
    /* 0 means now; otherwise 1970-01-01T00:00:01Z .. 9999-12-31T23:59:59Z. */
    if (copy->creation_time < 0 || copy->creation_time > 253402300799LL)
        return sbprov__fail(SBPROV_EINVAL, "message %zu: creation time %lld is outside year 1970..9999", index,
                            (long long)copy->creation_time);
    if (copy->property_count > PROPERTY_MAX || (copy->property_count > 0 && copy->properties == NULL))
        return sbprov__fail(SBPROV_EINVAL, "message %zu: at most %d properties (and not NULL)", index,
                            PROPERTY_MAX);
    for (size_t i = 0; i < copy->property_count; i++)
        if (!is_token(copy->properties[i].name) || !is_header_value(copy->properties[i].value))
            return sbprov__fail(SBPROV_EINVAL, "message %zu: property %zu ('%.64s') needs a token name and a "
                                "non-empty printable ASCII value", index, i,
                                copy->properties[i].name != NULL ? copy->properties[i].name : "(null)");
    return SBPROV_OK;
}

/* A random UUID (version 4) for the message ID. */
static sbprov_result uuid4(char out[37])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return sbprov__fail(SBPROV_ERANDOM, "hub: no random bytes for a message ID");
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return SBPROV_OK;
}

static sbprov_result send_one(sbprov_azure_hub *hub, const sbprov_azure_message *m, size_t index)
{
    char hdr[PROPERTY_MAX + 6][HEADER_MAX], id[37], when[40];
    const char *headers[PROPERTY_MAX + 6];
    size_t nh = 0;
    time_t t;
    struct tm tm;
    sbprov__http_request req = {0};
    sbprov__http_response resp;
    sbprov_result rc;

    if (m->message_id == NULL && (rc = uuid4(id)) != SBPROV_OK)
        return rc;
    t = m->creation_time != 0 ? (time_t)m->creation_time : time(NULL);
    if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return sbprov__fail(SBPROV_EINVAL, "message %zu: creation time out of range", index);
    snprintf(hdr[nh++], HEADER_MAX, "iothub-messageid: %s", m->message_id != NULL ? m->message_id : id);
    if (m->correlation_id != NULL)
        snprintf(hdr[nh++], HEADER_MAX, "iothub-correlationid: %s", m->correlation_id);
    snprintf(hdr[nh++], HEADER_MAX, "iothub-contenttype: %s",
             m->content_type != NULL ? m->content_type : "application/json");
    snprintf(hdr[nh++], HEADER_MAX, "iothub-contentencoding: %s",
             m->content_encoding != NULL ? m->content_encoding : "utf-8");
    snprintf(hdr[nh++], HEADER_MAX, "iothub-creation-time-utc: %s", when);
    for (size_t i = 0; i < m->property_count; i++)
        snprintf(hdr[nh++], HEADER_MAX, "iothub-app-%s: %s", m->properties[i].name, m->properties[i].value);
    for (size_t i = 0; i < nh; i++)
        headers[i] = hdr[i];
    req.method = "POST";
    req.url = hub->events_url;
    req.content_type = m->content_type != NULL ? m->content_type : "application/json";
    req.body = m->body != NULL ? m->body : "";
    req.body_len = m->body_len;
    req.headers = headers;
    req.header_count = nh;
    rc = sbprov__azure_request_retry(&resp, &hub->conn, &req, sbprov__monotonic_ms() + hub->retry_timeout_ms);
    if (rc != SBPROV_OK)
        return rc;
    if (resp.info.status != 204 && resp.info.status != 200)
        rc = sbprov__azure_status_fail(&resp, "hub send");
    sbprov__http_response_free(&resp);
    return rc;
}

static const sbprov_azure_message *message_at(const sbprov_azure_message *messages, size_t stride, size_t i)
{
    return (const sbprov_azure_message *)(const void *)((const char *)messages + i * stride);
}

sbprov_result sbprov_azure_hub_send(sbprov_azure_hub *hub, const sbprov_azure_message *messages, size_t count,
                                    size_t *accepted)
{
    sbprov_azure_message m;
    sbprov_result rc = SBPROV_OK;
    size_t i, stride;

    if (accepted != NULL)
        *accepted = 0;
    if (hub == NULL || (messages == NULL && count != 0))
        return sbprov__fail(SBPROV_EINVAL, "hub send: NULL argument");
    /* The array's stride is the caller's struct size (an older caller's
     * messages are smaller than ours). */
    stride = count > 0 ? messages[0].struct_size : 0;
    if (count > 0 && (stride < MSG_FIRST_SIZE || stride > 4096))
        return sbprov__fail(SBPROV_EINVAL, "hub send: message 0 is not initialised (struct_size %zu)", stride);
    /* Every message is checked before the first is sent. */
    for (i = 0; i < count; i++) {
        const sbprov_azure_message *mi = message_at(messages, stride, i);
        if (mi->struct_size != stride)
            return sbprov__fail(SBPROV_EINVAL, "hub send: message %zu has another struct_size than message 0", i);
        if ((rc = check_message(mi, i, &m)) != SBPROV_OK)
            return rc;
    }
    pthread_mutex_lock(&hub->conn.mu);
    for (i = 0; i < count; i++) {
        if ((rc = check_message(message_at(messages, stride, i), i, &m)) != SBPROV_OK ||
            (rc = send_one(hub, &m, i)) != SBPROV_OK)
            break;
        if (accepted != NULL)
            *accepted = i + 1;
    }
    pthread_mutex_unlock(&hub->conn.mu);
    if (rc != SBPROV_OK)
        sbprov__log(SBPROV_LOG_WARNING, "hub: %zu of %zu messages accepted; message %zu failed: %s", i, count, i,
                    sbprov_last_error());
    return rc;
}
