/* Outside consumer: derives the published Azure vector through the installed library. */
#include <sbprov/sbprov.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    static const char group_key[] =
        "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
    char key[SBPROV_AZURE_DERIVED_KEY_SIZE];
    sbprov_result rc;

    if (sbprov_global_init() < 1)
        return 1;
    rc = sbprov_azure_derive_device_key(key, sizeof key, NULL, group_key, strlen(group_key),
                                        "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6");
    (void)sbprov_global_shutdown();
    if (rc != SBPROV_OK) {
        fprintf(stderr, "derive failed: %s\n", sbprov_last_error());
        return 1;
    }
    if (strcmp(key, "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=") != 0) {
        fprintf(stderr, "wrong key %s\n", key);
        return 1;
    }
    printf("consumer ok: libsbprov %s (headers %s)\n", sbprov_version(), SBPROV_VERSION);
    return 0;
}
