/*
 * mcu_arm_requant.h - output requantization of the Cortex-M7 kernels, in
 * fewer instructions than mcu_fixedpoint.h and with the same results.
 *
 * The kernels accumulate TWICE the reference accumulator: a = 2 * acc, where
 * acc = bias + sum(filter * (input + input_offset)) as in TFLM. (The doubling
 * is free: depthwise filters are stored doubled, the int16 im2col buffers hold
 * doubled inputs, and the bias is stored doubled.) TFLM computes, for a
 * multiplier m in [2^30, 2^31) (or 0) and an exponent shift <= -1:
 *
 *     x   = SaturatingRoundingDoublingHighMul(acc, m) = floor((acc * m + 2^30) / 2^31)
 *           (C truncating division with a sign-dependent nudge; the two agree)
 *     out = RoundingDivideByPOT(x, r) + output_offset,  r = -shift
 *         = floor((x + 2^(r-1) - [x < 0]) / 2^r) + output_offset
 *
 * and with a = 2 * acc:
 *     x = floor((a * m + 2^31) / 2^32)                      (SMMLAR's rounding)
 *     out = (SMMLAR(a, m, add) + (a >> 31)) >> r,   add = 2^(r-1) + output_offset * 2^r
 *
 * (a >> 31) is -[acc < 0]; it differs from -[x < 0] only when x == 0 and acc < 0,
 * where floor((add - 1) / 2^r) == floor(add / 2^r) == output_offset anyway.
 * A channel with m == 0 is stored as m = 0, r = 1, add = 2 * output_offset + 1.
 *
 * This holds whenever |2 * acc| < 2^31 and |x| + |add| + 1 < 2^31, which the
 * code generator proves per channel from the weights, bias and offsets
 * (fold_channels in mcugen/lower/arm/fixedpoint.py). A layer where some
 * channel does not fit (a positive exponent, say) sets MCU_ARM_REQUANT_EXACT
 * and its table holds TFLM's multiplier and exponent unchanged: the kernel
 * then calls mcu_mul_by_quantized_mult() on a / 2.
 */
#ifndef MCU_ARM_REQUANT_H
#define MCU_ARM_REQUANT_H

#include <stdint.h>

#include "mcu_arm_acle.h"
#include "mcu_fixedpoint.h"

/* One output channel (16 bytes; tables are 16-byte aligned). */
typedef struct {
    int32_t bias;   /* 2 * (bias + input_offset * sum(filter)): where the accumulator starts */
    int32_t mult;   /* Q0.31 multiplier */
    int32_t add;    /* fast: 2^(r-1) + output_offset * 2^r; exact: unused (0) */
    int32_t shift;  /* fast: r = -exponent (1..31); exact: TFLM's exponent */
} mcu_arm_requant;

/* Four channels by field (the depthwise kernels' layout). */
typedef struct {
    int32_t bias[4];
    int32_t mult[4];
    int32_t add[4];
    int32_t shift[4];
} mcu_arm_requant_x4;

/* flags of mcu_arm_conv_params / mcu_arm_fc_params */
#define MCU_ARM_REQUANT_EXACT 1  /* the table is in TFLM form: use the step-by-step arithmetic */
#define MCU_ARM_WIDE 2           /* matrix kernels: int16 filter stream, inputs expanded undoubled */

/* Fast form: SMMLAR, ADD (sign), ASR, SSAT #8. */
MCU_INLINE int32_t mcu_arm_requant_fast(int32_t a, int32_t mult, int32_t add, int32_t shift)
{
    const int32_t t = mcu_smmlar(a, mult, add) + (a >> 31);
    return mcu_ssat8(t >> shift);
}

/* Exact form: TFLM's arithmetic on a / 2 (a is even). */
MCU_INLINE int32_t mcu_arm_requant_exact(int32_t a, const mcu_arm_requant *rq, int32_t output_offset)
{
    return mcu_ssat8(mcu_mul_by_quantized_mult(a >> 1, rq->mult, rq->shift) + output_offset);
}

/* The activation clamp applied to four packed int8 results (already within int8). */
MCU_INLINE int32_t mcu_arm_clamp8x4(int32_t packed, int32_t lo4, int32_t hi4)
{
    return mcu_min8x4(mcu_max8x4(packed, lo4), hi4);
}

/* act_min/act_max replicated into the four bytes of a word. */
MCU_INLINE int32_t mcu_arm_splat8(int32_t v) { return (int32_t)((uint32_t)(uint8_t)v * 0x01010101u); }

#endif /* MCU_ARM_REQUANT_H */
