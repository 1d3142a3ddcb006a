/*
 * mcu_arm_kernels.h - Cortex-M7 (Armv7E-M DSP) variants of mcugen's hot int8
 * kernels: bit-exact with the portable kernels (firmware/kernels/mcu_*.c) and
 * TFLM, in far fewer instructions.
 *
 * What differs from the portable kernels is what the code generator prepares
 * (mcugen/lower/arm/, one descriptor per variant, which documents the exact
 * layouts):
 *   - filters are reordered into the order the inner loops read them
 *     (channel pairs interleaved for the matrix kernels; tap pairs, int16 and
 *     doubled for the depthwise kernels);
 *   - input_offset * sum(filter) is folded into the bias, so the inner loops
 *     multiply raw int8 inputs; out-of-image taps read the input zero point
 *     (pad_value), whose offset-shifted value is 0, exactly as TFLM skips them;
 *   - the requantization (mcu_arm_requant.h: bias, multiplier and rounding
 *     constants folded per channel) is interleaved with the filter in one
 *     stream (`packed`), in the order the kernel reads it.
 * Argument order as the portable kernels (and CMSIS-NN): scratch context,
 * operator parameters, then dims and data of input, filter (the packed
 * stream, which holds bias and requantization too), output. Scratch sizes come from
 * the *_get_buffer_size() companions; nothing is allocated.
 *
 * Memory order (the planner's overlap contract, mcugen/ops/access.py): every
 * kernel computes output pixels in NHWC raster order and reads an output
 * pixel's receptive field before writing it; the matrix kernels have at most
 * 2 pixels in flight (their im2col holds 2), the others 1.
 *
 * Alignment: input and output tensors may be at any address; filters,
 * requantization tables and scratch must be 4-byte aligned (the generator
 * emits 16-byte aligned arrays; the planner aligns scratch to 16).
 */
#ifndef MCU_ARM_KERNELS_H
#define MCU_ARM_KERNELS_H

#include <stdint.h>

#include "mcu_arm_requant.h"
#include "mcu_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Convolutions (CONV_2D, and DEPTHWISE_CONV_2D with depth multiplier 1). */
typedef struct {
    int32_t stride_w, stride_h;
    int32_t pad_w, pad_h;             /* leading (top/left) padding */
    int32_t dilation_w, dilation_h;
    int32_t pad_value;                /* input zero point (-input_offset) */
    int32_t output_offset;            /* used by the MCU_ARM_REQUANT_EXACT path only */
    int32_t act_min, act_max;
    int32_t flags;                    /* MCU_ARM_REQUANT_EXACT, MCU_ARM_WIDE */
} mcu_arm_conv_params;

/* The kernels' hot loops are instantiated as separate functions (one per
 * requantization form); gcc 12's pre-RA scheduler would hoist their loads and
 * SXTB16s to the top of the body and spill them, so it is off there, and the
 * matrix kernels must not be cloned (gcc only: clang has neither knob). */
#if MCU_GCC
#define MCU_ARM_NO_SCHED __attribute__((optimize("no-schedule-insns")))
#define MCU_ARM_NOCLONE __attribute__((noclone))
#else
#define MCU_ARM_NO_SCHED
#define MCU_ARM_NOCLONE
#endif

/* TFLM's requantization of one accumulator with its channel's multiplier and shift,
 * clamped to the activation range: the MCU_ARM_REQUANT_EXACT path of the kernels.
 * Out of line on purpose: inlined into every call site it would grow the kernels
 * by 300-700 B each for a path only some layers take. */
MCU_STATIC_NOINLINE int32_t mcu_arm_requant_channel_exact(const mcu_arm_conv_params *p, int32_t acc, int32_t mult,
                                                          int32_t shift)
{
    const mcu_arm_requant r = {0, mult, 0, shift};
    return mcu_clamp32(mcu_arm_requant_exact(acc, &r, p->output_offset), p->act_min, p->act_max);
}

/* ---- depthwise building blocks (the 3x3 and the general kernel): four channels at a
 * time into acc0..acc3 of the caller's scope, w the packed stream (see the kernels). ---- */

