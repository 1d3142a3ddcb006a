/*
 * mcu_leaky_relu_s8.c - LEAKY_RELU, int8.
 *
 * A non-negative input (after its zero point) is requantized by the identity
 * multiplier, a negative one by the alpha multiplier; a negative alpha is
 * applied as its magnitude and a negated result, as TFLM's QuantizeLeakyRelu.
 * Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_leaky_relu_s8(const mcu_leaky_relu_params *params, int32_t size,
                             const int8_t *input, int8_t *output)
{
    const int alpha_negative = params->multiplier_alpha < 0;
    const int32_t alpha_multiplier = alpha_negative ? -params->multiplier_alpha
                                                    : params->multiplier_alpha;
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t x = (int32_t)input[i] - params->input_zero_point;
        int32_t out = params->output_zero_point;
        if (x >= 0) {
            out += mcu_mul_by_quantized_mult(x, params->multiplier_identity, params->shift_identity);
        } else {
            const int32_t scaled = mcu_mul_by_quantized_mult(x, alpha_multiplier,
                                                             params->shift_alpha);
            out += alpha_negative ? -scaled : scaled;
        }
        output[i] = (int8_t)mcu_clamp32(out, INT8_MIN, INT8_MAX);
    }
    return MCU_OK;
}
