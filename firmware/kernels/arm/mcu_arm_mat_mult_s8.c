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
 * With int16 filters (MCU_ARM_WIDE: the filter stored as doubled int16 in the
 * same lane order, twice the flash), a step is one LDM, two LDRD and 8 SMLAD,
 * and the expanded inputs are not doubled.
 *
 * The filter stream (`packed`, layout in mcu_arm_kernels.h) holds each channel
 * pair's biases, filter words and requantization in the order the loop
 * consumes them, so one post-incremented pointer reads everything.
 */
#include "mcu_arm_kernels.h"

MCU_INLINE int32_t *expand(const int8_t *src, int32_t n, int32_t pad, int32_t *cols, int32_t stride_words,
                           int doubled)
{
    int32_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        mcu_arm_expand_word(mcu_load32(src + i), cols, doubled);
        cols += stride_words;
    }
    if (i < n) {
        int8_t tail[4];
        int32_t j;
        for (j = 0; j < 4; ++j) {
            tail[j] = (int8_t)(i + j < n ? src[i + j] : pad);
        }
        mcu_arm_expand_word(mcu_load32(tail), cols, doubled);
        cols += stride_words;
    }
    return cols;
}

int32_t *mcu_arm_expand_s8(const int8_t *src, int32_t n, int32_t pad, int32_t *cols, int32_t stride_words,
                           int32_t doubled)
{
    return doubled ? expand(src, n, pad, cols, stride_words, 1) : expand(src, n, pad, cols, stride_words, 0);
}

/* A generated project compiles in only the variants its layers use (mcugen writes
 * MCU_ARM_MM_VARIANTS into mcu_arm_config.h); everything else is left out of the
 * image. Bits 0-5: 2-pixel fast/clamp/exact, then the same with int16 filters;
 * bits 6-11: 1x1 pairs, same order; bit 12: 1 pixel; bit 13: 1 pixel, int16 filters. */
#if defined(__has_include)
#if __has_include("mcu_arm_config.h")
#include "mcu_arm_config.h"
#endif
#endif
#ifndef MCU_ARM_MM_VARIANTS
#define MCU_ARM_MM_VARIANTS 0x3FFFu
#endif
#define MM_HAS(bit) ((MCU_ARM_MM_VARIANTS >> (bit)) & 1u)

/* One step, 2 channels x 2 pixels x 4 depth elements: reads the two filter
 * words at w (LDRD) and the 4 pixel words at c (LDM), advancing both. */
