/*
 * stm32h7/board.c - NUCLEO-H743ZI2 and STM32H747I-DISCO (Cortex-M7 core).
 * Board facts (clock, HSE, supply, VOS, UART and pins) come from
 * mcugen_board_config.h, rendered from boards.yaml.
 *
 * Clock bring-up (RM0433 8.5 / RM0399 9.5, order matters):
 *   1. supply: LDO (Nucleo) or direct SMPS (H747-DISCO: selecting the LDO
 *      there locks the chip), wait ACTVOSRDY;
 *   2. voltage scale VOS1 (+ overdrive ODEN for VOS0), wait VOSRDY;
 *   3. HSE (bypass on the Nucleo: 8 MHz from the ST-LINK MCO);
 *   4. PLL1 from HSE: ref 2 or 5 MHz, VCO = 2 x clock, P = 2;
 *   5. bus prescalers (AXI/AHB /2, APBx /2) and flash wait states BEFORE
 *      raising the clock; 6. switch sys_ck to PLL1.
 * Every wait is bounded: if the HSE or a PLL never becomes ready the core
 * stays on HSI (64 MHz) and board_clock_hz() says so.
 *
 * NUCLEO-H743ZI2: 480 MHz (VOS0) on silicon revision V; revision Y is rated 400 MHz at
 * VOS1, so the revision is read from DBGMCU_IDC.REV_ID at run time (ST HAL REV_ID_Y/V) and
 * PLL1 N is halved to 200 for 400 MHz. Rev Y also gets ST SystemInit's AXI SRAM erratum
 * fix (read issuing capability 1, AXI_TARG7_FN_MOD).
 * STM32H747I-DISCO: 400 MHz (VOS1): VOS0 needs the LDO and the board is wired for direct
 * SMPS (boards.yaml). Its Cortex-M4 is parked by the image in flash bank 2 (below).
 * Power and clocks are set up in board_early_init(), before .data/.bss (as CMSIS SystemInit
 * would), then the external memory when a section is placed there (MCUGEN_INIT_SDRAM / _QSPI):
 * FMC SDRAM bank 2 and dual-flash QUADSPI memory-mapped, with the ST BSP's settings. Like the
 * BSP (BSP_SDRAM_Init after SystemClock_Config) the SDRAM is set up at its final clock: FMC
 * and QUADSPI run from HCLK3, 200 MHz after clock_init() (SDCLK 100 MHz); the refresh count is
 * the one for the HCLK3 in effect, so a board left on HSI (no HSE) refreshes often enough too.
 * Early code keeps no state in RAM: board_init() reads the clocks back from RCC.
 */
#include <stdint.h>

#include "board.h"
#include "cortex_m7.h"
#include "mcugen_board_config.h"
#include "stm32h7_regs.h"

#define HSI_HZ 64000000u              /* RM0433 8.5.2: HSI default after reset */
#define READY_LOOPS 2000000u          /* bound on every ready-flag wait */
#define FLASH_WAIT_STATES 4u          /* enough for AXI <= 240 MHz at VOS0/VOS1 (RM0433 table 17) */
#define FLASH_WRHIGHFREQ 2u           /* programming delay for 185..225+ MHz AXI */

/* PLL1 reference: 2 MHz when the HSE allows, else 5 MHz (both inside a
 * PLL input range; RGE 1 = 2-4 MHz, 2 = 4-8 MHz). */
#if (MCUGEN_HSE_HZ % 2000000u) == 0u
#define PLL_REF_HZ 2000000u
#define PLL_RGE 1u
#elif (MCUGEN_HSE_HZ % 5000000u) == 0u
#define PLL_REF_HZ 5000000u
#define PLL_RGE 2u
#else
#error "HSE frequency must be a multiple of 2 or 5 MHz"
#endif
#define PLL_M (MCUGEN_HSE_HZ / PLL_REF_HZ)
#define PLL_P 2u
#define PLL_N ((MCUGEN_CLOCK_HZ / PLL_REF_HZ) * PLL_P)
#define REV_Y_CLOCK_HZ 400000000u      /* DS12110: rev Y is rated 400 MHz (VOS1) */
#define PLL_N_REV_Y ((REV_Y_CLOCK_HZ / PLL_REF_HZ) * PLL_P)
#define PLL_VCO_HZ (PLL_REF_HZ * PLL_N)
#if PLL_N < 4u || PLL_N > 512u || PLL_VCO_HZ > 960000000u || (PLL_REF_HZ * PLL_N / PLL_P) != MCUGEN_CLOCK_HZ
#error "clock_hz cannot be reached by PLL1 with P = 2 from this HSE"
#endif
#define PLL_Q 4u
#define PLL_R 2u

