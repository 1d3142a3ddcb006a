/*
 * mcu_mul_s16.c - MUL, 16x8 (int16 in and out), with numpy broadcasting.
 *
 * As TFLM's reference integer Mul for int16: the 32-bit product of the inputs (zero
 * points 0, offsets kept for symmetry with int8) requantized, + output offset, clamped.
 * Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int16_t one(const mcu_mul_params *p, int16_t a, int16_t b)
{
    const int32_t prod = (p->input1_offset + a) * (p->input2_offset + b);
    const int32_t out = p->output_offset +
                        mcu_mul_by_quantized_mult(prod, p->output_multiplier, p->output_shift);
    return (int16_t)mcu_clamp32(out, p->act_min, p->act_max);
}

mcu_status mcu_mul_s16(const mcu_mul_params *params, const mcu_broadcast *bc,
                       const int16_t *input1, const int16_t *input2, int16_t *output)
{
    const mcu_mul_params p = *params; /* a local copy: output stores cannot alias it */
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
