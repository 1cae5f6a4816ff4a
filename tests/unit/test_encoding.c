/* Internal encodings: strict Base64, percent-encoding, bounded text, HMAC (RFC 4231). */
#include "test_util.h"

#include "base64.h"
#include "hmac.h"
#include "text.h"

static void test_base64_rfc4648_vectors(void **state)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const encoded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char out[16];
    uint8_t back[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < 7; i++) {
        sbprov__base64_encode(out, (const uint8_t *)plain[i], strlen(plain[i]));
        assert_string_equal(out, encoded[i]);
        if (i == 0)
            continue;
        assert_ok(sbprov__base64_decode(back, &n, encoded[i], strlen(encoded[i]), "t"));
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(back, plain[i], n);
    }
}

static void test_base64_round_trips_all_byte_values(void **state)
{
    uint8_t in[256], back[256];
    char text[SBPROV__BASE64_LEN(256) + 1];
    size_t n;
    (void)state;
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)(255 - i);
    for (size_t len = 1; len <= 256; len += 17) {
        sbprov__base64_encode(text, in, len);
        assert_int_equal(strlen(text), SBPROV__BASE64_LEN(len));
        assert_ok(sbprov__base64_decode(back, &n, text, strlen(text), "t"));
        assert_int_equal(n, len);
        assert_memory_equal(back, in, len);
    }
}

static void test_base64_strictness(void **state)
{
    uint8_t out[64];
    size_t n;
    (void)state;
    assert_fails_with(sbprov__base64_decode(out, &n, "", 0, "key"), SBPROV_EBASE64, "key: empty");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm9", 3, "key"), SBPROV_EBASE64, "not a multiple of 4");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zg", 2, "key"), SBPROV_EBASE64, "missing padding");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm9v\n", 5, "key"), SBPROV_EBASE64, "multiple of 4");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm 9", 4, "key"), SBPROV_EBASE64, "' ' at character 3");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm-_", 4, "key"), SBPROV_EBASE64, "base64url");
    assert_fails_with(sbprov__base64_decode(out, &n, "Z=9v", 4, "key"), SBPROV_EBASE64, "misplaced '='");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zg=v", 4, "key"), SBPROV_EBASE64, "misplaced '='");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zg==Zg==", 8, "key"), SBPROV_EBASE64, "misplaced '='");
    assert_fails_with(sbprov__base64_decode(out, &n, "===", 3, "key"), SBPROV_EBASE64, "multiple of 4");
    /* Non-canonical: unused bits set ("Zh==" would decode to 'f' too). */
    assert_fails_with(sbprov__base64_decode(out, &n, "Zh==", 4, "key"), SBPROV_EBASE64, "non-zero bits");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm9=", 4, "key"), SBPROV_EBASE64, "non-zero bits");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm\x80v", 4, "key"), SBPROV_EBASE64, "byte 0x80");
    assert_fails_with(sbprov__base64_decode(out, &n, "Zm\0v", 4, "key"), SBPROV_EBASE64, "byte 0x00");
}

static void test_decode_key_sizes(void **state)
{
    uint8_t raw[65], key[64];
    char text[SBPROV__BASE64_LEN(65) + 1];
    size_t n;
    (void)state;
    memset(raw, 0x5a, sizeof raw);
    for (size_t len = 1; len <= 65; len++) {
        sbprov__base64_encode(text, raw, len);
        sbprov_result rc = sbprov__decode_key(key, &n, text, strlen(text), "group key");
        if (len < 16 || len > 64) {
            assert_int_equal(rc, SBPROV_EKEYSIZE);
            assert_non_null(strstr(sbprov_last_error(), "group key: decodes to"));
        } else {
            assert_int_equal(rc, SBPROV_OK);
            assert_int_equal(n, len);
        }
    }
    /* Bad Base64 is reported as such even when it is also too long. */
    char long_bad[200];
    memset(long_bad, 'A', sizeof long_bad);
    long_bad[10] = '*';
    assert_fails_with(sbprov__decode_key(key, &n, long_bad, sizeof long_bad, "k"), SBPROV_EBASE64, "'*'");
    assert_fails_with(sbprov__decode_key(key, &n, long_bad, 5000, "k"), SBPROV_EKEYSIZE, "far longer");
}

static void test_url_encode_reference_vector(void **state)
{
    char out[128];
    size_t n;
    const char *in = "a/b+c=~-._ @#%:\xc3\xa9";
    (void)state;
    assert_ok(sbprov_azure_url_encode(out, sizeof out, &n, in, strlen(in)));
    assert_string_equal(out, "a%2Fb%2Bc%3D~-._%20%40%23%25%3A%C3%A9");
    assert_int_equal(n, strlen(out));
    assert_ok(sbprov_azure_url_encode(out, sizeof out, &n, "\0\xff", 2));
    assert_string_equal(out, "%00%FF");
    assert_ok(sbprov_azure_url_encode(out, sizeof out, &n, "", 0));
    assert_string_equal(out, "");
    assert_ok(sbprov_azure_url_encode(out, sizeof out, &n, NULL, 0));
    assert_fails_with(sbprov_azure_url_encode(out, sizeof out, &n, NULL, 3), SBPROV_EINVAL, "NULL");
}

