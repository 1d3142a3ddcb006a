/*
 * mcu_kernels.h - mcugen's portable int8 kernels: types and entry points.
 *
 * One operator per source file (mcu_<op>_<type>.c). Every kernel is a pure
 * function over plain arrays: it allocates nothing and keeps no state. The
 * arguments come in one order everywhere:
 *     scratch context, operator parameters, quantization parameters,
 *     then dimensions and data of input(s), filter, bias, output.
 * Kernels that need scratch memory have a companion
 * mcu_<op>_get_buffer_size(); the code generator reserves that much in the
 * activation arena ahead of time.
 *
 * All requantization parameters (multipliers, shifts, offsets, clamps) are
 * computed at generation time, exactly as TensorFlow Lite Micro's prepare step
 * computes them; the kernels reproduce the arithmetic of TFLM's reference
 * kernels bit for bit (see mcu_fixedpoint.h).
 *
 * Shift convention: a per-channel or per-tensor `shift` is the power-of-two
 * exponent of its multiplier (positive = left shift), as TFLM's
 * QuantizeMultiplier returns it.
 */
#ifndef MCU_KERNELS_H
#define MCU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCU_MAX_DIMS 6

typedef enum {
    MCU_OK = 0,
    MCU_ERROR_ARGUMENT = -1,  /* an argument the kernel cannot work with */
    MCU_ERROR_EMPTY_WINDOW = -2, /* a pooling window that covers no input */
} mcu_status;

/* Scratch memory handed to a kernel (reserved in the arena at generation time). */
typedef struct {
    void *buf;
    int32_t size;
} mcu_context;

/* NHWC dimensions; FULLY_CONNECTED uses n = batches, c = depth. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} mcu_dims;

/* Per-output-channel requantization: out = in * multiplier[c] * 2^(shift[c] - 31). */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} mcu_per_channel_quant;

/* ---- convolutions ------------------------------------------------------------ */

typedef struct {
    int32_t stride_w, stride_h;
    int32_t pad_w, pad_h;             /* leading (top/left) padding */
    int32_t dilation_w, dilation_h;
    int32_t input_offset;             /* -input zero point */
    int32_t output_offset;            /* output zero point */
    int32_t act_min, act_max;         /* fused activation clamp, in output units */
} mcu_conv_params;

typedef struct {
    int32_t stride_w, stride_h;
    int32_t pad_w, pad_h;
    int32_t dilation_w, dilation_h;
    int32_t depth_multiplier;
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min, act_max;
} mcu_dw_conv_params;

typedef struct {
    int32_t input_offset;
    int32_t filter_offset;            /* -filter zero point (0 for symmetric weights) */
    int32_t output_offset;
    int32_t act_min, act_max;
} mcu_fc_params;

/* filter [out_c, kh, kw, in_c / groups], bias [out_c] or NULL */
int32_t mcu_conv2d_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);
mcu_status mcu_conv2d_s8(const mcu_context *ctx, const mcu_conv_params *params,
                         const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                         const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                         const mcu_dims *bias_dims, const int32_t *bias,
                         const mcu_dims *output_dims, int8_t *output);

/* filter [1, kh, kw, out_c], out_c = in_c * depth_multiplier */
int32_t mcu_depthwise_conv2d_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);
mcu_status mcu_depthwise_conv2d_s8(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                   const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                   const int8_t *input, const mcu_dims *filter_dims,
                                   const int8_t *filter, const mcu_dims *bias_dims,
                                   const int32_t *bias, const mcu_dims *output_dims,
                                   int8_t *output);

/* TRANSPOSE_CONV: filter [out_c, kh, kw, in_c], bias [out_c] or NULL; params' dilation
 * unused; pad_h/pad_w are TFLM's leading padding of the output. No scratch. */
mcu_status mcu_transpose_conv_s8(const mcu_context *ctx, const mcu_conv_params *params,
                                 const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                                 const mcu_dims *bias_dims, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output);

/* input [batches, depth] (n, c), filter [units, depth] (n, c), output [batches, units];
 * one multiplier/shift per unit (a per-tensor layer repeats its value). */
int32_t mcu_fully_connected_s8_get_buffer_size(const mcu_dims *filter_dims);
mcu_status mcu_fully_connected_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                  const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                  const int8_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const mcu_dims *bias_dims,
                                  const int32_t *bias, const mcu_dims *output_dims,
                                  int8_t *output);

