/*
 * mcu_rsqrt_s8.c - RSQRT, int8.
 *
 * 1/sqrt(input - zero point) as a quantized multiplier (five Newton-Raphson
 * steps in Q3.28 on the input normalized to [2^27, 2^29), TFLM's
 * GetInvSqrtQuantizedMultiplierExp), applied to 1 << 20 and requantized by
 * 1 / (sqrt(input scale) * output scale), as TFLM's quantized Rsqrt. A zero
 * input gives the largest output; a negative one is an error, as in TFLM.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

#define KEEP_INTEGER_SHIFT 20

/* (multiplier, left shift) of 1/sqrt(value) for value >= 2 */
static void inv_sqrt(int32_t value, int32_t *multiplier, int32_t *shift)
{
    const int32_t half_three = ((int32_t)1 << 28) + ((int32_t)1 << 27); /* 1.5 in Q3.28 */
    const int32_t half_sqrt_2 = 1518500250;                            /* sqrt(2)/2 in Q0.31 */
    int32_t right_shift = 11;
    int32_t x = (int32_t)1 << 28; /* 1.0 in Q3.28 */
    int32_t half_input;
    int zeros = 0;
    int pairs;
    int i;
    while (value >= ((int32_t)1 << 29)) {
        value /= 4;
        ++right_shift;
    }
    while ((((uint32_t)value << zeros) & 0x80000000u) == 0u) {
        ++zeros;
    }
    pairs = (zeros - 1) / 2 - 1;
    right_shift -= pairs;
    value = mcu_wrap_shl(value, 2 * pairs);
    half_input = mcu_rdbpot(value >> 1, 1);
    for (i = 0; i < 5; ++i) {
        const int32_t x3 = mcu_sat_round_mul_pot(mcu_srdhm(mcu_srdhm(x, x), x), 6);
        x = mcu_sat_round_mul_pot(
            mcu_wrap_sub(mcu_srdhm(half_three, x), mcu_srdhm(half_input, x3)), 3);
    }
    x = mcu_srdhm(x, half_sqrt_2);
    if (right_shift < 0) {
        x = mcu_wrap_shl(x, (int)-right_shift);
        right_shift = 0;
    }
    *multiplier = x;
    *shift = -right_shift;
}

mcu_status mcu_rsqrt_s8(const mcu_rsqrt_params *params, int32_t size, const int8_t *input,
                        int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t value = (int32_t)input[i] - params->input_zero_point;
        int32_t multiplier = MCU_INT32_MAX;
        int32_t shift = 0;
        int32_t data;
        int32_t out;
        if (value < 0) {
            return MCU_ERROR_ARGUMENT;
        }
        if (value == 0) {
            output[i] = INT8_MAX;
            continue;
        }
        if (value > 1) {
            inv_sqrt(value, &multiplier, &shift);
        }
        data = mcu_mul_by_quantized_mult(1, multiplier, shift + KEEP_INTEGER_SHIFT);
        out = mcu_mul_by_quantized_mult(data, params->multiplier,
                                        params->shift - KEEP_INTEGER_SHIFT) +
              params->output_zero_point;
        output[i] = (int8_t)mcu_clamp32(out, INT8_MIN, INT8_MAX);
    }
    return MCU_OK;
}
