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
 * packed: as prepared by mcugen.codegen.arm (variant "conv"): per
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
                    const int8_t *src = image + ((size_t)y * in_w + x) * in_c;
                    for (i = 0; i < in_c; ++i) {
                        dst[i] = src[i];
                    }
                }
            }
            cols = mcu_arm_expand_s8(gather, run, pad, cols, stride, doubled);
        }
    }
}

mcu_status mcu_conv2d_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                             const mcu_dims *input_dims, const int8_t *input, const mcu_dims *filter_dims,
                             const int32_t *packed, const mcu_dims *output_dims, int8_t *output)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t rlen = row_len(input_dims, filter_dims);
    const int32_t steps = filter_dims->h * rlen / 4;
    const int32_t image_bytes = input_dims->h * input_dims->w * input_dims->c;
    int32_t *cols;
    int8_t *gather;
    int32_t b;
    if (filter_dims->c != input_dims->c || filter_dims->n != out_c || ctx == NULL || ctx->buf == NULL ||
        ctx->size < mcu_conv2d_s8_arm_get_buffer_size(input_dims, filter_dims)) {
        return MCU_ERROR_ARGUMENT;
    }
    cols = (int32_t *)ctx->buf;
    gather = (int8_t *)(cols + 4 * steps);
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        int8_t *out = output + (size_t)b * out_h * out_w * out_c;
        int32_t oy = 0, ox = 0;
        int32_t p;
        const int32_t pixels = out_h * out_w;
        for (p = 0; p + 2 <= pixels; p += 2) {
            im2col_pixel(params, input_dims, image, filter_dims, oy, ox, rlen, gather, cols, 4);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
            im2col_pixel(params, input_dims, image, filter_dims, oy, ox, rlen, gather, cols + 2, 4);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
            mcu_arm_mat_mult_2px(params, cols, steps, packed, out_c, out, out + out_c);
            out += 2 * out_c;
        }
        if (p < pixels) {
            im2col_pixel(params, input_dims, image, filter_dims, oy, ox, rlen, gather, cols, 2);
            mcu_arm_mat_mult_1px(params, cols, steps, packed, out_c, out);
        }
    }
    return MCU_OK;
}
