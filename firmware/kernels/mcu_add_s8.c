/*
 * mcu_add_s8.c - ADD, int8, with numpy broadcasting.
 *
 * Both inputs are brought to a common scale (left shift by 20 bits, then each
 * scaled by its multiplier), summed, and requantized to the output, as TFLM's
 * reference integer Add. Safe in place: output element i is written after the
 * input elements it depends on are read.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t add_one(const mcu_add_params *p, int8_t a, int8_t b)
{
    const int32_t x1 = mcu_wrap_shl(p->input1_offset + a, p->left_shift);
    const int32_t x2 = mcu_wrap_shl(p->input2_offset + b, p->left_shift);
    const int32_t s1 = mcu_mul_by_quantized_mult(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mcu_mul_by_quantized_mult(x2, p->input2_multiplier, p->input2_shift);
    const int32_t out = mcu_mul_by_quantized_mult(mcu_wrap_add(s1, s2), p->output_multiplier,
                                                  p->output_shift) + p->output_offset;
    return (int8_t)mcu_clamp32(out, p->act_min, p->act_max);
}

mcu_status mcu_add_s8(const mcu_add_params *params, int32_t size, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    const mcu_add_params p = *params; /* a local copy: output stores cannot alias it */
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = add_one(&p, input1[i], input2[i]);
    }
    return MCU_OK;
}

mcu_status mcu_add_broadcast_s8(const mcu_add_params *params, const mcu_broadcast *bc,
                                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const mcu_add_params p = *params; /* a local copy: see MCU_BROADCAST_BINARY */
    MCU_BROADCAST_BINARY(add_one, &p, bc, input1, input2, output);
    return MCU_OK;
}
