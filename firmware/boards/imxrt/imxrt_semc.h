/*
 * imxrt_semc.h - SEMC SDRAM set-up for the MIMXRT1050-EVKB and MIMXRT1170-EVK. The SEMC block is
 * the same on both parts; the part headers (imxrt1050_regs.h / imxrt1170_regs.h) give its clock,
 * pins, port size, burst length and the SDRAM's timings in ns. Included by board.c after the part
 * header; the set-up is compiled in when a section is placed in SDRAM (MCUGEN_INIT_SDRAM) and runs
 * from board_early_init() after the clocks, before .data/.bss are filled.
 *
 * The sequence is the NXP SDK's SEMC_Init + SEMC_ConfigureSDRAM (drivers/semc/fsl_semc.c 2.7.0),
 * with the settings of the boards' BOARD_InitSEMC. Timings: the part's ns in SEMC clock cycles,
 * rounded up; the timing fields hold cycles - 1 (SDK SEMC_ConvertTiming). Every address and field
 * is tagged (tests/test_board_facts.py, against both SVDs); tests/test_sdram_timing.py compiles
 * this header on the host and checks each timing field against the ns and the SVD's field widths.
 */
#ifndef MCUGEN_IMXRT_SEMC_H
#define MCUGEN_IMXRT_SEMC_H

#define SEMC_MCR      REG32(SEMC_BASE + 0x00u)  /* svd: SEMC.MCR */
#define SEMC_IOCR     REG32(SEMC_BASE + 0x04u)  /* svd: SEMC.IOCR */
#define SEMC_BMCR0    REG32(SEMC_BASE + 0x08u)  /* svd: SEMC.BMCR0 */
#define SEMC_BMCR1    REG32(SEMC_BASE + 0x0Cu)  /* svd: SEMC.BMCR1 */
#define SEMC_BR(n)    REG32(SEMC_BASE + 0x10u + 4u * (n)) /* svd: SEMC.BR0 n=0; SEMC.BR8 n=8 */
#define SEMC_INTR     REG32(SEMC_BASE + 0x3Cu)  /* svd: SEMC.INTR */
#define SEMC_SDRAMCR0 REG32(SEMC_BASE + 0x40u)  /* svd: SEMC.SDRAMCR0 */
#define SEMC_SDRAMCR1 REG32(SEMC_BASE + 0x44u)  /* svd: SEMC.SDRAMCR1 */
#define SEMC_SDRAMCR2 REG32(SEMC_BASE + 0x48u)  /* svd: SEMC.SDRAMCR2 */
#define SEMC_SDRAMCR3 REG32(SEMC_BASE + 0x4Cu)  /* svd: SEMC.SDRAMCR3 */
#define SEMC_IPCR0    REG32(SEMC_BASE + 0x90u)  /* svd: SEMC.IPCR0 */
#define SEMC_IPCR1    REG32(SEMC_BASE + 0x94u)  /* svd: SEMC.IPCR1 */
#define SEMC_IPCR2    REG32(SEMC_BASE + 0x98u)  /* svd: SEMC.IPCR2 */
#define SEMC_IPCMD    REG32(SEMC_BASE + 0x9Cu)  /* svd: SEMC.IPCMD */
#define SEMC_IPTXDAT  REG32(SEMC_BASE + 0xA0u)  /* svd: SEMC.IPTXDAT */
#define SEMC_BR_COUNT 9u                        /* fact: semc_br_count */

#define SEMC_MCR_SWRST (1u << 0)                /* svd: SEMC.MCR.SWRST */
#define SEMC_MCR_MDIS (1u << 1)                 /* svd: SEMC.MCR.MDIS */
#define SEMC_MCR_DQSMD_SHIFT 2u                 /* svd: SEMC.MCR.DQSMD */
#define SEMC_MCR_CTO_SHIFT 16u                  /* svd: SEMC.MCR.CTO */
#define SEMC_MCR_BTO_SHIFT 24u                  /* svd: SEMC.MCR.BTO */
#define SEMC_DQSMD_FROM_PAD 1u                  /* svd: SEMC.MCR.DQSMD=from DQS pad */
#define SEMC_CMD_TIMEOUT 0xFFu                  /* fact: semc_cmd_timeout */
#define SEMC_BUS_TIMEOUT 0x1Fu                  /* fact: semc_bus_timeout */

