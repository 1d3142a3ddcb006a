/*
 * mcu_tanh_s8.c - TANH, int8 in, int8 out (scale 1/128, zero point 0).
 *
 * Inputs beyond +-input_range_radius saturate; the rest are rescaled to Q4.27
 * and go through the fixed-point tanh, then to Q0.7, as TFLM's reference
 * integer Tanh. A large tensor goes through a 256-entry table of the same
 * function (MCU_UNARY_VIA_LUT): some 300 instructions per element become a
 * lookup. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

#define INPUT_INTEGER_BITS 4
#define OUTPUT_FRACTIONAL_BITS 7

static inline int8_t tanh_one(const mcu_tanh_params *p, int8_t v)
{
    const int32_t x = (int32_t)v - p->input_zero_point;
    if (x <= -p->input_range_radius) {
        return INT8_MIN;
    }
    if (x >= p->input_range_radius) {
        return INT8_MAX;
    }
    {
        const int32_t x_q4 = mcu_mul_by_quantized_mult(x, p->input_multiplier, p->input_left_shift);
        const int32_t y_q0 = mcu_fp_tanh(x_q4, INPUT_INTEGER_BITS);
        const int32_t y = mcu_rdbpot(y_q0, 31 - OUTPUT_FRACTIONAL_BITS);
        return (int8_t)mcu_clamp32(y, INT8_MIN, INT8_MAX);
    }
}

mcu_status mcu_tanh_s8(const mcu_context *ctx, const mcu_tanh_params *params, int32_t size,
                       const int8_t *input, int8_t *output)
{
    MCU_UNARY_VIA_LUT(tanh_one, params, ctx, size, input, output);
    return MCU_OK;
}
