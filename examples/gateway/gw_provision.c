/*
 * sbprov-gateway: provisioning steps (see gw_provision.h). Store entries:
 *   mender.identity   canonical identity JSON (also written by sbprov-fleet)
 *   mender.jwt        the Mender device token (by the library)
 *   mender.device_id, mender.server
 *   IOTHUB_DEVICE_DPS_*            DPS settings and the device key (sbprov-fleet's names)
 *   IOTHUB_DEVICE_CONNECTION_STRING  the result of DPS registration
 * SPDX-License-Identifier: MIT
 */
#include "gw_provision.h"
#include "gw_log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sbprov/azure.h>

#define E_CONNSTR "IOTHUB_DEVICE_CONNECTION_STRING"
#define E_DPS_ENDPOINT "IOTHUB_DEVICE_DPS_ENDPOINT"
#define E_DPS_SCOPE "IOTHUB_DEVICE_DPS_ID_SCOPE"
#define E_DPS_ID "IOTHUB_DEVICE_DPS_DEVICE_ID"
#define E_DPS_KEY "IOTHUB_DEVICE_DPS_DEVICE_KEY"
#define E_SECURITY "IOTHUB_DEVICE_SECURITY_TYPE"

/* Exported to the env file, in this order, those that exist. */
static const char *const env_entries[] = {E_CONNSTR, E_SECURITY, E_DPS_ENDPOINT, E_DPS_SCOPE, E_DPS_ID, E_DPS_KEY};

/* The client a signal may cancel (set with signals blocked, see track()). */
static sbprov_mender *volatile cancel_mender;
static sbprov_azure_dps *volatile cancel_dps;
static volatile sig_atomic_t cancelled;

void gw_provision_cancel(void)
{
    cancelled = 1;
    sbprov_mender_cancel(cancel_mender);
    sbprov_azure_dps_cancel(cancel_dps);
}

/* Publish (or clear) the cancellable clients with the stop signals blocked,
 * so a handler never sees a client that is being freed. */
static void track(sbprov_mender *m, sbprov_azure_dps *d)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    cancel_mender = m;
    cancel_dps = d;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Read a small secret file (tenant token, group key, connection string),
 * refusing one that other users can read. Trailing newlines are cut. */
static int read_secret(char *buf, size_t size, const char *path, const char *what)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        gw_log(GW_ERR, "%s %s: %s", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((st.st_mode & S_IROTH) != 0 || !S_ISREG(st.st_mode)) {
        gw_log(GW_ERR, "%s %s: %s (chmod 600)", what, path,
               S_ISREG(st.st_mode) ? "readable by every user; a secret must not be" : "not a regular file");
        close(fd);
        return -1;
    }
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0 || (size_t)n == size - 1) {
        gw_log(GW_ERR, "%s %s: %s", what, path, n < 0 ? strerror(errno) : "too large");
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (n == 0) {
        gw_log(GW_ERR, "%s %s: empty", what, path);
        return -1;
    }
    return 0;
}

/* A stored text entry into buf; 0 found, 1 not there, -1 error (logged). */
static int stored(char *buf, size_t size, sbprov_store *store, const char *name)
{
    size_t len;
    sbprov_result rc = sbprov_store_get(buf, size - 1, &len, store, name);
    if (rc == SBPROV_ENOTFOUND)
        return 1;
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "store entry %s", name);
        return -1;
    }
    buf[len] = '\0';
    return 0;
}

static int store_text(sbprov_store *store, const char *name, const char *value)
{
    sbprov_result rc = sbprov_store_put(store, name, value, strlen(value));
    if (rc != SBPROV_OK)
        gw_log_result(GW_ERR, rc, "storing %s", name);
    return rc == SBPROV_OK ? 0 : -1;
}

