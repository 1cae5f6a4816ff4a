#!/usr/bin/env bash
# The MCU encoder stands alone: frame_encode.c and frame_encode.h copied into
# an empty directory compile for a Cortex-M0 with arm-none-eabi-gcc as C99,
# freestanding, -Os, with every warning an error, and need no outside symbol.
# Reports the code size. Fails, never skips, when the compiler is missing:
# scripts/install-deps.sh installs gcc-arm-none-eabi.
# usage: arm-build.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
root=$1 work=$2
die() { echo "arm-build: FAIL: $*" >&2; exit 1; }
cc=${ARM_CC:-arm-none-eabi-gcc}
size=${ARM_SIZE:-arm-none-eabi-size}
nm=${ARM_NM:-arm-none-eabi-nm}
command -v "$cc" >/dev/null 2>&1 || die "$cc not found (Debian package gcc-arm-none-eabi; scripts/install-deps.sh installs it)"
command -v "$size" >/dev/null 2>&1 || die "$size not found (Debian package binutils-arm-none-eabi)"

rm -rf "$work"
mkdir -p "$work/mcu"
cp "$root/libsbprov/frame_encode.c" "$root/include/sbprov/frame_encode.h" "$work/mcu/"
cd "$work/mcu"
flags=(-std=c99 -pedantic -Os -ffreestanding -mcpu=cortex-m0 -mthumb
       -Wall -Wextra -Wconversion -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wcast-align -Werror)
"$cc" "${flags[@]}" -c frame_encode.c -o frame_encode.o || die "frame_encode.c does not compile for Cortex-M0"
# Also as a firmware would use it: a caller in C99 including only the copied header.
cat > app.c <<'C'
#include "frame_encode.h"
int app_send(uint8_t *wire, size_t wire_size, size_t *wire_len);
int app_send(uint8_t *wire, size_t wire_size, size_t *wire_len)
{
    static const uint8_t node[SBPROV_FRAME_NODE_SIZE] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    uint8_t rec[SBPROV_FRAME_MAX];
    sbprov_frame_builder b;
    size_t len;
    if (sbprov_frame_builder_init(&b, rec, sizeof rec, SBPROV_FRAME_TYPE_READINGS, node, 1, 5) != SBPROV_FRAME_ENC_OK ||
        sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_CO2_PPM, 812) != SBPROV_FRAME_ENC_OK ||
        sbprov_frame_add_reading(&b, SBPROV_FRAME_KIND_TEMPERATURE_C, 2153) != SBPROV_FRAME_ENC_OK ||
        sbprov_frame_finish(&b, &len) != SBPROV_FRAME_ENC_OK)
        return -1;
    return sbprov_cobs_encode(wire, wire_size, rec, len, wire_len);
}
C
"$cc" "${flags[@]}" -c app.c -o app.o || die "a C99 caller of frame_encode.h does not compile"
undefined=$("$nm" -u frame_encode.o | awk '{print $2}' | grep -vxE 'memcpy|memset' || true)
[ -z "$undefined" ] || die "frame_encode.o needs outside symbols: $undefined"
"$size" -A frame_encode.o
text=$("$size" -A frame_encode.o | awk '$1 == ".text" {print $2}')
rodata=$("$size" -A frame_encode.o | awk '$1 == ".rodata" {s += $2} END {print s + 0}')
data=$("$size" -A frame_encode.o | awk '$1 == ".data" || $1 == ".bss" {s += $2} END {print s + 0}')
[ "$data" -eq 0 ] || die "frame_encode.o has $data bytes of .data/.bss (it must keep no state)"
echo "ok: frame encoder for Cortex-M0 (-Os): .text $text bytes, .rodata $rodata bytes, no .data/.bss, no outside symbols"
