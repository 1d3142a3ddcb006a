/*
 * stm32h7_regs.h - the STM32H743/H747 registers mcugen uses, written out here
 * (no vendor headers offline). Sources: RM0433 Rev 8 (STM32H742/743/750/753)
 * and RM0399 Rev 4 (STM32H745/747/755/757): memory map (2.3.2), PWR (6.8),
 * RCC (8.7 / 9.7), FLASH (4.9), GPIO (11.4), USART (48.7), SYSCFG (12.3).
 * Offsets cross-checked with ST's public cmsis_device_h7 headers.
 */
#ifndef MCUGEN_STM32H7_REGS_H
#define MCUGEN_STM32H7_REGS_H

#include "cortex_m7.h"

#define FLASH_R_BASE  0x52002000u  /* RM0433 2.3.2: Flash interface registers */
#define RCC_BASE      0x58024400u
#define PWR_BASE      0x58024800u
#define SYSCFG_BASE   0x58000400u
#define GPIOA_BASE    0x58020000u
#define GPIO_STRIDE   0x400u        /* GPIOB = GPIOA + 0x400, ... */

/* FLASH_ACR (RM0433 4.9.1) */
#define FLASH_ACR REG32(FLASH_R_BASE + 0x00u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_WRHIGHFREQ_SHIFT 4u
#define FLASH_ACR_WRHIGHFREQ_MASK (3u << 4)

/* PWR (RM0433 6.8; RM0399 7.8) */
#define PWR_CSR1 REG32(PWR_BASE + 0x04u)
#define PWR_CR3  REG32(PWR_BASE + 0x0Cu)
#define PWR_D3CR REG32(PWR_BASE + 0x18u)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3_BYPASS (1u << 0)
#define PWR_CR3_LDOEN  (1u << 1)
#define PWR_CR3_SCUEN  (1u << 2)    /* H743: supply configuration update enable */
#define PWR_CR3_SDEN   (1u << 2)    /* H747: SMPS step-down converter enable (same bit) */
#define PWR_CR3_SMPSEXTHP (1u << 3) /* H747 */
#define PWR_CR3_SMPSLEVEL_MASK (3u << 4) /* H747 */
#define PWR_D3CR_VOSRDY (1u << 13)
#define PWR_D3CR_VOS_SHIFT 14u
#define PWR_D3CR_VOS_MASK (3u << 14)
#define PWR_VOS1 3u                 /* VOS[1:0] = 11: scale 1 */

/* SYSCFG_PWRCR: ODEN (overdrive = VOS0 on top of VOS1), RM0433 12.3.7 */
#define SYSCFG_PWRCR REG32(SYSCFG_BASE + 0x2Cu)
#define SYSCFG_PWRCR_ODEN (1u << 0)

/* RCC (RM0433 8.7) */
#define RCC_CR        REG32(RCC_BASE + 0x00u)
#define RCC_CFGR      REG32(RCC_BASE + 0x10u)
#define RCC_D1CFGR    REG32(RCC_BASE + 0x18u)
#define RCC_D2CFGR    REG32(RCC_BASE + 0x1Cu)
#define RCC_D3CFGR    REG32(RCC_BASE + 0x20u)
#define RCC_PLLCKSELR REG32(RCC_BASE + 0x28u)
#define RCC_PLLCFGR   REG32(RCC_BASE + 0x2Cu)
#define RCC_PLL1DIVR  REG32(RCC_BASE + 0x30u)
#define RCC_AHB2ENR   REG32(RCC_BASE + 0xDCu)
#define RCC_AHB4ENR   REG32(RCC_BASE + 0xE0u)
#define RCC_APB1LENR  REG32(RCC_BASE + 0xE8u)
#define RCC_APB2ENR   REG32(RCC_BASE + 0xF0u)
#define RCC_APB4ENR   REG32(RCC_BASE + 0xF4u)

#define RCC_CR_HSEON   (1u << 16)
#define RCC_CR_HSERDY  (1u << 17)
#define RCC_CR_HSEBYP  (1u << 18)
#define RCC_CR_PLL1ON  (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CFGR_SW_MASK 7u
#define RCC_CFGR_SW_PLL1 3u
#define RCC_CFGR_SWS_SHIFT 3u
#define RCC_D1CFGR_HPRE_DIV2   (8u << 0)   /* AXI/AHB = sys_ck / 2 */
#define RCC_D1CFGR_D1PPRE_DIV2 (4u << 4)   /* APB3 */
#define RCC_D1CFGR_D1CPRE_DIV1 (0u << 8)   /* core = sys_ck */
#define RCC_D2CFGR_D2PPRE1_DIV2 (4u << 4)  /* APB1 */
#define RCC_D2CFGR_D2PPRE2_DIV2 (4u << 8)  /* APB2 */
#define RCC_D3CFGR_D3PPRE_DIV2 (4u << 4)   /* APB4 */
#define RCC_PLLCKSELR_PLLSRC_HSE 2u
#define RCC_PLLCKSELR_DIVM1_SHIFT 4u
#define RCC_PLLCKSELR_DIVM1_MASK (0x3Fu << 4)
#define RCC_PLLCFGR_PLL1FRACEN (1u << 0)
#define RCC_PLLCFGR_PLL1VCOSEL (1u << 1)   /* 0: wide VCO 192..960 MHz */
#define RCC_PLLCFGR_PLL1RGE_SHIFT 2u       /* 1: 2-4 MHz, 2: 4-8 MHz input */
#define RCC_PLLCFGR_PLL1RGE_MASK (3u << 2)
#define RCC_PLLCFGR_DIVP1EN (1u << 16)
#define RCC_PLLCFGR_DIVQ1EN (1u << 17)
#define RCC_PLLCFGR_DIVR1EN (1u << 18)
#define RCC_AHB2ENR_SRAM123 ((1u << 29) | (1u << 30) | (1u << 31)) /* D2 SRAM1/2/3 clocks */
#define RCC_APB4ENR_SYSCFGEN (1u << 1)
#define RCC_APB1LENR_USART3EN (1u << 18)
#define RCC_APB2ENR_USART1EN (1u << 4)

/* GPIO (RM0433 11.4) */
#define GPIO_MODER(port)   REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x00u)
#define GPIO_OSPEEDR(port) REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x08u)
#define GPIO_PUPDR(port)   REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x0Cu)
#define GPIO_AFR(port, pin) REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x20u + 4u * ((pin) >> 3))
#define GPIO_MODE_AF 2u

/* USART (RM0433 48.7) */
#define USART_CR1(b) REG32((b) + 0x00u)
#define USART_BRR(b) REG32((b) + 0x0Cu)
#define USART_ISR(b) REG32((b) + 0x1Cu)
#define USART_ICR(b) REG32((b) + 0x20u)
#define USART_RDR(b) REG32((b) + 0x24u)
#define USART_TDR(b) REG32((b) + 0x28u)
#define USART_CR1_UE (1u << 0)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_ISR_RXNE (1u << 5)
#define USART_ISR_TXE  (1u << 7)
#define USART_ICR_ERRORS 0xFu        /* PE, FE, NE, ORE clear flags */

#endif
