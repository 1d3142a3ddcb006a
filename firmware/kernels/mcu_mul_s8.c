/*
 * mcu_mul_s8.c - MUL, int8, with numpy broadcasting (e.g. squeeze-and-excite
 * [1,H,W,C] * [1,1,1,C]).
 *
 * out = requant((a + input1_offset) * (b + input2_offset)) + output_offset,
 * clamped, as TFLM's reference integer Mul. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t mul_one(const mcu_mul_params *p, int8_t a, int8_t b)
{
    const int32_t prod = (p->input1_offset + a) * (p->input2_offset + b);
    const int32_t out = p->output_offset +
                        mcu_mul_by_quantized_mult(prod, p->output_multiplier, p->output_shift);
    return (int8_t)mcu_clamp32(out, p->act_min, p->act_max);
}

mcu_status mcu_mul_s8(const mcu_mul_params *params, int32_t size, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = mul_one(params, input1[i], input2[i]);
    }
    return MCU_OK;
}

mcu_status mcu_mul_broadcast_s8(const mcu_mul_params *params, const mcu_broadcast *bc,
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
            output[o++] = mul_one(params, input1[a + (size_t)i5 * bc->stride1[5]],
                                  input2[b + (size_t)i5 * bc->stride2[5]]);
        }
    }
    return MCU_OK;
}
