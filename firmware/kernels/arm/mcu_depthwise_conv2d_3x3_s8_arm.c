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
 * Rows are read through three row pointers that advance along an output row;
 * a row above or below the image points to a row of pad_value bytes in
 * scratch (and does not advance), and a pixel whose window crosses the left or
 * right edge has its rows copied into scratch with pad_value in the missing
 * columns, so every pixel runs the same code.
 *
 * packed (mcugen.lower.arm, variant "dw3x3"), per group of 4 channels, 34 words
 * in the order the loop reads them:
 *   bias[4]                                  (mcu_arm_requant.bias)
 *   pair p = 0..3: {2 w[ta][c], 2 w[tb][c]} for c = 0..3   (bottom half = ta)
 *   {2 w[8][0], 2 w[8][2]}, {2 w[8][1], 2 w[8][3]}
 *   shift[0], shift[1], mult[0], add[0], mult[1], add[1],
 *   shift[2], shift[3], mult[2], add[2], mult[3], add[3]
 */
#include "mcu_arm_kernels.h"

int32_t mcu_depthwise_conv2d_3x3_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)filter_dims;
    /* a pad row of 3 pixels and a 3x3 window */
    return 12 * input_dims->c;
}

/* A run of output pixels along a row: the arguments that stay fixed. */
typedef struct {
    const mcu_arm_conv_params *params;
    const int32_t *packed;
    int32_t c;              /* channels */
    int32_t inc[3];         /* per-pixel advance of each row pointer, minus c */
    int32_t lo4, hi4;       /* act_min / act_max in each byte */
} dw_run_args;

/* `n` output pixels, all channel groups each. `exact` and `clamp` are
 * constants in each instantiation; pre-RA scheduling is off because gcc 12
 * would otherwise hoist every SXTB16 to the top of the body and spill them. */
#define DW_RUN_BODY(exact, clamp)                                                      \
    const int32_t c = a->c, c2 = 2 * c;                                                \
    const int32_t stream_words = 34 * (c >> 2);                                        \
    for (; n > 0; --n) {                                                               \
        const int32_t *w = a->packed;                                                  \
        const int32_t *const w_end = w + stream_words;                                 \
        while (w != w_end) {                                                           \
            int32_t acc0, acc1, acc2, acc3;                                            \
            MCU_LDRD_INC(acc0, acc1, w);                                               \
            MCU_LDRD_INC(acc2, acc3, w);                                               \
            MCU_ARM_DW_TAP_PAIR(mcu_load32(r0), mcu_load32(r0 + c), w);                \
            MCU_ARM_DW_TAP_PAIR(mcu_load32(r0 + c2), mcu_load32(r1), w);               \
            MCU_ARM_DW_TAP_PAIR(mcu_load32(r1 + c), mcu_load32(r1 + c2), w);           \
            MCU_ARM_DW_TAP_PAIR(mcu_load32(r2), mcu_load32(r2 + c), w);                \
            MCU_ARM_DW_TAP(mcu_load32(r2 + c2), w);                                    \
            r0 += 4;                                                                   \
            r1 += 4;                                                                   \
            r2 += 4;                                                                   \
            MCU_ARM_DW_REQUANT_STORE(exact, clamp, a->params, a->lo4, a->hi4, w, out); \
            out += 4;                                                                  \
        }                                                                              \
        r0 += a->inc[0];                                                               \
        r1 += a->inc[1];                                                               \
        r2 += a->inc[2];                                                               \
    }

#define DW_RUN_ARGS \
    const dw_run_args *a, const int8_t *r0, const int8_t *r1, const int8_t *r2, int8_t *out, int32_t n
#define DW_FN MCU_NOINLINE MCU_ARM_NO_SCHED static void

DW_FN dw_run(DW_RUN_ARGS) { DW_RUN_BODY(0, 0) }
DW_FN dw_run_clamp(DW_RUN_ARGS) { DW_RUN_BODY(0, 1) }
DW_FN dw_run_exact(DW_RUN_ARGS) { DW_RUN_BODY(1, 1) }

typedef void (*dw_run_fn)(DW_RUN_ARGS);

