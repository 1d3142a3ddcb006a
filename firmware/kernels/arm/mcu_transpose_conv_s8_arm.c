/*
 * mcu_transpose_conv_s8_arm.c - TRANSPOSE_CONV on the Cortex-M7: the portable kernel's
 * gather form (../mcu_transpose_conv_s8.c: each output element sums the taps that reach
 * it, in NHWC raster order, no scratch) with its dot products over the input channels
 * on SMLAD (mcu_arm_dot.h), two output channels at a time. Same parameters and the same
 * int32 sums, so bit-exact with the portable kernel and TFLM.
 */
#include "mcu_arm_dot.h"
#include "mcu_arm_kernels.h"

static int32_t first_tap(int32_t pos_plus_pad, int32_t stride)
{
    const int32_t r = pos_plus_pad % stride;
    return r < 0 ? r + stride : r;
}

static int8_t requant(int32_t acc, const int32_t *bias, int32_t oc, const mcu_per_channel_quant *quant,
                      const mcu_conv_params *params)
{
    if (bias != NULL) {
        acc += bias[oc];
    }
    acc = mcu_mul_by_quantized_mult(acc, quant->multiplier[oc], quant->shift[oc]) + params->output_offset;
    return (int8_t)mcu_clamp32(acc, params->act_min, params->act_max);
}

mcu_status mcu_transpose_conv_s8_arm(const mcu_context *ctx, const mcu_conv_params *params,
                                     const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                     const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                                     const mcu_dims *bias_dims, const int32_t *bias,
                                     const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t s_h = params->stride_h, s_w = params->stride_w;
    const size_t f_oc_size = (size_t)k_h * (size_t)k_w * (size_t)in_c;
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
                for (oc = 0; oc < out_c; oc += 2) {
                    const int8_t *f0 = filter + (size_t)oc * f_oc_size;
                    const int32_t pair = oc + 1 < out_c;
                    const int8_t *f1 = pair ? f0 + f_oc_size : f0;
                    int32_t acc0 = 0, acc1 = 0;
                    int32_t ky, kx;
                    for (ky = ky0; ky < k_h; ky += s_h) {
                        const int32_t iy = (oy + params->pad_h - ky) / s_h;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (kx = kx0; kx < k_w; kx += s_w) {
                            const int32_t ix = (ox + params->pad_w - kx) / s_w;
                            size_t tap;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            tap = ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)in_c;
                            mcu_arm_dot2_s8(in_batch + ((size_t)iy * (size_t)in_w + (size_t)ix) * (size_t)in_c,
                                            f0 + tap, f1 + tap, in_c, params->input_offset, &acc0, &acc1);
                        }
                    }
                    out[oc] = requant(acc0, bias, oc, quant, params);
                    if (pair) {
                        out[oc + 1] = requant(acc1, bias, oc + 1, quant, params);
                    }
                }
            }
        }
    }
    return MCU_OK;
}
