/*
 * imxrt1170_regs.h - the i.MX RT1176 (CM7) registers mcugen uses. Every address, field and
 * value is tagged and checked against NXP's MIMXRT1176_cm7 SVD by tests/test_board_facts.py;
 * `fact:` values are in tests/fixtures/board_facts/imxrt.yaml with their sources.
 * Documents: IMXRT1170RM Rev 2; NXP SDK evkmimxrt1170 clock_config.c (BOARD_BootClockRUN,
 * 996 MHz), fsl_clock.c (CLOCK_InitArmPll), fsl_pmu.c (PMU_EnableBodyBias), pin_mux.c.
 */
#ifndef MCUGEN_IMXRT1170_REGS_H
#define MCUGEN_IMXRT1170_REGS_H

#include "cortex_m7.h"

#define REG16(addr) (*(volatile uint16_t *)(uintptr_t)(addr))

#define IOMUXC_BASE 0x400E8000u                 /* svd: IOMUXC */
#define WDOG1_BASE  0x40030000u                 /* svd: WDOG1 */
#define CCM_BASE    0x40CC0000u                 /* svd: CCM */
#define ANADIG_BASE 0x40C84000u                 /* svd: ANADIG_PLL */
#define DCDC_BASE   0x40CA8000u                 /* svd: DCDC */
#define OCOTP_BASE  0x40CAC000u                 /* svd: OCOTP */
#define SEMC_BASE   0x400D4000u                 /* svd: SEMC */

/* Clock roots (IMXRT1170RM CCM): CONTROL = MUX[10:8] | DIV[7:0] (divide by DIV + 1) */
#define CCM_ROOT_CONTROL(n) REG32(CCM_BASE + (n) * 0x80u) /* svd: CCM.CLOCK_ROOT0_CLOCK_ROOT_CONTROL n=0; CCM.CLOCK_ROOT25_CLOCK_ROOT_CONTROL n=25; CCM.CLOCK_ROOT4_CLOCK_ROOT_CONTROL n=4 */
#define CCM_ROOT_MUX_SHIFT 8u                   /* svd: CCM.CLOCK_ROOT0_CLOCK_ROOT_CONTROL.MUX */
#define CCM_ROOT_DIV_SHIFT 0u                   /* svd: CCM.CLOCK_ROOT0_CLOCK_ROOT_CONTROL.DIV */
#define CCM_ROOT_M7 0u                          /* fact: rt1170_root_m7 */
#define CCM_ROOT_LPUART1 25u                    /* fact: rt1170_root_lpuart1 */
#define CCM_M7_MUX_OSC_RC_48M_DIV2 0u           /* fact: rt1170_m7_mux_osc_rc_48m_div2 */
#define CCM_M7_MUX_ARM_PLL 4u                   /* fact: rt1170_m7_mux_arm_pll */
#define CCM_LPUART1_MUX_OSC_RC_48M_DIV2 0u      /* fact: rt1170_lpuart1_mux_osc_rc_48m_div2 */

/* ARM PLL (ANADIG_PLL ARM_PLL_CTRL): Fout = 24 MHz x DIV_SELECT / 2 / post divider */
#define ARM_PLL_CTRL REG32(ANADIG_BASE + 0x200u) /* svd: ANADIG_PLL.ARM_PLL_CTRL */
#define ARM_PLL_DIV_SELECT_MASK 0xFFu           /* svd: ANADIG_PLL.ARM_PLL_CTRL.DIV_SELECT */
#define ARM_PLL_POWERUP (1u << 13)              /* svd: ANADIG_PLL.ARM_PLL_CTRL.POWERUP */
#define ARM_PLL_ENABLE_CLK (1u << 14)           /* svd: ANADIG_PLL.ARM_PLL_CTRL.ENABLE_CLK */
#define ARM_PLL_POST_DIV_SHIFT 15u              /* svd: ANADIG_PLL.ARM_PLL_CTRL.POST_DIV_SEL */
#define ARM_PLL_POST_DIV_MASK (3u << 15)        /* svd: ANADIG_PLL.ARM_PLL_CTRL.POST_DIV_SEL */
#define ARM_PLL_STABLE (1u << 29)               /* svd: ANADIG_PLL.ARM_PLL_CTRL.ARM_PLL_STABLE */
#define ARM_PLL_GATE (1u << 30)                 /* svd: ANADIG_PLL.ARM_PLL_CTRL.ARM_PLL_GATE */
#define ARM_PLL_LOOP_DIV 166u                   /* fact: rt1170_arm_pll_loop_divider */
#define ARM_PLL_POST_DIV2 0u                    /* fact: rt1170_arm_pll_post_div2 */
/* The boot ROM runs SYS_PLL2/SYS_PLL3, which need the PLL LDO: if one of them is stable, the
 * LDO the ARM PLL needs is on (the SDK enables it through the ANATOP AI interface otherwise). */