static void test_url_encode_every_byte(void **state)
{
    char out[8];
    (void)state;
    for (int c = 0; c < 256; c++) {
        unsigned char b = (unsigned char)c;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_' || c == '.' || c == '~';
        char expect[8];
        if (keep)
            snprintf(expect, sizeof expect, "%c", c);
        else
            snprintf(expect, sizeof expect, "%%%02X", c);
        assert_ok(sbprov_azure_url_encode(out, sizeof out, NULL, &b, 1));
        assert_string_equal(out, expect);
    }
}

static void test_text_reports_needed_size(void **state)
{
    char buf[8];
    size_t n = 0;
    sbprov__text t;
    (void)state;
    sbprov__text_init(&t, buf, sizeof buf);
    sbprov__text_append_str(&t, "1234567");
    assert_ok(sbprov__text_finish(&t, &n));
    assert_int_equal(n, 7);
    assert_string_equal(buf, "1234567");

    sbprov__text_init(&t, buf, sizeof buf);
    sbprov__text_append_str(&t, "12345678");
    assert_fails_with(sbprov__text_finish(&t, &n), SBPROV_EBUFS, "9 needed");
    assert_int_equal(n, 9);
    /* The partial text is wiped: it may be a secret. */
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0);

    sbprov__text_init(&t, NULL, 0);
    sbprov__text_append_i64(&t, -9223372036854775807LL - 1);
    assert_fails_with(sbprov__text_finish(&t, &n), SBPROV_EBUFS, "needed");
    assert_int_equal(n, 21);
}

static void test_text_decimal(void **state)
{
    char buf[32];
    sbprov__text t;
    (void)state;
    sbprov__text_init(&t, buf, sizeof buf);
    sbprov__text_append_i64(&t, 0);
    sbprov__text_append_str(&t, ",");
    sbprov__text_append_i64(&t, 1663119026);
    sbprov__text_append_str(&t, ",");
    sbprov__text_append_i64(&t, -42);
    assert_ok(sbprov__text_finish(&t, NULL));
    assert_string_equal(buf, "0,1663119026,-42");
}

/* RFC 4231 section 4 test cases 1-7 (case 5 compares the first 128 bits). */
static void test_hmac_sha256_rfc4231(void **state)
{
    static const char *const expected[] = {
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        "a3b6167473100ee06e0c796c2955552b",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    };
    uint8_t key[131], data[160], mac[32], want[32];
    size_t key_len[7], data_len[7];
    const char *text7 = "This is a test using a larger than block-size key and a larger than block-size data. "
                        "The key needs to be hashed before being used by the HMAC algorithm.";
    (void)state;

    for (int tc = 0; tc < 7; tc++) {
        switch (tc) {
        case 0: memset(key, 0x0b, 20); key_len[tc] = 20; memcpy(data, "Hi There", 8); data_len[tc] = 8; break;
        case 1: memcpy(key, "Jefe", 4); key_len[tc] = 4;
                memcpy(data, "what do ya want for nothing?", 28); data_len[tc] = 28; break;
        case 2: memset(key, 0xaa, 20); key_len[tc] = 20; memset(data, 0xdd, 50); data_len[tc] = 50; break;
        case 3: for (int i = 0; i < 25; i++) key[i] = (uint8_t)(i + 1);
                key_len[tc] = 25; memset(data, 0xcd, 50); data_len[tc] = 50; break;
        case 4: memset(key, 0x0c, 20); key_len[tc] = 20;
                memcpy(data, "Test With Truncation", 20); data_len[tc] = 20; break;
        case 5: memset(key, 0xaa, 131); key_len[tc] = 131;
                memcpy(data, "Test Using Larger Than Block-Size Key - Hash Key First", 54); data_len[tc] = 54; break;
        case 6: memset(key, 0xaa, 131); key_len[tc] = 131;
                memcpy(data, text7, strlen(text7)); data_len[tc] = strlen(text7); break;
        }
        size_t want_len = test_hex(want, expected[tc]);
        assert_ok(sbprov__hmac_sha256_once(key, key_len[tc], data, data_len[tc], mac));
        assert_memory_equal(mac, want, want_len);

        /* A reused keyed state gives the same MAC every time. */
        sbprov__hmac *h = NULL;
        assert_ok(sbprov__hmac_new(&h, key, key_len[tc]));
        for (int again = 0; again < 3; again++) {
            memset(mac, 0, sizeof mac);
            assert_ok(sbprov__hmac_sha256(h, data, data_len[tc], mac));
            assert_memory_equal(mac, want, want_len);
        }
        sbprov__hmac_free(h);
    }
    sbprov__hmac_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648_vectors),
        cmocka_unit_test(test_base64_round_trips_all_byte_values),
        cmocka_unit_test(test_base64_strictness),
        cmocka_unit_test(test_decode_key_sizes),
        cmocka_unit_test(test_url_encode_reference_vector),
        cmocka_unit_test(test_url_encode_every_byte),
        cmocka_unit_test(test_text_reports_needed_size),
        cmocka_unit_test(test_text_decimal),
        cmocka_unit_test(test_hmac_sha256_rfc4231),
    };
    return cmocka_run_group_tests_name("encoding", tests, NULL, NULL);
}
