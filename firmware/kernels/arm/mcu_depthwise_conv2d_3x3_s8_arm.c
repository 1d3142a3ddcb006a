/*
 * mcu_depthwise_conv2d_3x3_s8_arm.c - DEPTHWISE_CONV_2D with a 3x3 filter,
 * depth multiplier 1, channels a multiple of 4, any stride, padding of at
 * most 1 on each side, no dilation; Cortex-M7 DSP.
 *
 * One output pixel at a time (raster order, 1 pixel in flight), 4 channels at
 * a time. Taps are paired, (0,0)+(0,1), (0,2)+(1,0), (1,1)+(1,2),
 * (2,0)+(2,1), and (2,2) alone. For a pair, the input words xa, xb (4
 * channels each) become
 *     lo = PKHBT(xa, xb) = {a0 a1 b0 b1},  hi = PKHTB(xb, xa) = {a2 a3 b2 b3}
 * and SXTB16 / SXTB16 ROR 8 of lo and hi give {a_c, b_c} for c = 0..3: one SMLAD
 * per channel against the filter pair {2 w_a, 2 w_b} (int16, doubled).
 *
 * Rows are read through three row pointers; a row above or below the image
 * points to a row of pad_value bytes in scratch, and a pixel whose window
 * crosses the left or right edge has that row copied into scratch with
 * pad_value in the missing columns, so every pixel runs the same code.
 *
 * packed (mcugen.codegen.arm, variant "dw3x3"), per group of 4 channels, 34 words
 * in the order the loop reads them:
 *   bias[4]                                  (mcu_arm_requant.bias)
 *   pair p = 0..3: {2 w[ta][c], 2 w[tb][c]} for c = 0..3   (bottom half = ta)
 *   {2 w[8][0], 2 w[8][2]}, {2 w[8][1], 2 w[8][3]}
 *   mult[0], add[0], mult[1], add[1], mult[2], add[2], mult[3], add[3], shift[0..3]
 */
#include "mcu_arm_kernels.h"

#define DW_GROUP_WORDS 34

int32_t mcu_depthwise_conv2d_3x3_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)filter_dims;
    /* a pad row of 3 pixels and a 3x3 window */
    return 12 * input_dims->c;
}

/* acc[c] += lo/hi pair against 4 filter words at w. */
#define DW_PAIR(xa, xb, w)                                        \
    do {                                                          \
        const int32_t lo = mcu_pkhbt16(xa, xb);                   \
        const int32_t hi = mcu_pkhtb16(xb, xa);                   \
        int32_t w0, w1;                                           \
        MCU_LDRD_INC(w0, w1, w);                                  \
        acc0 = mcu_smlad(mcu_sxtb16(lo), w0, acc0);               \
        acc1 = mcu_smlad(mcu_sxtb16_ror8(lo), w1, acc1);          \
        MCU_LDRD_INC(w0, w1, w);                                  \
        acc2 = mcu_smlad(mcu_sxtb16(hi), w0, acc2);               \
        acc3 = mcu_smlad(mcu_sxtb16_ror8(hi), w1, acc3);          \
    } while (0)

static int32_t dw_exact(const mcu_arm_conv_params *p, int32_t acc, int32_t mult, int32_t shift)
{
    const mcu_arm_requant r = {0, mult, 0, shift};
    return mcu_clamp32(mcu_arm_requant_exact(acc, &r, p->output_offset), p->act_min, p->act_max);
}

/* All channel groups of one output pixel. `exact` and `clamp` are constants in
 * each instantiation; pre-RA scheduling is off for these loops because gcc 12
 * would otherwise hoist every SXTB16 to the top of the body and spill them. */
#define DW_GROUPS_BODY(exact, clamp)                                                                      \
    const int32_t c2 = 2 * c;                                                                             \
    for (; out != out_end; out += 4, r0 += 4, r1 += 4, r2 += 4) {                                         \
        int32_t acc0, acc1, acc2, acc3, m0, m1, m2, m3, a0, a1, a2, a3, s0, s1, s2, s3;                   \
        MCU_LDRD_INC(acc0, acc1, w);                                                                      \
        MCU_LDRD_INC(acc2, acc3, w);                                                                      \
        DW_PAIR(mcu_load32(r0), mcu_load32(r0 + c), w);                                                   \
        DW_PAIR(mcu_load32(r0 + c2), mcu_load32(r1), w);                                                  \
        DW_PAIR(mcu_load32(r1 + c), mcu_load32(r1 + c2), w);                                              \
        DW_PAIR(mcu_load32(r2), mcu_load32(r2 + c), w);                                                   \
        {                                                                                                 \
            const int32_t x = mcu_load32(r2 + c2);                                                        \
            const int32_t e = mcu_sxtb16(x), o = mcu_sxtb16_ror8(x);                                      \
            int32_t w02, w13;                                                                             \
            MCU_LDRD_INC(w02, w13, w);                                                                    \
            acc0 = mcu_smlabb(e, w02, acc0);                                                              \
            acc2 = mcu_smlatt(e, w02, acc2);                                                              \
            acc1 = mcu_smlabb(o, w13, acc1);                                                              \
            acc3 = mcu_smlatt(o, w13, acc3);                                                              \
        }                                                                                                 \
        MCU_LDRD_INC(m0, a0, w);                                                                          \
        MCU_LDRD_INC(m1, a1, w);                                                                          \
        MCU_LDRD_INC(m2, a2, w);                                                                          \
        MCU_LDRD_INC(m3, a3, w);                                                                          \
        MCU_LDRD_INC(s0, s1, w);                                                                          \
        MCU_LDRD_INC(s2, s3, w);                                                                          \
        if (exact) {                                                                                      \
            mcu_store32(out, mcu_pack8x4(dw_exact(params, acc0, m0, s0), dw_exact(params, acc1, m1, s1),  \
                                         dw_exact(params, acc2, m2, s2), dw_exact(params, acc3, m3, s3))); \
        } else {                                                                                          \
            int32_t v = mcu_pack8x4(mcu_arm_requant_fast(acc0, m0, a0, s0),                               \
                                    mcu_arm_requant_fast(acc1, m1, a1, s1),                               \
                                    mcu_arm_requant_fast(acc2, m2, a2, s2),                               \
                                    mcu_arm_requant_fast(acc3, m3, a3, s3));                              \
            if (clamp) {                                                                                  \
                v = mcu_arm_clamp8x4(v, mcu_arm_splat8(params->act_min), mcu_arm_splat8(params->act_max)); \
            }                                                                                             \
            mcu_store32(out, v);                                                                          \
        }                                                                                                 \
    }

