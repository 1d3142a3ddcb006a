/*
 * mcu_fixedpoint.h - the fixed-point arithmetic of mcugen's int8 kernels.
 *
 * Every function reproduces, bit for bit, the arithmetic that TensorFlow Lite
 * Micro's reference kernels use (its kernels/internal/common.h, built without
 * TFLITE_SINGLE_ROUNDING, i.e. the double-rounding MultiplyByQuantizedMultiplier,
 * and gemmlowp's fixedpoint.h for exp, 1/(1+x) and the logistic function).
 * Written from the arithmetic, not from their source text.
 *
 * Conventions:
 *   - a "quantized multiplier" is a Q0.31 int32 in [2^30, 2^31) (or 0) with a
 *     power-of-two "shift" exponent: real = multiplier * 2^(shift - 31);
 *     shift > 0 multiplies up, shift < 0 divides down;
 *   - "fixed point with N integer bits" is an int32 with 31 - N fractional bits;
 *   - additions that gemmlowp performs with plain (wrapping) int32 arithmetic
 *     are done through uint32 here so that C's signed-overflow rules never
 *     apply; gcc converts back modulo 2^32.
 * Pure functions over integers; no state, no allocation.
 */
#ifndef MCU_FIXEDPOINT_H
#define MCU_FIXEDPOINT_H

#include <stdint.h>

#define MCU_INT32_MIN ((int32_t)0x80000000)
#define MCU_INT32_MAX ((int32_t)0x7FFFFFFF)

static inline int32_t mcu_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t mcu_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t mcu_wrap_neg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }
static inline int32_t mcu_wrap_shl(int32_t a, int n) { return (int32_t)((uint32_t)a << n); }

static inline int32_t mcu_min32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t mcu_max32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t mcu_clamp32(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* Rounding doubling high multiply (ARM VQRDMULH): round(a * b / 2^31), saturating
 * the single overflow case a == b == INT32_MIN. */
static inline int32_t mcu_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == MCU_INT32_MIN) {
        return MCU_INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero */
}

/* Division by 2^exponent rounded to nearest, ties away from zero (0 <= exponent <= 31). */
static inline int32_t mcu_rdbpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31), the way TFLM's reference kernels do it: a
 * left shift first (wrapping, as the reference's int multiply does in practice),
 * a rounding high multiply, then a rounding right shift. */
static inline int32_t mcu_mul_by_quantized_mult(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    return mcu_rdbpot(mcu_srdhm(mcu_wrap_shl(x, left), multiplier), right);
}

/* Saturating multiply by 2^exponent for a compile-time-like exponent: a
 * saturating left shift for exponent > 0, a rounding right shift for < 0. */
static inline int32_t mcu_sat_round_mul_pot(int32_t x, int exponent)
{
    if (exponent > 0) {
        const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
        if (x > threshold) {
            return MCU_INT32_MAX;
        }
        if (x < -threshold) {
            return MCU_INT32_MIN;
        }
        return mcu_wrap_shl(x, exponent);
    }
    if (exponent < 0) {
        return mcu_rdbpot(x, -exponent);
    }
    return x;
}

/* Changes a fixed-point value from src_bits to dst_bits integer bits. */
static inline int32_t mcu_fp_rescale(int32_t x, int src_bits, int dst_bits)
{
    return mcu_sat_round_mul_pot(x, src_bits - dst_bits);
}

/* (a + b) / 2 rounded away from zero, computed without overflow. */
static inline int32_t mcu_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), a and the result with 0 integer bits (Q0.31):
 * a Taylor expansion around -1/8. */