/* BATCH_MATMUL: out [batch..., rows, cols]; element (m, k) of a batch's lhs at
 * m * lhs_row_stride + k * lhs_depth_stride, element (k, n) of its rhs at
 * k * rhs_depth_stride + n * rhs_col_stride (adj_x/adj_y swap the strides); a broadcast
 * batch dimension has stride 0. No scratch. */
typedef struct {
    int32_t batch[3];
    int32_t lhs_batch_stride[3], rhs_batch_stride[3];
    int32_t rows, cols, depth;
    int32_t lhs_row_stride, lhs_depth_stride, rhs_depth_stride, rhs_col_stride;
    int32_t lhs_offset, rhs_offset;   /* -zero points */
    int32_t output_offset;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} mcu_batch_matmul_params;

mcu_status mcu_batch_matmul_s8(const mcu_batch_matmul_params *params, const int8_t *lhs, const int8_t *rhs,
                               int8_t *output);

/* ---- pooling ----------------------------------------------------------------- */

typedef struct {
    int32_t stride_w, stride_h;
    int32_t pad_w, pad_h;
    int32_t filter_w, filter_h;
    int32_t act_min, act_max;
} mcu_pool_params;

mcu_status mcu_avgpool_s8(const mcu_context *ctx, const mcu_pool_params *params,
                          const mcu_dims *input_dims, const int8_t *input,
                          const mcu_dims *output_dims, int8_t *output);
mcu_status mcu_maxpool_s8(const mcu_context *ctx, const mcu_pool_params *params,
                          const mcu_dims *input_dims, const int8_t *input,
                          const mcu_dims *output_dims, int8_t *output);

/* ---- element-wise binary ops --------------------------------------------------- */

/* Broadcasting as numpy does: `dims` is the output shape padded at the front
 * with 1s; stride1/stride2 are each input's element strides along those dims,
 * 0 where the input is broadcast. */
typedef struct {
    int32_t dims[MCU_MAX_DIMS];
    int32_t stride1[MCU_MAX_DIMS];
    int32_t stride2[MCU_MAX_DIMS];
} mcu_broadcast;

/* sum of i_k * stride[k] over the first five dimensions, in size_t */
#define MCU_BROADCAST_OFFSET5(stride, i0, i1, i2, i3, i4)                                    \
    ((size_t)(i0) * (size_t)(stride)[0] + (size_t)(i1) * (size_t)(stride)[1] +                \
     (size_t)(i2) * (size_t)(stride)[2] + (size_t)(i3) * (size_t)(stride)[3] +                \
     (size_t)(i4) * (size_t)(stride)[4])

/* For the binary kernels' implementations: walks the broadcast output in order and
 * sets output[o] = ONE(params, a, b) from the two inputs' broadcast elements. The
 * innermost run has its own loop for the usual stride pairs (both contiguous, one input
 * repeated), so that the compiler hoists what depends on the repeated value alone; dims
 * and strides sit in locals because the int8 output may alias anything, and a kernel
 * passes a local copy of its parameters for the same reason. */
#define MCU_BROADCAST_RUN(ONE, params, a_, b_, sa_, sb_, n_, out_)                                \
    do {                                                                                          \
        int32_t j_;                                                                               \
        if ((sa_) == 1u && (sb_) == 1u) {                                                         \
            for (j_ = 0; j_ < (n_); ++j_) (out_)[j_] = ONE((params), (a_)[j_], (b_)[j_]);         \
        } else if ((sa_) == 1u && (sb_) == 0u) {                                                  \
            const int8_t bv_ = *(b_);                                                             \
            for (j_ = 0; j_ < (n_); ++j_) (out_)[j_] = ONE((params), (a_)[j_], bv_);              \
        } else if ((sa_) == 0u && (sb_) == 1u) {                                                  \
            const int8_t av_ = *(a_);                                                             \
            for (j_ = 0; j_ < (n_); ++j_) (out_)[j_] = ONE((params), av_, (b_)[j_]);              \
        } else {                                                                                  \
            for (j_ = 0; j_ < (n_); ++j_)                                                         \
                (out_)[j_] = ONE((params), (a_)[(size_t)j_ * (sa_)], (b_)[(size_t)j_ * (sb_)]);   \
        }                                                                                         \
    } while (0)

