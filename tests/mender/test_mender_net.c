/* Mender over real HTTPS: libsbprov's device and management clients against
 * the Go Mender emulator (tests/emulators/mender) behind nginx with TLS on
 * loopback, started by tests/emulators/stack.py, which exports the
 * SBPROV_TEST_* variables read here. The emulator's control API (plain
 * HTTP, never through nginx) resets state, injects faults and reports what
 * the server recorded. Run alone, the test skips (exit 77). */
#define _GNU_SOURCE
#include "test_util.h"

#include <sbprov/mender.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define EMU_CONTROL_ENV "SBPROV_TEST_MENDER_CONTROL"
#include "emu_control.h"

/* ---- fixtures ------------------------------------------------------------ */

typedef struct fx {
    sbprov_http_options http;
    sbprov_mender_mgmt *mgmt;
} fx;

static sbprov_identity *identity(const char *mac)
{
    sbprov_identity *id = NULL;
    assert_ok(sbprov_identity_new(&id));
    assert_ok(sbprov_identity_add(id, "mac", mac));
    return id;
}

static sbprov_key *new_key(sbprov_key_type type)
{
    sbprov_key_generate_options g;
    sbprov_key *k = NULL;
    assert_ok(sbprov_key_generate_options_init(&g, sizeof g));
    g.type = type;
    g.rsa_bits = 2048;
    assert_ok(sbprov_key_generate(&k, &g));
    return k;
}

static sbprov_mender *device(const fx *f, const char *url, const sbprov_identity *id, const sbprov_key *key,
                             sbprov_store *store)
{
    sbprov_mender_options o;
    sbprov_mender *m = NULL;
    assert_ok(sbprov_mender_options_init(&o, sizeof o));
    o.http = &f->http;
    o.token_store = store;
    assert_ok(sbprov_mender_new(&m, url, id, key, &o));
    return m;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    const char *pass = env("SBPROV_TEST_MENDER_PASSWORD");

    ctl_do("POST", "/_emu/reset", NULL);
    assert_ok(sbprov_http_options_init(&f->http, sizeof f->http));
    f->http.ca_file = env("SBPROV_TEST_CA");
    f->http.connect_timeout_ms = 3000;
    f->http.timeout_ms = 5000;
    assert_ok(sbprov_mender_mgmt_new(&f->mgmt, env("SBPROV_TEST_MENDER_URL"), &f->http));
    assert_ok(sbprov_mender_mgmt_login(f->mgmt, env("SBPROV_TEST_MENDER_USER"), pass, strlen(pass)));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char *v = ctl("GET", "/_emu/violations", NULL);
    int clean = strcmp(v, "[]") == 0 || strstr(v, "\"violations\":[]") != NULL || strcmp(v, "null") == 0;
    if (!clean)
        fprintf(stderr, "OpenAPI violations recorded: %s\n", v);
    free(v);
    ctl_do("DELETE", "/_emu/faults", NULL);
    sbprov_mender_mgmt_free(f->mgmt);
    free(f);
    assert_true(clean);
    return 0;
}

/* ---- tests ------------------------------------------------------------------ */

/* Preauthorized identity + key: the first authentication is accepted, for
 * every key type; preauthorizing again is idempotent (409 → same ID). */
static void test_preauthorized_accepted_every_key_type(void **state)
{
    static const sbprov_key_type types[] = {SBPROV_KEY_ED25519, SBPROV_KEY_ECDSA_P256, SBPROV_KEY_RSA};
    fx *f = *state;

    for (size_t i = 0; i < 3; i++) {
        char mac[32], dev_id[80], again[80], tok_id[80];
        int existed = -1;
        size_t len;
        sbprov_mender_auth_status st;
        sbprov_mender_device *d = NULL;
        snprintf(mac, sizeof mac, "02:00:00:00:01:%02zx", i);
        sbprov_identity *id = identity(mac);
        sbprov_key *k = new_key(types[i]);

        assert_ok(sbprov_mender_mgmt_preauthorize(dev_id, sizeof dev_id, &len, &existed, f->mgmt, id, k, 0));
        assert_int_equal(existed, 0);
        assert_int_equal(len, strlen(dev_id));
        assert_ok(sbprov_mender_mgmt_preauthorize(again, sizeof again, NULL, &existed, f->mgmt, id, k, 0));
        assert_int_equal(existed, 1);
        assert_string_equal(again, dev_id);

        sbprov_mender *m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
        assert_ok(sbprov_mender_authenticate(&st, m));
        assert_int_equal(st, SBPROV_MENDER_ACCEPTED);
        assert_ok(sbprov_mender_token_device_id(tok_id, sizeof tok_id, NULL, m));
        assert_string_equal(tok_id, dev_id);
        int64_t exp = 0;
        assert_ok(sbprov_mender_token_expiry(&exp, m));
        assert_true(exp > (int64_t)time(NULL));

        assert_ok(sbprov_mender_mgmt_get_device(&d, f->mgmt, dev_id));
        assert_string_equal(sbprov_mender_device_status(d), "accepted");
        char want_id[64];
        snprintf(want_id, sizeof want_id, "{\"mac\":\"%s\"}", mac);
        assert_string_equal(sbprov_mender_device_identity_json(d), want_id);
        assert_int_equal(sbprov_mender_device_auth_set_count(d), 1);
        assert_string_equal(sbprov_mender_device_auth_set_status(d, 0), "accepted");
        sbprov_mender_device_free(d);
        sbprov_mender_free(m);
        sbprov_key_free(k);
        sbprov_identity_free(id);
    }
}