/* Two taps xa, xb (4 channels each) against 4 filter words at w. */
#define MCU_ARM_DW_TAP_PAIR(xa, xb, w)                     \
    do {                                                   \
        const int32_t xa_ = (xa), xb_ = (xb);              \
        const int32_t lo_ = mcu_pkhbt16(xa_, xb_);         \
        const int32_t hi_ = mcu_pkhtb16(xb_, xa_);         \
        int32_t w0_, w1_;                                  \
        MCU_LDRD_INC(w0_, w1_, w);                         \
        acc0 = mcu_smlad(mcu_sxtb16(lo_), w0_, acc0);      \
        acc1 = mcu_smlad(mcu_sxtb16_ror8(lo_), w1_, acc1); \
        MCU_LDRD_INC(w0_, w1_, w);                         \
        acc2 = mcu_smlad(mcu_sxtb16(hi_), w0_, acc2);      \
        acc3 = mcu_smlad(mcu_sxtb16_ror8(hi_), w1_, acc3); \
    } while (0)

/* One last tap x (4 channels) against 2 filter words at w. */
#define MCU_ARM_DW_TAP(x, w)                                         \
    do {                                                             \
        const int32_t x_ = (x);                                      \
        const int32_t e_ = mcu_sxtb16(x_), o_ = mcu_sxtb16_ror8(x_); \
        int32_t w02_, w13_;                                          \
        MCU_LDRD_INC(w02_, w13_, w);                                 \
        acc0 = mcu_smlabb(e_, w02_, acc0);                           \
        acc2 = mcu_smlatt(e_, w02_, acc2);                           \
        acc1 = mcu_smlabb(o_, w13_, acc1);                           \
        acc3 = mcu_smlatt(o_, w13_, acc3);                           \
    } while (0)

/* acc0..acc3 requantized with the shifts, multipliers and adds that follow in the
 * stream at w, packed into 4 bytes and stored at out; exact/clamp are constants. */
#define MCU_ARM_DW_REQUANT_STORE(exact, clamp, params, lo4, hi4, w, out)      \
    do {                                                                      \
        int32_t m_, ad_, s0_, s1_, v0_, v1_;                                  \
        MCU_LDRD_INC(s0_, s1_, w);                                            \
        MCU_LDRD_INC(m_, ad_, w);                                             \
        v0_ = (exact) ? mcu_arm_requant_channel_exact(params, acc0, m_, s0_)  \
                      : mcu_arm_requant_fast(acc0, m_, ad_, s0_);             \
        MCU_LDRD_INC(m_, ad_, w);                                             \
        v1_ = (exact) ? mcu_arm_requant_channel_exact(params, acc1, m_, s1_)  \
                      : mcu_arm_requant_fast(acc1, m_, ad_, s1_);             \
        v0_ = mcu_bfi8(v0_, v1_);                                             \
        MCU_LDRD_INC(s0_, s1_, w);                                            \
        MCU_LDRD_INC(m_, ad_, w);                                             \
        v1_ = (exact) ? mcu_arm_requant_channel_exact(params, acc2, m_, s0_)  \
                      : mcu_arm_requant_fast(acc2, m_, ad_, s0_);             \
        MCU_LDRD_INC(m_, ad_, w);                                             \
        acc3 = (exact) ? mcu_arm_requant_channel_exact(params, acc3, m_, s1_) \
                       : mcu_arm_requant_fast(acc3, m_, ad_, s1_);            \
        v1_ = mcu_bfi8(v1_, acc3);                                            \
        v0_ = mcu_pkhbt16(v0_, v1_);                                          \
        if ((clamp) && !(exact)) {                                            \
            v0_ = mcu_arm_clamp8x4(v0_, lo4, hi4);                            \
        }                                                                     \
        mcu_store32(out, v0_);                                                \
    } while (0)

/* ---- matrix kernels (shared by the convolutions): mcu_arm_mat_mult_s8.c ----
 * cols: 2 pixels (A, B) interleaved per step of 4 depth elements:
 *   {SXTB16(x), SXTB16(x ROR 8)} doubled, for A then for B (4 words a step);
 * packed: the filter stream, per channel pair (2j, 2j+1), in int32 words:
 *   bias[2j], bias[2j+1],
 *   steps x {4 int8 of channel 2j, 4 int8 of channel 2j+1} (depth zero-padded),
 *   mult[2j], mult[2j+1], add[2j], add[2j+1], shift[2j], shift[2j+1]
 * then an odd last channel: bias, steps x {4 int8}, mult, add, shift.
 * (mcu_arm_requant fields; bias = 2 * (bias + input_offset * sum(filter))).
 * With MCU_ARM_WIDE in params->flags, each channel's step is 2 words instead,
 *   {2 w[k0], 2 w[k2]}, {2 w[k1], 2 w[k3]} (int16 halves, bottom first),
 * and cols hold the expanded inputs undoubled. */