static int open_store(gw_device *dev, const gw_config *cfg)
{
    if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
        gw_log(GW_ERR, "state directory %s: %s", cfg->state_dir, strerror(errno));
        return -1;
    }
    sbprov_result rc = sbprov_store_create_key_file(cfg->store_key_file);
    if (rc == SBPROV_OK)
        gw_log(GW_INFO, "created the store key %s", cfg->store_key_file);
    else if (rc != SBPROV_EEXISTS) {
        gw_log_result(GW_ERR, rc, "store key %s", cfg->store_key_file);
        return -1;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/store", cfg->state_dir);
    sbprov_store_open_options o;
    if ((rc = sbprov_store_open_options_init(&o, sizeof o)) == SBPROV_OK) {
        o.key_file = cfg->store_key_file;
        o.create = 1;
        rc = sbprov_store_open(&dev->store, dir, &o);
    }
    if (rc != SBPROV_OK)
        gw_log_result(GW_ERR, rc, "credential store %s", dir);
    return rc == SBPROV_OK ? 0 : -1;
}

/* "handle:0x81000003", "pkcs11:...", "file:..." are OpenSSL store URIs; anything else a path. */
static int is_uri(const char *s)
{
    size_t n = strcspn(s, ":/");
    return n > 1 && s[n] == ':';
}

static int load_key(gw_device *dev, const gw_config *cfg)
{
    sbprov_result rc;
    if (!is_uri(cfg->key) && access(cfg->key, F_OK) != 0 && errno == ENOENT) {
        /* First start without a factory key: make one (0600, atomic, never replaces). */
        sbprov_key *fresh = NULL;
        rc = sbprov_key_generate(&fresh, NULL);
        if (rc == SBPROV_OK)
            rc = sbprov_key_save(fresh, cfg->key, NULL, 0, 0);
        sbprov_key_free(fresh);
        if (rc != SBPROV_OK && rc != SBPROV_EEXISTS) {
            gw_log_result(GW_ERR, rc, "creating the device key %s", cfg->key);
            return -1;
        }
        gw_log(GW_INFO, "created the device key %s (Ed25519)", cfg->key);
    }
    sbprov_key_load_options o;
    if ((rc = sbprov_key_load_options_init(&o, sizeof o)) == SBPROV_OK) {
        o.providers = cfg->key_providers;
        o.openssl_conf = cfg->key_openssl_conf;
        rc = sbprov_key_load(&dev->key, cfg->key, &o);
    }
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "device key %s", cfg->key);
        return -1;
    }
    char fp[128];
    if (sbprov_key_fingerprint(fp, sizeof fp, NULL, dev->key) == SBPROV_OK)
        gw_log(GW_INFO, "device key %s (SHA-256 of the public key %s)", cfg->key, fp);
    return 0;
}

/* The stored identity is the JSON object Mender keeps (sbprov-fleet writes
 * it too): attribute -> string, or -> array of strings for several values. */
static sbprov_result identity_from_json(sbprov_identity **out, const char *json)
{
    cJSON *root = cJSON_Parse(json);
    sbprov_result rc = sbprov_identity_new(out);
    if (rc == SBPROV_OK && !cJSON_IsObject(root))
        rc = SBPROV_EPARSE;
    const cJSON *attrs = cJSON_IsObject(root) ? root : NULL, *attr;
    cJSON_ArrayForEach(attr, attrs) {
        if (rc != SBPROV_OK)
            break;
        if (cJSON_IsString(attr)) {
            rc = sbprov_identity_add(*out, attr->string, attr->valuestring);
            continue;
        }
        const cJSON *v;
        rc = cJSON_IsArray(attr) && cJSON_GetArraySize(attr) > 0 ? SBPROV_OK : SBPROV_EPARSE;
        cJSON_ArrayForEach(v, attr) {
            if (rc == SBPROV_OK)
                rc = cJSON_IsString(v) ? sbprov_identity_add(*out, attr->string, v->valuestring) : SBPROV_EPARSE;
        }
    }
    cJSON_Delete(root);
    if (rc == SBPROV_EPARSE)
        gw_log(GW_ERR, "stored mender.identity is not a JSON object of strings (or arrays of strings): %.200s", json);
    if (rc != SBPROV_OK) {
        sbprov_identity_free(*out);
        *out = NULL;
    }
    return rc;
}