/* An unknown device is pending (401) until accepted through the management
 * API; then the same request is accepted. A new key for the same identity
 * (rotation) adds a new pending auth set; decommissioning removes the device. */
static void test_pending_accept_rotate_decommission(void **state)
{
    fx *f = *state;
    sbprov_identity *id = identity("02:00:00:00:02:01");
    sbprov_key *k1 = new_key(SBPROV_KEY_ED25519), *k2 = new_key(SBPROV_KEY_ECDSA_P256);
    sbprov_mender *m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k1, NULL);
    sbprov_mender_auth_status st;
    sbprov_mender_device *d = NULL;
    char dev_id[80], buf[80];
    uint64_t n = 0;

    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_PENDING);
    assert_fails_with(sbprov_mender_token(buf, sizeof buf, NULL, m), SBPROV_ENOTFOUND, "not authenticated");
    assert_ok(sbprov_mender_mgmt_count(&n, f->mgmt, "pending"));
    assert_int_equal(n, 1);

    assert_ok(sbprov_mender_mgmt_find_device(&d, f->mgmt, id));
    assert_string_equal(sbprov_mender_device_status(d), "pending");
    assert_int_equal(sbprov_mender_device_auth_set_count(d), 1);
    snprintf(dev_id, sizeof dev_id, "%s", sbprov_mender_device_id(d));
    assert_ok(sbprov_mender_mgmt_set_auth_status(f->mgmt, dev_id, sbprov_mender_device_auth_set_id(d, 0),
                                                 "accepted"));
    sbprov_mender_device_free(d);
    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_ACCEPTED);
    sbprov_mender_free(m);

    /* Key rotation: same identity, new key → a second, pending auth set. */
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k2, NULL);
    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_PENDING);
    assert_ok(sbprov_mender_mgmt_get_device(&d, f->mgmt, dev_id));
    assert_int_equal(sbprov_mender_device_auth_set_count(d), 2);
    int pending = 0, accepted = 0;
    for (size_t i = 0; i < 2; i++) {
        pending += strcmp(sbprov_mender_device_auth_set_status(d, i), "pending") == 0;
        accepted += strcmp(sbprov_mender_device_auth_set_status(d, i), "accepted") == 0;
    }
    assert_int_equal(pending, 1);
    assert_int_equal(accepted, 1);
    sbprov_mender_device_free(d);
    assert_fails_with(sbprov_mender_mgmt_set_auth_status(f->mgmt, dev_id, "no-such-set", "accepted"),
                      SBPROV_ENOTFOUND, "404");
    assert_fails_with(sbprov_mender_mgmt_set_auth_status(f->mgmt, dev_id, "a/b", "accepted"), SBPROV_EINVAL,
                      "not an ID");
    assert_fails_with(sbprov_mender_mgmt_set_auth_status(f->mgmt, dev_id, "x", "maybe"), SBPROV_EINVAL,
                      "not accepted, rejected or pending");

    assert_ok(sbprov_mender_mgmt_decommission(f->mgmt, dev_id));
    assert_fails_with(sbprov_mender_mgmt_get_device(&d, f->mgmt, dev_id), SBPROV_ENOTFOUND, "404");
    assert_fails_with(sbprov_mender_mgmt_decommission(f->mgmt, dev_id), SBPROV_ENOTFOUND, "404");
    sbprov_mender_free(m);
    sbprov_key_free(k1);
    sbprov_key_free(k2);
    sbprov_identity_free(id);
}

/* An accepted device with its token, ready for device API calls. */
static sbprov_mender *accepted_device(fx *f, const char *mac, sbprov_identity **id_out, sbprov_key **key_out,
                                      sbprov_store *store, char *dev_id, size_t dev_id_size)
{
    sbprov_identity *id = identity(mac);
    sbprov_key *k = new_key(SBPROV_KEY_ED25519);
    sbprov_mender_auth_status st;
    assert_ok(sbprov_mender_mgmt_preauthorize(dev_id, dev_id_size, NULL, NULL, f->mgmt, id, k, 0));
    sbprov_mender *m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, store);
    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_ACCEPTED);
    *id_out = id;
    *key_out = k;
    return m;
}

/* Inventory PUT and PATCH reach the server as typed attributes; bad sets are
 * refused before anything is sent. */
