/*
 * mcu_add_s8_arm.c - ADD, int8, both inputs of the output's shape, Cortex-M7.
 *
 * TFLM rescales each input with its own MultiplyByQuantizedMultiplier of
 * (v + offset) << 20: a function of one int8, so the code generator tabulates
 * it (256 entries per input, doubled for the fast requantization), and the
 * kernel does two table loads, an add and the fast output requantization per
 * element. Element i is written after inputs i are read: safe in place.
 *
 * params->table1/table2 and mult/add/shift: mcugen.lower.arm (variant "add").
 */
#include "mcu_arm_kernels.h"

mcu_status mcu_add_s8_arm(const mcu_arm_add_params *params, int32_t size, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    /* index the tables from -128: t[v] for v in [-128, 127] */
    const int32_t *const t1 = params->table1 + 128;
    const int32_t *const t2 = params->table2 + 128;
    const int32_t act_min = params->act_min, act_max = params->act_max;
    int32_t i;
    if (params->flags & MCU_ARM_REQUANT_EXACT) {
        for (i = 0; i < size; ++i) {
            const int32_t sum = (t1[input1[i]] + t2[input2[i]]) >> 1;
            const int32_t v = mcu_mul_by_quantized_mult(sum, params->mult, params->shift) + params->output_offset;
            output[i] = (int8_t)mcu_clamp32(v, act_min, act_max);
        }
        return MCU_OK;
    }
    {
        const int32_t mult = params->mult, add = params->add, shift = params->shift;
        if (act_min > -128 || act_max < 127) {
            for (i = 0; i < size; ++i) {
                const int32_t v = mcu_arm_requant_fast(t1[input1[i]] + t2[input2[i]], mult, add, shift);
                output[i] = (int8_t)mcu_clamp32(v, act_min, act_max);
            }
        } else {
            for (i = 0; i < size; ++i) {
                output[i] = (int8_t)mcu_arm_requant_fast(t1[input1[i]] + t2[input2[i]], mult, add, shift);
            }
        }
    }
    return MCU_OK;
}
