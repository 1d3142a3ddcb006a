/*
 * mcu_conv2d_1x1_s8_arm.c - CONV_2D with a 1x1 filter (any stride; a 1x1
 * filter never pads), Cortex-M7 DSP.
 *
 * Output pixels in raster order, two at a time: both pixels' input channels
 * are expanded to doubled int16 in the scratch buffer (16 bytes per 4
 * channels), then mcu_arm_mat_mult_2px computes all output channels of both.
 * At most 2 pixels in flight: the expansion reads both before any write.
 *
 * packed: as prepared by mcugen.lower.arm (variant "conv1x1"):
 * channel pairs interleaved per 4 input channels, input channels padded with
 * zeros to a multiple of 4; input_offset * sum(filter) folded into rq[].bias.
 */
#include "mcu_arm_kernels.h"

int32_t mcu_conv2d_1x1_s8_arm_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)filter_dims;
    return 16 * ((input_dims->c + 3) / 4);
}

mcu_status mcu_conv2d_1x1_s8_arm(const mcu_context *ctx, const mcu_arm_conv_params *params,
                                 const mcu_dims *input_dims, const int8_t *input, const mcu_dims *filter_dims,
                                 const int32_t *packed, const mcu_dims *output_dims, int8_t *output)
{
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t steps = (in_c + 3) / 4;
    const int32_t doubled = !(params->flags & MCU_ARM_WIDE);
    const int32_t out_w = output_dims->w;
    const int32_t pixels = output_dims->n * output_dims->h * out_w;
    mcu_arm_walk walk;
    int32_t *cols;
    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != in_c || filter_dims->n != out_c ||
        ctx == NULL || ctx->buf == NULL || ctx->size < mcu_conv2d_1x1_s8_arm_get_buffer_size(input_dims, filter_dims)) {
        return MCU_ERROR_ARGUMENT;
    }
    cols = (int32_t *)ctx->buf;
    walk.in = input;
    walk.col_step = params->stride_w * in_c;
    walk.row_skip = (params->stride_h * input_dims->w - params->stride_w * out_w) * in_c;
    /* the input rows a strided output skips at the end of each image */
    walk.image_skip = (input_dims->h - params->stride_h * output_dims->h) * input_dims->w * in_c;
    walk.ox = walk.oy = 0;
    walk.out_w = out_w;
    walk.out_h = output_dims->h;
    mcu_arm_mat_mult_1x1_pairs(params, &walk, in_c, pixels / 2, cols, steps, packed, out_c, output);
    if (pixels & 1) {
        mcu_arm_expand_s8(walk.in, in_c, 0, cols, 2, doubled);
        mcu_arm_mat_mult_1px(params, cols, steps, packed, out_c, output + (size_t)(pixels - 1) * (size_t)out_c);
    }
    return MCU_OK;
}
