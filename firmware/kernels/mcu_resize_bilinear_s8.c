/*
 * mcu_resize_bilinear_s8.c - RESIZE_BILINEAR for int8 on NHWC, TFLM's integer
 * arithmetic (ResizeBilinearInteger): source positions in 1/1024ths of a pixel,
 * the four neighbours weighted in 1/2^20ths, rounded half away from zero. Raw
 * values are interpolated: input and output share one quantization.
 */
#include "mcu_kernels.h"

/* position (in 1/1024 px), lower and upper neighbour of output coordinate `value` */
static void mcu_resize_source(int32_t value, int32_t scale_10, int32_t half_pixel, int32_t size,
                              int32_t *scaled, int32_t *lower, int32_t *upper)
{
    int32_t lo, hi;
    if (half_pixel) {
        *scaled = value * scale_10 + scale_10 / 2 - (1 << 9);
    } else {
        *scaled = value * scale_10;
    }
    /* C99 division truncates toward zero, as TFLM's C++ does */
    lo = *scaled / (1 << 10);
    hi = (*scaled + (1 << 10) - 1) / (1 << 10);
    *lower = lo > 0 ? lo : 0;
    *upper = hi < size - 1 ? hi : size - 1;
}

mcu_status mcu_resize_bilinear_s8(const mcu_resize_params *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth;
    const size_t row = (size_t)p->input_width * (size_t)depth;
    int32_t b, y, x, c;
    int8_t *out = output;
    if (p->element_bytes != 1) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->input_height * row;
        for (y = 0; y < p->output_height; ++y) {
            int32_t in_y, y0, y1;
            mcu_resize_source(y, p->height_scale_10, p->half_pixel_centers, p->input_height, &in_y, &y0, &y1);
            for (x = 0; x < p->output_width; ++x) {
                int32_t in_x, x0, x1;
                mcu_resize_source(x, p->width_scale_10, p->half_pixel_centers, p->input_width, &in_x, &x0, &x1);
                {
                    /* The weights of the four neighbours, in 1/2^20ths. int32 holds every sum:
                     * each weight factor is below 2048 (1024 - d with d > -1024 at a clamped
                     * edge), so |sum| < 4 * 128 * 2047^2 + 2^19 < 2^31. */
                    const int32_t dy = in_y - (1 << 10) * y0;
                    const int32_t dx = in_x - (1 << 10) * x0;
                    const int32_t w00 = ((1 << 10) - dy) * ((1 << 10) - dx);
                    const int32_t w10 = dy * ((1 << 10) - dx);
                    const int32_t w01 = ((1 << 10) - dy) * dx;
                    const int32_t w11 = dy * dx;
                    const int8_t *p00 = image + (size_t)y0 * row + (size_t)x0 * (size_t)depth;
                    const int8_t *p10 = image + (size_t)y1 * row + (size_t)x0 * (size_t)depth;
                    const int8_t *p01 = image + (size_t)y0 * row + (size_t)x1 * (size_t)depth;
                    const int8_t *p11 = image + (size_t)y1 * row + (size_t)x1 * (size_t)depth;
                    for (c = 0; c < depth; ++c) {
                        const int32_t sum = p00[c] * w00 + p10[c] * w10 + p01[c] * w01 + p11[c] * w11;
                        const int32_t round = sum > 0 ? (1 << 19) : -(1 << 19);
                        *out++ = (int8_t)((sum + round) / (1 << 20));
                    }
                }
            }
        }
    }
    return MCU_OK;
}
