/*
 * mcu_lstm_s8.c - UNIDIRECTIONAL_SEQUENCE_LSTM, the integer LSTM TFLM runs:
 * int8 input, hidden state and output, int8 weights, int32 biases, int16 cell
 * state (a power-of-two scale), int16 gates in Q3.12 before their
 * non-linearity and Q0.15 after it.
 *
 * As TFLM's lstm_eval (EvalLstm/LstmStep): per time step (per batch for a
 * batch-major sequence), each gate is the requantized input projection (with
 * the gate's bias) plus the requantized recurrent projection, saturated to
 * int16, then sigmoid (input, forget, output gates) or tanh (cell gate); the
 * cell becomes forget*cell + input*cell_gate (each product requantized,
 * the sum saturated, optionally clipped), the hidden state
 * output_gate*tanh(cell) requantized to int8, and the output step a copy of
 * the hidden state. No peephole, projection, layer norm or CIFG: TFLM's
 * integer kernel has none either. Hidden and cell state persist between runs.
 */
#include "mcu_compiler.h"
#include "mcu_fixedpoint.h"
#include "mcu_kernels.h"

/* sigmoid(i / 24) in unsigned 0.16, 256 points: the table TFLM's int16
 * logistic and tanh interpolate (tensorflow/lite/kernels/internal/common.h).
 * Its values are fitted, not a closed formula, so they are listed. */
static const uint16_t mcu_sigmoid_u16[256] = {
    32768u, 33451u, 34133u, 34813u, 35493u, 36169u, 36843u, 37513u, 38180u, 38841u, 39498u, 40149u,
    40794u, 41432u, 42064u, 42688u, 43304u, 43912u, 44511u, 45102u, 45683u, 46255u, 46817u, 47369u,
    47911u, 48443u, 48964u, 49475u, 49975u, 50464u, 50942u, 51409u, 51865u, 52311u, 52745u, 53169u,
    53581u, 53983u, 54374u, 54755u, 55125u, 55485u, 55834u, 56174u, 56503u, 56823u, 57133u, 57433u,
    57724u, 58007u, 58280u, 58544u, 58800u, 59048u, 59288u, 59519u, 59743u, 59959u, 60168u, 60370u,
    60565u, 60753u, 60935u, 61110u, 61279u, 61441u, 61599u, 61750u, 61896u, 62036u, 62172u, 62302u,
    62428u, 62549u, 62666u, 62778u, 62886u, 62990u, 63090u, 63186u, 63279u, 63368u, 63454u, 63536u,
    63615u, 63691u, 63765u, 63835u, 63903u, 63968u, 64030u, 64090u, 64148u, 64204u, 64257u, 64308u,
    64357u, 64405u, 64450u, 64494u, 64536u, 64576u, 64614u, 64652u, 64687u, 64721u, 64754u, 64786u,
    64816u, 64845u, 64873u, 64900u, 64926u, 64950u, 64974u, 64997u, 65019u, 65039u, 65060u, 65079u,
    65097u, 65115u, 65132u, 65149u, 65164u, 65179u, 65194u, 65208u, 65221u, 65234u, 65246u, 65258u,
    65269u, 65280u, 65291u, 65301u, 65310u, 65319u, 65328u, 65337u, 65345u, 65352u, 65360u, 65367u,
    65374u, 65381u, 65387u, 65393u, 65399u, 65404u, 65410u, 65415u, 65420u, 65425u, 65429u, 65433u,
    65438u, 65442u, 65445u, 65449u, 65453u, 65456u, 65459u, 65462u, 65465u, 65468u, 65471u, 65474u,
    65476u, 65479u, 65481u, 65483u, 65485u, 65488u, 65489u, 65491u, 65493u, 65495u, 65497u, 65498u,
    65500u, 65501u, 65503u, 65504u, 65505u, 65507u, 65508u, 65509u, 65510u, 65511u, 65512u, 65513u,
    65514u, 65515u, 65516u, 65517u, 65517u, 65518u, 65519u, 65520u, 65520u, 65521u, 65522u, 65522u,
    65523u, 65523u, 65524u, 65524u, 65525u, 65525u, 65526u, 65526u, 65526u, 65527u, 65527u, 65528u,
    65528u, 65528u, 65529u, 65529u, 65529u, 65529u, 65530u, 65530u, 65530u, 65530u, 65531u, 65531u,
    65531u, 65531u, 65531u, 65532u, 65532u, 65532u, 65532u, 65532u, 65532u, 65533u, 65533u, 65533u,
    65533u, 65533u, 65533u, 65533u, 65533u, 65534u, 65534u, 65534u, 65534u, 65534u, 65534u, 65534u,
    65534u, 65534u, 65534u, 65535u,
};

