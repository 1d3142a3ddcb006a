/*
 * mcu_hard_swish_s8.c - HARD_SWISH, int8: x * relu6(x + 3) / 6.
 *
 * 16-bit fixed point as TFLM's reference HardSwish: the input on a 2^7 finer
 * scale, a "relu-ish" factor in [0, 1] from a saturating rescale of [-3, 3],
 * multiplied (rounding toward zero) with the input on the output scale.
 * Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_hard_swish_s8(const mcu_hard_swish_params *p, int32_t size,
                             const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int16_t in_value = (int16_t)((int32_t)input[i] - p->input_zero_point);
        const int16_t in_hires = (int16_t)(in_value * (1 << 7));
        const int16_t in_on_preshift_output_scale = mcu_srdhm16(in_hires, p->output_multiplier);
        int16_t reluish = in_hires;
        int16_t preshift_output, out_value;
        if (p->reluish_multiplier_exponent > 0) {
            reluish = mcu_sat_shl16(reluish, (int)p->reluish_multiplier_exponent - 1);
        }
        reluish = mcu_srdhm16(reluish, p->reluish_multiplier);
        if (p->reluish_multiplier_exponent > 0) {
            reluish = mcu_sat_shl16(reluish, 1);
        }
        if (p->reluish_multiplier_exponent < 0) {
            reluish = mcu_rdbpot16(reluish, (int)-p->reluish_multiplier_exponent);
        }
        /* [-1, 1] -> [0, 1] */
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
        preshift_output = mcu_sdhm16(reluish, in_on_preshift_output_scale);
        out_value = mcu_rdbpot16(preshift_output, (int)-p->output_multiplier_exponent);
        out_value = (int16_t)(out_value + p->output_zero_point);
        output[i] = (int8_t)mcu_clamp32(out_value, INT8_MIN, INT8_MAX);
    }
    return MCU_OK;
}