/* USART2/3 kernel clock = PCLK1, USART1/6 = PCLK2 (reset default kernel clock
 * selection, RM0433 8.7.21); both are sys_ck / HPRE / D2PPREx. */
#if !defined(MCUGEN_UART_USART3) && !defined(MCUGEN_UART_USART1)
#error "board UART must be USART3 or USART1"
#endif

static uint32_t core_hz = HSI_HZ;
static uint32_t uart_kernel_hz = HSI_HZ;
static uint32_t cycles_per_ms = HSI_HZ / 1000u;

/* 480 MHz (VOS0) only on revision V and later; revision Y stays at 400 MHz (VOS1). */
CM7_EARLY_TEXT static int rev_y(void)
{
    return (DBGMCU_IDC >> DBGMCU_IDC_REV_ID_SHIFT) <= REV_ID_Y;
}

/* The clock clock_init() aims at: clock_hz, or 400 MHz on a revision-Y part where clock_hz
 * needs VOS0. */
CM7_EARLY_TEXT static uint32_t target_hz(void)
{
#if MCUGEN_VOS == 0
    return rev_y() ? REV_Y_CLOCK_HZ : MCUGEN_CLOCK_HZ;
#else
    return MCUGEN_CLOCK_HZ;
#endif
}

CM7_EARLY_TEXT static int wait_set(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t i = 0; i < READY_LOOPS; i++) {
        if ((*reg & mask) == mask) {
            return 1;
        }
    }
    return 0;
}

#if defined(MCUGEN_BOARD_STM32H747I_DISCO)
/* The Cortex-M4's boot image (flash bank 2, see boards.yaml extra.cm4_park_region): initial SP
 * (the top of SRAM4, used only if it ever took an exception) and a reset handler that masks
 * interrupts and sleeps for good. Thumb code that runs on the M4 as on the M7. */
__attribute__((naked, noreturn, section(".cm4_park.text"))) void mcugen_cm4_park(void)
{
    __asm volatile("cpsid i\n1: wfi\n b 1b\n");
}
__attribute__((used, section(".cm4_park.vectors"))) const uint32_t mcugen_cm4_vectors[2] = {
    0x38010000u, (uint32_t)&mcugen_cm4_park,
};
#endif

CM7_EARLY_TEXT static void power_init(void)
{
#if MCUGEN_SUPPLY_SMPS
    PWR_CR3 = (PWR_CR3 & ~(PWR_CR3_SMPSLEVEL_MASK | PWR_CR3_SMPSEXTHP | PWR_CR3_SDEN | PWR_CR3_LDOEN |
                           PWR_CR3_BYPASS)) | PWR_CR3_SDEN;
#else
    PWR_CR3 = (PWR_CR3 & ~(PWR_CR3_SCUEN | PWR_CR3_LDOEN | PWR_CR3_BYPASS)) | PWR_CR3_LDOEN;
#endif
    (void)wait_set(&PWR_CSR1, PWR_CSR1_ACTVOSRDY);

    PWR_D3CR = (PWR_D3CR & ~PWR_D3CR_VOS_MASK) | (PWR_VOS1 << PWR_D3CR_VOS_SHIFT);
    (void)wait_set(&PWR_D3CR, PWR_D3CR_VOSRDY);
#if MCUGEN_VOS == 0 && !MCUGEN_SUPPLY_SMPS
    /* VOS0 = VOS1 + overdrive, LDO supply only (ST HAL HAL_PWREx_ControlVoltageScaling) */
    if (rev_y()) {
        return;
    }
    RCC_APB4ENR |= RCC_APB4ENR_SYSCFGEN;
    (void)RCC_APB4ENR;
    SYSCFG_PWRCR |= SYSCFG_PWRCR_ODEN;
    (void)wait_set(&PWR_CSR1, PWR_CSR1_ACTVOSRDY);
    (void)wait_set(&PWR_D3CR, PWR_D3CR_VOSRDY);
#elif MCUGEN_VOS == 0
#error "VOS0 (480 MHz) needs the LDO supply; this board is wired for SMPS"
#endif
}