#define MCU_BROADCAST_BINARY(ONE, params, bc, input1, input2, output)                            \
    do {                                                                                          \
        const int32_t *d_ = (bc)->dims;                                                           \
        const int32_t n0_ = d_[0], n1_ = d_[1], n2_ = d_[2], n3_ = d_[3], n4_ = d_[4], n5_ = d_[5]; \
        const size_t s1_ = (size_t)(bc)->stride1[5];                                              \
        const size_t s2_ = (size_t)(bc)->stride2[5];                                              \
        int32_t i0, i1, i2, i3, i4;                                                               \
        size_t o_ = 0;                                                                            \
        for (i0 = 0; i0 < n0_; ++i0)                                                              \
        for (i1 = 0; i1 < n1_; ++i1)                                                              \
        for (i2 = 0; i2 < n2_; ++i2)                                                              \
        for (i3 = 0; i3 < n3_; ++i3)                                                              \
        for (i4 = 0; i4 < n4_; ++i4) {                                                            \
            const int8_t *a_ = (input1) + MCU_BROADCAST_OFFSET5((bc)->stride1, i0, i1, i2, i3, i4); \
            const int8_t *b_ = (input2) + MCU_BROADCAST_OFFSET5((bc)->stride2, i0, i1, i2, i3, i4); \
            MCU_BROADCAST_RUN(ONE, params, a_, b_, s1_, s2_, n5_, (output) + o_);                \
            o_ += (size_t)n5_;                                                                    \
        }                                                                                         \
    } while (0)

typedef struct {
    int32_t input1_offset, input2_offset;   /* -zero points */
    int32_t left_shift;                     /* 20 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t output_offset;
    int32_t act_min, act_max;
} mcu_add_params;

mcu_status mcu_add_s8(const mcu_add_params *params, int32_t size, const int8_t *input1,
                      const int8_t *input2, int8_t *output);
mcu_status mcu_add_broadcast_s8(const mcu_add_params *params, const mcu_broadcast *bcast,
                                const int8_t *input1, const int8_t *input2, int8_t *output);

typedef struct {
    int32_t input1_offset, input2_offset;
    int32_t output_multiplier, output_shift;
    int32_t output_offset;
    int32_t act_min, act_max;
} mcu_mul_params;

mcu_status mcu_mul_s8(const mcu_mul_params *params, int32_t size, const int8_t *input1,
                      const int8_t *input2, int8_t *output);
mcu_status mcu_mul_broadcast_s8(const mcu_mul_params *params, const mcu_broadcast *bcast,
                                const int8_t *input1, const int8_t *input2, int8_t *output);

/* SUB: TFLM's quantized Sub has the arithmetic of Add with a difference (same fields). */
typedef mcu_add_params mcu_sub_params;

/* The binary kernels below take a broadcast description whatever the shapes (two equal
 * shapes are one run of dims[5] elements). */
/* SUB and SQUARED_DIFFERENCE scale each input by itself before combining them: given a
 * scratch of MCU_BINARY_TABLES_BYTES (ctx, else NULL), they tabulate that scaling for the
 * 256 values of each input first (the same arithmetic), leaving one requantization per
 * element. Worth it on large tensors; the generator gives the scratch above 1024 elements. */
#define MCU_BINARY_TABLES_BYTES (2 * 256 * (int32_t)sizeof(int32_t))

mcu_status mcu_sub_s8(const mcu_context *ctx, const mcu_sub_params *params,
                      const mcu_broadcast *bcast, const int8_t *input1, const int8_t *input2,
                      int8_t *output);

/* MAXIMUM, MINIMUM: on the raw int8 values, as TFLM (no requantization). */
mcu_status mcu_maximum_s8(const mcu_broadcast *bcast, const int8_t *input1,
                          const int8_t *input2, int8_t *output);
mcu_status mcu_minimum_s8(const mcu_broadcast *bcast, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

typedef struct {
    int32_t input1_offset, input2_offset;   /* -zero points */
    int32_t left_shift;                     /* 7 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t output_offset;
} mcu_squared_difference_params;

mcu_status mcu_squared_difference_s8(const mcu_context *ctx,
                                     const mcu_squared_difference_params *params,
                                     const mcu_broadcast *bcast, const int8_t *input1,
                                     const int8_t *input2, int8_t *output);

typedef struct {
    int32_t input_offset;                   /* -input zero point */
    int32_t alpha_offset;                   /* -alpha zero point */
    int32_t output_offset;
    int32_t multiplier_1, shift_1;          /* input >= 0: input scale / output scale */
    int32_t multiplier_2, shift_2;          /* input < 0: input * alpha scale / output scale */
} mcu_prelu_params;

/* input2 is alpha, broadcast against the input */
mcu_status mcu_prelu_s8(const mcu_prelu_params *params, const mcu_broadcast *bcast,
                        const int8_t *input, const int8_t *alpha, int8_t *output);

/* ---- reductions ---------------------------------------------------------------- */

typedef struct {
    int32_t dims[MCU_MAX_DIMS];        /* input shape padded at the front with 1s */
    int32_t out_stride[MCU_MAX_DIMS];  /* output element stride per input dim, 0 on reduced dims */
    int32_t output_size;               /* elements */
    int32_t num_reduced;               /* input elements per output element */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift;         /* already divided by num_reduced */
} mcu_mean_params;

int32_t mcu_mean_s8_get_buffer_size(int32_t output_size);
mcu_status mcu_mean_s8(const mcu_context *ctx, const mcu_mean_params *params,
                       const int8_t *input, int8_t *output);

typedef struct {
    int32_t dims[MCU_MAX_DIMS];        /* input shape padded at the front with 1s */
    int32_t out_stride[MCU_MAX_DIMS];  /* output element stride per input dim, 0 on reduced dims */
    int32_t output_size;               /* elements */
} mcu_reduce_params;

/* REDUCE_MAX: the largest raw value per output element (input and output share quantization). */
mcu_status mcu_reduce_max_s8(const mcu_reduce_params *params, const int8_t *input,
                             int8_t *output);

/* ARG_MAX along one axis: the input seen as [outer, axis_size, inner]; the first index of
 * the largest value, as int32. */
mcu_status mcu_arg_max_s8(int32_t outer, int32_t axis_size, int32_t inner, const int8_t *input,
                          int32_t *output);

/* ---- activations --------------------------------------------------------------- */

typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} mcu_softmax_params;

/* rows of `depth` elements along the last axis */
mcu_status mcu_softmax_s8(const mcu_softmax_params *params, int32_t outer, int32_t depth,
                          const int8_t *input, int8_t *output);
mcu_status mcu_softmax_s8_s16(const mcu_softmax_params *params, int32_t outer, int32_t depth,
                              const int8_t *input, int16_t *output);

typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} mcu_logistic_params;

