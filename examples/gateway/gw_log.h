/*
 * sbprov-gateway: logging to stderr (journald adds timestamps and the unit).
 * SPDX-License-Identifier: MIT
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <sbprov/common.h>

typedef enum gw_level { GW_ERR = 3, GW_WARN = 4, GW_NOTICE = 5, GW_INFO = 6, GW_DEBUG = 7 } gw_level;

/* Lines above this level are not written (default GW_INFO). */
void gw_log_set_level(gw_level max);

/* One line: "sbprov-gateway: <level>: <text>", or with a "<N>" syslog
 * priority prefix under systemd (JOURNAL_STREAM set), which journald parses. */
void gw_log(gw_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log a failed library call: "<what>: <library detail> (<code name>)". */
void gw_log_result(gw_level level, sbprov_result rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