static void test_inventory(void **state)
{
    fx *f = *state;
    sbprov_identity *id;
    sbprov_key *k;
    char dev_id[80], q[160];
    sbprov_mender *m = accepted_device(f, "02:00:00:00:03:01", &id, &k, NULL, dev_id, sizeof dev_id);
    sbprov_inventory *inv = NULL, *bad = NULL;
    const char *one[] = {"gw-1.4.2"}, *two[] = {"eth0", "wlan0"};
    double nums[] = {21.5, 3};

    assert_ok(sbprov_inventory_new(&inv));
    assert_ok(sbprov_inventory_add_strings(inv, "artifact_name", one, 1));
    assert_ok(sbprov_inventory_add_strings(inv, "network_interfaces", two, 2));
    assert_ok(sbprov_inventory_add_numbers(inv, "rooms", nums, 2));
    assert_fails_with(sbprov_inventory_add_strings(inv, "rooms", one, 1), SBPROV_EEXISTS, "already");
    assert_fails_with(sbprov_inventory_add_strings(inv, "", one, 1), SBPROV_EID, "1 to 1024");
    assert_fails_with(sbprov_inventory_add_strings(inv, "bad\nname", one, 1), SBPROV_EID, "printable");
    double nan = 0.0 / 0.0;
    assert_fails_with(sbprov_inventory_add_numbers(inv, "x", &nan, 1), SBPROV_EINVAL, "finite");
    assert_ok(sbprov_mender_update_inventory(m, inv, SBPROV_INVENTORY_REPLACE));

    snprintf(q, sizeof q, "/_emu/devices?id=%s", dev_id);
    char *state_json = ctl("GET", q, NULL);
    assert_non_null(strstr(state_json, "\"network_interfaces\""));
    assert_non_null(strstr(state_json, "\"wlan0\""));
    assert_non_null(strstr(state_json, "21.5"));
    free(state_json);

    assert_ok(sbprov_inventory_new(&bad));
    assert_fails_with(sbprov_mender_update_inventory(m, bad, SBPROV_INVENTORY_MERGE), SBPROV_EINVAL, "no attrib");
    for (int i = 0; i < SBPROV_INVENTORY_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", i);
        assert_ok(sbprov_inventory_add_numbers(bad, name, nums, 1));
    }
    assert_fails_with(sbprov_inventory_add_numbers(bad, "one-too-many", nums, 1), SBPROV_EINVAL, "at most 100");
    /* Merged with the 3 attributes sent before, 100 more exceed the server's
     * limit per scope (400); replacing them is fine. */
    assert_fails_with(sbprov_mender_update_inventory(m, bad, SBPROV_INVENTORY_MERGE), SBPROV_EHTTP, "above the limit");
    assert_ok(sbprov_mender_update_inventory(m, bad, SBPROV_INVENTORY_REPLACE));
    assert_int_equal(sbprov_inventory_count(bad), 100);

    sbprov_inventory_free(inv);
    sbprov_inventory_free(bad);
    sbprov_mender_free(m);
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

/* deployments/next: v2 POST first; the open-source server has none (404),
 * so v1 GET; 204 = no update; a configured deployment comes back. */
static void test_update_check(void **state)
{
    fx *f = *state;
    sbprov_identity *id;
    sbprov_key *k;
    char dev_id[80], json[512];
    sbprov_mender *m = accepted_device(f, "02:00:00:00:04:01", &id, &k, NULL, dev_id, sizeof dev_id);
    sbprov_mender_update *u = (sbprov_mender_update *)1;

    assert_ok(sbprov_mender_check_update(&u, m, "gw-1.0", "raspberrypi4"));
    assert_null(u);
    snprintf(json, sizeof json,
             "{\"device_id\":\"%s\",\"id\":\"dep-1\",\"artifact_name\":\"gw-1.1\","
             "\"uri\":\"https://s3.example/gw-1.1.mender\",\"device_types_compatible\":[\"raspberrypi4\"]}",
             dev_id);
    ctl_do("POST", "/_emu/deployments", json);
    assert_ok(sbprov_mender_check_update(&u, m, "gw-1.0", "raspberrypi4"));
    assert_non_null(u);
    assert_string_equal(sbprov_mender_update_id(u), "dep-1");
    assert_string_equal(sbprov_mender_update_artifact_name(u), "gw-1.1");
    assert_string_equal(sbprov_mender_update_uri(u), "https://s3.example/gw-1.1.mender");
    assert_non_null(strstr(sbprov_mender_update_json(u), "device_types_compatible"));
    sbprov_mender_update_free(u);
    char *log = ctl("GET", "/_emu/requests", NULL);
    assert_non_null(strstr(log, "/api/devices/v2/deployments/device/deployments/next"));
    assert_non_null(strstr(log, "/api/devices/v1/deployments/device/deployments/next"));
    free(log);

    ctl_do("POST", "/_emu/v2next", "{\"enabled\":true}");
    assert_ok(sbprov_mender_check_update(&u, m, "gw-1.0", "raspberrypi4"));
    assert_non_null(u);
    sbprov_mender_update_free(u);
    assert_fails_with(sbprov_mender_check_update(&u, m, "", "raspberrypi4"), SBPROV_EINVAL, "1 to 4096");

    sbprov_mender_free(m);
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

/* An expired token (403 from the server) or a revoked one (401) makes the
 * client authenticate again and repeat the call once. */
static void test_token_reauthentication(void **state)
{
    fx *f = *state;
    sbprov_identity *id;
    sbprov_key *k;
    char dev_id[80], json[256], t1[4096], t2[4096];
    sbprov_mender *m = accepted_device(f, "02:00:00:00:05:01", &id, &k, NULL, dev_id, sizeof dev_id);
    sbprov_mender_update *u = NULL;

    assert_ok(sbprov_mender_token(t1, sizeof t1, NULL, m));
    snprintf(json, sizeof json, "{\"device_id\":\"%s\",\"now\":true}", dev_id);
    ctl_do("POST", "/_emu/expire-token", json);
    assert_ok(sbprov_mender_check_update(&u, m, "gw-1.0", "rpi4"));
    assert_ok(sbprov_mender_token(t2, sizeof t2, NULL, m));
    assert_string_not_equal(t1, t2);

    snprintf(json, sizeof json, "{\"device_id\":\"%s\"}", dev_id);
    ctl_do("POST", "/_emu/revoke", json);
    assert_ok(sbprov_mender_check_update(&u, m, "gw-1.0", "rpi4"));
    assert_ok(sbprov_mender_token(t1, sizeof t1, NULL, m));
    assert_string_not_equal(t1, t2);

    /* Decommissioned: re-authentication is answered "pending", so the call fails. */
    assert_ok(sbprov_mender_mgmt_decommission(f->mgmt, dev_id));
    assert_fails_with(sbprov_mender_check_update(&u, m, "gw-1.0", "rpi4"), SBPROV_EAUTH, "not accepted");
    sbprov_mender_free(m);
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

/* The token survives a restart in the credential store: a new client with
 * the same store needs no authentication round trip. */
static void test_token_in_store(void **state)
{
    fx *f = *state;
    char root[] = "/tmp/sbprov-mender-XXXXXX", dir[64], t1[4096], t2[4096], dev_id[80];
    sbprov_store_open_options so;
    sbprov_store *store = NULL;
    sbprov_identity *id;
    sbprov_key *k;

    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/store", root);
    assert_ok(sbprov_store_open_options_init(&so, sizeof so));
    so.plaintext = 1;
    so.create = 1;
    assert_ok(sbprov_store_open(&store, dir, &so));
    sbprov_mender *m = accepted_device(f, "02:00:00:00:06:01", &id, &k, store, dev_id, sizeof dev_id);
    assert_ok(sbprov_mender_token(t1, sizeof t1, NULL, m));
    sbprov_mender_free(m);

    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":500}]");
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, store);
    assert_ok(sbprov_mender_token(t2, sizeof t2, NULL, m));
    assert_string_equal(t1, t2);
    sbprov_mender_update *u = NULL;
    assert_ok(sbprov_mender_check_update(&u, m, "gw-1.0", "rpi4")); /* no auth request needed */
    sbprov_mender_free(m);

    sbprov_store_free(store);
    sbprov_key_free(k);
    sbprov_identity_free(id);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* TLS: an untrusted CA, a certificate for another host and an expired one
 * each give SBPROV_ECERT with their own reason; plain http is refused unless
 * allowed; mutual TLS works with a client certificate (RSA and EC keys). */
static void test_tls_failures_and_mtls(void **state)
{
    fx *f = *state;
    sbprov_identity *id = identity("02:00:00:00:07:01");
    sbprov_key *k = new_key(SBPROV_KEY_ED25519);
    sbprov_mender_auth_status st;
    sbprov_mender_options o;
    sbprov_mender *m = NULL;

    m = device(f, env("SBPROV_TEST_MENDER_UNTRUSTED_URL"), id, k, NULL);
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ECERT, "not trusted");
    sbprov_mender_free(m);
    m = device(f, env("SBPROV_TEST_MENDER_WRONGHOST_URL"), id, k, NULL);
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ECERT, "not valid for this host");
    sbprov_mender_free(m);
    m = device(f, env("SBPROV_TEST_MENDER_EXPIRED_URL"), id, k, NULL);
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ECERT, "expired");
    sbprov_mender_free(m);

    assert_ok(sbprov_mender_options_init(&o, sizeof o));
    o.http = &f->http;
    m = NULL;
    assert_fails_with(sbprov_mender_new(&m, "http://127.0.0.1:1", id, k, &o), SBPROV_EINVAL, "only https");
    assert_fails_with(sbprov_mender_new(&m, "https://h.example/api", id, k, &o), SBPROV_EINVAL, "base URL");
    assert_fails_with(sbprov_mender_new(&m, "not a url", id, k, &o), SBPROV_EINVAL, "not a URL");

    /* mTLS: without a client certificate nginx ends the TLS 1.3 session
     * with a "certificate required" alert. */
    m = device(f, env("SBPROV_TEST_MENDER_MTLS_URL"), id, k, NULL);
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ETLS, "client certificate is needed");
    sbprov_mender_free(m);
    const char *variants[][2] = {
        {"SBPROV_TEST_CLIENT_CERT_RSA", "SBPROV_TEST_CLIENT_KEY_RSA"},
        {"SBPROV_TEST_CLIENT_CERT_EC", "SBPROV_TEST_CLIENT_KEY_EC"},
    };
    for (size_t i = 0; i < 2; i++) {
        sbprov_http_options h = f->http;
        sbprov_key_load_options lo;
        sbprov_key *ck = NULL;
        assert_ok(sbprov_key_load_options_init(&lo, sizeof lo));
        assert_ok(sbprov_key_load(&ck, env(variants[i][1]), &lo));
        h.client_cert = env(variants[i][0]);
        h.client_key = ck;
        o.http = &h;
        assert_ok(sbprov_mender_new(&m, env("SBPROV_TEST_MENDER_MTLS_URL"), id, k, &o));
        sbprov_key_free(ck); /* the client keeps its own reference */
        assert_ok(sbprov_mender_authenticate(&st, m));
        assert_int_equal(st, SBPROV_MENDER_PENDING);
        sbprov_mender_free(m);
    }
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