void mcu_arm_mat_mult_2px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                          const int32_t *packed, int32_t out_c, int8_t *out_a, int8_t *out_b);
/* cols: one pixel, 2 words a step. */
void mcu_arm_mat_mult_1px(const mcu_arm_conv_params *params, const int32_t *cols, int32_t steps,
                          const int32_t *packed, int32_t out_c, int8_t *out);
/* n int8 (n a multiple of 4, or the rest padded with pad) -> SXTB16 pairs (doubled
 * if `doubled`) at cols with the given word stride between steps; returns the next
 * step's address. */
int32_t *mcu_arm_expand_s8(const int8_t *src, int32_t n, int32_t pad, int32_t *cols, int32_t stride_words,
                           int32_t doubled);

/* Input pixels of a 1x1 convolution in output raster order (any stride). */
typedef struct {
    const int8_t *in;                   /* the next pixel's channels */
    int32_t col_step;                   /* bytes between output columns */
    int32_t row_skip;                   /* extra bytes at the end of an output row */
    int32_t image_skip;                 /* extra bytes at the end of an image */
    int32_t ox, oy, out_w, out_h;
} mcu_arm_walk;

MCU_INLINE void mcu_arm_walk_next(mcu_arm_walk *wk)
{
    wk->in += wk->col_step;
    if (++wk->ox == wk->out_w) {
        wk->ox = 0;
        wk->in += wk->row_skip;
        if (++wk->oy == wk->out_h) {
            wk->oy = 0;
            wk->in += wk->image_skip;
        }
    }
}

/* 1x1 convolution over `pairs` pixel pairs taken from the walker (each expanded
 * into cols, 2 pixels at a time), then all their output channels. */
void mcu_arm_mat_mult_1x1_pairs(const mcu_arm_conv_params *params, mcu_arm_walk *walk, int32_t in_c, int32_t pairs,
                                int32_t *cols, int32_t steps, const int32_t *packed, int32_t out_c, int8_t *out);

/* One word of 4 int8 -> its two SXTB16 words (doubled or not) at cols. */
MCU_INLINE void mcu_arm_expand_word(int32_t x, int32_t *cols, int doubled)
{
    const int32_t e = mcu_sxtb16(x);
    const int32_t o = mcu_sxtb16_ror8(x);
    cols[0] = doubled ? mcu_sadd16(e, e) : e;
    cols[1] = doubled ? mcu_sadd16(o, o) : o;
}

/* ---- CONV_2D 1x1 (any stride, no padding): mcu_conv2d_1x1_s8_arm.c ---- */
int32_t mcu_conv2d_1x1_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);
mcu_status mcu_conv2d_1x1_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                 const mcu_dims *input_dims, const int8_t *input, const mcu_dims *filter_dims,
                                 const int32_t *packed, const mcu_dims *output_dims, int8_t *output);

/* ---- CONV_2D any kernel, stride, dilation, padding (groups = 1), im2col of 2 pixels:
 *      mcu_conv2d_s8_arm.c. Also DEPTHWISE_CONV_2D with 1 input channel. ---- */
int32_t mcu_conv2d_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);
mcu_status mcu_conv2d_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                             const mcu_dims *input_dims, const int8_t *input, const mcu_dims *filter_dims,
                             const int32_t *packed, const mcu_dims *output_dims, int8_t *output);

/* ---- DEPTHWISE_CONV_2D 3x3, depth multiplier 1, channels % 4 == 0, any stride,
 *      padding <= 1 per side, no dilation: mcu_depthwise_conv2d_3x3_s8_arm.c.
 *      `packed` interleaves per group of 4 channels the requantization (16
 *      words) and the doubled int16 tap pairs (18 words). ---- */
int32_t mcu_depthwise_conv2d_3x3_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);
mcu_status mcu_depthwise_conv2d_3x3_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                           const mcu_dims *input_dims, const int8_t *input,
                                           const mcu_dims *filter_dims, const int32_t *packed,
                                           const mcu_dims *output_dims, int8_t *output);

/* ---- DEPTHWISE_CONV_2D any filter, stride, dilation, padding; depth multiplier 1,
 *      channels % 4 == 0: mcu_depthwise_conv2d_s8_arm.c. `packed` as the 3x3
 *      kernel's, for (kh * kw) / 2 tap pairs and an odd last tap. ---- */
