/*
 * mcu_mul_s8.c - MUL, int8, with numpy broadcasting (e.g. squeeze-and-excite
 * [1,H,W,C] * [1,1,1,C]).
 *
 * out = requant((a + input1_offset) * (b + input2_offset)) + output_offset,
 * clamped, as TFLM's reference integer Mul. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t mul_one(const mcu_mul_params *p, int8_t a, int8_t b)
{
    const int32_t prod = (p->input1_offset + a) * (p->input2_offset + b);
    const int32_t out = p->output_offset +
                        mcu_mul_by_quantized_mult(prod, p->output_multiplier, p->output_shift);
    return (int8_t)mcu_clamp32(out, p->act_min, p->act_max);
}

mcu_status mcu_mul_s8(const mcu_mul_params *params, int32_t size, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    const mcu_mul_params p = *params; /* a local copy: output stores cannot alias it */
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = mul_one(&p, input1[i], input2[i]);
    }
    return MCU_OK;
}

mcu_status mcu_mul_broadcast_s8(const mcu_mul_params *params, const mcu_broadcast *bc,
                                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const mcu_mul_params p = *params; /* a local copy: see MCU_BROADCAST_BINARY */
    MCU_BROADCAST_BINARY(mul_one, &p, bc, input1, input2, output);
    return MCU_OK;
}
