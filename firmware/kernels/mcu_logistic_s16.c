/*
 * mcu_logistic_s16.c - LOGISTIC, int16 in and out (output scale 2^-15, zero points 0).
 *
 * As TFLM's int16 Logistic: the input times input_multiplier, rounding right shift (the
 * table's input step is 1/24 in units of 2^-9), |x| split into a table index (bits 9 and
 * up) and a 9-bit interpolation fraction, the result mirrored for negative inputs
 * (sigmoid(-x) = 1 - sigmoid(x)) and brought back to Q0.15. Safe in place.
 */
#include "mcu_kernels.h"

mcu_status mcu_logistic_s16(const mcu_sigmoid_s16_params *params, int32_t size, const int16_t *input,
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
        const uint32_t uh = ax >> 9;
        uint32_t result;
        if (uh >= 255u) {
            result = 0x7FFFu << 10;
        } else {
            const uint32_t ua = table[uh];
            const uint32_t ub = table[uh + 1u];
            result = (ua << 9) + (ax & 0x1FFu) * (ub - ua);
        }
        result = x >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
        output[i] = (int16_t)(result >> 10);
    }
    return MCU_OK;
}
