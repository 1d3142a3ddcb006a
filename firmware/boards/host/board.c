/*
 * host/board.c - the native build: the "UART" is stdin/stdout (the host
 * runner talks to the process through pipes) and the counter is
 * CLOCK_MONOTONIC in nanoseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "board.h"

static int input_closed;

int board_host_input_closed(void);
int board_host_input_closed(void) { return input_closed; }

void board_init(void) {}

void board_uart_write(const uint8_t *buf, uint32_t len)
{
    while (len > 0u) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            _exit(3); /* the host went away */
        }
        buf += n;
        len -= (uint32_t)n;
    }
}

uint32_t board_uart_read(uint8_t *buf, uint32_t len, uint32_t timeout_ms)
{
    uint32_t got = 0;
    while (got < len && !input_closed) {
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int r = poll(&p, 1, (int)timeout_ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        ssize_t n = read(STDIN_FILENO, buf + got, len - got);
        if (n == 0) {
            input_closed = 1;
            break;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            input_closed = 1;
            break;
        }
        got += (uint32_t)n;
    }
    return got;
}

uint64_t board_counter_read(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t board_clock_hz(void) { return 0; }

uint8_t board_timing_unit(void) { return BOARD_TIMING_NANOSECONDS; }

