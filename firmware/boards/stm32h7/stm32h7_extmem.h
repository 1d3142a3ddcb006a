/*
 * stm32h7_extmem.h - STM32H747I-DISCO external memory: the IS42S32800J SDRAM on FMC bank 2
 * and the two MT25QL512 on QUADSPI (dual-flash, memory-mapped). Included by board.c only;
 * compiled in when a section is placed there (MCUGEN_INIT_SDRAM / MCUGEN_INIT_QSPI).
 * Every value is the ST BSP's (stm32h747i_discovery_sdram.c / _qspi.c, is42s32800j.c,
 * mt25tl01g.c) and tagged `fact:` -> tests/fixtures/board_facts/stm32h7.yaml with the source;
 * register fields come from stm32h7_regs.h (checked against the SVD).
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
/* timings in SDCLK cycles (the BSP's, for 100 MHz); the registers hold cycles - 1 */
#define SDRAM_TMRD 2u            /* fact: sdram_tmrd */
#define SDRAM_TXSR 7u            /* fact: sdram_txsr */
#define SDRAM_TRAS 4u            /* fact: sdram_tras */
#define SDRAM_TRC 7u             /* fact: sdram_trc */
#define SDRAM_TWR 2u             /* fact: sdram_twr */
#define SDRAM_TRP 2u             /* fact: sdram_trp */
#define SDRAM_TRCD 2u            /* fact: sdram_trcd */
#define SDRAM_REFRESH_COUNT 0x603u /* fact: sdram_refresh_count */
#define SDRAM_AUTOREFRESH_N 8u   /* fact: sdram_autorefresh_number */
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

__attribute__((unused)) static void extmem_delay(uint32_t loops)
{
    for (volatile uint32_t i = 0; i < loops; i++) {
    }
}

/* One pin to its alternate function, very high speed, optional pull-up. */
__attribute__((unused)) static void extmem_pin(uint32_t port, uint32_t pin, uint32_t af, uint32_t pull_up)
{
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (GPIO_MODE_AF << (2u * pin));
    GPIO_OSPEEDR(port) |= GPIO_SPEED_VERY_HIGH << (2u * pin);
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (2u * pin))) | ((pull_up ? GPIO_PULL_UP : 0u) << (2u * pin));
    uint32_t shift = 4u * (pin & 7u);
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << shift)) | (af << shift);
}

#if MCUGEN_INIT_SDRAM
/* FMC pins of the DISCO's SDRAM, per port (D..I = 3..8): ST BSP SDRAM MspInit. */
static const uint16_t sdram_pins[6] = {
    0xC703u, /* D: 0 1 8 9 10 14 15 */          /* fact-list: sdram_pins_d */
    0xFF83u, /* E: 0 1 7-15 */
    0xF83Fu, /* F: 0-5 11-15 */
    0x8137u, /* G: 0 1 2 4 5 8 15 */
    0xFFE0u, /* H: 5-15 */
    0x06FFu, /* I: 0-7 9 10 */
};

static void sdram_command(uint32_t mode, uint32_t nrfs, uint32_t mrd)
{
    FMC_SDCMR = (mode << FMC_SDCMR_MODE_SHIFT) | FMC_SDCMR_CTB2 | ((nrfs - 1u) << FMC_SDCMR_NRFS_SHIFT) |
                (mrd << FMC_SDCMR_MRD_SHIFT);
    /* The H7 FMC has no SDSR.BUSY flag (RM0433; ST's CMSIS header defines none): give each
     * command time instead. */
    extmem_delay(1000u);
}

static void stm32h7_sdram_init(void)
{
    RCC_AHB4ENR |= 0x1F8u; /* GPIOD..GPIOI clocks (GPIOxEN = bit x) */
    RCC_AHB3ENR |= RCC_AHB3ENR_FMCEN;
    (void)RCC_AHB3ENR;
    for (uint32_t i = 0; i < 6u; i++) {
        for (uint32_t pin = 0; pin < 16u; pin++) {
            if (sdram_pins[i] & (1u << pin)) {
                extmem_pin(3u + i, pin, SDRAM_FMC_AF, 1u);
            }
        }
    }
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
    extmem_delay(20000u);
    sdram_command(FMC_CMD_PALL, 1u, 0u);
    sdram_command(FMC_CMD_AUTOREFRESH, SDRAM_AUTOREFRESH_N, 0u);
    sdram_command(FMC_CMD_LOAD_MODE, 1u, SDRAM_MODE_REG);
    FMC_SDRTR = SDRAM_REFRESH_COUNT << FMC_SDRTR_COUNT_SHIFT;
}
#endif

#if MCUGEN_INIT_QSPI
static void stm32h7_qspi_init(void)
{
    /* ST BSP QSPI MspInit: CLK PB2 AF9; BK1: NCS PG6 AF10 (pull-up), IO0 PD11 AF9, IO1 PF9 AF10,
     * IO2 PF7 AF9, IO3 PF6 AF9; BK2: IO0 PH2 AF9, IO1 PH3 AF9, IO2 PG9 AF9, IO3 PG14 AF9. */
    static const uint8_t pins[10][4] = {
        {1, 2, 9, 0}, {6, 6, 10, 1}, {3, 11, 9, 0}, {5, 9, 10, 0}, {5, 7, 9, 0},
        {5, 6, 9, 0}, {7, 2, 9, 0}, {7, 3, 9, 0}, {6, 9, 9, 0}, {6, 14, 9, 0},
    };                                          /* fact-list: qspi_pins */
    RCC_AHB4ENR |= (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7); /* GPIOB, D, F, G, H */
    RCC_AHB3ENR |= RCC_AHB3ENR_QSPIEN;
    (void)RCC_AHB3ENR;
    for (uint32_t i = 0; i < 10u; i++) {
        extmem_pin(pins[i][0], pins[i][1], pins[i][2], pins[i][3]);
    }
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