static int load_identity(gw_device *dev, const gw_config *cfg)
{
    const char *mode = cfg->identity != NULL ? cfg->identity : "auto";
    char json[4096];
    int have = stored(json, sizeof json, dev->store, "mender.identity");
    if (have < 0)
        return -1;
    sbprov_result rc;
    const char *source;
    if (strcmp(mode, "stored") == 0 || (strcmp(mode, "auto") == 0 && have == 0)) {
        if (have != 0) {
            gw_log(GW_ERR, "identity = stored, but the store has no mender.identity (write it with sbprov-fleet or "
                   "'sbprov store put')");
            return -1;
        }
        rc = identity_from_json(&dev->identity, json);
        source = "the store";
    } else if (strncmp(mode, "script:", 7) == 0) {
        rc = sbprov_identity_from_script(&dev->identity, mode + 7, NULL);
        source = mode + 7;
    } else {
        rc = sbprov_identity_probe(&dev->identity, NULL);
        source = "the network interfaces";
    }
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "device identity from %s", source);
        return -1;
    }
    size_t len;
    if ((rc = sbprov_identity_canonical_json(json, sizeof json, &len, dev->identity)) != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "device identity");
        return -1;
    }
    gw_log(GW_INFO, "identity %s (from %s)", json, source);
    /* Kept, so that "auto" presents the same identity after a NIC change. */
    return have == 0 ? 0 : store_text(dev->store, "mender.identity", json);
}

static int http_options(sbprov_http_options *http, const char *ca_file)
{
    if (sbprov_http_options_init(http, sizeof *http) != SBPROV_OK)
        return -1;
    http->ca_file = ca_file;
    http->user_agent = "sbprov-gateway";
    return 0;
}

static int mender(gw_device *dev, const gw_config *cfg)
{
    if (cfg->mender_url == NULL) {
        gw_log(GW_NOTICE, "no [mender] url: Mender authentication skipped");
        return 0;
    }
    char tenant[4096];
    if (cfg->mender_tenant_token_file != NULL &&
        read_secret(tenant, sizeof tenant, cfg->mender_tenant_token_file, "tenant token") != 0)
        return 1;
    sbprov_http_options http;
    sbprov_mender_options o;
    sbprov_result rc = SBPROV_EINVAL;
    if (http_options(&http, cfg->mender_ca_file) == 0 && (rc = sbprov_mender_options_init(&o, sizeof o)) == SBPROV_OK) {
        o.http = &http;
        o.token_store = dev->store;
        o.tenant_token = cfg->mender_tenant_token_file != NULL ? tenant : NULL;
        rc = sbprov_mender_new(&dev->mender, cfg->mender_url, dev->identity, dev->key, &o);
    }
    explicit_bzero(tenant, sizeof tenant);
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "Mender client for %s", cfg->mender_url);
        return 1;
    }
    if (sbprov_mender_token_device_id(dev->mender_device_id, sizeof dev->mender_device_id, NULL, dev->mender) ==
        SBPROV_OK) {
        dev->mender_reused = 1;
        gw_log(GW_INFO, "mender: device %s, authenticated earlier (stored token still valid)", dev->mender_device_id);
        return 0;
    }
    sbprov_mender_wait_options w;
    if ((rc = sbprov_mender_wait_options_init(&w, sizeof w)) != SBPROV_OK)
        return 1;
    w.timeout_ms = UINT32_MAX; /* a gateway waits for the operator as long as it takes */
    w.first_interval_ms = cfg->mender_first_interval_s * 1000u;
    w.max_interval_ms = cfg->mender_max_interval_s * 1000u;
    gw_log(GW_INFO, "mender: authenticating at %s; waiting until the server accepts this device", cfg->mender_url);
    track(dev->mender, NULL);
    rc = cancelled ? SBPROV_ECANCELED : sbprov_mender_authenticate_until_accepted(dev->mender, &w);
    track(NULL, NULL);
    if (rc == SBPROV_ECANCELED)
        return 2;
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "mender: authentication at %s", cfg->mender_url);
        return 1;
    }
    if (sbprov_mender_token_device_id(dev->mender_device_id, sizeof dev->mender_device_id, NULL, dev->mender) !=
            SBPROV_OK ||
        store_text(dev->store, "mender.device_id", dev->mender_device_id) != 0 ||
        store_text(dev->store, "mender.server", cfg->mender_url) != 0)
        return 1;
    gw_log(GW_NOTICE, "mender: accepted as device %s", dev->mender_device_id);
    return 0;
}