int32_t mcu_lstm_s8_get_buffer_size(int32_t rows, int32_t units)
{
    return 4 * rows * units * (int32_t)sizeof(int16_t);
}

static int16_t mcu_sat16(int32_t x)
{
    return (int16_t)mcu_clamp32(x, -32768, 32767);
}

/* int16 logistic of a Q3.12 value into Q0.15 (TFLM reference_integer_ops::Logistic
 * with a power-of-two input: multiplier 3, no shift). */
MCU_INLINE int16_t mcu_lstm_sigmoid(int16_t x)
{
    const int32_t v = (int32_t)x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t ua = mcu_sigmoid_u16[uh];
        const uint32_t ub = mcu_sigmoid_u16[uh + 1u];
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* int16 tanh into Q0.15 (TFLM reference_integer_ops::Tanh): the input scaled by
 * multiplier / 2^shift (3 << k for Q3.12, or a rounded right shift for a finer
 * cell scale), then the sigmoid table at twice the argument. */
MCU_INLINE int16_t mcu_lstm_tanh(int16_t x, int32_t multiplier, int32_t shift)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    const int32_t v = ((int32_t)x * multiplier + round) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255u) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t ua = mcu_sigmoid_u16[uh];
        const uint32_t ub = mcu_sigmoid_u16[uh + 1u];
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

static int32_t mcu_lstm_dot(const int8_t *w, const int8_t *x, int32_t depth, int32_t zero_point, int32_t acc)
{
    int32_t k;
    for (k = 0; k < depth; ++k) {
        acc += (int32_t)w[k] * ((int32_t)x[k] - zero_point);
    }
    return acc;
}

/* The gates' Q3.12 sums, each sat16(requant(input projection + bias)) +
 * sat16(requant(recurrent projection)), saturated: gates[g][r][u]. */
static void mcu_lstm_gate_sums(const mcu_lstm_params *p, const mcu_lstm_weights *w, const int8_t *x,
                               const int8_t *h, int32_t rows, int16_t *gates)
{
    int32_t g, r, u;
    const int32_t n = rows * p->units;
    for (g = 0; g < 4; ++g) {
        for (r = 0; r < rows; ++r) {
            const int8_t *xr = x + (size_t)r * (size_t)p->input_size;
            const int8_t *hr = h + (size_t)r * (size_t)p->units;
            for (u = 0; u < p->units; ++u) {
                const int32_t a = mcu_lstm_dot(w->input_weights[g] + (size_t)u * (size_t)p->input_size, xr,
                                               p->input_size, p->input_zero_point, w->bias[g][u]);
                const int32_t b = mcu_lstm_dot(w->recurrent_weights[g] + (size_t)u * (size_t)p->units, hr, p->units,
                                               p->hidden_zero_point, 0);
                gates[(size_t)(g * n + r * p->units + u)] = mcu_lstm_gate_sum(p, g, a, b);
            }
        }
    }
}

