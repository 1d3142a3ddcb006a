/*
 * stm32h7_regs.h - the STM32H743/H747 registers mcugen uses, written out here (no vendor
 * headers in a generated project). Every address, field and value carries a tag that
 * tests/test_board_facts.py checks against ST's SVD data (STM32H743, STM32H747_CM7), kept as
 * facts reduced from the SVD files (tests/fixtures/board_facts/stm32h74x_svd_facts.yaml, with
 * their provenance; a new tag needs them regenerated: tests/tools/svd_facts.py):
 * `svd: PERIPH.REG.FIELD` (see tests/_svd.py), `svd(DEVICE):` for one part only, and
 * `fact: KEY` for what the SVD does not hold (tests/fixtures/board_facts/stm32h7.yaml).
 * Documents: RM0433 Rev 8 (H742/743/750/753), RM0399 Rev 4 (H745/747/755/757).
 */
#ifndef MCUGEN_STM32H7_REGS_H
#define MCUGEN_STM32H7_REGS_H

#include "cortex_m7.h"

#define FLASH_R_BASE  0x52002000u  /* svd: Flash */
#define FMC_BASE      0x52004000u  /* svd: FMC */
#define QUADSPI_BASE  0x52005000u  /* svd: QUADSPI */
#define RCC_BASE      0x58024400u  /* svd: RCC */
#define PWR_BASE      0x58024800u  /* svd: PWR */
#define SYSCFG_BASE   0x58000400u  /* svd: SYSCFG */
#define GPIOA_BASE    0x58020000u  /* svd: GPIOA */
#define GPIO_STRIDE   0x400u       /* derived: GPIOx = GPIOA + x * 0x400, checked by test_gpio_port_stride */
#define DBGMCU_BASE   0x5C001000u  /* svd: DBGMCU */
#define AXI_BASE      0x51000000u  /* svd: AXI */
#define QSPI_WINDOW   0x90000000u  /* fact: quadspi_window */
#define SDRAM_BANK2_WINDOW 0xD0000000u /* fact: fmc_sdram_bank2_window */

/* FLASH_ACR (RM0433 4.9.1) */
#define FLASH_ACR REG32(FLASH_R_BASE + 0x00u)          /* svd: Flash.ACR */
/* LATENCY is 4 bits in ST's CMSIS headers (RM0433) and 3 bits in the H747 SVD: clear the 3 both
 * agree on (4 wait states fit). */
#define FLASH_ACR_LATENCY_MASK 0x7u                     /* svd: Flash.ACR.LATENCY<< */
#define FLASH_ACR_WRHIGHFREQ_SHIFT 4u                   /* svd: Flash.ACR.WRHIGHFREQ */
#define FLASH_ACR_WRHIGHFREQ_MASK (3u << 4)             /* svd: Flash.ACR.WRHIGHFREQ */

/* PWR (RM0433 6.8; RM0399 7.8) */
#define PWR_CSR1 REG32(PWR_BASE + 0x04u)                /* svd: PWR.CSR1 */
#define PWR_CR3  REG32(PWR_BASE + 0x0Cu)                /* svd: PWR.CR3 */
#define PWR_D3CR REG32(PWR_BASE + 0x18u)                /* svd: PWR.D3CR */
#define PWR_CSR1_ACTVOSRDY (1u << 13)                   /* svd: PWR.CSR1.ACTVOSRDY */
#define PWR_CR3_BYPASS (1u << 0)                        /* svd: PWR.CR3.BYPASS */
#define PWR_CR3_LDOEN  (1u << 1)                        /* svd: PWR.CR3.LDOEN */
#define PWR_CR3_SCUEN  (1u << 2)                        /* svd(STM32H743): PWR.CR3.SCUEN */
#define PWR_CR3_SDEN   (1u << 2)                        /* svd(STM32H747_CM7): PWR.CR3.SDEN */
#define PWR_CR3_SMPSEXTHP (1u << 3)                     /* fact: pwr_cr3_smpsexthp (not in the H747 SVD) */
#define PWR_CR3_SMPSLEVEL_MASK (3u << 4)                /* fact: pwr_cr3_smpslevel (not in the H747 SVD) */
#define PWR_D3CR_VOSRDY (1u << 13)                      /* svd: PWR.D3CR.VOSRDY */
#define PWR_D3CR_VOS_SHIFT 14u                          /* svd: PWR.D3CR.VOS */
#define PWR_D3CR_VOS_MASK (3u << 14)                    /* svd: PWR.D3CR.VOS */
#define PWR_VOS1 3u                                     /* svd: PWR.D3CR.VOS= */

