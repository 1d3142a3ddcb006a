/*
 * mcu_relu_s8.c - standalone RELU and RELU6, int8.
 *
 * RELU requantizes from the input to the output scale and clamps at the
 * output's zero (TFLM's ReluQuantized); RELU6 only clamps to the quantized
 * [0, 6] of its input's scale (TFLM's Relu6Quantized). Both safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_relu_s8(const mcu_relu_params *params, int32_t size, const int8_t *input,
                       int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t v = params->output_zero_point +
                          mcu_mul_by_quantized_mult((int32_t)input[i] - params->input_zero_point,
                                                    params->multiplier, params->shift);
        output[i] = (int8_t)mcu_clamp32(v, params->act_min, params->act_max);
    }
    return MCU_OK;
}

mcu_status mcu_relu6_s8(int8_t lower, int8_t upper, int32_t size, const int8_t *input,
                        int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int8_t v = input[i];
        output[i] = v > upper ? upper : (v < lower ? lower : v);
    }
    return MCU_OK;
}
