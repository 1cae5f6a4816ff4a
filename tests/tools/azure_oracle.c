/* Line-oriented oracle over the C API, so the Python and Go suites can check
 * that their bindings give exactly what C gives for the same inputs.
 *
 * Input lines (tab-separated, no escaping; fields never contain tabs):
 *   derive  GROUP_KEY  REGISTRATION_ID
 *   sas     RESOURCE_URI  KEY  EXPIRY  POLICY|-
 *   encode  HEX_BYTES
 * Output: one line per input, "ok VALUE", "err CODE", or "err bad-line" for a
 * line that does not follow this format. */
#include <sbprov/sbprov.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Split line at tabs into at most max fields; returns the field count. */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *cursor = line;
    while (n < max) {
        fields[n++] = cursor;
        cursor = strchr(cursor, '\t');
        if (cursor == NULL)
            break;
        *cursor++ = '\0';
    }
    return cursor == NULL ? n : max + 1;
}

static int parse_hex(const char *hex, unsigned char *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        char pair[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
        char *end;
        long b = strtol(pair, &end, 16);
        if (*end != '\0' || pair[0] == '-' || pair[0] == '+' || pair[0] == ' ')
            return -1;
        out[i] = (unsigned char)b;
    }
    *len = n / 2;
    return 0;
}

static int parse_i64(const char *text, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' ? 0 : -1;
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
        char *f[6];
        int n;
        line[strcspn(line, "\n")] = '\0';
        n = split(line, f, 5);
        if (n == 3 && strcmp(f[0], "derive") == 0) {
            report(sbprov_azure_derive_device_key(out, sizeof out, NULL, f[1], strlen(f[1]), f[2]), out);
        } else if (n == 5 && strcmp(f[0], "sas") == 0) {
            long long expiry;
            if (parse_i64(f[3], &expiry) != 0) {
                puts("err bad-line");
                continue;
            }
            report(sbprov_azure_sas_token(out, sizeof out, NULL, f[1], f[2], strlen(f[2]),
                                          strcmp(f[4], "-") == 0 ? NULL : f[4], expiry, 0),
                   out);
        } else if (n == 2 && strcmp(f[0], "encode") == 0) {
            size_t len;
            if (parse_hex(f[1], bytes, sizeof bytes, &len) != 0) {
                puts("err bad-line");
                continue;
            }
            report(sbprov_azure_url_encode(out, sizeof out, NULL, bytes, len), out);
        } else {
            puts("err bad-line");
        }
        fflush(stdout);
    }
    return 0;
}
