/*
 * mcu_pad_s8.c - PAD / PADV2 for 8-bit elements, up to 6 dimensions: the
 * output is the input surrounded by pad_value (the output zero point for PAD).
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_pad_s8(const mcu_pad_params *p, int8_t pad_value, const int8_t *input,
                      int8_t *output)
{
    int32_t od[MCU_MAX_DIMS];
    size_t ostride[MCU_MAX_DIMS];
    int32_t k, i0, i1, i2, i3, i4;
    size_t total = 1, in = 0;
    for (k = MCU_MAX_DIMS - 1; k >= 0; --k) {
        od[k] = p->dims[k] + p->before[k] + p->after[k];
        ostride[k] = total;
        total *= (size_t)od[k];
    }
    memset(output, pad_value, total);
    for (i0 = 0; i0 < p->dims[0]; ++i0)
    for (i1 = 0; i1 < p->dims[1]; ++i1)
    for (i2 = 0; i2 < p->dims[2]; ++i2)
    for (i3 = 0; i3 < p->dims[3]; ++i3)
    for (i4 = 0; i4 < p->dims[4]; ++i4) {
        const size_t o = (size_t)(i0 + p->before[0]) * ostride[0] + (size_t)(i1 + p->before[1]) * ostride[1] +
                         (size_t)(i2 + p->before[2]) * ostride[2] + (size_t)(i3 + p->before[3]) * ostride[3] +
                         (size_t)(i4 + p->before[4]) * ostride[4] + (size_t)p->before[5];
        memcpy(output + o, input + in, (size_t)p->dims[5]);
        in += (size_t)p->dims[5];
    }
    return MCU_OK;
}
