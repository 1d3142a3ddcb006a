/*
 * stm32h7_extmem.h - STM32H747I-DISCO external memory: the IS42S32800J SDRAM on FMC bank 2
 * and the two MT25QL512 on QUADSPI (dual-flash, memory-mapped). Included by board.c only;
 * compiled in when a section is placed there (MCUGEN_INIT_SDRAM / MCUGEN_INIT_QSPI).
 * The values are the ST BSP's (stm32h747i_discovery_sdram.c / _qspi.c, is42s32800j.c,
 * mt25tl01g.c) except tRAS and tWR (below), each tagged `fact:` -> tests/fixtures/board_facts/
 * stm32h7.yaml with its source; register fields come from stm32h7_regs.h (checked against the
 * SVD facts). tests/test_sdram_timing.py checks the cycles against the part's ns at 100 MHz and
 * the refresh count against the part's refresh period at every HCLK3 the firmware can run at.
 * Everything here runs from board_early_init(), after the clocks (CM7_EARLY_TEXT: no tables in
 * .rodata, which may not be copied to ITCM yet).
 */
#ifndef MCUGEN_STM32H7_EXTMEM_H
#define MCUGEN_STM32H7_EXTMEM_H

#include "stm32h7_regs.h"

/* SDRAM: 9 column bits, 12 row bits, 32-bit, 4 banks, CAS 3, SDCLK = HCLK3 / 2, read burst */
#define SDRAM_NC 1u              /* fact: sdram_nc_9bits */
#define SDRAM_NR 1u              /* fact: sdram_nr_12bits */
#define SDRAM_MWID 2u            /* fact: sdram_mwid_32 */
#define SDRAM_NB 1u              /* fact: sdram_nb_4banks */
#define SDRAM_CAS 3u             /* fact: sdram_cas */
#define SDRAM_SDCLK 2u           /* fact: sdram_sdclk_hclk_div2 */
/* timings in SDCLK cycles at 100 MHz; the registers hold cycles - 1. The BSP's, except tRAS:
 * the BSP has 4 (40 ns) where the IS42S32800J-6 needs 42 ns, so 5; and tWR, which RM0399 (FMC_SDTR
 * TWR) wants >= TRAS - TRCD and >= TRC - TRCD - TRP, i.e. 3 (the BSP's 2 breaks the second rule) */
#define SDRAM_TMRD 2u            /* fact: sdram_tmrd */
#define SDRAM_TXSR 7u            /* fact: sdram_txsr */
#define SDRAM_TRAS 5u            /* fact: sdram_tras */
#define SDRAM_TRC 7u             /* fact: sdram_trc */
#define SDRAM_TWR 3u             /* fact: sdram_twr */
#define SDRAM_TRP 2u             /* fact: sdram_trp */
#define SDRAM_TRCD 2u            /* fact: sdram_trcd */
/* refresh: the BSP's count for 100 MHz, scaled to the SDCLK in effect (same interval in time) */
#define SDRAM_REFRESH_COUNT 0x603u /* fact: sdram_refresh_count */
#define SDRAM_BSP_SDCLK_KHZ 100000u /* fact: sdram_bsp_sdclk_khz */
#define FMC_REFRESH_MARGIN 20u   /* fact: fmc_refresh_margin */
#define SDRAM_AUTOREFRESH_N 8u   /* fact: sdram_autorefresh_number */
#define SDRAM_POWERUP_US 100u    /* fact: sdram_powerup_us */
#define SDRAM_MODE_REG 0x230u    /* fact: sdram_mode_register */
#define SDRAM_FMC_AF 12u         /* fact: sdram_fmc_af */

/* QUADSPI: dual flash, 2^(26+1) = 128 MiB, clock HCLK3 / 2, sample shift half a cycle,
 * CS high 4 cycles, memory-mapped FAST READ 4-byte (0x0C) on one line, 8 dummy cycles */
#define QSPI_PRESCALER 1u        /* fact: qspi_prescaler */
#define QSPI_FSIZE 26u           /* fact: qspi_fsize */
#define QSPI_CSHT 3u             /* fact: qspi_csht_4_cycles */
#define QSPI_READ_CMD 0x0Cu      /* fact: qspi_read_cmd */
#define QSPI_DUMMY 8u            /* fact: qspi_dummy_cycles */

#define EXTMEM_WAIT_LOOPS 100000u /* derived: a bound on every busy wait (> 1 ms at 64 MHz) */

/* FMC_SDRTR COUNT for an SDCLK in kHz: the BSP's refresh interval, (COUNT + 20) SDCLK cycles
 * (RM0399 FMC_SDRTR: COUNT = refresh period / rows - 20), at that clock. 32-bit arithmetic only
 * (no libgcc division here). */
