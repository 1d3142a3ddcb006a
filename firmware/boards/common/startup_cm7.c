/*
 * startup_cm7.c - vector table and reset handler shared by the Cortex-M7
 * families. The reset handler sets the stack pointer itself (the i.MX RT boot
 * ROM enters through the IVT, not through the vector table), enables the FPU
 * before any C code runs, initialises memory from the linker's copy and zero
 * tables, then calls board_early_init() and main().
 */
#include <stdint.h>

#include "cortex_m7.h"

extern uint32_t _estack;
extern const uint32_t __copy_table_start__[], __copy_table_end__[];  /* {load, start, end} */
extern const uint32_t __zero_table_start__[], __zero_table_end__[];  /* {start, end} */
extern void (*const __preinit_array_start[])(void), (*const __preinit_array_end[])(void);
extern void (*const __init_array_start[])(void), (*const __init_array_end[])(void);

typedef void (*vector_fn)(void);
extern const vector_fn mcugen_vector_table[32];

int main(void);
void Reset_Handler(void);
void mcugen_fault_handler(void);
void board_early_init(void);
void mcugen_report_fault(uint32_t exception, uint32_t pc);

/* Runs before .data/.bss exist: must not touch globals. Families override it
 * (clock gates for RAM banks, watchdogs). */
__attribute__((weak)) void board_early_init(void) {}

void mcugen_send_fault(const uint32_t regs[6]);

/* The protocol layer owns the UART framing; the registers are read here. */
void mcugen_report_fault(uint32_t exception, uint32_t pc)
{
    const uint32_t regs[6] = {exception, pc, SCB_CFSR, SCB_HFSR, SCB_MMFAR, SCB_BFAR};
    mcugen_send_fault(regs);
}

/* The loops must stay loops: memcpy/memset may live in .text, which can be a
 * RAM region (ITCM) that this very function fills. (clang has no optimize
 * attribute; no_builtin keeps its loop-idiom pass from calling them.) */
#if defined(__clang__)
#define STARTUP_KEEP_LOOPS no_builtin("memcpy", "memset")
#else
#define STARTUP_KEEP_LOOPS optimize("no-tree-loop-distribute-patterns")
#endif
__attribute__((used, noreturn, STARTUP_KEEP_LOOPS)) static void reset_c(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)&mcugen_vector_table[0];
    board_early_init();
    for (const uint32_t *t = __copy_table_start__; t < __copy_table_end__; t += 3) {
        const uint32_t *src = (const uint32_t *)(uintptr_t)t[0];
        uint32_t *dst = (uint32_t *)(uintptr_t)t[1];
        uint32_t *end = (uint32_t *)(uintptr_t)t[2];
        while (dst < end) {
            *dst++ = *src++;
        }
    }
    for (const uint32_t *t = __zero_table_start__; t < __zero_table_end__; t += 2) {
        uint32_t *dst = (uint32_t *)(uintptr_t)t[0];
        uint32_t *end = (uint32_t *)(uintptr_t)t[1];
        while (dst < end) {
            *dst++ = 0;
        }
    }
    cm7_dsb();
    cm7_isb();
    /* C++ static constructors (the tflm style has some). */
    for (void (*const *f)(void) = __preinit_array_start; f < __preinit_array_end; f++) {
        (*f)();
    }
    for (void (*const *f)(void) = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }
    (void)main();
    for (;;) {
    }
}

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm volatile(
        "ldr r0, =_estack      \n"
        "msr msp, r0           \n"
        "ldr r0, =0xE000ED88   \n" /* CPACR: CP10/CP11 full access */
        "ldr r1, [r0]          \n"
        "orr r1, r1, #0xF00000 \n"
        "str r1, [r0]          \n"
        "dsb                   \n"
        "isb                   \n"
        "b reset_c             \n");
}

/* Faults: report over the link (a FAULT frame) and stop. */
__attribute__((naked)) void mcugen_fault_handler(void)
{
    __asm volatile(
        "tst lr, #4            \n"
        "ite eq                \n"
        "mrseq r1, msp         \n"
        "mrsne r1, psp         \n"
        "ldr r1, [r1, #24]     \n" /* stacked PC */
        "mrs r0, ipsr          \n"
        "b mcugen_fault_c      \n");
}

void mcugen_fault_c(uint32_t exception, uint32_t pc);
__attribute__((used, noreturn)) void mcugen_fault_c(uint32_t exception, uint32_t pc)
{
    mcugen_report_fault(exception, pc);
    for (;;) {
    }
}

static void default_handler(void)
{
    for (;;) {
    }
}

/* 16 system exceptions + 16 interrupt slots: mcugen enables no interrupt.
 * Aligned to 1 KiB by the linker script (VTOR needs a power-of-two alignment
 * covering the table; ARMv7-M ARM B3.2.5). */
__attribute__((used, section(".isr_vector"))) const vector_fn mcugen_vector_table[32] = {
    (vector_fn)(uintptr_t)&_estack,
    Reset_Handler,
    mcugen_fault_handler, /* NMI */
    mcugen_fault_handler, /* HardFault */
    mcugen_fault_handler, /* MemManage */
    mcugen_fault_handler, /* BusFault */
    mcugen_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    default_handler,      /* SVCall */
    default_handler,      /* DebugMonitor */
    0,
    default_handler,      /* PendSV */
    default_handler,      /* SysTick */
    default_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, default_handler, default_handler,
};