#define SYS_PLL2_CTRL REG32(ANADIG_BASE + 0x240u) /* svd: ANADIG_PLL.SYS_PLL2_CTRL */
#define SYS_PLL3_CTRL REG32(ANADIG_BASE + 0x210u) /* svd: ANADIG_PLL.SYS_PLL3_CTRL */
#define SYS_PLL2_STABLE (1u << 29)              /* svd: ANADIG_PLL.SYS_PLL2_CTRL.SYS_PLL2_STABLE */
#define SYS_PLL3_STABLE (1u << 29)              /* svd: ANADIG_PLL.SYS_PLL3_CTRL.SYS_PLL3_STABLE */

/* DCDC: VDD_SOC for the overdrive 996 MHz point */
#define DCDC_CTRL1 REG32(DCDC_BASE + 0x04u)     /* svd: DCDC.CTRL1 */
#define DCDC_REG0  REG32(DCDC_BASE + 0x08u)     /* svd: DCDC.REG0 */
#define DCDC_REG3  REG32(DCDC_BASE + 0x14u)     /* svd: DCDC.REG3 */
#define DCDC_CTRL1_VDD1P0CTRL_TRG_SHIFT 8u      /* svd: DCDC.CTRL1.VDD1P0CTRL_TRG */
#define DCDC_CTRL1_VDD1P0CTRL_TRG_MASK (0x1Fu << 8) /* svd: DCDC.CTRL1.VDD1P0CTRL_TRG */
#define DCDC_REG0_STS_DC_OK (1u << 31)          /* svd: DCDC.REG0.STS_DC_OK */
#define DCDC_REG3_VDD1P0CTRL_DISABLE_STEP (1u << 29) /* svd: DCDC.REG3.VDD1P0CTRL_DISABLE_STEP */
#define DCDC_TRG_1V125 21u                      /* fact: rt1170_dcdc_1p0_target_1v125 */

/* Forward body bias for the CM7 in overdrive, when fuse 7 bit 4 does not forbid it */
#define OCOTP_FUSE7 REG32(OCOTP_BASE + 0x870u)  /* svd: OCOTP.FUSEn7_FUSE */
#define OCOTP_FUSE7_FBB_DISABLE (1u << 4)       /* fact: rt1170_fuse7_fbb_bit */
#define PMU_BIAS_CTRL  REG32(ANADIG_BASE + 0x550u) /* svd: ANADIG_PMU.PMU_BIAS_CTRL */
#define PMU_BIAS_CTRL2 REG32(ANADIG_BASE + 0x560u) /* svd: ANADIG_PMU.PMU_BIAS_CTRL2 */
#define PMU_BIAS_CTRL_WB_CFG_1P8_WELL_SELECT (1u << 0)       /* fact: rt1170_wb_cfg_1p8_well_select */
#define PMU_BIAS_CTRL_WB_CFG_1P8_VOLTAGE_THRESHOLD (1u << 1) /* fact: rt1170_wb_cfg_1p8_voltage_threshold */
#define PMU_BIAS_CTRL2_WB_PWR_SW_EN_1P8_MASK (7u << 10) /* svd: ANADIG_PMU.PMU_BIAS_CTRL2.WB_PWR_SW_EN_1P8 */
#define PMU_BIAS_CTRL2_WB_PWR_SW_EN_1P8_ON (1u << 10)   /* svd: ANADIG_PMU.PMU_BIAS_CTRL2.WB_PWR_SW_EN_1P8<< */
#define PMU_BIAS_CTRL2_WB_EN (1u << 24)         /* svd: ANADIG_PMU.PMU_BIAS_CTRL2.WB_EN */
#define PMU_BIAS_CTRL2_WB_OK (1u << 26)         /* svd: ANADIG_PMU.PMU_BIAS_CTRL2.WB_OK */

