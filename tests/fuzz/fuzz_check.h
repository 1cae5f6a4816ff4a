/* Shared by the libFuzzer targets: an invariant that must hold for every
 * input; a failure aborts, so libFuzzer keeps the input as a crash. */
#ifndef SBPROV_FUZZ_CHECK_H
#define SBPROV_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "invariant failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

#endif
