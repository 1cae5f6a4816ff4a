/* Internal: CRC-32C for the frame decoder (frame_crc32c.c), frame view checks (frame_json.c). */
#ifndef SBPROV_INTERNAL_FRAME_H
#define SBPROV_INTERNAL_FRAME_H

#include "sbprov/frame.h"

#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli; reflected 0x82F63B78, init and final XOR 0xFFFFFFFF)
 * of `n` bytes. Uses the CPU's CRC32C instruction where there is one (x86-64
 * SSE4.2, ARMv8 CRC), chosen once per process, else a byte table. */
uint32_t sbprov__crc32c(const uint8_t *p, size_t n);

/* The software path alone (byte table). */
uint32_t sbprov__crc32c_sw(const uint8_t *p, size_t n);

/* 1 if this CPU and build have the instruction path (then
 * sbprov__crc32c_hw() may be called), else 0. */
int sbprov__crc32c_hw_available(void);

/* The instruction path alone; only if sbprov__crc32c_hw_available(). */
uint32_t sbprov__crc32c_hw(const uint8_t *p, size_t n);

/* Name of the path sbprov__crc32c() uses: "sse4.2", "armv8-crc" or "table". */
const char *sbprov__crc32c_impl(void);

/* EINVAL (detail naming `what`) unless `f` is a frame view the library could
 * have made: plausible struct_size, at most SBPROV_FRAME_KIND_LAST readings of
 * known kinds, a reading array when there are readings. */
sbprov_result sbprov__frame_view_check(const char *what, const sbprov_frame *f);

#endif
