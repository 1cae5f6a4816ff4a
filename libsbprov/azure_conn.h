/* Internal: what the Azure clients (azure_dps.c, azure_hub.c,
 * azure_registry.c) share: a transport, a SAS token for one resource renewed
 * before it expires, the clock check against the servers' Date, and retries
 * of 429 and 5xx. */
#ifndef SBPROV_INTERNAL_AZURE_CONN_H
#define SBPROV_INTERNAL_AZURE_CONN_H

#include "sbprov/azure.h"
#include "sbprov/azure_http.h"

#include "http_transport.h"

#include <pthread.h>
#include <stdint.h>

typedef struct sbprov__azure_conn {
    pthread_mutex_t mu;              /* serialises the client's calls */
    sbprov__http *http;
    char *base_url;                  /* scheme://host[:port], no trailing slash */
    char *resource;                  /* SAS resource URI (sr), unencoded */
    char *policy;                    /* skn, or NULL */
    sbprov_azure_sas_signer *signer; /* keyed once */
    uint32_t token_ttl_s;
    uint32_t max_skew_s;
    char *token;                     /* "SharedAccessSignature sr=..." or NULL */
    int64_t token_exp;
    int64_t clock_offset;            /* server - local, seconds, from the last Date seen */
    int have_offset;
    const char *what;                /* "azure dps", ... (static) */
} sbprov__azure_conn;

/* Set up `c`: endpoint (NULL: default_endpoint), transport options, SAS
 * resource and policy, the Base64 key (copied into a signer). */
sbprov_result sbprov__azure_conn_init(sbprov__azure_conn *c, const char *endpoint, const char *default_endpoint,
                                      const sbprov_http_options *http, const char *resource, const char *policy,
                                      const char *key, size_t key_len, uint32_t token_ttl_s, uint32_t max_skew_s,
                                      const char *what);
void sbprov__azure_conn_free(sbprov__azure_conn *c);

/* One request with the SAS token (renewed when it has less than 5 minutes,
 * or a tenth of its lifetime, left). Tracks the server clock from `Date`:
 * SBPROV_ECLOCK instead of sending a token the server will see as expired,
 * and for a 401/403 answer when the clocks differ by more than the allowed
 * skew. SBPROV_OK means a response arrived (any status). */
sbprov_result sbprov__azure_request(sbprov__http_response *resp, sbprov__azure_conn *c, sbprov__http_request *req);

/* As sbprov__azure_request(), retrying 429 and 5xx answers until `deadline`
 * (monotonic ms): after `Retry-After` (1..300 s) or with backoff from 1 s
 * doubling to 30 s. The last answer is returned as it is (the caller
 * classifies it). */
sbprov_result sbprov__azure_request_retry(sbprov__http_response *resp, sbprov__azure_conn *c,
                                          sbprov__http_request *req, uint64_t deadline);

/* The failure for an unexpected answer: as sbprov__http_status_fail() but
 * with Azure's errorCode in the message, 412 as SBPROV_ECONFLICT. */
sbprov_result sbprov__azure_status_fail(const sbprov__http_response *resp, const char *what);

/* Hub options from the caller (NULL: the defaults), checked (azure_hub.c). */
sbprov_result sbprov__azure_hub_options_load(sbprov_azure_hub_options *o, const sbprov_azure_hub_options *opts);

/* Parsers of Azure answers (also fuzzed): a DPS operation result
 * (azure_dps.c) and a registry Device (azure_registry.c). */
sbprov_result sbprov__azure_dps_result_parse(sbprov_azure_dps_result **out, const sbprov__http_response *resp,
                                             const char *what);
sbprov_result sbprov__azure_device_parse(sbprov_azure_device **out, const sbprov__http_response *resp,
                                         const char *what);


#endif
