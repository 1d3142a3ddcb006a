/*
 * mcu_conv2d_grouped_s8_arm.c - grouped CONV_2D (filter depth = input depth / groups,
 * TF's Conv2D(groups=g)) on the Cortex-M7: the portable kernel's loops (../mcu_conv2d_s8.c:
 * output pixels in NHWC raster order, each reading only its receptive field, out-of-image
 * taps skipped) with the dot product over a group's input channels on SMLAD
 * (mcu_arm_dot.h), two output channels of a group at a time. Same parameters and the
 * same int32 sums as the portable kernel, so bit-exact with it and TFLM. The matrix
 * variants (mcu_conv2d_s8_arm.c) take groups = 1 only.
 */
#include "mcu_arm_dot.h"
#include "mcu_arm_kernels.h"

static int8_t requant(int32_t acc, const int32_t *bias, int32_t oc, const mcu_per_channel_quant *quant,
                      const mcu_conv_params *params)
{
    if (bias != NULL) {
        acc += bias[oc];
    }
    acc = mcu_mul_by_quantized_mult(acc, quant->multiplier[oc], quant->shift[oc]) + params->output_offset;
    return (int8_t)mcu_clamp32(acc, params->act_min, params->act_max);
}

mcu_status mcu_conv2d_grouped_s8_arm(const mcu_context *ctx, const mcu_conv_params *params,
                                     const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                     const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                                     const mcu_dims *bias_dims, const int32_t *bias,
                                     const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, k_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const size_t f_oc_size = (size_t)k_h * (size_t)k_w * (size_t)k_c;
    int32_t groups, per_group, b, oy, ox, oc;
    (void)ctx;
    (void)bias_dims;
    if (k_c <= 0 || in_c % k_c != 0) {
        return MCU_ERROR_ARGUMENT;
    }
    groups = in_c / k_c;
    if (out_c % groups != 0) {
        return MCU_ERROR_ARGUMENT;
    }
    per_group = out_c / groups;
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int8_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                for (oc = 0; oc < out_c; oc += 2) {
                    const int32_t group = oc / per_group;
                    /* a pair stays inside one group */
                    const int32_t pair = oc + 1 < out_c && (oc + 1) / per_group == group;
                    const int8_t *f0 = filter + (size_t)oc * f_oc_size;
                    const int8_t *f1 = pair ? f0 + f_oc_size : f0;
                    int32_t acc0 = 0, acc1 = 0;
                    int32_t ky, kx;
                    for (ky = 0; ky < k_h; ++ky) {
                        const int32_t y = y0 + params->dilation_h * ky;
                        if (y < 0 || y >= in_h) {
                            continue;
                        }
                        for (kx = 0; kx < k_w; ++kx) {
                            const int32_t x = x0 + params->dilation_w * kx;
                            size_t tap;
                            if (x < 0 || x >= in_w) {
                                continue;
                            }
                            tap = ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)k_c;
                            mcu_arm_dot2_s8(in_batch + ((size_t)y * (size_t)in_w + (size_t)x) * (size_t)in_c +
                                                (size_t)group * (size_t)k_c,
                                            f0 + tap, f1 + tap, k_c, params->input_offset, &acc0, &acc1);
                        }
                    }
                    out[oc] = requant(acc0, bias, oc, quant, params);
                    if (pair) {
                        out[oc + 1] = requant(acc1, bias, oc + 1, quant, params);
                    } else {
                        --oc; /* the next pair starts at oc + 1 */
                    }
                }
            }
        }
    }
    return MCU_OK;
}
