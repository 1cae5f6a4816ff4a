/* Azure over real HTTPS: libsbprov's DPS, IoT Hub telemetry and registry
 * clients against the Go Azure emulator (tests/emulators/azure, SAS tokens
 * verified with Go's crypto, enrollment groups checked by their group key)
 * behind nginx with TLS on loopback, started by tests/emulators/stack.py
 * --azure (SBPROV_TEST_AZURE_* variables). Run alone, it skips (exit 77). */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define EMU_CONTROL_ENV "SBPROV_TEST_AZURE_CONTROL"
#include "emu_control.h"

/* ---- fixtures ------------------------------------------------------------ */

static sbprov_http_options http_opts(void)
{
    sbprov_http_options h;
    assert_ok(sbprov_http_options_init(&h, sizeof h));
    h.ca_file = env("SBPROV_TEST_CA");
    h.connect_timeout_ms = 3000;
    h.timeout_ms = 5000;
    return h;
}

/* The device key derived from the stack's enrollment group key. */
static void derived_key(char out[SBPROV_AZURE_DERIVED_KEY_SIZE], const char *registration_id)
{
    const char *group = env("SBPROV_TEST_AZURE_GROUP_KEY");
    assert_ok(sbprov_azure_derive_device_key(out, SBPROV_AZURE_DERIVED_KEY_SIZE, NULL, group, strlen(group),
                                             registration_id));
}

static sbprov_azure_dps *dps_client(const sbprov_http_options *h, const char *url, const char *registration_id,
                                    const char *key)
{
    sbprov_azure_dps_options o;
    sbprov_azure_dps *d = NULL;
    assert_ok(sbprov_azure_dps_options_init(&o, sizeof o));
    o.endpoint = url;
    o.http = h;
    assert_ok(sbprov_azure_dps_new(&d, env("SBPROV_TEST_AZURE_ID_SCOPE"), registration_id, key, strlen(key), &o));
    return d;
}

/* Kinds of violation the running test provokes on purpose ("signature,etag"). */
static char expected_kinds[128];

static void expect_violations(const char *kinds)
{
    snprintf(expected_kinds, sizeof expected_kinds, ",%s,", kinds);
}

static int setup(void **state)
{
    (void)state;
    expected_kinds[0] = '\0';
    ctl_do("POST", "/_emu/reset", NULL);
    return 0;
}

/* Every request the client made must pass the emulator's checks, except the
 * kinds the test provoked. */
static int teardown(void **state)
{
    char *v = ctl("GET", "/_emu/violations", NULL), kind[64], needle[70];
    int clean = 1;
    (void)state;
    for (char *p = v; (p = strstr(p, "\"kind\":\"")) != NULL; p += 8) {
        if (sscanf(p + 8, "%63[^\"]", kind) != 1)
            continue;
        snprintf(needle, sizeof needle, ",%s,", kind);
        if (strstr(expected_kinds, needle) == NULL)
            clean = 0;
    }
    if (!clean)
        fprintf(stderr, "violations recorded: %s\n", v);
    free(v);
    ctl_do("DELETE", "/_emu/faults", NULL);
    assert_true(clean);
    return 0;
}

/* The device connection string after a registration. */
static char *device_connstr(const sbprov_azure_dps_result *r, const char *key)
{
    char *cs = NULL;
    assert_true(asprintf(&cs, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", sbprov_azure_dps_result_hub(r),
                         sbprov_azure_dps_result_device_id(r), key) > 0);
    return cs;
}

static sbprov_azure_hub *hub_client(const sbprov_http_options *h, const char *cs)
{
    sbprov_azure_hub_options o;
    sbprov_azure_hub *hub = NULL;
    assert_ok(sbprov_azure_hub_options_init(&o, sizeof o));
    o.endpoint = env("SBPROV_TEST_AZURE_HUB_URL");
    o.http = h;
    o.retry_timeout_ms = 8000;
    assert_ok(sbprov_azure_hub_new(&hub, cs, strlen(cs), &o));
    return hub;
}

/* ---- tests ------------------------------------------------------------------ */

/* The whole flow: derive from the group key, register (with a payload), get
 * assigned, send telemetry with properties, see it recorded; register again. */