/* LPUART1 pads: GPIO_AD_24 TXD / GPIO_AD_25 RXD, ALT0, pad 0x02 (NXP SDK evkmimxrt1170 pin_mux.c) */
#define IOMUXC_MUX_UART_TX REG32(IOMUXC_BASE + 0x16Cu) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_24 */
#define IOMUXC_MUX_UART_RX REG32(IOMUXC_BASE + 0x170u) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_25 */
#define IOMUXC_PAD_UART_TX REG32(IOMUXC_BASE + 0x3B0u) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_AD_24 */
#define IOMUXC_PAD_UART_RX REG32(IOMUXC_BASE + 0x3B4u) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_AD_25 */
#define IOMUXC_SEL_UART_RX REG32(IOMUXC_BASE + 0x61Cu) /* svd: IOMUXC.LPUART1_LPUART_RXD_SELECT_INPUT */
#define IOMUXC_SEL_UART_TX REG32(IOMUXC_BASE + 0x620u) /* svd: IOMUXC.LPUART1_LPUART_TXD_SELECT_INPUT */
#define IOMUXC_UART_TX_ALT 0u                   /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_24.MUX_MODE=LPUART1_TXD */
#define IOMUXC_UART_RX_ALT 0u                   /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_25.MUX_MODE=LPUART1_RXD */
#define IOMUXC_UART_RX_DAISY 0u                 /* svd: IOMUXC.LPUART1_LPUART_RXD_SELECT_INPUT.DAISY=GPIO_AD_25 */
#define IOMUXC_UART_TX_DAISY 0u                 /* svd: IOMUXC.LPUART1_LPUART_TXD_SELECT_INPUT.DAISY=GPIO_AD_24 */
#define IOMUXC_UART_PAD 0x02u                   /* fact: rt1170_lpuart1_pad_ctl */

#define WDOG_WMCR(b) REG16((b) + 0x8u)          /* svd: WDOG1.WMCR b=0x40030000 */

/* SEMC SDRAM (MIMXRT1170-EVK: two 16-bit SDRAMs as one 32-bit port on CS0, 64 MiB), the NXP
 * SDK's settings: evkmimxrt1170 driver_examples/semc/sdram (BOARD_InitSEMC), clock_config.c
 * (SEMC root: SYS_PLL2_PFD1 / 3) and dcd.c (pins). The SEMC registers shared with the RT1050 are
 * in imxrt_semc.h. SEMC clock: SYS_PLL2 (528 MHz) PFD1 at 528 x 18 / 16 = 594 MHz, / 3 = 198 MHz. */
