/* Azure group-enrollment key derivation and key generation. */
#include "test_util.h"

/* Published: azure-docs how-to-legacy-device-symm-key.md (vector D1). */
static const char d1_group_key[] =
    "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
static const char d1_registration_id[] = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
static const char d1_expect[] = "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=";

/* Our own vectors, computed independently with Python's hmac/hashlib/base64. */
static const struct {
    const char *group_key, *registration_id, *expect;
} own[] = {
    { "AAECAwQFBgcICQoLDA0ODw==", "a", "xIw+7pmcqIFltzU9536LYpYSA/iVVCs/vXQtLkGaNeM=" },
    { "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw==",
      "gw-0001.office-berlin_3:x", "h/IbrdeXz/uxmEj4hYxCXQwMWfKC1A2Q299N8FA52+4=" },
    { "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=",
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000",
      "mrbSRfkBZ/ilaP9comrVdbg+BL3w66Hd+bp1sc+j4sc=" },
};

static sbprov_result derive(char *out, size_t size, const char *key, const char *id)
{
    return sbprov_azure_derive_device_key(out, size, NULL, key, strlen(key), id);
}

static void test_published_vector(void **state)
{
    char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
    size_t n = 0;
    (void)state;
    assert_ok(sbprov_azure_derive_device_key(out, sizeof out, &n, d1_group_key, strlen(d1_group_key),
                                             d1_registration_id));
    assert_string_equal(out, d1_expect);
    assert_int_equal(n, 44);
}

static void test_shared_vector_file(void **state)
{
    cJSON *root = test_vectors_json("azure-published.json"), *item;
    int checked = 0;
    (void)state;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(root, "derive"))
    {
        char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
        const char *key = cJSON_GetObjectItem(item, "group_key")->valuestring;
        assert_ok(derive(out, sizeof out, key, cJSON_GetObjectItem(item, "registration_id")->valuestring));
        assert_string_equal(out, cJSON_GetObjectItem(item, "expect")->valuestring);
        checked++;
    }
    assert_true(checked > 0);
    cJSON_Delete(root);
}

static void test_own_vectors(void **state)
{
    char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
    (void)state;
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        assert_ok(derive(out, sizeof out, own[i].group_key, own[i].registration_id));
        assert_string_equal(out, own[i].expect);
    }
}

static void test_deriver_matches_one_shot(void **state)
{
    sbprov_azure_deriver *d = NULL;
    char a[SBPROV_AZURE_DERIVED_KEY_SIZE], b[SBPROV_AZURE_DERIVED_KEY_SIZE], id[32];
    (void)state;
    assert_ok(sbprov_azure_deriver_new(&d, d1_group_key, strlen(d1_group_key)));
    assert_ok(sbprov_azure_deriver_derive(a, sizeof a, NULL, d, d1_registration_id));
    assert_string_equal(a, d1_expect);
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "gw-%05d", i);
        assert_ok(sbprov_azure_deriver_derive(a, sizeof a, NULL, d, id));
        assert_ok(derive(b, sizeof b, d1_group_key, id));
        assert_string_equal(a, b);
    }
    /* A failed derivation leaves the deriver usable. */
    assert_fails_with(sbprov_azure_deriver_derive(a, sizeof a, NULL, d, "Bad"), SBPROV_EID, "upper-case");
    assert_ok(sbprov_azure_deriver_derive(a, sizeof a, NULL, d, d1_registration_id));
    assert_string_equal(a, d1_expect);
    sbprov_azure_deriver_free(d);
    sbprov_azure_deriver_free(NULL);
}

static void test_bad_group_keys(void **state)
{
    char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_azure_deriver *d = (sbprov_azure_deriver *)&d;
    (void)state;
    assert_fails_with(derive(out, sizeof out, "", "a"), SBPROV_EBASE64, "group key: empty");
    assert_fails_with(derive(out, sizeof out, "AAECAwQFBgcICQoLDA0ODw", "a"), SBPROV_EBASE64, "missing padding");
    assert_fails_with(derive(out, sizeof out, "AAECAwQFBgcICQoLDA0ODw==\n", "a"), SBPROV_EBASE64, "group key");
    assert_fails_with(derive(out, sizeof out, "AAECAwQFBgcICQoLDA0OD-==", "a"), SBPROV_EBASE64, "base64url");
    assert_fails_with(derive(out, sizeof out, "AAECAwQFBgcICQoLDA0ODx==", "a"), SBPROV_EBASE64, "non-zero bits");
    /* 15 and 65 bytes decoded. */
    assert_fails_with(derive(out, sizeof out, "AAECAwQFBgcICQoLDA0O", "a"), SBPROV_EKEYSIZE, "15 bytes");
    assert_fails_with(derive(out, sizeof out,
                             "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4A=",
                             "a"),
                      SBPROV_EKEYSIZE, "65 bytes");
    /* A key given as (ptr, len) is not read past len, and an embedded NUL is bad Base64. */
    assert_fails_with(sbprov_azure_derive_device_key(out, sizeof out, NULL, "AAECAwQFBgcICQoLDA0ODw==", 23, "a"),
                      SBPROV_EBASE64, "multiple of 4");
    assert_fails_with(sbprov_azure_derive_device_key(out, sizeof out, NULL, "AAECAwQFBgcI\0QoLDA0ODw==", 24, "a"),
                      SBPROV_EBASE64, "0x00");
    assert_fails_with(sbprov_azure_deriver_new(&d, "AAAA", 4), SBPROV_EKEYSIZE, "3 bytes");
    assert_null(d);
}

