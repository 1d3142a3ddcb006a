/*
 * mcu_minimum_s8.c - MINIMUM, int8, with numpy broadcasting.
 *
 * The smaller of the two raw int8 values: TFLM compares the quantized values
 * as they are (the converter gives both inputs and the output one
 * quantization), so no requantization happens. Safe in place.
 */
#include "mcu_kernels.h"

static inline int8_t minimum_one(const void *unused, int8_t a, int8_t b)
{
    (void)unused;
    return a < b ? a : b;
}

mcu_status mcu_minimum_s8(const mcu_broadcast *bc, const int8_t *input1, const int8_t *input2,
                        int8_t *output)
{
    MCU_BROADCAST_BINARY(minimum_one, NULL, bc, input1, input2, output);
    return MCU_OK;
}
