/* Timed loops over libsbprov's SAS-token functions, loaded with ctypes by
 * bench/sas_python_sdk.py so that libsbprov and the Python SDK are sampled
 * back to back in one process: a slow spell of a shared machine then hits
 * both sides of each pair, and the paired ratio stays meaningful. */
#include <sbprov/sbprov.h>

#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT
#endif

static char **uris;
static size_t count;
static char *key;
static char *policy;
static long long expiry;
static sbprov_azure_sas_signer *signer;

EXPORT void sas_loop_teardown(void);
EXPORT int sas_loop_setup(const char *b64_key, const char *policy_name, long long expiry_s, const char *uris_nl);
EXPORT int sas_loop_run(int with_signer, int passes);

void sas_loop_teardown(void)
{
    for (size_t i = 0; i < count; i++)
        free(uris[i]);
    free(uris);
    free(key);
    free(policy);
    sbprov_azure_sas_signer_free(signer);
    uris = NULL;
    count = 0;
    key = policy = NULL;
    signer = NULL;
}

/* uris_nl: resource URIs separated by '\n'. Returns 0, or -1 on failure. */
int sas_loop_setup(const char *b64_key, const char *policy_name, long long expiry_s, const char *uris_nl)
{
    size_t cap = 1;
    sas_loop_teardown();
    for (const char *p = uris_nl; *p; p++)
        cap += *p == '\n';
    uris = calloc(cap, sizeof *uris);
    key = strdup(b64_key);
    policy = strdup(policy_name);
    expiry = expiry_s;
    if (uris == NULL || key == NULL || policy == NULL ||
        sbprov_azure_sas_signer_new(&signer, key, strlen(key)) != SBPROV_OK)
        return -1;
    for (const char *p = uris_nl; *p;) {
        size_t len = strcspn(p, "\n");
        if (len > 0 && (uris[count++] = strndup(p, len)) == NULL)
            return -1;
        p += len + (p[len] == '\n');
    }
    return count > 0 ? 0 : -1;
}

/* Make one token per URI, `passes` times over all URIs. Returns 0, or the
 * first failing result code. */
int sas_loop_run(int with_signer, int passes)
{
    char token[8192];
    for (int pass = 0; pass < passes; pass++)
        for (size_t i = 0; i < count; i++) {
            sbprov_result rc = with_signer
                                   ? sbprov_azure_sas_signer_token(token, sizeof token, NULL, signer, uris[i], policy,
                                                                   expiry, 0)
                                   : sbprov_azure_sas_token(token, sizeof token, NULL, uris[i], key, strlen(key),
                                                            policy, expiry, 0);
            if (rc != SBPROV_OK)
                return rc;
        }
    return 0;
}
