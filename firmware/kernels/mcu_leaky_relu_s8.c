/*
 * mcu_leaky_relu_s8.c - LEAKY_RELU, int8.
 *
 * A non-negative input (after its zero point) is requantized by the identity
 * multiplier, a negative one by the alpha multiplier; a negative alpha is
 * applied as its magnitude and a negated result, as TFLM's QuantizeLeakyRelu.
 * A large tensor goes through a 256-entry table (MCU_UNARY_VIA_LUT). Safe in
 * place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t leaky_relu_one(const mcu_leaky_relu_params *p, int8_t v)
{
    const int32_t x = (int32_t)v - p->input_zero_point;
    int32_t out = p->output_zero_point;
    if (x >= 0) {
        out += mcu_mul_by_quantized_mult(x, p->multiplier_identity, p->shift_identity);
    } else if (p->multiplier_alpha < 0) {
        out -= mcu_mul_by_quantized_mult(x, -p->multiplier_alpha, p->shift_alpha);
    } else {
        out += mcu_mul_by_quantized_mult(x, p->multiplier_alpha, p->shift_alpha);
    }
    return (int8_t)mcu_clamp32(out, INT8_MIN, INT8_MAX);
}

mcu_status mcu_leaky_relu_s8(const mcu_context *ctx, const mcu_leaky_relu_params *params,
                             int32_t size, const int8_t *input, int8_t *output)
{
    MCU_UNARY_VIA_LUT(leaky_relu_one, params, ctx, size, input, output);
    return MCU_OK;
}