CM7_EARLY_TEXT static void clock_init(void)
{
    RCC_CR |= RCC_CR_HSEON | (MCUGEN_HSE_BYPASS ? RCC_CR_HSEBYP : 0u);
    if (!wait_set(&RCC_CR, RCC_CR_HSERDY)) {
        return; /* no HSE: stay on HSI */
    }
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(RCC_PLLCKSELR_DIVM1_MASK | RCC_PLLCKSELR_PLLSRC_MASK)) |
                    RCC_PLLCKSELR_PLLSRC_HSE | (PLL_M << RCC_PLLCKSELR_DIVM1_SHIFT);
    RCC_PLLCFGR = (RCC_PLLCFGR & ~(RCC_PLLCFGR_PLL1FRACEN | RCC_PLLCFGR_PLL1VCOSEL | RCC_PLLCFGR_PLL1RGE_MASK)) |
                  (PLL_RGE << RCC_PLLCFGR_PLL1RGE_SHIFT) | RCC_PLLCFGR_DIVP1EN | RCC_PLLCFGR_DIVQ1EN |
                  RCC_PLLCFGR_DIVR1EN;
    uint32_t n = target_hz() == MCUGEN_CLOCK_HZ ? PLL_N : PLL_N_REV_Y;
    RCC_PLL1DIVR = ((n - 1u) << RCC_PLL1DIVR_N1_SHIFT) | ((PLL_P - 1u) << RCC_PLL1DIVR_P1_SHIFT) |
                   ((PLL_Q - 1u) << RCC_PLL1DIVR_Q1_SHIFT) | ((PLL_R - 1u) << RCC_PLL1DIVR_R1_SHIFT);
    RCC_CR |= RCC_CR_PLL1ON;
    if (!wait_set(&RCC_CR, RCC_CR_PLL1RDY)) {
        return;
    }
    /* Prescalers and flash wait states before the switch. */
    RCC_D1CFGR = RCC_D1CFGR_D1CPRE_DIV1 | RCC_D1CFGR_HPRE_DIV2 | RCC_D1CFGR_D1PPRE_DIV2;
    RCC_D2CFGR = RCC_D2CFGR_D2PPRE1_DIV2 | RCC_D2CFGR_D2PPRE2_DIV2;
    RCC_D3CFGR = RCC_D3CFGR_D3PPRE_DIV2;
    FLASH_ACR = (FLASH_ACR & ~(FLASH_ACR_LATENCY_MASK | FLASH_ACR_WRHIGHFREQ_MASK)) | FLASH_WAIT_STATES |
                (FLASH_WRHIGHFREQ << FLASH_ACR_WRHIGHFREQ_SHIFT);
    if ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != FLASH_WAIT_STATES) {
        return; /* never raise the clock without the wait states */
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL1;
    for (uint32_t i = 0; i < READY_LOOPS && ((RCC_CFGR >> RCC_CFGR_SWS_SHIFT) & RCC_CFGR_SW_MASK) != RCC_CFGR_SW_PLL1;
         i++) {
    }
}

/* sys_ck as clock_init() left it, read back from RCC: PLL1 (the target) or HSI. */
CM7_EARLY_TEXT static uint32_t sysclk_hz(void)
{
    return ((RCC_CFGR >> RCC_CFGR_SWS_SHIFT) & RCC_CFGR_SW_MASK) == RCC_CFGR_SW_PLL1 ? target_hz() : HSI_HZ;
}

/* HCLK (AXI/AHB, and HCLK3 for the FMC and QUADSPI): sys_ck / HPRE (D1CPRE is /1). */
CM7_EARLY_TEXT static uint32_t hclk_hz(void)
{
    return sysclk_hz() / ((RCC_D1CFGR & RCC_D1CFGR_HPRE_MASK) == RCC_D1CFGR_HPRE_DIV2 ? 2u : 1u);
}

#include "stm32h7_extmem.h"

/* Runs before .data/.bss are set up: the D2 SRAMs, power and clocks, then the external memory
 * the copy tables may fill, at its final clock. */
void board_early_init(void)
{
    RCC_AHB2ENR |= RCC_AHB2ENR_SRAM123;
    (void)RCC_AHB2ENR;
    if (rev_y()) {
        AXI_TARG7_FN_MOD = AXI_TARG7_FN_MOD_READ_ISS_OVERRIDE; /* ST SystemInit, rev Y */
    }
    power_init();
    clock_init();
#if MCUGEN_INIT_SDRAM
    stm32h7_sdram_init(hclk_hz());
#endif
#if MCUGEN_INIT_QSPI
    stm32h7_qspi_init();
#endif
}

