/*
 * imxrt1050_regs.h - the i.MX RT1052 registers mcugen uses. Every address, field and value is
 * tagged and checked against NXP's MIMXRT1052 SVD by tests/test_board_facts.py (tests/_svd.py);
 * `fact:` values are in tests/fixtures/board_facts/imxrt.yaml with their sources.
 * Documents: IMXRT1050RM Rev 5; NXP SDK evkbimxrt1050 clock_config.c / pin_mux.c.
 */
#ifndef MCUGEN_IMXRT1050_REGS_H
#define MCUGEN_IMXRT1050_REGS_H

#include "cortex_m7.h"

#define REG16(addr) (*(volatile uint16_t *)(uintptr_t)(addr))

#define CCM_BASE        0x400FC000u             /* svd: CCM */
#define CCM_ANALOG_BASE 0x400D8000u             /* svd: CCM_ANALOG */
#define DCDC_BASE       0x40080000u             /* svd: DCDC */
#define IOMUXC_BASE     0x401F8000u             /* svd: IOMUXC */
#define WDOG1_BASE      0x400B8000u             /* svd: WDOG1 */
#define WDOG2_BASE      0x400D0000u             /* svd: WDOG2 */
#define RTWDOG_BASE     0x400BC000u             /* svd: RTWDOG */
#define SEMC_BASE       0x402F0000u             /* svd: SEMC */

#define CCM_CACRR  REG32(CCM_BASE + 0x10u)      /* svd: CCM.CACRR */
#define CCM_CBCDR  REG32(CCM_BASE + 0x14u)      /* svd: CCM.CBCDR */
#define CCM_CBCMR  REG32(CCM_BASE + 0x18u)      /* svd: CCM.CBCMR */
#define CCM_CSCDR1 REG32(CCM_BASE + 0x24u)      /* svd: CCM.CSCDR1 */
#define CCM_CDHIPR REG32(CCM_BASE + 0x48u)      /* svd: CCM.CDHIPR */
#define CCM_CCGR1  REG32(CCM_BASE + 0x6Cu)      /* svd: CCM.CCGR1 */
#define CCM_CCGR3  REG32(CCM_BASE + 0x74u)      /* svd: CCM.CCGR3 */
#define CCM_CCGR5  REG32(CCM_BASE + 0x7Cu)      /* svd: CCM.CCGR5 */
#define CCM_CACRR_ARM_PODF_DIV2 1u              /* svd: CCM.CACRR.ARM_PODF=divide by 2 */
#define CCM_CBCDR_IPG_PODF_SHIFT 8u             /* svd: CCM.CBCDR.IPG_PODF */
#define CCM_CBCDR_IPG_PODF_MASK (3u << 8)       /* svd: CCM.CBCDR.IPG_PODF */
#define CCM_CBCDR_AHB_PODF_SHIFT 10u            /* svd: CCM.CBCDR.AHB_PODF */
#define CCM_CBCDR_AHB_PODF_MASK (7u << 10)      /* svd: CCM.CBCDR.AHB_PODF */
#define CCM_CBCDR_PERIPH_CLK_SEL (1u << 25)     /* svd: CCM.CBCDR.PERIPH_CLK_SEL */
#define CCM_CBCDR_PERIPH_CLK2_PODF_MASK (7u << 27) /* svd: CCM.CBCDR.PERIPH_CLK2_PODF */
#define CCM_CBCMR_PERIPH_CLK2_SEL_SHIFT 12u     /* svd: CCM.CBCMR.PERIPH_CLK2_SEL */
#define CCM_CBCMR_PERIPH_CLK2_SEL_MASK (3u << 12) /* svd: CCM.CBCMR.PERIPH_CLK2_SEL */
#define CCM_PERIPH_CLK2_SEL_OSC 1u              /* svd: CCM.CBCMR.PERIPH_CLK2_SEL=osc_clk */
#define CCM_CBCMR_PRE_PERIPH_CLK_SEL_SHIFT 18u  /* svd: CCM.CBCMR.PRE_PERIPH_CLK_SEL */
#define CCM_CBCMR_PRE_PERIPH_CLK_SEL_MASK (3u << 18) /* svd: CCM.CBCMR.PRE_PERIPH_CLK_SEL */
#define CCM_PRE_PERIPH_ARM_PLL 3u               /* svd: CCM.CBCMR.PRE_PERIPH_CLK_SEL=divided PLL1 */
#define CCM_CSCDR1_UART_CLK_SEL_OSC (1u << 6)   /* svd: CCM.CSCDR1.UART_CLK_SEL<< */
#define CCM_CSCDR1_UART_CLK_PODF_MASK 0x3Fu     /* svd: CCM.CSCDR1.UART_CLK_PODF */
#define CCM_CDHIPR_AHB_PODF_BUSY (1u << 1)      /* svd: CCM.CDHIPR.AHB_PODF_BUSY */
#define CCM_CDHIPR_PERIPH_CLK_SEL_BUSY (1u << 5) /* svd: CCM.CDHIPR.PERIPH_CLK_SEL_BUSY */
#define CCM_CDHIPR_ARM_PODF_BUSY (1u << 16)     /* svd: CCM.CDHIPR.ARM_PODF_BUSY */
#define CCM_CCGR5_LPUART1 (3u << 24)            /* svd: CCM.CCGR5.CG12 */

