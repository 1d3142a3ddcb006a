/*
 * mcu_conv2d_s8.c - CONV_2D, int8 activations and weights, int32 bias,
 * per-output-channel requantization (per-tensor layers repeat one value).
 * Supports strides, dilation, SAME/VALID (as leading padding) and grouped
 * filters (filter depth = input depth / groups).
 *
 * Arithmetic as TFLM's reference ConvPerChannel: for each output element,
 * acc = sum(filter * (input + input_offset)) over the window (out-of-image taps
 * skipped), + bias, requantized, + output_offset, clamped.
 *
 * Output pixels are computed one at a time in NHWC raster order, each reading only
 * its receptive field: the memory planner relies on this to let the output overlap
 * the dying input (mcugen/ops/access.py). Faster variants must keep the order.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

int32_t mcu_conv2d_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0; /* the portable kernel works in place; SIMD variants may need an im2col buffer */
}

mcu_status mcu_conv2d_s8(const mcu_context *ctx, const mcu_conv_params *params,
                         const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                         const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                         const mcu_dims *bias_dims, const int32_t *bias,
                         const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, k_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    int32_t groups, filters_per_group, b, oy, ox, oc;
    (void)ctx;
    (void)bias_dims;
    if (k_c <= 0 || in_c % k_c != 0) {
        return MCU_ERROR_ARGUMENT;
    }
    groups = in_c / k_c;
    if (groups <= 0 || out_c % groups != 0) {
        return MCU_ERROR_ARGUMENT;
    }
    filters_per_group = out_c / groups;

    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int8_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                for (oc = 0; oc < out_c; ++oc) {
                    const int32_t group = oc / filters_per_group;
                    const int8_t *f_oc = filter + (size_t)oc * (size_t)k_h * (size_t)k_w * (size_t)k_c;
                    int32_t acc = 0;
                    int32_t ky, kx, ic;
                    for (ky = 0; ky < k_h; ++ky) {
                        const int32_t y = y0 + params->dilation_h * ky;
                        if (y < 0 || y >= in_h) {
                            continue;
                        }
                        for (kx = 0; kx < k_w; ++kx) {
                            const int32_t x = x0 + params->dilation_w * kx;
                            const int8_t *in_px;
                            const int8_t *f_px;
                            if (x < 0 || x >= in_w) {
                                continue;
                            }
                            in_px = in_batch + ((size_t)y * (size_t)in_w + (size_t)x) * (size_t)in_c + (size_t)group * (size_t)k_c;
                            f_px = f_oc + ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)k_c;
                            for (ic = 0; ic < k_c; ++ic) {
                                acc += (int32_t)f_px[ic] * ((int32_t)in_px[ic] + params->input_offset);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    acc = mcu_mul_by_quantized_mult(acc, quant->multiplier[oc], quant->shift[oc]);
                    acc += params->output_offset;
                    out[oc] = (int8_t)mcu_clamp32(acc, params->act_min, params->act_max);
                }
            }
        }
    }
    return MCU_OK;
}