static void test_register_and_send(void **state)
{
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_http_options h = http_opts();
    sbprov_azure_dps_result *r = NULL;
    (void)state;

    derived_key(key, "gw-berlin-0001");
    sbprov_azure_dps *d = dps_client(&h, env("SBPROV_TEST_AZURE_DPS_URL"), "gw-berlin-0001", key);
    /* The payload is sent as written: a big integer stays exact (regression). */
    assert_ok(sbprov_azure_dps_register(&r, d, "{\"site\":\"berlin\",\"floor\":4,\"asset\":12345678901234567890}",
                                        20000));
    assert_string_equal(sbprov_azure_dps_result_status(r), "assigned");
    assert_string_equal(sbprov_azure_dps_result_hub(r), env("SBPROV_TEST_AZURE_HUB_HOST"));
    assert_string_equal(sbprov_azure_dps_result_device_id(r), "gw-berlin-0001");
    assert_string_equal(sbprov_azure_dps_result_substatus(r), "initialAssignment");
    char *regs = ctl("GET", "/_emu/registrations", NULL);
    assert_non_null(strstr(regs, "\"floor\":4"));
    assert_non_null(strstr(regs, "12345678901234567890"));
    free(regs);

    char *cs = device_connstr(r, key);
    sbprov_azure_hub *hub = hub_client(&h, cs);
    sbprov_azure_property props[] = {{"room", "4.12"}, {"kind", "air"}};
    sbprov_azure_message m[3];
    const char *bodies[] = {"{\"co2_ppm\":812}", "{\"co2_ppm\":1240}", "{\"temperature_c\":21.53}"};
    for (int i = 0; i < 3; i++) {
        assert_ok(sbprov_azure_message_init(&m[i], sizeof m[i]));
        m[i].body = bodies[i];
        m[i].body_len = strlen(bodies[i]);
        m[i].properties = props;
        m[i].property_count = 2;
    }
    m[1].message_id = "msg-2";
    m[1].correlation_id = "corr-9";
    m[2].creation_time = 1800000000;
    size_t accepted = 0;
    assert_ok(sbprov_azure_hub_send(hub, m, 3, &accepted));
    assert_int_equal(accepted, 3);
    char *tel = ctl("GET", "/_emu/telemetry?device_id=gw-berlin-0001", NULL);
    assert_non_null(strstr(tel, "1240"));
    assert_non_null(strstr(tel, "\"message_id\":\"msg-2\""));
    assert_non_null(strstr(tel, "\"correlation_id\":\"corr-9\""));
    assert_non_null(strstr(tel, "\"content_type\":\"application/json\""));
    assert_non_null(strstr(tel, "\"content_encoding\":\"utf-8\""));
    assert_non_null(strstr(tel, "\"room\":\"4.12\""));
    assert_non_null(strstr(tel, "2027-01-15T08:00:00Z"));
    free(tel);

    /* Registering again: the same assignment. */
    sbprov_azure_dps_result_free(r);
    assert_ok(sbprov_azure_dps_register(&r, d, NULL, 20000));
    assert_string_equal(sbprov_azure_dps_result_status(r), "assigned");
    sbprov_azure_dps_result_free(r);
    sbprov_azure_hub_free(hub);
    free(cs);
    sbprov_azure_dps_free(d);
}

/* A wrong key, an unknown ID scope and a disabled or failing enrollment. */
static void test_dps_refusals(void **state)
{
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE], other[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_http_options h = http_opts();
    sbprov_azure_dps_result *r = NULL;
    (void)state;

    expect_violations("signature");
    derived_key(key, "gw-1");
    derived_key(other, "gw-2"); /* a valid key, of another device */
    sbprov_azure_dps *d = dps_client(&h, env("SBPROV_TEST_AZURE_DPS_URL"), "gw-1", other);
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 10000), SBPROV_EAUTH, "401");
    assert_null(r);
    sbprov_azure_dps_free(d);

    ctl_do("POST", "/_emu/enrollments", "{\"type\":\"individual\",\"registration_id\":\"gw-failing\","
                                        "\"failure\":{\"error_code\":400207,\"error_message\":\"Custom allocation "
                                        "failed with status code: 400\"}}");
    char *e = ctl("GET", "/_emu/enrollments", NULL);
    char *p = strstr(e, "\"registration_id\":\"gw-failing\"");
    assert_non_null(p);
    char *pk = strstr(p, "\"primary_key\":\"");
    assert_non_null(pk);
    char ikey[128];
    sscanf(pk + 15, "%127[^\"]", ikey);
    free(e);
    d = dps_client(&h, env("SBPROV_TEST_AZURE_DPS_URL"), "gw-failing", ikey);
    assert_ok(sbprov_azure_dps_register(&r, d, NULL, 10000));
    assert_string_equal(sbprov_azure_dps_result_status(r), "failed");
    assert_int_equal(sbprov_azure_dps_result_error_code(r), 400207);
    assert_non_null(strstr(sbprov_azure_dps_result_error_message(r), "Custom allocation"));
    assert_null(sbprov_azure_dps_result_hub(r));
    sbprov_azure_dps_result_free(r);
    sbprov_azure_dps_free(d);
}