static int retryable(sbprov_result rc)
{
    return rc == SBPROV_ENETWORK || rc == SBPROV_ETIMEOUT || rc == SBPROV_ESERVER || rc == SBPROV_ERATELIMIT ||
           rc == SBPROV_ERESPONSE;
}

/* The DPS settings: from the config, else as sbprov-fleet stored them. The
 * device key is stored (sbprov-fleet's bundle) or derived from the group key
 * here and stored. Returns 0, 1 error, 3 when nothing configures DPS. */
static int dps_settings(gw_device *dev, const gw_config *cfg, char *scope, size_t scope_size, char *reg_id,
                        size_t reg_size, char *key, size_t key_size, char *endpoint, size_t endpoint_size)
{
    int have_scope = cfg->azure_id_scope != NULL ? 0 : stored(scope, scope_size, dev->store, E_DPS_SCOPE);
    if (have_scope < 0)
        return 1;
    if (have_scope > 0)
        return 3;
    if (cfg->azure_id_scope != NULL)
        snprintf(scope, scope_size, "%s", cfg->azure_id_scope);

    int r = stored(reg_id, reg_size, dev->store, E_DPS_ID);
    if (r < 0)
        return 1;
    if (r > 0) {
        sbprov_result rc = sbprov_identity_format_id(reg_id, reg_size, NULL, dev->identity,
                                                     cfg->azure_registration_id != NULL ? cfg->azure_registration_id
                                                                                        : "gw-{mac:compact}");
        if (rc != SBPROV_OK) {
            gw_log_result(GW_ERR, rc, "azure: registration ID from the template");
            return 1;
        }
    }

    if ((r = stored(key, key_size, dev->store, E_DPS_KEY)) < 0)
        return 1;
    if (r > 0) {
        if (cfg->azure_group_key_file == NULL) {
            gw_log(GW_ERR, "azure: no device key: the store has no %s and [azure] has no group_key_file", E_DPS_KEY);
            return 1;
        }
        char group[256];
        if (read_secret(group, sizeof group, cfg->azure_group_key_file, "group key") != 0)
            return 1;
        sbprov_result rc = sbprov_azure_derive_device_key(key, key_size, NULL, group, strlen(group), reg_id);
        explicit_bzero(group, sizeof group);
        if (rc != SBPROV_OK) {
            gw_log_result(GW_ERR, rc, "azure: deriving the device key from %s", cfg->azure_group_key_file);
            return 1;
        }
    }
    if (cfg->azure_dps_url != NULL) {
        snprintf(endpoint, endpoint_size, "%s", cfg->azure_dps_url);
    } else {
        char host[256];
        if ((r = stored(host, sizeof host, dev->store, E_DPS_ENDPOINT)) < 0)
            return 1;
        snprintf(endpoint, endpoint_size, r == 0 ? "https://%s" : "%s", r == 0 ? host : SBPROV_AZURE_DPS_ENDPOINT);
    }
    /* Kept for the env file and the next start: written when missing or
     * different (an ID scope from the configuration replaces the bundle's). */
    const char *names[] = {E_SECURITY, E_DPS_SCOPE, E_DPS_ID, E_DPS_KEY};
    const char *values[] = {"DPS", scope, reg_id, key};
    for (size_t i = 0; i < 4; i++) {
        char old[512];
        r = stored(old, sizeof old, dev->store, names[i]);
        if (r < 0 || ((r > 0 || strcmp(old, values[i]) != 0) && store_text(dev->store, names[i], values[i]) != 0))
            return 1;
        explicit_bzero(old, sizeof old);
    }
    return 0;
}

/* Register with DPS until it answers (retrying transport failures), then
 * keep the connection string. */
