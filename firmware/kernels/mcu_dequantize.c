/*
 * mcu_dequantize.c - DEQUANTIZE int8/uint8/int16 -> float32:
 * (float)((double)scale * (q - zero_point)), as TFLM's reference Dequantize
 * (the product is formed in double precision).
 */
#include "mcu_kernels.h"

#define MCU_DEFINE_DEQUANTIZE(NAME, IN_T)                                                     \
    mcu_status NAME(float scale, int32_t zero_point, int32_t size, const IN_T *input,         \
                    float *output)                                                            \
    {                                                                                         \
        const double s = (double)scale;                                                       \
        int32_t i;                                                                            \
        for (i = 0; i < size; ++i) {                                                          \
            output[i] = (float)(s * (double)((int32_t)input[i] - zero_point));                \
        }                                                                                     \
        return MCU_OK;                                                                        \
    }

MCU_DEFINE_DEQUANTIZE(mcu_dequantize_s8_f32, int8_t)
MCU_DEFINE_DEQUANTIZE(mcu_dequantize_u8_f32, uint8_t)
MCU_DEFINE_DEQUANTIZE(mcu_dequantize_s16_f32, int16_t)
