/* sbprov: command-line front end of libsbprov. Each module's verbs live in
 * their own file (cli_<module>.c); this file only dispatches. */
#include "cli.h"

#include <string.h>

int cli_azure(int argc, char **argv);
int cli_frame(int argc, char **argv);
int cli_identity(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_mender(int argc, char **argv);
int cli_store(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: sbprov version\n\nPrint the version of the loaded libsbprov.");
        return 0;
    }
    if (argc > 1)
        return cli_usage_error("sbprov version", "unexpected argument '%s'", argv[1]);
    printf("sbprov %s (libsbprov %s, ABI %d)\n", SBPROV_VERSION, sbprov_version(), SBPROV_SOVERSION);
    return 0;
}

int main(int argc, char **argv)
{
    static const cli_command commands[] = {
        { "version", "print the library version", cmd_version },
        { "identity", "device identity: probe, script, canonical JSON, IDs", cli_identity },
        { "key", "device keys: generate, public key, sign, verify, CSR", cli_keys },
        { "azure", "Azure IoT: keys, SAS tokens, connection strings, DPS, telemetry, registry", cli_azure },
        { "store", "encrypted credential store; env files for docker/systemd", cli_store },
        { "mender", "Mender: authenticate, inventory, preauthorize, accept, list devices", cli_mender },
        { "frame", "sensor frames: encode JSON lines, decode streams and datagrams to JSON", cli_frame },
        { NULL, NULL, NULL },
    };
    int init = sbprov_global_init();
    if (init < 0)
        return cli_fail("init", init);
    int status = cli_dispatch(commands, "sbprov", argc - 1, argv + 1);
    (void)sbprov_global_shutdown();
    fflush(stdout);
    if (ferror(stdout))
        return EXIT_IO;
    return status;
}