/* 429 with Retry-After and 5xx are retried; a timeout is a timeout; garbage
 * and truncation are malformed answers; a cancel stops a poll. */
static void test_dps_faults(void **state)
{
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_http_options h = http_opts();
    sbprov_azure_dps_result *r = NULL;
    sbprov_http_response_info info = {sizeof info};
    (void)state;

    derived_key(key, "gw-faults");
    sbprov_azure_dps *d = dps_client(&h, env("SBPROV_TEST_AZURE_DPS_URL"), "gw-faults", key);
    faults("[{\"route\":\"/\",\"method\":\"PUT\",\"status\":429,\"retry_after\":\"1\",\"count\":1},"
           "{\"route\":\"/\",\"method\":\"GET\",\"status\":503,\"count\":1}]");
    assert_ok(sbprov_azure_dps_register(&r, d, NULL, 20000));
    assert_string_equal(sbprov_azure_dps_result_status(r), "assigned");
    sbprov_azure_dps_result_free(r);

    faults("[{\"route\":\"/\",\"status\":503}]");
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 2500), SBPROV_ESERVER, "503");
    ctl_do("DELETE", "/_emu/faults", NULL);
    faults("[{\"route\":\"/\",\"status\":429,\"retry_after\":\"30\"}]");
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 2500), SBPROV_ERATELIMIT, "retry after 30 s");
    assert_ok(sbprov_azure_dps_last_response(&info, d));
    assert_int_equal(info.retry_after_s, 30);
    ctl_do("DELETE", "/_emu/faults", NULL);
    faults("[{\"route\":\"/\",\"method\":\"PUT\",\"status\":202,\"garbage\":true,\"count\":1}]");
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 5000), SBPROV_ERESPONSE, "JSON");
    faults("[{\"route\":\"/\",\"method\":\"PUT\",\"truncate\":true,\"count\":1}]");
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 5000), SBPROV_ERESPONSE, "truncated");
    faults("[{\"route\":\"/\",\"method\":\"PUT\",\"delay_ms\":3000,\"count\":1}]");
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 1000), SBPROV_ETIMEOUT, "");
    ctl_do("DELETE", "/_emu/faults", NULL);
    /* Polls are slow (assign after 5 polls of 1 s): cancelled from another call path. */
    ctl_do("POST", "/_emu/config", "{\"assign_polls\":5}");
    sbprov_azure_dps_cancel(d);
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 20000), SBPROV_ECANCELED, "cancelled");
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 1500), SBPROV_ETIMEOUT, "still being assigned");
    sbprov_azure_dps_free(d);

    /* Untrusted CA: refused before anything is sent. */
    d = dps_client(&h, env("SBPROV_TEST_AZURE_UNTRUSTED_URL"), "gw-faults", key);
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 5000), SBPROV_ECERT, "not trusted");
    sbprov_azure_dps_free(d);
}

/* The gateway clock far off: the server's Date says so, ECLOCK names the
 * offset instead of a bare 401; tokens within the skew still work. */
