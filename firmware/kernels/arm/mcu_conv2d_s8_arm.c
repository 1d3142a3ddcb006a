/*
 * mcu_conv2d_s8_arm.c - CONV_2D, any filter size, stride, dilation and
 * padding (groups = 1), Cortex-M7 DSP. Also DEPTHWISE_CONV_2D with one input
 * channel (a convolution with filter [out_c, kh, kw, 1]).
 *
 * im2col of 2 output pixels into the scratch buffer, then
 * mcu_arm_mat_mult_2px. The depth of the matrix product is laid out by filter
 * row: each row's kw * in_c values are padded to a multiple of 4 (`row_len`),
 * so an in-image row is one contiguous run of input bytes expanded 4 at a
 * time; out-of-image taps take pad_value (the input zero point). Padding
 * elements have zero weights.
 *
 * packed: as prepared by mcugen.lower.arm (variant "conv"): per
 * output channel [kh][row_len] int8, channel pairs interleaved per 4 values.
 * At most 2 pixels in flight.
 */
#include "mcu_arm_kernels.h"

static int32_t row_len(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    return (filter_dims->w * input_dims->c + 3) & ~3;
}

int32_t mcu_conv2d_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    /* 2 pixels x 2 bytes per value, plus a byte buffer for one gathered row */
    const int32_t k = filter_dims->h * row_len(input_dims, filter_dims);
    return 4 * k + row_len(input_dims, filter_dims);
}

/* Expands one output pixel's receptive field into cols (`stride` words between steps). */
static void im2col_pixel(const mcu_arm_conv_params *params, const mcu_dims *input_dims, const int8_t *image,
                         const mcu_dims *filter_dims, int32_t oy, int32_t ox, int32_t rlen, int8_t *gather,
                         int32_t *cols, int32_t stride)
{
    const int32_t doubled = !(params->flags & MCU_ARM_WIDE);
    const int32_t image_bytes = input_dims->h * input_dims->w * input_dims->c;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t run = k_w * in_c;
    const int32_t pad = params->pad_value;
    const int32_t y0 = oy * params->stride_h - params->pad_h;
    const int32_t x0 = ox * params->stride_w - params->pad_w;
    const int contiguous = params->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w;
    int32_t ky;
    for (ky = 0; ky < k_h; ++ky) {
        const int32_t y = y0 + ky * params->dilation_h;
        if (y < 0 || y >= in_h) {
            const int32_t word = (int32_t)((uint32_t)(uint16_t)(doubled ? 2 * pad : pad) * 0x00010001u);
            int32_t i;
            for (i = 0; i < rlen; i += 4) {
                cols[0] = word;
                cols[1] = word;
                cols += stride;
            }
        } else if (contiguous) {
            /* Whole words up to row_len when they stay inside the image: the bytes
             * past the filter row meet zero weights. */
            const int32_t at = (y * in_w + x0) * in_c;
            cols = mcu_arm_expand_s8(image + at, at + rlen <= image_bytes ? rlen : run, pad, cols, stride, doubled);
        } else {
            int32_t kx, i;
            for (kx = 0; kx < k_w; ++kx) {
                const int32_t x = x0 + kx * params->dilation_w;
                int8_t *dst = gather + kx * in_c;
                if (x < 0 || x >= in_w) {
                    for (i = 0; i < in_c; ++i) {
                        dst[i] = (int8_t)pad;
                    }
                } else {
                    const int8_t *src = image + ((size_t)y * (size_t)in_w + (size_t)x) * (size_t)in_c;
                    for (i = 0; i < in_c; ++i) {
                        dst[i] = src[i];
                    }
                }
            }
            cols = mcu_arm_expand_s8(gather, run, pad, cols, stride, doubled);
        }
    }
}

/* The same for a pixel whose window lies inside the image (and whose last row
 * can be read in whole words): rows of `words` words from src, row_step apart. */
MCU_INLINE void im2col_inside(const int8_t *src, int32_t k_h, int32_t row_step, int32_t words, int32_t *cols,
                              int32_t stride, int doubled)
{
    int32_t ky, i;
    if (words == 1) {
        for (ky = 0; ky < k_h; ++ky, src += row_step, cols += stride) {
            mcu_arm_expand_word(mcu_load32(src), cols, doubled);
        }
        return;
    }
    for (ky = 0; ky < k_h; ++ky, src += row_step) {
        const int8_t *p = src;
        for (i = 0; i < words; ++i, p += 4, cols += stride) {
            mcu_arm_expand_word(mcu_load32(p), cols, doubled);
        }
    }
}

