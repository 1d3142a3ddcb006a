/*
 * driver_io_semihost.c - driver_io.h on QEMU: Arm semihosting (BKPT 0xAB with
 * the operation in r0 and a parameter block in r1; "Semihosting for AArch32
 * and AArch64", Arm IHI 0058) and the mps2 board's instruction counter.
 */
#include <string.h>

#include "board.h"
#include "driver_io.h"

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_EXIT_EXTENDED 0x20  /* {reason, exit code}; SYS_EXIT (0x18) takes no code on AArch32 */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define OPEN_MODE_RB 1
#define OPEN_MODE_WB 5

static int32_t semihost(int32_t op, void *block)
{
    register int32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int io_open(const char *name, int write)
{
    uint32_t block[3] = {(uint32_t)(uintptr_t)name, write ? OPEN_MODE_WB : OPEN_MODE_RB, (uint32_t)strlen(name)};
    return semihost(SYS_OPEN, block);
}

int32_t io_read(int handle, void *buf, int32_t n)
{
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    return n - semihost(SYS_READ, block); /* returns the bytes NOT read */
}

int32_t io_write(int handle, const void *buf, int32_t n)
{
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    return n - semihost(SYS_WRITE, block);
}

void io_close(int handle)
{
    uint32_t block[1] = {(uint32_t)handle};
    semihost(SYS_CLOSE, block);
}

void io_exit(int code)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

void io_init(void) { board_init(); }
uint64_t io_counter(void) { return board_counter_read(); }

/* The startup code's fault handler reports through the protocol layer, which
 * this firmware does not link: exit with the exception number instead. */
void mcugen_send_fault(const uint32_t regs[6]);
void mcugen_send_fault(const uint32_t regs[6]) { io_exit(100 + (int)regs[0]); }
