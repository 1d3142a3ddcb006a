/*
 * mcu_conv2d_s16.c - CONV_2D, 16x8: int16 input and output, int8 filter, int64 bias,
 * per-channel requantization, strides, dilation and groups.
 *
 * As TFLM's reference ConvPerChannel for int16: products summed in 64 bits (an int16 x
 * int8 product has 23 bits), the bias added, then mcu_mul_by_quantized_mult64 and the
 * clamp; the zero points are 0, so no offsets. Output pixels in NHWC raster order, each
 * reading only its receptive field, as the int8 kernel (the planner's overlap rule).
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_conv2d_s16(const mcu_conv_params *params, const mcu_per_channel_quant *quant,
                          const mcu_dims *input_dims, const int16_t *input,
                          const mcu_dims *filter_dims, const int8_t *filter, const int64_t *bias,
                          const mcu_dims *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, k_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    int32_t b, oy, ox, oc, per_group;
    if (k_c <= 0 || in_c % k_c != 0 || filter_dims->n != out_c || out_c % (in_c / k_c) != 0) {
        return MCU_ERROR_ARGUMENT;
    }
    per_group = out_c / (in_c / k_c);
    for (b = 0; b < output_dims->n; ++b) {
        const int16_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int16_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                for (oc = 0; oc < out_c; ++oc) {
                    const int32_t channel0 = (oc / per_group) * k_c;
                    const int8_t *f = filter + (size_t)oc * (size_t)k_h * (size_t)k_w * (size_t)k_c;
                    int64_t acc = 0;
                    int32_t ky, kx, c;
                    int32_t scaled;
                    for (ky = 0; ky < k_h; ++ky) {
                        const int32_t y = y0 + params->dilation_h * ky;
                        if (y < 0 || y >= in_h) {
                            continue;
                        }
                        for (kx = 0; kx < k_w; ++kx) {
                            const int32_t x = x0 + params->dilation_w * kx;
                            const int16_t *in;
                            const int8_t *w;
                            if (x < 0 || x >= in_w) {
                                continue;
                            }
                            in = in_batch + ((size_t)y * (size_t)in_w + (size_t)x) * (size_t)in_c + (size_t)channel0;
                            w = f + ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)k_c;
                            for (c = 0; c < k_c; ++c) {
                                acc += (int64_t)((int32_t)w[c] * (int32_t)in[c]);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    scaled = mcu_mul_by_quantized_mult64(acc, quant->multiplier[oc], quant->shift[oc]);
                    out[oc] = (int16_t)mcu_clamp32(scaled, params->act_min, params->act_max);
                }
            }
        }
    }
    return MCU_OK;
}
