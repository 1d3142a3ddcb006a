/*
 * mcu_tanh_s16.c - TANH, int16 in and out (output scale 2^-15, zero points 0).
 *
 * As TFLM's int16 Tanh, through the sigmoid table: tanh(x) = 2 sigmoid(2x) - 1, so the
 * index takes the bits from 8 up of the rescaled |x| and the fraction 8 bits; the result
 * is re-centred around 0, mirrored for negative inputs and brought back to Q0.15. Safe in
 * place.
 */
#include "mcu_kernels.h"

mcu_status mcu_tanh_s16(const mcu_sigmoid_s16_params *params, int32_t size, const int16_t *input,
                        int16_t *output)
{
    int32_t mult = params->input_multiplier;
    int32_t shift = params->input_left_shift;
    const uint16_t *table = params->sigmoid_table;
    int32_t round, i;
    if (mult == 0) { /* a power-of-two input scale */
        mult = 3 << shift;
        shift = 0;
    }
    round = shift > 0 ? 1 << (shift - 1) : 0;
    for (i = 0; i < size; ++i) {
        const int32_t x = ((int32_t)input[i] * mult + round) >> shift;
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = ax >> 8;
        int32_t result;
        if (uh >= 255u) {
            result = 0xFFFF << 8;
        } else {
            const uint32_t ua = table[uh];
            const uint32_t ub = table[uh + 1u];
            result = (int32_t)((ua << 8) + (ax & 0xFFu) * (ub - ua));
        }
        result = x >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(result >> 8);
    }
    return MCU_OK;
}