/* AXI queue weights: the SDK's SEMC_GetDefaultConfig "typical" values */
#define SEMC_BMCR_WQOS_SHIFT 0u                 /* svd: SEMC.BMCR0.WQOS; SEMC.BMCR1.WQOS */
#define SEMC_BMCR_WAGE_SHIFT 4u                 /* svd: SEMC.BMCR0.WAGE; SEMC.BMCR1.WAGE */
#define SEMC_BMCR0_WSH_SHIFT 8u                 /* svd: SEMC.BMCR0.WSH */
#define SEMC_BMCR_WRWS_SHIFT 16u                /* svd: SEMC.BMCR0.WRWS; SEMC.BMCR1.WRWS */
#define SEMC_BMCR1_WPH_SHIFT 8u                 /* svd: SEMC.BMCR1.WPH */
#define SEMC_BMCR1_WBR_SHIFT 24u                /* svd: SEMC.BMCR1.WBR */
#define SEMC_WQOS 5u                            /* fact: semc_bmcr_wqos */
#define SEMC_WAGE 8u                            /* fact: semc_bmcr_wage */
#define SEMC_BMCR0_WSH 0x40u                    /* fact: semc_bmcr0_wsh */
#define SEMC_BMCR0_WRWS 0x10u                   /* fact: semc_bmcr0_wrws */
#define SEMC_BMCR1_WPH 0x60u                    /* fact: semc_bmcr1_wph */
#define SEMC_BMCR1_WRWS 0x24u                   /* fact: semc_bmcr1_wrws */
#define SEMC_BMCR1_WBR 0x40u                    /* fact: semc_bmcr1_wbr */

#define SEMC_BR_VLD (1u << 0)                   /* svd: SEMC.BR0.VLD */
#define SEMC_BR_MS_SHIFT 1u                     /* svd: SEMC.BR0.MS */
#define SEMC_BR_BA_MASK 0xFFFFF000u             /* svd: SEMC.BR0.BA */
#define SEMC_BR_MS_LOG2_OFFSET 12u              /* fact: semc_br_ms_log2_offset */
#define SEMC_INTR_IPCMDDONE (1u << 0)           /* svd: SEMC.INTR.IPCMDDONE */
#define SEMC_INTR_IPCMDERR (1u << 1)            /* svd: SEMC.INTR.IPCMDERR */

