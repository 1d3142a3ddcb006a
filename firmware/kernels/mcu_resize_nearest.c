/*
 * mcu_resize_nearest.c - RESIZE_NEAREST_NEIGHBOR of any element type on NHWC.
 * Which input row and column each output row and column takes depends on TFLM's
 * float arithmetic (align_corners, half_pixel_centers); the generator computes those
 * tables with the same float32 operations, so the target needs no float here.
 */
#include <string.h>

#include "mcu_kernels.h"

mcu_status mcu_resize_nearest(const mcu_resize_params *p, const int32_t *y_index,
                              const int32_t *x_index, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t pixel = (size_t)p->depth * (size_t)p->element_bytes;
    const size_t row = (size_t)p->input_width * pixel;
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        const uint8_t *image = in + (size_t)b * (size_t)p->input_height * row;
        for (y = 0; y < p->output_height; ++y) {
            const uint8_t *src_row = image + (size_t)y_index[y] * row;
            for (x = 0; x < p->output_width; ++x) {
                memcpy(out, src_row + (size_t)x_index[x] * pixel, pixel);
                out += pixel;
            }
        }
    }
    return MCU_OK;
}
