/*
 * sbprov-mcu-sim: where the frames go: a byte stream (file, stdout, pty,
 * serial device; COBS records ending in 0x00) or UDP (one record per
 * datagram, no COBS), as docs/frame-format.md specifies.
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_OUTPUT_H
#define SIM_OUTPUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sim_output_kind { OUT_FILE, OUT_PTY, OUT_SERIAL, OUT_UDP } sim_output_kind;

typedef struct sim_output {
    sim_output_kind kind;
    int fd;
    int pty_slave;       /* held open so that nothing written is dropped */
    char pty_link[4096]; /* removed on close */
    uint8_t udp_addr[128];
    unsigned udp_addr_len;
} sim_output;

/* Open `target` (a path, "-" for stdout, "HOST:PORT" for UDP; ignored for a
 * pty, whose slave path is printed on stderr and linked at pty_link if
 * given). Returns 0, or -1 with a message on stderr. */
int sim_output_open(sim_output *out, sim_output_kind kind, const char *target, const char *pty_link, unsigned baud);

/* Send one record (COBS-encoded for streams). 0, or -1 (printed) when the
 * output is gone. */
int sim_output_record(sim_output *out, const uint8_t *record, size_t len);

/* Write raw bytes to a stream output (faults use it). */
int sim_output_raw(sim_output *out, const uint8_t *bytes, size_t len);

/* Close; a pty first gives its reader up to 10 s (or until *stop) to take
 * what is still queued. */
void sim_output_close(sim_output *out, volatile sig_atomic_t *stop);

#endif