#define SEMC_SDRAMCR0_PS_SHIFT 0u               /* svd: SEMC.SDRAMCR0.PS */
#define SEMC_SDRAMCR0_BL_SHIFT 4u               /* svd: SEMC.SDRAMCR0.BL */
#define SEMC_SDRAMCR0_COL_SHIFT 8u              /* svd: SEMC.SDRAMCR0.COL */
#define SEMC_SDRAMCR0_CL_SHIFT 10u              /* svd: SEMC.SDRAMCR0.CL */
#define SEMC_COL_9BIT 3u                        /* svd: SEMC.SDRAMCR0.COL=9 */
#define SEMC_CL_3 3u                            /* svd: SEMC.SDRAMCR0.CL=3 */
#define SEMC_SDRAMCR1_PRE2ACT_SHIFT 0u          /* svd: SEMC.SDRAMCR1.PRE2ACT */
#define SEMC_SDRAMCR1_ACT2RW_SHIFT 4u           /* svd: SEMC.SDRAMCR1.ACT2RW */
#define SEMC_SDRAMCR1_RFRC_SHIFT 8u             /* svd: SEMC.SDRAMCR1.RFRC */
#define SEMC_SDRAMCR1_WRC_SHIFT 13u             /* svd: SEMC.SDRAMCR1.WRC */
#define SEMC_SDRAMCR1_CKEOFF_SHIFT 16u          /* svd: SEMC.SDRAMCR1.CKEOFF */
#define SEMC_SDRAMCR1_ACT2PRE_SHIFT 20u         /* svd: SEMC.SDRAMCR1.ACT2PRE */
#define SEMC_SDRAMCR2_SRRC_SHIFT 0u             /* svd: SEMC.SDRAMCR2.SRRC */
#define SEMC_SDRAMCR2_REF2REF_SHIFT 8u          /* svd: SEMC.SDRAMCR2.REF2REF */
#define SEMC_SDRAMCR2_ACT2ACT_SHIFT 16u         /* svd: SEMC.SDRAMCR2.ACT2ACT */
#define SEMC_SDRAMCR3_REN (1u << 0)             /* svd: SEMC.SDRAMCR3.REN */
#define SEMC_SDRAMCR3_REBL_SHIFT 1u             /* svd: SEMC.SDRAMCR3.REBL */
#define SEMC_SDRAMCR3_PRESCALE_SHIFT 8u         /* svd: SEMC.SDRAMCR3.PRESCALE */
#define SEMC_SDRAMCR3_RT_SHIFT 16u              /* svd: SEMC.SDRAMCR3.RT */
#define SEMC_SDRAMCR3_UT_SHIFT 24u              /* svd: SEMC.SDRAMCR3.UT */
#define SEMC_IPCR1_DATSZ_2 2u                   /* svd: SEMC.IPCR1.DATSZ=2 */
#define SEMC_IPCMD_KEY_SHIFT 16u                /* svd: SEMC.IPCMD.KEY */
#define SEMC_IPCMD_KEY 0xA55Au                  /* fact: semc_ipcmd_key */
#define SEMC_CMD_MODESET 0xAu                   /* fact: semc_cmd_modeset */
#define SEMC_CMD_AUTOREFRESH 0xCu               /* fact: semc_cmd_autorefresh */
#define SEMC_CMD_PRECHARGE_ALL 0xFu             /* fact: semc_cmd_precharge_all */
#define SDRAM_MODE_CL_SHIFT 4u                  /* fact: sdram_mode_cas_shift */
#define SEMC_PRESCALE_CYCLES 160u               /* fact: semc_prescale_cycles */
#define SEMC_REFRESH_BURST 1u                   /* fact: semc_refresh_burst */
#define SDRAM_REFRESH_MS 64u                    /* fact: sdram_refresh_ms */

/* SEMC clock period in ps, rounded down so that every cycle count rounds up */
#define SEMC_TCK_PS (1000000000000ull / SEMC_CLOCK_HZ) /* derived: test_sdram_timing */
/* a time in ns as a SEMC timing field: cycles rounded up, minus one */
#define SEMC_CYC(ns) ((uint32_t)((((ns) * 1000ull) + SEMC_TCK_PS - 1u) / SEMC_TCK_PS) - 1u) /* derived: test_sdram_timing */
/* refresh timer: whole prescaler periods (rounded up) in one row's share of the refresh period */
#define SEMC_PRESCALE (SEMC_PRESCALE_CYCLES / 16u) /* derived: test_sdram_timing */
#define SEMC_PRESCALE_PS ((SEMC_PRESCALE * 16u + SEMC_PRESCALE_EXTRA_CYCLE) * (SEMC_TCK_PS + 1u)) /* derived: test_sdram_timing */
#define SEMC_REFRESH_ROW_PS (SDRAM_REFRESH_MS * 1000000000ull / SDRAM_REFRESH_ROWS) /* derived: test_sdram_timing */
#define SEMC_REFRESH_PERIODS ((uint32_t)(SEMC_REFRESH_ROW_PS / SEMC_PRESCALE_PS)) /* derived: test_sdram_timing */

