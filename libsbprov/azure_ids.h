/* Internal: syntax of Azure identifiers. Each check returns SBPROV_OK or
 * SBPROV_EID with a message that starts with `what`. */
#ifndef SBPROV_INTERNAL_AZURE_IDS_H
#define SBPROV_INTERNAL_AZURE_IDS_H

#include "sbprov/common.h"

#include <stddef.h>

sbprov_result sbprov__check_registration_id(const char *id, const char *what);
/* The same check, also giving the ID's length (so callers need no strlen). */
sbprov_result sbprov__check_registration_id_len(const char *id, size_t *len_out, const char *what);
sbprov_result sbprov__check_device_id(const char *id, const char *what);
sbprov_result sbprov__check_hostname(const char *host, const char *what);
sbprov_result sbprov__check_id_scope(const char *scope, const char *what);
sbprov_result sbprov__check_policy_name(const char *name, const char *what);

#endif
