/*
 * imxrt/board.c - MIMXRT1050-EVKB and MIMXRT1170-EVK (Cortex-M7 core), booting
 * XIP from FlexSPI NOR. Watchdogs off, clocks, MPU + caches, DWT, LPUART1 on the
 * debug probe's virtual COM port at 24 MHz / (16 x 13) = 115384 Bd (0.16 %).
 *
 * RT1050: core at 600 MHz from the ARM PLL (24 MHz x 100 / 2 = 1200 MHz, ARM_PODF
 * /2) after raising VDD_SOC to 1.275 V; AHB /1, IPG /4. The core runs from the
 * 24 MHz oscillator while the PLL is reprogrammed (SDK clock_config order).
 * RT1170: 996 MHz from the ARM PLL (24 MHz x 166 / 2 / 2) in the overdrive point, the
 * NXP SDK BOARD_BootClockRUN order: VDD_SOC to 1.125 V (DCDC VDD1P0 target), forward body
 * bias for the CM7 unless fused off, M7 root onto OSC_RC_48M_DIV2, ARM PLL re-programmed
 * (gate, configure, wait stable, ungate: SDK CLOCK_InitArmPll), M7 root onto the ARM PLL.
 * The PLL LDO is the boot ROM's (it runs SYS_PLL2/3): if no ROM PLL is stable the core
 * stays where it is and board_clock_hz() says 0 ("unknown"). Cycle counts are exact
 * either way (DWT CYCCNT).
 *
 * The clocks are set up in board_early_init(), before .data/.bss, and then the SEMC SDRAM when
 * a section is placed there (MCUGEN_INIT_SDRAM, imxrt_semc.h): it is ready before the copy
 * tables fill it, and PLL2's PFD changes for the SEMC clock while the core runs from the ARM PLL
 * (or the oscillator), never from PLL2. Early code keeps no state in RAM: board_init() reads the
 * clock that is in effect back from the clock registers.
 */
#include <stdint.h>

#include "mcugen_board_config.h"  /* first: selects the part in imxrt_regs.h */

#include "board.h"
#include "cortex_m7.h"
#include "imxrt_regs.h"

#define READY_LOOPS 2000000u
#define ROM_CLOCK_GUESS_HZ 400000000u   /* for UART timeouts only, before/without our clock setup */

static uint32_t core_hz;  /* 0 = unknown (the boot ROM's clock) */
static uint32_t cycles_per_ms = ROM_CLOCK_GUESS_HZ / 1000u;

CM7_EARLY_TEXT __attribute__((unused)) static int wait_clear(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t i = 0; i < READY_LOOPS; i++) {
        if ((*reg & mask) == 0u) {
            return 1;
        }
    }
    return 0;
}

CM7_EARLY_TEXT __attribute__((unused)) static int wait_set(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t i = 0; i < READY_LOOPS; i++) {
        if ((*reg & mask) == mask) {
            return 1;
        }
    }
    return 0;
}

#if defined(MCUGEN_BOARD_MIMXRT1050_EVKB)
#define ARM_PLL_DIV_SELECT 100u   /* 24 MHz * 100 / 2 = 1200 MHz (SDK evkbimxrt1050 clock_config.c) */
#if (24000000ull * ARM_PLL_DIV_SELECT / 2u / (CCM_CACRR_ARM_PODF_DIV2 + 1u)) != MCUGEN_CLOCK_HZ
#error "RT1050 ARM PLL settings do not give clock_hz"
#endif

