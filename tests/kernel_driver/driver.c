/*
 * driver.c - runs test cases of the Cortex-M7 kernels against the portable
 * kernels, on the host (ACLE emulation) or on QEMU (real instructions).
 *
 * Reads cases.bin, writes results.bin (tests/arm_harness.py writes and reads
 * them; all integers little-endian int32):
 *   cases.bin:   "MKC1", n_cases, then per case:
 *                portable kind, arm kind, output bytes, overlap distance (-1: none),
 *                input shift (0..3), n_blobs, then n_blobs x (bytes, data padded to 4)
 *   results.bin: "MKR1", n_cases, then per case:
 *                portable status, arm status, CMSIS-NN status, portable instructions (lo, hi),
 *                arm instructions (lo, hi), CMSIS-NN instructions (lo, hi), output bytes,
 *                portable output, arm output, CMSIS-NN output (each padded to 4)
 * Built with -DDRIVER_CMSIS (and CMSIS-NN's sources), the driver also runs the
 * CMSIS-NN kernel TFLM would call for the operator, for comparison; otherwise its
 * status is DRIVER_NO_CMSIS.
 * The portable kernel runs with separate aligned buffers. The Cortex-M7 kernel
 * runs with its input `input shift` bytes past an aligned address and, when the
 * overlap distance d >= 0, in one arena with the output starting d bytes below
 * the input (the planner's in-place placement).
 */
#include <stdint.h>
#include <string.h>

#include "arm/mcu_arm_kernels.h"
#include "driver_io.h"
#include "mcu_kernels.h"
#ifdef DRIVER_CMSIS
#include "arm_nnfunctions.h"
#endif

#define DRIVER_NO_CMSIS (-100)

#ifndef DRIVER_POOL_BYTES
#define DRIVER_POOL_BYTES (3u * 1024u * 1024u)
#endif
#define MAX_BLOBS 16

enum { B_IN_DIMS, B_INPUT, B_OUT_DIMS, B_INPUT2, B_P_PARAMS, B_P_FILTER_DIMS, B_P_FILTER, B_P_BIAS, B_P_MULT,
       B_P_SHIFT, B_A_PARAMS, B_A_FILTER_DIMS, B_A_FILTER, B_A_RQ, B_A_SCRATCH };
enum { P_ACLE = 0, P_CONV = 1, P_DW = 2, P_FC = 3, P_AVGPOOL = 4, P_ADD = 5 };

#define ACLE_RESULTS 16 /* results per input triple, see acle_check() */

/* Every mcu_arm_acle.h operation on the triples (a, b, c) of the input blob: the
 * same case run on the host (emulation) and on QEMU (instructions) must agree. */
static void acle_check(const int32_t *in, int32_t triples, int32_t *out)
{
    int32_t i;
    for (i = 0; i < triples; ++i, in += 3, out += ACLE_RESULTS) {
        const int32_t a = in[0], b = in[1], c = in[2];
        out[0] = mcu_sxtb16(a);
        out[1] = mcu_sxtb16_ror8(a);
        out[2] = mcu_sxtab16(b, a);
        out[3] = mcu_sxtab16_ror8(b, a);
        out[4] = mcu_sadd16(a, b);
        out[5] = mcu_smlad(a, b, c);
        out[6] = mcu_smlabb(a, b, c);
        out[7] = mcu_smlatt(a, b, c);
        out[8] = mcu_pkhbt16(a, b);
        out[9] = mcu_pkhtb16(a, b);
        out[10] = mcu_smmlar(a, b, c);
        out[11] = mcu_ssat8(a >> (c & 31));
        out[12] = mcu_max8x4(a, b);
        out[13] = mcu_min8x4(a, b);
        out[14] = mcu_pack8x4(a, b, c, a >> 8);
        out[15] = mcu_bfi8(a, b) ^ mcu_arm_requant_fast(a, b & 0x7FFFFFFF, c >> 1, 1 + (c & 15));
    }
}
enum { A_CONV1X1 = 1, A_CONV = 2, A_DW3X3 = 3, A_FC = 4, A_AVGPOOL = 5, A_ADD = 6, A_DW = 7 };