static void test_clock_skew(void **state)
{
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_http_options h = http_opts();
    sbprov_azure_dps_result *r = NULL;
    (void)state;

    derived_key(key, "gw-clock");
    ctl_do("POST", "/_emu/config", "{\"clock_offset\":\"3h\"}");
    sbprov_azure_dps *d = dps_client(&h, env("SBPROV_TEST_AZURE_DPS_URL"), "gw-clock", key);
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 10000), SBPROV_ECLOCK, "behind the server's");
    /* Known now: the next call is refused without sending an expired token. */
    char *log = ctl("GET", "/_emu/requests", NULL);
    size_t before = 0;
    for (char *p = log; (p = strstr(p, "\"method\":\"PUT\"")) != NULL; p++)
        before++;
    free(log);
    assert_fails_with(sbprov_azure_dps_register(&r, d, NULL, 10000), SBPROV_ECLOCK, "already expired");
    log = ctl("GET", "/_emu/requests", NULL);
    size_t after = 0;
    for (char *p = log; (p = strstr(p, "\"method\":\"PUT\"")) != NULL; p++)
        after++;
    free(log);
    assert_int_equal(before, after);
    sbprov_azure_dps_free(d);

    /* Two minutes off: within Azure's five, it works. */
    ctl_do("POST", "/_emu/config", "{\"clock_offset\":\"120s\"}");
    d = dps_client(&h, env("SBPROV_TEST_AZURE_DPS_URL"), "gw-clock", key);
    assert_ok(sbprov_azure_dps_register(&r, d, NULL, 10000));
    sbprov_azure_dps_result_free(r);
    sbprov_azure_dps_free(d);
    ctl_do("POST", "/_emu/config", "{\"clock_offset\":\"0s\"}");
}

/* Telemetry: 429 and 5xx retried with nothing lost; a wrong key is 401 with
 * the count of accepted messages exact; an oversized message is refused. */
static void test_telemetry_faults(void **state)
{
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE], *cs;
    sbprov_http_options h = http_opts();
    sbprov_azure_message m[4];
    size_t accepted = 0;
    char bodies[4][32];
    (void)state;

    expect_violations("signature");
    derived_key(key, "gw-tel");
    /* The device, as DPS would have made it (the control API adds it directly). */
    char body[256];
    snprintf(body, sizeof body, "{\"device_id\":\"gw-tel\",\"primary_key\":\"%s\"}", key);
    ctl_do("POST", "/_emu/devices", body);
    assert_true(asprintf(&cs, "HostName=%s;DeviceId=gw-tel;SharedAccessKey=%s", env("SBPROV_TEST_AZURE_HUB_HOST"),
                         key) > 0);
    sbprov_azure_hub *hub = hub_client(&h, cs);
    for (int i = 0; i < 4; i++) {
        assert_ok(sbprov_azure_message_init(&m[i], sizeof m[i]));
        snprintf(bodies[i], sizeof bodies[i], "{\"n\":%d}", i);
        m[i].body = bodies[i];
        m[i].body_len = strlen(bodies[i]);
    }
    faults("[{\"route\":\"/devices\",\"status\":429,\"retry_after\":\"1\",\"count\":1,\"skip\":1},"
           "{\"route\":\"/devices\",\"status\":500,\"count\":2,\"skip\":2}]");
    assert_ok(sbprov_azure_hub_send(hub, m, 4, &accepted));
    assert_int_equal(accepted, 4);
    char *tel = ctl("GET", "/_emu/telemetry?device_id=gw-tel", NULL);
    for (int i = 0; i < 4; i++) {
        char esc[32];
        snprintf(esc, sizeof esc, "\\\"n\\\":%d}", i); /* the body as JSON-escaped in the record */
        assert_non_null(strstr(tel, esc));
    }
    int count = 0;
    for (char *p = tel; (p = strstr(p, "\"device_id\":\"gw-tel\"")) != NULL; p++)
        count++;
    assert_int_equal(count, 4);
    free(tel);

    /* Throttled for longer than the retry budget: the caller learns how many got through. */
    ctl_do("DELETE", "/_emu/faults", NULL);
    faults("[{\"route\":\"/devices\",\"status\":429,\"retry_after\":\"20\",\"skip\":2}]");
    assert_fails_with(sbprov_azure_hub_send(hub, m, 4, &accepted), SBPROV_ERATELIMIT, "429");
    assert_int_equal(accepted, 2);
    ctl_do("DELETE", "/_emu/faults", NULL);
    sbprov_azure_hub_free(hub);
    free(cs);

    /* A wrong key. */
    assert_true(asprintf(&cs, "HostName=%s;DeviceId=gw-tel;SharedAccessKey=%s", env("SBPROV_TEST_AZURE_HUB_HOST"),
                         env("SBPROV_TEST_AZURE_GROUP_KEY")) > 0);
    hub = hub_client(&h, cs);
    assert_fails_with(sbprov_azure_hub_send(hub, m, 1, &accepted), SBPROV_EAUTH, "401");
    assert_int_equal(accepted, 0);
    sbprov_azure_hub_free(hub);
    free(cs);
}

