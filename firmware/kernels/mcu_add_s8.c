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
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = add_one(params, input1[i], input2[i]);
    }
    return MCU_OK;
}

mcu_status mcu_add_broadcast_s8(const mcu_add_params *params, const mcu_broadcast *bc,
                                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *d = bc->dims;
    int32_t i0, i1, i2, i3, i4, i5;
    size_t o = 0;
    for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
    for (i2 = 0; i2 < d[2]; ++i2)
    for (i3 = 0; i3 < d[3]; ++i3)
    for (i4 = 0; i4 < d[4]; ++i4) {
        const size_t a = (size_t)i0 * bc->stride1[0] + (size_t)i1 * bc->stride1[1] +
                         (size_t)i2 * bc->stride1[2] + (size_t)i3 * bc->stride1[3] +
                         (size_t)i4 * bc->stride1[4];
        const size_t b = (size_t)i0 * bc->stride2[0] + (size_t)i1 * bc->stride2[1] +
                         (size_t)i2 * bc->stride2[2] + (size_t)i3 * bc->stride2[3] +
                         (size_t)i4 * bc->stride2[4];
        for (i5 = 0; i5 < d[5]; ++i5) {
            output[o++] = add_one(params, input1[a + (size_t)i5 * bc->stride1[5]],
                                  input2[b + (size_t)i5 * bc->stride2[5]]);
        }
    }
    return MCU_OK;
}
