/* Internal: recording failures and logging. */
#ifndef SBPROV_INTERNAL_ERROR_H
#define SBPROV_INTERNAL_ERROR_H

#include "sbprov/common.h"

#if defined(__GNUC__)
#  define SBPROV__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define SBPROV__PRINTF(f, a)
#endif

/* Record `code` and a formatted detail message for this thread; returns `code`
 * so callers can write `return sbprov__fail(SBPROV_EID, "...")`. */
sbprov_result sbprov__fail(sbprov_result code, const char *fmt, ...) SBPROV__PRINTF(2, 3);

/* Deliver a message to the log callback, if one is installed for `level`. */
void sbprov__log(sbprov_log_level level, const char *fmt, ...) SBPROV__PRINTF(2, 3);

#endif