CM7_EARLY_TEXT static void clock_init(void)
{
    /* 1. core onto the oscillator: periph_clk2 = osc (CBCMR.PERIPH_CLK2_SEL = 1), /1 */
    CCM_CBCDR &= ~CCM_CBCDR_PERIPH_CLK2_PODF_MASK;
    CCM_CBCMR = (CCM_CBCMR & ~CCM_CBCMR_PERIPH_CLK2_SEL_MASK) | (CCM_PERIPH_CLK2_SEL_OSC << CCM_CBCMR_PERIPH_CLK2_SEL_SHIFT);
    CCM_CBCDR |= CCM_CBCDR_PERIPH_CLK_SEL;
    (void)wait_clear(&CCM_CDHIPR, CCM_CDHIPR_PERIPH_CLK_SEL_BUSY);

    /* 2. VDD_SOC for 600 MHz */
    DCDC_REG3 = (DCDC_REG3 & ~DCDC_REG3_TRG_MASK) | DCDC_TRG_1V275;
    if (!wait_set(&DCDC_REG0, DCDC_REG0_STS_DC_OK)) {
        return; /* stays on the oscillator: 24 MHz */
    }

    /* 3. ARM PLL to 1200 MHz */
    CCM_ANALOG_PLL_ARM = PLL_ARM_ENABLE | ARM_PLL_DIV_SELECT;
    if (!wait_set(&CCM_ANALOG_PLL_ARM, PLL_ARM_LOCK)) {
        return;
    }

    /* 4. dividers: ARM /2, AHB /1, IPG /4 */
    CCM_CACRR = CCM_CACRR_ARM_PODF_DIV2;
    (void)wait_clear(&CCM_CDHIPR, CCM_CDHIPR_ARM_PODF_BUSY);
    CCM_CBCDR = (CCM_CBCDR & ~(CCM_CBCDR_AHB_PODF_MASK | CCM_CBCDR_IPG_PODF_MASK)) |
                (0u << CCM_CBCDR_AHB_PODF_SHIFT) | (3u << CCM_CBCDR_IPG_PODF_SHIFT);
    (void)wait_clear(&CCM_CDHIPR, CCM_CDHIPR_AHB_PODF_BUSY);

    /* 5. pre_periph = ARM PLL / ARM_PODF, then core back onto it */
    CCM_CBCMR = (CCM_CBCMR & ~CCM_CBCMR_PRE_PERIPH_CLK_SEL_MASK) | (CCM_PRE_PERIPH_ARM_PLL << CCM_CBCMR_PRE_PERIPH_CLK_SEL_SHIFT);
    CCM_CBCDR &= ~CCM_CBCDR_PERIPH_CLK_SEL;
    (void)wait_clear(&CCM_CDHIPR, CCM_CDHIPR_PERIPH_CLK_SEL_BUSY);
}

/* The core clock clock_init() set up, read back: MCUGEN_CLOCK_HZ when the core runs from the ARM
 * PLL as programmed above, else 0 (unknown). */
static uint32_t clock_in_effect(void)
{
    int on_pll = !(CCM_CBCDR & CCM_CBCDR_PERIPH_CLK_SEL) &&
                 ((CCM_CBCMR & CCM_CBCMR_PRE_PERIPH_CLK_SEL_MASK) >> CCM_CBCMR_PRE_PERIPH_CLK_SEL_SHIFT) == CCM_PRE_PERIPH_ARM_PLL &&
                 (CCM_ANALOG_PLL_ARM & PLL_ARM_LOCK) && (CCM_ANALOG_PLL_ARM & PLL_ARM_DIV_SELECT_MASK) == ARM_PLL_DIV_SELECT &&
                 !(CCM_ANALOG_PLL_ARM & (PLL_ARM_POWERDOWN | PLL_ARM_BYPASS)) && CCM_CACRR == CCM_CACRR_ARM_PODF_DIV2;
    return on_pll ? MCUGEN_CLOCK_HZ : 0u;
}

static void uart_clock_init(void)
{
    CCM_CSCDR1 = (CCM_CSCDR1 & ~CCM_CSCDR1_UART_CLK_PODF_MASK) | CCM_CSCDR1_UART_CLK_SEL_OSC; /* 24 MHz /1 */
    CCM_CCGR5 |= CCM_CCGR5_LPUART1;
}
#else
#if (24000000ull * ARM_PLL_LOOP_DIV / 2u / 2u) != MCUGEN_CLOCK_HZ
#error "RT1170 ARM PLL settings do not give clock_hz"
#endif

CM7_EARLY_TEXT static void delay_loops(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++) {
    }
}

CM7_EARLY_TEXT static void root_set(uint32_t root, uint32_t mux, uint32_t div)
{
    CCM_ROOT_CONTROL(root) = (mux << CCM_ROOT_MUX_SHIFT) | ((div - 1u) << CCM_ROOT_DIV_SHIFT);
}