static void uart_init(void)
{
    RCC_AHB4ENR |= (1u << MCUGEN_UART_TX_PORT) | (1u << MCUGEN_UART_RX_PORT); /* GPIOxEN = bit x */
#if defined(MCUGEN_UART_USART3)
    RCC_APB1LENR |= RCC_APB1LENR_USART3EN;
    (void)RCC_APB1LENR;
#else
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR;
#endif
    const uint32_t ports[2] = {MCUGEN_UART_TX_PORT, MCUGEN_UART_RX_PORT};
    const uint32_t pins[2] = {MCUGEN_UART_TX_PIN, MCUGEN_UART_RX_PIN};
    for (uint32_t i = 0; i < 2u; i++) {
        uint32_t port = ports[i], pin = pins[i];
        GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (GPIO_MODE_AF << (2u * pin));
        GPIO_OSPEEDR(port) |= 2u << (2u * pin);                                       /* high speed */
        GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (2u * pin))) | (1u << (2u * pin)); /* pull-up */
        uint32_t shift = 4u * (pin & 7u);
        GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << shift)) | ((uint32_t)MCUGEN_UART_AF << shift);
    }
    uint32_t kernel_hz = uart_kernel_hz;
    USART_CR1(MCUGEN_UART_BASE) = 0;
    USART_BRR(MCUGEN_UART_BASE) = (kernel_hz + MCUGEN_UART_BAUD / 2u) / MCUGEN_UART_BAUD;
    USART_CR1(MCUGEN_UART_BASE) = USART_CR1_UE | USART_CR1_RE | USART_CR1_TE;
}

/* MPU: the FMC NOR/PSRAM window 0x60000000-0x7FFFFFFF is Normal memory in the
 * default map; with the caches on, speculative reads there stall the bus when
 * no FMC device is set up (ST AN4861 / AN4838). Make it no-access. */
static const cm7_mpu_region mpu_regions[] = {
    {0x60000000u, 29u, MPU_RASR_AP_NONE | MPU_RASR_XN | MPU_RASR_STRONGLY_ORDERED},
#if MCUGEN_INIT_SDRAM
    {SDRAM_BANK2_WINDOW, 25u, MPU_RASR_AP_FULL | MPU_RASR_XN | MPU_RASR_NORMAL_WBWA}, /* 32 MiB */
#endif
#if MCUGEN_INIT_QSPI
    {QSPI_WINDOW, 27u, MPU_RASR_AP_RO | MPU_RASR_NORMAL_WT}, /* 128 MiB, read-only */
#endif
};

void board_init(void)
{
    core_hz = sysclk_hz();
    /* USART3 on APB1 (D2PPRE1), USART1 on APB2 (D2PPRE2): /2 each when clock_init() set them */
#if defined(MCUGEN_UART_USART3)
    uint32_t apb_div2 = (RCC_D2CFGR & RCC_D2CFGR_D2PPRE1_MASK) == RCC_D2CFGR_D2PPRE1_DIV2;
#else
    uint32_t apb_div2 = (RCC_D2CFGR & RCC_D2CFGR_D2PPRE2_MASK) == RCC_D2CFGR_D2PPRE2_DIV2;
#endif
    uart_kernel_hz = hclk_hz() / (apb_div2 ? 2u : 1u);
    cycles_per_ms = core_hz / 1000u;
    cm7_mpu_init(mpu_regions, sizeof mpu_regions / sizeof mpu_regions[0]);
    cm7_caches_enable();
    cm7_dwt_init();
    uart_init();
}

void board_uart_write(const uint8_t *buf, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        while (!(USART_ISR(MCUGEN_UART_BASE) & USART_ISR_TXE)) {
        }
        USART_TDR(MCUGEN_UART_BASE) = buf[i];
    }
}

uint32_t board_uart_read(uint8_t *buf, uint32_t len, uint32_t timeout_ms)
{
    uint32_t n = 0;
    while (n < len) {
        uint64_t deadline = cm7_dwt_cycles64() + (uint64_t)timeout_ms * cycles_per_ms;
        for (;;) {
            uint32_t isr = USART_ISR(MCUGEN_UART_BASE);
            if (isr & USART_ICR_ERRORS) {
                USART_ICR(MCUGEN_UART_BASE) = USART_ICR_ERRORS; /* overrun etc.: the CRC catches lost bytes */
            }
            if (isr & USART_ISR_RXNE) {
                break;
            }
            if (cm7_dwt_cycles64() >= deadline) {
                return n;
            }
        }
        buf[n++] = (uint8_t)USART_RDR(MCUGEN_UART_BASE);
    }
    return n;
}

uint64_t board_counter_read(void) { return cm7_dwt_cycles64(); }

uint32_t board_clock_hz(void) { return core_hz; }

uint8_t board_timing_unit(void) { return BOARD_TIMING_CYCLES; }
