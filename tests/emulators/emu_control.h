/* Helpers of the network tests (tests/mender, tests/azure): the environment
 * that tests/emulators/stack.py exports, and the emulators' control API
 * (plain HTTP on loopback, never through nginx). Include once per test
 * program, after test_util.h; define EMU_CONTROL_ENV to the variable holding
 * the control URL (e.g. "SBPROV_TEST_MENDER_CONTROL") before including. */
#ifndef SBPROV_TEST_EMU_CONTROL_H
#define SBPROV_TEST_EMU_CONTROL_H

#include <curl/curl.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        fail_msg("%s is not set (run under tests/emulators/stack.py)", name);
    return v;
}

/* ---- the emulator's control API ---------------------------------------- */

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t collect(char *d, size_t s, size_t n, void *arg)
{
    body *b = arg;
    b->p = realloc(b->p, b->n + s * n + 1);
    memcpy(b->p + b->n, d, s * n);
    b->n += s * n;
    b->p[b->n] = '\0';
    return s * n;
}

/* A control call; returns the body (free it), asserting a 2xx answer. */
static char *ctl(const char *method, const char *path, const char *json)
{
    char url[512];
    body b = {calloc(1, 1), 0};
    long status = 0;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

    snprintf(url, sizeof url, "%s%s", env(EMU_CONTROL_ENV), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (json != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) != CURLE_OK)
        fail_msg("control %s %s: no answer", method, path);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (status < 200 || status > 299)
        fail_msg("control %s %s: HTTP %ld: %s", method, path, status, b.p);
    return b.p;
}

static void ctl_do(const char *method, const char *path, const char *json)
{
    free(ctl(method, path, json));
}

static void faults(const char *rules_json)
{
    ctl_do("POST", "/_emu/faults", rules_json);
}

#endif