#define MM_STEP_2X2(w, c)                               \
    do {                                                \
        MCU_LDM4_REGS(xa0, xa1, xb0, xb1);              \
        int32_t f0, f1, t;                              \
        MCU_LDRD_INC(f0, f1, w);                        \
        MCU_LDM4_INC(xa0, xa1, xb0, xb1, c);            \
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

/* The same step with int16 filters: two LDRD of {w0, w2}, {w1, w3} per channel. */
#define MM_STEP_2X2_W(w, c)                             \
    do {                                                \
        MCU_LDM4_REGS(xa0, xa1, xb0, xb1);              \
        int32_t f0, f1;                                 \
        MCU_LDM4_INC(xa0, xa1, xb0, xb1, c);            \
        MCU_LDRD_INC(f0, f1, w);                        \
        acc_a0 = mcu_smlad(f0, xa0, acc_a0);            \
        acc_b0 = mcu_smlad(f0, xb0, acc_b0);            \
        acc_a0 = mcu_smlad(f1, xa1, acc_a0);            \
        acc_b0 = mcu_smlad(f1, xb1, acc_b0);            \
        MCU_LDRD_INC(f0, f1, w);                        \
        acc_a1 = mcu_smlad(f0, xa0, acc_a1);            \
        acc_b1 = mcu_smlad(f0, xb0, acc_b1);            \
        acc_a1 = mcu_smlad(f1, xa1, acc_a1);            \
        acc_b1 = mcu_smlad(f1, xb1, acc_b1);            \
    } while (0)

/* Filter word(s) of one channel for one step, as the two SXTB16 lanes words. */
#define MM_FILTER_1(w, t, u, wide)                      \
    do {                                                \
        if (wide) {                                     \
            MCU_LDRD_INC(t, u, w);                      \
        } else {                                        \
            const int32_t f_ = *(w)++;                  \
            t = mcu_sxtb16(f_);                         \
            u = mcu_sxtb16_ror8(f_);                    \
        }                                               \
    } while (0)

/* Steps are unrolled 8 times; a block enters the unrolled body at the step
 * that leaves a multiple of 8 (Duff's device), so the loop test runs once per
 * 8 steps. With the GNU dialect the entry is a label address computed once per
 * call (computed goto: one branch per block); in ISO C it is a switch on
 * steps % 8 per block (a table branch and its bound check): person_detect
 * 10.28 M instructions instead of 10.19 M with gcc, 17.7 M instead of 15.7 M
 * with clang. */
#ifndef MM_COMPUTED_GOTO
#define MM_COMPUTED_GOTO MCU_GNUC
#endif

#define MM_UNROLLED_BODY_2X2(STEP, w, c, rounds)                  \
    do {                                                          \
        MM_FIRST_ENTRY(0, mm8)                                    \
            STEP(w, c);                                           \
        MM_ENTRY(7, mm7)                                          \
            STEP(w, c);                                           \
        MM_ENTRY(6, mm6)                                          \
            STEP(w, c);                                           \
        MM_ENTRY(5, mm5)                                          \
            STEP(w, c);                                           \
        MM_ENTRY(4, mm4)                                          \
            STEP(w, c);                                           \
        MM_ENTRY(3, mm3)                                          \
            STEP(w, c);                                           \
        MM_ENTRY(2, mm2)                                          \
            STEP(w, c);                                           \
        MM_ENTRY(1, mm1)                                          \
            STEP(w, c);                                           \
    } while (--(rounds) > 0)

#if MM_COMPUTED_GOTO
/* __extension__ marks the two GNU constructs as deliberate (no -Wpedantic). */
#define MM_FIRST_ENTRY(k, label) label:
#define MM_ENTRY(k, label) label:
#define MM_UNROLLED_2X2(STEP, w, c, rounds, entry)                \
    do {                                                          \
        __extension__({ goto *(entry); });                        \
        MM_UNROLLED_BODY_2X2(STEP, w, c, rounds);                 \
    } while (0)
#define MM_LABEL(label) (__extension__ && label)
#else
#define MM_FIRST_ENTRY(k, label) case k:
#define MM_ENTRY(k, label) MCU_FALLTHROUGH; case k:
#define MM_UNROLLED_2X2(STEP, w, c, rounds, entry)                \
    do {                                                          \
        switch (entry) {                                          \
        default:                                                  \
            MM_UNROLLED_BODY_2X2(STEP, w, c, rounds);             \
        }                                                         \
    } while (0)
#endif

#define requant_exact(p, acc, mult, shift) ((int8_t)mcu_arm_requant_channel_exact(p, acc, mult, shift))

#define MM_FN MCU_NOINLINE MCU_ARM_NOCLONE MCU_ARM_NO_SCHED

/* The 2-pixel kernel's body for one requantization form and clamp (constants
 * in each instantiation; a macro because gcc cannot inline a function with a
 * computed goto). Pre-RA scheduling is off in the instantiations: gcc 12 would
 * hoist loads and SXTB16s out of order and spill them. */
#if MM_COMPUTED_GOTO
#define MM2_SETUP                                                                                               \
    const void *entry;                                                                                          \
    switch (steps & 7) {                                                                                        \
    case 1: entry = MM_LABEL(mm1); break;                                                                       \
    case 2: entry = MM_LABEL(mm2); break;                                                                       \
    case 3: entry = MM_LABEL(mm3); break;                                                                       \
    case 4: entry = MM_LABEL(mm4); break;                                                                       \
    case 5: entry = MM_LABEL(mm5); break;                                                                       \
    case 6: entry = MM_LABEL(mm6); break;                                                                       \
    case 7: entry = MM_LABEL(mm7); break;                                                                       \
    default: entry = MM_LABEL(mm8); break;                                                                      \
    }                                                                                                           \
    const int32_t rounds0 = (steps + 7) >> 3
#else
#define MM2_SETUP                                                                                               \
    const int32_t entry = steps & 7;                                                                            \
    const int32_t rounds0 = (steps + 7) >> 3
#endif

/* All output channels of the pixel pair in cols, from the stream at w. */
#define MM2_BLOCKS(exact, clamp, STEP, wide)                                                                    \
    const int32_t *const pairs_end = w + (out_c >> 1) * (8 + 2 * (wide + 1) * steps);                         \
    while (w != pairs_end) {                                                                                    \
        int32_t acc_a0, acc_a1, acc_b0, acc_b1, m0, m1, a0, a1, s0, s1;                                         \
        const int32_t *c = cols;                                                                                \
        int32_t rounds = rounds0;                                                                               \
        MCU_LDRD_INC(acc_a0, acc_a1, w);                                                                        \
        acc_b0 = acc_a0;                                                                                        \
        acc_b1 = acc_a1;                                                                                        \
        MM_UNROLLED_2X2(STEP, w, c, rounds, entry);                                                             \
        MCU_LDRD_INC(m0, m1, w);                                                                                \
        MCU_LDRD_INC(a0, a1, w);                                                                                \
        MCU_LDRD_INC(s0, s1, w);                                                                                \
        if (exact) {                                                                                            \
            out_a[0] = requant_exact(params, acc_a0, m0, s0);                                                   \
            out_a[1] = requant_exact(params, acc_a1, m1, s1);                                                   \
            out_a[out_c] = requant_exact(params, acc_b0, m0, s0);                                               \
            out_a[out_c + 1] = requant_exact(params, acc_b1, m1, s1);                                           \
        } else {                                                                                                \
            int32_t va = mcu_arm_requant_fast(acc_a0, m0, a0, s0);                                              \
            int32_t vb = mcu_arm_requant_fast(acc_b0, m0, a0, s0);                                              \
            va = mcu_bfi8(va, mcu_arm_requant_fast(acc_a1, m1, a1, s1));                                        \
            vb = mcu_bfi8(vb, mcu_arm_requant_fast(acc_b1, m1, a1, s1));                                        \
            if (clamp) {                                                                                        \
                va = mcu_arm_clamp8x4(va, mcu_arm_splat8(params->act_min), mcu_arm_splat8(params->act_max));    \
                vb = mcu_arm_clamp8x4(vb, mcu_arm_splat8(params->act_min), mcu_arm_splat8(params->act_max));    \
            }                                                                                                   \
            mcu_store16(out_a + out_c, vb);                                                                     \
            mcu_store16(out_a, va);                                                                             \
        }                                                                                                       \
        out_a += 2;                                                                                             \
    }                                                                                                           \
    out_b = out_a + out_c;                                                                                      \
    if (out_c & 1) {                                                                                            \
        int32_t acc_a = *w++, acc_b, s;                                                                         \
        const int32_t *c = cols;                                                                                \
        acc_b = acc_a;                                                                                          \
        for (s = 0; s < steps; ++s) {                                                                           \
            int32_t xa0, xa1, xb0, xb1, t, u;                                                                   \
            MM_FILTER_1(w, t, u, wide);                                                                         \
            MCU_LDRD_INC(xa0, xa1, c);                                                                          \
            MCU_LDRD_INC(xb0, xb1, c);                                                                          \
            acc_a = mcu_smlad(t, xa0, acc_a);                                                                   \
            acc_b = mcu_smlad(t, xb0, acc_b);                                                                   \
            acc_a = mcu_smlad(u, xa1, acc_a);                                                                   \
            acc_b = mcu_smlad(u, xb1, acc_b);                                                                   \
        }                                                                                                       \
        if (exact) {                                                                                            \
            out_a[0] = requant_exact(params, acc_a, w[0], w[2]);                                                \
            out_b[0] = requant_exact(params, acc_b, w[0], w[2]);                                                \
        } else {                                                                                                \
            out_a[0] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc_a, w[0], w[1], w[2]), params->act_min,      \
                                           params->act_max);                                                    \
            out_b[0] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc_b, w[0], w[1], w[2]), params->act_min,      \
                                           params->act_max);                                                    \
        }                                                                                                       \
    }