mcu_status mcu_logistic_s8(const mcu_logistic_params *params, int32_t size,
                           const int8_t *input, int8_t *output);

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t reluish_multiplier_exponent;
    int32_t output_multiplier_exponent;
    int16_t reluish_multiplier;   /* Q0.15 */
    int16_t output_multiplier;    /* Q0.15 */
} mcu_hard_swish_params;

mcu_status mcu_hard_swish_s8(const mcu_hard_swish_params *params, int32_t size,
                             const int8_t *input, int8_t *output);

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} mcu_relu_params;

/* RELU: requantize and clamp. RELU6: clamp to [lower, upper] (no requantization, as TFLM). */
mcu_status mcu_relu_s8(const mcu_relu_params *params, int32_t size, const int8_t *input,
                       int8_t *output);
mcu_status mcu_relu6_s8(int8_t lower, int8_t upper, int32_t size, const int8_t *input,
                        int8_t *output);

/* For the int8 -> int8 unary kernels: output[i] = ONE(params, input[i]). With a scratch
 * of at least MCU_UNARY_LUT_BYTES and more than MCU_UNARY_LUT_MIN_SIZE elements, ONE is
 * first evaluated once per int8 value into a table in the scratch (the same function, so
 * the same results), then each element is a lookup. Safe in place. */
