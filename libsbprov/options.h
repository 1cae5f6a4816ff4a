/* Internal: versioned option structs. Every public options struct begins with
 * `size_t struct_size`, set by its init function to the size the caller was
 * compiled with. A caller built against an older header passes a smaller
 * struct (the fields it lacks read as zero, which must mean "default"); one
 * built against a newer header passes a larger struct, accepted only if every
 * byte this library does not know is zero (an option it cannot honour must
 * not be ignored silently). */
#ifndef SBPROV_INTERNAL_OPTIONS_H
#define SBPROV_INTERNAL_OPTIONS_H

#include "sbprov/common.h"

#include <stddef.h>

/* Largest struct_size believed: a larger one is taken for an uninitialised
 * struct (reading that far could fault). */
#define SBPROV__OPTIONS_MAX_SIZE 4096

/* Check a caller's options struct of `struct_size` bytes. `first_size` is the
 * size of the struct's first public version, `known_size` the size this
 * library was built with. SBPROV_EINVAL (detail starts with `what`) if opts is
 * NULL, struct_size is below first_size or implausibly large, or a byte past
 * known_size is non-zero. */
sbprov_result sbprov__options_check(const void *opts, size_t struct_size, size_t first_size, size_t known_size,
                                    const char *what);

/* Check the options struct `opts` (reading its leading struct_size) as above,
 * and copy it into `dst`, the library's own struct of `known_size` bytes;
 * fields an older caller's struct lacks are zero in `dst`. */
sbprov_result sbprov__options_load(void *dst, const void *opts, size_t first_size, size_t known_size,
                                   const char *what);

/* The common part of an init function: SBPROV_EINVAL if opts is NULL or
 * struct_size is below first_size (or implausibly large); otherwise zero all
 * struct_size bytes and store struct_size in the leading field. The caller then
 * sets its defaults, only in fields that fit in struct_size. */
sbprov_result sbprov__options_init(void *opts, size_t struct_size, size_t first_size, const char *what);

/* The other direction, for output structs: copy the library's `src` (a
 * struct of `known_size` bytes) into the caller's `out`, whose leading
 * struct_size the caller set. SBPROV_EINVAL (detail starts with `what`) if
 * out is NULL or struct_size is below first_size or implausibly large. The
 * caller's struct_size is kept; bytes the library does not know are zeroed. */
sbprov_result sbprov__options_store(void *out, const void *src, size_t first_size, size_t known_size,
                                    const char *what);

/* 1 if `field` of `type` lies entirely within the first struct_size bytes. */
#define SBPROV__OPTIONS_HAS(struct_size, type, field) \
    ((struct_size) >= offsetof(type, field) + sizeof(((type *)0)->field))

#endif