#define CCM_ROOT_SEMC 4u                        /* fact: rt1170_root_semc */
#define CCM_SEMC_MUX_SYS_PLL2_PFD1 6u           /* fact: rt1170_semc_mux_sys_pll2_pfd1 */
#define CCM_SEMC_ROOT_DIV 3u                    /* fact: rt1170_semc_root_div */
#define CCM_LPCG_DIRECT(n) REG32(CCM_BASE + 0x6000u + (n) * 0x20u) /* svd: CCM.LPCG33_DIRECT n=33 */
#define CCM_LPCG_DIRECT_ON (1u << 0)            /* svd: CCM.LPCG33_DIRECT.ON */
#define CCM_LPCG_SEMC 33u                       /* fact: rt1170_lpcg_semc */
#define SYS_PLL2_PFD   REG32(ANADIG_BASE + 0x270u) /* svd: ANADIG_PLL.SYS_PLL2_PFD */
#define SYS_PLL2_UPDATE REG32(ANADIG_BASE + 0x250u) /* svd: ANADIG_PLL.SYS_PLL2_UPDATE */
#define SYS_PLL2_ENABLE_CLK (1u << 13)          /* svd: ANADIG_PLL.SYS_PLL2_CTRL.ENABLE_CLK */
#define SYS_PLL2_GATE (1u << 30)                /* svd: ANADIG_PLL.SYS_PLL2_CTRL.SYS_PLL2_GATE */
#define PFD1_FRAC_SHIFT 8u                      /* svd: ANADIG_PLL.SYS_PLL2_PFD.PFD1_FRAC */
#define PFD1_FRAC_MASK (0x3Fu << 8)             /* svd: ANADIG_PLL.SYS_PLL2_PFD.PFD1_FRAC */
#define PFD1_STABLE (1u << 14)                  /* svd: ANADIG_PLL.SYS_PLL2_PFD.PFD1_STABLE */
#define PFD1_CLKGATE (1u << 15)                 /* svd: ANADIG_PLL.SYS_PLL2_PFD.PFD1_DIV1_CLKGATE */
#define PFD1_UPDATE (1u << 2)                   /* svd: ANADIG_PLL.SYS_PLL2_UPDATE.PFD1_UPDATE */
#define SEMC_PFD_FRAC 16u                       /* fact: rt1170_semc_pfd1_frac */
#define PFD_MUL 18ull                           /* fact: pfd_multiplier */
#define SYS_PLL2_HZ 528000000ull                /* fact: rt1170_sys_pll2_hz */
#define SEMC_CLOCK_HZ (SYS_PLL2_HZ * PFD_MUL / SEMC_PFD_FRAC / CCM_SEMC_ROOT_DIV) /* derived: 198 MHz, test_sdram_timing */

/* SEMC pads: GPIO_EMC_B1_00..39 (lower 16 data bits, address, control, DQS on B1_39 with SION)
 * and GPIO_EMC_B2_00..17 (upper 16 data bits, DM2/3), ALT0, pad 0x08 (pull-down, high drive;
 * SDK evkmimxrt1170 dcd.c). The boot ROM only sets up the FlexSPI pads. */
#define IOMUXC_MUX_EMC(n) REG32(IOMUXC_BASE + 0x010u + 4u * (n)) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_B1_00 n=0; IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_B1_39 n=39 */
#define IOMUXC_PAD_EMC(n) REG32(IOMUXC_BASE + 0x254u + 4u * (n)) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B1_00 n=0; IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B1_39 n=39 */
#define IOMUXC_MUX_EMC_B2(n) REG32(IOMUXC_BASE + 0x0B8u + 4u * (n)) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_B2_00 n=0; IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_B2_17 n=17 */
#define IOMUXC_PAD_EMC_B2(n) REG32(IOMUXC_BASE + 0x2FCu + 4u * (n)) /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B2_00 n=0; IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B2_17 n=17 */
#define SEMC_PIN_COUNT 40u                      /* fact: rt1170_semc_pins_b1 */
#define SEMC_PIN_COUNT_B2 18u                   /* fact: rt1170_semc_pins_b2 */
#define SEMC_PIN_DQS 39u                        /* fact: rt1170_semc_dqs_pin */
#define IOMUXC_EMC_ALT_SEMC 0u                  /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_B1_00.MUX_MODE=semc_DATA0 */
#define IOMUXC_EMC_SION (1u << 4)               /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_EMC_B1_39.SION */
#define EMC_PAD_PULL_SHIFT 2u                   /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B1_00.PULL */
#define EMC_PAD_PULL_DOWN 2u                    /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B1_00.PULL=pulldown */
#define EMC_PAD_PDRV_HIGH 0u                    /* svd: IOMUXC.SW_PAD_CTL_PAD_GPIO_EMC_B1_00.PDRV=high drive */
#define IOMUXC_SEMC_PAD 0x08u                   /* fact: rt1170_semc_pad_ctl */

