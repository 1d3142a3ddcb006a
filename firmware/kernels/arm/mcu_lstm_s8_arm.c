/*
 * mcu_lstm_s8_arm.c - UNIDIRECTIONAL_SEQUENCE_LSTM on the Cortex-M7 DSP: the
 * portable kernel (../mcu_lstm_s8.c) with its eight projections per step as
 * SMLAD dot products.
 *
 * Per step (and row of a time-major batch) the input and the previous hidden
 * state are widened to int16 once, lane-ordered (x0, x2), (x1, x3) per 4 so that
 * SXTB16 and SXTB16 ROR 8 of a weight word meet them: 4 MACs per load, 2
 * extensions and 2 SMLAD. The zero points are folded into the biases at
 * generation time (mcugen/lower/arm/lstm.py: bias - zero_point * row sum), the
 * int8 weights stay as the model has them. A gate's sum, the non-linearities and
 * the state updates are the portable kernel's functions: TFLM's arithmetic.
 */
#include "mcu_arm_acle.h"
#include "mcu_arm_kernels.h"
#include "mcu_fixedpoint.h"

static int32_t mcu_round4(int32_t n)
{
    return (n + 3) / 4 * 4;
}

int32_t mcu_lstm_s8_arm_get_buffer_size(int32_t rows, int32_t units, int32_t input_size)
{
    return (4 * rows * units + mcu_round4(input_size) + mcu_round4(units)) * (int32_t)sizeof(int16_t);
}

/* mcu_lstm_gate_sum (mcu_lstm_s8.c), inlined in the loop: the same arithmetic. */
MCU_INLINE int16_t mcu_lstm_gate_sum_arm(int32_t a, int32_t am, int32_t as, int32_t b, int32_t bm, int32_t bs)
{
    const int32_t x = mcu_clamp32(mcu_mul_by_quantized_mult(a, am, as), -32768, 32767);
    const int32_t y = mcu_clamp32(mcu_mul_by_quantized_mult(b, bm, bs), -32768, 32767);
    return (int16_t)mcu_clamp32(x + y, -32768, 32767);
}

/* x as int16, each group of 4 stored x0, x2, x1, x3; the tail in order. */
static void mcu_lstm_widen(const int8_t *x, int32_t n, int16_t *out)
{
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        out[k] = x[k];
        out[k + 1] = x[k + 2];
        out[k + 2] = x[k + 1];
        out[k + 3] = x[k + 3];
    }
    for (; k < n; ++k) {
        out[k] = x[k];
    }
}

/* acc + w . x for a row of n int8 weights and the widened x (word-aligned scratch). */
MCU_INLINE int32_t mcu_lstm_dot_arm(const int8_t *w, const int16_t *xs, int32_t n, int32_t acc)
{
    const int32_t *x2 = (const int32_t *)(const void *)xs;
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t word = mcu_load32(w + k);
        acc = mcu_smlad(mcu_sxtb16(word), x2[k / 2], acc);
        acc = mcu_smlad(mcu_sxtb16_ror8(word), x2[k / 2 + 1], acc);
    }
    for (; k < n; ++k) {
        acc += (int32_t)w[k] * (int32_t)xs[k];
    }
    return acc;
}

/* Four rows at once (rows u .. u + 3 of a row-major matrix of depth n): each pair of
 * input words loaded once for all four. acc[] starts at the rows' biases. */
