/* Core API: result strings, thread-local errors, global init, version, logging. */
#include "test_util.h"

#include "error.h"

#include <pthread.h>

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    for (int code = 0; code >= SBPROV_ECONFLICT; code--)
        assert_string_not_equal(sbprov_strerror(code), "unknown error");
    assert_string_equal(sbprov_strerror(-9999), "unknown error");
    assert_string_equal(sbprov_strerror(1), "unknown error");
}

static void test_codes_never_renumbered(void **state)
{
    (void)state;
    /* The values are ABI: this test fails if anyone renumbers them. */
    assert_int_equal(SBPROV_OK, 0);
    assert_int_equal(SBPROV_ERROR, -1);
    assert_int_equal(SBPROV_EINVAL, -2);
    assert_int_equal(SBPROV_ENOMEM, -3);
    assert_int_equal(SBPROV_EBUFS, -4);
    assert_int_equal(SBPROV_EBASE64, -5);
    assert_int_equal(SBPROV_EKEYSIZE, -6);
    assert_int_equal(SBPROV_EID, -7);
    assert_int_equal(SBPROV_EEXPIRY, -8);
    assert_int_equal(SBPROV_ECONNSTR, -9);
    assert_int_equal(SBPROV_ECRYPTO, -10);
    assert_int_equal(SBPROV_EINIT, -11);
    assert_int_equal(SBPROV_ENOTFOUND, -12);
    assert_int_equal(SBPROV_ERANDOM, -13);
    assert_int_equal(SBPROV_EKEY, -14);
    assert_int_equal(SBPROV_ESIGNATURE, -15);
    assert_int_equal(SBPROV_EIO, -16);
    assert_int_equal(SBPROV_EPROVIDER, -17);
    assert_int_equal(SBPROV_EPASSPHRASE, -18);
    assert_int_equal(SBPROV_ESCRIPT, -19);
    assert_int_equal(SBPROV_ETIMEOUT, -20);
    assert_int_equal(SBPROV_EPARSE, -21);
    assert_int_equal(SBPROV_EEXISTS, -22);
    assert_int_equal(SBPROV_ETAMPERED, -23);
    assert_int_equal(SBPROV_EFORMAT, -24);
    assert_int_equal(SBPROV_EUNSAFE, -25);
    assert_int_equal(SBPROV_ENETWORK, -26);
    assert_int_equal(SBPROV_ETLS, -27);
    assert_int_equal(SBPROV_ECERT, -28);
    assert_int_equal(SBPROV_EHTTP, -29);
    assert_int_equal(SBPROV_ESERVER, -30);
    assert_int_equal(SBPROV_ERESPONSE, -31);
    assert_int_equal(SBPROV_EAUTH, -32);
    assert_int_equal(SBPROV_ERATELIMIT, -33);
    assert_int_equal(SBPROV_ECANCELED, -34);
    assert_int_equal(SBPROV_ECLOCK, -35);
    assert_int_equal(SBPROV_ECONFLICT, -36);
}

static void test_last_error_records_and_clears(void **state)
{
    (void)state;
    sbprov_clear_error();
    assert_string_equal(sbprov_last_error(), "");
    assert_int_equal(sbprov_last_error_code(), SBPROV_OK);
    assert_int_equal(sbprov__fail(SBPROV_EID, "thing %d is bad", 7), SBPROV_EID);
    assert_string_equal(sbprov_last_error(), "thing 7 is bad");
    assert_int_equal(sbprov_last_error_code(), SBPROV_EID);
    sbprov_clear_error();
    assert_string_equal(sbprov_last_error(), "");
}

static void test_last_error_truncates_long_messages(void **state)
{
    char big[2048];
    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sbprov__fail(SBPROV_ERROR, "%s", big);
    assert_true(strlen(sbprov_last_error()) < sizeof big);
    assert_true(strlen(sbprov_last_error()) > 100);
}

static void *fail_in_thread(void *arg)
{
    sbprov__fail(SBPROV_ECRYPTO, "from the other thread");
    return arg;
}

