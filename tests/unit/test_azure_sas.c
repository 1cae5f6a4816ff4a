/* SAS tokens and resource URIs. */
#include "test_util.h"

/* Published: azure-docs iot-dps-https-sym-key-support.md (vector S1). */
static const char s1_key[] = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==";
static const char s1_uri[] = "MyExampleHub.azure-devices.net/devices/my-symkey-device";
static const char s1_token[] = "SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device"
                               "&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026";

static sbprov_result sas(char *out, size_t size, const char *uri, const char *key, const char *policy,
                         int64_t expiry, int64_t now)
{
    return sbprov_azure_sas_token(out, size, NULL, uri, key, strlen(key), policy, expiry, now);
}

static void test_published_token(void **state)
{
    char out[512];
    size_t n = 0;
    (void)state;
    assert_ok(sbprov_azure_sas_token(out, sizeof out, &n, s1_uri, s1_key, strlen(s1_key), NULL, 1663119026, 0));
    assert_string_equal(out, s1_token);
    assert_int_equal(n, strlen(s1_token));
    /* Any "now" before the expiry is fine. */
    assert_ok(sas(out, sizeof out, s1_uri, s1_key, NULL, 1663119026, 1663119025));
    assert_string_equal(out, s1_token);
}

static void test_shared_vector_file(void **state)
{
    cJSON *root = test_vectors_json("azure-published.json"), *item;
    int checked = 0;
    (void)state;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(root, "sas"))
    {
        char out[1024];
        cJSON *policy = cJSON_GetObjectItem(item, "policy");
        assert_ok(sas(out, sizeof out, cJSON_GetObjectItem(item, "resource_uri")->valuestring,
                      cJSON_GetObjectItem(item, "key")->valuestring,
                      cJSON_IsString(policy) ? policy->valuestring : NULL,
                      (int64_t)cJSON_GetObjectItem(item, "expiry")->valuedouble, 0));
        assert_string_equal(out, cJSON_GetObjectItem(item, "expect")->valuestring);
        checked++;
    }
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(root, "url_encode"))
    {
        char out[256];
        const char *in = cJSON_GetObjectItem(item, "in")->valuestring;
        assert_ok(sbprov_azure_url_encode(out, sizeof out, NULL, in, strlen(in)));
        assert_string_equal(out, cJSON_GetObjectItem(item, "expect")->valuestring);
        checked++;
    }
    assert_true(checked > 1);
    cJSON_Delete(root);
}

/* Our own vectors, computed independently with Python (hmac, urllib.parse.quote). */
static void test_own_vectors(void **state)
{
    char out[512];
    (void)state;
    assert_ok(sas(out, sizeof out, "0ne00111111/registrations/gw-0001", "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=",
                  "registration", 1800000000, 0));
    assert_string_equal(out, "SharedAccessSignature sr=0ne00111111%2Fregistrations%2Fgw-0001"
                             "&sig=C7vMWZtfWxsu8hEIAe3TPCBc5X%2FVHiDyzf1H5txfjgk%3D&se=1800000000&skn=registration");
    assert_ok(sas(out, sizeof out, "myhub.azure-devices.net/devices/dev%231/modules/m1",
                  "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw==", NULL,
                  1577836800, 0));
    assert_string_equal(out, "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev%25231%2Fmodules%2Fm1"
                             "&sig=Iqc4Lt8PNpP5WB95elEj9PEm9ggEOeMqZiWr2MdVLqM%3D&se=1577836800");
    assert_ok(sas(out, sizeof out, "myhub.azure-devices.net", "AAECAwQFBgcICQoLDA0ODw==", "iothubowner", 2000000000,
                  0));
    assert_string_equal(out, "SharedAccessSignature sr=myhub.azure-devices.net"
                             "&sig=03hbEJFCtjja%2BnnSf0sxbGnvSsQWgqUDsGvxo8piUKc%3D&se=2000000000&skn=iothubowner");
}

static void test_expiry_rules(void **state)
{
    char out[512];
    (void)state;
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, NULL, 1577836799, 0), SBPROV_EEXPIRY, "before 2020");
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, NULL, 0, 0), SBPROV_EEXPIRY, "before 2020");
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, NULL, -5, 0), SBPROV_EEXPIRY, "before 2020");
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, NULL, 1663119026, 1663119026), SBPROV_EEXPIRY,
                      "not after now");
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, NULL, 1663119026, 1700000000), SBPROV_EEXPIRY,
                      "not after now");
    assert_ok(sas(out, sizeof out, s1_uri, s1_key, NULL, 1577836800, 0));
}