MCU_INLINE void mcu_lstm_dot4_arm(const int8_t *w, const int16_t *xs, int32_t n, int32_t *acc)
{
    const int32_t *x2 = (const int32_t *)(const void *)xs;
    const int8_t *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t xa = x2[k / 2], xb = x2[k / 2 + 1];
        const int32_t v0 = mcu_load32(w + k), v1 = mcu_load32(w1 + k);
        const int32_t v2 = mcu_load32(w2 + k), v3 = mcu_load32(w3 + k);
        a0 = mcu_smlad(mcu_sxtb16(v0), xa, a0);
        a1 = mcu_smlad(mcu_sxtb16(v1), xa, a1);
        a2 = mcu_smlad(mcu_sxtb16(v2), xa, a2);
        a3 = mcu_smlad(mcu_sxtb16(v3), xa, a3);
        a0 = mcu_smlad(mcu_sxtb16_ror8(v0), xb, a0);
        a1 = mcu_smlad(mcu_sxtb16_ror8(v1), xb, a1);
        a2 = mcu_smlad(mcu_sxtb16_ror8(v2), xb, a2);
        a3 = mcu_smlad(mcu_sxtb16_ror8(v3), xb, a3);
    }
    for (; k < n; ++k) {
        const int32_t x = xs[k];
        a0 += (int32_t)w[k] * x;
        a1 += (int32_t)w1[k] * x;
        a2 += (int32_t)w2[k] * x;
        a3 += (int32_t)w3[k] * x;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static void mcu_lstm_step_arm(const mcu_lstm_params *p, const mcu_arm_lstm_weights *w, const int8_t *x, int8_t *h,
                              int16_t *c, int8_t *y, int32_t rows, int16_t *gates, int16_t *xs, int16_t *hs)
{
    const int32_t n = rows * p->units;
    int32_t r, g, u;
    for (r = 0; r < rows; ++r) {
        mcu_lstm_widen(x + (size_t)r * (size_t)p->input_size, p->input_size, xs);
        mcu_lstm_widen(h + (size_t)r * (size_t)p->units, p->units, hs);
        for (g = 0; g < 4; ++g) {
            const int8_t *wi = w->input_weights[g];
            const int8_t *wr = w->recurrent_weights[g];
            int16_t *out = gates + (size_t)(g * n + r * p->units);
            const int32_t am = p->input_multiplier[g], as = p->input_shift[g];
            const int32_t bm = p->recurrent_multiplier[g], bs = p->recurrent_shift[g];
            for (u = 0; u + 4 <= p->units; u += 4) {
                int32_t a[4], b[4], j;
                for (j = 0; j < 4; ++j) {
                    a[j] = w->input_bias[g][u + j];
                    b[j] = w->recurrent_bias[g][u + j];
                }
                mcu_lstm_dot4_arm(wi + (size_t)u * (size_t)p->input_size, xs, p->input_size, a);
                mcu_lstm_dot4_arm(wr + (size_t)u * (size_t)p->units, hs, p->units, b);
                for (j = 0; j < 4; ++j) {
                    out[u + j] = mcu_lstm_gate_sum_arm(a[j], am, as, b[j], bm, bs);
                }
            }
            for (; u < p->units; ++u) {
                const int32_t a = mcu_lstm_dot_arm(wi + (size_t)u * (size_t)p->input_size, xs, p->input_size,
                                                   w->input_bias[g][u]);
                const int32_t b = mcu_lstm_dot_arm(wr + (size_t)u * (size_t)p->units, hs, p->units,
                                                   w->recurrent_bias[g][u]);
                out[u] = mcu_lstm_gate_sum(p, g, a, b);
            }
        }
    }
    mcu_lstm_s8_update(p, gates, n, c, h, y);
}

mcu_status mcu_lstm_s8_arm(const mcu_context *ctx, const mcu_lstm_params *p, const mcu_arm_lstm_weights *w,
                           const int8_t *input, int8_t *hidden_state, int16_t *cell_state, int8_t *output)
{
    int32_t b, t;
    const int32_t rows = p->time_major ? p->batches : 1;
    int16_t *gates, *xs, *hs;
    if (ctx == NULL || ctx->buf == NULL ||
        ctx->size < mcu_lstm_s8_arm_get_buffer_size(rows, p->units, p->input_size) ||
        ((uintptr_t)ctx->buf & 3u) != 0u) {
        return MCU_ERROR_ARGUMENT;
    }
    gates = (int16_t *)ctx->buf;
    xs = gates + 4 * rows * p->units;
    hs = xs + mcu_round4(p->input_size);
    if (p->time_major) {
        for (t = 0; t < p->time_steps; ++t) {
            mcu_lstm_step_arm(p, w, input + (size_t)t * (size_t)rows * (size_t)p->input_size, hidden_state,
                              cell_state, output + (size_t)t * (size_t)rows * (size_t)p->units, rows, gates, xs, hs);
        }
        return MCU_OK;
    }
    for (b = 0; b < p->batches; ++b) {
        int8_t *h = hidden_state + (size_t)b * (size_t)p->units;
        int16_t *c = cell_state + (size_t)b * (size_t)p->units;
        for (t = 0; t < p->time_steps; ++t) {
            const size_t step = (size_t)b * (size_t)p->time_steps + (size_t)t;
            mcu_lstm_step_arm(p, w, input + step * (size_t)p->input_size, h, c, output + step * (size_t)p->units, 1,
                              gates, xs, hs);
        }
    }
    return MCU_OK;
}
