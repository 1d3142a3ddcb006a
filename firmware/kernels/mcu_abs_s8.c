/*
 * mcu_abs_s8.c - ABS, int8.
 *
 * |input - input zero point|, requantized to the output scale only when the
 * two scales differ, plus the output zero point, clamped, as TFLM's quantized
 * Abs. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_abs_s8(const mcu_abs_params *params, int32_t size, const int8_t *input,
                      int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t d = (int32_t)input[i] - params->input_zero_point;
        const int32_t value = d < 0 ? -d : d;
        const int32_t scaled = params->needs_rescale
                                   ? mcu_mul_by_quantized_mult(value, params->multiplier,
                                                               params->shift)
                                   : value;
        output[i] = (int8_t)mcu_clamp32(scaled + params->output_zero_point, INT8_MIN, INT8_MAX);
    }
    return MCU_OK;
}