#define MM2_FN(name, exact, clamp, STEP, wide)                                                               \
    MM_FN static void name(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,             \
                           const int32_t *w, int32_t out_c, int8_t *out_a, int8_t *out_b)                     \
    {                                                                                                         \
        MM2_SETUP;                                                                                            \
        MM2_BLOCKS(exact, clamp, STEP, wide)                                                                  \
    }

/* 1x1 convolution: `pairs` pixel pairs from the walker, expanded here, then all
 * their channels; the setup is paid once per call rather than once per pair. */
#define MM1X1_FN(name, exact, clamp, STEP, wide)                                                              \
    MM_FN static void name(const mcu_arm_conv_params *params, mcu_arm_walk *walk, int32_t in_c,               \
                           int32_t pairs, int32_t *cols, int32_t steps, const int32_t *packed, int32_t out_c, \
                           int8_t *out)                                                                       \
    {                                                                                                         \
        MM2_SETUP;                                                                                            \
        for (; pairs > 0; --pairs, out += 2 * out_c) {                                                        \
            const int32_t *w = packed;                                                                        \
            int8_t *out_a = out, *out_b;                                                                      \
            expand(walk->in, in_c, 0, cols, 4, !(wide));                                                      \
            mcu_arm_walk_next(walk);                                                                          \
            expand(walk->in, in_c, 0, cols + 2, 4, !(wide));                                                  \
            mcu_arm_walk_next(walk);                                                                          \
            {                                                                                                 \
                MM2_BLOCKS(exact, clamp, STEP, wide)                                                          \
            }                                                                                                 \
            (void)out_b;                                                                                      \
        }                                                                                                     \
    }

