/*
 * mcu_split.c - SPLIT, SPLIT_V and UNPACK of any element type along any axis:
 * the inverse of mcu_concat. For each of `outer` rows (the dims before the axis),
 * output i in turn takes the next copy_bytes[i] bytes of the input.
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_split(int32_t num_outputs, void *const *outputs, const int32_t *copy_bytes,
                     int32_t outer, const void *input)
{
    const uint8_t *in = (const uint8_t *)input;
    int32_t row, i;
    for (row = 0; row < outer; ++row) {
        for (i = 0; i < num_outputs; ++i) {
            uint8_t *dst = (uint8_t *)outputs[i] + (size_t)row * (size_t)copy_bytes[i];
            memcpy(dst, in, (size_t)copy_bytes[i]);
            in += copy_bytes[i];
        }
    }
    return MCU_OK;
}
