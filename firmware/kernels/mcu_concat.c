/*
 * mcu_concat.c - CONCATENATION of any element type along any axis: for each
 * of `outer` rows (the dims before the axis), each input's slice in turn.
 * Inputs and output share one quantization (TFLM requires it).
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_concat(int32_t num_inputs, const void *const *inputs, const int32_t *copy_bytes,
                      int32_t outer, void *output)
{
    uint8_t *out = (uint8_t *)output;
    int32_t row, i;
    for (row = 0; row < outer; ++row) {
        for (i = 0; i < num_inputs; ++i) {
            const uint8_t *src = (const uint8_t *)inputs[i] + (size_t)row * (size_t)copy_bytes[i];
            memcpy(out, src, (size_t)copy_bytes[i]);
            out += copy_bytes[i];
        }
    }
    return MCU_OK;
}