#define CCM_ANALOG_PLL_ARM REG32(CCM_ANALOG_BASE + 0x00u) /* svd: CCM_ANALOG.PLL_ARM */
#define PLL_ARM_DIV_SELECT_MASK 0x7Fu           /* svd: CCM_ANALOG.PLL_ARM.DIV_SELECT */
#define PLL_ARM_POWERDOWN (1u << 12)            /* svd: CCM_ANALOG.PLL_ARM.POWERDOWN */
#define PLL_ARM_ENABLE (1u << 13)               /* svd: CCM_ANALOG.PLL_ARM.ENABLE */
#define PLL_ARM_BYPASS (1u << 16)               /* svd: CCM_ANALOG.PLL_ARM.BYPASS */
#define PLL_ARM_LOCK (1u << 31)                 /* svd: CCM_ANALOG.PLL_ARM.LOCK */

#define DCDC_REG0 REG32(DCDC_BASE + 0x00u)      /* svd: DCDC.REG0 */
#define DCDC_REG3 REG32(DCDC_BASE + 0x0Cu)      /* svd: DCDC.REG3 */
#define DCDC_REG0_STS_DC_OK (1u << 31)          /* svd: DCDC.REG0.STS_DC_OK */
#define DCDC_REG3_TRG_MASK 0x1Fu                /* svd: DCDC.REG3.TRG */
#define DCDC_TRG_1V275 0x13u                    /* fact: rt1050_dcdc_trg_600mhz */

/* LPUART1 pads: GPIO_AD_B0_12 TX / GPIO_AD_B0_13 RX, ALT2 (NXP SDK evkbimxrt1050 pin_mux.c) */
#define IOMUXC_MUX_UART_TX REG32(IOMUXC_BASE + 0x0ECu) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12 */
#define IOMUXC_MUX_UART_RX REG32(IOMUXC_BASE + 0x0F0u) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_13 */
#define IOMUXC_PAD_UART_TX REG32(IOMUXC_BASE + 0x2DCu) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_AD_B0_12 */
#define IOMUXC_PAD_UART_RX REG32(IOMUXC_BASE + 0x2E0u) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_AD_B0_13 */
#define IOMUXC_UART_TX_ALT 2u                   /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12.MUX_MODE=LPUART1_TX */
#define IOMUXC_UART_RX_ALT 2u                   /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_13.MUX_MODE=LPUART1_RX */
#define IOMUXC_UART_PAD 0x10B0u                 /* fact: rt1050_lpuart1_pad_ctl */

#define WDOG_WCR(b)  REG16((b) + 0x0u)          /* svd: WDOG1.WCR b=0x400B8000; WDOG2.WCR b=0x400D0000 */
#define WDOG_WMCR(b) REG16((b) + 0x8u)          /* svd: WDOG1.WMCR b=0x400B8000; WDOG2.WMCR b=0x400D0000 */
#define WDOG_WCR_WDE (1u << 2)                  /* svd: WDOG1.WCR.WDE */
#define RTWDOG_CS    REG32(RTWDOG_BASE + 0x0u)  /* svd: RTWDOG.CS */
#define RTWDOG_CNT   REG32(RTWDOG_BASE + 0x4u)  /* svd: RTWDOG.CNT */
#define RTWDOG_TOVAL REG32(RTWDOG_BASE + 0x8u)  /* svd: RTWDOG.TOVAL */
#define RTWDOG_CS_EN (1u << 7)                  /* svd: RTWDOG.CS.EN */
#define RTWDOG_CS_UPDATE (1u << 5)              /* svd: RTWDOG.CS.UPDATE */
#define RTWDOG_CS_CMD32EN (1u << 13)            /* svd: RTWDOG.CS.CMD32EN */
#define RTWDOG_UNLOCK_KEY 0xD928C520u           /* fact: rtwdog_unlock_key */

/* SEMC SDRAM (MIMXRT1050-EVKB: IS42S16160J-6, 32 MiB x16 on CS0), the NXP SDK's settings:
 * evkbimxrt1050 driver_examples/semc/sdram (BOARD_InitSEMC, pin_mux.c) and dcd.c. The SEMC
 * registers shared with the RT1170 are in imxrt_semc.h. SEMC clock: PLL2 (528 MHz) PFD2 at
 * 528 x 18 / 29 = 327.7 MHz, SEMC alternative clock, / 2 = 163.9 MHz. */