/* The registry: create with generated keys, 409 on create again, read,
 * update with the etag (412 with a stale one), delete; the device can then
 * no longer send. */
static void test_registry(void **state)
{
    sbprov_http_options h = http_opts();
    sbprov_azure_hub_options o;
    sbprov_azure_registry *reg = NULL;
    sbprov_azure_device *d = NULL, *d2 = NULL;
    const char *cs = env("SBPROV_TEST_AZURE_SERVICE_CONNSTR");
    char etag[256], key[128];
    (void)state;

    assert_ok(sbprov_azure_hub_options_init(&o, sizeof o));
    o.endpoint = env("SBPROV_TEST_AZURE_HUB_URL");
    o.http = &h;
    assert_ok(sbprov_azure_registry_new(&reg, cs, strlen(cs), &o));
    assert_ok(sbprov_azure_registry_put_device(&d, reg, "gw-reg-1", NULL, NULL, NULL));
    assert_string_equal(sbprov_azure_device_id(d), "gw-reg-1");
    assert_string_equal(sbprov_azure_device_status(d), "enabled");
    assert_non_null(sbprov_azure_device_primary_key(d));
    assert_true(strlen(sbprov_azure_device_primary_key(d)) == 44);
    snprintf(etag, sizeof etag, "%s", sbprov_azure_device_etag(d));
    snprintf(key, sizeof key, "%s", sbprov_azure_device_primary_key(d));
    assert_fails_with(sbprov_azure_registry_put_device(NULL, reg, "gw-reg-1", NULL, NULL, NULL), SBPROV_EEXISTS,
                      "409");
    assert_ok(sbprov_azure_registry_get_device(&d2, reg, "gw-reg-1"));
    assert_string_equal(sbprov_azure_device_primary_key(d2), key);
    assert_string_equal(sbprov_azure_device_etag(d2), etag);
    sbprov_azure_device_free(d2);
    sbprov_azure_device_free(d);

    /* An update without keys keeps them (regression: new ones were generated). */
    assert_ok(sbprov_azure_registry_put_device(&d, reg, "gw-reg-1", NULL, NULL, etag));
    assert_string_equal(sbprov_azure_device_primary_key(d), key);
    snprintf(etag, sizeof etag, "%s", sbprov_azure_device_etag(d));
    sbprov_azure_device_free(d);
    sbprov_http_response_info info = {sizeof info};
    assert_ok(sbprov_azure_registry_last_response(&info, reg));
    assert_int_equal(info.status, 200);

    /* Rotate: new keys with the etag; the old etag is then stale. */
    char fresh[SBPROV_AZURE_KEY_B64_SIZE(32)];
    assert_ok(sbprov_azure_generate_key(fresh, sizeof fresh, NULL, 32));
    assert_ok(sbprov_azure_registry_put_device(&d, reg, "gw-reg-1", fresh, key, etag));
    assert_string_equal(sbprov_azure_device_primary_key(d), fresh);
    assert_string_equal(sbprov_azure_device_secondary_key(d), key);
    sbprov_azure_device_free(d);
    assert_fails_with(sbprov_azure_registry_put_device(NULL, reg, "gw-reg-1", NULL, NULL, etag), SBPROV_ECONFLICT,
                      "etag");
    assert_fails_with(sbprov_azure_registry_delete_device(reg, "gw-reg-1", etag), SBPROV_ECONFLICT, "etag");

    /* The device sends with its (now secondary) key, then is deleted. */
    char *dcs;
    assert_true(asprintf(&dcs, "HostName=%s;DeviceId=gw-reg-1;SharedAccessKey=%s",
                         env("SBPROV_TEST_AZURE_HUB_HOST"), key) > 0);
    sbprov_azure_hub *hub = hub_client(&h, dcs);
    sbprov_azure_message m;
    assert_ok(sbprov_azure_message_init(&m, sizeof m));
    m.body = "{}";
    m.body_len = 2;
    assert_ok(sbprov_azure_hub_send(hub, &m, 1, NULL));
    assert_ok(sbprov_azure_registry_delete_device(reg, "gw-reg-1", NULL));
    assert_fails_with(sbprov_azure_registry_get_device(&d, reg, "gw-reg-1"), SBPROV_ENOTFOUND, "404");
    assert_fails_with(sbprov_azure_registry_delete_device(reg, "gw-reg-1", NULL), SBPROV_ENOTFOUND, "404");
    assert_fails_with(sbprov_azure_hub_send(hub, &m, 1, NULL), SBPROV_EAUTH, "");
    sbprov_azure_hub_free(hub);
    free(dcs);
    sbprov_azure_registry_free(reg);

    /* A device connection string is not a service one; a policy without RegistryWrite is refused. */
    static const char device_cs[] =
        "HostName=h.azure-devices.net;DeviceId=x;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    assert_fails_with(sbprov_azure_registry_new(&reg, device_cs, strlen(device_cs), &o), SBPROV_ECONNSTR,
                      "service connection");
    char *dev_policy;
    assert_true(asprintf(&dev_policy, "HostName=%s;SharedAccessKeyName=device;SharedAccessKey=%s",
                         env("SBPROV_TEST_AZURE_HUB_HOST"), env("SBPROV_TEST_AZURE_DEVICE_POLICY_KEY")) > 0);
    assert_ok(sbprov_azure_registry_new(&reg, dev_policy, strlen(dev_policy), &o));
    assert_fails_with(sbprov_azure_registry_put_device(NULL, reg, "gw-reg-2", NULL, NULL, NULL), SBPROV_EAUTH, "");
    sbprov_azure_registry_free(reg);
    free(dev_policy);
}

