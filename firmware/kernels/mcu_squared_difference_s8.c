/*
 * mcu_squared_difference_s8.c - SQUARED_DIFFERENCE, int8, with numpy broadcasting.
 *
 * Each input is shifted left by 7 bits and scaled to a common scale (twice the
 * larger input scale); the difference is squared in int32 (at most
 * (255 * 2^7)^2 < 2^31) and requantized to the output, as TFLM's
 * SquaredDifference for int8. With a scratch, each input's scaling is
 * tabulated for its 256 values first. Safe in place.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

typedef struct {
    mcu_squared_difference_params p;
    const int32_t *scaled1; /* input1's scaled value, indexed by value + 128 */
    const int32_t *scaled2;
} squared_difference_tables;

static inline int32_t scaled(int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift,
                             int8_t v)
{
    return mcu_mul_by_quantized_mult(mcu_wrap_shl(offset + v, left_shift), multiplier, shift);
}

static inline int8_t requantize(const mcu_squared_difference_params *p, int32_t s1, int32_t s2)
{
    const int32_t diff = mcu_wrap_sub(s1, s2);
    const int32_t square = (int32_t)((uint32_t)diff * (uint32_t)diff);
    const int32_t out = mcu_mul_by_quantized_mult(square, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    return (int8_t)mcu_clamp32(out, INT8_MIN, INT8_MAX);
}

static inline int8_t squared_difference_one(const mcu_squared_difference_params *p, int8_t a,
                                            int8_t b)
{
    return requantize(p,
                      scaled(p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift, a),
                      scaled(p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift, b));
}

static inline int8_t squared_difference_from_tables(const squared_difference_tables *t, int8_t a,
                                                    int8_t b)
{
    return requantize(&t->p, t->scaled1[(int32_t)a + 128], t->scaled2[(int32_t)b + 128]);
}

mcu_status mcu_squared_difference_s8(const mcu_context *ctx,
                                     const mcu_squared_difference_params *params,
                                     const mcu_broadcast *bc, const int8_t *input1,
                                     const int8_t *input2, int8_t *output)
{
    if (ctx != NULL && ctx->buf != NULL && ctx->size >= MCU_BINARY_TABLES_BYTES) {
        int32_t *buf = (int32_t *)ctx->buf;
        squared_difference_tables t;
        int32_t v;
        t.p = *params;
        for (v = 0; v < 256; ++v) {
            buf[v] = scaled(t.p.input1_offset, t.p.left_shift, t.p.input1_multiplier, t.p.input1_shift,
                            (int8_t)(v - 128));
            buf[256 + v] = scaled(t.p.input2_offset, t.p.left_shift, t.p.input2_multiplier,
                                  t.p.input2_shift, (int8_t)(v - 128));
        }
        t.scaled1 = buf;
        t.scaled2 = buf + 256;
        MCU_BROADCAST_BINARY(squared_difference_from_tables, &t, bc, input1, input2, output);
    } else {
        const mcu_squared_difference_params p = *params; /* a local copy: see MCU_BROADCAST_BINARY */
        MCU_BROADCAST_BINARY(squared_difference_one, &p, bc, input1, input2, output);
    }
    return MCU_OK;
}
