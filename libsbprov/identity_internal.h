/* Internal: the identity object shared by the identity_*.c files. */
#ifndef SBPROV_INTERNAL_IDENTITY_H
#define SBPROV_INTERNAL_IDENTITY_H

#include "sbprov/identity.h"

#include <stddef.h>

#define SBPROV__IDENTITY_MAX_NAME 1024
#define SBPROV__IDENTITY_MAX_VALUE 4096
#define SBPROV__IDENTITY_MAX_ATTRS 256
#define SBPROV__IDENTITY_MAX_VALUES 256

typedef struct sbprov__identity_attr {
    char *name;      /* NUL-terminated copy */
    size_t name_len;
    char **values;   /* NUL-terminated copies, in the order added */
    size_t nvalues;
    size_t cap;
} sbprov__identity_attr;

struct sbprov_identity {
    sbprov__identity_attr *attrs; /* in the order first added */
    size_t count;
    size_t cap;
};

/* Add name (name_len bytes) = value (value_len bytes) after checking both.
 * `where` prefixes the detail of a rejection ("line 3: "), may be "". */
sbprov_result sbprov__identity_add_n(sbprov_identity *identity, const char *name, size_t name_len,
                                     const char *value, size_t value_len, const char *where);

/* Quote at most `max` bytes of s (n bytes) into out (size >= 4 * max + 8) for a
 * message: printable ASCII as is, other bytes as \xHH, "..." if cut. */
void sbprov__identity_quote(char *out, size_t out_size, const char *s, size_t n, size_t max);

#endif
