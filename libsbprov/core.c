/* Library-wide state: version, reference-counted global init, memory release. */
#include "error.h"
#include "sbprov/version.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_count;

const char *sbprov_version(void)
{
    return SBPROV_VERSION;
}

uint32_t sbprov_version_number(void)
{
    return (uint32_t)SBPROV_VERSION_NUMBER;
}

int sbprov_global_init(void)
{
    int result;

    pthread_mutex_lock(&init_lock);
    if (init_count == 0) {
        if (OPENSSL_init_crypto(0, NULL) != 1) {
            pthread_mutex_unlock(&init_lock);
            return sbprov__fail(SBPROV_EINIT, "OpenSSL could not be initialised");
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            pthread_mutex_unlock(&init_lock);
            return sbprov__fail(SBPROV_EINIT, "libcurl could not be initialised");
        }
    }
    result = ++init_count;
    pthread_mutex_unlock(&init_lock);
    return result;
}

int sbprov_global_shutdown(void)
{
    int result;

    pthread_mutex_lock(&init_lock);
    if (init_count == 0) {
        pthread_mutex_unlock(&init_lock);
        return sbprov__fail(SBPROV_EINIT, "sbprov_global_shutdown() without a matching sbprov_global_init()");
    }
    result = --init_count;
    if (result == 0)
        curl_global_cleanup();
    pthread_mutex_unlock(&init_lock);
    return result;
}

void sbprov_free(void *ptr)
{
    free(ptr);
}