#define SEMC_BMCR0_VALUE ((SEMC_WQOS << SEMC_BMCR_WQOS_SHIFT) | (SEMC_WAGE << SEMC_BMCR_WAGE_SHIFT) | (SEMC_BMCR0_WSH << SEMC_BMCR0_WSH_SHIFT) | (SEMC_BMCR0_WRWS << SEMC_BMCR_WRWS_SHIFT)) /* derived: test_sdram_timing */
#define SEMC_BMCR1_VALUE ((SEMC_WQOS << SEMC_BMCR_WQOS_SHIFT) | (SEMC_WAGE << SEMC_BMCR_WAGE_SHIFT) | (SEMC_BMCR1_WPH << SEMC_BMCR1_WPH_SHIFT) | (SEMC_BMCR1_WRWS << SEMC_BMCR_WRWS_SHIFT) | (SEMC_BMCR1_WBR << SEMC_BMCR1_WBR_SHIFT)) /* derived: test_sdram_timing */
#define SEMC_BR0_VALUE ((MCUGEN_SDRAM_BASE & SEMC_BR_BA_MASK) | ((MCUGEN_SDRAM_SIZE_LOG2 - SEMC_BR_MS_LOG2_OFFSET) << SEMC_BR_MS_SHIFT) | SEMC_BR_VLD) /* derived: test_sdram_timing */
#define SEMC_SDRAMCR0_VALUE ((SEMC_PORT_SIZE << SEMC_SDRAMCR0_PS_SHIFT) | (SEMC_BURST_LEN << SEMC_SDRAMCR0_BL_SHIFT) | (SEMC_COL_9BIT << SEMC_SDRAMCR0_COL_SHIFT) | (SEMC_CL_3 << SEMC_SDRAMCR0_CL_SHIFT)) /* derived: test_sdram_timing */
#define SEMC_SDRAMCR1_VALUE ((SEMC_CYC(SDRAM_TRP_NS) << SEMC_SDRAMCR1_PRE2ACT_SHIFT) | (SEMC_CYC(SDRAM_TRCD_NS) << SEMC_SDRAMCR1_ACT2RW_SHIFT) | (SEMC_CYC(SDRAM_TRFC_NS) << SEMC_SDRAMCR1_RFRC_SHIFT) | (SEMC_CYC(SDRAM_TWR_NS) << SEMC_SDRAMCR1_WRC_SHIFT) | (SEMC_CYC(SDRAM_TCKEOFF_NS) << SEMC_SDRAMCR1_CKEOFF_SHIFT) | (SEMC_CYC(SDRAM_TRAS_NS) << SEMC_SDRAMCR1_ACT2PRE_SHIFT)) /* derived: test_sdram_timing */
#define SEMC_SDRAMCR2_VALUE ((SEMC_CYC(SDRAM_TXSR_NS) << SEMC_SDRAMCR2_SRRC_SHIFT) | (SEMC_CYC(SDRAM_TREF2REF_NS) << SEMC_SDRAMCR2_REF2REF_SHIFT) | (SEMC_CYC(SDRAM_TACT2ACT_NS) << SEMC_SDRAMCR2_ACT2ACT_SHIFT)) /* derived: test_sdram_timing */
#define SEMC_SDRAMCR3_VALUE (((SEMC_REFRESH_BURST - 1u) << SEMC_SDRAMCR3_REBL_SHIFT) | (SEMC_PRESCALE << SEMC_SDRAMCR3_PRESCALE_SHIFT) | ((SEMC_REFRESH_PERIODS - 1u) << SEMC_SDRAMCR3_RT_SHIFT) | (SEMC_REFRESH_PERIODS << SEMC_SDRAMCR3_UT_SHIFT)) /* derived: test_sdram_timing */
#define SEMC_MODE_VALUE (SEMC_BURST_LEN | (SEMC_CL_3 << SDRAM_MODE_CL_SHIFT)) /* derived: test_sdram_timing */

/* Each value must fit its field (widths as in both SVDs; test_sdram_timing decodes them too). */
_Static_assert(SEMC_CYC(SDRAM_TRP_NS) <= 0xFu && SEMC_CYC(SDRAM_TRCD_NS) <= 0xFu && SEMC_CYC(SDRAM_TRFC_NS) <= 0x1Fu &&
               SEMC_CYC(SDRAM_TWR_NS) <= 0x7u && SEMC_CYC(SDRAM_TCKEOFF_NS) <= 0xFu && SEMC_CYC(SDRAM_TRAS_NS) <= 0xFu,
               "an SDRAM timing does not fit SEMC_SDRAMCR1 at this SEMC clock");