static inline int32_t mcu_fp_exp_on_interval_neg_quarter_to_0(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = mcu_wrap_add(a, (int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = mcu_srdhm(x, x);
    const int32_t x3 = mcu_srdhm(x2, x);
    const int32_t x4 = mcu_srdhm(x2, x2);
    const int32_t x4_over_4 = mcu_rdbpot(x4, 2);
    const int32_t poly = mcu_rdbpot(
        mcu_wrap_add(mcu_srdhm(mcu_wrap_add(x4_over_4, x3), one_third), x2), 1);
    return mcu_wrap_add(exp_minus_one_eighth, mcu_srdhm(exp_minus_one_eighth, mcu_wrap_add(x, poly)));
}

/* exp(a) for a <= 0 with `integer_bits` integer bits; the result is Q0.31.
 * The fractional part (mod 1/4) goes through the polynomial, each set bit of
 * the rest multiplies by a tabulated exp(-2^k). */
static inline int32_t mcu_fp_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t k_multipliers[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242,        /* exp(-16)  */
    };
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = mcu_wrap_sub(a & mask, one_quarter);
    int32_t result = mcu_fp_exp_on_interval_neg_quarter_to_0(
        mcu_fp_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
    const int32_t remainder = mcu_wrap_sub(a_mod_quarter_minus_one_quarter, a);
    int k;
    for (k = 0; k < 7; ++k) {
        const int exponent = k - 2; /* this factor is exp(-2^exponent) */
        if (integer_bits > exponent) {
            const int bit = fractional_bits + exponent;
            if (remainder & ((int32_t)1 << bit)) {
                result = mcu_srdhm(result, k_multipliers[k]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = MCU_INT32_MAX; /* 1.0 in Q0.31 */
    }
    return result;
}

/* 1 / half_denominator for half_denominator = (1 + a) / 2, a in [0, 1), in Q2.29:
 * three Newton-Raphson steps from the 48/17 - 32/17 * d first guess. */
static inline int32_t mcu_fp_newton_reciprocal_q2(int32_t half_denominator)
{
    const int32_t c_48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t c_neg_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = mcu_wrap_add(c_48_over_17, mcu_srdhm(half_denominator, c_neg_32_over_17));
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mcu_srdhm(half_denominator, x);
        const int32_t one_minus = mcu_wrap_sub(one_q2, half_denominator_times_x);
        x = mcu_wrap_add(x, mcu_fp_rescale(mcu_srdhm(x, one_minus), 4, 2));
    }
    return x;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out, with 2 integer bits of headroom. */
static inline int32_t mcu_fp_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t x = mcu_fp_newton_reciprocal_q2(mcu_rounding_half_sum(a, MCU_INT32_MAX));
    /* x/2 reinterpreted with 1 integer bit, then back to Q0.31. */
    return mcu_fp_rescale(x, 1, 0);
}

/* (1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out: (2 / (1 + a)) - 1 from the
 * same Newton-Raphson reciprocal, rescaled from Q2.29. */
static inline int32_t mcu_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t x = mcu_fp_newton_reciprocal_q2(mcu_rounding_half_sum(a, MCU_INT32_MAX));
    return mcu_fp_rescale(mcu_wrap_sub(x, (int32_t)1 << 29), 2, 0);
}

/* logistic(a) = 1 / (1 + exp(-a)) for `a` with `integer_bits` integer bits; Q0.31 result. */
static inline int32_t mcu_fp_logistic(int32_t a, int integer_bits)
{
    const int32_t abs_a = a > 0 ? a : mcu_wrap_neg(a);
    const int32_t positive = mcu_fp_one_over_one_plus_x_for_x_in_0_1(
        mcu_fp_exp_on_negative_values(mcu_wrap_neg(abs_a), integer_bits));
    if (a == 0) {
        return (int32_t)1 << 30; /* 0.5 */
    }
    return a > 0 ? positive : mcu_wrap_sub(MCU_INT32_MAX, positive);
}

/* tanh(a) for `a` with `integer_bits` integer bits; Q0.31 result. For n = -|a|,
 * -tanh(n) = (1 - exp(2n)) / (1 + exp(2n)); 2n is n read with one more integer bit. */
static inline int32_t mcu_fp_tanh(int32_t a, int integer_bits)
{
    const int32_t n = a < 0 ? a : mcu_wrap_neg(a);
    const int32_t t = mcu_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(
        mcu_fp_exp_on_negative_values(n, integer_bits + 1));
    if (a == 0) {
        return 0;
    }
    return a < 0 ? mcu_wrap_neg(t) : t;
}

/* 1/x for a positive fixed-point x with `integer_bits` integer bits: returns a
 * Q0.31 scale and the number of bits by which x exceeds 1.0. */
static inline int32_t mcu_fp_reciprocal(int32_t x, int integer_bits, int *num_bits_over_unit)
{
    int headroom_plus_one = 32;
    uint32_t ux = (uint32_t)x;
    if (ux != 0u) {
        headroom_plus_one = 0;
        while ((ux & 0x80000000u) == 0u) {
            ux <<= 1;
            ++headroom_plus_one;
        }
    }
    *num_bits_over_unit = integer_bits - headroom_plus_one;
    {
        const uint32_t shifted = headroom_plus_one >= 32 ? 0u : ((uint32_t)x << headroom_plus_one);
        const int32_t shifted_sum_minus_one = (int32_t)(shifted - 0x80000000u);
        return mcu_fp_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
    }
}

/* ---- 16-bit helpers (hard-swish) ------------------------------------------ */

static inline int16_t mcu_srdhm16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    {
        const int32_t ab = (int32_t)a * (int32_t)b;
        const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
        return (int16_t)((ab + nudge) / (1 << 15));
    }
}

/* Doubling high multiply rounding toward zero (ARM SQDMULH). */
static inline int16_t mcu_sdhm16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

static inline int16_t mcu_rdbpot16(int16_t x, int exponent)
{
    const int16_t mask = (int16_t)(((int64_t)1 << exponent) - 1);
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

static inline int16_t mcu_sat_shl16(int16_t value, int amount)
{
    const int64_t result = (int64_t)value * ((int64_t)1 << amount);
    if (result > INT16_MAX) {
        return INT16_MAX;
    }
    if (result < INT16_MIN) {
        return INT16_MIN;
    }
    return (int16_t)result;
}

/* How many int16 x int8 products (|p| <= 2^22) add exactly in an int32: the 16x8
 * kernels sum runs of at most this many in 32 bits, then in 64. */
#define MCU_S16_EXACT_TERMS 256

/* x * multiplier * 2^(shift - 31) for the 64-bit accumulators of the 16x8 kernels, as
 * TFLM's MultiplyByQuantizedMultiplier(int64_t, ...): the multiplier rounded to Q0.15,
 * then one rounding right shift by 15 - shift (shift in [-31, 7], |x| < 2^47). */
static inline int32_t mcu_mul_by_quantized_mult64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total = 15 - shift;
    const int64_t r = x * (int64_t)reduced + ((int64_t)1 << (total - 1));
    return (int32_t)(r >> total);
}

#endif /* MCU_FIXEDPOINT_H */