/* Tokens are renewed before they expire: with a 2 s lifetime and a server
 * that allows no clock skew, a second send 2.5 s later works only with a
 * fresh token. */
static void test_token_renewal(void **state)
{
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE], body[256], *cs;
    sbprov_http_options h = http_opts();
    sbprov_azure_hub_options o;
    sbprov_azure_hub *hub = NULL;
    sbprov_azure_message m;
    (void)state;

    derived_key(key, "gw-renew");
    snprintf(body, sizeof body, "{\"device_id\":\"gw-renew\",\"primary_key\":\"%s\"}", key);
    ctl_do("POST", "/_emu/devices", body);
    ctl_do("POST", "/_emu/config", "{\"skew\":\"0s\"}");
    assert_true(asprintf(&cs, "HostName=%s;DeviceId=gw-renew;SharedAccessKey=%s",
                         env("SBPROV_TEST_AZURE_HUB_HOST"), key) > 0);
    assert_ok(sbprov_azure_hub_options_init(&o, sizeof o));
    o.endpoint = env("SBPROV_TEST_AZURE_HUB_URL");
    o.http = &h;
    o.token_ttl_s = 2;
    assert_ok(sbprov_azure_hub_new(&hub, cs, strlen(cs), &o));
    assert_ok(sbprov_azure_message_init(&m, sizeof m));
    m.body = "{\"n\":1}";
    m.body_len = strlen(m.body);
    assert_ok(sbprov_azure_hub_send(hub, &m, 1, NULL));
    usleep(2500000);
    assert_ok(sbprov_azure_hub_send(hub, &m, 1, NULL));
    sbprov_azure_hub_free(hub);
    free(cs);
    ctl_do("POST", "/_emu/config", "{\"skew\":\"5m\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_and_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dps_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dps_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_skew, setup, teardown),
        cmocka_unit_test_setup_teardown(test_telemetry_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_renewal, setup, teardown),
    };
    int rc;

    if (getenv("SBPROV_TEST_AZURE_URL") == NULL) {
        fprintf(stderr, "SBPROV_TEST_AZURE_URL is not set: run under tests/emulators/stack.py --azure (skipped)\n");
        return 77;
    }
    if (sbprov_global_init() < 1)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    (void)sbprov_global_shutdown();
    return rc;
}