static void test_bad_inputs(void **state)
{
    char out[512], long_uri[SBPROV_AZURE_RESOURCE_URI_MAX_LEN + 2];
    (void)state;
    assert_fails_with(sas(out, sizeof out, "", s1_key, NULL, 1800000000, 0), SBPROV_EID, "resource URI: empty");
    assert_fails_with(sas(out, sizeof out, "https://h/devices/d", s1_key, NULL, 1800000000, 0), SBPROV_EID, "scheme");
    assert_fails_with(sas(out, sizeof out, "h/devices/d 1", s1_key, NULL, 1800000000, 0), SBPROV_EID, "0x20");
    assert_fails_with(sas(out, sizeof out, "h/devices/d\n", s1_key, NULL, 1800000000, 0), SBPROV_EID, "0x0a");
    memset(long_uri, 'a', sizeof long_uri - 1);
    long_uri[sizeof long_uri - 1] = '\0';
    assert_fails_with(sas(out, sizeof out, long_uri, s1_key, NULL, 1800000000, 0), SBPROV_EID, "at most 2048");
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, "", 1800000000, 0), SBPROV_EID, "policy name: empty");
    assert_fails_with(sas(out, sizeof out, s1_uri, s1_key, "a&b", 1800000000, 0), SBPROV_EID, "'&'");
    assert_fails_with(sas(out, sizeof out, s1_uri, "not base64!", NULL, 1800000000, 0), SBPROV_EBASE64, "key:");
    assert_fails_with(sas(out, sizeof out, s1_uri, "AAAA", NULL, 1800000000, 0), SBPROV_EKEYSIZE, "key:");
    assert_fails_with(sbprov_azure_sas_token(out, sizeof out, NULL, NULL, s1_key, 88, NULL, 1800000000, 0),
                      SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_sas_token(out, sizeof out, NULL, s1_uri, NULL, 88, NULL, 1800000000, 0),
                      SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_sas_token(NULL, 0, NULL, s1_uri, s1_key, 88, NULL, 1800000000, 0), SBPROV_EINVAL,
                      "NULL");
}

static void test_longest_uri_fits(void **state)
{
    static char uri[SBPROV_AZURE_RESOURCE_URI_MAX_LEN + 1];
    static char out[8192];
    size_t n = 0;
    (void)state;
    /* Every byte needs escaping: the string to sign is at its largest. */
    memset(uri, '/', SBPROV_AZURE_RESOURCE_URI_MAX_LEN);
    assert_ok(sbprov_azure_sas_token(out, sizeof out, &n, uri, s1_key, strlen(s1_key), NULL, 1800000000, 0));
    assert_int_equal(n, strlen(out));
    assert_true(n > 3 * SBPROV_AZURE_RESOURCE_URI_MAX_LEN);
}

static void test_token_buffer_too_small(void **state)
{
    char out[512];
    size_t n = 0, needed;
    (void)state;
    assert_fails_with(sbprov_azure_sas_token(out, 10, &n, s1_uri, s1_key, strlen(s1_key), NULL, 1663119026, 0),
                      SBPROV_EBUFS, "needed");
    needed = n;
    assert_int_equal(needed, strlen(s1_token) + 1);
    assert_fails_with(sbprov_azure_sas_token(out, needed - 1, &n, s1_uri, s1_key, strlen(s1_key), NULL, 1663119026, 0),
                      SBPROV_EBUFS, "needed");
    assert_ok(sbprov_azure_sas_token(out, needed, &n, s1_uri, s1_key, strlen(s1_key), NULL, 1663119026, 0));
    assert_string_equal(out, s1_token);
}

static void test_signer_matches_one_shot(void **state)
{
    sbprov_azure_sas_signer *signer = NULL;
    char a[512], b[512], uri[128];
    size_t n = 0;
    (void)state;
    assert_ok(sbprov_azure_sas_signer_new(&signer, s1_key, strlen(s1_key)));
    assert_ok(sbprov_azure_sas_signer_token(a, sizeof a, &n, signer, s1_uri, NULL, 1663119026, 0));
    assert_string_equal(a, s1_token);
    assert_int_equal(n, strlen(s1_token));
    for (int i = 0; i < 100; i++) {
        snprintf(uri, sizeof uri, "hub.azure-devices.net/devices/gw-%03d", i);
        const char *policy = i % 2 ? "iothubowner" : NULL;
        assert_ok(sbprov_azure_sas_signer_token(a, sizeof a, NULL, signer, uri, policy, 1800000000 + i, 0));
        assert_ok(sas(b, sizeof b, uri, s1_key, policy, 1800000000 + i, 0));
        assert_string_equal(a, b);
    }
    /* Failures leave the signer usable. */
    assert_fails_with(sbprov_azure_sas_signer_token(a, sizeof a, NULL, signer, "", NULL, 1800000000, 0), SBPROV_EID,
                      "empty");
    assert_fails_with(sbprov_azure_sas_signer_token(a, 10, &n, signer, s1_uri, NULL, 1663119026, 0), SBPROV_EBUFS,
                      "needed");
    assert_int_equal(n, strlen(s1_token) + 1);
    assert_fails_with(sbprov_azure_sas_signer_token(a, sizeof a, NULL, signer, s1_uri, NULL, 1663119026, 1663119027),
                      SBPROV_EEXPIRY, "not after now");
    assert_ok(sbprov_azure_sas_signer_token(a, sizeof a, NULL, signer, s1_uri, NULL, 1663119026, 0));
    assert_string_equal(a, s1_token);
    assert_fails_with(sbprov_azure_sas_signer_token(a, sizeof a, NULL, NULL, s1_uri, NULL, 1663119026, 0),
                      SBPROV_EINVAL, "NULL");
    sbprov_azure_sas_signer_free(signer);
    sbprov_azure_sas_signer_free(NULL);

    signer = (sbprov_azure_sas_signer *)&signer;
    assert_fails_with(sbprov_azure_sas_signer_new(&signer, "AAAA", 4), SBPROV_EKEYSIZE, "key:");
    assert_null(signer);
    assert_fails_with(sbprov_azure_sas_signer_new(&signer, "A", 1), SBPROV_EBASE64, "key:");
    assert_fails_with(sbprov_azure_sas_signer_new(NULL, s1_key, 88), SBPROV_EINVAL, "NULL");
}