typedef struct {
    int32_t size;
    void *data;
} blob;

static blob blobs[MAX_BLOBS];

#ifdef DRIVER_MALLOC
/* Host sanitizer builds: one heap block per buffer, so that AddressSanitizer
 * sees any read past a tensor; freed after each case. */
#include <stdlib.h>
static void *allocated[64];
static int n_allocated;

static void *pool_alloc(uint32_t bytes)
{
    void *p = aligned_alloc(16, ((size_t)bytes + 15u) & ~(size_t)15u);
    if (p == NULL || n_allocated == 64) {
        io_exit(3);
    }
    allocated[n_allocated++] = p;
    return p;
}

static void pool_reset(void)
{
    while (n_allocated > 0) {
        free(allocated[--n_allocated]);
    }
}
#define ARENA_SLACK 0
#else
static uint8_t pool[DRIVER_POOL_BYTES] __attribute__((aligned(16)));
static uint32_t pool_used;

static void pool_reset(void) { pool_used = 0; }
#define ARENA_SLACK 16

static void *pool_alloc(uint32_t bytes)
{
    void *p;
    pool_used = (pool_used + 15u) & ~15u;
    if (pool_used + bytes > DRIVER_POOL_BYTES) {
        io_exit(3);
    }
    p = pool + pool_used;
    pool_used += bytes;
    return p;
}
#endif

static int32_t read_i32(int h)
{
    int32_t v = 0;
    if (io_read(h, &v, 4) != 4) {
        io_exit(4);
    }
    return v;
}

static void write_i32(int h, int32_t v) { io_write(h, &v, 4); }

static void write_padded(int h, const void *data, int32_t n)
{
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    io_write(h, data, n);
    if (n & 3) {
        io_write(h, zeros, 4 - (n & 3));
    }
}

#define BLOB(i, T) ((T)(blobs[i].size ? blobs[i].data : NULL))

static void copy_struct(void *dst, int32_t dst_size, int i)
{
    if (blobs[i].size != dst_size) {
        io_exit(5);
    }
    memcpy(dst, blobs[i].data, (size_t)dst_size);
}

static mcu_status run_portable(int kind, int8_t *out)
{
    mcu_dims in_dims, out_dims, f_dims, b_dims;
    mcu_per_channel_quant quant;
    copy_struct(&in_dims, sizeof in_dims, B_IN_DIMS);
    copy_struct(&out_dims, sizeof out_dims, B_OUT_DIMS);
    quant.multiplier = BLOB(B_P_MULT, const int32_t *);
    quant.shift = BLOB(B_P_SHIFT, const int32_t *);
    b_dims.n = b_dims.h = b_dims.w = 1;
    b_dims.c = out_dims.c;
    switch (kind) {
    case P_CONV: {
        mcu_conv_params p;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_P_FILTER_DIMS);
        return mcu_conv2d_s8(NULL, &p, &quant, &in_dims, BLOB(B_INPUT, const int8_t *), &f_dims,
                             BLOB(B_P_FILTER, const int8_t *), &b_dims, BLOB(B_P_BIAS, const int32_t *),
                             &out_dims, out);
    }
    case P_DW: {
        mcu_dw_conv_params p;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_P_FILTER_DIMS);
        return mcu_depthwise_conv2d_s8(NULL, &p, &quant, &in_dims, BLOB(B_INPUT, const int8_t *), &f_dims,
                                       BLOB(B_P_FILTER, const int8_t *), &b_dims, BLOB(B_P_BIAS, const int32_t *),
                                       &out_dims, out);
    }
    case P_FC: {
        mcu_fc_params p;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_P_FILTER_DIMS);
        return mcu_fully_connected_s8(NULL, &p, &quant, &in_dims, BLOB(B_INPUT, const int8_t *), &f_dims,
                                      BLOB(B_P_FILTER, const int8_t *), &b_dims, BLOB(B_P_BIAS, const int32_t *),
                                      &out_dims, out);
    }
    case P_AVGPOOL: {
        mcu_pool_params p;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        return mcu_avgpool_s8(NULL, &p, &in_dims, BLOB(B_INPUT, const int8_t *), &out_dims, out);
    }
    case P_ADD: {
        mcu_add_params p;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        return mcu_add_s8(&p, blobs[B_INPUT].size, BLOB(B_INPUT, const int8_t *), BLOB(B_INPUT2, const int8_t *),
                          out);
    }
    default:
        return MCU_ERROR_ARGUMENT;
    }
}

