"""Reductions beyond MEAN on the portable kernels: SUM, REDUCE_MAX (any axes, keep_dims or
not, negative axes) and ARG_MAX (one axis, int32 indices)."""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.lower import quant as Q
from mcugen.lower.call import MAX_DIMS, KernelCall, StructParam, check_dtype, const_data, in_tensor, out_tensor
from mcugen.lower.call import pad6, qparams, require
from mcugen.model.graph import Graph, Operator, Tensor


@dataclass(frozen=True)
class Reduction:
    dims: list[int]  # the input shape padded to MAX_DIMS
    out_stride: list[int]  # the output's element stride per padded input dim, 0 on the reduced ones
    reduced: int  # input elements per output element
    axes: list[int]  # the reduced axes of the unpadded input, as given (negative ones resolved)


def reduction(x: Tensor, axis_t: Tensor, out: Tensor) -> Reduction:
    """Where each input element accumulates: TFLM's ResolveAxis (negative axes count from
    the end, repeated axes once); the output layout is the same with or without keep_dims."""
    rank = len(x.shape)
    axes: list[int] = []
    for a in (int(v) for v in const_data(axis_t, "the axis").reshape(-1)):
        a = a + rank if a < 0 else a
        require(0 <= a < rank, f"axis {a} out of range for rank {rank}")
        if a not in axes:
            axes.append(a)
    dims = pad6(x.shape)
    reduced_dims = {a + MAX_DIMS - rank for a in axes}
    out_stride = [0] * MAX_DIMS
    acc = 1
    for k in reversed([k for k in range(MAX_DIMS) if k not in reduced_dims]):
        out_stride[k] = acc
        acc *= dims[k]
    require(acc == out.size, "output size differs from the reduced input")
    count = 1
    for k in reduced_dims:
        count *= dims[k]
    return Reduction(dims, out_stride, count, axes)


def _int8_reduction(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, Reduction]:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8",), "output")
    return x, out, reduction(x, in_tensor(graph, op, 1, "axis"), out)


def lower_sum(graph: Graph, op: Operator) -> KernelCall:
    """TFLM's int8 SUM is QuantizedMeanOrSum without the 1/n: mcu_mean_s8 with the plain
    input-to-output multiplier runs it (int32 sums in scratch, zero points corrected once)."""
    x, out, r = _int8_reduction(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    mult, shift = Q.quantize_multiplier(float(in_scale) / float(out_scale))
    structs = (StructParam("params", "mcu_mean_params", {
        "dims": r.dims, "out_stride": r.out_stride, "output_size": out.size, "num_reduced": r.reduced,
        "input_zero_point": in_zp, "output_zero_point": out_zp, "multiplier": mult, "shift": shift}),)
    setup = "const mcu_context ctx = { $scratch, $scratch_size };"
    call = "mcu_mean_s8(&ctx, &$s_params, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_mean_s8", ("mcu_mean_s8.c",), (x.index,), (out.index,), call,
                      setup=setup, structs=structs, scratch_bytes=out.size * 4,
                      summary=f"sum over axes {r.axes} keep_dims={bool(op.option('keep_dims', False))}, "
                              f"{r.reduced} elements each")


def lower_reduce_max(graph: Graph, op: Operator) -> KernelCall:
    x, out, r = _int8_reduction(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    # TFLM's EvalMax refuses differing quantizations (it compares raw values).
    require(in_scale == out_scale and in_zp == out_zp, "input and output quantization differ")
    structs = (StructParam("params", "mcu_reduce_params", {
        "dims": r.dims, "out_stride": r.out_stride, "output_size": out.size}),)
    call = "mcu_reduce_max_s8(&$s_params, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_reduce_max_s8", ("mcu_reduce_max_s8.c",), (x.index,), (out.index,),
                      call, structs=structs,
                      summary=f"max over axes {r.axes} keep_dims={bool(op.option('keep_dims', False))}, "
                              f"{r.reduced} elements each")


def lower_arg_max(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int32",), "output")  # TFLM's ArgMax writes int32 indices only
    axis = const_data(in_tensor(graph, op, 1, "axis"), "the axis").reshape(-1)
    require(axis.size == 1, "ARG_MAX takes exactly one axis")
    rank = len(x.shape)
    k = int(axis[0])
    k = k + rank if k < 0 else k
    require(0 <= k < rank, f"axis {int(axis[0])} out of range for rank {rank}")
    outer = 1
    for d in x.shape[:k]:
        outer *= int(d)
    inner = 1
    for d in x.shape[k + 1:]:
        inner *= int(d)
    size = int(x.shape[k])
    require(size > 0 and outer * inner == out.size, "output size differs from the input without its axis")
    call = f"mcu_arg_max_s8({outer}, {size}, {inner}, (const int8_t *)$in0, (int32_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_arg_max_s8", ("mcu_arg_max_s8.c",), (x.index,), (out.index,),
                      call, summary=f"axis {k} of {list(x.shape)}")


LOWERINGS = {
    "SUM": lower_sum,
    "REDUCE_MAX": lower_reduce_max,
    "ARG_MAX": lower_arg_max,
}
