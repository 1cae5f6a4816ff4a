/* Line-oriented oracle over the C API, so the Python and Go suites can check
 * that their bindings give exactly what C gives for the same inputs.
 *
 * Input lines (tab-separated, no escaping; fields never contain tabs):
 *   derive  GROUP_KEY  REGISTRATION_ID
 *   sas     RESOURCE_URI  KEY  EXPIRY  POLICY|-
 *   encode  HEX_BYTES
 * Output: one line per input, "ok VALUE" or "err CODE". */
#include <sbprov/sbprov.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *next_field(char **cursor)
{
    char *start = *cursor;
    char *tab;
    if (start == NULL)
        return NULL;
    tab = strchr(start, '\t');
    if (tab != NULL) {
        *tab = '\0';
        *cursor = tab + 1;
    } else {
        *cursor = NULL;
    }
    return start;
}

static void report(sbprov_result rc, const char *value)
{
    if (rc == SBPROV_OK)
        printf("ok %s\n", value);
    else
        printf("err %d\n", (int)rc);
}

int main(void)
{
    static char line[65536];
    static char out[16384];
    static unsigned char bytes[16384];

    while (fgets(line, sizeof line, stdin) != NULL) {
        char *cursor = line;
        char *verb;
        line[strcspn(line, "\n")] = '\0';
        verb = next_field(&cursor);
        if (strcmp(verb, "derive") == 0) {
            char *key = next_field(&cursor);
            char *id = next_field(&cursor);
            report(sbprov_azure_derive_device_key(out, sizeof out, NULL, key, strlen(key), id ? id : ""), out);
        } else if (strcmp(verb, "sas") == 0) {
            char *uri = next_field(&cursor);
            char *key = next_field(&cursor);
            char *expiry = next_field(&cursor);
            char *policy = next_field(&cursor);
            if (uri == NULL || key == NULL || expiry == NULL || policy == NULL) {
                printf("err bad-line\n");
                continue;
            }
            report(sbprov_azure_sas_token(out, sizeof out, NULL, uri, key, strlen(key),
                                          strcmp(policy, "-") == 0 ? NULL : policy, strtoll(expiry, NULL, 10), 0),
                   out);
        } else if (strcmp(verb, "encode") == 0) {
            char *hex = next_field(&cursor);
            size_t n = 0;
            for (; hex != NULL && hex[2 * n] && hex[2 * n + 1] && n < sizeof bytes; n++) {
                unsigned int b;
                sscanf(hex + 2 * n, "%2x", &b);
                bytes[n] = (unsigned char)b;
            }
            report(sbprov_azure_url_encode(out, sizeof out, NULL, bytes, n), out);
        } else {
            printf("err bad-verb\n");
        }
        fflush(stdout);
    }
    return 0;
}
