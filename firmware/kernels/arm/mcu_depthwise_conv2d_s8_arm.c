/*
 * mcu_depthwise_conv2d_s8_arm.c - DEPTHWISE_CONV_2D, any filter size, stride,
 * dilation and padding, depth multiplier 1, channels a multiple of 4;
 * Cortex-M7 DSP. (The 3x3 kernel, mcu_depthwise_conv2d_3x3_s8_arm.c, is faster
 * for 3x3 filters without dilation; this one covers 5x5, 7x7, dilated...)
 *
 * One output pixel at a time (raster order, 1 pixel in flight), 4 channels at
 * a time. The kh * kw taps are taken in raster order and paired (t0, t1),
 * (t2, t3), ...; an odd last tap is alone. A pair is computed as in the 3x3
 * kernel: PKHBT / PKHTB of the two input words, SXTB16 / SXTB16 ROR 8, one SMLAD
 * per channel against {2 w_a, 2 w_b}. Tap addresses come from a table of byte
 * offsets from the window's first tap, built once per call: one table for
 * windows inside the image, one for edge windows, which are first copied into
 * scratch with pad_value where they leave the image.
 *
 * packed (mcugen.lower.arm, variant "dw"), per group of 4 channels:
 *   bias[4]
 *   for each tap pair (ta, tb): {2 w[ta][c], 2 w[tb][c]} for c = 0..3 (bottom = ta)
 *   an odd last tap t: {2 w[t][0], 2 w[t][2]}, {2 w[t][1], 2 w[t][3]}
 *   shift[0], shift[1], mult[0], add[0], mult[1], add[1],
 *   shift[2], shift[3], mult[2], add[2], mult[3], add[3]
 */
#include "mcu_arm_kernels.h"

static int32_t taps_of(const mcu_dims *filter_dims) { return filter_dims->h * filter_dims->w; }

int32_t mcu_depthwise_conv2d_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    /* two offset tables (taps + 1 words each, 8-byte aligned) and an edge window */
    const int32_t table_words = (taps_of(filter_dims) + 2) & ~1;
    return 8 * table_words + taps_of(filter_dims) * input_dims->c;
}

typedef struct {
    const mcu_arm_conv_params *params;
    const int32_t *packed;
    int32_t c;              /* channels */
    int32_t pairs;          /* tap pairs */
    int32_t single;         /* 1: an odd last tap */
    int32_t lo4, hi4;       /* act_min / act_max in each byte */
} dwg_args;

/* All channel groups of one output pixel whose window's taps are at base + offs[t]. */
#define DWG_PIXEL_BODY(exact, clamp)                                               \
    const int32_t *w = a->packed;                                                  \
    int8_t *const out_end = out + a->c;                                            \
    for (; out != out_end; out += 4, base += 4) {                                  \
        int32_t acc0, acc1, acc2, acc3, k;                                         \
        const int32_t *o = offs;                                                   \
        MCU_LDRD_INC(acc0, acc1, w);                                               \
        MCU_LDRD_INC(acc2, acc3, w);                                               \
        for (k = a->pairs; k > 0; --k) {                                           \
            int32_t oa, ob;                                                        \
            MCU_LDRD_INC(oa, ob, o);                                               \
            MCU_ARM_DW_TAP_PAIR(mcu_load32(base + oa), mcu_load32(base + ob), w);  \
        }                                                                          \
        if (a->single) {                                                           \
            MCU_ARM_DW_TAP(mcu_load32(base + o[0]), w);                            \
        }                                                                          \
        MCU_ARM_DW_REQUANT_STORE(exact, clamp, a->params, a->lo4, a->hi4, w, out); \
    }

#define DWG_ARGS const dwg_args *a, const int32_t *offs, const int8_t *base, int8_t *out
#define DWG_FN MCU_NOINLINE MCU_ARM_NO_SCHED static void

