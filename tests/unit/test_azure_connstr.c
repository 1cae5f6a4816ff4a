/* IoT Hub connection strings: parse, validate, build. */
#include "test_util.h"

#define KEY "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA=="

static sbprov_result parse(sbprov_azure_connstr **cs, const char *s)
{
    return sbprov_azure_connstr_parse(cs, s, strlen(s));
}

/* Parse, check it round-trips unchanged through build, free. */
static void assert_round_trip(const char *s)
{
    sbprov_azure_connstr *cs = NULL;
    char out[1024];
    size_t n = 0;
    assert_ok(parse(&cs, s));
    assert_ok(sbprov_azure_connstr_build(out, sizeof out, &n, cs));
    assert_string_equal(out, s);
    assert_int_equal(n, strlen(s));
    sbprov_azure_connstr_free(cs);
}

static void test_valid_strings_round_trip(void **state)
{
    (void)state;
    assert_round_trip("HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessKey=" KEY);
    assert_round_trip("HostName=h.azure-devices.net;DeviceId=dev1;ModuleId=m1;SharedAccessKey=" KEY);
    assert_round_trip("HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" KEY);
    assert_round_trip("HostName=h.azure-devices.net;DeviceId=dev1;x509=true");
    assert_round_trip("HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessKey=" KEY ";GatewayHostName=edge.local");
    assert_round_trip("HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessSignature=SharedAccessSignature "
                      "sr=h.azure-devices.net%2Fdevices%2Fdev1&sig=abc%3D&se=1800000000");
}

static void test_fields_are_readable(void **state)
{
    sbprov_azure_connstr *cs = NULL;
    (void)state;
    /* Order in the input does not matter; build uses the canonical order. */
    assert_ok(parse(&cs, "SharedAccessKey=" KEY ";DeviceId=dev1;HostName=h.azure-devices.net"));
    assert_string_equal(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_HOST_NAME), "h.azure-devices.net");
    assert_string_equal(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_DEVICE_ID), "dev1");
    assert_string_equal(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY), KEY);
    assert_null(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_MODULE_ID));
    assert_null(sbprov_azure_connstr_get(cs, (sbprov_azure_cs_field)8));
    assert_null(sbprov_azure_connstr_get(cs, (sbprov_azure_cs_field)-1));
    assert_null(sbprov_azure_connstr_get(NULL, SBPROV_AZURE_CS_HOST_NAME));
    sbprov_azure_connstr_free(cs);
    sbprov_azure_connstr_free(NULL);
}