int16_t mcu_lstm_gate_sum(const mcu_lstm_params *p, int32_t gate, int32_t input_acc, int32_t recurrent_acc)
{
    const int32_t a = mcu_sat16(mcu_mul_by_quantized_mult(input_acc, p->input_multiplier[gate], p->input_shift[gate]));
    const int32_t b = mcu_sat16(
        mcu_mul_by_quantized_mult(recurrent_acc, p->recurrent_multiplier[gate], p->recurrent_shift[gate]));
    return mcu_sat16(a + b);
}

void mcu_lstm_s8_update(const mcu_lstm_params *p, int16_t *gates, int32_t n, int16_t *c, int8_t *h, int8_t *y)
{
    int16_t *input = gates;
    int16_t *forget = gates + n;
    int16_t *cell = gates + 2 * n;
    int16_t *output = gates + 3 * n;
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* The gates depend on the input and the previous hidden state only (no peephole),
         * so all four are computed before the cell changes, as TFLM's order allows. */
        const int32_t f = mcu_lstm_sigmoid(forget[i]);
        const int32_t in = mcu_lstm_sigmoid(input[i]);
        const int32_t g = mcu_lstm_tanh(cell[i], 3, 0);
        const int32_t o = mcu_lstm_sigmoid(output[i]);
        const int32_t kept = mcu_clamp32(
            mcu_mul_by_quantized_mult(f * (int32_t)c[i], p->forget_multiplier, p->forget_shift), -32768, 32767);
        const int32_t added = mcu_clamp32(
            mcu_mul_by_quantized_mult(in * g, p->input_gate_multiplier, p->input_gate_shift), -32768, 32767);
        int32_t next = mcu_clamp32(kept + added, -32768, 32767);
        int32_t v;
        if (p->cell_clip > 0) {
            next = mcu_clamp32(next, -p->cell_clip, p->cell_clip);
        }
        c[i] = (int16_t)next;
        v = p->hidden_zero_point +
            mcu_mul_by_quantized_mult((int32_t)mcu_lstm_tanh(c[i], p->cell_tanh_multiplier, p->cell_tanh_shift) * o,
                                      p->output_multiplier, p->output_shift);
        h[i] = (int8_t)mcu_clamp32(v, -128, 127);
        y[i] = h[i];
    }
}

static void mcu_lstm_step(const mcu_lstm_params *p, const mcu_lstm_weights *w, const int8_t *x,
                          int8_t *h, int16_t *c, int8_t *y, int32_t rows, int16_t *gates)
{
    mcu_lstm_gate_sums(p, w, x, h, rows, gates);
    mcu_lstm_s8_update(p, gates, rows * p->units, c, h, y);
}

mcu_status mcu_lstm_s8(const mcu_context *ctx, const mcu_lstm_params *p, const mcu_lstm_weights *w,
                       const int8_t *input, int8_t *hidden_state, int16_t *cell_state, int8_t *output)
{
    int32_t b, t;
    const int32_t rows = p->time_major ? p->batches : 1;
    if (ctx == NULL || ctx->buf == NULL || ctx->size < mcu_lstm_s8_get_buffer_size(rows, p->units)) {
        return MCU_ERROR_ARGUMENT;
    }
    if (p->time_major) {
        for (t = 0; t < p->time_steps; ++t) {
            mcu_lstm_step(p, w, input + (size_t)t * (size_t)rows * (size_t)p->input_size, hidden_state,
                          cell_state, output + (size_t)t * (size_t)rows * (size_t)p->units, rows,
                          (int16_t *)ctx->buf);
        }
        return MCU_OK;
    }
    for (b = 0; b < p->batches; ++b) {
        int8_t *h = hidden_state + (size_t)b * (size_t)p->units;
        int16_t *c = cell_state + (size_t)b * (size_t)p->units;
        for (t = 0; t < p->time_steps; ++t) {
            const size_t step = (size_t)b * (size_t)p->time_steps + (size_t)t;
            mcu_lstm_step(p, w, input + step * (size_t)p->input_size, h, c, output + step * (size_t)p->units, 1,
                          (int16_t *)ctx->buf);
        }
    }
    return MCU_OK;
}
