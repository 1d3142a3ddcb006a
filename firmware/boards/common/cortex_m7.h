/*
 * cortex_m7.h - the few Cortex-M7 system registers mcugen uses, written out
 * here (no CMSIS headers offline). Addresses: ARMv7-M Architecture Reference
 * Manual (DDI0403E) B3.2 "System Control Space"; Cortex-M7 TRM (DDI0489F).
 */
#ifndef MCUGEN_CORTEX_M7_H
#define MCUGEN_CORTEX_M7_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System Control Block (ARMv7-M ARM B3.2.2) */
#define SCB_VTOR    REG32(0xE000ED08u)  /* vector table offset */
#define SCB_AIRCR   REG32(0xE000ED0Cu)
#define SCB_CCR     REG32(0xE000ED14u)  /* configuration and control */
#define SCB_CFSR    REG32(0xE000ED28u)  /* configurable fault status */
#define SCB_HFSR    REG32(0xE000ED2Cu)
#define SCB_MMFAR   REG32(0xE000ED34u)
#define SCB_BFAR    REG32(0xE000ED38u)
#define SCB_CCSIDR  REG32(0xE000ED80u)  /* cache size id (selected by CSSELR) */
#define SCB_CSSELR  REG32(0xE000ED84u)
#define SCB_CPACR   REG32(0xE000ED88u)  /* coprocessor access control */
#define SCB_ICIALLU REG32(0xE000EF50u)  /* I-cache invalidate all to PoU */
#define SCB_DCISW   REG32(0xE000EF60u)  /* D-cache invalidate by set/way */

#define SCB_CCR_DC (1u << 16)           /* data cache enable (ARMv7-M ARM B3.2.8) */
#define SCB_CCR_IC (1u << 17)           /* instruction cache enable */
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

/* CCSIDR fields (ARMv7-M ARM B4.8.3) */
#define CCSIDR_WAYS(x) (((x) >> 3) & 0x3FFu)
#define CCSIDR_SETS(x) (((x) >> 13) & 0x7FFFu)

/* Debug: DEMCR (ARMv7-M ARM C1.6.5), DWT (C1.8) */
#define DEMCR        REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL     REG32(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT   REG32(0xE0001004u)
#define DWT_LAR      REG32(0xE0001FB0u)  /* lock access (CoreSight); Cortex-M7 TRM */
#define DWT_LAR_UNLOCK 0xC5ACCE55u

/* MPU (ARMv7-M ARM B3.5) */
#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR  REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)
#define MPU_CTRL_ENABLE     (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)   /* default memory map as background */
#define MPU_RASR_ENABLE     (1u << 0)
#define MPU_RASR_SIZE(log2) ((((uint32_t)(log2)) - 1u) << 1)  /* region = 2^log2 bytes */
#define MPU_RASR_XN         (1u << 28)
#define MPU_RASR_AP_NONE    (0u << 24)
#define MPU_RASR_AP_FULL    (3u << 24)
#define MPU_RASR_AP_RO      (6u << 24)
/* TEX/C/B/S encodings (ARMv7-M ARM table B3-13) */
#define MPU_RASR_STRONGLY_ORDERED (0u)
#define MPU_RASR_DEVICE_SHARED    (1u << 16)                          /* TEX=0 C=0 B=1 */
#define MPU_RASR_NORMAL_WT        (1u << 17)                          /* TEX=0 C=1 B=0 */
#define MPU_RASR_NORMAL_WBWA      ((1u << 19) | (1u << 17) | (1u << 16)) /* TEX=1 C=1 B=1 */

typedef struct {
    uint32_t base;
    uint32_t size_log2;   /* 5..32 */
    uint32_t attributes;  /* MPU_RASR_* without SIZE/ENABLE */
} cm7_mpu_region;

/* Code that runs from board_early_init(), before the copy tables fill RAM: it must stay in the
 * boot region even when .text goes to ITCM (the linker script keeps .text.board_early_init* there). */
#define CM7_EARLY_TEXT __attribute__((section(".text.board_early_init.helpers")))

__attribute__((always_inline)) static inline void cm7_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
__attribute__((always_inline)) static inline void cm7_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }

/* MPU: program the regions (background map stays on), then enable. */
void cm7_mpu_init(const cm7_mpu_region *regions, uint32_t count);
/* Invalidate then enable the I- and D-caches (after the MPU). */
void cm7_caches_enable(void);
/* DWT cycle counter: TRCENA, LAR unlock, reset, enable. */
void cm7_dwt_init(void);
/* CYCCNT extended to 64 bits (see board.h for the wrap limit). */
uint64_t cm7_dwt_cycles64(void);

#endif