static mcu_status run_arm(int kind, const int8_t *in, int8_t *out, uint64_t *count)
{
    mcu_dims in_dims, out_dims, f_dims;
    mcu_context ctx;
    mcu_status st;
    uint64_t t0;
    copy_struct(&in_dims, sizeof in_dims, B_IN_DIMS);
    copy_struct(&out_dims, sizeof out_dims, B_OUT_DIMS);
    ctx.size = blobs[B_A_SCRATCH].size ? *BLOB(B_A_SCRATCH, const int32_t *) : 0;
    ctx.buf = ctx.size ? pool_alloc((uint32_t)ctx.size) : NULL;
    switch (kind) {
    case A_CONV1X1:
    case A_CONV:
    case A_DW3X3:
    case A_DW: {
        mcu_arm_conv_params p;
        copy_struct(&p, sizeof p, B_A_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_A_FILTER_DIMS);
        t0 = io_counter();
        if (kind == A_CONV1X1) {
            st = mcu_conv2d_1x1_s8_arm(&ctx, &p, &in_dims, in, &f_dims, BLOB(B_A_FILTER, const int32_t *),
                                       &out_dims, out);
        } else if (kind == A_CONV) {
            st = mcu_conv2d_s8_arm(&ctx, &p, &in_dims, in, &f_dims, BLOB(B_A_FILTER, const int32_t *),
                                   &out_dims, out);
        } else if (kind == A_DW3X3) {
            st = mcu_depthwise_conv2d_3x3_s8_arm(&ctx, &p, &in_dims, in, &f_dims,
                                                 BLOB(B_A_FILTER, const int32_t *), &out_dims, out);
        } else {
            st = mcu_depthwise_conv2d_s8_arm(&ctx, &p, &in_dims, in, &f_dims, BLOB(B_A_FILTER, const int32_t *),
                                             &out_dims, out);
        }
        *count = io_counter() - t0;
        return st;
    }
    case A_FC: {
        mcu_arm_fc_params p;
        copy_struct(&p, sizeof p, B_A_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_A_FILTER_DIMS);
        t0 = io_counter();
        st = mcu_fully_connected_s8_arm(&ctx, &p, &in_dims, in, &f_dims, BLOB(B_A_FILTER, const int32_t *),
                                        &out_dims, out);
        *count = io_counter() - t0;
        return st;
    }
    case A_AVGPOOL: {
        mcu_pool_params p;
        copy_struct(&p, sizeof p, B_A_PARAMS);
        t0 = io_counter();
        st = mcu_avgpool_s8_arm(&ctx, &p, &in_dims, in, &out_dims, out);
        *count = io_counter() - t0;
        return st;
    }
    case A_ADD: {
        mcu_arm_add_params p;
        const int32_t *tables = BLOB(B_A_RQ, const int32_t *);
        if (blobs[B_A_PARAMS].size != 7 * 4 || blobs[B_A_RQ].size != 512 * 4) {
            io_exit(5);
        }
        memcpy(&p.mult, blobs[B_A_PARAMS].data, 7 * 4);
        p.table1 = tables;
        p.table2 = tables + 256;
        t0 = io_counter();
        st = mcu_add_s8_arm(&p, blobs[B_INPUT].size, in, BLOB(B_INPUT2, const int8_t *), out);
        *count = io_counter() - t0;
        return st;
    }
    default:
        return MCU_ERROR_ARGUMENT;
    }
}

