/*
 * mcu_fully_connected_s8_arm.c - FULLY_CONNECTED, int8, filter zero point 0
 * (TFLM's int8 FULLY_CONNECTED), Cortex-M7 DSP.
 *
 * A 1x1 convolution over `batches` pixels: each input row is expanded once
 * to doubled int16, then mcu_arm_mat_mult_2px (two rows at a time) or _1px.
 * packed: as prepared by mcugen.lower.arm (variant "fc"): unit pairs
 * interleaved per 4 depth elements, depth padded with zeros to a multiple of 4.
 */
#include "mcu_arm_kernels.h"

int32_t mcu_fully_connected_s8_arm_get_buffer_size(const mcu_dims *filter_dims)
{
    return 16 * ((filter_dims->c + 3) / 4);
}

mcu_status mcu_fully_connected_s8_arm(const mcu_context *ctx, const mcu_arm_fc_params *params,
                                      const mcu_dims *input_dims, const int8_t *input,
                                      const mcu_dims *filter_dims, const int32_t *packed,
                                      const mcu_dims *output_dims, int8_t *output)
{
    const int32_t batches = output_dims->n;
    const int32_t units = output_dims->c;
    const int32_t depth = filter_dims->c;
    const int32_t steps = (depth + 3) / 4;
    const int32_t doubled = !(params->flags & MCU_ARM_WIDE);
    mcu_arm_conv_params cp;
    int32_t *cols;
    int32_t b;
    if (input_dims->c != depth || filter_dims->n < units || ctx == NULL || ctx->buf == NULL ||
        ctx->size < mcu_fully_connected_s8_arm_get_buffer_size(filter_dims)) {
        return MCU_ERROR_ARGUMENT;
    }
    memset(&cp, 0, sizeof cp);
    cp.output_offset = params->output_offset;
    cp.act_min = params->act_min;
    cp.act_max = params->act_max;
    cp.flags = params->flags;
    cols = (int32_t *)ctx->buf;
    for (b = 0; b + 2 <= batches; b += 2) {
        mcu_arm_expand_s8(input + (size_t)b * (size_t)depth, depth, 0, cols, 4, doubled);
        mcu_arm_expand_s8(input + (size_t)(b + 1) * (size_t)depth, depth, 0, cols + 2, 4, doubled);
        mcu_arm_mat_mult_2px(&cp, cols, steps, packed, units, output + (size_t)b * (size_t)units,
                             output + (size_t)(b + 1) * (size_t)units);
    }
    if (b < batches) {
        mcu_arm_expand_s8(input + (size_t)b * (size_t)depth, depth, 0, cols, 2, doubled);
        mcu_arm_mat_mult_1px(&cp, cols, steps, packed, units, output + (size_t)b * (size_t)units);
    }
    return MCU_OK;
}