#define MCU_UNARY_LUT_BYTES 256
#define MCU_UNARY_LUT_MIN_SIZE 512
#define MCU_UNARY_VIA_LUT(ONE, params, ctx, size, input, output)                                 \
    do {                                                                                          \
        int32_t i_;                                                                               \
        if ((ctx) != NULL && (ctx)->buf != NULL && (ctx)->size >= MCU_UNARY_LUT_BYTES &&          \
            (size) > MCU_UNARY_LUT_MIN_SIZE) {                                                    \
            int8_t *lut_ = (int8_t *)(ctx)->buf;                                                  \
            for (i_ = 0; i_ < 256; ++i_) {                                                        \
                lut_[i_] = ONE((params), (int8_t)(i_ - 128));                                     \
            }                                                                                     \
            for (i_ = 0; i_ < (size); ++i_) {                                                     \
                (output)[i_] = lut_[(int32_t)(input)[i_] + 128];                                  \
            }                                                                                     \
        } else {                                                                                  \
            for (i_ = 0; i_ < (size); ++i_) {                                                     \
                (output)[i_] = ONE((params), (input)[i_]);                                        \
            }                                                                                     \
        }                                                                                         \
    } while (0)

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t needs_rescale;        /* 0: input and output scales are equal */
    int32_t multiplier, shift;    /* input scale / output scale */
} mcu_abs_params;

/* ctx: NULL, or a scratch of MCU_UNARY_LUT_BYTES for the table of a large tensor */
mcu_status mcu_abs_s8(const mcu_context *ctx, const mcu_abs_params *params, int32_t size,
                      const int8_t *input, int8_t *output);

/* TANH: the logistic's input parameters (Q4.27 input), output scale 1/128 zero point 0. */
typedef mcu_logistic_params mcu_tanh_params;

mcu_status mcu_tanh_s8(const mcu_context *ctx, const mcu_tanh_params *params, int32_t size,
                       const int8_t *input, int8_t *output);

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier_identity, shift_identity;  /* input >= 0 */
    int32_t multiplier_alpha, shift_alpha;        /* input < 0; multiplier may be negative */
} mcu_leaky_relu_params;

mcu_status mcu_leaky_relu_s8(const mcu_context *ctx, const mcu_leaky_relu_params *params,
                             int32_t size, const int8_t *input, int8_t *output);

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift;    /* 1 / (sqrt(input scale) * output scale) */
} mcu_rsqrt_params;

/* Inputs below the zero point (negative reals) are an error in TFLM: MCU_ERROR_ARGUMENT. */
mcu_status mcu_rsqrt_s8(const mcu_rsqrt_params *params, int32_t size, const int8_t *input,
                        int8_t *output);

/* ---- data movement ------------------------------------------------------------- */

typedef struct {
    int32_t dims[MCU_MAX_DIMS];     /* input shape padded at the front with 1s */
    int32_t before[MCU_MAX_DIMS];   /* padding before each dim */
    int32_t after[MCU_MAX_DIMS];    /* padding after each dim */
} mcu_pad_params;

mcu_status mcu_pad_s8(const mcu_pad_params *params, int8_t pad_value, const int8_t *input,
                      int8_t *output);

/* rows x row_bytes from src (row pitch src_pitch) to dst (pitch dst_pitch), ascending rows:
 * a patch of a feature map into a tile buffer and back (patch-based inference). */
mcu_status mcu_copy_tile(const int8_t *src, int32_t src_pitch, int8_t *dst, int32_t dst_pitch,
                         int32_t rows, int32_t row_bytes);

/* Output = for each of `outer` rows, each input's copy_bytes[i] bytes in turn. */
mcu_status mcu_concat(int32_t num_inputs, const void *const *inputs, const int32_t *copy_bytes,
                      int32_t outer, void *output);

typedef struct {
    int32_t out_dims[MCU_MAX_DIMS];   /* output shape padded at the front with 1s */
    int32_t in_stride[MCU_MAX_DIMS];  /* input element stride for each output dim */
} mcu_transpose_params;

mcu_status mcu_transpose(const mcu_transpose_params *params, int32_t element_bytes,
                         const void *input, void *output);

/* SPLIT, SPLIT_V, UNPACK: for each of `outer` rows, output i takes the next copy_bytes[i]
 * bytes of the input (the inverse of mcu_concat). */
mcu_status mcu_split(int32_t num_outputs, void *const *outputs, const int32_t *copy_bytes,
                     int32_t outer, const void *input);

typedef struct {
    int32_t out_dims[MCU_MAX_DIMS];  /* output shape (shrunk axes as 1) padded at the front with 1s */
    int32_t step[MCU_MAX_DIMS];      /* signed input element step per output dim */
    int32_t start;                   /* input element of output element 0 */
} mcu_strided_slice_params;

