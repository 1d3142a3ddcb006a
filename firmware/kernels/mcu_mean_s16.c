/*
 * mcu_mean_s16.c - MEAN over any set of axes, int16 (16x8), keep_dims or not (the
 * output layout is the same either way).
 *
 * Sums each output's inputs into an int32 accumulator (scratch), then
 * requantizes sum - input_zero_point * n with the multiplier that already
 * includes 1/n, as TFLM's reference QuantizedMeanOrSum.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

int32_t mcu_mean_s16_get_buffer_size(int32_t output_size)
{
    return output_size * (int32_t)sizeof(int32_t);
}

mcu_status mcu_mean_s16(const mcu_context *ctx, const mcu_mean_params *p, const int16_t *input,
                       int16_t *output)
{
    int32_t *acc;
    const int32_t *d = p->dims;
    const int32_t *s = p->out_stride;
    int32_t i0, i1, i2, i3, i4, i5, i;
    size_t in = 0;
    if (ctx == NULL || ctx->buf == NULL || ctx->size < mcu_mean_s16_get_buffer_size(p->output_size)) {
        return MCU_ERROR_ARGUMENT;
    }
    acc = (int32_t *)ctx->buf;
    for (i = 0; i < p->output_size; ++i) {
        acc[i] = 0;
    }
    for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
    for (i2 = 0; i2 < d[2]; ++i2)
    for (i3 = 0; i3 < d[3]; ++i3)
    for (i4 = 0; i4 < d[4]; ++i4) {
        const size_t o = (size_t)i0 * (size_t)s[0] + (size_t)i1 * (size_t)s[1] + (size_t)i2 * (size_t)s[2] +
                         (size_t)i3 * (size_t)s[3] + (size_t)i4 * (size_t)s[4];
        for (i5 = 0; i5 < d[5]; ++i5) {
            int32_t *a = &acc[o + (size_t)i5 * (size_t)s[5]];
            *a = mcu_wrap_add(*a, input[in++]);
        }
    }
    for (i = 0; i < p->output_size; ++i) {
        const int32_t shifted = mcu_wrap_sub(acc[i], p->input_zero_point * p->num_reduced);
        const int32_t out = mcu_mul_by_quantized_mult(shifted, p->multiplier, p->shift) +
                            p->output_zero_point;
        output[i] = (int16_t)mcu_clamp32(out, INT16_MIN, INT16_MAX);
    }
    return MCU_OK;
}