DWG_FN dwg_pixel(DWG_ARGS) { DWG_PIXEL_BODY(0, 0) }
DWG_FN dwg_pixel_clamp(DWG_ARGS) { DWG_PIXEL_BODY(0, 1) }
DWG_FN dwg_pixel_exact(DWG_ARGS) { DWG_PIXEL_BODY(1, 1) }

typedef void (*dwg_fn)(DWG_ARGS);

/* Tap offsets in raster order, then 0 as a pad entry: tap (ky, kx) is at
 * ky * row + kx * col bytes from the window's first tap. */
static void tap_offsets(int32_t *table, int32_t k_h, int32_t k_w, int32_t row, int32_t col)
{
    int32_t ky, kx;
    for (ky = 0; ky < k_h; ++ky) {
        for (kx = 0; kx < k_w; ++kx) {
            *table++ = ky * row + kx * col;
        }
    }
    *table = 0;
}

mcu_status mcu_depthwise_conv2d_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                       const mcu_dims *input_dims, const int8_t *input,
                                       const mcu_dims *filter_dims, const int32_t *packed,
                                       const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, taps = k_h * k_w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t dh = params->dilation_h, dw = params->dilation_w;
    const int32_t table_words = (taps + 2) & ~1;
    const size_t row_bytes = (size_t)in_w * (size_t)c;
    int32_t *inside, *edge;
    int8_t *window;
    dwg_args args;
    dwg_fn pixel;
    int32_t b, oy, ox;
    if (filter_dims->c != c || output_dims->c != c || (c & 3) != 0 || ctx == NULL || ctx->buf == NULL ||
        ctx->size < mcu_depthwise_conv2d_s8_arm_get_buffer_size(input_dims, filter_dims)) {
        return MCU_ERROR_ARGUMENT;
    }
    inside = (int32_t *)ctx->buf;
    edge = inside + table_words;
    window = (int8_t *)(edge + table_words);
    tap_offsets(inside, k_h, k_w, dh * (int32_t)row_bytes, dw * c);
    tap_offsets(edge, k_h, k_w, k_w * c, c);
    args.params = params;
    args.packed = packed;
    args.c = c;
    args.pairs = taps / 2;
    args.single = taps & 1;
    args.lo4 = mcu_arm_splat8(params->act_min);
    args.hi4 = mcu_arm_splat8(params->act_max);
    pixel = (params->flags & MCU_ARM_REQUANT_EXACT) ? dwg_pixel_exact
            : (params->act_min > -128 || params->act_max < 127) ? dwg_pixel_clamp
                                                                : dwg_pixel;
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)in_h * row_bytes;
        int8_t *out = output + (size_t)b * (size_t)out_h * (size_t)out_w * (size_t)c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int rows_inside = y0 >= 0 && y0 + (k_h - 1) * dh < in_h;
            for (ox = 0; ox < out_w; ++ox, out += c) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int32_t ky, kx, i;
                int8_t *dst = window;
                if (rows_inside && x0 >= 0 && x0 + (k_w - 1) * dw < in_w) {
                    pixel(&args, inside, image + (size_t)y0 * row_bytes + (size_t)x0 * (size_t)c, out);
                    continue;
                }
                for (ky = 0; ky < k_h; ++ky) {
                    const int32_t y = y0 + ky * dh;
                    for (kx = 0; kx < k_w; ++kx, dst += c) {
                        const int32_t x = x0 + kx * dw;
                        if (y < 0 || y >= in_h || x < 0 || x >= in_w) {
                            const int32_t pad4 = mcu_arm_splat8(params->pad_value);
                            for (i = 0; i < c; i += 4) {
                                mcu_store32(dst + i, pad4);
                            }
                        } else {
                            const int8_t *src = image + (size_t)y * row_bytes + (size_t)x * (size_t)c;
                            for (i = 0; i < c; i += 4) {
                                mcu_store32(dst + i, mcu_load32(src + i));
                            }
                        }
                    }
                }
                pixel(&args, edge, window, out);
            }
        }
    }
    return MCU_OK;
}
