/*
 * mcu_copy_tile.c - moves a rectangle of rows between two row-major buffers of
 * different row pitch: a patch of a feature map into a tile buffer and back
 * (patch-based inference, mcugen --patch). Rows are copied in ascending order
 * so that the planner's read-before-write proof holds.
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_copy_tile(const int8_t *src, int32_t src_pitch, int8_t *dst, int32_t dst_pitch,
                         int32_t rows, int32_t row_bytes)
{
    int32_t r;
    if (rows < 0 || row_bytes < 0) {
        return MCU_ERROR_ARGUMENT;
    }
    for (r = 0; r < rows; ++r) {
        memcpy(dst + (size_t)r * (size_t)dst_pitch, src + (size_t)r * (size_t)src_pitch, (size_t)row_bytes);
    }
    return MCU_OK;
}
