"""Pooling and reductions on the portable kernels: AVERAGE_POOL_2D, MAX_POOL_2D, MEAN."""

from __future__ import annotations

from functools import partial

from mcugen.lower import quant as Q
from mcugen.lower.call import C_TYPES, SHORT, KernelCall, StructParam, activation, check_dtype, in_tensor
from mcugen.lower.call import nhwc, out_tensor, qparams, require
from mcugen.lower.reduce import reduction
from mcugen.model.graph import Graph, Operator


def lower_pool(graph: Graph, op: Operator, kernel: str, dtype: str = "int8") -> KernelCall:
    """A pooling op on `kernel`, whose input and output are `dtype` (int8; int16 for 16x8)."""
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, (dtype,), "input")
    check_dtype(out, (dtype,), "output")
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    require(abs(in_scale - out_scale) <= 1e-6 and in_zp == out_zp, "input and output quantization differ")
    ind, od = nhwc(x), nhwc(out)
    fh, fw = op.option("filter_height", 1), op.option("filter_width", 1)
    sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
    pad_kind = op.option("padding", "VALID")
    oh, pad_h = Q.op_padding(op, "h", sh, 1, ind["h"], fh, "VALID")
    ow, pad_w = Q.op_padding(op, "w", sw, 1, ind["w"], fw, "VALID")
    require((oh, ow) == (od["h"], od["w"]), "output size differs from the tensor's")
    act_min, act_max = activation(op, out)
    structs = (
        StructParam("params", "mcu_pool_params", {
            "stride_w": sw, "stride_h": sh, "pad_w": pad_w, "pad_h": pad_h,
            "filter_w": fw, "filter_h": fh, "act_min": act_min, "act_max": act_max,
        }),
        StructParam("in_dims", "mcu_dims", ind),
        StructParam("out_dims", "mcu_dims", od),
    )
    ctype = C_TYPES[dtype]
    call = f"{kernel}(NULL, &$s_params, &$s_in_dims, (const {ctype} *)$in0, &$s_out_dims, ({ctype} *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{fh}x{fw} stride {sh}x{sw} {pad_kind}")


def lower_mean(graph: Graph, op: Operator, dtype: str = "int8") -> KernelCall:
    """MEAN of `dtype` (int8; int16 for 16x8) values."""
    x = in_tensor(graph, op, 0, "input")
    axis_t = in_tensor(graph, op, 1, "axis")
    out = out_tensor(graph, op)
    check_dtype(x, (dtype,), "input")
    check_dtype(out, (dtype,), "output")
    r = reduction(x, axis_t, out)  # TFLM's ResolveAxis and the output layout, as SUM and REDUCE_MAX
    dims, out_stride, num = r.dims, r.out_stride, r.reduced
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    mult, shift = Q.mean_multiplier(in_scale, out_scale, num)
    scratch = out.size * 4
    structs = (
        StructParam("params", "mcu_mean_params", {
            "dims": dims, "out_stride": out_stride, "output_size": out.size, "num_reduced": num,
            "input_zero_point": in_zp, "output_zero_point": out_zp, "multiplier": mult, "shift": shift,
        }),
    )
    setup = "const mcu_context ctx = { $scratch, $scratch_size };"
    kernel, ctype = f"mcu_mean_{SHORT[dtype]}", C_TYPES[dtype]
    call = f"{kernel}(&ctx, &$s_params, (const {ctype} *)$in0, ({ctype} *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), call,
                      setup=setup, structs=structs, scratch_bytes=scratch,
                      summary=f"axes {r.axes} keep_dims={bool(op.option('keep_dims', False))}, {num} elements each")


LOWERINGS = {
    "AVERAGE_POOL_2D": partial(lower_pool, kernel="mcu_avgpool_s8"),
    "MAX_POOL_2D": partial(lower_pool, kernel="mcu_maxpool_s8"),
    "MEAN": lower_mean,
}
