/*
 * imxrt_regs.h - the i.MX RT1050/RT1170 registers mcugen uses.
 * Sources: IMXRT1050RM Rev 5 (memory map ch. 2, CCM ch. 18, CCM_ANALOG ch. 14,
 * DCDC ch. 20, IOMUXC ch. 11, WDOG ch. 53/54, LPUART ch. 49), IMXRT1170RM Rev 2;
 * base addresses cross-checked with Zephyr's nxp_rt10xx.dtsi / nxp_rt11xx.dtsi.
 * Marked UNVERIFIED: taken from NXP SDK pin_mux/fsl_iomuxc values from memory,
 * not re-checked against a document offline (see the report).
 */
#ifndef MCUGEN_IMXRT_REGS_H
#define MCUGEN_IMXRT_REGS_H

#include "cortex_m7.h"

#define REG16(addr) (*(volatile uint16_t *)(uintptr_t)(addr))

/* LPUART (IMXRT1050RM 49.4): same block on both parts */
#define LPUART_BAUD(b) REG32((b) + 0x10u)
#define LPUART_STAT(b) REG32((b) + 0x14u)
#define LPUART_CTRL(b) REG32((b) + 0x18u)
#define LPUART_DATA(b) REG32((b) + 0x1Cu)
#define LPUART_GLOBAL(b) REG32((b) + 0x08u)
#define LPUART_GLOBAL_RST (1u << 1)
#define LPUART_BAUD_OSR_SHIFT 24u          /* oversampling = OSR + 1 */
#define LPUART_BAUD_SBR_MASK 0x1FFFu
#define LPUART_STAT_RDRF (1u << 21)
#define LPUART_STAT_TDRE (1u << 23)
#define LPUART_STAT_ERRORS (0xFu << 16)    /* OR, NF, FE, PF: write 1 to clear */
#define LPUART_CTRL_RE (1u << 18)
#define LPUART_CTRL_TE (1u << 19)
#define LPUART_OSR 16u
#define LPUART_CLOCK_HZ 24000000u          /* both parts: LPUART root from the 24 MHz oscillator */

#if defined(MCUGEN_BOARD_MIMXRT1050_EVKB)
/* ---- RT1050 ---- */
#define CCM_BASE        0x400FC000u        /* dtsi ccm@400fc000 */
#define CCM_ANALOG_BASE 0x400D8000u        /* dtsi anatop@400d8000 */
#define DCDC_BASE       0x40080000u        /* IMXRT1050RM 2.2 */
#define IOMUXC_BASE     0x401F8000u        /* dtsi iomuxc@401f8000 */
#define WDOG1_BASE      0x400B8000u        /* dtsi wdog@400b8000 */
#define WDOG2_BASE      0x400D0000u        /* dtsi wdog@400d0000 */
#define RTWDOG_BASE     0x400BC000u        /* IMXRT1050RM 2.2 (WDOG3) */

#define CCM_CACRR  REG32(CCM_BASE + 0x10u)  /* ARM_PODF[2:0] */
#define CCM_CBCDR  REG32(CCM_BASE + 0x14u)
#define CCM_CBCMR  REG32(CCM_BASE + 0x18u)
#define CCM_CSCDR1 REG32(CCM_BASE + 0x24u)
#define CCM_CDHIPR REG32(CCM_BASE + 0x48u)
#define CCM_CCGR5  REG32(CCM_BASE + 0x7Cu)
#define CCM_CBCDR_IPG_PODF_SHIFT 8u
#define CCM_CBCDR_IPG_PODF_MASK (3u << 8)
#define CCM_CBCDR_AHB_PODF_SHIFT 10u
#define CCM_CBCDR_AHB_PODF_MASK (7u << 10)
#define CCM_CBCDR_PERIPH_CLK_SEL (1u << 25)
#define CCM_CBCDR_PERIPH_CLK2_PODF_MASK (7u << 27)
#define CCM_CBCMR_PERIPH_CLK2_SEL_SHIFT 12u
#define CCM_CBCMR_PERIPH_CLK2_SEL_MASK (3u << 12)
#define CCM_CBCMR_PRE_PERIPH_CLK_SEL_SHIFT 18u
#define CCM_CBCMR_PRE_PERIPH_CLK_SEL_MASK (3u << 18)
#define CCM_CSCDR1_UART_CLK_SEL_OSC (1u << 6)
#define CCM_CSCDR1_UART_CLK_PODF_MASK 0x3Fu
#define CCM_CDHIPR_AHB_PODF_BUSY (1u << 1)
#define CCM_CDHIPR_PERIPH_CLK_SEL_BUSY (1u << 5)
#define CCM_CDHIPR_ARM_PODF_BUSY (1u << 16)
#define CCM_CCGR5_LPUART1 (3u << 24)       /* CG12 */

