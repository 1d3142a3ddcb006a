/*
 * mcu_squared_difference_s8.c - SQUARED_DIFFERENCE, int8, with numpy broadcasting.
 *
 * Each input is shifted left by 7 bits and scaled to a common scale (twice the
 * larger input scale); the difference is squared in int32 (at most
 * (255 * 2^7)^2 < 2^31) and requantized to the output, as TFLM's
 * SquaredDifference for int8. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t squared_difference_one(const mcu_squared_difference_params *p, int8_t a,
                                            int8_t b)
{
    const int32_t x1 = mcu_wrap_shl(p->input1_offset + a, p->left_shift);
    const int32_t x2 = mcu_wrap_shl(p->input2_offset + b, p->left_shift);
    const int32_t s1 = mcu_mul_by_quantized_mult(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mcu_mul_by_quantized_mult(x2, p->input2_multiplier, p->input2_shift);
    const int32_t diff = mcu_wrap_sub(s1, s2);
    const int32_t square = (int32_t)((uint32_t)diff * (uint32_t)diff);
    const int32_t out = mcu_mul_by_quantized_mult(square, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    return (int8_t)mcu_clamp32(out, INT8_MIN, INT8_MAX);
}

mcu_status mcu_squared_difference_s8(const mcu_squared_difference_params *params,
                                     const mcu_broadcast *bc, const int8_t *input1,
                                     const int8_t *input2, int8_t *output)
{
    const mcu_squared_difference_params p = *params; /* a local copy: see MCU_BROADCAST_BINARY */
    MCU_BROADCAST_BINARY(squared_difference_one, &p, bc, input1, input2, output);
    return MCU_OK;
}
