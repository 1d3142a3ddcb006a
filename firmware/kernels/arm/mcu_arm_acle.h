/*
 * mcu_arm_acle.h - the Armv7E-M DSP instructions the Cortex-M7 kernels use,
 * as inline functions.
 *
 * On a target with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33...)
 * each function is one instruction. Three spellings, one result:
 *   - ACLE intrinsics from <arm_acle.h> (gcc, clang, IAR and Arm Compiler all
 *     provide __sxtb16, __smlad, __ssat, ...), for every compiler;
 *   - with the GNU dialect (MCU_GNUC: gcc, clang), one-instruction inline asm
 *     where ACLE has no intrinsic (SXTB16 with a rotation, PKHBT/PKHTB, SMMLAR,
 *     SSUB8+SEL, BFI), and on gcc LDRD/LDM with write-back (LDM bound to
 *     r4-r7): only where measured faster, see MCU_ARM_ASM_* below;
 *   - elsewhere (IAR, Keil, MCU_PORTABLE_C) ACLE plus plain C that compilers
 *     turn into the same instructions or a few more.
 * Without the DSP extension (the host, for fast bit-exact tests) each one is
 * plain C written from the instruction's pseudocode in the Armv7-M
 * Architecture Reference Manual (DDI0403E, A7.7): lanes are 16-bit halves
 * (bottom = bits 15:0, top = bits 31:16) or bytes, and every addition wraps
 * modulo 2^32 (2^16 per lane) as the hardware does.
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

#include "mcu_compiler.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define MCU_ARM_DSP 1
#include <arm_acle.h>
#else
#define MCU_ARM_DSP 0
#endif

/* Inline asm only where it is measurably faster than the ISO C path below
 * (person_detect on qemu-m7, instructions per inference, -O2):
 *   - the DSP operations ACLE lacks (SXTB16 ROR 8, PKHBT/PKHTB, SMMLAR, SSUB8+SEL,
 *     BFI): gcc 12 builds 2-5 instructions from the C (10.19 M with asm, 12.00 M
 *     without); clang folds the C into one instruction but still schedules the
 *     asm form better (15.72 M against 16.08 M);
 *   - LDRD with write-back and LDM into r4-r7: gcc only (10.19 M, 11.40 M
 *     without); clang does better with plain loads (15.72 M, 16.15 M with asm).
 * Both can be forced to 0 or 1 with -D for such measurements. */
#ifndef MCU_ARM_ASM_OPS
#define MCU_ARM_ASM_OPS (MCU_ARM_DSP && MCU_GNUC)
#endif
#ifndef MCU_ARM_ASM_LOADS
#define MCU_ARM_ASM_LOADS (MCU_ARM_DSP && MCU_GCC)
#endif

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

/* x rotated right by 8 bits (the C idiom every compiler turns into ROR). */
MCU_INLINE int32_t mcu_ror8(int32_t x) { return (int32_t)(((uint32_t)x >> 8) | ((uint32_t)x << 24)); }

#if MCU_ARM_DSP /* ---- ACLE intrinsics: the same on every compiler ---- */

/* SXTB16: bytes 0 and 2, sign-extended into the two halves. */
MCU_INLINE int32_t mcu_sxtb16(int32_t x) { return (int32_t)__sxtb16(x); }

/* SXTAB16: a + SXTB16(x), per half. */
MCU_INLINE int32_t mcu_sxtab16(int32_t a, int32_t x) { return (int32_t)__sxtab16(a, x); }

/* SADD16: per-half addition. */
MCU_INLINE int32_t mcu_sadd16(int32_t a, int32_t b) { return (int32_t)__sadd16(a, b); }

/* SMLAD: acc + a.bottom * b.bottom + a.top * b.top. */
MCU_INLINE int32_t mcu_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }

/* SMLABB / SMLATT: acc + one 16x16 product. */
MCU_INLINE int32_t mcu_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
MCU_INLINE int32_t mcu_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }

/* SSAT #8. (gcc 12's arm_acle.h __ssat macro stores the builtin's unsigned
 * result in an int32_t, which -Wsign-conversion reports in the caller: the
 * builtin it wraps, with a cast, is the same instruction.) */
#if defined(_GCC_ARM_ACLE_H)
MCU_INLINE int32_t mcu_ssat8(int32_t x) { return (int32_t)__builtin_arm_ssat(x, 8); }
#else
MCU_INLINE int32_t mcu_ssat8(int32_t x) { return __ssat(x, 8); }
#endif

#else /* ---- emulation (DDI0403E A7.7) ---- */

MCU_INLINE int32_t mcu_lane_bottom(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x & 0xFFFFu); }
MCU_INLINE int32_t mcu_lane_top(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x >> 16); }
MCU_INLINE int32_t mcu_pack16(int32_t bottom, int32_t top)
{
    return (int32_t)(((uint32_t)bottom & 0xFFFFu) | ((uint32_t)top << 16));
}
MCU_INLINE int32_t mcu_byte(int32_t x, int n) { return (int8_t)(uint8_t)((uint32_t)x >> (8 * n)); }

MCU_INLINE int32_t mcu_sxtb16(int32_t x) { return mcu_pack16(mcu_byte(x, 0), mcu_byte(x, 2)); }

MCU_INLINE int32_t mcu_sadd16(int32_t a, int32_t b)
{
    return mcu_pack16(mcu_lane_bottom(a) + mcu_lane_bottom(b), mcu_lane_top(a) + mcu_lane_top(b));
}
MCU_INLINE int32_t mcu_sxtab16(int32_t a, int32_t x) { return mcu_sadd16(a, mcu_sxtb16(x)); }

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

