/*
 * sbprov-gateway: frame input (see gw_input.h).
 * SPDX-License-Identifier: MIT
 */
#include "gw_input.h"
#include "gw_log.h"
#include "serial_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REOPEN_MS 1000

struct gw_input {
    int fd;
    int udp;
    char *path;          /* serial device */
    uint32_t baud;
    int missing_logged;
    uint8_t buf[65536];  /* a read of the stream, or one datagram */
};

/* Try to open the serial device in raw mode; sets in->fd or leaves -1. */
static int open_serial(gw_input *in)
{
    int fd = open(in->path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENXIO || errno == EIO) {
            if (!in->missing_logged++)
                gw_log(GW_WARN, "input %s: %s; waiting for it to appear", in->path, strerror(errno));
            return 0;
        }
        gw_log(GW_ERR, "input %s: %s", in->path, strerror(errno));
        return -1;
    }
    if (serial_tty_raw(fd, in->baud) != 0) {
        gw_log(GW_ERR, errno == ENOTTY ? "input %s: not a serial device or pty: %s" : "input %s: cannot set raw mode: %s",
               in->path, strerror(errno));
        close(fd);
        return -1;
    }
    in->fd = fd;
    in->missing_logged = 0;
    gw_log(GW_INFO, "input %s opened (raw, %u baud)", in->path, in->baud);
    return 0;
}

static int open_udp(gw_input *in, const char *spec)
{
    /* [host]:port, host optional (all addresses); [v6]:port allowed. */
    char host[256] = "";
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon[1] == '\0' || (size_t)(colon - spec) >= sizeof host) {
        gw_log(GW_ERR, "input udp = %s: want [host]:port", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *h = host;
    size_t hn = strlen(h);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
        h[hn - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE}, *res;
    int rc = getaddrinfo(h[0] != '\0' ? h : NULL, colon + 1, &hints, &res);
    if (rc != 0) {
        gw_log(GW_ERR, "input udp = %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        gw_log(GW_ERR, "input udp = %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    /* Frames arrive in bursts while the gateway is busy; a larger receive
     * buffer rides them out (the kernel caps it at rmem_max). */
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    in->fd = fd;
    gw_log(GW_INFO, "input udp %s", spec);
    return 0;
}

int gw_input_open(gw_input **out, const gw_config *cfg)
{
    gw_input *in = calloc(1, sizeof *in);
    if (in == NULL) {
        gw_log(GW_ERR, "input: out of memory");
        return -1;
    }
    in->fd = -1;
    int rc;
    if (cfg->udp != NULL) {
        in->udp = 1;
        rc = open_udp(in, cfg->udp);
    } else if (serial_tty_speed(in->baud = cfg->baud) == 0) {
        gw_log(GW_ERR, "input baud = %u: not a standard rate", cfg->baud);
        rc = -1;
    } else if ((in->path = strdup(cfg->serial)) == NULL) {
        gw_log(GW_ERR, "input: out of memory");
        rc = -1;
    } else {
        rc = open_serial(in);
    }
    if (rc != 0) {
        gw_input_close(in);
        return -1;
    }
    *out = in;
    return 0;
}

void gw_input_close(gw_input *in)
{
    if (in == NULL)
        return;
    if (in->fd >= 0)
        close(in->fd);
    free(in->path);
    free(in);
}

int gw_input_fd(gw_input *in)
{
    return in->fd;
}

int gw_input_retry_ms(const gw_input *in)
{
    return in->fd < 0 ? REOPEN_MS : -1;
}

int gw_input_read(gw_input *in, sbprov_frame_decoder *dec, sbprov_frame_cb cb, void *payload)
{
    if (in->fd < 0)
        return open_serial(in);
    if (in->udp) {
        /* Drain what is queued, one record per datagram. */
        for (int i = 0; i < 1024; i++) {
            ssize_t n = recv(in->fd, in->buf, sizeof in->buf, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return 0;
            if (n < 0) {
                gw_log(GW_ERR, "input udp: %s", strerror(errno));
                return -1;
            }
            if (sbprov_frame_decode_record(NULL, dec, in->buf, (size_t)n, cb, payload) != SBPROV_OK)
                return -1; /* only on misuse: the callback never stops */
        }
        return 0;
    }
    ssize_t n = read(in->fd, in->buf, sizeof in->buf);
    if (n > 0) {
        return sbprov_frame_decoder_feed(NULL, dec, in->buf, (size_t)n, cb, payload) == SBPROV_OK ? 0 : -1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    /* EOF or EIO: the writer's side (USB adapter, simulator) is gone. */
    gw_log(GW_WARN, "input %s: %s; reopening when it is back", in->path, n == 0 ? "closed" : strerror(errno));
    close(in->fd);
    in->fd = -1;
    in->missing_logged = 1;
    return 0;
}