/* Faults injected by the emulator: each gives its own result, nothing leaks. */
static void test_faults(void **state)
{
    fx *f = *state;
    sbprov_identity *id = identity("02:00:00:00:08:01");
    sbprov_key *k = new_key(SBPROV_KEY_ECDSA_P256);
    sbprov_mender *m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
    sbprov_mender_auth_status st;
    sbprov_http_response_info info = {sizeof info};
    uint64_t n;

    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":503,\"count\":1}]");
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ESERVER, "503");
    assert_ok(sbprov_mender_last_response(&info, m));
    assert_int_equal(info.retry_after_s, -1); /* regression: no header read as 0 */
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":429,\"retry_after\":\"7\",\"count\":1}]");
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ERATELIMIT, "retry after 7 s");
    assert_ok(sbprov_mender_last_response(&info, m));
    assert_int_equal(info.status, 429);
    assert_int_equal(info.retry_after_s, 7);
    assert_true(info.server_date > 0);
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":400,\"count\":1,"
           "\"body\":\"{\\\"error\\\":\\\"invalid auth request: bad\\\",\\\"request_id\\\":\\\"r-1\\\"}\","
           "\"content_type\":\"application/json\"}]");
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_EHTTP, "invalid auth request: bad");
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"delay_ms\":3000,\"count\":1}]");
    sbprov_http_options quick = f->http;
    sbprov_mender_options o;
    sbprov_mender *mq = NULL;
    quick.timeout_ms = 700;
    assert_ok(sbprov_mender_options_init(&o, sizeof o));
    o.http = &quick;
    assert_ok(sbprov_mender_new(&mq, env("SBPROV_TEST_MENDER_URL"), id, k, &o));
    assert_fails_with(sbprov_mender_authenticate(&st, mq), SBPROV_ETIMEOUT, "timed out");
    sbprov_mender_free(mq);

    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":200,\"truncate\":true,\"count\":1,"
           "\"content_type\":\"application/jwt\",\"body\":\"eyJhbGciOi\"}]");
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ERESPONSE, "truncated");
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":200,\"oversize_bytes\":3000000,"
           "\"count\":1}]");
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ERESPONSE, "larger than");
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":200,\"count\":1,"
           "\"content_type\":\"application/jwt\",\"body\":\"not-a-jwt\"}]");
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ERESPONSE, "not a JWT");
    faults("[{\"route\":\"/api/management/v2/devauth/devices/count\",\"status\":200,\"garbage\":true,"
           "\"count\":1}]");
    assert_fails_with(sbprov_mender_mgmt_count(&n, f->mgmt, NULL), SBPROV_ERESPONSE, "not valid JSON");
    /* Redirects are never followed (the Location names another server). */
    faults("[{\"route\":\"/api/management/v2/devauth/devices/count\",\"status\":302,\"count\":1,"
           "\"headers\":{\"Location\":\"https://127.0.0.1:1/elsewhere\"}}]");
    assert_fails_with(sbprov_mender_mgmt_count(&n, f->mgmt, NULL), SBPROV_ERESPONSE, "unexpected HTTP 302");
    faults("[{\"route\":\"/api/management/v2/devauth/devices/count\",\"status\":200,\"count\":1,"
           "\"content_type\":\"text/html\",\"body\":\"<html/>\"}]");
    assert_fails_with(sbprov_mender_mgmt_count(&n, f->mgmt, NULL), SBPROV_ERESPONSE, "application/json");
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"drop\":true,\"count\":1}]");
    sbprov_result rc = sbprov_mender_authenticate(&st, m);
    assert_true(rc == SBPROV_ERESPONSE || rc == SBPROV_ENETWORK || rc == SBPROV_ESERVER);
    /* After the faults, the same client works. */
    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_PENDING);
    sbprov_mender_free(m);
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

