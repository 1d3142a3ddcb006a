/*
 * mcu_maxpool_s16.c - MAX_POOL_2D, int16 (16x8; input and output share their
 * quantization); taps outside the image are ignored, as TFLM's reference MaxPool.
 *
 * Output pixels are computed one at a time in NHWC raster order, each reading only
 * its receptive field: the memory planner relies on this to let the output overlap
 * the dying input (mcugen/ops/access.py). Faster variants must keep the order.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_maxpool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                          const mcu_dims *input_dims, const int16_t *input,
                          const mcu_dims *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    int32_t b, oy, ox, c;
    (void)ctx;
    for (b = 0; b < output_dims->n; ++b) {
        const int16_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)depth;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int32_t fy_start = mcu_max32(0, -y0);
            const int32_t fy_end = mcu_min32(params->filter_h, in_h - y0);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                const int32_t fx_start = mcu_max32(0, -x0);
                const int32_t fx_end = mcu_min32(params->filter_w, in_w - x0);
                int16_t *out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)depth;
                for (c = 0; c < depth; ++c) {
                    int32_t max = INT16_MIN;
                    int32_t fy, fx;
                    for (fy = fy_start; fy < fy_end; ++fy) {
                        const int16_t *row = in_batch + ((size_t)(y0 + fy) * (size_t)in_w) * (size_t)depth + (size_t)c;
                        for (fx = fx_start; fx < fx_end; ++fx) {
                            max = mcu_max32(max, row[(size_t)(x0 + fx) * (size_t)depth]);
                        }
                    }
                    out[c] = (int16_t)mcu_clamp32(max, params->act_min, params->act_max);
                }
            }
        }
    }
    return MCU_OK;
}
