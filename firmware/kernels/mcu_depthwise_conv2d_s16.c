/*
 * mcu_depthwise_conv2d_s16.c - DEPTHWISE_CONV_2D, 16x8: int16 input and output, int8
 * filter [1, kh, kw, out_c], int64 bias, any depth multiplier, strides and dilation.
 *
 * As TFLM's reference DepthwiseConvPerChannel for int16: 64-bit sums, the bias, then
 * mcu_mul_by_quantized_mult64 and the clamp (zero points 0). Output pixels in NHWC
 * raster order, each reading only its receptive field, as the int8 kernel.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

/* The taps k in [*first, *end) of a window at `origin` that land inside [0, size). */
static void tap_range(int32_t origin, int32_t dil, int32_t k, int32_t size, int32_t *first, int32_t *end)
{
    const int32_t e = size - origin > 0 ? (size - origin + dil - 1) / dil : 0;
    *first = origin < 0 ? (-origin + dil - 1) / dil : 0;
    *end = e < k ? e : k;
}

mcu_status mcu_depthwise_conv2d_s16(const mcu_dw_conv_params *params,
                                    const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                    const int16_t *input, const mcu_dims *filter_dims,
                                    const int8_t *filter, const int64_t *bias,
                                    const mcu_dims *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t mult = params->depth_multiplier;
    /* a window's products (at most 2^22 each) add exactly in 32 bits */
    const int small = k_h * k_w <= MCU_S16_EXACT_TERMS;
    int32_t b, oy, ox, ic, m;
    if (mult <= 0 || out_c != in_c * mult || filter_dims->c != out_c) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b = 0; b < output_dims->n; ++b) {
        const int16_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, params->dilation_h, k_h, in_h, &ky0, &ky1);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int16_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                int32_t kx0, kx1;
                tap_range(x0, params->dilation_w, k_w, in_w, &kx0, &kx1);
                ic = 0;
                if (mult == 1 && small) {
                    /* four channels at a time: their inputs and weights are adjacent */
                    for (; ic + 4 <= in_c; ic += 4) {
                        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, ky, kx, q;
                        for (ky = ky0; ky < ky1; ++ky) {
                            const int32_t y = y0 + params->dilation_h * ky;
                            const int16_t *in_row = in_batch + (size_t)y * (size_t)in_w * (size_t)in_c + (size_t)ic;
                            const int8_t *f_row = filter + (size_t)ky * (size_t)k_w * (size_t)out_c + (size_t)ic;
                            for (kx = kx0; kx < kx1; ++kx) {
                                const int16_t *in = in_row + (size_t)(x0 + params->dilation_w * kx) * (size_t)in_c;
                                const int8_t *w = f_row + (size_t)kx * (size_t)out_c;
                                a0 += (int32_t)w[0] * (int32_t)in[0];
                                a1 += (int32_t)w[1] * (int32_t)in[1];
                                a2 += (int32_t)w[2] * (int32_t)in[2];
                                a3 += (int32_t)w[3] * (int32_t)in[3];
                            }
                        }
                        for (q = 0; q < 4; ++q) {
                            const int32_t oc = ic + q;
                            int64_t acc = q == 0 ? a0 : (q == 1 ? a1 : (q == 2 ? a2 : a3));
                            int32_t scaled;
                            if (bias != NULL) {
                                acc += bias[oc];
                            }
                            scaled = mcu_mul_by_quantized_mult64(acc, quant->multiplier[oc], quant->shift[oc]);
                            out[oc] = (int16_t)mcu_clamp32(scaled, params->act_min, params->act_max);
                        }
                    }
                }
                for (; ic < in_c; ++ic) {
                    for (m = 0; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        int64_t acc = 0;
                        int32_t part = 0, ky, kx, scaled;
                        for (ky = ky0; ky < ky1; ++ky) {
                            const int32_t y = y0 + params->dilation_h * ky;
                            const int16_t *in_row = in_batch + (size_t)y * (size_t)in_w * (size_t)in_c + (size_t)ic;
                            const int8_t *f_row = filter + (size_t)ky * (size_t)k_w * (size_t)out_c + (size_t)oc;
                            for (kx = kx0; kx < kx1; ++kx) {
                                const int32_t x = x0 + params->dilation_w * kx;
                                const int32_t p = (int32_t)f_row[(size_t)kx * (size_t)out_c] *
                                                  (int32_t)in_row[(size_t)x * (size_t)in_c];
                                if (small) {
                                    part += p;
                                } else {
                                    acc += p;
                                }
                            }
                        }
                        acc += part;
                        if (bias != NULL) {
                            acc += bias[oc];
                        }
                        scaled = mcu_mul_by_quantized_mult64(acc, quant->multiplier[oc], quant->shift[oc]);
                        out[oc] = (int16_t)mcu_clamp32(scaled, params->act_min, params->act_max);
                    }
                }
            }
        }
    }
    return MCU_OK;
}