#define DW_GROUPS_ARGS                                                                                    \
    const mcu_arm_conv_params *params, const int8_t *r0, const int8_t *r1, const int8_t *r2, int32_t c,  \
        const int32_t *w, int8_t *out, int8_t *const out_end

#define DW_NO_SCHED __attribute__((noinline, optimize("no-schedule-insns")))

DW_NO_SCHED static void dw_groups(DW_GROUPS_ARGS)
{
    (void)params;
    DW_GROUPS_BODY(0, 0)
}

DW_NO_SCHED static void dw_groups_clamp(DW_GROUPS_ARGS) { DW_GROUPS_BODY(0, 1) }

DW_NO_SCHED static void dw_groups_exact(DW_GROUPS_ARGS) { DW_GROUPS_BODY(1, 1) }

static void dw_pixel_dispatch(const mcu_arm_conv_params *params, const int8_t *r0, const int8_t *r1,
                              const int8_t *r2, int32_t c, const int32_t *packed, int8_t *out)
{
    if (params->flags & MCU_ARM_REQUANT_EXACT) {
        dw_groups_exact(params, r0, r1, r2, c, packed, out, out + c);
    } else if (params->act_min > -128 || params->act_max < 127) {
        dw_groups_clamp(params, r0, r1, r2, c, packed, out, out + c);
    } else {
        dw_groups(params, r0, r1, r2, c, packed, out, out + c);
    }
}

mcu_status mcu_depthwise_conv2d_3x3_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                           const mcu_dims *input_dims, const int8_t *input,
                                           const mcu_dims *filter_dims, const int32_t *packed,
                                           const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t sh = params->stride_h, sw = params->stride_w;
    int8_t *pad_row, *window;
    int32_t b, oy, ox, i;
    if (filter_dims->h != 3 || filter_dims->w != 3 || filter_dims->c != c || output_dims->c != c || (c & 3) != 0 ||
        params->dilation_h != 1 || params->dilation_w != 1 || params->pad_h > 1 || params->pad_w > 1 ||
        ctx == NULL || ctx->buf == NULL ||
        ctx->size < mcu_depthwise_conv2d_3x3_s8_arm_get_buffer_size(input_dims, filter_dims)) {
        return MCU_ERROR_ARGUMENT;
    }
    pad_row = (int8_t *)ctx->buf;
    window = pad_row + 3 * c;
    for (i = 0; i < 3 * c; ++i) {
        pad_row[i] = (int8_t)params->pad_value;
    }
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + (size_t)b * in_h * in_w * c;
        int8_t *out = output + (size_t)b * out_h * out_w * c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * sh - params->pad_h;
            for (ox = 0; ox < out_w; ++ox, out += c) {
                const int32_t x0 = ox * sw - params->pad_w;
                const int x_inside = x0 >= 0 && x0 + 3 <= in_w;
                const int8_t *rows[3];
                int32_t ky;
                for (ky = 0; ky < 3; ++ky) {
                    const int32_t y = y0 + ky;
                    if (y < 0 || y >= in_h) {
                        rows[ky] = pad_row;
                    } else if (x_inside) {
                        rows[ky] = image + ((size_t)y * in_w + x0) * c;
                    } else {
                        int8_t *dst = window + ky * 3 * c;
                        int32_t kx;
                        for (kx = 0; kx < 3; ++kx, dst += c) {
                            const int32_t x = x0 + kx;
                            if (x < 0 || x >= in_w) {
                                for (i = 0; i < c; i += 4) {
                                    mcu_store32(dst + i, mcu_load32(pad_row + i));
                                }
                            } else {
                                const int8_t *src = image + ((size_t)y * in_w + x) * c;
                                for (i = 0; i < c; i += 4) {
                                    mcu_store32(dst + i, mcu_load32(src + i));
                                }
                            }
                        }
                        rows[ky] = window + ky * 3 * c;
                    }
                }
                dw_pixel_dispatch(params, rows[0], rows[1], rows[2], c, packed, out);
            }
        }
    }
    return MCU_OK;
}
