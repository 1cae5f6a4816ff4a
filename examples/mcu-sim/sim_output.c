/*
 * sbprov-mcu-sim: outputs (see sim_output.h).
 * SPDX-License-Identifier: MIT
 */
#include "sim_output.h"
#include "serial_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sbprov/frame_encode.h>

static int open_pty(sim_output *out, const char *link)
{
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0) {
        fprintf(stderr, "sbprov-mcu-sim: pty: %s\n", strerror(errno));
        return -1;
    }
    const char *slave = ptsname(fd);
    /* Raw on the pair, so 0x00 and every other byte pass unchanged. */
    int s = slave != NULL ? open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (s < 0 || serial_tty_raw(s, 0) != 0) {
        fprintf(stderr, "sbprov-mcu-sim: pty %s: %s\n", slave != NULL ? slave : "?", strerror(errno));
        close(fd);
        if (s >= 0)
            close(s);
        return -1;
    }
    /* Keep a slave fd: with none open, bytes written to the master are
     * dropped; with ours open they wait in the slave's queue (and writes
     * block once it is full) until the reader takes them. */
    out->pty_slave = s;
    if (link != NULL) {
        unlink(link);
        if (symlink(slave, link) != 0) {
            fprintf(stderr, "sbprov-mcu-sim: --pty-link %s: %s\n", link, strerror(errno));
            close(fd);
            return -1;
        }
        snprintf(out->pty_link, sizeof out->pty_link, "%s", link);
    }
    fprintf(stderr, "pty: %s\n", slave);
    out->fd = fd;
    return 0;
}

static int open_udp(sim_output *out, const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec || colon[1] == '\0' || (size_t)(colon - spec) >= sizeof host) {
        fprintf(stderr, "sbprov-mcu-sim: --udp %s: want HOST:PORT\n", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "sbprov-mcu-sim: --udp %s: %s\n", spec, gai_strerror(rc));
        return -1;
    }
    out->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (out->fd < 0 || res->ai_addrlen > sizeof out->udp_addr) {
        fprintf(stderr, "sbprov-mcu-sim: --udp %s: %s\n", spec, strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    memcpy(out->udp_addr, res->ai_addr, res->ai_addrlen);
    out->udp_addr_len = (unsigned)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int sim_output_open(sim_output *out, sim_output_kind kind, const char *target, const char *pty_link, unsigned baud)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->fd = -1;
    out->pty_slave = -1;
    switch (kind) {
    case OUT_PTY:
        return open_pty(out, pty_link);
    case OUT_UDP:
        return open_udp(out, target);
    case OUT_SERIAL:
        if (serial_tty_speed(baud) == 0) {
            fprintf(stderr, "sbprov-mcu-sim: --baud %u: not a standard rate\n", baud);
            return -1;
        }
        out->fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (out->fd < 0 || serial_tty_raw(out->fd, baud) != 0) {
            fprintf(stderr, "sbprov-mcu-sim: --serial %s: %s\n", target, strerror(errno));
            return -1;
        }
        return 0;
    case OUT_FILE:
        out->fd = strcmp(target, "-") == 0 ? STDOUT_FILENO : open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out->fd < 0) {
            fprintf(stderr, "sbprov-mcu-sim: --output %s: %s\n", target, strerror(errno));
            return -1;
        }
        return 0;
    }
    return -1;
}

int sim_output_raw(sim_output *out, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(out->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "sbprov-mcu-sim: write: %s\n", strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sim_output_record(sim_output *out, const uint8_t *record, size_t len)
{
    if (out->kind == OUT_UDP) {
        if (sendto(out->fd, record, len, 0, (const struct sockaddr *)out->udp_addr, out->udp_addr_len) < 0 &&
            errno != ECONNREFUSED) { /* nobody listening yet: like a radio, the frame is just lost */
            fprintf(stderr, "sbprov-mcu-sim: sendto: %s\n", strerror(errno));
            return -1;
        }
        return 0;
    }
    uint8_t wire[SBPROV_FRAME_WIRE_MAX];
    size_t wire_len;
    if (sbprov_cobs_encode(wire, sizeof wire, record, len, &wire_len) != SBPROV_FRAME_ENC_OK)
        return -1;
    return sim_output_raw(out, wire, wire_len);
}

void sim_output_close(sim_output *out, volatile sig_atomic_t *stop)
{
    if (out->pty_slave >= 0) {
        /* Closing the master discards what the reader has not taken yet:
         * give it up to 10 s. The kernel moves written bytes to the slave's
         * queue asynchronously, so the queue must stay empty for a while. */
        tcdrain(out->fd);
        for (int i = 0, empty = 0, queued; i < 1000 && empty < 5 && !*stop; i++) {
            if (ioctl(out->pty_slave, FIONREAD, &queued) != 0)
                break;
            empty = queued == 0 ? empty + 1 : 0;
            usleep(10000);
        }
        close(out->pty_slave);
        out->pty_slave = -1;
    }
    if (out->fd >= 0 && out->fd != STDOUT_FILENO)
        close(out->fd);
    if (out->pty_link[0] != '\0')
        unlink(out->pty_link);
    out->fd = -1;
}
