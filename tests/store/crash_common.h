/* Values written by the crash-test writer and checked by its driver. */
#ifndef SBPROV_TEST_STORE_CRASH_COMMON_H
#define SBPROV_TEST_STORE_CRASH_COMMON_H

#include <stdio.h>
#include <string.h>

#define CRASH_ENTRIES 4

/* Value of entry j in round k: "v<k>-<j>-" padded to a length that changes
 * every round (100..8100 bytes) with a letter that depends on k and j. */
static inline size_t crash_value(char *out, size_t size, int j, long k)
{
    size_t len = 100 + (size_t)((k * 37) % 8000);
    int n = snprintf(out, size, "v%ld-%d-", k, j);
    if (len >= size)
        len = size - 1;
    memset(out + n, 'a' + (int)((k + j) % 26), len - (size_t)n);
    out[len] = '\0';
    return len;
}

#define CRASH_ALPHA "alpha-primary-key-0123456789abcdef"
#define CRASH_BETA "beta-secondary-key-fedcba9876543210"

#endif