#define CCM_ANALOG_PLL_ARM REG32(CCM_ANALOG_BASE + 0x00u)
#define PLL_ARM_DIV_SELECT_MASK 0x7Fu      /* Fout = 24 MHz * DIV_SELECT / 2 */
#define PLL_ARM_POWERDOWN (1u << 12)
#define PLL_ARM_ENABLE (1u << 13)
#define PLL_ARM_BYPASS (1u << 16)
#define PLL_ARM_LOCK (1u << 31)

#define DCDC_REG0 REG32(DCDC_BASE + 0x00u)
#define DCDC_REG3 REG32(DCDC_BASE + 0x0Cu)
#define DCDC_REG0_STS_DC_OK (1u << 31)
#define DCDC_REG3_TRG_MASK 0x1Fu           /* 0.8 V + 25 mV * TRG */
#define DCDC_TRG_1V275 0x13u               /* 600 MHz needs 1.275 V (IMXRT1050 datasheet, run mode) */

/* GPIO_AD_B0_12/13 as LPUART1 TX/RX (ALT2), UNVERIFIED offsets (NXP SDK fsl_iomuxc.h) */
#define IOMUXC_MUX_UART_TX REG32(IOMUXC_BASE + 0x0ECu)
#define IOMUXC_MUX_UART_RX REG32(IOMUXC_BASE + 0x0F0u)
#define IOMUXC_PAD_UART_TX REG32(IOMUXC_BASE + 0x2DCu)
#define IOMUXC_PAD_UART_RX REG32(IOMUXC_BASE + 0x2E0u)
#define IOMUXC_UART_ALT 2u
#define IOMUXC_UART_PAD 0x10B0u            /* SDK default: 100 MHz, R0/6 drive, keeper */

#define WDOG_WCR(b)  REG16((b) + 0x0u)
#define WDOG_WMCR(b) REG16((b) + 0x8u)
#define WDOG_WCR_WDE (1u << 2)
#define RTWDOG_CS    REG32(RTWDOG_BASE + 0x0u)
#define RTWDOG_CNT   REG32(RTWDOG_BASE + 0x4u)
#define RTWDOG_TOVAL REG32(RTWDOG_BASE + 0x8u)
#define RTWDOG_CS_EN (1u << 7)
#define RTWDOG_CS_UPDATE (1u << 5)
#define RTWDOG_CS_CMD32EN (1u << 13)
#define RTWDOG_UNLOCK_KEY 0xD928C520u

#elif defined(MCUGEN_BOARD_MIMXRT1170_EVK)
/* ---- RT1170 (CM7) ---- */
#define IOMUXC_BASE 0x400E8000u            /* dtsi iomuxc@400e8000 */
#define WDOG1_BASE  0x40030000u            /* dtsi wdog@40030000 */
/* GPIO_AD_24/25 as LPUART1 TXD/RXD (ALT0), UNVERIFIED offsets (NXP SDK fsl_iomuxc.h) */
#define IOMUXC_MUX_UART_TX REG32(IOMUXC_BASE + 0x110u)
#define IOMUXC_MUX_UART_RX REG32(IOMUXC_BASE + 0x114u)
#define IOMUXC_PAD_UART_TX REG32(IOMUXC_BASE + 0x354u)
#define IOMUXC_PAD_UART_RX REG32(IOMUXC_BASE + 0x358u)
#define IOMUXC_UART_ALT 0u
#define IOMUXC_UART_PAD 0x02u              /* SDK default pad config for the debug UART */
#define WDOG_WMCR(b) REG16((b) + 0x8u)
#else
#error "unknown i.MX RT board"
#endif

#endif