int32_t mcu_depthwise_conv2d_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);
mcu_status mcu_depthwise_conv2d_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                       const mcu_dims *input_dims, const int8_t *input,
                                       const mcu_dims *filter_dims, const int32_t *packed,
                                       const mcu_dims *output_dims, int8_t *output);

/* ---- FULLY_CONNECTED (filter zero point 0) ---- */
typedef struct {
    int32_t output_offset;            /* MCU_ARM_REQUANT_EXACT path only */
    int32_t act_min, act_max;
    int32_t flags;                    /* MCU_ARM_REQUANT_EXACT, MCU_ARM_WIDE */
} mcu_arm_fc_params;

int32_t mcu_fully_connected_s8_arm_get_buffer_size(const mcu_dims *filter_dims);
mcu_status mcu_fully_connected_s8_arm(const mcu_context *ctx, const mcu_arm_fc_params *params,
                                      const mcu_dims *input_dims, const int8_t *input,
                                      const mcu_dims *filter_dims, const int32_t *packed,
                                      const mcu_dims *output_dims, int8_t *output);

/* ---- TRANSPOSE_CONV and grouped CONV_2D: the portable kernels' arguments
 *      (mcu_transpose_conv_s8, mcu_conv2d_s8), dot products on SMLAD (mcu_arm_dot.h) ---- */
mcu_status mcu_transpose_conv_s8_arm(const mcu_context *ctx, const mcu_conv_params *params,
                                     const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                     const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                                     const mcu_dims *bias_dims, const int32_t *bias,
                                     const mcu_dims *output_dims, int8_t *output);
mcu_status mcu_conv2d_grouped_s8_arm(const mcu_context *ctx, const mcu_conv_params *params,
                                     const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                     const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                                     const mcu_dims *bias_dims, const int32_t *bias,
                                     const mcu_dims *output_dims, int8_t *output);

/* ---- BATCH_MATMUL without adj_x: the portable kernel's parameters; scratch depth * cols
 *      bytes when the rhs columns are strided (no adj_y), else none ---- */
int32_t mcu_batch_matmul_s8_arm_get_buffer_size(const mcu_batch_matmul_params *params);
mcu_status mcu_batch_matmul_s8_arm(const mcu_context *ctx, const mcu_batch_matmul_params *params, const int8_t *lhs,
                                   const int8_t *rhs, int8_t *output);

/* ---- AVERAGE_POOL_2D: same arguments as mcu_avgpool_s8 ---- */
mcu_status mcu_avgpool_s8_arm(const mcu_context *ctx, const mcu_pool_params *params,
                              const mcu_dims *input_dims, const int8_t *input,
                              const mcu_dims *output_dims, int8_t *output);

/* ---- ADD (same shapes): each input's rescaling is a 256-entry table built at
 *      generation time; the sum is requantized in the fast form. ---- */
typedef struct {
    const int32_t *table1;            /* 2 * MBQM((v + input1_offset) << left_shift, m1, s1), v = -128..127 */
    const int32_t *table2;
    int32_t mult, add, shift;         /* fast form of the output requantization (or TFLM's if EXACT) */
    int32_t output_offset;            /* EXACT path only */
    int32_t act_min, act_max;
    int32_t flags;
} mcu_arm_add_params;

mcu_status mcu_add_s8_arm(const mcu_arm_add_params *params, int32_t size, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM: mcu_lstm_s8's parameters; the weights as the model
 * has them, the zero points folded into per-gate biases (bias - zero_point * row sum) ---- */
typedef struct {
    const int8_t *input_weights[4];     /* per gate (input, forget, cell, output) [units, input_size] */
    const int8_t *recurrent_weights[4]; /* per gate [units, units] */
    const int32_t *input_bias[4];       /* bias - input_zero_point * row sums */
    const int32_t *recurrent_bias[4];   /* - hidden_zero_point * row sums */
} mcu_arm_lstm_weights;

/* Scratch (word-aligned): 4 * rows * units int16 gate sums and the widened input and
 * hidden state, rows = batches when time-major, else 1. */
int32_t mcu_lstm_s8_arm_get_buffer_size(int32_t rows, int32_t units, int32_t input_size);
mcu_status mcu_lstm_s8_arm(const mcu_context *ctx, const mcu_lstm_params *params, const mcu_arm_lstm_weights *weights,
                           const int8_t *input, int8_t *hidden_state, int16_t *cell_state, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* MCU_ARM_KERNELS_H */