#if MM_HAS(0)
MM2_FN(mm2_fast, 0, 0, MM_STEP_2X2, 0)
#endif
#if MM_HAS(1)
MM2_FN(mm2_clamp, 0, 1, MM_STEP_2X2, 0)
#endif
#if MM_HAS(2)
MM2_FN(mm2_exact, 1, 1, MM_STEP_2X2, 0)
#endif
#if MM_HAS(3)
MM2_FN(mm2w_fast, 0, 0, MM_STEP_2X2_W, 1)
#endif
#if MM_HAS(4)
MM2_FN(mm2w_clamp, 0, 1, MM_STEP_2X2_W, 1)
#endif
#if MM_HAS(5)
MM2_FN(mm2w_exact, 1, 1, MM_STEP_2X2_W, 1)
#endif
#if MM_HAS(6)
MM1X1_FN(mm1x1_fast, 0, 0, MM_STEP_2X2, 0)
#endif
#if MM_HAS(7)
MM1X1_FN(mm1x1_clamp, 0, 1, MM_STEP_2X2, 0)
#endif
#if MM_HAS(8)
MM1X1_FN(mm1x1_exact, 1, 1, MM_STEP_2X2, 0)
#endif
#if MM_HAS(9)
MM1X1_FN(mm1x1w_fast, 0, 0, MM_STEP_2X2_W, 1)
#endif
#if MM_HAS(10)
MM1X1_FN(mm1x1w_clamp, 0, 1, MM_STEP_2X2_W, 1)
#endif
#if MM_HAS(11)
MM1X1_FN(mm1x1w_exact, 1, 1, MM_STEP_2X2_W, 1)
#endif

