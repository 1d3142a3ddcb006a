/*
 * mcu_prelu_s8.c - PRELU, int8, alpha broadcast against the input.
 *
 * A non-negative input is requantized by input scale / output scale; a
 * negative one is multiplied by its (zero-point corrected) alpha first and
 * requantized by input scale * alpha scale / output scale, as TFLM's
 * reference BroadcastPrelu4DSlow. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int8_t prelu_one(const mcu_prelu_params *p, int8_t x, int8_t alpha)
{
    const int32_t in = p->input_offset + x;
    int32_t out;
    if (in >= 0) {
        out = mcu_mul_by_quantized_mult(in, p->multiplier_1, p->shift_1);
    } else {
        out = mcu_mul_by_quantized_mult(in * (p->alpha_offset + alpha), p->multiplier_2,
                                        p->shift_2);
    }
    return (int8_t)mcu_clamp32(out + p->output_offset, INT8_MIN, INT8_MAX);
}

mcu_status mcu_prelu_s8(const mcu_prelu_params *params, const mcu_broadcast *bc,
                        const int8_t *input, const int8_t *alpha, int8_t *output)
{
    const mcu_prelu_params p = *params; /* a local copy: see MCU_BROADCAST_BINARY */
    MCU_BROADCAST_BINARY(prelu_one, &p, bc, input, alpha, output);
    return MCU_OK;
}
