/*
 * mcu_avgpool_s8_arm.c - AVERAGE_POOL_2D, int8, Cortex-M7 DSP.
 *
 * Four channels at a time: SXTAB16 adds a tap's 4 int8 into two registers of
 * 16-bit sums ({c0, c2} and {c1, c3}); exact while the window has at most 255
 * taps (|sum| <= 128 * 255 < 2^15); larger windows take the 32-bit path. Each
 * average rounds half away from zero over the in-image taps, as TFLM.
 * Raster order, 1 pixel in flight; no scratch.
 */
#include "mcu_arm_kernels.h"

#define AVG_MAX_TAPS_16BIT 255

MCU_INLINE int32_t avg_round(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

mcu_status mcu_avgpool_s8_arm(const mcu_context *ctx, const mcu_pool_params *params,
                              const mcu_dims *input_dims, const int8_t *input,
                              const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t act_min = params->act_min, act_max = params->act_max;
    int32_t b, oy, ox;
    (void)ctx;
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)depth;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int32_t fy_start = mcu_max32(0, -y0);
            const int32_t fy_end = mcu_min32(params->filter_h, in_h - y0);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                const int32_t fx_start = mcu_max32(0, -x0);
                const int32_t fx_end = mcu_min32(params->filter_w, in_w - x0);
                const int32_t count = (fy_end - fy_start) * (fx_end - fx_start);
                const int32_t row_w = fx_end - fx_start;
                const int8_t *first = in_batch + ((size_t)(y0 + fy_start) * (size_t)in_w + (size_t)(x0 + fx_start)) * (size_t)depth;
                const int32_t row_skip = (in_w - row_w) * depth;
                int8_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)depth;
                int32_t c = 0;
                if (fy_end <= fy_start || fx_end <= fx_start) {
                    return MCU_ERROR_EMPTY_WINDOW;
                }
                if (count <= AVG_MAX_TAPS_16BIT) {
                    for (; c + 4 <= depth; c += 4) {
                        const int8_t *p = first + c;
                        int32_t even = 0, odd = 0, fy, fx;
                        for (fy = fy_end - fy_start; fy > 0; --fy, p += row_skip) {
                            for (fx = row_w; fx > 0; --fx, p += depth) {
                                const int32_t x = mcu_load32(p);
                                even = mcu_sxtab16(even, x);
                                odd = mcu_sxtab16_ror8(odd, x);
                            }
                        }
                        {
                            const int32_t v0 = mcu_clamp32(avg_round((int16_t)even, count), act_min, act_max);
                            const int32_t v1 = mcu_clamp32(avg_round((int16_t)odd, count), act_min, act_max);
                            const int32_t v2 = mcu_clamp32(avg_round(even >> 16, count), act_min, act_max);
                            const int32_t v3 = mcu_clamp32(avg_round(odd >> 16, count), act_min, act_max);
                            mcu_store32(out + c, mcu_pack8x4(v0, v1, v2, v3));
                        }
                    }
                }
                for (; c < depth; ++c) {
                    const int8_t *p = first + c;
                    int32_t acc = 0, fy, fx;
                    for (fy = fy_end - fy_start; fy > 0; --fy, p += row_skip) {
                        for (fx = row_w; fx > 0; --fx, p += depth) {
                            acc += *p;
                        }
                    }
                    out[c] = (int8_t)mcu_clamp32(avg_round(acc, count), act_min, act_max);
                }
            }
        }
    }
    return MCU_OK;
}
