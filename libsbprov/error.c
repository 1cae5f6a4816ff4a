/* Result-code strings, the per-thread last error, and the log hook. */
#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

/* Detail messages are per thread: pure functions have no handle to carry them,
 * and a thread only ever reads its own failures. */
static _Thread_local char last_message[512];
static _Thread_local sbprov_result last_code;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sbprov_log_cb log_cb;
static sbprov_log_level log_min_level = SBPROV_LOG_INFO;
static void *log_payload;

const char *sbprov_strerror(sbprov_result code)
{
    switch (code) {
    case SBPROV_OK: return "success";
    case SBPROV_ERROR: return "unclassified failure";
    case SBPROV_EINVAL: return "invalid argument";
    case SBPROV_ENOMEM: return "out of memory";
    case SBPROV_EBUFS: return "output buffer too small";
    case SBPROV_EBASE64: return "not valid padded Base64";
    case SBPROV_EKEYSIZE: return "key length out of range";
    case SBPROV_EID: return "malformed identifier";
    case SBPROV_EEXPIRY: return "token expiry out of range";
    case SBPROV_ECONNSTR: return "malformed connection string";
    case SBPROV_ECRYPTO: return "crypto provider failure";
    case SBPROV_EINIT: return "library initialisation failure";
    case SBPROV_ENOTFOUND: return "not found";
    case SBPROV_ERANDOM: return "random generator failure";
    case SBPROV_EKEY: return "unusable key";
    case SBPROV_ESIGNATURE: return "signature does not verify";
    case SBPROV_EIO: return "file-system error";
    case SBPROV_EPROVIDER: return "OpenSSL provider or store unusable";
    case SBPROV_EPASSPHRASE: return "missing or wrong passphrase";
    case SBPROV_ESCRIPT: return "external script failed";
    case SBPROV_ETIMEOUT: return "timed out";
    case SBPROV_EPARSE: return "malformed text input";
    case SBPROV_EEXISTS: return "already exists";
    case SBPROV_ETAMPERED: return "stored data failed authentication";
    case SBPROV_EFORMAT: return "unsupported format version";
    case SBPROV_EUNSAFE: return "unsafe file ownership, permissions or symbolic link";
    case SBPROV_ENETWORK: return "network unreachable";
    case SBPROV_ETLS: return "TLS handshake failed";
    case SBPROV_ECERT: return "server certificate not trusted";
    case SBPROV_EHTTP: return "request refused by the server";
    case SBPROV_ESERVER: return "server error";
    case SBPROV_ERESPONSE: return "malformed response";
    case SBPROV_EAUTH: return "not authorized";
    case SBPROV_ERATELIMIT: return "rate limited";
    case SBPROV_ECANCELED: return "cancelled";
    case SBPROV_ECLOCK: return "clock too far off";
    case SBPROV_ECONFLICT: return "precondition failed (etag)";
    }
    return "unknown error";
}

sbprov_result sbprov__fail(sbprov_result code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

const char *sbprov_last_error(void)
{
    return last_message;
}

sbprov_result sbprov_last_error_code(void)
{
    return last_code;
}

void sbprov_clear_error(void)
{
    last_message[0] = '\0';
    last_code = SBPROV_OK;
}

void sbprov_log_set_callback(sbprov_log_cb cb, sbprov_log_level min_level, void *payload)
{
    pthread_mutex_lock(&log_lock);
    log_cb = cb;
    log_min_level = min_level;
    log_payload = payload;
    pthread_mutex_unlock(&log_lock);
}

void sbprov__log(sbprov_log_level level, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    sbprov_log_cb cb;
    void *payload;

    pthread_mutex_lock(&log_lock);
    cb = level >= log_min_level ? log_cb : NULL;
    payload = log_payload;
    pthread_mutex_unlock(&log_lock);
    if (cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    cb(level, message, payload);
}