/* n bytes (a multiple of 4) from src to dst, any alignment, 16 bytes a round. */
static void copy_words(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const int32_t a = mcu_load32(src + i), b = mcu_load32(src + i + 4);
        const int32_t c = mcu_load32(src + i + 8), d = mcu_load32(src + i + 12);
        mcu_store32(dst + i, a);
        mcu_store32(dst + i + 4, b);
        mcu_store32(dst + i + 8, c);
        mcu_store32(dst + i + 12, d);
    }
    for (; i < n; i += 4) {
        mcu_store32(dst + i, mcu_load32(src + i));
    }
}

/* First output column whose window starts inside the image, and one past the
 * last whose window ends inside it. */
static void interior_columns(int32_t out_w, int32_t in_w, int32_t stride, int32_t pad, int32_t *first,
                             int32_t *end)
{
    int32_t lo = 0, hi = out_w;
    while (lo < out_w && lo * stride - pad < 0) {
        ++lo;
    }
    while (hi > lo && (hi - 1) * stride - pad + 3 > in_w) {
        --hi;
    }
    *first = lo;
    *end = hi;
}

mcu_status mcu_depthwise_conv2d_3x3_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                           const mcu_dims *input_dims, const int8_t *input,
                                           const mcu_dims *filter_dims, const int32_t *packed,
                                           const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t sh = params->stride_h, sw = params->stride_w;
    const size_t row_bytes = (size_t)in_w * (size_t)c;
    int8_t *pad_row, *window;
    dw_run_args args;
    dw_run_fn run;
    int32_t b, oy, ox, i, ox_first, ox_end;
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
    args.params = params;
    args.packed = packed;
    args.c = c;
    args.lo4 = mcu_arm_splat8(params->act_min);
    args.hi4 = mcu_arm_splat8(params->act_max);
    run = (params->flags & MCU_ARM_REQUANT_EXACT) ? dw_run_exact
          : (params->act_min > -128 || params->act_max < 127) ? dw_run_clamp
                                                              : dw_run;
    interior_columns(out_w, in_w, sw, params->pad_w, &ox_first, &ox_end);
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)in_h * row_bytes;
        int8_t *out = output + (size_t)b * (size_t)out_h * (size_t)out_w * (size_t)c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * sh - params->pad_h;
            const int8_t *rows[3];
            const int8_t *r[3];
            int32_t ky;
            for (ky = 0; ky < 3; ++ky) {
                const int32_t y = y0 + ky;
                rows[ky] = (y < 0 || y >= in_h) ? NULL : image + (size_t)y * row_bytes;
            }
            for (ox = 0; ox < out_w; ++ox, out += c) {
                const int32_t x0 = ox * sw - params->pad_w;
                if (ox == ox_first && ox_end > ox_first) {
                    /* the interior of the row in one run */
                    for (ky = 0; ky < 3; ++ky) {
                        r[ky] = rows[ky] ? rows[ky] + (size_t)x0 * (size_t)c : pad_row;
                        args.inc[ky] = rows[ky] ? sw * c - c : -c;
                    }
                    run(&args, r[0], r[1], r[2], out, ox_end - ox_first);
                    out += (size_t)(ox_end - ox_first - 1) * (size_t)c;
                    ox = ox_end - 1;
                    continue;
                }
                /* an edge pixel: its window with pad_value where it leaves the image */
                for (ky = 0; ky < 3; ++ky) {
                    int8_t *dst = window + ky * 3 * c;
                    int32_t kx;
                    if (rows[ky] == NULL) {
                        r[ky] = pad_row;
                        continue;
                    }
                    for (kx = 0; kx < 3; ++kx, dst += c) {
                        const int32_t x = x0 + kx;
                        copy_words(dst, (x < 0 || x >= in_w) ? pad_row : rows[ky] + (size_t)x * (size_t)c, c);
                    }
                    r[ky] = window + ky * 3 * c;
                }
                args.inc[0] = args.inc[1] = args.inc[2] = -c;
                run(&args, r[0], r[1], r[2], out, 1);
            }
        }
    }
    return MCU_OK;
}
