/* Mender pieces that need no server: URL checks, JWT claims, tokens and
 * Location headers from responses, inventory sets, argument checks. The
 * network behaviour is tested against the emulator (tests/mender). */
#include "test_util.h"

#include "mender_internal.h"

#include <sbprov/mender.h>

static void test_base_url(void **state)
{
    char *u = NULL;
    (void)state;
    assert_ok(sbprov__http_base_url(&u, "https://hosted.mender.io", 0, "t"));
    assert_string_equal(u, "https://hosted.mender.io");
    free(u);
    assert_ok(sbprov__http_base_url(&u, "https://localhost:8443/", 0, "t"));
    assert_string_equal(u, "https://localhost:8443");
    free(u);
    assert_ok(sbprov__http_base_url(&u, "http://127.0.0.1:80", 1, "t"));
    free(u);
    assert_fails_with(sbprov__http_base_url(&u, "http://127.0.0.1", 0, "t"), SBPROV_EINVAL, "allowed explicitly");
    assert_fails_with(sbprov__http_base_url(&u, "ftp://h", 1, "t"), SBPROV_EINVAL, "only https");
    assert_fails_with(sbprov__http_base_url(&u, "https://h/api", 0, "t"), SBPROV_EINVAL, "base URL only");
    assert_fails_with(sbprov__http_base_url(&u, "https://h/?x=1", 0, "t"), SBPROV_EINVAL, "base URL only");
    assert_fails_with(sbprov__http_base_url(&u, "https://u:p@h", 0, "t"), SBPROV_EINVAL, "base URL only");
    assert_fails_with(sbprov__http_base_url(&u, "::", 0, "t"), SBPROV_EINVAL, "not a URL");
    assert_null(u);
}

/* base64url("{\"sub\":\"dev-1\",\"exp\":1900000000}") etc., made with Python. */
static void test_jwt_claims(void **state)
{
    int64_t exp;
    char sub[64];
    const char *good = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkZXYtMSIsImV4cCI6MTkwMDAwMDAwMH0.c2ln";
    const char *no_claims = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
    (void)state;

    assert_ok(sbprov__jwt_claims(&exp, sub, sizeof sub, good, strlen(good), "t"));
    assert_int_equal(exp, 1900000000);
    assert_string_equal(sub, "dev-1");
    assert_ok(sbprov__jwt_claims(&exp, sub, sizeof sub, no_claims, strlen(no_claims), "t"));
    assert_int_equal(exp, 0);
    assert_string_equal(sub, "");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a.b", 3, "t"), SBPROV_ERESPONSE, "three");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a.b.c.d", 7, "t"), SBPROV_ERESPONSE, "three");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a..c", 4, "t"), SBPROV_ERESPONSE, "three");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a.b+c.d", 7, "t"), SBPROV_ERESPONSE, "Base64url");
    /* "W10" = "[]": not an object; "eyJleHAiOiJ4In0" = {"exp":"x"}; "eyJzdWIiOjF9" = {"sub":1} */
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a.W10.c", 7, "t"), SBPROV_ERESPONSE, "object");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a.eyJleHAiOiJ4In0.c", 19, "t"), SBPROV_ERESPONSE,
                      "exp");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, sizeof sub, "a.eyJzdWIiOjF9.c", 16, "t"), SBPROV_ERESPONSE,
                      "sub");
    assert_fails_with(sbprov__jwt_claims(&exp, sub, 3, good, strlen(good), "t"), SBPROV_ERESPONSE, "sub");
}