static int dps_register(gw_device *dev, const gw_config *cfg)
{
    char scope[64], reg_id[129], key[SBPROV_AZURE_DERIVED_KEY_SIZE + 64], endpoint[512];
    int r = dps_settings(dev, cfg, scope, sizeof scope, reg_id, sizeof reg_id, key, sizeof key, endpoint,
                         sizeof endpoint);
    if (r != 0) {
        explicit_bzero(key, sizeof key);
        return r;
    }
    sbprov_http_options http;
    sbprov_azure_dps_options o;
    sbprov_azure_dps *dps = NULL;
    sbprov_result rc = SBPROV_EINVAL;
    if (http_options(&http, cfg->azure_ca_file) == 0 && (rc = sbprov_azure_dps_options_init(&o, sizeof o)) == SBPROV_OK) {
        o.endpoint = endpoint;
        o.http = &http;
        rc = sbprov_azure_dps_new(&dps, scope, reg_id, key, strlen(key), &o);
    }
    if (rc != SBPROV_OK) {
        explicit_bzero(key, sizeof key);
        gw_log_result(GW_ERR, rc, "azure: DPS client");
        return 1;
    }
    gw_log(GW_INFO, "azure: registering %s with DPS %s (ID scope %s)", reg_id, endpoint, scope);
    sbprov_azure_dps_result *res = NULL;
    track(NULL, dps);
    for (uint32_t attempt = 0;; attempt++) {
        rc = cancelled ? SBPROV_ECANCELED : sbprov_azure_dps_register(&res, dps, NULL, 120000);
        if (!retryable(rc))
            break;
        unsigned wait_s = attempt < 6 ? 1u << attempt : 60u;
        gw_log(GW_WARN, "azure: DPS registration failed (%s), retrying in %u s", sbprov_last_error(), wait_s);
        for (unsigned i = 0; i < wait_s * 10 && !cancelled; i++)
            usleep(100000);
    }
    track(NULL, NULL);
    sbprov_azure_dps_free(dps);
    int out = 1;
    if (rc == SBPROV_ECANCELED) {
        out = 2;
    } else if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "azure: DPS registration of %s", reg_id);
    } else if (strcmp(sbprov_azure_dps_result_status(res), "assigned") != 0) {
        gw_log(GW_ERR, "azure: DPS answered '%s' for %s (error %d: %s); not retried", sbprov_azure_dps_result_status(res),
               reg_id, (int)sbprov_azure_dps_result_error_code(res), sbprov_azure_dps_result_error_message(res));
    } else {
        sbprov_azure_connstr *cs = NULL;
        char text[1024];
        if ((rc = sbprov_azure_connstr_new(&cs)) == SBPROV_OK &&
            (rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_HOST_NAME, sbprov_azure_dps_result_hub(res))) == SBPROV_OK &&
            (rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_DEVICE_ID, sbprov_azure_dps_result_device_id(res))) ==
                SBPROV_OK &&
            (rc = sbprov_azure_connstr_set(cs, SBPROV_AZURE_CS_SHARED_ACCESS_KEY, key)) == SBPROV_OK)
            rc = sbprov_azure_connstr_build(text, sizeof text, NULL, cs);
        sbprov_azure_connstr_free(cs);
        if (rc != SBPROV_OK)
            gw_log_result(GW_ERR, rc, "azure: connection string for %s", sbprov_azure_dps_result_device_id(res));
        else if (store_text(dev->store, E_CONNSTR, text) == 0) {
            gw_log(GW_NOTICE, "azure: registered as %s on %s (%s)", sbprov_azure_dps_result_device_id(res),
                   sbprov_azure_dps_result_hub(res), sbprov_azure_dps_result_substatus(res));
            out = 0;
        }
        explicit_bzero(text, sizeof text);
    }
    sbprov_azure_dps_result_free(res);
    explicit_bzero(key, sizeof key);
    return out;
}

static int export_env(gw_device *dev, const gw_config *cfg)
{
    char names[512] = "";
    for (size_t i = 0; i < sizeof env_entries / sizeof env_entries[0]; i++) {
        if (sbprov_store_exists(dev->store, env_entries[i]) == SBPROV_OK) {
            if (names[0] != '\0')
                strcat(names, ",");
            strcat(names, env_entries[i]);
        }
    }
    sbprov_result rc = sbprov_store_export_env(dev->store, names, cfg->env_file, SBPROV_ENV_DOCKER);
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "env file %s", cfg->env_file);
        return 1;
    }
    gw_log(GW_INFO, "env file for the Azure IoT container: %s (%s)", cfg->env_file, names);
    return 0;
}