/* SYSCFG_PWRCR.ODEN: overdrive, VOS0 on top of VOS1 (RM0433 12.3.7) */
#define SYSCFG_PWRCR REG32(SYSCFG_BASE + 0x2Cu)         /* svd: SYSCFG.PWRCR */
/* ODEN: 1 bit in ST's CMSIS headers and RM0433, 4 bits in the SVD; bit 0 is in both. */
#define SYSCFG_PWRCR_ODEN (1u << 0)                     /* svd: SYSCFG.PWRCR.ODEN<< */

/* DBGMCU_IDC: silicon revision (RM0433 58.5.8); ST HAL REV_ID_Y / REV_ID_V */
#define DBGMCU_IDC REG32(DBGMCU_BASE + 0x00u)           /* svd: DBGMCU.IDC */
#define DBGMCU_IDC_REV_ID_SHIFT 16u                     /* svd: DBGMCU.IDC.REV_ID */
#define REV_ID_Y 0x1003u                                /* fact: rev_id_y */
#define REV_ID_V 0x2003u                                /* fact: rev_id_v */

/* AXI interconnect, target 7 (AXI SRAM): rev Y needs read issuing capability 1 (ST
 * SystemInit, erratum ES0392 2.2.9) */
#define AXI_TARG7_FN_MOD REG32(AXI_BASE + 0x8108u)      /* svd: AXI.AXI_TARG7_FN_MOD */
#define AXI_TARG7_FN_MOD_READ_ISS_OVERRIDE (1u << 0)    /* svd: AXI.AXI_TARG7_FN_MOD.READ_ISS_OVERRIDE */

/* RCC (RM0433 8.7) */
#define RCC_CR        REG32(RCC_BASE + 0x00u)           /* svd: RCC.CR */
#define RCC_CFGR      REG32(RCC_BASE + 0x10u)           /* svd: RCC.CFGR */
#define RCC_D1CFGR    REG32(RCC_BASE + 0x18u)           /* svd: RCC.D1CFGR */
#define RCC_D2CFGR    REG32(RCC_BASE + 0x1Cu)           /* svd: RCC.D2CFGR */
#define RCC_D3CFGR    REG32(RCC_BASE + 0x20u)           /* svd: RCC.D3CFGR */
#define RCC_PLLCKSELR REG32(RCC_BASE + 0x28u)           /* svd: RCC.PLLCKSELR */
#define RCC_D1CCIPR   REG32(RCC_BASE + 0x4Cu)           /* svd: RCC.D1CCIPR */
#define RCC_PLLCFGR   REG32(RCC_BASE + 0x2Cu)           /* svd: RCC.PLLCFGR */
#define RCC_PLL1DIVR  REG32(RCC_BASE + 0x30u)           /* svd: RCC.PLL1DIVR */
#define RCC_AHB3ENR   REG32(RCC_BASE + 0xD4u)           /* svd: RCC.AHB3ENR */
#define RCC_AHB2ENR   REG32(RCC_BASE + 0xDCu)           /* svd: RCC.AHB2ENR */
#define RCC_AHB4ENR   REG32(RCC_BASE + 0xE0u)           /* svd: RCC.AHB4ENR */
#define RCC_APB1LENR  REG32(RCC_BASE + 0xE8u)           /* svd: RCC.APB1LENR */
#define RCC_APB2ENR   REG32(RCC_BASE + 0xF0u)           /* svd: RCC.APB2ENR */
#define RCC_APB4ENR   REG32(RCC_BASE + 0xF4u)           /* svd: RCC.APB4ENR */

