/*
 * sbprov-gateway: the frame input, a serial device / pty (a byte stream of
 * COBS records) or a UDP socket (one record per datagram).
 * SPDX-License-Identifier: MIT
 */
#ifndef GW_INPUT_H
#define GW_INPUT_H

#include <stdint.h>

#include <sbprov/frame.h>

#include "gw_config.h"

typedef struct gw_input gw_input;

/* Open the input of cfg. A serial device that is missing is not an error:
 * it is opened when it appears (a USB adapter plugged in, a simulator's pty). */
int gw_input_open(gw_input **out, const gw_config *cfg);
void gw_input_close(gw_input *in);

/* The fd to poll for input, or -1 while a serial device is missing (then
 * call gw_input_read() again after gw_input_retry_ms()). */
int gw_input_fd(gw_input *in);
int gw_input_retry_ms(const gw_input *in);

/* Read what is there and feed it to `dec`, calling `cb` per accepted record.
 * Returns 0, or -1 on a fatal error (logged). A serial device that goes
 * away (EIO, hang-up) is closed and reopened later. */
int gw_input_read(gw_input *in, sbprov_frame_decoder *dec, sbprov_frame_cb cb, void *payload);

#endif
