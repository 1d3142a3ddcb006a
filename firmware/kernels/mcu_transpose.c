/*
 * mcu_transpose.c - TRANSPOSE of 1-, 2- or 4-byte elements, up to 6
 * dimensions: output element (o0..o5) is input element sum(o_k * in_stride[k]);
 * a last axis with input stride 1 is copied as one run.
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_transpose(const mcu_transpose_params *p, int32_t element_bytes,
                         const void *input, void *output)
{
    const int32_t *d = p->out_dims;
    const int32_t *s = p->in_stride;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    int32_t i0, i1, i2, i3, i4, i5;
    size_t o = 0;
    if (element_bytes != 1 && element_bytes != 2 && element_bytes != 4) {
        return MCU_ERROR_ARGUMENT;
    }
    for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
    for (i2 = 0; i2 < d[2]; ++i2)
    for (i3 = 0; i3 < d[3]; ++i3)
    for (i4 = 0; i4 < d[4]; ++i4) {
        const size_t base = (size_t)i0 * (size_t)s[0] + (size_t)i1 * (size_t)s[1] + (size_t)i2 * (size_t)s[2] +
                            (size_t)i3 * (size_t)s[3] + (size_t)i4 * (size_t)s[4];
        if (s[5] == 1) { /* the last axis stays last (DEPTH_TO_SPACE, SPACE_TO_DEPTH): one run */
            const size_t run = (size_t)d[5] * (size_t)element_bytes;
            memcpy(out + o, in + base * (size_t)element_bytes, run);
            o += run;
            continue;
        }
        for (i5 = 0; i5 < d[5]; ++i5) {
            const size_t src = (base + (size_t)i5 * (size_t)s[5]) * (size_t)element_bytes;
            memcpy(out + o, in + src, (size_t)element_bytes);
            o += (size_t)element_bytes;
        }
    }
    return MCU_OK;
}
