/*
 * mcu_gather.c - GATHER of any element type with int32 positions (TFLM's only
 * position type): for each batch and outer row, the rows of `inner_bytes` bytes that
 * the positions pick along the axis. A position outside [0, axis_size) is refused
 * (TFLM only checks it in debug builds; reading past the input is never right).
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_gather(const mcu_gather_params *p, const int32_t *positions, const void *input,
                      void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t inner = (size_t)p->inner_bytes;
    int32_t b, o, c;
    for (c = 0; c < p->batch_size * p->coord_size; ++c) {
        if (positions[c] < 0 || positions[c] >= p->axis_size) {
            return MCU_ERROR_ARGUMENT;
        }
    }
    for (b = 0; b < p->batch_size; ++b) {
        for (o = 0; o < p->outer_size; ++o) {
            const size_t row = (size_t)b * (size_t)p->outer_size + (size_t)o;
            for (c = 0; c < p->coord_size; ++c) {
                const size_t pos = (size_t)positions[(size_t)b * (size_t)p->coord_size + (size_t)c];
                memcpy(out, in + (row * (size_t)p->axis_size + pos) * inner, inner);
                out += inner;
            }
        }
    }
    return MCU_OK;
}