typedef struct accepter {
    fx *f;
    const sbprov_identity *id;
    int delay_ms;
} accepter;

static void *accept_later(void *arg)
{
    accepter *a = arg;
    sbprov_mender_device *d = NULL;
    usleep((useconds_t)a->delay_ms * 1000u);
    /* A management client of its own: handles are shared-safe, but a second one is what tooling would do. */
    sbprov_mender_mgmt *mg = NULL;
    const char *pass = getenv("SBPROV_TEST_MENDER_PASSWORD");
    if (sbprov_mender_mgmt_new(&mg, getenv("SBPROV_TEST_MENDER_URL"), &a->f->http) == SBPROV_OK &&
        sbprov_mender_mgmt_login(mg, getenv("SBPROV_TEST_MENDER_USER"), pass, strlen(pass)) == SBPROV_OK &&
        sbprov_mender_mgmt_find_device(&d, mg, a->id) == SBPROV_OK &&
        sbprov_mender_mgmt_set_auth_status(mg, sbprov_mender_device_id(d), sbprov_mender_device_auth_set_id(d, 0),
                                           "accepted") != SBPROV_OK)
        fprintf(stderr, "accept_later: %s\n", sbprov_last_error());
    sbprov_mender_device_free(d);
    sbprov_mender_mgmt_free(mg);
    return NULL;
}

