/* Versioned option structs: size checks shared by every module (options.h). */
#include "options.h"

#include "error.h"

#include <string.h>

/* `hint` says how the caller sets struct_size (an init function, or sizeof for an output struct). */
static sbprov_result check_size(size_t struct_size, size_t first_size, const char *what, const char *hint)
{
    if (struct_size < first_size)
        return sbprov__fail(SBPROV_EINVAL, "%s: struct_size %zu is smaller than the first version (%zu bytes); %s",
                            what, struct_size, first_size, hint);
    if (struct_size > SBPROV__OPTIONS_MAX_SIZE)
        return sbprov__fail(SBPROV_EINVAL, "%s: struct_size %zu is implausibly large (not set? %s)", what,
                            struct_size, hint);
    return SBPROV_OK;
}

static const char init_hint[] = "initialise the options with their init function";

sbprov_result sbprov__options_check(const void *opts, size_t struct_size, size_t first_size, size_t known_size,
                                    const char *what)
{
    const unsigned char *bytes = opts;
    sbprov_result rc;

    if (opts == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    if ((rc = check_size(struct_size, first_size, what, init_hint)) != SBPROV_OK)
        return rc;
    for (size_t i = known_size; i < struct_size; i++)
        if (bytes[i] != 0)
            return sbprov__fail(SBPROV_EINVAL,
                                "%s: byte %zu is set, but this library knows only the first %zu bytes of the "
                                "struct (%zu given): an option from a newer version cannot be honoured",
                                what, i, known_size, struct_size);
    return SBPROV_OK;
}

sbprov_result sbprov__options_load(void *dst, const void *opts, size_t first_size, size_t known_size,
                                   const char *what)
{
    size_t struct_size;
    sbprov_result rc;

    if (opts == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    memcpy(&struct_size, opts, sizeof struct_size);
    if ((rc = sbprov__options_check(opts, struct_size, first_size, known_size, what)) != SBPROV_OK)
        return rc;
    memset(dst, 0, known_size);
    memcpy(dst, opts, struct_size < known_size ? struct_size : known_size);
    return SBPROV_OK;
}

sbprov_result sbprov__options_init(void *opts, size_t struct_size, size_t first_size, const char *what)
{
    sbprov_result rc;

    if (opts == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL", what);
    if ((rc = check_size(struct_size, first_size, what, init_hint)) != SBPROV_OK)
        return rc;
    memset(opts, 0, struct_size);
    memcpy(opts, &struct_size, sizeof struct_size);
    return SBPROV_OK;
}

sbprov_result sbprov__options_store(void *out, const void *src, size_t first_size, size_t known_size,
                                    const char *what)
{
    size_t struct_size, n;

    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "%s: NULL output", what);
    sbprov_result rc;

    memcpy(&struct_size, out, sizeof struct_size);
    if ((rc = check_size(struct_size, first_size, what, "set it to sizeof the struct")) != SBPROV_OK)
        return rc;
    n = struct_size < known_size ? struct_size : known_size;
    memcpy((char *)out + sizeof struct_size, (const char *)src + sizeof struct_size, n - sizeof struct_size);
    if (struct_size > n)
        memset((char *)out + n, 0, struct_size - n);
    return SBPROV_OK;
}