_Static_assert(SEMC_CYC(SDRAM_TXSR_NS) <= 0xFFu && SEMC_CYC(SDRAM_TREF2REF_NS) <= 0xFFu &&
               SEMC_CYC(SDRAM_TACT2ACT_NS) <= 0xFFu, "an SDRAM timing does not fit SEMC_SDRAMCR2");
_Static_assert(SEMC_REFRESH_PERIODS >= 2u && SEMC_REFRESH_PERIODS <= 0xFFu, "refresh timer out of range");

#if MCUGEN_INIT_SDRAM
#define SEMC_WAIT_LOOPS 100000u                 /* derived: a bound on every busy wait */

/* One SDRAM command through the IP bus (SDK SEMC_SendIPCommand); 1 when done without error. */
CM7_EARLY_TEXT static int semc_command(uint32_t cmd, uint32_t data)
{
    SEMC_INTR = SEMC_INTR_IPCMDDONE | SEMC_INTR_IPCMDERR; /* write 1 to clear */
    SEMC_IPCR0 = MCUGEN_SDRAM_BASE;
    SEMC_IPTXDAT = data;
    SEMC_IPCMD = (SEMC_IPCMD_KEY << SEMC_IPCMD_KEY_SHIFT) | cmd;
    for (uint32_t i = 0; i < SEMC_WAIT_LOOPS; i++) {
        uint32_t intr = SEMC_INTR;
        if (intr & SEMC_INTR_IPCMDDONE) {
            SEMC_INTR = SEMC_INTR_IPCMDDONE | SEMC_INTR_IPCMDERR;
            return (intr & SEMC_INTR_IPCMDERR) == 0u;
        }
    }
    return 0;
}

#if defined(MCUGEN_BOARD_MIMXRT1050_EVKB)
/* SEMC clock = PLL2 PFD2 / 2, with the SEMC gated while it changes (SDK clock_config.c order). */
CM7_EARLY_TEXT static int semc_clock_init(void)
{
    CCM_CCGR3 &= ~CCM_CCGR3_SEMC;
    CCM_CCGR1 &= ~CCM_CCGR1_SEMC_EXSC;
    /* PLL2 at 528 MHz: used as the boot ROM left it, else set up (SDK CLOCK_InitSysPll). A PLL2
     * running at another frequency is someone else's: leave it, no SDRAM. */
    uint32_t pll = CCM_ANALOG_PLL_SYS;
    if ((pll & (PLL_SYS_LOCK | PLL_SYS_ENABLE)) == (PLL_SYS_LOCK | PLL_SYS_ENABLE) &&
        !(pll & (PLL_SYS_POWERDOWN | PLL_SYS_BYPASS))) {
        if ((pll & PLL_SYS_DIV_SELECT_MASK) != PLL_SYS_DIV_SELECT_22) {
            return 0;
        }
    } else {
        CCM_ANALOG_PLL_SYS = pll | PLL_SYS_BYPASS;
        CCM_ANALOG_PLL_SYS = (CCM_ANALOG_PLL_SYS & ~(PLL_SYS_DIV_SELECT_MASK | PLL_SYS_POWERDOWN)) | PLL_SYS_ENABLE |
                             PLL_SYS_DIV_SELECT_22;
        if (!wait_set(&CCM_ANALOG_PLL_SYS, PLL_SYS_LOCK)) {
            return 0;
        }
        CCM_ANALOG_PLL_SYS &= ~PLL_SYS_BYPASS;
    }
    /* PFD2 to 18/29 unless it is there (SDK CLOCK_InitSysPfd: gate, then new fraction ungated) */
    uint32_t pfd = CCM_ANALOG_PFD_528;
    if ((pfd & (PFD_528_PFD2_FRAC_MASK | PFD_528_PFD2_CLKGATE)) != (SEMC_PFD_FRAC << PFD_528_PFD2_FRAC_SHIFT)) {
        pfd &= ~(PFD_528_PFD2_FRAC_MASK | PFD_528_PFD2_CLKGATE);
        CCM_ANALOG_PFD_528 = pfd | PFD_528_PFD2_CLKGATE;
        CCM_ANALOG_PFD_528 = pfd | (SEMC_PFD_FRAC << PFD_528_PFD2_FRAC_SHIFT);
    }
    CCM_CBCDR = (CCM_CBCDR & ~(CCM_CBCDR_SEMC_PODF_MASK | CCM_CBCDR_SEMC_ALT_CLK_SEL | CCM_CBCDR_SEMC_CLK_SEL)) |
                (CCM_SEMC_PODF_DIV2 << CCM_CBCDR_SEMC_PODF_SHIFT) |
                (CCM_SEMC_ALT_CLK_SEL_PLL2_PFD2 ? CCM_CBCDR_SEMC_ALT_CLK_SEL : 0u) |
                (CCM_SEMC_CLK_SEL_ALT ? CCM_CBCDR_SEMC_CLK_SEL : 0u);
    if (!wait_clear(&CCM_CDHIPR, CCM_CDHIPR_SEMC_PODF_BUSY)) {
        return 0;
    }
    CCM_CCGR3 |= CCM_CCGR3_SEMC;
    CCM_CCGR1 |= CCM_CCGR1_SEMC_EXSC;
    return 1;
}

