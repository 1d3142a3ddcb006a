/*
 * mcu_softmax_s16.c - SOFTMAX, int16 in and out (output scale 1/32768, zero points 0).
 *
 * As TFLM's SoftmaxInt16: per row, each input's difference to the row's maximum is
 * scaled so that [-65535, 0] covers [-10, 0] and looked up in the exp table; the sum's
 * reciprocal comes from the 1/(1+x) table after normalising the sum; each exp times the
 * reciprocal, rounded, is the output. The tables (513 entries: 512 segments, linear
 * interpolation on the low 7 bits) are computed at generation time exactly as TFLM's
 * LUTPopulate. The exps are kept in the output row meanwhile, as TFLM does: safe in place
 * only because a row's inputs are all read (for the maximum) before the first write.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static int16_t lut_lookup(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7f;
    const int16_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = (slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

static int32_t count_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

mcu_status mcu_softmax_s16(const mcu_softmax_s16_params *params, int32_t outer, int32_t depth,
                           const int16_t *input, int16_t *output)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const int16_t *in = input + (size_t)i * (size_t)depth;
        int16_t *out = output + (size_t)i * (size_t)depth;
        int16_t max_in_row = INT16_MIN;
        int32_t sum_of_exps = 0; /* Q16.15 */
        int32_t headroom_plus_one, shifted_sum, right_shift;
        int16_t reciprocal;
        int64_t round;
        for (c = 0; c < depth; ++c) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)in[c] - (int32_t)max_in_row;
            const int32_t scaled = mcu_mul_by_quantized_mult(diff, params->input_multiplier, params->input_shift);
            const int16_t sym = (int16_t)mcu_clamp32(scaled + 32767, INT16_MIN, INT16_MAX);
            out[c] = lut_lookup(sym, params->exp_lut);
            sum_of_exps += out[c];
        }
        headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        if (headroom_plus_one < 1 || headroom_plus_one > 17) {
            return MCU_ERROR_ARGUMENT; /* a row's exps sum to at least 1.0 (2^15) and < 2^31 */
        }
        shifted_sum = (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        /* 1/(1+x) with x = sum - 1, recentred from [0, 65535] to [-32768, 32767] */
        reciprocal = lut_lookup((int16_t)mcu_clamp32(shifted_sum - ((1 << 15) + (1 << 16)), INT16_MIN, INT16_MAX),
                                params->one_over_one_plus_x_lut);
        right_shift = 31 - headroom_plus_one;
        round = (int64_t)1 << (right_shift - 1);
        for (c = 0; c < depth; ++c) {
            const int32_t result = (int32_t)(((int64_t)out[c] * (int64_t)reciprocal + round) >> right_shift);
            out[c] = (int16_t)mcu_clamp32(result, 0, 32767);
        }
    }
    return MCU_OK;
}