/* Formatting cases from azure-sdk-for-c's tests (reference/azure.md 2.4). */
static void test_resource_uris(void **state)
{
    char out[256];
    size_t n = 0;
    (void)state;
    assert_ok(sbprov_azure_hub_device_uri(out, sizeof out, &n, "myiothub.azure-devices.net", "my_device"));
    assert_string_equal(out, "myiothub.azure-devices.net/devices/my_device");
    assert_int_equal(n, strlen(out));
    assert_ok(sbprov_azure_hub_module_uri(out, sizeof out, NULL, "myiothub.azure-devices.net", "my_device",
                                          "my_module"));
    assert_string_equal(out, "myiothub.azure-devices.net/devices/my_device/modules/my_module");
    assert_ok(sbprov_azure_dps_registration_uri(out, sizeof out, NULL, "0neFEEDC0DE", "myregistrationid"));
    assert_string_equal(out, "0neFEEDC0DE/registrations/myregistrationid");
    /* Special characters are encoded once here and again in the token. */
    assert_ok(sbprov_azure_hub_device_uri(out, sizeof out, NULL, "h.azure-devices.net", "n@m.et#st"));
    assert_string_equal(out, "h.azure-devices.net/devices/n%40m.et%23st");

    assert_fails_with(sbprov_azure_hub_device_uri(out, sizeof out, NULL, "https://h", "d"), SBPROV_EID, "scheme");
    assert_fails_with(sbprov_azure_hub_device_uri(out, sizeof out, NULL, "h..net", "d"), SBPROV_EID, "empty label");
    assert_fails_with(sbprov_azure_hub_device_uri(out, sizeof out, NULL, "h.net", "a/b"), SBPROV_EID,
                      "device ID: '/'");
    assert_fails_with(sbprov_azure_hub_module_uri(out, sizeof out, NULL, "h.net", "d", ""), SBPROV_EID,
                      "module ID: empty");
    assert_fails_with(sbprov_azure_hub_module_uri(out, sizeof out, NULL, "h.net", "d", NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_dps_registration_uri(out, sizeof out, NULL, "0ne-1", "r"), SBPROV_EID,
                      "ID scope: '-'");
    assert_fails_with(sbprov_azure_dps_registration_uri(out, sizeof out, NULL, "0ne1", "R"), SBPROV_EID,
                      "upper-case");
    assert_fails_with(sbprov_azure_hub_device_uri(out, 10, &n, "myiothub.azure-devices.net", "my_device"),
                      SBPROV_EBUFS, "needed");
    assert_int_equal(n, strlen("myiothub.azure-devices.net/devices/my_device") + 1);
}

static void test_device_id_rules(void **state)
{
    char id[130];
    (void)state;
    assert_ok(sbprov_azure_check_device_id("Dev-1.a_b:c+d%e#f*g?h!i(j)k,l=m@n$o'p"));
    assert_fails_with(sbprov_azure_check_device_id(""), SBPROV_EID, "empty");
    assert_fails_with(sbprov_azure_check_device_id("a b"), SBPROV_EID, "' ' at position 2");
    assert_fails_with(sbprov_azure_check_device_id("a;b"), SBPROV_EID, "';'");
    assert_fails_with(sbprov_azure_check_device_id("a\xc3\xa9"), SBPROV_EID, "byte 0xc3");
    memset(id, 'D', 129);
    id[129] = '\0';
    assert_fails_with(sbprov_azure_check_device_id(id), SBPROV_EID, "129 characters");
    assert_fails_with(sbprov_azure_check_device_id(NULL), SBPROV_EINVAL, "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_token),
        cmocka_unit_test(test_shared_vector_file),
        cmocka_unit_test(test_own_vectors),
        cmocka_unit_test(test_expiry_rules),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_longest_uri_fits),
        cmocka_unit_test(test_token_buffer_too_small),
        cmocka_unit_test(test_signer_matches_one_shot),
        cmocka_unit_test(test_resource_uris),
        cmocka_unit_test(test_device_id_rules),
    };
    return cmocka_run_group_tests_name("azure_sas", tests, NULL, NULL);
}