static int azure(gw_device *dev, const gw_config *cfg)
{
    char text[1024];
    int r = stored(text, sizeof text, dev->store, E_CONNSTR);
    if (r < 0)
        return 1;
    if (r == 0) {
        dev->azure_reused = 1;
    } else if (cfg->azure_connection_string_file != NULL) {
        if (read_secret(text, sizeof text, cfg->azure_connection_string_file, "connection string") != 0 ||
            store_text(dev->store, E_CONNSTR, text) != 0)
            return 1;
    } else {
        r = dps_register(dev, cfg);
        if (r == 3 && (cfg->azure_group_key_file != NULL || cfg->azure_registration_id != NULL ||
                       cfg->azure_dps_url != NULL)) {
            /* DPS settings without a scope are a mistake, not "no Azure". */
            gw_log(GW_ERR, "azure: [azure] configures DPS but there is no ID scope: set id_scope (or start on an "
                   "sbprov-fleet bundle, whose store has %s)", E_DPS_SCOPE);
            return 1;
        }
        if (r == 3) {
            gw_log(GW_NOTICE, "no Azure configuration ([azure] id_scope, or a fleet bundle): telemetry is not sent");
            return 0;
        }
        if (r != 0 || stored(text, sizeof text, dev->store, E_CONNSTR) != 0)
            return r != 0 ? r : 1;
    }
    sbprov_azure_connstr *cs = NULL;
    sbprov_result rc = sbprov_azure_connstr_parse(&cs, text, strlen(text));
    if (rc == SBPROV_OK) {
        snprintf(dev->azure_hub_host, sizeof dev->azure_hub_host, "%s",
                 sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_HOST_NAME));
        const char *id = sbprov_azure_connstr_get(cs, SBPROV_AZURE_CS_DEVICE_ID);
        snprintf(dev->azure_device_id, sizeof dev->azure_device_id, "%s", id != NULL ? id : "");
    }
    sbprov_azure_connstr_free(cs);
    sbprov_http_options http;
    sbprov_azure_hub_options o;
    if (rc == SBPROV_OK && http_options(&http, cfg->azure_ca_file) == 0 &&
        (rc = sbprov_azure_hub_options_init(&o, sizeof o)) == SBPROV_OK) {
        o.endpoint = cfg->azure_hub_url;
        o.http = &http;
        /* Short in-call retries (at most 10 s, and no longer than one of the
         * sender's own waits): the telemetry sender backs off itself and must
         * be able to stop between attempts. */
        o.retry_timeout_ms = cfg->retry_max_s < 10 ? cfg->retry_max_s * 1000u : 10000u;
        rc = sbprov_azure_hub_new(&dev->hub, text, strlen(text), &o);
    }
    explicit_bzero(text, sizeof text);
    if (rc != SBPROV_OK) {
        gw_log_result(GW_ERR, rc, "azure: IoT Hub client");
        return 1;
    }
    if (dev->azure_reused)
        gw_log(GW_INFO, "azure: device %s on %s, registered earlier (stored connection string)", dev->azure_device_id,
               dev->azure_hub_host);
    return export_env(dev, cfg);
}

int gw_provision(gw_device *dev, const gw_config *cfg)
{
    memset(dev, 0, sizeof *dev);
    if (open_store(dev, cfg) != 0 || load_key(dev, cfg) != 0 || load_identity(dev, cfg) != 0)
        return 1;
    int r = mender(dev, cfg);
    if (r == 0)
        r = azure(dev, cfg);
    return r;
}

void gw_device_free(gw_device *dev)
{
    if (dev == NULL)
        return;
    sbprov_azure_hub_free(dev->hub);
    sbprov_mender_free(dev->mender);
    sbprov_identity_free(dev->identity);
    sbprov_key_free(dev->key);
    sbprov_store_free(dev->store);
    memset(dev, 0, sizeof *dev);
}