static void *cancel_later(void *arg)
{
    usleep(300000);
    sbprov_mender_cancel(arg);
    return NULL;
}

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Authenticate-until-accepted on a compressed schedule: accepted while it
 * waits; 429 honours Retry-After; a timeout; a cancel from another thread;
 * a request the server calls malformed ends the wait at once. */
static void test_until_accepted(void **state)
{
    fx *f = *state;
    sbprov_identity *id = identity("02:00:00:00:09:01");
    sbprov_key *k = new_key(SBPROV_KEY_ED25519);
    sbprov_mender *m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
    sbprov_mender_wait_options w;
    pthread_t th;
    uint64_t t0;

    assert_ok(sbprov_mender_wait_options_init(&w, sizeof w));
    assert_int_equal(w.first_interval_ms, 60000);
    assert_int_equal(w.max_interval_ms, 300000);
    assert_int_equal(w.tries_per_interval, 3);
    assert_fails_with(sbprov_mender_authenticate_until_accepted(m, &w), SBPROV_EINVAL, "timeout_ms is required");
    w.first_interval_ms = 50;
    w.max_interval_ms = 200;
    w.timeout_ms = 600;
    t0 = ms_now();
    assert_fails_with(sbprov_mender_authenticate_until_accepted(m, &w), SBPROV_ETIMEOUT, "pending");
    assert_true(ms_now() - t0 < 3000);

    /* A first interval longer than the timeout still gets a last attempt
     * before the deadline (regression: it gave up after one). */
    w.first_interval_ms = 60000;
    w.max_interval_ms = 300000;
    w.timeout_ms = 1500;
    t0 = ms_now();
    assert_fails_with(sbprov_mender_authenticate_until_accepted(m, &w), SBPROV_ETIMEOUT, "2 attempts");
    assert_true(ms_now() - t0 >= 700);
    w.first_interval_ms = 50;
    w.max_interval_ms = 200;

    accepter a = {f, id, 400};
    w.timeout_ms = 10000;
    pthread_create(&th, NULL, accept_later, &a);
    assert_ok(sbprov_mender_authenticate_until_accepted(m, &w));
    pthread_join(th, NULL);
    sbprov_mender_free(m);

    /* 429 with Retry-After: 1 s is waited, not the 50 ms interval. */
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":429,\"retry_after\":\"1\",\"count\":1}]");
    t0 = ms_now();
    assert_ok(sbprov_mender_authenticate_until_accepted(m, &w));
    assert_true(ms_now() - t0 >= 950);
    sbprov_mender_free(m);

    /* "Retry-After: 0" is waited as 1 s, not spun on (regression). */
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":429,\"retry_after\":\"0\",\"count\":2}]");
    t0 = ms_now();
    assert_ok(sbprov_mender_authenticate_until_accepted(m, &w));
    assert_true(ms_now() - t0 >= 1900);
    sbprov_mender_free(m);

    /* Mender down (connection refused) for a while, then back: retried. */
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":502,\"count\":3}]");
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
    assert_ok(sbprov_mender_authenticate_until_accepted(m, &w));
    sbprov_mender_free(m);

    /* Cancelled from another thread while waiting. */
    sbprov_identity *id2 = identity("02:00:00:00:09:02");
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id2, k, NULL);
    pthread_create(&th, NULL, cancel_later, m);
    t0 = ms_now();
    assert_fails_with(sbprov_mender_authenticate_until_accepted(m, &w), SBPROV_ECANCELED, "cancelled");
    pthread_join(th, NULL);
    assert_true(ms_now() - t0 < 5000);

    /* Not retried: the server says the request is malformed. */
    faults("[{\"route\":\"/api/devices/v1/authentication\",\"status\":400}]");
    t0 = ms_now();
    assert_fails_with(sbprov_mender_authenticate_until_accepted(m, &w), SBPROV_EHTTP, "400");
    assert_true(ms_now() - t0 < 2000);
    sbprov_mender_free(m);
    sbprov_identity_free(id2);
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

/* A server that requires a tenant token: without it 401 (pending), with it
 * the preauthorized device is accepted. */
