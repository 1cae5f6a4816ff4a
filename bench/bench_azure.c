/* Throughput benchmarks of libsbprov's Azure key derivation and SAS tokens,
 * each against a baseline measured in the same run (docs/performance.md).
 *
 * Usage: sbprov-bench-azure [--n N] [--seed S] [--reps R] [--sample-ms MS]
 *                           [--out-dir DIR] [--only NAME]
 *
 * Inputs are generated from the seed: N random lower-case registration IDs,
 * a 64-byte group key (DPS size) and a 32-byte SAS key. Every variant of a
 * benchmark first runs over all N inputs and must give exactly the same
 * output as the others, else the program fails. Then R repetitions are timed;
 * each repetition runs every variant once, in turn (interleaved, so drift in
 * the machine's speed hits all variants alike), and one sample is as many
 * whole passes over the N inputs as fill about MS milliseconds (the pass count
 * is calibrated once, after a warm-up, and is the same for every repetition).
 *
 * With --out-dir, the SAS inputs and libsbprov's tokens are written there
 * (sas_inputs.txt, sas_tokens.txt) for bench/sas_python_sdk.py, which must
 * produce the same tokens byte for byte.
 *
 * Output on stdout, one line per measured variant, machine-readable:
 *   RESULT <name> median_ops_per_s=<x> min=<x> max=<x> reps=<r> passes=<p> n=<n> samples=<x>,<x>,...
 * (samples: ops/s of each repetition, in order, so that variants can be
 * compared repetition by repetition) plus "INFO key=value" lines. Diagnostics go to stderr. */
#include <sbprov/sbprov.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REPS 64
#define ID_MIN_LEN 16
#define ID_MAX_LEN 32
#define GROUP_KEY_BYTES 64
#define SAS_KEY_BYTES 32
#define SAS_HOST "sbprov-bench.azure-devices.net"
#define SAS_POLICY "iothubowner"
/* 2030-01-01T00:00:00Z: fixed, so both sides sign exactly the same text. */
#define SAS_EXPIRY INT64_C(1893456000)
#define SAS_TOKEN_MAX 512

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state;

/* splitmix64: small, seedable, the same on every platform. */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void die(const char *what)
{
    fprintf(stderr, "sbprov-bench-azure: %s\n", what);
    exit(1);
}

static void die_sbprov(const char *what, sbprov_result rc)
{
    fprintf(stderr, "sbprov-bench-azure: %s failed: %d (%s)\n", what, (int)rc, sbprov_last_error());
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        die("out of memory");
    return p;
}

struct inputs {
    size_t n;
    char **ids;              /* N registration IDs, NUL-terminated */
    char **uris;             /* N resource URIs SAS_HOST/devices/ID */
    char group_key[SBPROV_AZURE_KEY_B64_SIZE(GROUP_KEY_BYTES)];
    size_t group_key_len;
    unsigned char group_raw[GROUP_KEY_BYTES];
    char sas_key[SBPROV_AZURE_KEY_B64_SIZE(SAS_KEY_BYTES)];
    size_t sas_key_len;
    unsigned char sas_raw[SAS_KEY_BYTES];
};

static void make_inputs(struct inputs *in, size_t n, uint64_t seed)
{
    rng_state = seed;
    in->n = n;
    in->ids = xmalloc(n * sizeof *in->ids);
    in->uris = xmalloc(n * sizeof *in->uris);
    for (size_t i = 0; i < n; i++) {
        size_t len = ID_MIN_LEN + (size_t)(rng_next() % (ID_MAX_LEN - ID_MIN_LEN + 1));
        char *id = xmalloc(len + 1);
        for (size_t j = 0; j < len; j++)
            id[j] = (char)('a' + rng_next() % 26);
        id[len] = '\0';
        in->ids[i] = id;
        size_t ulen = sizeof SAS_HOST "/devices/" + len;
        in->uris[i] = xmalloc(ulen);
        snprintf(in->uris[i], ulen, "%s/devices/%s", SAS_HOST, id);
    }
    for (size_t j = 0; j < GROUP_KEY_BYTES; j++)
        in->group_raw[j] = (unsigned char)rng_next();
    for (size_t j = 0; j < SAS_KEY_BYTES; j++)
        in->sas_raw[j] = (unsigned char)rng_next();
    in->group_key_len = (size_t)EVP_EncodeBlock((unsigned char *)in->group_key, in->group_raw, GROUP_KEY_BYTES);
    in->sas_key_len = (size_t)EVP_EncodeBlock((unsigned char *)in->sas_key, in->sas_raw, SAS_KEY_BYTES);
}