/* Which of the fast/clamp/exact (x int8/int16 filters) variants a layer needs: 0..5. */
static int mm_variant(const mcu_arm_conv_params *params)
{
    const int exact = params->flags & MCU_ARM_REQUANT_EXACT;
    const int clamp = params->act_min > -128 || params->act_max < 127;
    return ((params->flags & MCU_ARM_WIDE) ? 3 : 0) + (exact ? 2 : clamp ? 1 : 0);
}

void mcu_arm_mat_mult_1x1_pairs(const mcu_arm_conv_params *params, mcu_arm_walk *walk, int32_t in_c, int32_t pairs,
                                int32_t *cols, int32_t steps, const int32_t *packed, int32_t out_c, int8_t *out)
{
    (void)walk, (void)in_c, (void)pairs, (void)cols, (void)steps, (void)packed, (void)out_c, (void)out;
    switch (mm_variant(params)) {
#if MM_HAS(6)
    case 0: mm1x1_fast(params, walk, in_c, pairs, cols, steps, packed, out_c, out); return;
#endif
#if MM_HAS(7)
    case 1: mm1x1_clamp(params, walk, in_c, pairs, cols, steps, packed, out_c, out); return;
#endif
#if MM_HAS(8)
    case 2: mm1x1_exact(params, walk, in_c, pairs, cols, steps, packed, out_c, out); return;
#endif
#if MM_HAS(9)
    case 3: mm1x1w_fast(params, walk, in_c, pairs, cols, steps, packed, out_c, out); return;
#endif
#if MM_HAS(10)
    case 4: mm1x1w_clamp(params, walk, in_c, pairs, cols, steps, packed, out_c, out); return;
#endif
#if MM_HAS(11)
    case 5: mm1x1w_exact(params, walk, in_c, pairs, cols, steps, packed, out_c, out); return;
#endif
    default: break;
    }
    MCU_TRAP(); /* a variant the generator did not compile in: fault loudly, never compute wrong */
}

void mcu_arm_mat_mult_2px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                          const int32_t *packed, int32_t out_c, int8_t *out_a, int8_t *out_b)
{
    (void)cols, (void)steps, (void)packed, (void)out_c, (void)out_a, (void)out_b;
    switch (mm_variant(params)) {
#if MM_HAS(0)
    case 0: mm2_fast(params, cols, steps, packed, out_c, out_a, out_b); return;
#endif
#if MM_HAS(1)
    case 1: mm2_clamp(params, cols, steps, packed, out_c, out_a, out_b); return;
#endif
#if MM_HAS(2)
    case 2: mm2_exact(params, cols, steps, packed, out_c, out_a, out_b); return;
#endif
#if MM_HAS(3)
    case 3: mm2w_fast(params, cols, steps, packed, out_c, out_a, out_b); return;
#endif
#if MM_HAS(4)
    case 4: mm2w_clamp(params, cols, steps, packed, out_c, out_a, out_b); return;
#endif
#if MM_HAS(5)
    case 5: mm2w_exact(params, cols, steps, packed, out_c, out_a, out_b); return;
#endif
    default: break;
    }
    MCU_TRAP(); /* a variant the generator did not compile in: fault loudly, never compute wrong */
}