static void test_tenant_token(void **state)
{
    fx *f = *state;
    sbprov_identity *id = identity("02:00:00:00:0a:01");
    sbprov_key *k = new_key(SBPROV_KEY_ECDSA_P256);
    sbprov_mender_auth_status st;
    sbprov_mender_options o;
    sbprov_mender *m = NULL;
    char dev_id[80];

    ctl_do("POST", "/_emu/config", "{\"tenant_token\":\"tenant-abc\"}");
    assert_ok(sbprov_mender_mgmt_preauthorize(dev_id, sizeof dev_id, NULL, NULL, f->mgmt, id, k, 0));
    m = device(f, env("SBPROV_TEST_MENDER_URL"), id, k, NULL);
    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_PENDING);
    sbprov_mender_free(m);
    assert_ok(sbprov_mender_options_init(&o, sizeof o));
    o.http = &f->http;
    o.tenant_token = "tenant-abc";
    assert_ok(sbprov_mender_new(&m, env("SBPROV_TEST_MENDER_URL"), id, k, &o));
    assert_ok(sbprov_mender_authenticate(&st, m));
    assert_int_equal(st, SBPROV_MENDER_ACCEPTED);
    sbprov_mender_free(m);
    ctl_do("POST", "/_emu/config", "{\"tenant_token\":\"\"}");
    sbprov_key_free(k);
    sbprov_identity_free(id);
}

/* Management: a wrong password, a PAT, no login, paging, force. */
static void test_management(void **state)
{
    fx *f = *state;
    sbprov_mender_mgmt *mg = NULL;
    sbprov_mender_device_list *list = NULL;
    char dev_id[80], id2[80];
    int existed = -1;
    uint64_t n = 0;

    assert_ok(sbprov_mender_mgmt_new(&mg, env("SBPROV_TEST_MENDER_URL"), &f->http));
    assert_fails_with(sbprov_mender_mgmt_count(&n, mg, NULL), SBPROV_EAUTH, "not logged in");
    assert_fails_with(sbprov_mender_mgmt_login(mg, env("SBPROV_TEST_MENDER_USER"), "wrong", 5), SBPROV_EAUTH,
                      "401");
    assert_fails_with(sbprov_mender_mgmt_login(mg, "a:b", "x", 1), SBPROV_EINVAL, "':'");
    assert_ok(sbprov_mender_mgmt_set_token(mg, env("SBPROV_TEST_MENDER_PAT")));
    assert_ok(sbprov_mender_mgmt_count(&n, mg, NULL));
    assert_int_equal(n, 0);
    assert_ok(sbprov_mender_mgmt_set_token(mg, "not-the-pat"));
    assert_fails_with(sbprov_mender_mgmt_count(&n, mg, NULL), SBPROV_EAUTH, "401");
    assert_fails_with(sbprov_mender_mgmt_set_token(mg, "has space"), SBPROV_EINVAL, "printable");
    sbprov_mender_mgmt_free(mg);

    sbprov_key *k = new_key(SBPROV_KEY_ED25519);
    for (int i = 0; i < 7; i++) {
        char mac[32];
        snprintf(mac, sizeof mac, "02:00:00:00:0b:%02x", i);
        sbprov_identity *id = identity(mac);
        assert_ok(sbprov_mender_mgmt_preauthorize(dev_id, sizeof dev_id, NULL, NULL, f->mgmt, id, k, 0));
        if (i == 6) {
            assert_ok(sbprov_mender_mgmt_preauthorize(id2, sizeof id2, NULL, &existed, f->mgmt, id, k,
                                                      SBPROV_MENDER_PREAUTH_FORCE));
            assert_string_equal(id2, dev_id);
            assert_int_equal(existed, 0);
            size_t need = 0;
            assert_fails_with(sbprov_mender_mgmt_preauthorize(id2, 4, &need, NULL, f->mgmt, id, k, 0),
                              SBPROV_EBUFS, "too small");
            assert_int_equal(need, strlen(dev_id) + 1);
            assert_fails_with(sbprov_mender_mgmt_preauthorize(id2, sizeof id2, NULL, NULL, f->mgmt, id, k, 8),
                              SBPROV_EINVAL, "unknown flags");
        }
        sbprov_identity_free(id);
    }
    assert_ok(sbprov_mender_mgmt_count(&n, f->mgmt, "preauthorized"));
    assert_int_equal(n, 7);
    assert_ok(sbprov_mender_mgmt_list_devices(&list, f->mgmt, "preauthorized", 1, 3));
    assert_int_equal(sbprov_mender_device_list_count(list), 3);
    assert_true(sbprov_mender_device_list_has_next(list));
    assert_null(sbprov_mender_device_list_get(list, 3));
    sbprov_mender_device_list_free(list);
    assert_ok(sbprov_mender_mgmt_list_devices(&list, f->mgmt, "preauthorized", 3, 3));
    assert_int_equal(sbprov_mender_device_list_count(list), 1);
    assert_false(sbprov_mender_device_list_has_next(list));
    sbprov_mender_device_list_free(list);
    assert_fails_with(sbprov_mender_mgmt_list_devices(&list, f->mgmt, "weird", 1, 3), SBPROV_EINVAL, "status");
    assert_fails_with(sbprov_mender_mgmt_list_devices(&list, f->mgmt, NULL, 1, 501), SBPROV_EINVAL, "per_page");
    sbprov_key_free(k);
}

