/* Crash-test writer: opens the store and loops forever over puts of known
 * values (entry j gets round k's value, k increasing) and swaps of the pair
 * "primary"/"secondary", until the driver kills it with SIGKILL.
 * Usage: crash_writer <store-dir> <key-file> <first-round> [ready-fd]
 * (a byte is written to ready-fd once the store is open). */
#include <sbprov/sbprov.h>

#include "crash_common.h"

#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static char value[8192];
    sbprov_store_open_options o;
    sbprov_store *s = NULL;

    if (argc != 4 && argc != 5)
        return 2;
    if (sbprov_store_open_options_init(&o, sizeof o) != SBPROV_OK)
        return 2;
    o.key_file = argv[2];
    if (sbprov_store_open(&s, argv[1], &o) != SBPROV_OK) {
        fprintf(stderr, "writer: open: %s\n", sbprov_last_error());
        return 1;
    }
    if (argc == 5 && write(atoi(argv[4]), "R", 1) != 1)
        return 1;
    for (long k = atol(argv[3]);; k++) {
        for (int j = 0; j < CRASH_ENTRIES; j++) {
            char name[16];
            size_t len = crash_value(value, sizeof value, j, k);
            snprintf(name, sizeof name, "e%d", j);
            if (sbprov_store_put(s, name, value, len) != SBPROV_OK) {
                fprintf(stderr, "writer: put: %s\n", sbprov_last_error());
                return 1;
            }
            if (sbprov_store_swap(s, "primary", "secondary") != SBPROV_OK) {
                fprintf(stderr, "writer: swap: %s\n", sbprov_last_error());
                return 1;
            }
        }
    }
}
