/*
 * sbprov-gateway: logging.
 * SPDX-License-Identifier: MIT
 */
#include "gw_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static gw_level max_level = GW_INFO;

void gw_log_set_level(gw_level max)
{
    max_level = max;
}

static const char *level_name(gw_level level)
{
    switch (level) {
    case GW_ERR: return "error";
    case GW_WARN: return "warning";
    case GW_NOTICE: return "notice";
    case GW_INFO: return "info";
    default: return "debug";
    }
}

static void vlog(gw_level level, const char *suffix, const char *fmt, va_list ap)
{
    if (level > max_level)
        return;
    /* One fprintf per line into a locked stream: lines of the sender
     * thread and the main thread never interleave. */
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    if (getenv("JOURNAL_STREAM") != NULL)
        fprintf(stderr, "<%d>%s%s\n", (int)level, text, suffix);
    else
        fprintf(stderr, "sbprov-gateway: %s: %s%s\n", level_name(level), text, suffix);
}

void gw_log(gw_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, "", fmt, ap);
    va_end(ap);
}

void gw_log_result(gw_level level, sbprov_result rc, const char *fmt, ...)
{
    char suffix[600];
    const char *detail = sbprov_last_error();
    snprintf(suffix, sizeof suffix, ": %s (%s)", detail[0] != '\0' ? detail : sbprov_strerror(rc),
             sbprov_strerror(rc));
    va_list ap;
    va_start(ap, fmt);
    vlog(level, suffix, fmt, ap);
    va_end(ap);
}
