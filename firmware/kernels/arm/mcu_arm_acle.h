/*
 * mcu_arm_acle.h - the Armv7E-M DSP instructions the Cortex-M7 kernels use,
 * as inline functions.
 *
 * On a target with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33...)
 * each function is one instruction: an ACLE intrinsic from <arm_acle.h> where
 * gcc 12 provides one, inline asm where it does not (SXTB16 with a rotation,
 * PKHBT/PKHTB, SMMLAR, SSUB8+SEL). Elsewhere (the host, for fast bit-exact
 * tests) each one is plain C written from the instruction's pseudocode in the
 * Armv7-M Architecture Reference Manual (DDI0403E, A7.7): lanes are 16-bit
 * halves (bottom = bits 15:0, top = bits 31:16) or bytes, and every addition
 * wraps modulo 2^32 (2^16 per lane) as the hardware does.
 *
 * mcu_load32()/mcu_store32() read and write a word at any alignment (LDR/STR
 * do so on Armv7-M); plain int32_t pointers are used only where the data is
 * word-aligned by construction (scratch, generated tables), which lets gcc
 * pair loads into LDRD.
 */
#ifndef MCU_ARM_ACLE_H
#define MCU_ARM_ACLE_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define MCU_ARM_DSP 1
#include <arm_acle.h>
#else
#define MCU_ARM_DSP 0
#endif

#define MCU_INLINE static inline __attribute__((always_inline))

MCU_INLINE int32_t mcu_load32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

MCU_INLINE void mcu_store32(void *p, int32_t v) { memcpy(p, &v, sizeof v); }

MCU_INLINE void mcu_store16(void *p, int32_t v)
{
    const int16_t h = (int16_t)v;
    memcpy(p, &h, sizeof h);
}

#if MCU_ARM_DSP

/* LDRD a, b, [p], #8: two aligned words, post-incrementing p (gcc pairs loads
 * only sometimes; the instruction count is what we optimise). */
#define MCU_LDRD_INC(a, b, p)                                                           \
    __asm__("ldrd %0, %1, [%2], #8"                                                     \
            : "=r"(a), "=r"(b), "+r"(p)                                                 \
            : "m"(*(const struct { int32_t w[2]; } *)(const void *)(p)))

/* LDMIA p!, {r4, r5, r6, r7}: four aligned words in one instruction. gcc has
 * no way to emit LDM for C loads it cannot prove adjacent and ascending, so
 * the four destinations are bound to r4..r7 (ascending, as LDM needs):
 * declare them with MCU_LDM4_REGS in the block that uses them. Without
 * optimization r7 is the frame pointer: plain loads then. */
#if defined(__OPTIMIZE__)
#define MCU_LDM4_REGS(a, b, c, d)                                                       \
    register int32_t a __asm__("r4");                                                   \
    register int32_t b __asm__("r5");                                                   \
    register int32_t c __asm__("r6");                                                   \
    register int32_t d __asm__("r7")
#define MCU_LDM4_INC(a, b, c, d, p)                                                     \
    __asm__("ldmia %4!, {%0, %1, %2, %3}"                                               \
            : "=r"(a), "=r"(b), "=r"(c), "=r"(d), "+r"(p)                               \
            : "m"(*(const struct { int32_t w[4]; } *)(const void *)(p)))
#else
#define MCU_LDM4_REGS(a, b, c, d) int32_t a, b, c, d
#define MCU_LDM4_INC(a, b, c, d, p) ((a) = (p)[0], (b) = (p)[1], (c) = (p)[2], (d) = (p)[3], (p) += 4)
#endif

/* SXTB16: bytes 0 and 2, sign-extended into the two halves. */
MCU_INLINE int32_t mcu_sxtb16(int32_t x) { return (int32_t)__sxtb16(x); }

/* SXTB16 Rd, Rm, ROR #8: bytes 1 and 3. */
MCU_INLINE int32_t mcu_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* SXTAB16: a + SXTB16(x), per half. */
MCU_INLINE int32_t mcu_sxtab16(int32_t a, int32_t x) { return (int32_t)__sxtab16(a, x); }

MCU_INLINE int32_t mcu_sxtab16_ror8(int32_t a, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* SADD16: per-half addition. */
MCU_INLINE int32_t mcu_sadd16(int32_t a, int32_t b) { return (int32_t)__sadd16(a, b); }

/* SMLAD: acc + a.bottom * b.bottom + a.top * b.top. */
MCU_INLINE int32_t mcu_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }

/* SMLABB / SMLATT: acc + one 16x16 product. */
MCU_INLINE int32_t mcu_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
MCU_INLINE int32_t mcu_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }

/* PKHBT Rd, Rn, Rm, LSL #16: bottom half of a, bottom half of b in the top. */
MCU_INLINE int32_t mcu_pkhbt16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* PKHTB Rd, Rn, Rm, ASR #16: top half of a, top half of b in the bottom. */
MCU_INLINE int32_t mcu_pkhtb16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* SMMLAR: c + (a * b + 2^31) / 2^32 rounded down, i.e. bits 63:32 of
 * (c << 32) + a * b + 2^31. */
MCU_INLINE int32_t mcu_smmlar(int32_t a, int32_t b, int32_t c)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}

/* SSAT #8. */
MCU_INLINE int32_t mcu_ssat8(int32_t x) { return __ssat(x, 8); }