/* Where output pixels are: their row, column and whether their window lies
 * inside the image (then `src` is its first byte). */
typedef struct {
    int32_t oy, ox;
    int32_t row_inside;       /* the window's rows are inside the image (and readable in words) */
    const int8_t *row_src;    /* the window's first byte for ox = 0 */
} pixel_walk;

static void walk_row(pixel_walk *pw, const mcu_arm_conv_params *params, const mcu_dims *input_dims,
                     const mcu_dims *filter_dims, const int8_t *image, int32_t rlen, int32_t ox_end)
{
    const int32_t in_w = input_dims->w, in_c = input_dims->c;
    const int32_t y0 = pw->oy * params->stride_h - params->pad_h;
    const int32_t y_last = y0 + (filter_dims->h - 1) * params->dilation_h;
    const int32_t x_last = (ox_end - 1) * params->stride_w - params->pad_w;
    pw->row_inside = y0 >= 0 && y_last < input_dims->h &&
                     (y_last * in_w + x_last) * in_c + rlen <= input_dims->h * in_w * in_c;
    pw->row_src = image + ((y0 * in_w) - params->pad_w) * in_c;
}

mcu_status mcu_conv2d_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                             const mcu_dims *input_dims, const int8_t *input, const mcu_dims *filter_dims,
                             const int32_t *packed, const mcu_dims *output_dims, int8_t *output)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t rlen = row_len(input_dims, filter_dims);
    const int32_t steps = filter_dims->h * rlen / 4;
    const int32_t in_w = input_dims->w, in_c = input_dims->c;
    const int32_t image_bytes = input_dims->h * in_w * in_c;
    const int32_t col_step = params->stride_w * in_c;
    const int32_t row_step = params->dilation_h * in_w * in_c;
    const int doubled = !(params->flags & MCU_ARM_WIDE);
    int32_t *cols;
    int8_t *gather;
    int32_t b, ox_first, ox_end;
    if (filter_dims->c != input_dims->c || filter_dims->n != out_c || ctx == NULL || ctx->buf == NULL ||
        ctx->size < mcu_conv2d_s8_arm_get_buffer_size(input_dims, filter_dims)) {
        return MCU_ERROR_ARGUMENT;
    }
    cols = (int32_t *)ctx->buf;
    gather = (int8_t *)(cols + 4 * steps);
    /* output columns whose window lies inside the image horizontally */
    ox_first = 0;
    while (ox_first < out_w && ox_first * params->stride_w - params->pad_w < 0) {
        ++ox_first;
    }
    ox_end = out_w;
    while (ox_end > ox_first &&
           (params->dilation_w != 1 || (ox_end - 1) * params->stride_w - params->pad_w + filter_dims->w > in_w)) {
        --ox_end;
    }
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)image_bytes;
        int8_t *out = output + (size_t)b * (size_t)out_h * (size_t)out_w * (size_t)out_c;
        const int32_t pixels = out_h * out_w;
        pixel_walk pw;
        int32_t p, k;
        pw.oy = 0;
        pw.ox = 0;
        walk_row(&pw, params, input_dims, filter_dims, image, rlen, ox_end);
        for (p = 0; p < pixels; p += 2) {
            const int32_t n = p + 2 <= pixels ? 2 : 1;
            for (k = 0; k < n; ++k) {
                int32_t *c = cols + 2 * k;
                const int32_t stride = 2 * n;
                if (pw.row_inside && pw.ox >= ox_first && pw.ox < ox_end) {
                    const int8_t *src = pw.row_src + pw.ox * col_step;
                    if (doubled) {
                        im2col_inside(src, filter_dims->h, row_step, rlen / 4, c, stride, 1);
                    } else {
                        im2col_inside(src, filter_dims->h, row_step, rlen / 4, c, stride, 0);
                    }
                } else {
                    im2col_pixel(params, input_dims, image, filter_dims, pw.oy, pw.ox, rlen, gather, c, stride);
                }
                if (++pw.ox == out_w) {
                    pw.ox = 0;
                    if (++pw.oy < out_h) {
                        walk_row(&pw, params, input_dims, filter_dims, image, rlen, ox_end);
                    }
                }
            }
            if (n == 2) {
                mcu_arm_mat_mult_2px(params, cols, steps, packed, out_c, out, out + out_c);
            } else {
                mcu_arm_mat_mult_1px(params, cols, steps, packed, out_c, out);
            }
            out += 2 * out_c;
        }
    }
    return MCU_OK;
}