/* ------------------------------------------------------------------------ */
/* Variants: each computes item i into out (NUL-terminated text).            */
/* ------------------------------------------------------------------------ */

struct ctx {
    const struct inputs *in;
    sbprov_azure_deriver *deriver; /* libsbprov, keyed once */
    sbprov_azure_sas_signer *signer; /* libsbprov, keyed once */
    EVP_MAC_CTX *mac_ctx;          /* bare EVP_MAC, keyed once */
};

typedef void (*variant_fn)(struct ctx *c, size_t i, char *out, size_t out_size);

/* libsbprov, batch: deriver keyed once (in setup), one derive per ID. */
static void derive_sbprov_batch(struct ctx *c, size_t i, char *out, size_t out_size)
{
    sbprov_result rc = sbprov_azure_deriver_derive(out, out_size, NULL, c->deriver, c->in->ids[i]);
    if (rc != SBPROV_OK)
        die_sbprov("sbprov_azure_deriver_derive", rc);
}

/* libsbprov, one-shot: decodes the Base64 group key and keys HMAC every call. */
static void derive_sbprov_oneshot(struct ctx *c, size_t i, char *out, size_t out_size)
{
    sbprov_result rc = sbprov_azure_derive_device_key(out, out_size, NULL, c->in->group_key, c->in->group_key_len,
                                                      c->in->ids[i]);
    if (rc != SBPROV_OK)
        die_sbprov("sbprov_azure_derive_device_key", rc);
}

/* Bare OpenSSL 3, the fast way: EVP_MAC HMAC/SHA256 keyed once (in setup),
 * re-initialised without a key per message, then EVP_EncodeBlock. */
