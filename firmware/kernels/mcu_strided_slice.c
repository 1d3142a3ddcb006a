/*
 * mcu_strided_slice.c - SLICE and STRIDED_SLICE of 1-, 2- or 4-byte elements, up
 * to 6 dimensions. Begin, end, masks and strides are resolved at generation time
 * into the first input element and one signed step per output dimension, so output
 * element (o0..o5) is input element start + sum(o_k * step[k]); a step may be
 * negative (reversed slices). Rows with a unit step are copied whole.
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_strided_slice(const mcu_strided_slice_params *p, int32_t element_bytes,
                             const void *input, void *output)
{
    const int32_t *d = p->out_dims;
    const int32_t *s = p->step;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t elem = (size_t)element_bytes;
    int32_t i0, i1, i2, i3, i4, i5;
    if (element_bytes != 1 && element_bytes != 2 && element_bytes != 4) {
        return MCU_ERROR_ARGUMENT;
    }
    for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
    for (i2 = 0; i2 < d[2]; ++i2)
    for (i3 = 0; i3 < d[3]; ++i3)
    for (i4 = 0; i4 < d[4]; ++i4) {
        /* in range by construction: the generator checked every index against the input */
        const int32_t base = p->start + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4];
        if (s[5] == 1) {
            memcpy(out, in + (size_t)base * elem, (size_t)d[5] * elem);
            out += (size_t)d[5] * elem;
            continue;
        }
        for (i5 = 0; i5 < d[5]; ++i5) {
            memcpy(out, in + (size_t)(base + i5 * s[5]) * elem, elem);
            out += elem;
        }
    }
    return MCU_OK;
}
