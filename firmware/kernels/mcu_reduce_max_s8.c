/*
 * mcu_reduce_max_s8.c - REDUCE_MAX over any set of axes, int8, keep_dims or
 * not (the output layout is the same either way).
 *
 * The largest raw value per output element: TFLM requires the input and the
 * output to share one quantization, so no requantization happens. The output
 * itself holds the running maximum (no scratch).
 */
#include "mcu_kernels.h"

mcu_status mcu_reduce_max_s8(const mcu_reduce_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *d = p->dims;
    const int32_t *s = p->out_stride;
    int32_t i0, i1, i2, i3, i4, i5, i;
    size_t in = 0;
    for (i = 0; i < p->output_size; ++i) {
        output[i] = INT8_MIN;
    }
    for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
    for (i2 = 0; i2 < d[2]; ++i2)
    for (i3 = 0; i3 < d[3]; ++i3)
    for (i4 = 0; i4 < d[4]; ++i4) {
        const size_t o = (size_t)i0 * (size_t)s[0] + (size_t)i1 * (size_t)s[1] + (size_t)i2 * (size_t)s[2] +
                         (size_t)i3 * (size_t)s[3] + (size_t)i4 * (size_t)s[4];
        for (i5 = 0; i5 < d[5]; ++i5) {
            int8_t *m = &output[o + (size_t)i5 * (size_t)s[5]];
            const int8_t v = input[in++];
            if (v > *m) {
                *m = v;
            }
        }
    }
    return MCU_OK;
}
