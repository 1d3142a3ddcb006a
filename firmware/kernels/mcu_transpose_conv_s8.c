/*
 * mcu_transpose_conv_s8.c - TRANSPOSE_CONV, int8 activations and weights, optional
 * int32 bias, per-output-channel requantization (per-tensor layers repeat one value).
 * Strides, SAME/VALID as leading padding (computed by the generator as TFLM's prepare
 * does, from the output size); no dilation (TFLite's op has none).
 *
 * TFLM's reference kernel scatters: every input pixel adds (input + input_offset) *
 * filter into an int32 buffer the size of the output, then each element gets the bias,
 * the requantization and the clamp. Integer addition is associative, so gathering the
 * same products per output element gives the same int32 sums: this kernel computes the
 * output one element at a time, in NHWC raster order, with no scratch. Output (oy, ox)
 * receives input (iy, ix) through filter tap (ky, kx) where oy = iy * stride_h - pad_h + ky
 * (and the same along x).
 *
 * filter [out_c, kh, kw, in_c] (OHWI, TFLite's layout for the op).
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

/* The first tap k >= 0 with (pos + pad - k) divisible by stride, i.e. (pos + pad) mod stride. */
static int32_t first_tap(int32_t pos_plus_pad, int32_t stride)
{
    const int32_t r = pos_plus_pad % stride;
    return r < 0 ? r + stride : r;
}

mcu_status mcu_transpose_conv_s8(const mcu_context *ctx, const mcu_conv_params *params,
                                 const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                                 const mcu_dims *bias_dims, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t s_h = params->stride_h, s_w = params->stride_w;
    int32_t b, oy, ox, oc;
    (void)ctx;
    (void)bias_dims;
    if (filter_dims->c != in_c || filter_dims->n != out_c || s_h <= 0 || s_w <= 0) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t ky0 = first_tap(oy + params->pad_h, s_h);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t kx0 = first_tap(ox + params->pad_w, s_w);
                int8_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                for (oc = 0; oc < out_c; ++oc) {
                    const int8_t *f_oc = filter + (size_t)oc * (size_t)k_h * (size_t)k_w * (size_t)in_c;
                    int32_t acc = 0;
                    int32_t ky, kx, ic;
                    for (ky = ky0; ky < k_h; ky += s_h) {
                        const int32_t iy = (oy + params->pad_h - ky) / s_h;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (kx = kx0; kx < k_w; kx += s_w) {
                            const int32_t ix = (ox + params->pad_w - kx) / s_w;
                            const int8_t *in_px;
                            const int8_t *f_px;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            in_px = in_batch + ((size_t)iy * (size_t)in_w + (size_t)ix) * (size_t)in_c;
                            f_px = f_oc + ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)in_c;
                            for (ic = 0; ic < in_c; ++ic) {
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
