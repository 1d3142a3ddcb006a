/*
 * mcu_fully_connected_s8.c - FULLY_CONNECTED, int8, int32 bias.
 *
 * out[b][u] = requant(sum_d (filter[u][d] + filter_offset) * (input[b][d] + input_offset)
 *                     + bias[u]) + output_offset, clamped; as TFLM's reference
 * FullyConnected / FullyConnectedPerChannel (one multiplier per unit; a
 * per-tensor layer repeats its value).
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

int32_t mcu_fully_connected_s8_get_buffer_size(const mcu_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}

mcu_status mcu_fully_connected_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                  const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                  const int8_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const mcu_dims *bias_dims,
                                  const int32_t *bias, const mcu_dims *output_dims,
                                  int8_t *output)
{
    const int32_t batches = output_dims->n;
    const int32_t units = output_dims->c;
    const int32_t depth = filter_dims->c;
    int32_t b, u, d;
    (void)ctx;
    (void)bias_dims;
    if (input_dims->c != depth || filter_dims->n < units) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b = 0; b < batches; ++b) {
        const int8_t *in = input + (size_t)b * (size_t)depth;
        for (u = 0; u < units; ++u) {
            const int8_t *w = filter + (size_t)u * (size_t)depth;
            int32_t acc = 0;
            for (d = 0; d < depth; ++d) {
                acc += ((int32_t)w[d] + params->filter_offset) * ((int32_t)in[d] + params->input_offset);
            }
            if (bias != NULL) {
                acc += bias[u];
            }
            acc = mcu_mul_by_quantized_mult(acc, quant->multiplier[u], quant->shift[u]);
            acc += params->output_offset;
            output[(size_t)b * (size_t)units + (size_t)u] = (int8_t)mcu_clamp32(acc, params->act_min, params->act_max);
        }
    }
    return MCU_OK;
}
