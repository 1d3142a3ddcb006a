/*
 * mcu_batch_matmul_s8.c - BATCH_MATMUL, int8 operands and output, per-tensor
 * requantization, batch dimensions broadcast (up to three of them, numpy's rules).
 *
 * As TFLM's int8 BatchMatMul: out[b, m, n] = requantize(sum_k (lhs[b, m, k] + lhs_offset) *
 * (rhs[b, k, n] + rhs_offset)) + output_offset, clamped to int8. TFLM first transposes
 * the operands it needs in row-major form into persistent buffers (rhs unless adj_y, lhs
 * if adj_x); the products and their int32 sums are the same whatever the layout, so this
 * kernel reads both operands in place through their strides (adj_x / adj_y only change
 * the strides) and needs neither a copy nor scratch.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

mcu_status mcu_batch_matmul_s8(const mcu_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                               int8_t *output)
{
    int32_t b0, b1, b2, m, n, k;
    int8_t *out = output;
    if (p->rows <= 0 || p->cols <= 0 || p->depth <= 0) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b0 = 0; b0 < p->batch[0]; ++b0) {
        for (b1 = 0; b1 < p->batch[1]; ++b1) {
            for (b2 = 0; b2 < p->batch[2]; ++b2) {
                const int8_t *l = lhs + (size_t)(b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1] +
                                                 b2 * p->lhs_batch_stride[2]);
                const int8_t *r = rhs + (size_t)(b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1] +
                                                 b2 * p->rhs_batch_stride[2]);
                for (m = 0; m < p->rows; ++m) {
                    const int8_t *l_row = l + (size_t)(m * p->lhs_row_stride);
                    for (n = 0; n < p->cols; ++n) {
                        const int8_t *r_col = r + (size_t)(n * p->rhs_col_stride);
                        int32_t acc = 0;
                        for (k = 0; k < p->depth; ++k) {
                            acc += ((int32_t)l_row[k * p->lhs_depth_stride] + p->lhs_offset) *
                                   ((int32_t)r_col[k * p->rhs_depth_stride] + p->rhs_offset);
                        }
                        acc = mcu_mul_by_quantized_mult(acc, p->multiplier, p->shift) + p->output_offset;
                        *out++ = (int8_t)mcu_clamp32(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return MCU_OK;
}