CM7_EARLY_TEXT static void clock_init(void)
{
    /* A ROM PLL running means the PLL LDO is on (see the header comment). */
    if (!(SYS_PLL2_CTRL & SYS_PLL2_STABLE) && !(SYS_PLL3_CTRL & SYS_PLL3_STABLE)) {
        return;
    }
    /* 1. VDD_SOC 1.125 V for the overdrive point, wait until the DCDC reports it */
    DCDC_REG3 &= ~DCDC_REG3_VDD1P0CTRL_DISABLE_STEP;
    DCDC_CTRL1 = (DCDC_CTRL1 & ~DCDC_CTRL1_VDD1P0CTRL_TRG_MASK) | (DCDC_TRG_1V125 << DCDC_CTRL1_VDD1P0CTRL_TRG_SHIFT);
    if (!wait_set(&DCDC_REG0, DCDC_REG0_STS_DC_OK)) {
        return;
    }
    /* 2. forward body bias for the CM7 unless the fuse forbids it (SDK PMU_EnableBodyBias) */
    if (!(OCOTP_FUSE7 & OCOTP_FUSE7_FBB_DISABLE)) {
        PMU_BIAS_CTRL = (PMU_BIAS_CTRL & ~PMU_BIAS_CTRL_WB_CFG_1P8_WELL_SELECT) | PMU_BIAS_CTRL_WB_CFG_1P8_VOLTAGE_THRESHOLD;
        PMU_BIAS_CTRL2 = (PMU_BIAS_CTRL2 & ~PMU_BIAS_CTRL2_WB_PWR_SW_EN_1P8_MASK) | PMU_BIAS_CTRL2_WB_PWR_SW_EN_1P8_ON |
                         PMU_BIAS_CTRL2_WB_EN;
        if (!wait_set(&PMU_BIAS_CTRL2, PMU_BIAS_CTRL2_WB_OK)) {
            return;
        }
    }
    /* 3. core onto OSC_RC_48M_DIV2 while the ARM PLL changes */
    root_set(CCM_ROOT_M7, CCM_M7_MUX_OSC_RC_48M_DIV2, 1u);
    /* 4. ARM PLL: power down + gate, configure, power up, >= 30 us, stable, ungate */
    uint32_t reg = ARM_PLL_CTRL & ~ARM_PLL_STABLE;
    reg &= ~(ARM_PLL_POWERUP | ARM_PLL_ENABLE_CLK);
    reg |= ARM_PLL_GATE;
    ARM_PLL_CTRL = reg;
    reg &= ~(ARM_PLL_DIV_SELECT_MASK | ARM_PLL_POST_DIV_MASK);
    reg |= ARM_PLL_LOOP_DIV | (ARM_PLL_POST_DIV2 << ARM_PLL_POST_DIV_SHIFT) | ARM_PLL_GATE | ARM_PLL_POWERUP;
    ARM_PLL_CTRL = reg;
    cm7_dsb();
    cm7_isb();
    delay_loops(2000u); /* >= 30 us at up to 48 MHz */
    if (!wait_set(&ARM_PLL_CTRL, ARM_PLL_STABLE)) {
        return; /* stays on OSC_RC_48M_DIV2 (24 MHz); reported as unknown */
    }
    reg |= ARM_PLL_ENABLE_CLK;
    reg &= ~ARM_PLL_GATE;
    ARM_PLL_CTRL = reg;
    /* 5. core onto the ARM PLL, /1 */
    root_set(CCM_ROOT_M7, CCM_M7_MUX_ARM_PLL, 1u);
}

/* The core clock clock_init() set up, read back: MCUGEN_CLOCK_HZ when the M7 root is the ARM PLL
 * / 1 and the PLL runs as programmed above, else 0 (unknown). */
static uint32_t clock_in_effect(void)
{
    uint32_t pll = ARM_PLL_CTRL;
    int on_pll = CCM_ROOT_CONTROL(CCM_ROOT_M7) == ((CCM_M7_MUX_ARM_PLL << CCM_ROOT_MUX_SHIFT) | (0u << CCM_ROOT_DIV_SHIFT)) &&
                 (pll & ARM_PLL_STABLE) && (pll & ARM_PLL_ENABLE_CLK) && !(pll & ARM_PLL_GATE) &&
                 (pll & ARM_PLL_DIV_SELECT_MASK) == ARM_PLL_LOOP_DIV &&
                 ((pll & ARM_PLL_POST_DIV_MASK) >> ARM_PLL_POST_DIV_SHIFT) == ARM_PLL_POST_DIV2;
    return on_pll ? MCUGEN_CLOCK_HZ : 0u;
}

/* LPUART1 root: OSC_RC_48M_DIV2 / 1 = 24 MHz (its reset value, set in case the ROM changed it). */
static void uart_clock_init(void)
{
    root_set(CCM_ROOT_LPUART1, CCM_LPUART1_MUX_OSC_RC_48M_DIV2, 1u);
}
#endif

#include "imxrt_semc.h"

/* Before .data/.bss: watchdogs off (WDOG1's power-down counter resets the chip 16 s after reset
 * unless cleared, IMXRT1050RM 53.5.3), clocks, then the SDRAM the copy tables may fill. */
