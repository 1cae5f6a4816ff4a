/* OpenSSL failures with OpenSSL's own reason in the detail message. */
#include "ossl_error.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>

sbprov_result sbprov__fail_ossl(sbprov_result code, const char *fmt, ...)
{
    char message[400];
    unsigned long e, cause = 0, last = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    /* The oldest error with a known reason is the root cause ("could not load
     * the shared library"); later ones only wrap it ("provider init"). */
    while ((e = ERR_get_error()) != 0) {
        if (cause == 0 && ERR_reason_error_string(e) != NULL)
            cause = e;
        last = e;
    }
    if (cause == 0 && last == 0)
        return sbprov__fail(code, "%s", message);
    if (cause == 0)
        return sbprov__fail(code, "%s: OpenSSL error 0x%08lx", message, last);
    const char *lib = ERR_lib_error_string(cause);
    return sbprov__fail(code, "%s: %s%s%s", message, lib != NULL ? lib : "", lib != NULL ? ": " : "",
                        ERR_reason_error_string(cause));
}