static void test_malformed_strings(void **state)
{
    static const struct {
        const char *s;
        sbprov_result code;
        const char *needle;
    } bad[] = {
        { "HostName=h.net;DeviceId=d;SharedAccessKey=" KEY ";", SBPROV_ECONNSTR, "stray ';'" },
        { ";HostName=h.net;DeviceId=d;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "stray ';'" },
        { "HostName=h.net;;DeviceId=d;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "stray ';'" },
        { "HostName=h.net;DeviceId;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "has no '='" },
        { "HostName=h.net;hostname=h.net;DeviceId=d;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "unknown field 'hostname' (names are case-sensitive: HostName)" },
        { "HostName=h.net;Foo=bar;DeviceId=d;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "unknown field at position 16" },
        { "HostName=h.net;DeviceId=d;DeviceId=e;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "DeviceId: given twice" },
        { "HostName=;DeviceId=d;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "HostName: empty value" },
        { "HostName=h.net ;DeviceId=d;SharedAccessKey=" KEY, SBPROV_EID, "HostName: ' '" },
        { "HostName=https://h.net;DeviceId=d;SharedAccessKey=" KEY, SBPROV_EID, "HostName: give the host name alone" },
        { "HostName=h.net;DeviceId=d e;SharedAccessKey=" KEY, SBPROV_EID, "DeviceId: ' '" },
        { "HostName=h.net;DeviceId=d;SharedAccessKey=abc", SBPROV_EBASE64, "SharedAccessKey:" },
        { "HostName=h.net;DeviceId=d;SharedAccessKey=AAAA", SBPROV_EKEYSIZE, "SharedAccessKey:" },
        { "HostName=h.net;DeviceId=d;x509=false", SBPROV_ECONNSTR, "x509: the only accepted value is 'true'" },
        { "HostName=h.net;DeviceId=d;x509=True", SBPROV_ECONNSTR, "x509: the only accepted value" },
        { "HostName=h.net;DeviceId=d;SharedAccessSignature=sig", SBPROV_ECONNSTR, "SharedAccessSignature: expected" },
        { "DeviceId=d;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "HostName: required" },
        { "HostName=h.net;DeviceId=d", SBPROV_ECONNSTR, "SharedAccessKey: required" },
        { "HostName=h.net;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "DeviceId: required" },
        { "HostName=h.net;SharedAccessKeyName=p", SBPROV_ECONNSTR, "SharedAccessKey: required with" },
        { "HostName=h.net;DeviceId=d;SharedAccessKey=" KEY ";x509=true", SBPROV_ECONNSTR, "x509: contradicts SharedAccessKey" },
        { "HostName=h.net;DeviceId=d;SharedAccessKey=" KEY ";SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1",
          SBPROV_ECONNSTR, "SharedAccessSignature: contradicts SharedAccessKey" },
        { "HostName=h.net;DeviceId=d;SharedAccessKeyName=p;SharedAccessKey=" KEY, SBPROV_ECONNSTR,
          "SharedAccessKeyName: a policy name does not go with DeviceId" },
        { "HostName=h.net;ModuleId=m;SharedAccessKeyName=p;SharedAccessKey=" KEY, SBPROV_ECONNSTR, "ModuleId: needs a DeviceId" },
        { "HostName=h.net;GatewayHostName=g;SharedAccessKeyName=p;SharedAccessKey=" KEY, SBPROV_ECONNSTR,
          "GatewayHostName: only device" },
        { "HostName=h.net;SharedAccessKeyName=a b;SharedAccessKey=" KEY, SBPROV_EID, "SharedAccessKeyName: ' '" },
        { "HostName", SBPROV_ECONNSTR, "has no '='" },
        /* Regression: a key pasted without "SharedAccessKey=" must not be echoed. */
        { "HostName=h.net;DeviceId=d;AAECAwQFBgcICQoLDA0ODw==", SBPROV_ECONNSTR, "unknown field at position 27 (not shown" },
        { "HostName=h.net;DeviceId=d;SharedAccessKey AAECAwQFBgcICQoLDA0ODw==", SBPROV_ECONNSTR, "not shown" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sbprov_azure_connstr *cs = (sbprov_azure_connstr *)&cs;
        sbprov_clear_error();
        sbprov_result rc = parse(&cs, bad[i].s);
        if (rc != bad[i].code || strstr(sbprov_last_error(), bad[i].needle) == NULL)
            fail_msg("case %zu '%s': got %d '%s', want %d '%s'", i, bad[i].s, (int)rc, sbprov_last_error(),
                     (int)bad[i].code, bad[i].needle);
        assert_null(cs);
    }
}

static void test_parse_edge_inputs(void **state)
{
    sbprov_azure_connstr *cs = NULL;
    const char with_nul[] = "HostName=h.net;DeviceId=d\0x;SharedAccessKey=" KEY;
    (void)state;
    assert_fails_with(sbprov_azure_connstr_parse(&cs, "", 0), SBPROV_ECONNSTR, "empty");
    assert_fails_with(sbprov_azure_connstr_parse(&cs, with_nul, sizeof with_nul - 1), SBPROV_ECONNSTR, "NUL byte");
    assert_fails_with(sbprov_azure_connstr_parse(NULL, "a", 1), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_connstr_parse(&cs, NULL, 1), SBPROV_EINVAL, "NULL");
    /* Only len bytes are read: the rest of the buffer is not part of the string. */
    const char *s = "HostName=h.net;DeviceId=d;x509=trueXYZ";
    assert_ok(sbprov_azure_connstr_parse(&cs, s, strlen(s) - 3));
    assert_string_equal(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_X509), "true");
    sbprov_azure_connstr_free(cs);
    /* '=' inside a value is kept (split at the first '='). */
    assert_ok(parse(&cs, "HostName=h.net;DeviceId=a=b;x509=true"));
    assert_string_equal(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_DEVICE_ID), "a=b");
    sbprov_azure_connstr_free(cs);
}

static void test_build_from_fields(void **state)
{
    sbprov_azure_connstr *cs = NULL;
    char out[512];
    size_t n = 0;
    (void)state;
    assert_ok(sbprov_azure_connstr_new(&cs));
    assert_fails_with(sbprov_azure_connstr_build(out, sizeof out, &n, cs), SBPROV_ECONNSTR, "HostName: required");
    assert_ok(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY, KEY));
    assert_ok(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_DEVICE_ID, "dev1"));
    assert_ok(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_HOST_NAME, "old.azure-devices.net"));
    assert_ok(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_HOST_NAME, "h.azure-devices.net"));
    assert_ok(sbprov_azure_connstr_build(out, sizeof out, &n, cs));
    assert_string_equal(out, "HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessKey=" KEY);

    assert_fails_with(sbprov_azure_connstr_build(out, 20, &n, cs), SBPROV_EBUFS, "needed");
    assert_int_equal(n, strlen("HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessKey=" KEY) + 1);

    assert_fails_with(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_DEVICE_ID, "a;b"), SBPROV_ECONNSTR, "contains ';'");
    assert_fails_with(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_DEVICE_ID, ""), SBPROV_ECONNSTR, "empty value");
    assert_fails_with(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY, "AAAA"), SBPROV_EKEYSIZE, "");
    assert_fails_with(sbprov_azure_connstr_set(cs, (sbprov_azure_cs_field)99, "x"), SBPROV_EINVAL, "unknown field");
    assert_fails_with(sbprov_azure_connstr_set(NULL, SBPROV_AZURE_CS_DEVICE_ID, "x"), SBPROV_EINVAL, "NULL");
    /* A failed set leaves the old value. */
    assert_string_equal(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_DEVICE_ID), "dev1");

    assert_ok(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_X509, "true"));
    assert_fails_with(sbprov_azure_connstr_build(out, sizeof out, &n, cs), SBPROV_ECONNSTR, "x509: contradicts");
    assert_ok(sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY, NULL));
    assert_null(sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY));
    assert_ok(sbprov_azure_connstr_build(out, sizeof out, &n, cs));
    assert_string_equal(out, "HostName=h.azure-devices.net;DeviceId=dev1;x509=true");
    assert_fails_with(sbprov_azure_connstr_build(NULL, 0, &n, cs), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_connstr_build(out, sizeof out, &n, NULL), SBPROV_EINVAL, "NULL");
    sbprov_azure_connstr_free(cs);
    assert_fails_with(sbprov_azure_connstr_new(NULL), SBPROV_EINVAL, "NULL");
}

