/*
 * mcu_batch_matmul_s8_arm.c - BATCH_MATMUL on the Cortex-M7 for a lhs whose rows are
 * contiguous (no adj_x): each output element is a dot product of a lhs row with a rhs
 * column on SMLAD (mcu_arm_dot.h), two columns at a time. A rhs stored [depth, cols]
 * (no adj_y) has strided columns: each batch's rhs is first copied transposed into the
 * scratch (depth * cols bytes), as TFLM does into its own buffer. The portable kernel's
 * parameters and int32 sums: bit-exact with it and with TFLM.
 */
#include "mcu_arm_dot.h"
#include "mcu_arm_kernels.h"

int32_t mcu_batch_matmul_s8_arm_get_buffer_size(const mcu_batch_matmul_params *p)
{
    return p->rhs_depth_stride == 1 ? 0 : p->depth * p->cols;
}

static int8_t requant(int32_t acc, const mcu_batch_matmul_params *p)
{
    acc = mcu_mul_by_quantized_mult(acc, p->multiplier, p->shift) + p->output_offset;
    return (int8_t)mcu_clamp32(acc, p->act_min, p->act_max);
}

mcu_status mcu_batch_matmul_s8_arm(const mcu_context *ctx, const mcu_batch_matmul_params *p, const int8_t *lhs,
                                   const int8_t *rhs, int8_t *output)
{
    const int32_t transpose = p->rhs_depth_stride != 1;
    int32_t b0, b1, b2, m, n, k;
    int8_t *out = output;
    if (p->rows <= 0 || p->cols <= 0 || p->depth <= 0 || p->lhs_depth_stride != 1) {
        return MCU_ERROR_ARGUMENT;
    }
    if (transpose && (ctx == NULL || ctx->buf == NULL || ctx->size < mcu_batch_matmul_s8_arm_get_buffer_size(p))) {
        return MCU_ERROR_ARGUMENT;
    }
    for (b0 = 0; b0 < p->batch[0]; ++b0) {
        for (b1 = 0; b1 < p->batch[1]; ++b1) {
            for (b2 = 0; b2 < p->batch[2]; ++b2) {
                const int8_t *l = lhs + (size_t)(b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1] +
                                                 b2 * p->lhs_batch_stride[2]);
                const int8_t *r = rhs + (size_t)(b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1] +
                                                 b2 * p->rhs_batch_stride[2]);
                int32_t col_stride = p->rhs_col_stride;
                if (transpose) {
                    int8_t *t = (int8_t *)ctx->buf;
                    for (n = 0; n < p->cols; ++n) {
                        for (k = 0; k < p->depth; ++k) {
                            t[n * p->depth + k] = r[k * p->rhs_depth_stride + n * p->rhs_col_stride];
                        }
                    }
                    r = t;
                    col_stride = p->depth;
                }
                for (m = 0; m < p->rows; ++m) {
                    const int8_t *l_row = l + (size_t)(m * p->lhs_row_stride);
                    for (n = 0; n + 1 < p->cols; n += 2) {
                        const int8_t *c0 = r + (size_t)(n * col_stride);
                        int32_t acc0 = 0, acc1 = 0;
                        mcu_arm_dot2_s8_offsets(l_row, c0, c0 + col_stride, p->depth, p->lhs_offset, p->rhs_offset,
                                                &acc0, &acc1);
                        *out++ = requant(acc0, p);
                        *out++ = requant(acc1, p);
                    }
                    if (n < p->cols) {
                        const int8_t *c0 = r + (size_t)(n * col_stride);
                        int32_t acc0 = 0, acc1 = 0;
                        mcu_arm_dot2_s8_offsets(l_row, c0, c0, p->depth, p->lhs_offset, p->rhs_offset, &acc0, &acc1);
                        *out++ = requant(acc0, p);
                    }
                }
            }
        }
    }
    return MCU_OK;
}