/* SEMC fields that differ from the RT1050's, and the port's geometry (SDK BOARD_InitSEMC) */
#define SEMC_DCCR REG32(SEMC_BASE + 0x150u)     /* svd: SEMC.DCCR */
#define SEMC_DCCR_SDRAMEN (1u << 0)             /* svd: SEMC.DCCR.SDRAMEN */
#define SEMC_DCCR_SDRAMVAL_SHIFT 1u             /* svd: SEMC.DCCR.SDRAMVAL */
#define SEMC_DCCR_SDRAMVAL_MASK (0x1Fu << 1)    /* svd: SEMC.DCCR.SDRAMVAL */
#define SEMC_DELAY_CHAIN 6u                     /* fact: rt1170_semc_delay_chain */
#define SEMC_IOCR_MUX_A8_MASK 0xFu              /* svd: SEMC.IOCR.MUX_A8 */
#define SEMC_MUX_A8_SDRAM_A8 0u                 /* svd: SEMC.IOCR.MUX_A8=SDRAM Address bit 8 */
#define SEMC_PORT_SIZE 2u                       /* svd: SEMC.SDRAMCR0.PS=32bit */
#define SEMC_BURST_LEN 3u                       /* svd: SEMC.SDRAMCR0.BL=8 */
#define SEMC_PRESCALE_EXTRA_CYCLE 1u            /* fact: rt1170_semc_prescale_extra_cycle */
/* part timings in ns (SDK evkmimxrt1170 semc_sdram.c BOARD_InitSEMC) */
#define SDRAM_TRP_NS 15u                        /* fact: rt1170_sdram_trp_ns */
#define SDRAM_TRCD_NS 15u                       /* fact: rt1170_sdram_trcd_ns */
#define SDRAM_TRFC_NS 70u                       /* fact: rt1170_sdram_trfc_ns */
#define SDRAM_TWR_NS 10u                        /* fact: rt1170_sdram_twr_ns */
#define SDRAM_TCKEOFF_NS 42u                    /* fact: rt1170_sdram_tckeoff_ns */
#define SDRAM_TRAS_NS 40u                       /* fact: rt1170_sdram_tras_ns */
#define SDRAM_TXSR_NS 70u                       /* fact: rt1170_sdram_txsr_ns */
#define SDRAM_TREF2REF_NS 60u                   /* fact: rt1170_sdram_tref2ref_ns */
#define SDRAM_TACT2ACT_NS 10u                   /* fact: rt1170_sdram_tact2act_ns */
#define SDRAM_REFRESH_ROWS 8192u                /* fact: rt1170_sdram_refresh_rows */
#define SDRAM_INIT_AUTOREFRESH 8u               /* fact: rt1170_sdram_init_autorefresh */

/* LPUART (IMXRT1050RM 49.4 / IMXRT1170RM LPUART): same block on both parts */
#define LPUART_GLOBAL(b) REG32((b) + 0x08u)     /* svd: LPUART1.GLOBAL b=0x4007C000 */
#define LPUART_BAUD(b) REG32((b) + 0x10u)       /* svd: LPUART1.BAUD b=0x4007C000 */
#define LPUART_STAT(b) REG32((b) + 0x14u)       /* svd: LPUART1.STAT b=0x4007C000 */
#define LPUART_CTRL(b) REG32((b) + 0x18u)       /* svd: LPUART1.CTRL b=0x4007C000 */
#define LPUART_DATA(b) REG32((b) + 0x1Cu)       /* svd: LPUART1.DATA b=0x4007C000 */
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