#define RCC_CR_HSEON   (1u << 16)                       /* svd: RCC.CR.HSEON */
#define RCC_CR_HSERDY  (1u << 17)                       /* svd: RCC.CR.HSERDY */
#define RCC_CR_HSEBYP  (1u << 18)                       /* svd: RCC.CR.HSEBYP */
#define RCC_CR_PLL1ON  (1u << 24)                       /* svd: RCC.CR.PLL1ON */
#define RCC_CR_PLL1RDY (1u << 25)                       /* svd: RCC.CR.PLL1RDY */
#define RCC_CFGR_SW_MASK 7u                             /* svd: RCC.CFGR.SW */
#define RCC_CFGR_SW_PLL1 3u                             /* svd: RCC.CFGR.SW= */
#define RCC_CFGR_SWS_SHIFT 3u                           /* svd: RCC.CFGR.SWS */
#define RCC_D1CFGR_HPRE_MASK   (0xFu << 0)              /* svd: RCC.D1CFGR.HPRE */
#define RCC_D1CFGR_HPRE_DIV2   (8u << 0)                /* svd: RCC.D1CFGR.HPRE<< */
#define RCC_D1CFGR_D1PPRE_DIV2 (4u << 4)                /* svd: RCC.D1CFGR.D1PPRE<< */
#define RCC_D1CFGR_D1CPRE_DIV1 (0u << 8)                /* svd: RCC.D1CFGR.D1CPRE<< */
#define RCC_D2CFGR_D2PPRE1_MASK (7u << 4)               /* svd: RCC.D2CFGR.D2PPRE1 */
#define RCC_D2CFGR_D2PPRE1_DIV2 (4u << 4)               /* svd: RCC.D2CFGR.D2PPRE1<< */
#define RCC_D2CFGR_D2PPRE2_MASK (7u << 8)               /* svd: RCC.D2CFGR.D2PPRE2 */
#define RCC_D2CFGR_D2PPRE2_DIV2 (4u << 8)               /* svd: RCC.D2CFGR.D2PPRE2<< */
#define RCC_D3CFGR_D3PPRE_DIV2 (4u << 4)                /* svd: RCC.D3CFGR.D3PPRE<< */
#define RCC_PLLCKSELR_PLLSRC_HSE 2u                     /* svd: RCC.PLLCKSELR.PLLSRC= */
#define RCC_PLLCKSELR_PLLSRC_MASK 3u                    /* svd: RCC.PLLCKSELR.PLLSRC */
#define RCC_PLLCKSELR_DIVM1_SHIFT 4u                    /* svd: RCC.PLLCKSELR.DIVM1 */
#define RCC_PLLCKSELR_DIVM1_MASK (0x3Fu << 4)           /* svd: RCC.PLLCKSELR.DIVM1 */
#define RCC_PLLCFGR_PLL1FRACEN (1u << 0)                /* svd: RCC.PLLCFGR.PLL1FRACEN */
#define RCC_PLLCFGR_PLL1VCOSEL (1u << 1)                /* svd: RCC.PLLCFGR.PLL1VCOSEL */
#define RCC_PLLCFGR_PLL1RGE_SHIFT 2u                    /* svd: RCC.PLLCFGR.PLL1RGE */
#define RCC_PLLCFGR_PLL1RGE_MASK (3u << 2)              /* svd: RCC.PLLCFGR.PLL1RGE */
#define RCC_PLLCFGR_DIVP1EN (1u << 16)                  /* svd: RCC.PLLCFGR.DIVP1EN */
#define RCC_PLLCFGR_DIVQ1EN (1u << 17)                  /* svd: RCC.PLLCFGR.DIVQ1EN */
#define RCC_PLLCFGR_DIVR1EN (1u << 18)                  /* svd: RCC.PLLCFGR.DIVR1EN */
#define RCC_PLL1DIVR_N1_SHIFT 0u                        /* svd: RCC.PLL1DIVR.DIVN1 */
#define RCC_PLL1DIVR_P1_SHIFT 9u                        /* svd: RCC.PLL1DIVR.DIVP1 */
#define RCC_PLL1DIVR_Q1_SHIFT 16u                       /* svd: RCC.PLL1DIVR.DIVQ1 */
#define RCC_PLL1DIVR_R1_SHIFT 24u                       /* svd: RCC.PLL1DIVR.DIVR1 */
#define RCC_D1CCIPR_FMCSEL_MASK (3u << 0)               /* svd: RCC.D1CCIPR.FMCSEL */
#define RCC_D1CCIPR_QSPISEL_SHIFT 4u                    /* svd: RCC.D1CCIPR.QSPISEL */
#define RCC_D1CCIPR_QSPISEL_MASK (3u << 4)              /* svd: RCC.D1CCIPR.QSPISEL */
#define RCC_KERNEL_SEL_HCLK3 0u                         /* fact: rcc_fmc_qspi_sel_hclk3 */
#define RCC_AHB2ENR_SRAM123 ((1u << 29) | (1u << 30) | (1u << 31)) /* derived: SRAM1EN|SRAM2EN|SRAM3EN, checked by test_sram123_clock_bits */
#define RCC_AHB3ENR_FMCEN (1u << 12)                    /* svd: RCC.AHB3ENR.FMCEN */
#define RCC_AHB3ENR_QSPIEN (1u << 14)                   /* svd: RCC.AHB3ENR.QSPIEN */
#define RCC_APB4ENR_SYSCFGEN (1u << 1)                  /* svd: RCC.APB4ENR.SYSCFGEN */
#define RCC_APB1LENR_USART3EN (1u << 18)                /* svd: RCC.APB1LENR.USART3EN */
#define RCC_APB2ENR_USART1EN (1u << 4)                  /* svd: RCC.APB2ENR.USART1EN */

