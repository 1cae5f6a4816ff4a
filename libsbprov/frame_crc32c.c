/* CRC-32C for the frame decoder: the CRC32C instruction of x86-64 (SSE4.2)
 * or ARMv8 when the CPU has it, else a 1 KiB byte table. The choice is made
 * once per process (pthread_once). */
#include "frame_internal.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1u)));
        table[i] = c;
    }
}

static uint32_t crc_table(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n-- > 0)
        crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xFFu];
    return ~crc;
}

/* --- the instruction paths --------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#  include <nmmintrin.h>
#  define HAVE_HW_PATH 1
#  define HW_NAME "sse4.2"

__attribute__((target("sse4.2"))) static uint32_t crc_hw(const uint8_t *p, size_t n)
{
    uint64_t crc = 0xFFFFFFFFu;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, sizeof v); /* little-endian, as the instruction expects */
        crc = _mm_crc32_u64(crc, v);
        p += 8;
        n -= 8;
    }
    uint32_t c = (uint32_t)crc;
    while (n-- > 0)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}

static int hw_detect(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

#elif defined(__aarch64__) && defined(__GNUC__)
/* clang's arm_acle.h declares __crc32c* only when the whole build has +crc;
 * its builtins work in a function with the "crc" target. GCC's arm_acle.h
 * declares them for functions with the "+crc" target. */
#  if defined(__clang__)
#    define CRC32CD(c, v) __builtin_arm_crc32cd((c), (v))
#    define CRC32CB(c, b) __builtin_arm_crc32cb((c), (b))
#  else
#    include <arm_acle.h>
#    define CRC32CD(c, v) __crc32cd((c), (v))
#    define CRC32CB(c, b) __crc32cb((c), (b))
#  endif
#  define HAVE_HW_PATH 1
#  define HW_NAME "armv8-crc"
#  if defined(__ARM_FEATURE_CRC32)
#    define CRC_TARGET
static int hw_detect(void)
{
    return 1; /* the build targets CPUs that have it */
}
#  else
#    include <sys/auxv.h>
#    ifndef HWCAP_CRC32
#      define HWCAP_CRC32 (1 << 7)
#    endif
#    if defined(__clang__)
#      define CRC_TARGET __attribute__((target("crc")))
#    else
#      define CRC_TARGET __attribute__((target("+crc")))
#    endif
static int hw_detect(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}
#  endif

CRC_TARGET static uint32_t crc_hw(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, sizeof v); /* aarch64 Linux is little-endian */
        c = CRC32CD(c, v);
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        c = CRC32CB(c, *p++);
    return ~c;
}

#else
#  define HAVE_HW_PATH 0
#  define HW_NAME "none"
static int hw_detect(void)
{
    return 0;
}
static uint32_t crc_hw(const uint8_t *p, size_t n)
{
    return crc_table(p, n);
}
#endif

/* --- choosing once ------------------------------------------------------------------ */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int hw_ok;
static uint32_t (*chosen)(const uint8_t *, size_t);

static void choose(void)
{
    make_table();
    hw_ok = HAVE_HW_PATH && hw_detect();
    chosen = hw_ok ? crc_hw : crc_table;
}

uint32_t sbprov__crc32c(const uint8_t *p, size_t n)
{
    pthread_once(&once, choose);
    return chosen(p, n);
}

uint32_t sbprov__crc32c_sw(const uint8_t *p, size_t n)
{
    pthread_once(&once, choose);
    return crc_table(p, n);
}

int sbprov__crc32c_hw_available(void)
{
    pthread_once(&once, choose);
    return hw_ok;
}

uint32_t sbprov__crc32c_hw(const uint8_t *p, size_t n)
{
    pthread_once(&once, choose);
    return crc_hw(p, n);
}

const char *sbprov__crc32c_impl(void)
{
    pthread_once(&once, choose);
    return hw_ok ? HW_NAME : "table";
}
