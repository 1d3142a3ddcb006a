/*
 * mps2/board.c - QEMU mps2-an500 (Cortex-M7). Addresses come from
 * mcugen_board_config.h (rendered from boards.yaml); register layouts from:
 *   CMSDK APB UART: Arm DDI0479C (Cortex-M System Design Kit TRM) 4.3,
 *                   QEMU hw/char/cmsdk-apb-uart.c
 *   CMSDK APB timer: Arm DDI0479C 4.2, QEMU hw/timer/cmsdk-apb-timer.c
 * QEMU models no caches and no DWT cycle counter. Run with -icount shift=N:
 * each instruction takes 2^N ns of virtual time, so the 25 MHz timer ticks
 * once every (1e9 / 25e6) / 2^N instructions; we report instructions.
 */
#include <stdint.h>

#include "board.h"
#include "cortex_m7.h"
#include "mcugen_board_config.h"

/* CMSDK APB UART registers (DDI0479C table 4-6) */
#define UART_DATA    REG32(MCUGEN_UART_BASE + 0x00u)
#define UART_STATE   REG32(MCUGEN_UART_BASE + 0x04u)
#define UART_CTRL    REG32(MCUGEN_UART_BASE + 0x08u)
#define UART_BAUDDIV REG32(MCUGEN_UART_BASE + 0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_STATE_OVERRUNS (3u << 2)  /* TX/RX overrun, write 1 to clear */
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)
#define UART_MIN_BAUDDIV 16u           /* DDI0479C: BAUDDIV must be >= 16 */

/* CMSDK APB timer registers (DDI0479C table 4-4): a 32-bit down counter */
#define TIMER_CTRL   REG32(MCUGEN_TIMER_BASE + 0x00u)
#define TIMER_VALUE  REG32(MCUGEN_TIMER_BASE + 0x04u)
#define TIMER_RELOAD REG32(MCUGEN_TIMER_BASE + 0x08u)
#define TIMER_CTRL_EN (1u << 0)

/* QEMU's CMSDK UART holds one received byte and does not tell the character
 * backend when the guest has read it, so the next byte only arrives when
 * QEMU's main loop wakes up for another reason (~40 ms later with -icount).
 * Re-arming a timer wakes the main loop (timer_mod -> qemu_notify_event), so
 * while the receiver is empty the read loop re-arms timer 1: the host-to-target
 * rate goes from ~30 B/s to what QEMU's main loop can carry. */
#define KICK_TIMER_VALUE REG32(MCUGEN_KICK_TIMER_BASE + 0x04u)
#define KICK_TIMER_RELOAD REG32(MCUGEN_KICK_TIMER_BASE + 0x08u)
#define KICK_TIMER_CTRL REG32(MCUGEN_KICK_TIMER_BASE + 0x00u)
#define KICK_TICKS 250u  /* 10 us of virtual time */

#define NS_PER_SECOND 1000000000u
/* Instructions per timer tick: 1e9 / SYSCLK ns per tick, 2^shift ns per instruction. */
#define INSTRUCTIONS_PER_TICK ((NS_PER_SECOND / MCUGEN_SYSCLK_HZ) >> MCUGEN_ICOUNT_SHIFT)
#define TICKS_PER_MS (MCUGEN_SYSCLK_HZ / 1000u)

static uint32_t timer_last;
static uint64_t timer_ticks;

static uint64_t ticks64(void)
{
    uint32_t now = TIMER_VALUE;
    timer_ticks += (uint32_t)(timer_last - now); /* down counter, wraps mod 2^32 */
    timer_last = now;
    return timer_ticks;
}

void board_init(void)
{
    /* QEMU ignores the cache and MPU programming that real AN500 hardware
     * would need; the MPU stays off so the default map applies. */
    uint32_t div = MCUGEN_SYSCLK_HZ / MCUGEN_UART_BAUD;
    UART_BAUDDIV = div < UART_MIN_BAUDDIV ? UART_MIN_BAUDDIV : div;
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN;

    TIMER_CTRL = 0;
    TIMER_RELOAD = 0xFFFFFFFFu;
    TIMER_VALUE = 0xFFFFFFFFu;
    TIMER_CTRL = TIMER_CTRL_EN;
    timer_last = TIMER_VALUE;
    timer_ticks = 0;

    KICK_TIMER_CTRL = 0;
    KICK_TIMER_RELOAD = KICK_TICKS;
    KICK_TIMER_VALUE = KICK_TICKS;
    KICK_TIMER_CTRL = TIMER_CTRL_EN;
}

void board_uart_write(const uint8_t *buf, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = buf[i];
    }
}

uint32_t board_uart_read(uint8_t *buf, uint32_t len, uint32_t timeout_ms)
{
    uint32_t n = 0;
    while (n < len) {
        uint64_t deadline = ticks64() + (uint64_t)timeout_ms * TICKS_PER_MS;
        while (!(UART_STATE & UART_STATE_RXFULL)) {
            KICK_TIMER_VALUE = KICK_TICKS;
            if (ticks64() >= deadline) {
                return n;
            }
        }
        buf[n++] = (uint8_t)UART_DATA;
        UART_STATE = UART_STATE_OVERRUNS;
    }
    return n;
}

uint64_t board_counter_read(void)
{
    return ticks64() * INSTRUCTIONS_PER_TICK;
}

uint32_t board_clock_hz(void) { return MCUGEN_CLOCK_HZ; }

uint8_t board_timing_unit(void) { return BOARD_TIMING_INSTRUCTIONS; }