static void test_bad_registration_ids(void **state)
{
    static const struct {
        const char *id, *needle;
    } bad[] = {
        { "", "empty" },
        { "Gw-1", "upper-case 'G'" },
        { "-gw", "start with a letter or digit" },
        { ".gw", "start with a letter or digit" },
        { "gw.", "end with a letter, digit or '-'" },
        { "gw_", "end with a letter, digit or '-'" },
        { "gw 1", "' ' at position 3" },
        { "gw/1", "'/' at position 3" },
        { "gw\xc3\xa9", "byte 0xc3 at position 3" },
        { "gw\t1", "byte 0x09" },
    };
    char out[SBPROV_AZURE_DERIVED_KEY_SIZE], long_id[130];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_fails_with(derive(out, sizeof out, d1_group_key, bad[i].id), SBPROV_EID, bad[i].needle);
        assert_fails_with(sbprov_azure_check_registration_id(bad[i].id), SBPROV_EID, "registration ID");
    }
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    assert_fails_with(derive(out, sizeof out, d1_group_key, long_id), SBPROV_EID, "129 characters");
    long_id[128] = '\0';
    assert_ok(derive(out, sizeof out, d1_group_key, long_id));
    assert_ok(sbprov_azure_check_registration_id("a"));
    assert_ok(sbprov_azure_check_registration_id("gw-"));
    assert_ok(sbprov_azure_check_registration_id("0.1_2:3-4"));
    assert_fails_with(sbprov_azure_check_registration_id(NULL), SBPROV_EINVAL, "NULL");
}

static void test_derive_buffer_too_small(void **state)
{
    char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
    size_t n = 0;
    (void)state;
    assert_fails_with(sbprov_azure_derive_device_key(out, 44, &n, d1_group_key, strlen(d1_group_key),
                                                     d1_registration_id),
                      SBPROV_EBUFS, "45 needed");
    assert_int_equal(n, SBPROV_AZURE_DERIVED_KEY_SIZE);
    assert_fails_with(sbprov_azure_derive_device_key(out, 0, NULL, d1_group_key, strlen(d1_group_key),
                                                     d1_registration_id),
                      SBPROV_EBUFS, "needed");
}

static void test_derive_null_arguments(void **state)
{
    char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_azure_deriver *d = NULL;
    (void)state;
    assert_fails_with(sbprov_azure_derive_device_key(NULL, 45, NULL, d1_group_key, 88, "a"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_derive_device_key(out, 45, NULL, NULL, 88, "a"), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_derive_device_key(out, 45, NULL, d1_group_key, 88, NULL), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_deriver_new(NULL, d1_group_key, 88), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_deriver_new(&d, NULL, 88), SBPROV_EINVAL, "NULL");
    assert_fails_with(sbprov_azure_deriver_derive(out, sizeof out, NULL, NULL, "a"), SBPROV_EINVAL, "NULL");
}

static void test_generate_keys(void **state)
{
    char p[SBPROV_AZURE_KEY_B64_SIZE(64)], s[SBPROV_AZURE_KEY_B64_SIZE(64)];
    size_t n = 0;
    (void)state;
    for (size_t bytes = 16; bytes <= 64; bytes++) {
        assert_ok(sbprov_azure_generate_keys(p, sizeof p, s, sizeof s, &n, bytes));
        assert_int_equal(n, SBPROV_AZURE_KEY_B64_SIZE(bytes) - 1);
        assert_int_equal(strlen(p), n);
        assert_string_not_equal(p, s);
        /* Each generated key is itself a valid key of the asked size. */
        char out[SBPROV_AZURE_DERIVED_KEY_SIZE];
        assert_ok(derive(out, sizeof out, p, "a"));
        assert_ok(derive(out, sizeof out, s, "a"));
    }
    assert_ok(sbprov_azure_generate_key(p, sizeof p, &n, 0));
    assert_int_equal(n, 44);
    assert_fails_with(sbprov_azure_generate_key(p, sizeof p, &n, 15), SBPROV_EKEYSIZE, "15 bytes");
    assert_fails_with(sbprov_azure_generate_key(p, sizeof p, &n, 65), SBPROV_EKEYSIZE, "65 bytes");
    assert_fails_with(sbprov_azure_generate_key(p, 44, &n, 32), SBPROV_EBUFS, "45 needed");
    assert_int_equal(n, 45);
    assert_fails_with(sbprov_azure_generate_keys(p, sizeof p, s, 20, &n, 32), SBPROV_EBUFS, "45 needed");
    assert_int_equal(n, 45);
    assert_fails_with(sbprov_azure_generate_keys(NULL, 0, s, sizeof s, &n, 32), SBPROV_EINVAL, "NULL");
}

static void test_generated_keys_differ(void **state)
{
    char seen[64][SBPROV_AZURE_KEY_B64_SIZE(16)];
    (void)state;
    for (int i = 0; i < 64; i++) {
        assert_ok(sbprov_azure_generate_key(seen[i], sizeof seen[i], NULL, 16));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_vector),
        cmocka_unit_test(test_shared_vector_file),
        cmocka_unit_test(test_own_vectors),
        cmocka_unit_test(test_deriver_matches_one_shot),
        cmocka_unit_test(test_bad_group_keys),
        cmocka_unit_test(test_bad_registration_ids),
        cmocka_unit_test(test_derive_buffer_too_small),
        cmocka_unit_test(test_derive_null_arguments),
        cmocka_unit_test(test_generate_keys),
        cmocka_unit_test(test_generated_keys_differ),
    };
    return cmocka_run_group_tests_name("azure_keys", tests, NULL, NULL);
}