/* GPIO (RM0433 11.4); AF numbers per pin are board facts (boards.yaml, fixtures) */
#define GPIO_MODER(port)   REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x00u)  /* svd: GPIOA.MODER port=0; GPIOD.MODER port=3 */
#define GPIO_OSPEEDR(port) REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x08u)  /* svd: GPIOA.OSPEEDR port=0; GPIOI.OSPEEDR port=8 */
#define GPIO_PUPDR(port)   REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x0Cu)  /* svd: GPIOA.PUPDR port=0; GPIOH.PUPDR port=7 */
#define GPIO_AFR(port, pin) REG32(GPIOA_BASE + (port) * GPIO_STRIDE + 0x20u + 4u * ((pin) >> 3)) /* svd: GPIOD.AFRH port=3 pin=8; GPIOA.AFRL port=0 pin=7 */
#define GPIO_MODE_AF 2u                                 /* svd: GPIOA.MODER.MODE0= */
#define GPIO_SPEED_VERY_HIGH 3u                         /* svd: GPIOA.OSPEEDR.OSPEED0= */
#define GPIO_PULL_UP 1u                                 /* svd: GPIOA.PUPDR.PUPD0= */

/* USART (RM0433 48.7) */
#define USART_CR1(b) REG32((b) + 0x00u)                 /* svd: USART1.CR1 b=0x40011000; USART3.CR1 b=0x40004800 */
#define USART_BRR(b) REG32((b) + 0x0Cu)                 /* svd: USART1.BRR b=0x40011000 */
#define USART_ISR(b) REG32((b) + 0x1Cu)                 /* svd: USART1.ISR b=0x40011000 */
#define USART_ICR(b) REG32((b) + 0x20u)                 /* svd: USART1.ICR b=0x40011000 */
#define USART_RDR(b) REG32((b) + 0x24u)                 /* svd: USART1.RDR b=0x40011000 */
#define USART_TDR(b) REG32((b) + 0x28u)                 /* svd: USART1.TDR b=0x40011000 */
#define USART_CR1_UE (1u << 0)                          /* svd: USART1.CR1.UE */
#define USART_CR1_RE (1u << 2)                          /* svd: USART1.CR1.RE */
#define USART_CR1_TE (1u << 3)                          /* svd: USART1.CR1.TE */
#define USART_ISR_RXNE (1u << 5)                        /* svd: USART1.ISR.RXNE */
#define USART_ISR_TXE  (1u << 7)                        /* svd: USART1.ISR.TXE */
#define USART_ICR_ERRORS 0xFu                           /* derived: PECF|FECF|NECF|ORECF, checked by test_usart_error_clear_bits */