/* SLICE, STRIDED_SLICE: output (o0..o5) = input[start + sum(o_k * step[k])] */
mcu_status mcu_strided_slice(const mcu_strided_slice_params *params, int32_t element_bytes,
                             const void *input, void *output);

typedef struct {
    int32_t batch_size;   /* product of the input dims before batch_dims */
    int32_t outer_size;   /* product of the input dims from batch_dims to the axis */
    int32_t axis_size;
    int32_t coord_size;   /* positions per batch */
    int32_t inner_bytes;  /* bytes of one row after the axis */
} mcu_gather_params;

/* GATHER with int32 positions; MCU_ERROR_ARGUMENT for a position outside the axis */
mcu_status mcu_gather(const mcu_gather_params *params, const int32_t *positions, const void *input,
                      void *output);

typedef struct {
    int32_t batches, input_height, input_width, output_height, output_width, depth;
    int32_t element_bytes;
    int32_t height_scale_10, width_scale_10;  /* bilinear: input/output in 1/1024ths */
    int32_t half_pixel_centers;               /* bilinear: 1 or 0 */
} mcu_resize_params;

/* RESIZE_NEAREST_NEIGHBOR on NHWC: output row y, column x = input row y_index[y], column x_index[x] */
mcu_status mcu_resize_nearest(const mcu_resize_params *params, const int32_t *y_index,
                              const int32_t *x_index, const void *input, void *output);
/* RESIZE_BILINEAR on int8 NHWC with TFLM's integer arithmetic */
mcu_status mcu_resize_bilinear_s8(const mcu_resize_params *params, const int8_t *input,
                                  int8_t *output);

/* ---- (de)quantization ------------------------------------------------------------ */

typedef struct {
    int32_t multiplier, shift;
    int32_t input_zero_point;
    int32_t output_zero_point;
} mcu_requantize_params;

mcu_status mcu_quantize_f32_s8(float scale, int32_t zero_point, int32_t size,
                               const float *input, int8_t *output);
mcu_status mcu_quantize_f32_s16(float scale, int32_t zero_point, int32_t size,
                                const float *input, int16_t *output);
mcu_status mcu_requantize_s8_s8(const mcu_requantize_params *params, int32_t size,
                                const int8_t *input, int8_t *output);
mcu_status mcu_requantize_u8_s8(const mcu_requantize_params *params, int32_t size,
                                const uint8_t *input, int8_t *output);
mcu_status mcu_requantize_s8_u8(const mcu_requantize_params *params, int32_t size,
                                const int8_t *input, uint8_t *output);
mcu_status mcu_requantize_s16_s8(const mcu_requantize_params *params, int32_t size,
                                 const int16_t *input, int8_t *output);
mcu_status mcu_requantize_s8_s16(const mcu_requantize_params *params, int32_t size,
                                 const int8_t *input, int16_t *output);
mcu_status mcu_requantize_s16_s16(const mcu_requantize_params *params, int32_t size,
                                  const int16_t *input, int16_t *output);
mcu_status mcu_requantize_s8_s32(const mcu_requantize_params *params, int32_t size,
                                 const int8_t *input, int32_t *output);
mcu_status mcu_requantize_s16_s32(const mcu_requantize_params *params, int32_t size,
                                  const int16_t *input, int32_t *output);
mcu_status mcu_requantize_s32_s8(const mcu_requantize_params *params, int32_t size,
                                 const int32_t *input, int8_t *output);
mcu_status mcu_requantize_s32_s16(const mcu_requantize_params *params, int32_t size,
                                  const int32_t *input, int16_t *output);

mcu_status mcu_dequantize_s8_f32(float scale, int32_t zero_point, int32_t size,
                                 const int8_t *input, float *output);
mcu_status mcu_dequantize_u8_f32(float scale, int32_t zero_point, int32_t size,
                                 const uint8_t *input, float *output);
mcu_status mcu_dequantize_s16_f32(float scale, int32_t zero_point, int32_t size,
                                  const int16_t *input, float *output);

/* ---- recurrent ------------------------------------------------------------------- */

