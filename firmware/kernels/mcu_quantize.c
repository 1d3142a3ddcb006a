/*
 * mcu_quantize.c - QUANTIZE: float -> int8/int16 (round half away from zero,
 * as TFLM's AffineQuantize) and integer requantization between int8, uint8,
 * int16 and int32 (TFLM's Requantize: subtract the input zero point, multiply
 * by in_scale/out_scale, add the output zero point, clamp). Safe in place
 * when input and output elements have the same size.
 */
#include <math.h>

#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

static inline int32_t quantize_one(float value, float scale, int32_t zero_point, int32_t lo, int32_t hi)
{
    const float r = roundf(value / scale);
    int32_t q;
    /* Clamp in float first: converting an out-of-range float to int is undefined in C. */
    if (r >= 2147483520.0f) {
        q = MCU_INT32_MAX;
    } else if (r <= -2147483648.0f) {
        q = MCU_INT32_MIN;
    } else {
        q = (int32_t)r;
    }
    return mcu_clamp32(mcu_wrap_add(q, zero_point), lo, hi);
}

mcu_status mcu_quantize_f32_s8(float scale, int32_t zero_point, int32_t size,
                               const float *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = (int8_t)quantize_one(input[i], scale, zero_point, INT8_MIN, INT8_MAX);
    }
    return MCU_OK;
}

mcu_status mcu_quantize_f32_s16(float scale, int32_t zero_point, int32_t size,
                                const float *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = (int16_t)quantize_one(input[i], scale, zero_point, INT16_MIN, INT16_MAX);
    }
    return MCU_OK;
}

#define MCU_DEFINE_REQUANTIZE(NAME, IN_T, OUT_T, OUT_MIN, OUT_MAX)                              \
    mcu_status NAME(const mcu_requantize_params *p, int32_t size, const IN_T *input,            \
                    OUT_T *output)                                                              \
    {                                                                                           \
        int32_t i;                                                                              \
        for (i = 0; i < size; ++i) {                                                            \
            const int32_t x = mcu_wrap_sub((int32_t)input[i], p->input_zero_point);             \
            const int32_t y = mcu_wrap_add(mcu_mul_by_quantized_mult(x, p->multiplier, p->shift), \
                                           p->output_zero_point);                               \
            output[i] = (OUT_T)mcu_clamp32(y, OUT_MIN, OUT_MAX);                                \
        }                                                                                       \
        return MCU_OK;                                                                          \
    }

MCU_DEFINE_REQUANTIZE(mcu_requantize_s8_s8, int8_t, int8_t, INT8_MIN, INT8_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_u8_s8, uint8_t, int8_t, INT8_MIN, INT8_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s8_u8, int8_t, uint8_t, 0, UINT8_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s16_s8, int16_t, int8_t, INT8_MIN, INT8_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s8_s16, int8_t, int16_t, INT16_MIN, INT16_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s16_s16, int16_t, int16_t, INT16_MIN, INT16_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s8_s32, int8_t, int32_t, MCU_INT32_MIN, MCU_INT32_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s16_s32, int16_t, int32_t, MCU_INT32_MIN, MCU_INT32_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s32_s8, int32_t, int8_t, INT8_MIN, INT8_MAX)
MCU_DEFINE_REQUANTIZE(mcu_requantize_s32_s16, int32_t, int16_t, INT16_MIN, INT16_MAX)