static void derive_bare_evp_mac(struct ctx *c, size_t i, char *out, size_t out_size)
{
    unsigned char mac[32];
    size_t mac_len = 0;
    const char *id = c->in->ids[i];

    (void)out_size;
    if (EVP_MAC_init(c->mac_ctx, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(c->mac_ctx, (const unsigned char *)id, strlen(id)) != 1 ||
        EVP_MAC_final(c->mac_ctx, mac, &mac_len, sizeof mac) != 1 || mac_len != sizeof mac)
        die("bare EVP_MAC HMAC-SHA256 failed");
    EVP_EncodeBlock((unsigned char *)out, mac, (int)sizeof mac);
}

/* Bare OpenSSL, the naive way: one-shot HMAC() per message (raw key decoded
 * once, outside the loop), then EVP_EncodeBlock. */
static void derive_bare_hmac_oneshot(struct ctx *c, size_t i, char *out, size_t out_size)
{
    unsigned char mac[32];
    unsigned int mac_len = 0;
    const char *id = c->in->ids[i];

    (void)out_size;
    if (HMAC(EVP_sha256(), c->in->group_raw, GROUP_KEY_BYTES, (const unsigned char *)id, strlen(id), mac,
             &mac_len) == NULL ||
        mac_len != sizeof mac)
        die("bare HMAC() failed");
    EVP_EncodeBlock((unsigned char *)out, mac, (int)sizeof mac);
}

/* libsbprov SAS token for URI i with the SAS key and policy. */
static void sas_sbprov(struct ctx *c, size_t i, char *out, size_t out_size)
{
    sbprov_result rc = sbprov_azure_sas_token(out, out_size, NULL, c->in->uris[i], c->in->sas_key,
                                              c->in->sas_key_len, SAS_POLICY, SAS_EXPIRY, 0);
    if (rc != SBPROV_OK)
        die_sbprov("sbprov_azure_sas_token", rc);
}

/* libsbprov SAS token with a signer keyed once (in setup), as a daemon
 * renewing its tokens or tooling signing many requests would use it. */
static void sas_sbprov_signer(struct ctx *c, size_t i, char *out, size_t out_size)
{
    sbprov_result rc = sbprov_azure_sas_signer_token(out, out_size, NULL, c->signer, c->in->uris[i], SAS_POLICY,
                                                     SAS_EXPIRY, 0);
    if (rc != SBPROV_OK)
        die_sbprov("sbprov_azure_sas_signer_token", rc);
}

/* ------------------------------------------------------------------------ */
/* Timing                                                                    */
/* ------------------------------------------------------------------------ */

struct variant {
    const char *name;
    variant_fn fn;
    unsigned passes;
    double ops_per_s[MAX_REPS];
};

static volatile unsigned sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run `passes` passes over all inputs; returns seconds. */
static double run_passes(struct ctx *c, variant_fn fn, unsigned passes)
{
    char out[SAS_TOKEN_MAX];
    unsigned acc = 0;
    double t0 = now_s();
    for (unsigned p = 0; p < passes; p++) {
        for (size_t i = 0; i < c->in->n; i++) {
            fn(c, i, out, sizeof out);
            acc += (unsigned char)out[0];
        }
    }
    double t1 = now_s();
    sink += acc;
    return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
    double tmp[MAX_REPS];
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Check every variant gives the first variant's output for every input. */
static void verify(struct ctx *c, struct variant *v, size_t nv)
{
    char ref[SAS_TOKEN_MAX], got[SAS_TOKEN_MAX];
    for (size_t i = 0; i < c->in->n; i++) {
        memset(ref, 0, sizeof ref);
        v[0].fn(c, i, ref, sizeof ref);
        for (size_t k = 1; k < nv; k++) {
            memset(got, 0, sizeof got);
            v[k].fn(c, i, got, sizeof got);
            if (strcmp(ref, got) != 0) {
                fprintf(stderr, "sbprov-bench-azure: MISMATCH on input %zu (%s):\n  %s: %s\n  %s: %s\n", i,
                        c->in->ids[i], v[0].name, ref, v[k].name, got);
                exit(1);
            }
        }
    }
}

static void bench(struct ctx *c, struct variant *v, size_t nv, unsigned reps, double sample_s)
{
    /* Warm-up (caches, lazy OpenSSL initialisation, CPU frequency) and
     * calibration of the passes per sample. */
    for (size_t k = 0; k < nv; k++) {
        double t = run_passes(c, v[k].fn, 1);
        t = run_passes(c, v[k].fn, 1);
        unsigned passes = (unsigned)(sample_s / (t > 1e-9 ? t : 1e-9) + 0.5);
        v[k].passes = passes < 1 ? 1 : passes;
    }
    for (unsigned r = 0; r < reps; r++)
        for (size_t k = 0; k < nv; k++) {
            double t = run_passes(c, v[k].fn, v[k].passes);
            v[k].ops_per_s[r] = (double)c->in->n * v[k].passes / t;
        }
    for (size_t k = 0; k < nv; k++) {
        double mn = v[k].ops_per_s[0], mx = v[k].ops_per_s[0];
        for (unsigned r = 1; r < reps; r++) {
            mn = v[k].ops_per_s[r] < mn ? v[k].ops_per_s[r] : mn;
            mx = v[k].ops_per_s[r] > mx ? v[k].ops_per_s[r] : mx;
        }
        printf("RESULT %s median_ops_per_s=%.0f min=%.0f max=%.0f reps=%u passes=%u n=%zu samples=", v[k].name,
               median(v[k].ops_per_s, reps), mn, mx, reps, v[k].passes, c->in->n);
        for (unsigned r = 0; r < reps; r++)
            printf("%s%.0f", r ? "," : "", v[k].ops_per_s[r]);
        printf("\n");
        fflush(stdout);
    }
}

/* ------------------------------------------------------------------------ */
/* SAS files for the Python SDK side                                         */
/* ------------------------------------------------------------------------ */

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "sbprov-bench-azure: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void write_sas_files(struct ctx *c, const char *dir)
{
    char token[SAS_TOKEN_MAX];
    FILE *fi = open_out(dir, "sas_inputs.txt");
    FILE *ft = open_out(dir, "sas_tokens.txt");

    /* sas_inputs.txt: key, policy, expiry, then one resource URI a line. */
    fprintf(fi, "%s\n%s\n%lld\n", c->in->sas_key, SAS_POLICY, (long long)SAS_EXPIRY);
    for (size_t i = 0; i < c->in->n; i++) {
        sas_sbprov(c, i, token, sizeof token);
        fprintf(fi, "%s\n", c->in->uris[i]);
        fprintf(ft, "%s\n", token);
    }
    if (fclose(fi) != 0 || fclose(ft) != 0)
        die("writing the SAS files failed");
}

/* ------------------------------------------------------------------------ */

static unsigned long parse_ul(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s) {
        fprintf(stderr, "sbprov-bench-azure: bad value for %s: %s\n", opt, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    size_t n = 10000;
    uint64_t seed = 20240601;
    unsigned reps = 7;
    double sample_s = 0.15;
    const char *out_dir = NULL;
    const char *only = NULL;
    struct inputs in;
    struct ctx c = { .in = &in };
    sbprov_result rc;

    for (int a = 1; a < argc; a++) {
        const char *opt = argv[a];
        if (a + 1 >= argc) {
            fprintf(stderr, "usage: %s [--n N] [--seed S] [--reps R] [--sample-ms MS] [--out-dir DIR] [--only NAME]\n",
                    argv[0]);
            return 2;
        }
        const char *val = argv[++a];
        if (strcmp(opt, "--n") == 0)
            n = parse_ul(val, opt);
        else if (strcmp(opt, "--seed") == 0)
            seed = parse_ul(val, opt);
        else if (strcmp(opt, "--reps") == 0)
            reps = (unsigned)parse_ul(val, opt);
        else if (strcmp(opt, "--sample-ms") == 0)
            sample_s = (double)parse_ul(val, opt) / 1000.0;
        else if (strcmp(opt, "--out-dir") == 0)
            out_dir = val;
        else if (strcmp(opt, "--only") == 0)
            only = val;
        else {
            fprintf(stderr, "sbprov-bench-azure: unknown option %s\n", opt);
            return 2;
        }
    }
    if (n == 0 || reps == 0 || reps > MAX_REPS)
        die("--n must be > 0 and --reps 1..64");

    make_inputs(&in, n, seed);
    printf("INFO openssl=%s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("INFO sbprov=%s\n", sbprov_version());
    printf("INFO n=%zu seed=%llu reps=%u sample_ms=%.0f id_len=%d..%d group_key_bytes=%d sas_key_bytes=%d\n", n,
           (unsigned long long)seed, reps, sample_s * 1000, ID_MIN_LEN, ID_MAX_LEN, GROUP_KEY_BYTES,
           SAS_KEY_BYTES);

    /* Keyed-once states, made outside the timed loops. */
    if ((rc = sbprov_azure_sas_signer_new(&c.signer, in.sas_key, in.sas_key_len)) != SBPROV_OK)
        die_sbprov("sbprov_azure_sas_signer_new", rc);
    if ((rc = sbprov_azure_deriver_new(&c.deriver, in.group_key, in.group_key_len)) != SBPROV_OK)
        die_sbprov("sbprov_azure_deriver_new", rc);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end() };
    if (mac == NULL || (c.mac_ctx = EVP_MAC_CTX_new(mac)) == NULL ||
        EVP_MAC_init(c.mac_ctx, in.group_raw, GROUP_KEY_BYTES, params) != 1)
        die("cannot key the bare EVP_MAC HMAC-SHA256");

    struct variant derive[] = {
        { "derive_bare_evp_mac", derive_bare_evp_mac, 0, { 0 } },
        { "derive_sbprov_batch", derive_sbprov_batch, 0, { 0 } },
        { "derive_sbprov_oneshot", derive_sbprov_oneshot, 0, { 0 } },
        { "derive_bare_hmac_oneshot", derive_bare_hmac_oneshot, 0, { 0 } },
    };
    struct variant sas[] = {
        { "sas_sbprov", sas_sbprov, 0, { 0 } },
        { "sas_sbprov_signer", sas_sbprov_signer, 0, { 0 } },
    };

    verify(&c, derive, sizeof derive / sizeof *derive);
    printf("INFO verified=derive variants=%zu inputs=%zu\n", sizeof derive / sizeof *derive, n);
    verify(&c, sas, sizeof sas / sizeof *sas);
    printf("INFO verified=sas variants=%zu inputs=%zu\n", sizeof sas / sizeof *sas, n);
    if (out_dir != NULL)
        write_sas_files(&c, out_dir);

    if (only != NULL) {
        /* Profiling aid: time one variant alone. */
        struct variant *all[] = { &derive[0], &derive[1], &derive[2], &derive[3], &sas[0], &sas[1] };
        size_t k = 0;
        while (k < sizeof all / sizeof *all && strcmp(all[k]->name, only) != 0)
            k++;
        if (k == sizeof all / sizeof *all)
            die("--only: no such variant");
        bench(&c, all[k], 1, reps, sample_s);
    } else {
        bench(&c, derive, sizeof derive / sizeof *derive, reps, sample_s);
        bench(&c, sas, sizeof sas / sizeof *sas, reps, sample_s);
    }

    sbprov_azure_deriver_free(c.deriver);
    sbprov_azure_sas_signer_free(c.signer);
    EVP_MAC_CTX_free(c.mac_ctx);
    EVP_MAC_free(mac);
    for (size_t i = 0; i < n; i++) {
        free(in.ids[i]);
        free(in.uris[i]);
    }
    free(in.ids);
    free(in.uris);
    return 0;
}
