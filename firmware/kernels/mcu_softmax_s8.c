/*
 * mcu_softmax_s8.c - SOFTMAX along the last axis, int8 input, int8 output
 * (scale 1/256, zero point -128) or int16 output (scale 1/65536, zero point
 * -32768).
 *
 * As TFLM's reference quantized Softmax: input differences to the row maximum
 * are scaled by beta into Q5.26, exp() is evaluated in fixed point, summed in
 * Q12.19, and each exp is multiplied by the reciprocal of the sum; differences
 * below diff_min contribute nothing. Not safe in place (rows are read twice).
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12

/* exp((in - max) * beta * scale) in Q0.31, or -1 when the difference is below diff_min. */
static inline int32_t row_exp(const mcu_softmax_params *p, int32_t diff)
{
    if (diff < p->diff_min) {
        return -1;
    }
    /* MultiplyByQuantizedMultiplierGreaterThanOne, then exp in Q5.26 */
    return mcu_fp_exp_on_negative_values(
        mcu_srdhm(mcu_wrap_shl(diff, p->input_left_shift), p->input_multiplier),
        SCALED_DIFF_INTEGER_BITS);
}

/* out_bits is 8 or 16: the element type of `output`. */
static void softmax(const mcu_softmax_params *p, int32_t outer, int32_t depth,
                    const int8_t *input, void *output, int out_bits)
{
    const int32_t out_min = out_bits == 8 ? INT8_MIN : INT16_MIN;
    const int32_t out_max = out_bits == 8 ? INT8_MAX : INT16_MAX;
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const int8_t *in = input + (size_t)i * (size_t)depth;
        int32_t max_in_row = INT8_MIN;
        int32_t sum_of_exps = 0; /* Q12.19 */
        int num_bits_over_unit, exponent;
        int32_t shifted_scale;
        for (c = 0; c < depth; ++c) {
            max_in_row = mcu_max32(max_in_row, in[c]);
        }
        for (c = 0; c < depth; ++c) {
            const int32_t e = row_exp(p, (int32_t)in[c] - max_in_row);
            if (e >= 0) {
                sum_of_exps = mcu_wrap_add(sum_of_exps, mcu_fp_rescale(e, 0, ACCUMULATION_INTEGER_BITS));
            }
        }
        shifted_scale = mcu_fp_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS, &num_bits_over_unit);
        exponent = num_bits_over_unit + 31 - out_bits;
        for (c = 0; c < depth; ++c) {
            const int32_t e = row_exp(p, (int32_t)in[c] - max_in_row);
            int32_t v = out_min;
            if (e >= 0) {
                const int32_t unsat = mcu_rdbpot(mcu_srdhm(shifted_scale, e), exponent);
                v = mcu_clamp32(mcu_wrap_add(unsat, out_min), out_min, out_max);
            }
            if (out_bits == 8) {
                ((int8_t *)output)[(size_t)i * (size_t)depth + (size_t)c] = (int8_t)v;
            } else {
                ((int16_t *)output)[(size_t)i * (size_t)depth + (size_t)c] = (int16_t)v;
            }
        }
    }
}

mcu_status mcu_softmax_s8(const mcu_softmax_params *params, int32_t outer, int32_t depth,
                          const int8_t *input, int8_t *output)
{
    softmax(params, outer, depth, input, output, 8);
    return MCU_OK;
}

mcu_status mcu_softmax_s8_s16(const mcu_softmax_params *params, int32_t outer, int32_t depth,
                              const int8_t *input, int16_t *output)
{
    softmax(params, outer, depth, input, output, 16);
    return MCU_OK;
}