/* The 1-pixel kernel: the same stream, cols with 2 words a step. */
#define MAT_MULT_1PX_BODY(wide)                                                                               \
    const int exact = params->flags & MCU_ARM_REQUANT_EXACT;                                                  \
    const int32_t *const end = cols + 2 * steps;                                                              \
    int32_t oc;                                                                                               \
    for (oc = 0; oc + 2 <= out_c; oc += 2) {                                                                  \
        int32_t acc0, acc1, m0, m1, a0, a1, s0, s1;                                                           \
        const int32_t *c = cols;                                                                              \
        MCU_LDRD_INC(acc0, acc1, w);                                                                          \
        while (c != end) {                                                                                    \
            int32_t x0, x1, t, u;                                                                             \
            MCU_LDRD_INC(x0, x1, c);                                                                          \
            if (wide) {                                                                                       \
                MCU_LDRD_INC(t, u, w);                                                                        \
                acc0 = mcu_smlad(t, x0, acc0);                                                                \
                acc0 = mcu_smlad(u, x1, acc0);                                                                \
                MCU_LDRD_INC(t, u, w);                                                                        \
                acc1 = mcu_smlad(t, x0, acc1);                                                                \
                acc1 = mcu_smlad(u, x1, acc1);                                                                \
            } else {                                                                                          \
                int32_t f0, f1;                                                                               \
                MCU_LDRD_INC(f0, f1, w);                                                                      \
                acc0 = mcu_smlad(mcu_sxtb16(f0), x0, acc0);                                                   \
                acc0 = mcu_smlad(mcu_sxtb16_ror8(f0), x1, acc0);                                              \
                acc1 = mcu_smlad(mcu_sxtb16(f1), x0, acc1);                                                   \
                acc1 = mcu_smlad(mcu_sxtb16_ror8(f1), x1, acc1);                                              \
                (void)t;                                                                                      \
                (void)u;                                                                                      \
            }                                                                                                 \
        }                                                                                                     \
        MCU_LDRD_INC(m0, m1, w);                                                                              \
        MCU_LDRD_INC(a0, a1, w);                                                                              \
        MCU_LDRD_INC(s0, s1, w);                                                                              \
        if (exact) {                                                                                          \
            out[oc] = requant_exact(params, acc0, m0, s0);                                                    \
            out[oc + 1] = requant_exact(params, acc1, m1, s1);                                                \
        } else {                                                                                              \
            out[oc] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc0, m0, a0, s0), params->act_min,            \
                                          params->act_max);                                                   \
            out[oc + 1] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc1, m1, a1, s1), params->act_min,        \
                                              params->act_max);                                               \
        }                                                                                                     \
    }                                                                                                         \
    if (oc < out_c) {                                                                                         \
        int32_t acc = *w++;                                                                                   \
        const int32_t *c = cols;                                                                              \
        while (c != end) {                                                                                    \
            int32_t x0, x1, t, u;                                                                             \
            MCU_LDRD_INC(x0, x1, c);                                                                          \
            MM_FILTER_1(w, t, u, wide);                                                                       \
            acc = mcu_smlad(t, x0, acc);                                                                      \
            acc = mcu_smlad(u, x1, acc);                                                                      \
        }                                                                                                     \
        if (exact) {                                                                                          \
            out[oc] = requant_exact(params, acc, w[0], w[2]);                                                 \
        } else {                                                                                              \
            out[oc] = (int8_t)mcu_clamp32(mcu_arm_requant_fast(acc, w[0], w[1], w[2]), params->act_min,       \
                                          params->act_max);                                                   \
        }                                                                                                     \
    }

#define MM1_FN(name, wide)                                                                                    \
    MM_FN static void name(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,             \
                           const int32_t *w, int32_t out_c, int8_t *out)                                      \
    {                                                                                                         \
        MAT_MULT_1PX_BODY(wide)                                                                               \
    }

#if MM_HAS(12)
MM1_FN(mm1, 0)
#endif
#if MM_HAS(13)
MM1_FN(mm1w, 1)
#endif

void mcu_arm_mat_mult_1px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                          const int32_t *packed, int32_t out_c, int8_t *out)
{
    (void)params, (void)cols, (void)steps, (void)packed, (void)out_c, (void)out;
#if MM_HAS(13)
    if (params->flags & MCU_ARM_WIDE) {
        mm1w(params, cols, steps, packed, out_c, out);
        return;
    }
#endif
#if MM_HAS(12)
    if (!(params->flags & MCU_ARM_WIDE)) {
        mm1(params, cols, steps, packed, out_c, out);
        return;
    }
#endif
    MCU_TRAP(); /* a variant the generator did not compile in */
}