MCU_INLINE int32_t mcu_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }

#endif /* MCU_ARM_DSP */

#if MCU_ARM_ASM_LOADS /* ---- GNU inline asm: LDRD / LDM with write-back ---- */

/* LDRD a, b, [p], #8: two aligned words, post-incrementing p (gcc pairs loads
 * only sometimes; the instruction count is what we optimise). */
#define MCU_LDRD_INC(a, b, p)                                                           \
    __asm__("ldrd %0, %1, [%2], #8"                                                     \
            : "=r"(a), "=r"(b), "+r"(p)                                                 \
            : "m"(*(const struct { int32_t w[2]; } *)(const void *)(p)))

/* LDMIA p!, {r4, r5, r6, r7}: four aligned words in one instruction. gcc has
 * no way to emit LDM for C loads it cannot prove adjacent and ascending, so
 * the four destinations are bound to r4..r7 (ascending, as LDM needs):
 * declare them with MCU_LDM4_REGS in the block that uses them. gcc only:
 * clang reserves r7 (the Thumb frame pointer), and so does gcc without
 * optimization; plain loads there (below). */
#if MCU_GCC && defined(__OPTIMIZE__)
#define MCU_LDM4_REGS(a, b, c, d)                                                       \
    register int32_t a __asm__("r4");                                                   \
    register int32_t b __asm__("r5");                                                   \
    register int32_t c __asm__("r6");                                                   \
    register int32_t d __asm__("r7")
#define MCU_LDM4_INC(a, b, c, d, p)                                                     \
    __asm__("ldmia %4!, {%0, %1, %2, %3}"                                               \
            : "=r"(a), "=r"(b), "=r"(c), "=r"(d), "+r"(p)                               \
            : "m"(*(const struct { int32_t w[4]; } *)(const void *)(p)))
#endif

#else

/* Plain loads (compilers pair them into LDRD/LDM as they can). */
#define MCU_LDRD_INC(a, b, p) ((a) = (p)[0], (b) = (p)[1], (p) += 2)

#endif /* MCU_ARM_ASM_LOADS */

#if MCU_ARM_ASM_OPS /* ---- GNU inline asm: one instruction each ---- */

/* SXTB16 Rd, Rm, ROR #8: bytes 1 and 3. */
MCU_INLINE int32_t mcu_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

MCU_INLINE int32_t mcu_sxtab16_ror8(int32_t a, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

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

/* b's low byte into bits 15:8 of a. */
MCU_INLINE int32_t mcu_bfi8(int32_t a, int32_t b)
{
    __asm__("bfi %0, %1, #8, #8" : "+r"(a) : "r"(b));
    return a;
}

/* Four bytes (low byte of each argument) packed little-endian into a word. */
MCU_INLINE int32_t mcu_pack8x4(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    /* BFI r, b1, #8, #8 ... (gcc 12 builds this with shifts, masks and ORRs) */
    int32_t r = b0;
    __asm__("bfi %0, %1, #8, #8" : "+r"(r) : "r"(b1));
    __asm__("bfi %0, %1, #16, #8" : "+r"(r) : "r"(b2));
    __asm__("bfi %0, %1, #24, #8" : "+r"(r) : "r"(b3));
    return r;
}

#else /* ---- ISO C (with ACLE where the target has DSP): the same results ---- */

MCU_INLINE int32_t mcu_sxtb16_ror8(int32_t x) { return mcu_sxtb16(mcu_ror8(x)); }
MCU_INLINE int32_t mcu_sxtab16_ror8(int32_t a, int32_t x) { return mcu_sxtab16(a, mcu_ror8(x)); }

MCU_INLINE int32_t mcu_pkhbt16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
}
MCU_INLINE int32_t mcu_pkhtb16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFF0000u) | ((uint32_t)b >> 16));
}

MCU_INLINE int32_t mcu_smmlar(int32_t a, int32_t b, int32_t c)
{
    const uint64_t sum = ((uint64_t)(uint32_t)c << 32) + (uint64_t)((int64_t)a * (int64_t)b) + 0x80000000u;
    return (int32_t)(uint32_t)(sum >> 32);
}

#if MCU_ARM_DSP
/* SSUB8 sets the GE flags that SEL reads (ACLE: __sel uses the GE bits of
 * the SIMD instruction before it). */
MCU_INLINE int32_t mcu_max8x4(int32_t a, int32_t b)
{
    (void)__ssub8(a, b);
    return (int32_t)__sel((uint32_t)a, (uint32_t)b);
}
MCU_INLINE int32_t mcu_min8x4(int32_t a, int32_t b)
{
    (void)__ssub8(a, b);
    return (int32_t)__sel((uint32_t)b, (uint32_t)a);
}
#else
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
#endif

MCU_INLINE int32_t mcu_bfi8(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFF00FFu) | (((uint32_t)b & 0xFFu) << 8));
}
MCU_INLINE int32_t mcu_pack8x4(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    return (int32_t)(((uint32_t)b0 & 0xFFu) | (((uint32_t)b1 & 0xFFu) << 8) | (((uint32_t)b2 & 0xFFu) << 16) |
                     ((uint32_t)b3 << 24));
}

#endif /* MCU_ARM_ASM_OPS */

/* Four words, p advanced past them: LDM where bound above, else plain loads. */
#ifndef MCU_LDM4_INC
#define MCU_LDM4_REGS(a, b, c, d) int32_t a, b, c, d
#define MCU_LDM4_INC(a, b, c, d, p) ((a) = (p)[0], (b) = (p)[1], (c) = (p)[2], (d) = (p)[3], (p) += 4)
#endif

#endif /* MCU_ARM_ACLE_H */