CM7_EARLY_TEXT static void semc_pins_init(void)
{
    for (uint32_t n = 0; n < SEMC_PIN_COUNT; n++) {
        IOMUXC_MUX_EMC(n) = IOMUXC_EMC_ALT_SEMC | (n == SEMC_PIN_DQS ? IOMUXC_EMC_SION : 0u);
        IOMUXC_PAD_EMC(n) = IOMUXC_SEMC_PAD;
    }
}
#else
/* SEMC root = SYS_PLL2_PFD1 / 3 (SDK clock_config.c), with the SEMC's clock gate off meanwhile. */
CM7_EARLY_TEXT static int semc_clock_init(void)
{
    uint32_t pll2 = SYS_PLL2_CTRL;
    if (!(pll2 & SYS_PLL2_STABLE) || !(pll2 & SYS_PLL2_ENABLE_CLK) || (pll2 & SYS_PLL2_GATE)) {
        return 0; /* the boot ROM runs SYS_PLL2; without it there is no SEMC clock to take */
    }
    CCM_LPCG_DIRECT(CCM_LPCG_SEMC) = 0u;
    uint32_t pfd = SYS_PLL2_PFD;
    if ((pfd & (PFD1_FRAC_MASK | PFD1_CLKGATE)) != (SEMC_PFD_FRAC << PFD1_FRAC_SHIFT)) {
        /* SDK CLOCK_InitPfd: gate, new fraction, toggle the update bit, ungate, STABLE toggles */
        uint32_t stable = pfd & PFD1_STABLE;
        SYS_PLL2_PFD = pfd | PFD1_CLKGATE;
        SYS_PLL2_PFD = (SYS_PLL2_PFD & ~PFD1_FRAC_MASK) | (SEMC_PFD_FRAC << PFD1_FRAC_SHIFT);
        SYS_PLL2_UPDATE ^= PFD1_UPDATE;
        SYS_PLL2_PFD &= ~PFD1_CLKGATE;
        uint32_t i = 0;
        while ((SYS_PLL2_PFD & PFD1_STABLE) == stable && ++i < SEMC_WAIT_LOOPS) {
        }
        if (i == SEMC_WAIT_LOOPS) {
            return 0;
        }
    }
    root_set(CCM_ROOT_SEMC, CCM_SEMC_MUX_SYS_PLL2_PFD1, CCM_SEMC_ROOT_DIV);
    CCM_LPCG_DIRECT(CCM_LPCG_SEMC) = CCM_LPCG_DIRECT_ON;
    return 1;
}

