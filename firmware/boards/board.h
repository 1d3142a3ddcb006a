/*
 * board.h - what the runtime needs from a board. One implementation per
 * family in firmware/boards/<family>/board.c.
 */
#ifndef MCUGEN_BOARD_H
#define MCUGEN_BOARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What board_counter_read() counts (also sent in the announcement). */
enum board_timing_unit {
    BOARD_TIMING_CYCLES = 0,        /* DWT CYCCNT core clock cycles */
    BOARD_TIMING_INSTRUCTIONS = 1,  /* QEMU -icount shift=0: executed instructions */
    BOARD_TIMING_NANOSECONDS = 2,   /* host: CLOCK_MONOTONIC */
};

/* Clocks, power, caches, MPU, UART and the counter. Called first in main(). */
void board_init(void);

/* Blocking write of len bytes to the UART that reaches the host. */
void board_uart_write(const uint8_t *buf, uint32_t len);

/* Reads up to len bytes; waits at most timeout_ms for each byte.
 * Returns the number of bytes read (less than len on timeout). */
uint32_t board_uart_read(uint8_t *buf, uint32_t len, uint32_t timeout_ms);

/* Free-running counter in board_timing_unit() units. 64-bit: on hardware the
 * 32-bit DWT CYCCNT is extended in software, so an interval between two reads
 * must stay below 2^32 cycles (4.3 s at 1 GHz). */
uint64_t board_counter_read(void);

/* Core clock the firmware runs at, in Hz (0 on the host). */
uint32_t board_clock_hz(void);

/* enum board_timing_unit */
uint8_t board_timing_unit(void);

#ifdef __cplusplus
}
#endif

#endif /* MCUGEN_BOARD_H */
