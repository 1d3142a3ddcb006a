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

/* The taps k in [*first, *end) of a window at `origin` (dilation `dil`, k taps) that
 * land inside [0, size): no per-tap bounds check in the loops. */
static void tap_range(int32_t origin, int32_t dil, int32_t k, int32_t size, int32_t *first, int32_t *end)
{
    const int32_t e = size - origin > 0 ? (size - origin + dil - 1) / dil : 0;
    *first = origin < 0 ? (-origin + dil - 1) / dil : 0;
    *end = e < k ? e : k;
}

/* sum of w[c] * in[c], c < n: products of at most 2^22, so up to MCU_S16_EXACT_TERMS of
 * them add exactly in 32 bits (cheaper than 64-bit additions); longer runs in chunks. */
static int64_t dot_s16_s8(const int16_t *in, const int8_t *w, int32_t n)
{
    int64_t acc = 0;
    int32_t c0 = 0;
    while (c0 < n) {
        const int32_t c1 = n - c0 > MCU_S16_EXACT_TERMS ? c0 + MCU_S16_EXACT_TERMS : n;
        int32_t part = 0, c;
        for (c = c0; c < c1; ++c) {
            part += (int32_t)w[c] * (int32_t)in[c];
        }
        acc += part;
        c0 = c1;
    }
    return acc;
}

mcu_status mcu_conv2d_s16(const mcu_conv_params *params, const mcu_per_channel_quant *quant,
                          const mcu_dims *input_dims, const int16_t *input,
                          const mcu_dims *filter_dims, const int8_t *filter, const int64_t *bias,
                          const mcu_dims *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, k_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    /* a whole window's products add exactly in 32 bits: one int32 sum per output */
    const int small = k_h * k_w * k_c <= MCU_S16_EXACT_TERMS;
    /* no groups, no horizontal dilation: a window row's inputs are contiguous, as its weights */
    const int row_contiguous = k_c == in_c && params->dilation_w == 1;
    int32_t b, oy, ox, oc, per_group;
    if (k_c <= 0 || in_c % k_c != 0 || filter_dims->n != out_c || out_c % (in_c / k_c) != 0) {
        return MCU_ERROR_ARGUMENT;
    }
    per_group = out_c / (in_c / k_c);
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
                const size_t filter_size = (size_t)k_h * (size_t)k_w * (size_t)k_c;
                oc = 0;
                if (small && row_contiguous) {
                    /* two output channels at a time share each input load */
                    for (; oc + 2 <= out_c; oc += 2) {
                        const int8_t *f0 = filter + (size_t)oc * filter_size;
                        const int8_t *f1 = f0 + filter_size;
                        int32_t p0 = 0, p1 = 0, ky, c, q;
                        const int32_t n = (kx1 - kx0) * k_c;
                        for (ky = ky0; ky < ky1; ++ky) {
                            const int32_t y = y0 + params->dilation_h * ky;
                            const int16_t *in = in_batch + ((size_t)y * (size_t)in_w + (size_t)(x0 + kx0)) * (size_t)in_c;
                            const size_t w_at = ((size_t)ky * (size_t)k_w + (size_t)kx0) * (size_t)k_c;
                            const int8_t *w0 = f0 + w_at, *w1 = f1 + w_at;
                            for (c = 0; c < n; ++c) {
                                const int32_t v = in[c];
                                p0 += (int32_t)w0[c] * v;
                                p1 += (int32_t)w1[c] * v;
                            }
                        }
                        for (q = 0; q < 2; ++q) {
                            int64_t acc = q == 0 ? p0 : p1;
                            int32_t scaled;
                            if (bias != NULL) {
                                acc += bias[oc + q];
                            }
                            scaled = mcu_mul_by_quantized_mult64(acc, quant->multiplier[oc + q], quant->shift[oc + q]);
                            out[oc + q] = (int16_t)mcu_clamp32(scaled, params->act_min, params->act_max);
                        }
                    }
                }
                for (; oc < out_c; ++oc) {
                    const int16_t *in_pixel = in_batch + (size_t)((oc / per_group) * k_c);
                    const int8_t *f = filter + (size_t)oc * (size_t)k_h * (size_t)k_w * (size_t)k_c;
                    int64_t acc = 0;
                    int32_t part = 0, ky, kx, c, scaled;
                    for (ky = ky0; ky < ky1; ++ky) {
                        const int32_t y = y0 + params->dilation_h * ky;
                        if (row_contiguous) {
                            /* the row's taps are one run of inputs and one of weights */
                            const int16_t *in = in_pixel + ((size_t)y * (size_t)in_w + (size_t)(x0 + kx0)) * (size_t)in_c;
                            const int8_t *w = f + ((size_t)ky * (size_t)k_w + (size_t)kx0) * (size_t)k_c;
                            const int32_t n = (kx1 - kx0) * k_c;
                            if (small) {
                                for (c = 0; c < n; ++c) {
                                    part += (int32_t)w[c] * (int32_t)in[c];
                                }
                            } else {
                                acc += dot_s16_s8(in, w, n);
                            }
                            continue;
                        }
                        for (kx = kx0; kx < kx1; ++kx) {
                            const int32_t x = x0 + params->dilation_w * kx;
                            const int16_t *in = in_pixel + ((size_t)y * (size_t)in_w + (size_t)x) * (size_t)in_c;
                            const int8_t *w = f + ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)k_c;
                            if (small) {
                                for (c = 0; c < k_c; ++c) {
                                    part += (int32_t)w[c] * (int32_t)in[c];
                                }
                            } else {
                                acc += dot_s16_s8(in, w, k_c);
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
    return MCU_OK;
}