/* FMC SDRAM controller (RM0399 23.9). SDCLK, RBURST, RPIPE and the TRC/TRP timings exist only
 * in the bank-1 registers and apply to both banks: set them there even for bank 2. */
#define FMC_BCR1  REG32(FMC_BASE + 0x000u)              /* svd: FMC.BCR1 */
#define FMC_SDCR1 REG32(FMC_BASE + 0x140u)              /* svd: FMC.SDCR1 */
#define FMC_SDCR2 REG32(FMC_BASE + 0x144u)              /* svd: FMC.SDCR2 */
#define FMC_SDTR1 REG32(FMC_BASE + 0x148u)              /* svd: FMC.SDTR1 */
#define FMC_SDTR2 REG32(FMC_BASE + 0x14Cu)              /* svd: FMC.SDTR2 */
#define FMC_SDCMR REG32(FMC_BASE + 0x150u)              /* svd: FMC.SDCMR */
#define FMC_SDRTR REG32(FMC_BASE + 0x154u)              /* svd: FMC.SDRTR */
#define FMC_SDSR  REG32(FMC_BASE + 0x158u)              /* svd: FMC.SDSR */
#define FMC_BCR1_FMCEN (1u << 31)                       /* svd: FMC.BCR1.FMCEN */
#define FMC_SDCR_NC_SHIFT 0u                            /* svd: FMC.SDCR2.NC */
#define FMC_SDCR_NR_SHIFT 2u                            /* svd: FMC.SDCR2.NR */
#define FMC_SDCR_MWID_SHIFT 4u                          /* svd: FMC.SDCR2.MWID */
#define FMC_SDCR_NB_SHIFT 6u                            /* svd: FMC.SDCR2.NB */
#define FMC_SDCR_CAS_SHIFT 7u                           /* svd: FMC.SDCR2.CAS */
#define FMC_SDCR_SDCLK_SHIFT 10u                        /* svd: FMC.SDCR1.SDCLK */
#define FMC_SDCR_RBURST (1u << 12)                      /* svd: FMC.SDCR1.RBURST */
#define FMC_SDCR_RPIPE_SHIFT 13u                        /* svd: FMC.SDCR1.RPIPE */
#define FMC_SDTR_TMRD_SHIFT 0u                          /* svd: FMC.SDTR2.TMRD */
#define FMC_SDTR_TXSR_SHIFT 4u                          /* svd: FMC.SDTR2.TXSR */
#define FMC_SDTR_TRAS_SHIFT 8u                          /* svd: FMC.SDTR2.TRAS */
#define FMC_SDTR_TRC_SHIFT 12u                          /* svd: FMC.SDTR1.TRC */
#define FMC_SDTR_TWR_SHIFT 16u                          /* svd: FMC.SDTR2.TWR */
#define FMC_SDTR_TRP_SHIFT 20u                          /* svd: FMC.SDTR1.TRP */
#define FMC_SDTR_TRCD_SHIFT 24u                         /* svd: FMC.SDTR2.TRCD */
#define FMC_SDCMR_MODE_SHIFT 0u                         /* svd: FMC.SDCMR.MODE */
#define FMC_SDCMR_CTB2 (1u << 3)                        /* svd: FMC.SDCMR.CTB2 */
#define FMC_SDCMR_NRFS_SHIFT 5u                         /* svd: FMC.SDCMR.NRFS */
#define FMC_SDCMR_MRD_SHIFT 9u                          /* svd: FMC.SDCMR.MRD */
#define FMC_SDRTR_COUNT_SHIFT 1u                        /* svd: FMC.SDRTR.COUNT */
#define FMC_CMD_CLK_ENABLE 1u                           /* svd: FMC.SDCMR.MODE= */
#define FMC_CMD_PALL 2u                                 /* svd: FMC.SDCMR.MODE= */
#define FMC_CMD_AUTOREFRESH 3u                          /* svd: FMC.SDCMR.MODE= */
#define FMC_CMD_LOAD_MODE 4u                            /* svd: FMC.SDCMR.MODE= */

