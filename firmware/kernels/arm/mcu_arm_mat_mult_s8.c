/*
 * mcu_arm_mat_mult_s8.c - the matrix kernels under the Cortex-M7 convolutions:
 * out[pixel][oc] = requant(bias[oc] + sum_k filter[oc][k] * cols[pixel][k]) for
 * 2 pixels (or 1) and all output channels, plus the int8 -> doubled int16
 * expansion that fills `cols` (im2col).
 *
 * Inner loop, 2 channels x 2 pixels x 4 depth elements (16 MACs): one LDRD of
 * the two channels' filter words, two LDRD of the pixels' expanded inputs,
 * 4 SXTB16 and 8 SMLAD. The expanded inputs keep SXTB16's lane order
 * ({x0, x2}, {x1, x3}), which is the order SXTB16 gives the filter bytes too,
 * so neither side is reordered.
 *
 * The filter stream (`packed`, MCU_ARM_MM_* layout in mcu_arm_kernels.h) holds
 * each channel pair's biases, filter words and requantization in the order
 * the loop consumes them, so one post-incremented pointer reads everything.
 */
#include "mcu_arm_kernels.h"

int32_t *mcu_arm_expand_s8(const int8_t *src, int32_t n, int32_t pad, int32_t *cols, int32_t stride_words)
{
    int32_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        const int32_t x = mcu_load32(src + i);
        const int32_t e = mcu_sxtb16(x);
        const int32_t o = mcu_sxtb16_ror8(x);
        cols[0] = mcu_sadd16(e, e);
        cols[1] = mcu_sadd16(o, o);
        cols += stride_words;
    }
    if (i < n) {
        int8_t tail[4];
        int32_t j;
        for (j = 0; j < 4; ++j) {
            tail[j] = (int8_t)(i + j < n ? src[i + j] : pad);
        }
        {
            const int32_t x = mcu_load32(tail);
            const int32_t e = mcu_sxtb16(x);
            const int32_t o = mcu_sxtb16_ror8(x);
            cols[0] = mcu_sadd16(e, e);
            cols[1] = mcu_sadd16(o, o);
            cols += stride_words;
        }
    }
    return cols;
}

/* One step, 2 channels x 2 pixels x 4 depth elements: reads the two filter
 * words at w and the 4 pixel words at c, advancing both. */
#define MM_STEP_2X2(w, c)                               \
    do {                                                \
        int32_t f0, f1, xa0, xa1, xb0, xb1, t;          \
        MCU_LDRD_INC(f0, f1, w);                        \
        MCU_LDRD_INC(xa0, xa1, c);                      \
        MCU_LDRD_INC(xb0, xb1, c);                      \
        t = mcu_sxtb16(f0);                             \
        f0 = mcu_sxtb16_ror8(f0);                       \
        acc_a0 = mcu_smlad(t, xa0, acc_a0);             \
        acc_b0 = mcu_smlad(t, xb0, acc_b0);             \
        acc_a0 = mcu_smlad(f0, xa1, acc_a0);            \
        acc_b0 = mcu_smlad(f0, xb1, acc_b0);            \
        t = mcu_sxtb16(f1);                             \
        f1 = mcu_sxtb16_ror8(f1);                       \
        acc_a1 = mcu_smlad(t, xa0, acc_a1);             \
        acc_b1 = mcu_smlad(t, xb0, acc_b1);             \
        acc_a1 = mcu_smlad(f1, xa1, acc_a1);            \
        acc_b1 = mcu_smlad(f1, xb1, acc_b1);            \
    } while (0)

static int8_t requant_exact(const mcu_arm_conv_params *p, int32_t acc, int32_t mult, int32_t shift)
{
    const mcu_arm_requant r = {0, mult, 0, shift};
    return (int8_t)mcu_clamp32(mcu_arm_requant_exact(acc, &r, p->output_offset), p->act_min, p->act_max);
}

/* The 2-pixel kernel for one requantization form and clamp (constants in each
 * instantiation). Pre-RA scheduling is off: gcc 12 would hoist loads and
 * SXTB16s out of order and spill them. */
#define MM_FN __attribute__((noinline, optimize("no-schedule-insns")))

