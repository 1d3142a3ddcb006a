/*
 * mcu_abs_s8.c - ABS, int8.
 *
 * |input - input zero point|, requantized to the output scale only when the
 * two scales differ, plus the output zero point, clamped, as TFLM's quantized
 * Abs. A large tensor goes through a 256-entry table (MCU_UNARY_VIA_LUT).
 * Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t abs_one(const mcu_abs_params *p, int8_t x)
{
    const int32_t d = (int32_t)x - p->input_zero_point;
    const int32_t value = d < 0 ? -d : d;
    const int32_t scaled = p->needs_rescale ? mcu_mul_by_quantized_mult(value, p->multiplier, p->shift)
                                            : value;
    return (int8_t)mcu_clamp32(scaled + p->output_zero_point, INT8_MIN, INT8_MAX);
}

mcu_status mcu_abs_s8(const mcu_context *ctx, const mcu_abs_params *params, int32_t size,
                      const int8_t *input, int8_t *output)
{
    MCU_UNARY_VIA_LUT(abs_one, params, ctx, size, input, output);
    return MCU_OK;
}
