/*
 * Raw serial lines for the example programs (see serial_tty.h).
 * SPDX-License-Identifier: MIT
 */
#include "serial_tty.h"

#include <errno.h>
#include <stddef.h>

speed_t serial_tty_speed(unsigned long baud)
{
    static const struct { unsigned long baud; speed_t speed; } table[] = {
        {1200, B1200},       {2400, B2400},       {4800, B4800},       {9600, B9600},
        {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
        {230400, B230400},   {460800, B460800},   {921600, B921600},   {1000000, B1000000},
        {2000000, B2000000}, {3000000, B3000000}, {4000000, B4000000},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].baud == baud)
            return table[i].speed;
    return 0;
}

int serial_tty_raw(int fd, unsigned long baud)
{
    struct termios tio;
    speed_t speed = 0;
    if (baud != 0 && (speed = serial_tty_speed(baud)) == 0) {
        errno = EINVAL;
        return -1;
    }
    if (tcgetattr(fd, &tio) != 0)
        return -1;
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (speed != 0 && (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0))
        return -1;
    return tcsetattr(fd, TCSANOW, &tio);
}