void board_early_init(void)
{
    WDOG_WMCR(WDOG1_BASE) = 0;
#if defined(MCUGEN_BOARD_MIMXRT1050_EVKB)
    WDOG_WMCR(WDOG2_BASE) = 0;
    if (WDOG_WCR(WDOG1_BASE) & WDOG_WCR_WDE) {
        WDOG_WCR(WDOG1_BASE) &= (uint16_t)~WDOG_WCR_WDE;
    }
    if (WDOG_WCR(WDOG2_BASE) & WDOG_WCR_WDE) {
        WDOG_WCR(WDOG2_BASE) &= (uint16_t)~WDOG_WCR_WDE;
    }
    if (RTWDOG_CS & RTWDOG_CS_EN) {
        RTWDOG_CNT = RTWDOG_UNLOCK_KEY;
        RTWDOG_TOVAL = 0xFFFFu;
        RTWDOG_CS = (RTWDOG_CS & ~RTWDOG_CS_EN) | RTWDOG_CS_UPDATE | RTWDOG_CS_CMD32EN;
    }
#endif
    clock_init();
#if MCUGEN_INIT_SDRAM
    (void)imxrt_sdram_init();
#endif
}

/* MPU: the SEMC window (0x80000000, 512 MiB) is Normal memory in the default map: no access, so
 * that nothing speculates into it; the SDRAM itself Normal write-back when it is set up (if its
 * set-up failed it stays no-access, and the first use faults at once instead of reading garbage). */
static const cm7_mpu_region mpu_regions[] = {
    {0x80000000u, 29u, MPU_RASR_AP_NONE | MPU_RASR_XN | MPU_RASR_STRONGLY_ORDERED},
#if MCUGEN_INIT_SDRAM
    {MCUGEN_SDRAM_BASE, MCUGEN_SDRAM_SIZE_LOG2, MPU_RASR_AP_FULL | MPU_RASR_XN | MPU_RASR_NORMAL_WBWA},
#endif
};

static void uart_init(void)
{
    uart_clock_init();
    IOMUXC_MUX_UART_TX = IOMUXC_UART_TX_ALT;
    IOMUXC_MUX_UART_RX = IOMUXC_UART_RX_ALT;
#if defined(MCUGEN_BOARD_MIMXRT1170_EVK)
    IOMUXC_SEL_UART_TX = IOMUXC_UART_TX_DAISY;
    IOMUXC_SEL_UART_RX = IOMUXC_UART_RX_DAISY;
#endif
    IOMUXC_PAD_UART_TX = IOMUXC_UART_PAD;
    IOMUXC_PAD_UART_RX = IOMUXC_UART_PAD;
    LPUART_GLOBAL(MCUGEN_UART_BASE) = LPUART_GLOBAL_RST;
    LPUART_GLOBAL(MCUGEN_UART_BASE) = 0;
    uint32_t sbr = (LPUART_CLOCK_HZ + (LPUART_OSR * MCUGEN_UART_BAUD) / 2u) / (LPUART_OSR * MCUGEN_UART_BAUD);
    LPUART_BAUD(MCUGEN_UART_BASE) = ((LPUART_OSR - 1u) << LPUART_BAUD_OSR_SHIFT) | (sbr & LPUART_BAUD_SBR_MASK);
    LPUART_CTRL(MCUGEN_UART_BASE) = LPUART_CTRL_TE | LPUART_CTRL_RE;
}

void board_init(void)
{
    core_hz = clock_in_effect();
    if (core_hz) {
        cycles_per_ms = core_hz / 1000u;
    }
    uint32_t regions = sizeof mpu_regions / sizeof mpu_regions[0];
#if MCUGEN_INIT_SDRAM
    if (!imxrt_sdram_ready()) {
        regions -= 1u;
    }
#endif
    cm7_mpu_init(mpu_regions, regions);
    cm7_caches_enable();
    cm7_dwt_init();
    uart_init();
}

void board_uart_write(const uint8_t *buf, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        while (!(LPUART_STAT(MCUGEN_UART_BASE) & LPUART_STAT_TDRE)) {
        }
        LPUART_DATA(MCUGEN_UART_BASE) = buf[i];
    }
}

uint32_t board_uart_read(uint8_t *buf, uint32_t len, uint32_t timeout_ms)
{
    uint32_t n = 0;
    while (n < len) {
        uint64_t deadline = cm7_dwt_cycles64() + (uint64_t)timeout_ms * cycles_per_ms;
        for (;;) {
            uint32_t stat = LPUART_STAT(MCUGEN_UART_BASE);
            if (stat & LPUART_STAT_ERRORS) {
                LPUART_STAT(MCUGEN_UART_BASE) = stat & LPUART_STAT_ERRORS;
            }
            if (stat & LPUART_STAT_RDRF) {
                break;
            }
            if (cm7_dwt_cycles64() >= deadline) {
                return n;
            }
        }
        buf[n++] = (uint8_t)LPUART_DATA(MCUGEN_UART_BASE);
    }
    return n;
}

uint64_t board_counter_read(void) { return cm7_dwt_cycles64(); }

uint32_t board_clock_hz(void) { return core_hz; }

uint8_t board_timing_unit(void) { return BOARD_TIMING_CYCLES; }