CM7_EARLY_TEXT __attribute__((unused)) static uint32_t sdram_refresh_count(uint32_t sdclk_khz)
{
    return (SDRAM_REFRESH_COUNT + FMC_REFRESH_MARGIN) * sdclk_khz / SDRAM_BSP_SDCLK_KHZ - FMC_REFRESH_MARGIN;
}

CM7_EARLY_TEXT __attribute__((unused)) static void extmem_delay(uint32_t loops)
{
    for (volatile uint32_t i = 0; i < loops; i++) {
    }
}

/* One pin to its alternate function, very high speed, optional pull-up. */
CM7_EARLY_TEXT __attribute__((unused)) static void extmem_pin(uint32_t port, uint32_t pin, uint32_t af, uint32_t pull_up)
{
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (GPIO_MODE_AF << (2u * pin));
    GPIO_OSPEEDR(port) |= GPIO_SPEED_VERY_HIGH << (2u * pin);
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (2u * pin))) | ((pull_up ? GPIO_PULL_UP : 0u) << (2u * pin));
    uint32_t shift = 4u * (pin & 7u);
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << shift)) | (af << shift);
}

/* The pins of one port (a mask) to the FMC, pull-up. */
CM7_EARLY_TEXT __attribute__((unused)) static void extmem_port(uint32_t port, uint32_t pins, uint32_t af)
{
    for (uint32_t pin = 0; pin < 16u; pin++) {
        if (pins & (1u << pin)) {
            extmem_pin(port, pin, af, 1u);
        }
    }
}

#if MCUGEN_INIT_SDRAM
#if MCUGEN_CLOCK_HZ / 4u > SDRAM_BSP_SDCLK_KHZ * 1000u
#error "SDCLK (HCLK3 / 2) would exceed the 100 MHz the SDRAM timings are for"
#endif

CM7_EARLY_TEXT static void sdram_command(uint32_t mode, uint32_t nrfs, uint32_t mrd)
{
    FMC_SDCMR = (mode << FMC_SDCMR_MODE_SHIFT) | FMC_SDCMR_CTB2 | ((nrfs - 1u) << FMC_SDCMR_NRFS_SHIFT) |
                (mrd << FMC_SDCMR_MRD_SHIFT);
    /* The H7 FMC has no SDSR.BUSY flag (RM0433; ST's CMSIS header defines none): give each
     * command time instead. */
    extmem_delay(1000u);
}

/* The SDRAM on FMC bank 2, with the FMC's kernel clock HCLK3 at hclk3_hz. */
CM7_EARLY_TEXT static void stm32h7_sdram_init(uint32_t hclk3_hz)
{
    RCC_AHB4ENR |= 0x1F8u; /* GPIOD..GPIOI clocks (GPIOxEN = bit x) */
    RCC_D1CCIPR = (RCC_D1CCIPR & ~RCC_D1CCIPR_FMCSEL_MASK) | RCC_KERNEL_SEL_HCLK3; /* the reset value, made sure */
    RCC_AHB3ENR |= RCC_AHB3ENR_FMCEN;
    (void)RCC_AHB3ENR;
    /* FMC pins of the DISCO's SDRAM, per port: ST BSP SDRAM MspInit */
    extmem_port(3u, 0xC703u, SDRAM_FMC_AF); /* D: 0 1 8 9 10 14 15 */
    extmem_port(4u, 0xFF83u, SDRAM_FMC_AF); /* E: 0 1 7-15 */
    extmem_port(5u, 0xF83Fu, SDRAM_FMC_AF); /* F: 0-5 11-15 */
    extmem_port(6u, 0x8137u, SDRAM_FMC_AF); /* G: 0 1 2 4 5 8 15 */
    extmem_port(7u, 0xFFE0u, SDRAM_FMC_AF); /* H: 5-15 */
    extmem_port(8u, 0x06FFu, SDRAM_FMC_AF); /* I: 0-7 9 10 */
    /* SDCLK, RBURST, RPIPE and TRC/TRP live in the bank-1 registers for both banks. */
    FMC_SDCR1 = (SDRAM_SDCLK << FMC_SDCR_SDCLK_SHIFT) | FMC_SDCR_RBURST | (0u << FMC_SDCR_RPIPE_SHIFT);
    FMC_SDCR2 = (SDRAM_NC << FMC_SDCR_NC_SHIFT) | (SDRAM_NR << FMC_SDCR_NR_SHIFT) | (SDRAM_MWID << FMC_SDCR_MWID_SHIFT) |
                (SDRAM_NB << FMC_SDCR_NB_SHIFT) | (SDRAM_CAS << FMC_SDCR_CAS_SHIFT);
    FMC_SDTR1 = ((SDRAM_TRC - 1u) << FMC_SDTR_TRC_SHIFT) | ((SDRAM_TRP - 1u) << FMC_SDTR_TRP_SHIFT);
    FMC_SDTR2 = ((SDRAM_TMRD - 1u) << FMC_SDTR_TMRD_SHIFT) | ((SDRAM_TXSR - 1u) << FMC_SDTR_TXSR_SHIFT) |
                ((SDRAM_TRAS - 1u) << FMC_SDTR_TRAS_SHIFT) | ((SDRAM_TWR - 1u) << FMC_SDTR_TWR_SHIFT) |
                ((SDRAM_TRCD - 1u) << FMC_SDTR_TRCD_SHIFT);
    FMC_BCR1 |= FMC_BCR1_FMCEN;
    /* JEDEC power-up (is42s32800j.c): clock enable, >= 100 us, precharge all, 8 auto-refresh,
     * load mode register, refresh rate. */
    sdram_command(FMC_CMD_CLK_ENABLE, 1u, 0u);
    /* >= 1 core cycle per loop and the core at most 2 x HCLK3: 2 x HCLK3-MHz loops per us */
    extmem_delay(2u * (hclk3_hz / 1000000u) * SDRAM_POWERUP_US);
    sdram_command(FMC_CMD_PALL, 1u, 0u);
    sdram_command(FMC_CMD_AUTOREFRESH, SDRAM_AUTOREFRESH_N, 0u);
    sdram_command(FMC_CMD_LOAD_MODE, 1u, SDRAM_MODE_REG);
    FMC_SDRTR = sdram_refresh_count(hclk3_hz / SDRAM_SDCLK / 1000u) << FMC_SDRTR_COUNT_SHIFT;
}
#endif