/* QUADSPI (RM0399 24.5) */
#define QUADSPI_CR  REG32(QUADSPI_BASE + 0x00u)         /* svd: QUADSPI.CR */
#define QUADSPI_DCR REG32(QUADSPI_BASE + 0x04u)         /* svd: QUADSPI.DCR */
#define QUADSPI_SR  REG32(QUADSPI_BASE + 0x08u)         /* svd: QUADSPI.SR */
#define QUADSPI_CCR REG32(QUADSPI_BASE + 0x14u)         /* svd: QUADSPI.CCR */
#define QUADSPI_CR_EN (1u << 0)                         /* svd: QUADSPI.CR.EN */
#define QUADSPI_CR_SSHIFT (1u << 4)                     /* svd: QUADSPI.CR.SSHIFT */
#define QUADSPI_CR_DFM (1u << 6)                        /* svd: QUADSPI.CR.DFM */
#define QUADSPI_CR_FTHRES_SHIFT 8u                      /* svd: QUADSPI.CR.FTHRES */
#define QUADSPI_CR_PRESCALER_SHIFT 24u                  /* svd: QUADSPI.CR.PRESCALER */
#define QUADSPI_DCR_CSHT_SHIFT 8u                       /* svd: QUADSPI.DCR.CSHT */
#define QUADSPI_DCR_FSIZE_SHIFT 16u                     /* svd: QUADSPI.DCR.FSIZE */
#define QUADSPI_SR_BUSY (1u << 5)                       /* svd: QUADSPI.SR.BUSY */
#define QUADSPI_CCR_INSTRUCTION_SHIFT 0u                /* svd: QUADSPI.CCR.INSTRUCTION */
#define QUADSPI_CCR_IMODE_SHIFT 8u                      /* svd: QUADSPI.CCR.IMODE */
#define QUADSPI_CCR_ADMODE_SHIFT 10u                    /* svd: QUADSPI.CCR.ADMODE */
#define QUADSPI_CCR_ADSIZE_SHIFT 12u                    /* svd: QUADSPI.CCR.ADSIZE */
#define QUADSPI_CCR_DCYC_SHIFT 18u                      /* svd: QUADSPI.CCR.DCYC */
#define QUADSPI_CCR_DMODE_SHIFT 24u                     /* svd: QUADSPI.CCR.DMODE */
#define QUADSPI_CCR_FMODE_SHIFT 26u                     /* svd: QUADSPI.CCR.FMODE */
#define QUADSPI_FMODE_MEMORY_MAPPED 3u                  /* svd: QUADSPI.CCR.FMODE= */
#define QUADSPI_LINES_1 1u                              /* svd: QUADSPI.CCR.IMODE= */
#define QUADSPI_ADSIZE_32 3u                            /* svd: QUADSPI.CCR.ADSIZE= */

#endif