/* Per byte: max(a, b) (signed): SSUB8 sets GE where a >= b, SEL picks. */
MCU_INLINE int32_t mcu_max8x4(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

/* Per byte: min(a, b) (signed). */
MCU_INLINE int32_t mcu_min8x4(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

#else /* portable emulation (DDI0403E A7.7) */

#define MCU_LDRD_INC(a, b, p) ((a) = (p)[0], (b) = (p)[1], (p) += 2)
#define MCU_LDM4_REGS(a, b, c, d) int32_t a, b, c, d
#define MCU_LDM4_INC(a, b, c, d, p) ((a) = (p)[0], (b) = (p)[1], (c) = (p)[2], (d) = (p)[3], (p) += 4)

MCU_INLINE int32_t mcu_lane_bottom(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x & 0xFFFFu); }
MCU_INLINE int32_t mcu_lane_top(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x >> 16); }
MCU_INLINE int32_t mcu_pack16(int32_t bottom, int32_t top)
{
    return (int32_t)(((uint32_t)bottom & 0xFFFFu) | ((uint32_t)top << 16));
}
MCU_INLINE int32_t mcu_byte(int32_t x, int n) { return (int8_t)(uint8_t)((uint32_t)x >> (8 * n)); }

MCU_INLINE int32_t mcu_sxtb16(int32_t x) { return mcu_pack16(mcu_byte(x, 0), mcu_byte(x, 2)); }
MCU_INLINE int32_t mcu_sxtb16_ror8(int32_t x) { return mcu_pack16(mcu_byte(x, 1), mcu_byte(x, 3)); }

MCU_INLINE int32_t mcu_sadd16(int32_t a, int32_t b)
{
    return mcu_pack16(mcu_lane_bottom(a) + mcu_lane_bottom(b), mcu_lane_top(a) + mcu_lane_top(b));
}
MCU_INLINE int32_t mcu_sxtab16(int32_t a, int32_t x) { return mcu_sadd16(a, mcu_sxtb16(x)); }
MCU_INLINE int32_t mcu_sxtab16_ror8(int32_t a, int32_t x) { return mcu_sadd16(a, mcu_sxtb16_ror8(x)); }

MCU_INLINE int32_t mcu_smlad(int32_t a, int32_t b, int32_t acc)
{
    const uint32_t p1 = (uint32_t)(mcu_lane_bottom(a) * mcu_lane_bottom(b));
    const uint32_t p2 = (uint32_t)(mcu_lane_top(a) * mcu_lane_top(b));
    return (int32_t)((uint32_t)acc + p1 + p2);
}
MCU_INLINE int32_t mcu_smlabb(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(mcu_lane_bottom(a) * mcu_lane_bottom(b)));
}
MCU_INLINE int32_t mcu_smlatt(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(mcu_lane_top(a) * mcu_lane_top(b)));
}

MCU_INLINE int32_t mcu_pkhbt16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
}
MCU_INLINE int32_t mcu_pkhtb16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFF0000u) | (((uint32_t)b >> 16) & 0xFFFFu));
}

MCU_INLINE int32_t mcu_smmlar(int32_t a, int32_t b, int32_t c)
{
    const uint64_t sum = ((uint64_t)(uint32_t)c << 32) + (uint64_t)((int64_t)a * (int64_t)b) + 0x80000000u;
    return (int32_t)(uint32_t)(sum >> 32);
}

MCU_INLINE int32_t mcu_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }

MCU_INLINE int32_t mcu_max8x4(int32_t a, int32_t b)
{
    uint32_t r = 0;
    int n;
    for (n = 0; n < 4; ++n) {
        const int32_t x = mcu_byte(a, n), y = mcu_byte(b, n);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << (8 * n);
    }
    return (int32_t)r;
}
MCU_INLINE int32_t mcu_min8x4(int32_t a, int32_t b)
{
    uint32_t r = 0;
    int n;
    for (n = 0; n < 4; ++n) {
        const int32_t x = mcu_byte(a, n), y = mcu_byte(b, n);
        r |= (uint32_t)(uint8_t)(x >= y ? y : x) << (8 * n);
    }
    return (int32_t)r;
}

#endif /* MCU_ARM_DSP */

/* Four bytes (low byte of each argument) packed little-endian into a word;
 * mcu_bfi8(a, b): b's low byte into bits 15:8 of a. */
#if MCU_ARM_DSP
MCU_INLINE int32_t mcu_bfi8(int32_t a, int32_t b)
{
    __asm__("bfi %0, %1, #8, #8" : "+r"(a) : "r"(b));
    return a;
}

MCU_INLINE int32_t mcu_pack8x4(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    /* BFI r, b1, #8, #8 ... (gcc 12 builds this with shifts, masks and ORRs) */
    int32_t r = b0;
    __asm__("bfi %0, %1, #8, #8" : "+r"(r) : "r"(b1));
    __asm__("bfi %0, %1, #16, #8" : "+r"(r) : "r"(b2));
    __asm__("bfi %0, %1, #24, #8" : "+r"(r) : "r"(b3));
    return r;
}
#else
MCU_INLINE int32_t mcu_bfi8(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFF00FFu) | (((uint32_t)b & 0xFFu) << 8));
}
MCU_INLINE int32_t mcu_pack8x4(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    return (int32_t)(((uint32_t)b0 & 0xFFu) | (((uint32_t)b1 & 0xFFu) << 8) | (((uint32_t)b2 & 0xFFu) << 16) |
                     ((uint32_t)b3 << 24));
}
#endif

#endif /* MCU_ARM_ACLE_H */