MCU_INLINE void mat_mult_2px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                             const int32_t *w, int32_t out_c, int8_t *out_a, int8_t *out_b, const int exact,
                             const int clamp)
{
    const int32_t *const end = cols + 8 * (steps >> 1);
    const int8_t *const pairs_end = out_a + (out_c & ~1);
    for (; out_a != pairs_end; out_a += 2, out_b += 2) {
        int32_t acc_a0, acc_a1, acc_b0, acc_b1, m0, m1, a0, a1, s0, s1;
        const int32_t *c = cols;
        MCU_LDRD_INC(acc_a0, acc_a1, w);
        acc_b0 = acc_a0;
        acc_b1 = acc_a1;
        while (c != end) {
            MM_STEP_2X2(w, c);
            MM_STEP_2X2(w, c);
        }
        if (steps & 1) {
            MM_STEP_2X2(w, c);
        }
        MCU_LDRD_INC(m0, m1, w);
        MCU_LDRD_INC(a0, a1, w);
        MCU_LDRD_INC(s0, s1, w);
        if (exact) {
            out_a[0] = requant_exact(params, acc_a0, m0, s0);
            out_a[1] = requant_exact(params, acc_a1, m1, s1);
            out_b[0] = requant_exact(params, acc_b0, m0, s0);
            out_b[1] = requant_exact(params, acc_b1, m1, s1);
        } else {
            const int32_t ra0 = mcu_arm_requant_fast(acc_a0, m0, a0, s0);
            const int32_t ra1 = mcu_arm_requant_fast(acc_a1, m1, a1, s1);
            const int32_t rb0 = mcu_arm_requant_fast(acc_b0, m0, a0, s0);
            const int32_t rb1 = mcu_arm_requant_fast(acc_b1, m1, a1, s1);
            if (clamp) {
                const int32_t v = mcu_arm_clamp8x4(mcu_pack8x4(ra0, ra1, rb0, rb1),
                                                   mcu_arm_splat8(params->act_min),
                                                   mcu_arm_splat8(params->act_max));
                mcu_store16(out_a, v);
                mcu_store16(out_b, v >> 16);
            } else {
                out_a[0] = (int8_t)ra0;
                out_a[1] = (int8_t)ra1;
                out_b[0] = (int8_t)rb0;
                out_b[1] = (int8_t)rb1;
            }
        }
    }
    if (out_c & 1) {
        int32_t acc_a = *w++, acc_b, s;
        const int32_t *c = cols;
        acc_b = acc_a;
        for (s = 0; s < steps; ++s) {
            int32_t xa0, xa1, xb0, xb1;
            const int32_t f = *w++;
            const int32_t t = mcu_sxtb16(f);
            const int32_t u = mcu_sxtb16_ror8(f);
            MCU_LDRD_INC(xa0, xa1, c);
            MCU_LDRD_INC(xb0, xb1, c);
            acc_a = mcu_smlad(t, xa0, acc_a);
            acc_b = mcu_smlad(t, xb0, acc_b);
            acc_a = mcu_smlad(u, xa1, acc_a);
            acc_b = mcu_smlad(u, xb1, acc_b);
        }
        if (exact) {
            out_a[0] = requant_exact(params, acc_a, w[0], w[2]);
            out_b[0] = requant_exact(params, acc_b, w[0], w[2]);
        } else {
            out_a[0] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc_a, w[0], w[1], w[2]), params->act_min,
                                           params->act_max);
            out_b[0] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc_b, w[0], w[1], w[2]), params->act_min,
                                           params->act_max);
        }
    }
}

MM_FN static void mm2_fast(const mcu_arm_conv_params *p, const int32_t *cols, int32_t steps, const int32_t *w,
                           int32_t out_c, int8_t *out_a, int8_t *out_b)
{
    mat_mult_2px(p, cols, steps, w, out_c, out_a, out_b, 0, 0);
}

MM_FN static void mm2_clamp(const mcu_arm_conv_params *p, const int32_t *cols, int32_t steps, const int32_t *w,
                            int32_t out_c, int8_t *out_a, int8_t *out_b)
{
    mat_mult_2px(p, cols, steps, w, out_c, out_a, out_b, 0, 1);
}

MM_FN static void mm2_exact(const mcu_arm_conv_params *p, const int32_t *cols, int32_t steps, const int32_t *w,
                            int32_t out_c, int8_t *out_a, int8_t *out_b)
{
    mat_mult_2px(p, cols, steps, w, out_c, out_a, out_b, 1, 1);
}

void mcu_arm_mat_mult_2px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                          const int32_t *packed, int32_t out_c, int8_t *out_a, int8_t *out_b)
{
    if (params->flags & MCU_ARM_REQUANT_EXACT) {
        mm2_exact(params, cols, steps, packed, out_c, out_a, out_b);
    } else if (params->act_min > -128 || params->act_max < 127) {
        mm2_clamp(params, cols, steps, packed, out_c, out_a, out_b);
    } else {
        mm2_fast(params, cols, steps, packed, out_c, out_a, out_b);
    }
}

/* The 1-pixel kernel: the same stream, cols with 2 words a step. */
MM_FN void mcu_arm_mat_mult_1px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                                const int32_t *w, int32_t out_c, int8_t *out)
{
    const int exact = params->flags & MCU_ARM_REQUANT_EXACT;
    const int32_t *const end = cols + 2 * steps;
    int32_t oc;
    for (oc = 0; oc + 2 <= out_c; oc += 2) {
        int32_t acc0, acc1, m0, m1, a0, a1, s0, s1;
        const int32_t *c = cols;
        MCU_LDRD_INC(acc0, acc1, w);
        while (c != end) {
            int32_t x0, x1, f0, f1;
            MCU_LDRD_INC(f0, f1, w);
            MCU_LDRD_INC(x0, x1, c);
            acc0 = mcu_smlad(mcu_sxtb16(f0), x0, acc0);
            acc0 = mcu_smlad(mcu_sxtb16_ror8(f0), x1, acc0);
            acc1 = mcu_smlad(mcu_sxtb16(f1), x0, acc1);
            acc1 = mcu_smlad(mcu_sxtb16_ror8(f1), x1, acc1);
        }
        MCU_LDRD_INC(m0, m1, w);
        MCU_LDRD_INC(a0, a1, w);
        MCU_LDRD_INC(s0, s1, w);
        if (exact) {
            out[oc] = requant_exact(params, acc0, m0, s0);
            out[oc + 1] = requant_exact(params, acc1, m1, s1);
        } else {
            out[oc] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc0, m0, a0, s0), params->act_min, params->act_max);
            out[oc + 1] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc1, m1, a1, s1), params->act_min,
                                              params->act_max);
        }
    }
    if (oc < out_c) {
        int32_t acc = *w++;
        const int32_t *c = cols;
        while (c != end) {
            int32_t x0, x1;
            const int32_t f = *w++;
            MCU_LDRD_INC(x0, x1, c);
            acc = mcu_smlad(mcu_sxtb16(f), x0, acc);
            acc = mcu_smlad(mcu_sxtb16_ror8(f), x1, acc);
        }
        if (exact) {
            out[oc] = requant_exact(params, acc, w[0], w[2]);
        } else {
            out[oc] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc, w[0], w[1], w[2]), params->act_min,
                                          params->act_max);
        }
    }
}