static void test_field_names(void **state)
{
    sbprov_azure_cs_field f;
    int count = 0;
    (void)state;
    for (int i = 0; sbprov_azure_cs_field_name((sbprov_azure_cs_field)i) != NULL; i++) {
        assert_ok(sbprov_azure_cs_field_from_name(&f, sbprov_azure_cs_field_name((sbprov_azure_cs_field)i)));
        assert_int_equal(f, i);
        count++;
    }
    assert_int_equal(count, 8);
    assert_null(sbprov_azure_cs_field_name((sbprov_azure_cs_field)-1));
    assert_string_equal(sbprov_azure_cs_field_name(SBPROV_AZURE_CS_SHARED_ACCESS_KEY), "SharedAccessKey");
    assert_fails_with(sbprov_azure_cs_field_from_name(&f, "sharedaccesskey"), SBPROV_ENOTFOUND, "case-sensitive");
    assert_fails_with(sbprov_azure_cs_field_from_name(&f, NULL), SBPROV_EINVAL, "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_strings_round_trip),
        cmocka_unit_test(test_fields_are_readable),
        cmocka_unit_test(test_malformed_strings),
        cmocka_unit_test(test_parse_edge_inputs),
        cmocka_unit_test(test_build_from_fields),
        cmocka_unit_test(test_field_names),
    };
    return cmocka_run_group_tests_name("azure_connstr", tests, NULL, NULL);
}
