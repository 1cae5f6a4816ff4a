/* Internal: turning OpenSSL's error queue into a libsbprov failure. */
#ifndef SBPROV_INTERNAL_OSSL_ERROR_H
#define SBPROV_INTERNAL_OSSL_ERROR_H

#include "error.h"

/* Like sbprov__fail(), with ": <library>: <reason>" of the oldest error in
 * OpenSSL's queue that has a reason text (the root cause) appended, when
 * there is one; OpenSSL's error queue of this thread is emptied. OpenSSL's
 * "data" strings are never copied: they can hold URIs with PINs or file
 * contents. */
sbprov_result sbprov__fail_ossl(sbprov_result code, const char *fmt, ...) SBPROV__PRINTF(2, 3);

#endif