#define CCM_CBCDR_SEMC_CLK_SEL (1u << 6)        /* svd: CCM.CBCDR.SEMC_CLK_SEL */
#define CCM_CBCDR_SEMC_ALT_CLK_SEL (1u << 7)    /* svd: CCM.CBCDR.SEMC_ALT_CLK_SEL */
#define CCM_CBCDR_SEMC_PODF_SHIFT 16u           /* svd: CCM.CBCDR.SEMC_PODF */
#define CCM_CBCDR_SEMC_PODF_MASK (7u << 16)     /* svd: CCM.CBCDR.SEMC_PODF */
#define CCM_SEMC_CLK_SEL_ALT 1u                 /* svd: CCM.CBCDR.SEMC_CLK_SEL=alternative clock */
#define CCM_SEMC_ALT_CLK_SEL_PLL2_PFD2 0u       /* svd: CCM.CBCDR.SEMC_ALT_CLK_SEL=PLL2 PFD2 */
#define CCM_SEMC_PODF_DIV2 1u                   /* svd: CCM.CBCDR.SEMC_PODF=divide by 2 */
#define CCM_CDHIPR_SEMC_PODF_BUSY (1u << 0)     /* svd: CCM.CDHIPR.SEMC_PODF_BUSY */
/* clock gates: SDK fsl_clock.h kCLOCK_Semc = CCGR3 CG2, kCLOCK_SemcExsc = CCGR1 CG9 */
#define CCM_CCGR3_SEMC (3u << 4)                /* svd: CCM.CCGR3.CG2 */
#define CCM_CCGR1_SEMC_EXSC (3u << 18)          /* svd: CCM.CCGR1.CG9 */

#define CCM_ANALOG_PLL_SYS REG32(CCM_ANALOG_BASE + 0x30u) /* svd: CCM_ANALOG.PLL_SYS */
#define PLL_SYS_DIV_SELECT_MASK 0x1u            /* svd: CCM_ANALOG.PLL_SYS.DIV_SELECT */
#define PLL_SYS_POWERDOWN (1u << 12)            /* svd: CCM_ANALOG.PLL_SYS.POWERDOWN */
#define PLL_SYS_ENABLE (1u << 13)               /* svd: CCM_ANALOG.PLL_SYS.ENABLE */
#define PLL_SYS_BYPASS (1u << 16)               /* svd: CCM_ANALOG.PLL_SYS.BYPASS */
#define PLL_SYS_LOCK (1u << 31)                 /* svd: CCM_ANALOG.PLL_SYS.LOCK */
#define PLL_SYS_DIV_SELECT_22 1u                /* fact: rt1050_sys_pll_div_select */
#define SYS_PLL2_HZ 528000000ull                /* fact: rt1050_sys_pll_hz */
#define CCM_ANALOG_PFD_528 REG32(CCM_ANALOG_BASE + 0x100u) /* svd: CCM_ANALOG.PFD_528 */
#define PFD_528_PFD2_FRAC_SHIFT 16u             /* svd: CCM_ANALOG.PFD_528.PFD2_FRAC */
#define PFD_528_PFD2_FRAC_MASK (0x3Fu << 16)    /* svd: CCM_ANALOG.PFD_528.PFD2_FRAC */
#define PFD_528_PFD2_CLKGATE (1u << 23)         /* svd: CCM_ANALOG.PFD_528.PFD2_CLKGATE */
#define SEMC_PFD_FRAC 29u                       /* fact: rt1050_semc_pfd2_frac */
#define PFD_MUL 18ull                           /* fact: pfd_multiplier */
#define SEMC_CLOCK_HZ (SYS_PLL2_HZ * PFD_MUL / SEMC_PFD_FRAC / (CCM_SEMC_PODF_DIV2 + 1u)) /* derived: 163.86 MHz, test_sdram_timing */

/* SEMC pads GPIO_EMC_00..39 (DATA, ADDR, BA, CAS, RAS, CLK, CKE, WE, CS0, DM, DQS), ALT0, pad
 * 0x110F9; the DQS pad EMC_39 with SION (SDK evkbimxrt1050 semc example pin_mux.c). The boot ROM
 * leaves them alone (it only sets up the FlexSPI pads). */
#define IOMUXC_MUX_EMC(n) REG32(IOMUXC_BASE + 0x014u + 4u * (n)) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_00 n=0; IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_39 n=39 */
#define IOMUXC_PAD_EMC(n) REG32(IOMUXC_BASE + 0x204u + 4u * (n)) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_00 n=0; IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_39 n=39 */
#define SEMC_PIN_COUNT 40u                      /* fact: rt1050_semc_pins */
#define SEMC_PIN_DQS 39u                        /* fact: rt1050_semc_dqs_pin */
#define IOMUXC_EMC_ALT_SEMC 0u                  /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_00.MUX_MODE=SEMC_DATA00 */
#define IOMUXC_EMC_SION (1u << 4)               /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_39.SION */
#define IOMUXC_SEMC_PAD 0x110F9u                /* fact: rt1050_semc_pad_ctl */