#ifdef DRIVER_CMSIS
/* The CMSIS-NN call TFLM's cmsis_nn kernels make for the operator. */
static int32_t run_cmsis(int kind, int8_t *out, uint64_t *count)
{
    mcu_dims in_dims, out_dims, f_dims;
    cmsis_nn_context ctx = {NULL, 0};
    cmsis_nn_dims id, fd, od, bd;
    int32_t st;
    uint64_t t0;
    const int32_t *bias;
    copy_struct(&in_dims, sizeof in_dims, B_IN_DIMS);
    copy_struct(&out_dims, sizeof out_dims, B_OUT_DIMS);
    id.n = in_dims.n; id.h = in_dims.h; id.w = in_dims.w; id.c = in_dims.c;
    od.n = out_dims.n; od.h = out_dims.h; od.w = out_dims.w; od.c = out_dims.c;
    bd.n = bd.h = bd.w = 1;
    bd.c = out_dims.c;
    bias = BLOB(B_P_BIAS, const int32_t *);
    if (bias == NULL) {
        int32_t *zeros = (int32_t *)pool_alloc((uint32_t)out_dims.c * 4u);
        memset(zeros, 0, (size_t)out_dims.c * 4u);
        bias = zeros;
    }
    switch (kind) {
    case P_CONV: {
        mcu_conv_params p;
        cmsis_nn_conv_params cp;
        cmsis_nn_per_channel_quant_params q;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_P_FILTER_DIMS);
        fd.n = f_dims.n; fd.h = f_dims.h; fd.w = f_dims.w; fd.c = f_dims.c;
        cp.input_offset = p.input_offset;
        cp.output_offset = p.output_offset;
        cp.stride.w = p.stride_w; cp.stride.h = p.stride_h;
        cp.padding.w = p.pad_w; cp.padding.h = p.pad_h;
        cp.dilation.w = p.dilation_w; cp.dilation.h = p.dilation_h;
        cp.activation.min = p.act_min; cp.activation.max = p.act_max;
        q.multiplier = BLOB(B_P_MULT, int32_t *);
        q.shift = BLOB(B_P_SHIFT, int32_t *);
        ctx.size = arm_convolve_wrapper_s8_get_buffer_size(&cp, &id, &fd, &od);
        ctx.buf = ctx.size > 0 ? pool_alloc((uint32_t)ctx.size) : NULL;
        t0 = io_counter();
        st = arm_convolve_wrapper_s8(&ctx, &cp, &q, &id, BLOB(B_INPUT, const int8_t *), &fd,
                                     BLOB(B_P_FILTER, const int8_t *), &bd, bias, &od, out);
        *count = io_counter() - t0;
        return st;
    }
    case P_DW: {
        mcu_dw_conv_params p;
        cmsis_nn_dw_conv_params dp;
        cmsis_nn_per_channel_quant_params q;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_P_FILTER_DIMS);
        fd.n = f_dims.n; fd.h = f_dims.h; fd.w = f_dims.w; fd.c = f_dims.c;
        dp.input_offset = p.input_offset;
        dp.output_offset = p.output_offset;
        dp.ch_mult = p.depth_multiplier;
        dp.stride.w = p.stride_w; dp.stride.h = p.stride_h;
        dp.padding.w = p.pad_w; dp.padding.h = p.pad_h;
        dp.dilation.w = p.dilation_w; dp.dilation.h = p.dilation_h;
        dp.activation.min = p.act_min; dp.activation.max = p.act_max;
        q.multiplier = BLOB(B_P_MULT, int32_t *);
        q.shift = BLOB(B_P_SHIFT, int32_t *);
        ctx.size = arm_depthwise_conv_wrapper_s8_get_buffer_size(&dp, &id, &fd, &od);
        ctx.buf = ctx.size > 0 ? pool_alloc((uint32_t)ctx.size) : NULL;
        t0 = io_counter();
        st = arm_depthwise_conv_wrapper_s8(&ctx, &dp, &q, &id, BLOB(B_INPUT, const int8_t *), &fd,
                                           BLOB(B_P_FILTER, const int8_t *), &bd, bias, &od, out);
        *count = io_counter() - t0;
        return st;
    }
    case P_FC: {
        mcu_fc_params p;
        cmsis_nn_fc_params fp;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        copy_struct(&f_dims, sizeof f_dims, B_P_FILTER_DIMS);
        fd.n = f_dims.c; /* accumulation depth */
        fd.h = fd.w = 1;
        fd.c = f_dims.n; /* units */
        fp.input_offset = p.input_offset;
        fp.filter_offset = p.filter_offset;
        fp.output_offset = p.output_offset;
        fp.activation.min = p.act_min;
        fp.activation.max = p.act_max;
        t0 = io_counter();
        if (blobs[B_P_MULT].size == 4 || BLOB(B_P_MULT, const int32_t *)[0] == BLOB(B_P_MULT, const int32_t *)[1]) {
            cmsis_nn_per_tensor_quant_params q;
            q.multiplier = BLOB(B_P_MULT, const int32_t *)[0];
            q.shift = BLOB(B_P_SHIFT, const int32_t *)[0];
            st = arm_fully_connected_s8(&ctx, &fp, &q, &id, BLOB(B_INPUT, const int8_t *), &fd,
                                        BLOB(B_P_FILTER, const int8_t *), &bd, bias, &od, out);
        } else {
            cmsis_nn_per_channel_quant_params q;
            q.multiplier = BLOB(B_P_MULT, int32_t *);
            q.shift = BLOB(B_P_SHIFT, int32_t *);
            st = arm_fully_connected_per_channel_s8(&ctx, &fp, &q, &id, BLOB(B_INPUT, const int8_t *), &fd,
                                                    BLOB(B_P_FILTER, const int8_t *), &bd, bias, &od, out);
        }
        *count = io_counter() - t0;
        return st;
    }
    case P_AVGPOOL: {
        mcu_pool_params p;
        cmsis_nn_pool_params pp;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        pp.stride.w = p.stride_w; pp.stride.h = p.stride_h;
        pp.padding.w = p.pad_w; pp.padding.h = p.pad_h;
        pp.activation.min = p.act_min; pp.activation.max = p.act_max;
        fd.n = 1; fd.h = p.filter_h; fd.w = p.filter_w; fd.c = 1;
        ctx.size = arm_avgpool_s8_get_buffer_size(od.w, id.c);
        ctx.buf = ctx.size > 0 ? pool_alloc((uint32_t)ctx.size) : NULL;
        t0 = io_counter();
        st = arm_avgpool_s8(&ctx, &pp, &id, BLOB(B_INPUT, const int8_t *), &fd, &od, out);
        *count = io_counter() - t0;
        return st;
    }
    case P_ADD: {
        mcu_add_params p;
        copy_struct(&p, sizeof p, B_P_PARAMS);
        t0 = io_counter();
        st = arm_elementwise_add_s8(BLOB(B_INPUT, const int8_t *), BLOB(B_INPUT2, const int8_t *),
                                    p.input1_offset, p.input1_multiplier, p.input1_shift, p.input2_offset,
                                    p.input2_multiplier, p.input2_shift, p.left_shift, out, p.output_offset,
                                    p.output_multiplier, p.output_shift, p.act_min, p.act_max,
                                    blobs[B_INPUT].size);
        *count = io_counter() - t0;
        return st;
    }
    default:
        return DRIVER_NO_CMSIS;
    }
}
#else
static int32_t run_cmsis(int kind, int8_t *out, uint64_t *count)
{
    (void)kind;
    (void)out;
    *count = 0;
    return DRIVER_NO_CMSIS;
}
#endif

