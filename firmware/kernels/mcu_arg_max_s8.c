/*
 * mcu_arg_max_s8.c - ARG_MAX along one axis, int8 in, int32 indices out.
 *
 * The input is [outer, axis_size, inner]; each output element is the first
 * index along the axis holding the largest value (a later equal value does
 * not replace it, as TFLM's reference ArgMinMax with std::greater).
 */
#include "mcu_kernels.h"

mcu_status mcu_arg_max_s8(int32_t outer, int32_t axis_size, int32_t inner, const int8_t *input,
                          int32_t *output)
{
    int32_t o, k, i;
    if (axis_size <= 0) {
        return MCU_ERROR_ARGUMENT;
    }
    for (o = 0; o < outer; ++o) {
        const int8_t *base = input + (size_t)o * (size_t)axis_size * (size_t)inner;
        for (i = 0; i < inner; ++i) {
            int8_t best = base[i];
            int32_t best_index = 0;
            for (k = 1; k < axis_size; ++k) {
                const int8_t v = base[(size_t)k * (size_t)inner + (size_t)i];
                if (v > best) {
                    best = v;
                    best_index = k;
                }
            }
            output[(size_t)o * (size_t)inner + (size_t)i] = best_index;
        }
    }
    return MCU_OK;
}
