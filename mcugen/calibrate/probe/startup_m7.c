/* Minimal Cortex-M7 startup for mcugen's measuring tools under QEMU mps2-an500.
 *
 * Not the project's board support (that lives in firmware/boards/): just enough
 * to run a newlib + rdimon (semihosting) program: vector table, FPU on, .bss
 * cleared, semihosting stdio (unless MCUGEN_NO_SEMIHOSTING), C++ constructors,
 * main, exit. Everything is linked into RAM (see mps2_an500.ld), so there is no
 * .data copy.
 */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __bss_start__;
extern uint32_t __bss_end__;
extern uint32_t __stack_top__;

extern int main(int argc, char** argv);
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);

/* Semihosting: SYS_WRITE0 (0x04) and SYS_EXIT (0x18), for faults where newlib
 * cannot be trusted any more. */
static int semihost(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

/* crti/crtn are not linked (-nostartfiles); newlib's init/fini arrays call these. */
void _init(void) {}
void _fini(void) {}
/* Normally from crtbegin.o: the handle __cxa_atexit takes for static destructors. */
void* __dso_handle = &__dso_handle;

void Fault_Handler(void) {
  semihost(0x04, "MCUGEN_ARENA status=fault\n");
  semihost(0x18, (const void*)0x20023); /* ADP_Stopped_RunTimeErrorUnknown */
  for (;;) {
  }
}

/* ARMv7-M MPU (PMSAv7): make the code region (ssram1, 4 MiB at 0) read-only, so
 * that a write through a null pointer (a kernel ignoring a failed arena
 * allocation) faults instead of silently overwriting the program. */
static void protect_code(void) {
  volatile uint32_t* const mpu_ctrl = (volatile uint32_t*)0xE000ED94u;
  volatile uint32_t* const mpu_rnr = (volatile uint32_t*)0xE000ED98u;
  volatile uint32_t* const mpu_rbar = (volatile uint32_t*)0xE000ED9Cu;
  volatile uint32_t* const mpu_rasr = (volatile uint32_t*)0xE000EDA0u;
  volatile uint32_t* const shcsr = (volatile uint32_t*)0xE000ED24u;
  *mpu_rnr = 0;
  *mpu_rbar = 0x00000000u;
  *mpu_rasr = (6u << 24)     /* AP = read-only, privileged and unprivileged */
              | (1u << 19)   /* TEX = 001: normal memory, non-cacheable */
              | (21u << 1)   /* SIZE: 2^(21+1) = 4 MiB */
              | 1u;          /* ENABLE */
  *mpu_ctrl = (1u << 2) | 1u; /* PRIVDEFENA (default map elsewhere), ENABLE */
  *shcsr |= (1u << 16);       /* MEMFAULTENA */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void Reset_Handler(void) {
  /* CPACR: full access to CP10 and CP11 (the FPU), before any FP instruction. */
  volatile uint32_t* cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  protect_code();
  for (uint32_t* p = &__bss_start__; p < &__bss_end__; ++p) {
    *p = 0;
  }
#ifndef MCUGEN_NO_SEMIHOSTING
  initialise_monitor_handles();
#endif
  __libc_init_array();
  static char name[] = "probe";
  static char* argv[] = {name, 0};
  exit(main(1, argv));
}

__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__),
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Fault_Handler, /* SVC */
    Fault_Handler, /* DebugMon */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};