/* SEMC fields that differ from the RT1170's, and the part's geometry (SDK BOARD_InitSEMC) */
#define SEMC_IOCR_MUX_A8_MASK 0x7u              /* svd: SEMC.IOCR.MUX_A8 */
#define SEMC_MUX_A8_SDRAM_A8 0u                 /* svd: SEMC.IOCR.MUX_A8=SDRAM Address bit */
#define SEMC_PORT_SIZE 1u                       /* svd: SEMC.SDRAMCR0.PS=16bit */
#define SEMC_BURST_LEN 0u                       /* svd: SEMC.SDRAMCR0.BL=1 */
#define SEMC_PRESCALE_EXTRA_CYCLE 0u            /* fact: rt1050_semc_prescale_extra_cycle */
/* part timings in ns (SDK evkbimxrt1050 semc_sdram.c BOARD_InitSEMC; IS42S16160J-6) */
#define SDRAM_TRP_NS 18u                        /* fact: rt1050_sdram_trp_ns */
#define SDRAM_TRCD_NS 18u                       /* fact: rt1050_sdram_trcd_ns */
#define SDRAM_TRFC_NS 67u                       /* fact: rt1050_sdram_trfc_ns */
#define SDRAM_TWR_NS 12u                        /* fact: rt1050_sdram_twr_ns */
#define SDRAM_TCKEOFF_NS 42u                    /* fact: rt1050_sdram_tckeoff_ns */
#define SDRAM_TRAS_NS 42u                       /* fact: rt1050_sdram_tras_ns */
#define SDRAM_TXSR_NS 67u                       /* fact: rt1050_sdram_txsr_ns */
#define SDRAM_TREF2REF_NS 60u                   /* fact: rt1050_sdram_tref2ref_ns */
#define SDRAM_TACT2ACT_NS 60u                   /* fact: rt1050_sdram_tact2act_ns */
#define SDRAM_REFRESH_ROWS 8192u                /* fact: rt1050_sdram_refresh_rows */
#define SDRAM_INIT_AUTOREFRESH 2u               /* fact: rt1050_sdram_init_autorefresh */

/* LPUART (IMXRT1050RM 49.4 / IMXRT1170RM LPUART): same block on both parts */
#define LPUART_GLOBAL(b) REG32((b) + 0x08u)     /* svd: LPUART1.GLOBAL b=0x40184000 */
#define LPUART_BAUD(b) REG32((b) + 0x10u)       /* svd: LPUART1.BAUD b=0x40184000 */
#define LPUART_STAT(b) REG32((b) + 0x14u)       /* svd: LPUART1.STAT b=0x40184000 */
#define LPUART_CTRL(b) REG32((b) + 0x18u)       /* svd: LPUART1.CTRL b=0x40184000 */
#define LPUART_DATA(b) REG32((b) + 0x1Cu)       /* svd: LPUART1.DATA b=0x40184000 */
#define LPUART_GLOBAL_RST (1u << 1)             /* svd: LPUART1.GLOBAL.RST */
#define LPUART_BAUD_OSR_SHIFT 24u               /* svd: LPUART1.BAUD.OSR */
#define LPUART_BAUD_SBR_MASK 0x1FFFu            /* svd: LPUART1.BAUD.SBR */
#define LPUART_STAT_RDRF (1u << 21)             /* svd: LPUART1.STAT.RDRF */
#define LPUART_STAT_TDRE (1u << 23)             /* svd: LPUART1.STAT.TDRE */
#define LPUART_STAT_OR (1u << 19)               /* svd: LPUART1.STAT.OR */
#define LPUART_STAT_NF (1u << 18)               /* svd: LPUART1.STAT.NF */
#define LPUART_STAT_FE (1u << 17)               /* svd: LPUART1.STAT.FE */
#define LPUART_STAT_PF (1u << 16)               /* svd: LPUART1.STAT.PF */
#define LPUART_STAT_ERRORS (LPUART_STAT_OR | LPUART_STAT_NF | LPUART_STAT_FE | LPUART_STAT_PF) /* derived: the four flags above */
#define LPUART_CTRL_RE (1u << 18)               /* svd: LPUART1.CTRL.RE */
#define LPUART_CTRL_TE (1u << 19)               /* svd: LPUART1.CTRL.TE */
#define LPUART_OSR 16u                          /* fact: lpuart_oversampling */
#define LPUART_CLOCK_HZ 24000000u               /* fact: lpuart_clock_hz */

#endif