typedef struct {
    int32_t batches, input_size, filters, units, rank, memory;
    int32_t input_zero_point;
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t multiplier1, shift1;   /* input x feature weights -> state */
    int32_t multiplier2, shift2;   /* state x time weights -> output */
    int32_t act_min, act_max;      /* fused activation, in output units */
} mcu_svdf_params;

/* Scratch: batches * (filters + units) int32. The state [batches, filters * memory]
 * persists between runs and is updated in place. */
int32_t mcu_svdf_s8_get_buffer_size(int32_t batches, int32_t filters, int32_t units);
mcu_status mcu_svdf_s8(const mcu_context *ctx, const mcu_svdf_params *params,
                       const int8_t *input, const int8_t *weights_feature,
                       const int8_t *weights_time, const int32_t *bias, int8_t *state,
                       int8_t *output);
mcu_status mcu_svdf_s8_s16(const mcu_context *ctx, const mcu_svdf_params *params,
                           const int8_t *input, const int8_t *weights_feature,
                           const int16_t *weights_time, const int32_t *bias, int16_t *state,
                           int8_t *output);

/* ---- 16x8: int16 activations, int8 weights, int64 bias (TFLM's 16x8 quantization) ---- */
/* The zero points of int16 tensors are 0 (TFLM requires it), so these kernels take no
 * input or output offsets except FULLY_CONNECTED, which TFLM's reference applies. */

mcu_status mcu_conv2d_s16(const mcu_conv_params *params, const mcu_per_channel_quant *quant,
                          const mcu_dims *input_dims, const int16_t *input,
                          const mcu_dims *filter_dims, const int8_t *filter, const int64_t *bias,
                          const mcu_dims *output_dims, int16_t *output);
mcu_status mcu_depthwise_conv2d_s16(const mcu_dw_conv_params *params,
                                    const mcu_per_channel_quant *quant, const mcu_dims *input_dims,
                                    const int16_t *input, const mcu_dims *filter_dims,
                                    const int8_t *filter, const int64_t *bias,
                                    const mcu_dims *output_dims, int16_t *output);
mcu_status mcu_fully_connected_s16(const mcu_fc_params *params, const mcu_per_channel_quant *quant,
                                   const mcu_dims *input_dims, const int16_t *input,
                                   const mcu_dims *filter_dims, const int8_t *filter,
                                   const int64_t *bias, const mcu_dims *output_dims,
                                   int16_t *output);
/* ADD (left shift 15) and MUL over an mcu_broadcast (equal shapes: one flat run) */
mcu_status mcu_add_s16(const mcu_add_params *params, const mcu_broadcast *bcast,
                       const int16_t *input1, const int16_t *input2, int16_t *output);
mcu_status mcu_mul_s16(const mcu_mul_params *params, const mcu_broadcast *bcast,
                       const int16_t *input1, const int16_t *input2, int16_t *output);

/* SOFTMAX int16 -> int16 (output scale 1/32768): exp and 1/(1+x) through two 513-entry
 * interpolated tables computed at generation time, as TFLM's SoftmaxInt16. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_shift;
    const int16_t *exp_lut;                 /* exp on [-10, 0] */
    const int16_t *one_over_one_plus_x_lut; /* 1 / (1 + x) on [0, 1] */
} mcu_softmax_s16_params;

mcu_status mcu_softmax_s16(const mcu_softmax_s16_params *params, int32_t outer, int32_t depth,
                           const int16_t *input, int16_t *output);

/* MEAN on int16, as the int8 kernel (TFLM's QuantizedMeanOrSum<int16_t>) */
int32_t mcu_mean_s16_get_buffer_size(int32_t output_size);
mcu_status mcu_mean_s16(const mcu_context *ctx, const mcu_mean_params *params, const int16_t *input,
                        int16_t *output);

/* AVERAGE_POOL_2D and MAX_POOL_2D on int16, as the int8 kernels */
mcu_status mcu_avgpool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                           const mcu_dims *input_dims, const int16_t *input,
                           const mcu_dims *output_dims, int16_t *output);
mcu_status mcu_maxpool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                           const mcu_dims *input_dims, const int16_t *input,
                           const mcu_dims *output_dims, int16_t *output);