/* Lines of a log file that contain `needle`, concatenated. */
static char *log_lines(const char *path, const char *needle, int *count)
{
    FILE *fp = fopen(path, "r");
    char line[2048];
    size_t cap = 1, len = 0;
    char *out = calloc(1, 1);
    *count = 0;
    assert_non_null(fp);
    while (fgets(line, sizeof line, fp) != NULL)
        if (strstr(line, needle) != NULL) {
            size_t n = strlen(line);
            out = realloc(out, cap += n);
            memcpy(out + len, line, n + 1);
            len += n;
            (*count)++;
        }
    fclose(fp);
    return out;
}

/* One management handle reuses its TLS connection across calls (nginx logs
 * the connection serial and its request count), speaks TLS 1.2 or newer, and
 * sends the configured User-Agent. */
static void test_connection_reuse(void **state)
{
    fx *f = *state;
    sbprov_http_options h = f->http;
    sbprov_mender_mgmt *mg = NULL;
    uint64_t n;
    int count = 0;
    char ua[64], quoted[80];

    /* Unique per run: the access log outlives a stack directory's earlier runs. */
    snprintf(ua, sizeof ua, "sbprov-reuse-test/%ld.%ld", (long)getpid(), (long)time(NULL));
    snprintf(quoted, sizeof quoted, "\"%s\"", ua);
    h.user_agent = ua;
    assert_ok(sbprov_mender_mgmt_new(&mg, env("SBPROV_TEST_MENDER_URL"), &h));
    assert_ok(sbprov_mender_mgmt_set_token(mg, env("SBPROV_TEST_MENDER_PAT")));
    for (int i = 0; i < 3; i++)
        assert_ok(sbprov_mender_mgmt_count(&n, mg, NULL));
    sbprov_mender_mgmt_free(mg);
    usleep(200000); /* nginx writes its access log after the response */
    char *lines = log_lines(env("SBPROV_TEST_NGINX_ACCESS_LOG"), quoted, &count);
    assert_int_equal(count, 3);
    char *conn = strstr(lines, "conn="), first[32];
    assert_non_null(conn);
    sscanf(conn, "conn=%31s", first);
    for (char *p = lines; (p = strstr(p, "conn=")) != NULL; p += 5) {
        char c[32];
        sscanf(p, "conn=%31s", c);
        assert_string_equal(c, first);
    }
    assert_non_null(strstr(lines, "reqs=3"));
    assert_true(strstr(lines, "TLSv1.3") != NULL || strstr(lines, "TLSv1.2") != NULL);
    assert_null(strstr(lines, "TLSv1.1"));
    free(lines);
}

/* The proxy option tunnels through the given proxy; "" means no proxy even
 * when the environment names one (here an unreachable one). */
static void test_proxy(void **state)
{
    fx *f = *state;
    sbprov_http_options h = f->http;
    sbprov_mender_mgmt *mg = NULL;
    uint64_t n;
    int count = 0;
    char *lines;

    h.proxy = env("SBPROV_TEST_PROXY_URL");
    assert_ok(sbprov_mender_mgmt_new(&mg, env("SBPROV_TEST_MENDER_URL"), &h));
    assert_ok(sbprov_mender_mgmt_set_token(mg, env("SBPROV_TEST_MENDER_PAT")));
    assert_ok(sbprov_mender_mgmt_count(&n, mg, NULL));
    sbprov_mender_mgmt_free(mg);
    lines = log_lines(env("SBPROV_TEST_PROXY_LOG"), "CONNECT localhost:", &count);
    assert_int_equal(count, 1); /* stack.py empties the proxy log when it starts */
    free(lines);

    /* An unreachable proxy in the environment: "" bypasses it, NULL uses it. */
    setenv("https_proxy", "http://127.0.0.1:9", 1);
    setenv("no_proxy", "", 1);
    setenv("NO_PROXY", "", 1);
    h.proxy = "";
    assert_ok(sbprov_mender_mgmt_new(&mg, env("SBPROV_TEST_MENDER_URL"), &h));
    assert_ok(sbprov_mender_mgmt_set_token(mg, env("SBPROV_TEST_MENDER_PAT")));
    assert_ok(sbprov_mender_mgmt_count(&n, mg, NULL));
    sbprov_mender_mgmt_free(mg);
    h.proxy = NULL;
    assert_ok(sbprov_mender_mgmt_new(&mg, env("SBPROV_TEST_MENDER_URL"), &h));
    assert_ok(sbprov_mender_mgmt_set_token(mg, env("SBPROV_TEST_MENDER_PAT")));
    assert_fails_with(sbprov_mender_mgmt_count(&n, mg, NULL), SBPROV_ENETWORK, "");
    sbprov_mender_mgmt_free(mg);
    unsetenv("https_proxy");
    lines = log_lines(env("SBPROV_TEST_PROXY_LOG"), "CONNECT", &count);
    assert_int_equal(count, 1);
    free(lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_preauthorized_accepted_every_key_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_accept_rotate_decommission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_reauthentication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_in_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_failures_and_mtls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_until_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_management, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy, setup, teardown),
    };
    int rc;

    if (getenv("SBPROV_TEST_MENDER_URL") == NULL) {
        fprintf(stderr, "SBPROV_TEST_MENDER_URL is not set: run under tests/emulators/stack.py (skipped)\n");
        return 77;
    }
    if (sbprov_global_init() < 1)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    (void)sbprov_global_shutdown();
    return rc;
}