static void test_tokens_and_locations(void **state)
{
    char *tok = NULL, id[64];
    size_t len = 0;
    (void)state;

    assert_ok(sbprov__mender_take_token(&tok, &len, "a.b.c\n", 6, "t"));
    assert_string_equal(tok, "a.b.c");
    assert_int_equal(len, 5);
    free(tok);
    assert_fails_with(sbprov__mender_take_token(&tok, &len, "\r\n", 2, "t"), SBPROV_ERESPONSE, "no token");
    assert_fails_with(sbprov__mender_take_token(&tok, &len, "a b", 3, "t"), SBPROV_ERESPONSE, "0x20");
    assert_fails_with(sbprov__mender_take_token(&tok, &len, "a\0b", 3, "t"), SBPROV_ERESPONSE, "0x00");

    assert_ok(sbprov__mender_id_from_location(id, sizeof id, "devices/2a3b-4c", "t"));
    assert_string_equal(id, "2a3b-4c");
    assert_ok(sbprov__mender_id_from_location(id, sizeof id, "https://h/api/management/v2/devauth/devices/x1?a=b", "t"));
    assert_string_equal(id, "x1");
    assert_fails_with(sbprov__mender_id_from_location(id, sizeof id, NULL, "t"), SBPROV_ERESPONSE, "without a Location");
    assert_fails_with(sbprov__mender_id_from_location(id, sizeof id, "devices/", "t"), SBPROV_ERESPONSE, "no device");
    assert_fails_with(sbprov__mender_id_from_location(id, sizeof id, "devices/a b", "t"), SBPROV_ERESPONSE,
                      "no device");
    assert_fails_with(sbprov__mender_id_from_location(id, 3, "devices/abcd", "t"), SBPROV_ERESPONSE, "no device");

    assert_ok(sbprov__mender_check_id("0f9e-AB_c.d~", "t"));
    assert_fails_with(sbprov__mender_check_id("", "t"), SBPROV_EINVAL, "not an ID");
    assert_fails_with(sbprov__mender_check_id("../x", "t"), SBPROV_EINVAL, "not an ID");
}

static void test_inventory_sets(void **state)
{
    sbprov_inventory *inv = NULL;
    const char *vals[] = {"a", "b"}, *bad_utf8[] = {"\xc3("};
    double nums[] = {1.5, -2}, inf = 1.0 / 0.0;
    char long_name[SBPROV_INVENTORY_NAME_MAX + 2];
    (void)state;

    assert_fails_with(sbprov_inventory_new(NULL), SBPROV_EINVAL, "NULL");
    assert_ok(sbprov_inventory_new(&inv));
    assert_int_equal(sbprov_inventory_count(inv), 0);
    assert_ok(sbprov_inventory_add_strings(inv, "ifaces", vals, 2));
    assert_ok(sbprov_inventory_add_numbers(inv, "temps", nums, 2));
    assert_ok(sbprov_inventory_add_strings(inv, "unicode \xc3\xa9", vals, 1));
    assert_int_equal(sbprov_inventory_count(inv), 3);
    assert_fails_with(sbprov_inventory_add_strings(inv, "ifaces", vals, 1), SBPROV_EEXISTS, "already");
    assert_fails_with(sbprov_inventory_add_strings(inv, "x", vals, 0), SBPROV_EINVAL, "no values");
    assert_fails_with(sbprov_inventory_add_strings(inv, "x", bad_utf8, 1), SBPROV_EINVAL, "not UTF-8");
    assert_fails_with(sbprov_inventory_add_strings(inv, "\xff", vals, 1), SBPROV_EID, "printable UTF-8");
    assert_fails_with(sbprov_inventory_add_numbers(inv, "x", &inf, 1), SBPROV_EINVAL, "finite");
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_fails_with(sbprov_inventory_add_strings(inv, long_name, vals, 1), SBPROV_EID, "1 to 1024");
    long_name[SBPROV_INVENTORY_NAME_MAX] = '\0';
    assert_ok(sbprov_inventory_add_strings(inv, long_name, vals, 1));
    sbprov_inventory_free(inv);
    sbprov_inventory_free(NULL);
}