static void test_last_error_is_per_thread(void **state)
{
    pthread_t t;
    (void)state;
    sbprov__fail(SBPROV_EID, "from the main thread");
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(sbprov_last_error(), "from the main thread");
    assert_int_equal(sbprov_last_error_code(), SBPROV_EID);
}

static void test_global_init_is_reference_counted(void **state)
{
    (void)state;
    assert_int_equal(sbprov_global_init(), 1);
    assert_int_equal(sbprov_global_init(), 2);
    assert_int_equal(sbprov_global_shutdown(), 1);
    assert_int_equal(sbprov_global_shutdown(), 0);
    assert_fails_with(sbprov_global_shutdown(), SBPROV_EINIT, "without a matching");
    /* Works again after a full shutdown. */
    assert_int_equal(sbprov_global_init(), 1);
    assert_int_equal(sbprov_global_shutdown(), 0);
}

static void *init_and_shutdown(void *arg)
{
    for (int i = 0; i < 200; i++) {
        if (sbprov_global_init() < 1)
            return (void *)1;
        if (sbprov_global_shutdown() < 0)
            return (void *)1;
    }
    return arg;
}

static void test_global_init_is_thread_safe(void **state)
{
    pthread_t t[4];
    void *failed = NULL;
    (void)state;
    assert_int_equal(sbprov_global_init(), 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, init_and_shutdown, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed = r != NULL ? r : failed;
    }
    assert_null(failed);
    assert_int_equal(sbprov_global_shutdown(), 0);
}

static void test_version_matches_headers(void **state)
{
    char expect[32];
    (void)state;
    snprintf(expect, sizeof expect, "%d.%d.%d", SBPROV_VERSION_MAJOR, SBPROV_VERSION_MINOR, SBPROV_VERSION_PATCH);
    assert_string_equal(sbprov_version(), SBPROV_VERSION);
    assert_string_equal(sbprov_version(), expect);
    assert_int_equal(sbprov_version_number(), SBPROV_VERSION_NUMBER);
    assert_true(SBPROV_VERSION_CHECK(0, 0, 1));
    assert_false(SBPROV_VERSION_CHECK(SBPROV_VERSION_MAJOR + 1, 0, 0));
}

static void test_free_accepts_null(void **state)
{
    (void)state;
    sbprov_free(NULL);
    sbprov_free(malloc(16));
}

typedef struct log_seen {
    int calls;
    sbprov_log_level level;
    char message[128];
} log_seen;

static void remember_log(sbprov_log_level level, const char *message, void *payload)
{
    log_seen *seen = payload;
    seen->calls++;
    seen->level = level;
    snprintf(seen->message, sizeof seen->message, "%s", message);
}

static void test_log_callback_filters_by_level(void **state)
{
    log_seen seen = { 0 };
    (void)state;
    sbprov__log(SBPROV_LOG_ERROR, "nobody listens");
    sbprov_log_set_callback(remember_log, SBPROV_LOG_WARNING, &seen);
    sbprov__log(SBPROV_LOG_INFO, "too quiet");
    assert_int_equal(seen.calls, 0);
    sbprov__log(SBPROV_LOG_WARNING, "disk %s", "full");
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.level, SBPROV_LOG_WARNING);
    assert_string_equal(seen.message, "disk full");
    sbprov_log_set_callback(NULL, SBPROV_LOG_DEBUG, NULL);
    sbprov__log(SBPROV_LOG_ERROR, "after removal");
    assert_int_equal(seen.calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_codes_never_renumbered),
        cmocka_unit_test(test_last_error_records_and_clears),
        cmocka_unit_test(test_last_error_truncates_long_messages),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_global_init_is_reference_counted),
        cmocka_unit_test(test_global_init_is_thread_safe),
        cmocka_unit_test(test_version_matches_headers),
        cmocka_unit_test(test_free_accepts_null),
        cmocka_unit_test(test_log_callback_filters_by_level),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