/* LOGISTIC and TANH int16 -> int16 (output scale 2^-15, zero points 0), as TFLM's int16
 * kernels: the input rescaled (input_multiplier 0: a power-of-two scale, 3 << shift), then
 * linear interpolation in TFLM's 256-entry sigmoid(i/24) table (unsigned Q0.16); tanh(x)
 * = 2 sigmoid(2x) - 1 reads the same table. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    const uint16_t *sigmoid_table;
} mcu_sigmoid_s16_params;

mcu_status mcu_logistic_s16(const mcu_sigmoid_s16_params *params, int32_t size, const int16_t *input,
                            int16_t *output);
mcu_status mcu_tanh_s16(const mcu_sigmoid_s16_params *params, int32_t size, const int16_t *input,
                        int16_t *output);

/* TFLite_Detection_PostProcess (mcu_detection_postprocess_f32.c): box decoding against the
 * anchors [num_boxes][4] (ycenter, xcenter, h, w) and fast or regular non-maximum suppression. */
typedef struct {
    int32_t num_boxes;                    /* anchors */
    int32_t box_stride;                   /* floats per box encoding (>= 4: y, x, h, w first) */
    int32_t num_classes;                  /* without the background */
    int32_t num_classes_with_background;  /* the scores' last dimension: num_classes or one more */
    int32_t max_detections;
    int32_t max_classes_per_detection;    /* fast NMS */
    int32_t detections_per_class;         /* regular NMS */
    int32_t use_regular_nms;
    float score_threshold, iou_threshold;
    float y_scale, x_scale, h_scale, w_scale;
} mcu_detection_params;

int32_t mcu_detection_postprocess_get_buffer_size(const mcu_detection_params *params);
mcu_status mcu_detection_postprocess_f32(const mcu_context *ctx, const mcu_detection_params *params,
                                         const float *box_encodings, const float *class_scores,
                                         const float *anchors, float *detection_boxes,
                                         float *detection_classes, float *detection_scores,
                                         float *num_detections);

/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 with an int16 cell state (mcu_lstm_s8.c).
 * Gates in TFLite's order: 0 input, 1 forget, 2 cell, 3 output. */
typedef struct {
    int32_t batches, time_steps, input_size, units;
    int32_t time_major;                       /* 1: input [time, batch, in]; 0: [batch, time, in] */
    int32_t input_zero_point, hidden_zero_point;
    int32_t input_multiplier[4], input_shift[4];         /* input x weights -> gate Q3.12 */
    int32_t recurrent_multiplier[4], recurrent_shift[4]; /* hidden x weights -> gate Q3.12 */
    int32_t forget_multiplier, forget_shift;             /* forget x cell -> cell */
    int32_t input_gate_multiplier, input_gate_shift;     /* input gate x cell gate -> cell */
    int32_t output_multiplier, output_shift;             /* output gate x tanh(cell) -> hidden */
    int32_t cell_tanh_multiplier, cell_tanh_shift;       /* the cell scale into tanh's input */
    int32_t cell_clip;                                   /* in cell units; 0: no clipping */
} mcu_lstm_params;

typedef struct {
    const int8_t *input_weights[4];     /* per gate [units, input_size] */
    const int8_t *recurrent_weights[4]; /* per gate [units, units] */
    const int32_t *bias[4];             /* per gate [units] */
} mcu_lstm_weights;

/* Scratch: 4 * rows * units int16, rows = batches when time-major, else 1. The
 * hidden [batches, units] and cell [batches, units] states persist between runs. */
int32_t mcu_lstm_s8_get_buffer_size(int32_t rows, int32_t units);
/* The pieces a variant shares (mcu_lstm_s8.c): a gate's Q3.12 sum from its input and
 * recurrent accumulators (bias and zero points included), and the step's end from the
 * four gate sums gates[4][n] (input, forget, cell, output; overwritten): the cell and
 * hidden state updates and the output copy. */
int16_t mcu_lstm_gate_sum(const mcu_lstm_params *p, int32_t gate, int32_t input_acc, int32_t recurrent_acc);
void mcu_lstm_s8_update(const mcu_lstm_params *p, int16_t *gates, int32_t n, int16_t *cell_state,
                        int8_t *hidden_state, int8_t *output);
mcu_status mcu_lstm_s8(const mcu_context *ctx, const mcu_lstm_params *params, const mcu_lstm_weights *weights,
                       const int8_t *input, int8_t *hidden_state, int16_t *cell_state, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* MCU_KERNELS_H */
