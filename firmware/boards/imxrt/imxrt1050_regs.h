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

#define CCM_CACRR  REG32(CCM_BASE + 0x10u)      /* svd: CCM.CACRR */
#define CCM_CBCDR  REG32(CCM_BASE + 0x14u)      /* svd: CCM.CBCDR */
#define CCM_CBCMR  REG32(CCM_BASE + 0x18u)      /* svd: CCM.CBCMR */
#define CCM_CSCDR1 REG32(CCM_BASE + 0x24u)      /* svd: CCM.CSCDR1 */
#define CCM_CDHIPR REG32(CCM_BASE + 0x48u)      /* svd: CCM.CDHIPR */
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
