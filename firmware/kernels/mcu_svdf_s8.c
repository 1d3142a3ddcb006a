/*
 * mcu_svdf_s8.c - SVDF (rank-r singular value decomposition filter), int8
 * input and feature weights, int8 or int16 time weights and state, int32 bias.
 *
 * As TFLM's EvalIntegerSvdfReference: the state [batches, filters, memory]
 * shifts left by one time step; the newest column gets the requantized
 * feature projection of the input; the time weights then reduce the state
 * per filter, filters sum per unit (rank), bias is added and the result is
 * requantized to int8. TFLM's integer SVDF applies no fused activation beyond
 * the int8 range, and neither does this kernel.
 */
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

int32_t mcu_svdf_s8_get_buffer_size(int32_t batches, int32_t filters, int32_t units)
{
    return batches * (filters + units) * (int32_t)sizeof(int32_t);
}

#define MCU_DEFINE_SVDF(NAME, STATE_T, STATE_MIN, STATE_MAX)                                        \
    mcu_status NAME(const mcu_context *ctx, const mcu_svdf_params *p, const int8_t *input,          \
                    const int8_t *weights_feature, const STATE_T *weights_time,                     \
                    const int32_t *bias, STATE_T *state, int8_t *output)                            \
    {                                                                                               \
        int32_t *scratch, *scratch_out;                                                             \
        int32_t b, f, c, j, u, r;                                                                   \
        const int32_t n_state = p->batches * p->filters * p->memory;                                \
        if (ctx == NULL || ctx->buf == NULL ||                                                      \
            ctx->size < mcu_svdf_s8_get_buffer_size(p->batches, p->filters, p->units)) {            \
            return MCU_ERROR_ARGUMENT;                                                              \
        }                                                                                           \
        scratch = (int32_t *)ctx->buf;                                                              \
        scratch_out = scratch + (size_t)p->batches * (size_t)p->filters;                                \
        /* Shift the whole state left by one step. */                                               \
        for (j = 0; j + 1 < n_state; ++j) {                                                         \
            state[j] = state[j + 1];                                                                \
        }                                                                                           \
        /* Feature projection into the newest column. */                                            \
        for (b = 0; b < p->batches; ++b) {                                                          \
            const int8_t *w = weights_feature;                                                      \
            STATE_T *column = state + (size_t)b * (size_t)p->filters * (size_t)p->memory + (size_t)(p->memory - 1);\
            for (f = 0; f < p->filters; ++f) {                                                      \
                const int8_t *x = input + (size_t)b * (size_t)p->input_size;                        \
                int32_t dot = 0;                                                                    \
                for (c = 0; c < p->input_size; ++c) {                                               \
                    dot += (int32_t)(*w++) * ((int32_t)x[c] - p->input_zero_point);                 \
                }                                                                                   \
                dot = mcu_mul_by_quantized_mult(dot, p->multiplier1, p->shift1);                    \
                dot = mcu_clamp32(dot, STATE_MIN, STATE_MAX);                                       \
                *column = (STATE_T)(p->state_zero_point + dot);                                     \
                column += p->memory;                                                                \
            }                                                                                       \
        }                                                                                           \
        /* Time weights x state, per filter. */                                                     \
        for (b = 0; b < p->batches; ++b) {                                                          \
            const STATE_T *t = weights_time;                                                        \
            const STATE_T *s = state + (size_t)b * (size_t)p->memory * (size_t)p->filters;          \
            int32_t *out = scratch + (size_t)b * (size_t)p->filters;                                \
            for (f = 0; f < p->filters; ++f) {                                                      \
                int32_t acc = 0;                                                                    \
                for (j = 0; j < p->memory; ++j) {                                                   \
                    acc += (int32_t)(*t++) * ((int32_t)(*s++) - p->state_zero_point);               \
                }                                                                                   \
                out[f] = acc;                                                                       \
            }                                                                                       \
        }                                                                                           \
        /* Bias, sum over rank, requantize. */                                                      \
        for (b = 0; b < p->batches; ++b) {                                                          \
            int32_t *out = scratch_out + (size_t)b * (size_t)p->units;                              \
            const int32_t *s = scratch + (size_t)b * (size_t)p->filters;                            \
            for (u = 0; u < p->units; ++u) {                                                        \
                out[u] = bias != NULL ? bias[u] : 0;                                                \
                for (r = 0; r < p->rank; ++r) {                                                     \
                    out[u] += *s++;                                                                 \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        for (j = 0; j < p->batches * p->units; ++j) {                                               \
            const int32_t y = mcu_mul_by_quantized_mult(scratch_out[j], p->multiplier2, p->shift2) + \
                              p->output_zero_point;                                                 \
            output[j] = (int8_t)mcu_clamp32(y, p->act_min, p->act_max);                             \
        }                                                                                           \
        return MCU_OK;                                                                              \
    }

MCU_DEFINE_SVDF(mcu_svdf_s8, int8_t, INT8_MIN, INT8_MAX)
MCU_DEFINE_SVDF(mcu_svdf_s8_s16, int16_t, INT16_MIN, INT16_MAX)
