/*
 * mcu_fully_connected_s16.c - FULLY_CONNECTED, 16x8: int16 input and output, int8
 * weights [units, depth], int64 bias.
 *
 * As TFLM's reference FullyConnected / FullyConnectedPerChannel for int16 with an int64
 * bias: (weight + filter_offset) * (input + input_offset) summed in 64 bits, the bias,
 * mcu_mul_by_quantized_mult64, + output_offset, clamped (one multiplier per unit).
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_fully_connected_s16(const mcu_fc_params *params, const mcu_per_channel_quant *quant,
                                   const mcu_dims *input_dims, const int16_t *input,
                                   const mcu_dims *filter_dims, const int8_t *filter,
                                   const int64_t *bias, const mcu_dims *output_dims,
                                   int16_t *output)
{
    const int32_t batches = output_dims->n;
    const int32_t units = output_dims->c;
    const int32_t depth = filter_dims->c;
    int32_t b, u, d;
    if (input_dims->c != depth || filter_dims->n < units) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b = 0; b < batches; ++b) {
        const int16_t *in = input + (size_t)b * (size_t)depth;
        for (u = 0; u < units; ++u) {
            const int8_t *w = filter + (size_t)u * (size_t)depth;
            int64_t acc = 0;
            int32_t scaled, d0 = 0;
            while (d0 < depth) { /* exact 32-bit partial sums, as in mcu_conv2d_s16.c */
                const int32_t d1 = depth - d0 > MCU_S16_EXACT_TERMS ? d0 + MCU_S16_EXACT_TERMS : depth;
                int32_t part = 0;
                for (d = d0; d < d1; ++d) {
                    part += ((int32_t)w[d] + params->filter_offset) * ((int32_t)in[d] + params->input_offset);
                }
                acc += part;
                d0 = d1;
            }
            if (bias != NULL) {
                acc += bias[u];
            }
            scaled = mcu_mul_by_quantized_mult64(acc, quant->multiplier[u], quant->shift[u]) + params->output_offset;
            output[(size_t)b * (size_t)units + (size_t)u] = (int16_t)mcu_clamp32(scaled, params->act_min, params->act_max);
        }
    }
    return MCU_OK;
}