static void put_count(int h, uint64_t v)
{
    write_i32(h, (int32_t)(uint32_t)v);
    write_i32(h, (int32_t)(uint32_t)(v >> 32));
}

int main(void)
{
    int in, out;
    int32_t n, k;
    io_init();
    in = io_open("cases.bin", 0);
    out = io_open("results.bin", 1);
    if (in < 0 || out < 0) {
        io_exit(2);
    }
    if (read_i32(in) != 0x31434B4D) { /* "MKC1" */
        io_exit(6);
    }
    n = read_i32(in);
    write_i32(out, 0x31524B4D); /* "MKR1" */
    write_i32(out, n);
    for (k = 0; k < n; ++k) {
        const int32_t pkind = read_i32(in), akind = read_i32(in), out_bytes = read_i32(in);
        const int32_t overlap = read_i32(in), in_shift = read_i32(in), n_blobs = read_i32(in);
        int8_t *out_p, *out_a, *out_c, *arena, *a_in, *a_out;
        uint64_t t0, count_p, count_a = 0, count_c = 0;
        mcu_status st_p, st_a;
        int32_t st_c;
        int32_t i, in_bytes, arena_bytes, in_off, out_off;
        pool_reset();
        memset(blobs, 0, sizeof blobs);
        if (n_blobs > MAX_BLOBS) {
            io_exit(7);
        }
        for (i = 0; i < n_blobs; ++i) {
            const int32_t size = read_i32(in);
            const int32_t padded = (size + 3) & ~3;
            blobs[i].size = size;
            blobs[i].data = pool_alloc((uint32_t)padded);
            if (io_read(in, blobs[i].data, padded) != padded) {
                io_exit(8);
            }
        }
        in_bytes = blobs[B_INPUT].size;
        out_p = (int8_t *)pool_alloc((uint32_t)out_bytes);
        memset(out_p, 0x55, (size_t)out_bytes);
        if (pkind == P_ACLE) {
            acle_check(BLOB(B_INPUT, const int32_t *), blobs[B_INPUT].size / 12, (int32_t *)out_p);
            write_i32(out, 0);
            write_i32(out, 0);
            write_i32(out, DRIVER_NO_CMSIS);
            put_count(out, 0);
            put_count(out, 0);
            put_count(out, 0);
            write_i32(out, out_bytes);
            write_padded(out, out_p, out_bytes);
            write_padded(out, out_p, out_bytes);
            write_padded(out, out_p, out_bytes);
            continue;
        }
        t0 = io_counter();
        st_p = run_portable(pkind, out_p);
        count_p = io_counter() - t0;

        /* the Cortex-M7 kernel's buffers */
        if (overlap >= 0) {
            out_off = 0;
            in_off = overlap;
        } else {
            out_off = 0;
            in_off = ((out_bytes + 15) & ~15) + 16;
        }
        if (in_off < 0) {
            out_off = -in_off;
            in_off = 0;
        }
        in_off += in_shift;
        out_off += in_shift;
        arena_bytes = (in_off + in_bytes > out_off + out_bytes ? in_off + in_bytes : out_off + out_bytes) + ARENA_SLACK;
        arena = (int8_t *)pool_alloc((uint32_t)arena_bytes);
        memset(arena, 0x55, (size_t)arena_bytes);
        a_in = arena + in_off;
        a_out = arena + out_off;
        memcpy(a_in, blobs[B_INPUT].data, (size_t)in_bytes);
        st_a = run_arm(akind, a_in, a_out, &count_a);
        out_a = (int8_t *)pool_alloc((uint32_t)out_bytes);
        memcpy(out_a, a_out, (size_t)out_bytes);

        out_c = (int8_t *)pool_alloc((uint32_t)out_bytes);
        memset(out_c, 0, (size_t)out_bytes);
        st_c = run_cmsis(pkind, out_c, &count_c);

        write_i32(out, st_p);
        write_i32(out, st_a);
        write_i32(out, st_c);
        put_count(out, count_p);
        put_count(out, count_a);
        put_count(out, count_c);
        write_i32(out, out_bytes);
        write_padded(out, out_p, out_bytes);
        write_padded(out, out_a, out_bytes);
        write_padded(out, out_c, out_bytes);
    }
    io_close(out);
    io_close(in);
    io_exit(0);
    return 0;
}
