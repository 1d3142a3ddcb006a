/*
 * mcu_add_s16.c - ADD, 16x8 (int16 in and out), with numpy broadcasting.
 *
 * TFLM's int16 ADD (its general-scale path): each input shifted left by 15 bits (the
 * int8 kernel's 20), scaled by its multiplier, summed, requantized to the output,
 * clamped. Safe in place: output element i is written after the inputs it reads.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int16_t one(const mcu_add_params *p, int16_t a, int16_t b)
{
    const int32_t x1 = mcu_wrap_shl(p->input1_offset + a, p->left_shift);
    const int32_t x2 = mcu_wrap_shl(p->input2_offset + b, p->left_shift);
    const int32_t s1 = mcu_mul_by_quantized_mult(x1, p->input1_multiplier, p->input1_shift);
    const int32_t s2 = mcu_mul_by_quantized_mult(x2, p->input2_multiplier, p->input2_shift);
    const int32_t out = mcu_mul_by_quantized_mult(mcu_wrap_add(s1, s2), p->output_multiplier,
                                                  p->output_shift) + p->output_offset;
    return (int16_t)mcu_clamp32(out, p->act_min, p->act_max);
}

mcu_status mcu_add_s16(const mcu_add_params *params, const mcu_broadcast *bc,
                       const int16_t *input1, const int16_t *input2, int16_t *output)
{
    const mcu_add_params p = *params; /* a local copy: output stores cannot alias it */
    const int32_t *d = bc->dims;
    const size_t s1 = (size_t)bc->stride1[5], s2 = (size_t)bc->stride2[5];
    int32_t i0, i1, i2, i3, i4, j;
    size_t o = 0;
    for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
    for (i2 = 0; i2 < d[2]; ++i2)
    for (i3 = 0; i3 < d[3]; ++i3)
    for (i4 = 0; i4 < d[4]; ++i4) {
        const int16_t *a = input1 + MCU_BROADCAST_OFFSET5(bc->stride1, i0, i1, i2, i3, i4);
        const int16_t *b = input2 + MCU_BROADCAST_OFFSET5(bc->stride2, i0, i1, i2, i3, i4);
        if (s1 == 1u && s2 == 1u) { /* equal shapes: one contiguous run */
            for (j = 0; j < d[5]; ++j) {
                output[o + (size_t)j] = one(&p, a[j], b[j]);
            }
        } else {
            for (j = 0; j < d[5]; ++j) {
                output[o + (size_t)j] = one(&p, a[(size_t)j * s1], b[(size_t)j * s2]);
            }
        }
        o += (size_t)d[5];
    }
    return MCU_OK;
}
