/*
 * mcu_arm_dot.h - the int8 dot products of the Cortex-M7 kernels that read their
 * operands in place (no im2col, no reordered filter): TRANSPOSE_CONV and grouped CONV_2D.
 *
 * sum_k (x[k] + offset) * f[k] over n elements, four at a time: a word of x and a
 * word of f, SXTB16 (and SXTB16 of the word rotated by 8) give bytes (0, 2) and
 * (1, 3) of each as 16-bit lanes, SXTAB16 adds the offset to x's lanes (|x + offset|
 * <= 255 fits a lane), two SMLADs add the four products. The lane order is the same
 * for x and f, so the sum is the plain C one; every addition wraps modulo 2^32 as
 * TFLM's int32 sum does. Two filters at a time share the expansion of x.
 */
#ifndef MCU_ARM_DOT_H
#define MCU_ARM_DOT_H

#include "mcu_arm_acle.h"

/* acc + sum_k (x[k] + offset) * f[k], k < n. */
MCU_INLINE int32_t mcu_arm_dot_s8(const int8_t *x, const int8_t *f, int32_t n, int32_t offset, int32_t acc)
{
    const int32_t off2 = (int32_t)(((uint32_t)offset & 0xFFFFu) | ((uint32_t)offset << 16));
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t xw = mcu_load32(x + k), fw = mcu_load32(f + k);
        acc = mcu_smlad(mcu_sxtab16(off2, xw), mcu_sxtb16(fw), acc);
        acc = mcu_smlad(mcu_sxtab16(off2, mcu_ror8(xw)), mcu_sxtb16(mcu_ror8(fw)), acc);
    }
    for (; k < n; ++k) {
        acc += ((int32_t)x[k] + offset) * (int32_t)f[k];
    }
    return acc;
}

/* The same for two filters f0, f1 against one x: *acc0 and *acc1 accumulate. */
MCU_INLINE void mcu_arm_dot2_s8(const int8_t *x, const int8_t *f0, const int8_t *f1, int32_t n, int32_t offset,
                                int32_t *acc0, int32_t *acc1)
{
    const int32_t off2 = (int32_t)(((uint32_t)offset & 0xFFFFu) | ((uint32_t)offset << 16));
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t xw = mcu_load32(x + k);
        const int32_t x02 = mcu_sxtab16(off2, xw), x13 = mcu_sxtab16(off2, mcu_ror8(xw));
        const int32_t g0 = mcu_load32(f0 + k), g1 = mcu_load32(f1 + k);
        a0 = mcu_smlad(x02, mcu_sxtb16(g0), a0);
        a0 = mcu_smlad(x13, mcu_sxtb16(mcu_ror8(g0)), a0);
        a1 = mcu_smlad(x02, mcu_sxtb16(g1), a1);
        a1 = mcu_smlad(x13, mcu_sxtb16(mcu_ror8(g1)), a1);
    }
    for (; k < n; ++k) {
        const int32_t v = (int32_t)x[k] + offset;
        a0 += v * (int32_t)f0[k];
        a1 += v * (int32_t)f1[k];
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* Two rows f0, f1 that carry an offset of their own (BATCH_MATMUL's rhs zero point):
 * *acc0 += sum_k (x[k] + x_offset) * (f0[k] + f_offset), the same for f1. */
MCU_INLINE void mcu_arm_dot2_s8_offsets(const int8_t *x, const int8_t *f0, const int8_t *f1, int32_t n,
                                        int32_t x_offset, int32_t f_offset, int32_t *acc0, int32_t *acc1)
{
    const int32_t xo2 = (int32_t)(((uint32_t)x_offset & 0xFFFFu) | ((uint32_t)x_offset << 16));
    const int32_t fo2 = (int32_t)(((uint32_t)f_offset & 0xFFFFu) | ((uint32_t)f_offset << 16));
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t xw = mcu_load32(x + k);
        const int32_t x02 = mcu_sxtab16(xo2, xw), x13 = mcu_sxtab16(xo2, mcu_ror8(xw));
        const int32_t g0 = mcu_load32(f0 + k), g1 = mcu_load32(f1 + k);
        a0 = mcu_smlad(x02, mcu_sxtab16(fo2, g0), a0);
        a0 = mcu_smlad(x13, mcu_sxtab16(fo2, mcu_ror8(g0)), a0);
        a1 = mcu_smlad(x02, mcu_sxtab16(fo2, g1), a1);
        a1 = mcu_smlad(x13, mcu_sxtab16(fo2, mcu_ror8(g1)), a1);
    }
    for (; k < n; ++k) {
        const int32_t v = (int32_t)x[k] + x_offset;
        a0 += v * ((int32_t)f0[k] + f_offset);
        a1 += v * ((int32_t)f1[k] + f_offset);
    }
    *acc0 = a0;
    *acc1 = a1;
}

#endif /* MCU_ARM_DOT_H */
