#include "cortex_m7.h"

void cm7_mpu_init(const cm7_mpu_region *regions, uint32_t count)
{
    uint32_t available = (MPU_TYPE >> 8) & 0xFFu;  /* DREGION (ARMv7-M ARM B3.5.5) */
    cm7_dsb();
    MPU_CTRL = 0;
    for (uint32_t i = 0; i < count && i < available; i++) {
        MPU_RNR = i;
        MPU_RBAR = regions[i].base & ~0x1Fu;
        MPU_RASR = regions[i].attributes | MPU_RASR_SIZE(regions[i].size_log2) | MPU_RASR_ENABLE;
    }
    MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
    cm7_dsb();
    cm7_isb();
}

void cm7_caches_enable(void)
{
    /* I-cache: invalidate all, then enable (Cortex-M7 TRM 5.7.2 sequence). */
    cm7_dsb();
    cm7_isb();
    SCB_ICIALLU = 0;
    cm7_dsb();
    cm7_isb();
    SCB_CCR |= SCB_CCR_IC;
    cm7_dsb();
    cm7_isb();

    /* D-cache: select L1 data cache, invalidate every set/way, then enable. */
    SCB_CSSELR = 0;
    cm7_dsb();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = CCSIDR_SETS(ccsidr);
    do {
        uint32_t ways = CCSIDR_WAYS(ccsidr);
        do {
            /* DCISW: way in [31:30], set in [13:5] for 32-byte lines (TRM 5.7.1) */
            SCB_DCISW = ((sets & 0x1FFu) << 5) | ((ways & 0x3u) << 30);
        } while (ways-- != 0u);
    } while (sets-- != 0u);
    cm7_dsb();
    SCB_CCR |= SCB_CCR_DC;
    cm7_dsb();
    cm7_isb();
}

void cm7_dwt_init(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_LAR = DWT_LAR_UNLOCK;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

uint64_t cm7_dwt_cycles64(void)
{
    static uint32_t last;
    static uint32_t wraps;
    uint32_t now = DWT_CYCCNT;
    if (now < last) {
        wraps++;
    }
    last = now;
    return ((uint64_t)wraps << 32) | now;
}
