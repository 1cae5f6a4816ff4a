/*
 * Raw serial lines for the example programs (the sbprov CLI, sbprov-gateway,
 * sbprov-mcu-sim): sensor frames are binary, so a serial device or pty must
 * pass every byte unchanged (no echo, no line editing, no CR/LF mapping).
 * SPDX-License-Identifier: MIT
 */
#ifndef SERIAL_TTY_H
#define SERIAL_TTY_H

#include <termios.h>

/* Standard rates from 1200 to 4000000 baud. Returns the termios constant,
 * or 0 (B0) if `baud` is not one of them. */
speed_t serial_tty_speed(unsigned long baud);

/* Put the open terminal `fd` (a serial device or either side of a pty) into
 * raw 8-bit mode, reads returning as soon as a byte is there; at `baud` if
 * non-zero, else at its current speed. Returns 0, or -1 with errno set
 * (ENOTTY: not a terminal; EINVAL: not a standard rate). */
int serial_tty_raw(int fd, unsigned long baud);

#endif
