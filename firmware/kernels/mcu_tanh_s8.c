/*
 * mcu_tanh_s8.c - TANH, int8 in, int8 out (scale 1/128, zero point 0).
 *
 * Inputs beyond +-input_range_radius saturate; the rest are rescaled to Q4.27
 * and go through the fixed-point tanh, then to Q0.7, as TFLM's reference
 * integer Tanh. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

#define INPUT_INTEGER_BITS 4
#define OUTPUT_FRACTIONAL_BITS 7

mcu_status mcu_tanh_s8(const mcu_tanh_params *params, int32_t size, const int8_t *input,
                       int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t x = (int32_t)input[i] - params->input_zero_point;
        if (x <= -params->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t x_q4 = mcu_mul_by_quantized_mult(x, params->input_multiplier,
                                                           params->input_left_shift);
            const int32_t y_q0 = mcu_fp_tanh(x_q4, INPUT_INTEGER_BITS);
            const int32_t y = mcu_rdbpot(y_q0, 31 - OUTPUT_FRACTIONAL_BITS);
            output[i] = (int8_t)mcu_clamp32(y, INT8_MIN, INT8_MAX);
        }
    }
    return MCU_OK;
}
