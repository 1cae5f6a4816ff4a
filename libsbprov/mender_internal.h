/* Internal: the Mender clients' handles and the helpers their files share
 * (mender_common.c: URLs, IDs, tokens; mender_device.c: the device client;
 * mender_inventory.c: inventory and update check; mender_mgmt.c and
 * mender_devices.c: the management API). */
#ifndef SBPROV_INTERNAL_MENDER_H
#define SBPROV_INTERNAL_MENDER_H

#include "sbprov/mender.h"

#include "http_transport.h"

#include <pthread.h>

#define SBPROV__MENDER_TOKEN_MAX 16384 /* longest token accepted from a server */
#define SBPROV__MENDER_ID_MAX 128      /* longest device or auth-set ID */

struct sbprov_mender {
    pthread_mutex_t mu;     /* serialises calls */
    sbprov__http *http;
    char *base_url;         /* scheme://host[:port], no trailing slash */
    char *id_data;          /* canonical identity JSON */
    sbprov_key *key;        /* own reference */
    char *pubkey_pem;       /* SPKI PEM of the key */
    char *tenant_token;     /* or NULL */
    char *tier;             /* or NULL: not sent */
    sbprov_store *store;    /* or NULL */
    char *token_entry;
    uint32_t renew_margin_s;
    char *token;            /* or NULL */
    size_t token_len;
    int64_t token_exp;      /* 0: unknown */
    char device_id[SBPROV__MENDER_ID_MAX + 1];
};

struct sbprov_mender_mgmt {
    pthread_mutex_t mu;
    sbprov__http *http;
    char *base_url;
    char *token;            /* "Bearer" token, or NULL */
};

/* SBPROV_EINVAL unless `id` is 1..SBPROV__MENDER_ID_MAX of [A-Za-z0-9._~-]. */
sbprov_result sbprov__mender_check_id(const char *id, const char *what);

/* A token from a response body: printable ASCII, no spaces, at most
 * SBPROV__MENDER_TOKEN_MAX; a trailing newline is dropped. malloc'd copy in
 * *out. SBPROV_ERESPONSE otherwise. */
sbprov_result sbprov__mender_take_token(char **out, size_t *out_len, const char *body, size_t len,
                                        const char *what);

/* exp and sub claims of a JWT (without verifying it). SBPROV_ERESPONSE if it
 * is not three Base64url parts with a JSON object in the middle; a missing
 * exp gives 0, a missing sub "". */
sbprov_result sbprov__jwt_claims(int64_t *exp, char *sub, size_t sub_size, const char *jwt, size_t len,
                                 const char *what);

/* The device ID from a Location header ("devices/<id>" or a URL ending in it). */
sbprov_result sbprov__mender_id_from_location(char *out, size_t size, const char *location, const char *what);

/* Give `status_out` the outcome of one device auth attempt (mender_device.c),
 * with the mutex held. */
sbprov_result sbprov__mender_authenticate_locked(sbprov_mender_auth_status *status, sbprov_mender *m,
                                                 uint32_t timeout_ms);

/* A device API request with the device token: authenticates first if there
 * is no token or it expires within the margin, and once more after a 401 or
 * 403. With the mutex held. */
sbprov_result sbprov__mender_device_request(sbprov__http_response *resp, sbprov_mender *m,
                                            sbprov__http_request *req, const char *what);

/* A management API request with the client's token (JSON body or none),
 * with the mutex held. SBPROV_EAUTH if there is no token. */
sbprov_result sbprov__mender_mgmt_call(sbprov__http_response *resp, sbprov_mender_mgmt *m, const char *method,
                                       const char *path, const char *body, const char *what);

/* A device from a response whose body is one Device object. */
sbprov_result sbprov__mender_device_parse(sbprov_mender_device **out, const sbprov__http_response *resp,
                                          const char *what);

/* A page of devices from a response whose body is a Device array. */
sbprov_result sbprov__mender_device_list_parse(sbprov_mender_device_list **out, const sbprov__http_response *resp,
                                               const char *what);

/* A deployment from a 200 deployments/next response. */
sbprov_result sbprov__mender_update_parse(sbprov_mender_update **out, const sbprov__http_response *resp,
                                          const char *what);

/* SBPROV_EINVAL unless status is NULL or a known device status. */
sbprov_result sbprov__mender_check_status(const char *status, const char *what);

/* The identity's canonical JSON / the key's SPKI PEM, malloc'd. */
sbprov_result sbprov__mender_identity_json(char **out, const sbprov_identity *identity);
sbprov_result sbprov__mender_public_pem(char **out, const sbprov_key *key);


#endif