/* Arguments are checked before anything is sent (no server needed). */
static void test_argument_checks(void **state)
{
    sbprov_identity *id = NULL, *empty = NULL;
    sbprov_key *key = NULL, *pub = NULL;
    sbprov_key_generate_options g;
    sbprov_mender *m = NULL;
    sbprov_mender_mgmt *mg = NULL;
    sbprov_mender_options o;
    sbprov_mender_wait_options w;
    sbprov_http_response_info info = {0};
    char pem[512], buf[8];
    size_t len;
    (void)state;

    assert_ok(sbprov_identity_new(&id));
    assert_ok(sbprov_identity_add(id, "mac", "02:00:00:00:00:01"));
    assert_ok(sbprov_identity_new(&empty));
    assert_ok(sbprov_key_generate_options_init(&g, sizeof g));
    assert_ok(sbprov_key_generate(&key, &g));
    assert_ok(sbprov_key_public_pem(pem, sizeof pem, &len, key));
    assert_ok(sbprov_key_from_public_pem(&pub, pem, len));
    assert_ok(sbprov_mender_options_init(&o, sizeof o));
    assert_fails_with(sbprov_mender_options_init(&o, 4), SBPROV_EINVAL, "");

    assert_fails_with(sbprov_mender_new(NULL, "https://h", id, key, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_mender_new(&m, "https://h", empty, key, NULL), SBPROV_EID, "no attributes");
    assert_fails_with(sbprov_mender_new(&m, "https://h", id, pub, NULL), SBPROV_EKEY, "no private part");
    o.token_entry = "x";
    assert_fails_with(sbprov_mender_new(&m, "https://h", id, key, &o), SBPROV_EINVAL, "without token_store");
    assert_ok(sbprov_mender_new(&m, "https://h", id, key, NULL));
    sbprov_key_free(key); /* the client holds its own reference */
    assert_fails_with(sbprov_mender_token(buf, sizeof buf, NULL, m), SBPROV_ENOTFOUND, "not authenticated");
    assert_fails_with(sbprov_mender_token_device_id(buf, sizeof buf, NULL, m), SBPROV_ENOTFOUND, "not authent");
    int64_t exp;
    assert_fails_with(sbprov_mender_token_expiry(&exp, m), SBPROV_ENOTFOUND, "not authenticated");
    assert_fails_with(sbprov_mender_last_response(&info, m), SBPROV_EINVAL, "struct_size");
    info.struct_size = sizeof info;
    assert_ok(sbprov_mender_last_response(&info, m));
    assert_int_equal(info.status, 0);
    assert_int_equal(info.retry_after_s, -1);
    assert_ok(sbprov_mender_wait_options_init(&w, sizeof w));
    assert_fails_with(sbprov_mender_authenticate_until_accepted(m, &w), SBPROV_EINVAL, "timeout_ms");
    /* A cancel issued before the call stops it at once, before any request. */
    sbprov_mender_cancel(m);
    sbprov_mender_auth_status st;
    assert_fails_with(sbprov_mender_authenticate(&st, m), SBPROV_ECANCELED, "cancelled");
    sbprov_mender_update *u;
    assert_fails_with(sbprov_mender_check_update(&u, m, "a", ""), SBPROV_EINVAL, "1 to 4096");
    sbprov_inventory *inv = NULL;
    assert_ok(sbprov_inventory_new(&inv));
    assert_fails_with(sbprov_mender_update_inventory(m, inv, SBPROV_INVENTORY_REPLACE), SBPROV_EINVAL, "no attr");
    const char *v[] = {"1"};
    assert_ok(sbprov_inventory_add_strings(inv, "a", v, 1));
    assert_fails_with(sbprov_mender_update_inventory(m, inv, (sbprov_inventory_mode)7), SBPROV_EINVAL, "mode");
    sbprov_inventory_free(inv);
    sbprov_mender_free(m);
    sbprov_mender_free(NULL);

    assert_fails_with(sbprov_mender_mgmt_new(&mg, "http://h", NULL), SBPROV_EINVAL, "only https");
    assert_ok(sbprov_mender_mgmt_new(&mg, "https://h", NULL));
    uint64_t n;
    assert_fails_with(sbprov_mender_mgmt_count(&n, mg, NULL), SBPROV_EAUTH, "not logged in");
    assert_fails_with(sbprov_mender_mgmt_count(&n, mg, "bogus"), SBPROV_EINVAL, "unknown device status");
    assert_fails_with(sbprov_mender_mgmt_login(mg, "", "p", 1), SBPROV_EINVAL, "empty user");
    assert_fails_with(sbprov_mender_mgmt_login(mg, "u", "p\0q", 3), SBPROV_EINVAL, "NUL");
    assert_fails_with(sbprov_mender_mgmt_decommission(mg, "a/b"), SBPROV_EINVAL, "not an ID");
    sbprov_mender_mgmt_free(mg);
    sbprov_key_free(pub);
    sbprov_identity_free(id);
    sbprov_identity_free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_url),
        cmocka_unit_test(test_jwt_claims),
        cmocka_unit_test(test_tokens_and_locations),
        cmocka_unit_test(test_inventory_sets),
        cmocka_unit_test(test_argument_checks),
    };
    int rc;
    if (sbprov_global_init() < 1)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    (void)sbprov_global_shutdown();
    return rc;
}