CM7_EARLY_TEXT static void semc_pins_init(void)
{
    for (uint32_t n = 0; n < SEMC_PIN_COUNT; n++) {
        IOMUXC_MUX_EMC(n) = IOMUXC_EMC_ALT_SEMC | (n == SEMC_PIN_DQS ? IOMUXC_EMC_SION : 0u);
        IOMUXC_PAD_EMC(n) = IOMUXC_SEMC_PAD;
    }
    for (uint32_t n = 0; n < SEMC_PIN_COUNT_B2; n++) {
        IOMUXC_MUX_EMC_B2(n) = IOMUXC_EMC_ALT_SEMC;
        IOMUXC_PAD_EMC_B2(n) = IOMUXC_SEMC_PAD;
    }
}
#endif

/* The SDRAM on SEMC CS0 at MCUGEN_SDRAM_BASE; 1 when it is ready for use. Not inlined so that the
 * build tests find it in the boot region. */
CM7_EARLY_TEXT __attribute__((noinline)) int imxrt_sdram_init(void)
{
    if (!semc_clock_init()) {
        return 0;
    }
    semc_pins_init();
    /* SEMC_Init: no chip select decoded, reset, configure disabled, queue weights, enable */
    for (uint32_t n = 0; n < SEMC_BR_COUNT; n++) {
        SEMC_BR(n) = 0u;
    }
    SEMC_MCR = SEMC_MCR_SWRST;
    if (!wait_clear(&SEMC_MCR, SEMC_MCR_SWRST)) {
        return 0;
    }
    SEMC_MCR |= SEMC_MCR_MDIS | (SEMC_BUS_TIMEOUT << SEMC_MCR_BTO_SHIFT) | (SEMC_CMD_TIMEOUT << SEMC_MCR_CTO_SHIFT) |
                (SEMC_DQSMD_FROM_PAD << SEMC_MCR_DQSMD_SHIFT);
    SEMC_BMCR0 = SEMC_BMCR0_VALUE;
    SEMC_BMCR1 = SEMC_BMCR1_VALUE;
    SEMC_MCR &= ~SEMC_MCR_MDIS;
    /* SEMC_ConfigureSDRAM: window, geometry, A8 as an address line, delay chain, timings */
    SEMC_BR(0) = SEMC_BR0_VALUE;
    SEMC_SDRAMCR0 = SEMC_SDRAMCR0_VALUE;
    SEMC_IOCR = (SEMC_IOCR & ~SEMC_IOCR_MUX_A8_MASK) | SEMC_MUX_A8_SDRAM_A8;
#if defined(MCUGEN_BOARD_MIMXRT1170_EVK)
    SEMC_DCCR = (SEMC_DCCR & ~(SEMC_DCCR_SDRAMVAL_MASK | SEMC_DCCR_SDRAMEN)) |
                ((SEMC_DELAY_CHAIN - 1u) << SEMC_DCCR_SDRAMVAL_SHIFT) | SEMC_DCCR_SDRAMEN;
#endif
    SEMC_SDRAMCR1 = SEMC_SDRAMCR1_VALUE;
    SEMC_SDRAMCR2 = SEMC_SDRAMCR2_VALUE;
    SEMC_SDRAMCR3 = SEMC_SDRAMCR3_VALUE;
    SEMC_IPCR1 = SEMC_IPCR1_DATSZ_2;
    SEMC_IPCR2 = 0u;
    /* JEDEC start: precharge all, auto-refreshes, mode register; then the refresh timer */
    if (!semc_command(SEMC_CMD_PRECHARGE_ALL, 0u)) {
        return 0;
    }
    for (uint32_t i = 0; i < SDRAM_INIT_AUTOREFRESH; i++) {
        if (!semc_command(SEMC_CMD_AUTOREFRESH, 0u)) {
            return 0;
        }
    }
    if (!semc_command(SEMC_CMD_MODESET, SEMC_MODE_VALUE)) {
        return 0;
    }
    SEMC_SDRAMCR3 |= SEMC_SDRAMCR3_REN;
    return 1;
}

/* Whether imxrt_sdram_init() finished: the window is decoded and refresh runs. */
static int imxrt_sdram_ready(void)
{
    return (SEMC_BR(0) & SEMC_BR_VLD) && (SEMC_SDRAMCR3 & SEMC_SDRAMCR3_REN);
}
#endif

#endif