#if MCUGEN_INIT_QSPI
CM7_EARLY_TEXT static void stm32h7_qspi_init(void)
{
    RCC_AHB4ENR |= (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7); /* GPIOB, D, F, G, H */
    RCC_D1CCIPR = (RCC_D1CCIPR & ~RCC_D1CCIPR_QSPISEL_MASK) | (RCC_KERNEL_SEL_HCLK3 << RCC_D1CCIPR_QSPISEL_SHIFT);
    RCC_AHB3ENR |= RCC_AHB3ENR_QSPIEN;
    (void)RCC_AHB3ENR;
    /* ST BSP QSPI MspInit: CLK PB2 AF9; BK1: NCS PG6 AF10 (pull-up), IO0 PD11 AF9, IO1 PF9 AF10,
     * IO2 PF7 AF9, IO3 PF6 AF9; BK2: IO0 PH2 AF9, IO1 PH3 AF9, IO2 PG9 AF9, IO3 PG14 AF9. */
    extmem_pin(1u, 2u, 9u, 0u);
    extmem_pin(6u, 6u, 10u, 1u);
    extmem_pin(3u, 11u, 9u, 0u);
    extmem_pin(5u, 9u, 10u, 0u);
    extmem_pin(5u, 7u, 9u, 0u);
    extmem_pin(5u, 6u, 9u, 0u);
    extmem_pin(7u, 2u, 9u, 0u);
    extmem_pin(7u, 3u, 9u, 0u);
    extmem_pin(6u, 9u, 9u, 0u);
    extmem_pin(6u, 14u, 9u, 0u);
    QUADSPI_CR = 0;
    for (uint32_t i = 0; i < EXTMEM_WAIT_LOOPS && (QUADSPI_SR & QUADSPI_SR_BUSY); i++) {
    }
    QUADSPI_DCR = (QSPI_FSIZE << QUADSPI_DCR_FSIZE_SHIFT) | (QSPI_CSHT << QUADSPI_DCR_CSHT_SHIFT);
    QUADSPI_CR = (QSPI_PRESCALER << QUADSPI_CR_PRESCALER_SHIFT) | QUADSPI_CR_DFM | QUADSPI_CR_SSHIFT |
                 (0u << QUADSPI_CR_FTHRES_SHIFT) | QUADSPI_CR_EN;
    QUADSPI_CCR = (QUADSPI_FMODE_MEMORY_MAPPED << QUADSPI_CCR_FMODE_SHIFT) | (QUADSPI_LINES_1 << QUADSPI_CCR_DMODE_SHIFT) |
                  (QSPI_DUMMY << QUADSPI_CCR_DCYC_SHIFT) | (QUADSPI_ADSIZE_32 << QUADSPI_CCR_ADSIZE_SHIFT) |
                  (QUADSPI_LINES_1 << QUADSPI_CCR_ADMODE_SHIFT) | (QUADSPI_LINES_1 << QUADSPI_CCR_IMODE_SHIFT) |
                  (QSPI_READ_CMD << QUADSPI_CCR_INSTRUCTION_SHIFT);
}
#endif

#endif
