"""Operators that move bytes: RESHAPE-like aliases, PAD, CONCATENATION and PACK, SPLIT,
SPLIT_V and UNPACK, TRANSPOSE and DEPTH_TO_SPACE/SPACE_TO_DEPTH (a transpose of a 6-D view),
GATHER. SLICE and STRIDED_SLICE are in mcugen.lower.slicing, the resizes in mcugen.lower.resize.

Copies run on raw values, as TFLM's kernels do; where TFLM assumes input and output share one
quantization without checking, the lowering refuses a model where they differ (the copy would
change what the values mean)."""

from __future__ import annotations

import numpy as np

from mcugen.lower.call import MAX_DIMS, KernelCall, StructParam, check_dtype, const_data, in_tensor, numel, opt_tensor
from mcugen.lower.call import out_tensor, pad6, qparams, require, strides
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator, Tensor
from mcugen.ops.movement import split_sizes


def lower_alias(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    require(x.nbytes == out.nbytes, "input and output sizes differ")
    require(x.dtype == out.dtype, "input and output types differ")
    return KernelCall(op.index, op.opcode, "", (), (x.index,), (out.index,), "", alias_bytes=out.nbytes,
                      summary=f"{list(x.shape)} -> {list(out.shape)}")


def lower_pad(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    pads = const_data(in_tensor(graph, op, 1, "paddings"), "the paddings").astype(np.int64).reshape(-1, 2)
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8",), "output")
    rank = len(x.shape)
    require(pads.shape[0] == rank, "paddings do not match the input rank")
    require((pads >= 0).all(), "negative padding")
    _, out_zp = qparams(out)
    pad_value = out_zp
    value_t = opt_tensor(graph, op, 2)
    if value_t is not None:
        value = const_data(value_t, "the pad value").reshape(-1)
        require(value.size == 1, "the pad value is not a scalar")
        require(value_t.dtype == x.dtype, "the pad value's type differs from the input's")
        pad_value = int(value[0])
    expected = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, pads))
    require(expected == tuple(out.shape), "output shape differs from input + paddings")
    lead = MAX_DIMS - rank
    before = [0] * lead + [int(a) for a, _ in pads]
    after = [0] * lead + [int(b) for _, b in pads]
    structs = (StructParam("params", "mcu_pad_params", {"dims": pad6(x.shape), "before": before, "after": after}),)
    call = f"mcu_pad_s8(&$s_params, {pad_value}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_pad_s8", ("mcu_pad_s8.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{[list(map(int, p)) for p in pads]} with {pad_value}")


def lower_concatenation(graph: Graph, op: Operator) -> KernelCall:
    out = out_tensor(graph, op)
    ins = [graph.tensors[i] for i in op.inputs if i >= 0]
    require(len(ins) >= 1, "no inputs")
    require(op.option("fused_activation_function", "NONE") == "NONE", "fused activation on CONCATENATION")
    check_dtype(out, ("int8", "uint8", "int16", "int32", "float32"), "output")
    for t in ins:
        require(t.dtype == out.dtype, "input and output types differ")
        if out.dtype in ("int8", "int16") and out.quant is not None:
            s, z = qparams(t)
            so, zo = qparams(out)
            require(s == so and z == zo, "inputs and output must share one quantization")
    rank = len(out.shape)
    axis = op.option("axis", 0)
    axis = axis + rank if axis < 0 else axis
    require(0 <= axis < rank, f"axis {axis} out of range")
    elem = DTYPE_SIZES[out.dtype]
    outer = numel(out.shape[:axis])
    copy = [numel(t.shape[axis:]) * elem for t in ins]
    require(sum(copy) * outer == out.nbytes, "inputs do not fill the output")
    n = len(ins)
    setup = (
        f"const void *const inputs[{n}] = {{ " + ", ".join(f"$in{k}" for k in range(n)) + " };\n"
        f"static const int32_t copy_bytes[{n}] = {{ " + ", ".join(str(c) for c in copy) + " };"
    )
    call = f"mcu_concat({n}, inputs, copy_bytes, {outer}, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_concat", ("mcu_concat.c",), tuple(t.index for t in ins),
                      (out.index,), call, setup=setup, summary=f"{n} inputs along axis {axis}")


def lower_transpose(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    perm = [int(v) for v in const_data(in_tensor(graph, op, 1, "perm"), "the permutation").reshape(-1)]
    out = out_tensor(graph, op)
    require(x.dtype == out.dtype, "input and output types differ")
    elem = DTYPE_SIZES[x.dtype]
    require(elem in (1, 2, 4), f"{x.dtype} elements")
    rank = len(x.shape)
    perm = [p + rank if p < 0 else p for p in perm]
    require(sorted(perm) == list(range(rank)), f"bad permutation {perm}")
    require(tuple(out.shape) == tuple(int(x.shape[p]) for p in perm), "output shape differs from the permutation")
    in_strides = strides([int(d) for d in x.shape])
    lead = MAX_DIMS - rank
    structs = (StructParam("params", "mcu_transpose_params", {
        "out_dims": pad6(out.shape), "in_stride": [0] * lead + [in_strides[p] for p in perm]}),)
    call = f"mcu_transpose(&$s_params, {elem}, $in0, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_transpose", ("mcu_transpose.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"perm {perm}")


COPY_TYPES = ("int8", "int16", "int32", "float32")  # what TFLM's copying kernels take (GATHER: int8, float32)


def same_quantization(x: Tensor, out: Tensor) -> None:
    """Input and output of a copy hold the same type and, when quantized, one scale and zero point."""
    require(x.dtype == out.dtype, f"input type {x.dtype} differs from output type {out.dtype}")
    if x.quant is not None and out.quant is not None and x.quant.scale and out.quant.scale:
        (s1, z1), (s2, z2) = qparams(x), qparams(out)
        require(s1 == s2 and z1 == z2, f"input quantization (scale {s1:g}, zero point {z1}) differs from the "
                f"output's ({s2:g}, {z2}); TFLM copies the raw values, so it needs them equal")


def _split_call(op: Operator, x: Tensor, outs: list[Tensor], outer: int, copy: list[int], summary: str) -> KernelCall:
    n = len(outs)
    setup = (
        f"void *const outputs[{n}] = {{ " + ", ".join(f"$out{k}" for k in range(n)) + " };\n"
        f"static const int32_t copy_bytes[{n}] = {{ " + ", ".join(str(c) for c in copy) + " };"
    )
    call = f"mcu_split({n}, outputs, copy_bytes, {outer}, $in0)"
    return KernelCall(op.index, op.opcode, "mcu_split", ("mcu_split.c",), (x.index,), tuple(t.index for t in outs),
                      call, setup=setup, summary=summary)


def lower_split(graph: Graph, op: Operator) -> KernelCall:
    """SPLIT (axis, input) and SPLIT_V (input, size_splits, axis): the axis and sizes are constants."""
    x = in_tensor(graph, op, 1 if op.opcode == "SPLIT" else 0, "input")
    outs = [out_tensor(graph, op, k) for k in range(len(op.outputs))]
    check_dtype(x, COPY_TYPES, "input")
    axis, sizes = split_sizes(graph, op)
    require(len(sizes) == len(outs), f"{len(sizes)} pieces for {len(outs)} outputs")
    for t, size in zip(outs, sizes):
        same_quantization(x, t)
        require(tuple(t.shape) == tuple(size if k == axis else d for k, d in enumerate(x.shape)),
                f"output '{t.name}' {list(t.shape)} is not its piece of the input")
    inner = numel(x.shape[axis + 1:]) * DTYPE_SIZES[x.dtype]
    return _split_call(op, x, outs, numel(x.shape[:axis]), [s * inner for s in sizes],
                       f"{len(outs)} pieces {sizes} along axis {axis}")


def lower_unpack(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    outs = [out_tensor(graph, op, k) for k in range(len(op.outputs))]
    check_dtype(x, COPY_TYPES, "input")
    rank = len(x.shape)
    axis = op.option("axis", 0)
    axis = axis + rank if axis < 0 else axis
    require(0 <= axis < rank, f"axis {axis} out of range")
    require(len(outs) == int(x.shape[axis]), f"{len(outs)} outputs for a dimension of {x.shape[axis]}")
    piece = tuple(d for k, d in enumerate(x.shape) if k != axis)
    for t in outs:
        same_quantization(x, t)
        require(tuple(t.shape) == piece, f"output '{t.name}' {list(t.shape)} is not a slice of the input")
    inner = numel(x.shape[axis + 1:]) * DTYPE_SIZES[x.dtype]
    return _split_call(op, x, outs, numel(x.shape[:axis]), [inner] * len(outs),
                       f"{len(outs)} slices along axis {axis}")


def lower_pack(graph: Graph, op: Operator) -> KernelCall:
    """PACK is a concatenation of inputs that each fill one index of the new axis."""
    out = out_tensor(graph, op)
    ins = [in_tensor(graph, op, k, "value") for k in range(len(op.inputs))]
    check_dtype(out, COPY_TYPES, "output")
    shape = tuple(ins[0].shape)
    rank = len(shape) + 1
    axis = op.option("axis", 0)
    axis = axis + rank if axis < 0 else axis
    require(0 <= axis < rank, f"axis {axis} out of range")
    for t in ins:
        same_quantization(t, out)
        require(tuple(t.shape) == shape, "packed tensors differ in shape")
    require(tuple(out.shape) == shape[:axis] + (len(ins),) + shape[axis:], "output shape is not the packed shape")
    n = len(ins)
    copy = numel(shape[axis:]) * DTYPE_SIZES[out.dtype]
    setup = (
        f"const void *const inputs[{n}] = {{ " + ", ".join(f"$in{k}" for k in range(n)) + " };\n"
        f"static const int32_t copy_bytes[{n}] = {{ " + ", ".join([str(copy)] * n) + " };"
    )
    call = f"mcu_concat({n}, inputs, copy_bytes, {numel(shape[:axis])}, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_concat", ("mcu_concat.c",), tuple(t.index for t in ins),
                      (out.index,), call, setup=setup, summary=f"{n} values along new axis {axis}")


def lower_depth_space(graph: Graph, op: Operator) -> KernelCall:
    """DEPTH_TO_SPACE and SPACE_TO_DEPTH as TRANSPOSE of a 6-D view: output (n, y, by, x, bx, c)
    of input (n, y, x, by, bx, c) and back; channel index (by * block + bx) * depth + c as TFLM."""
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8", "float32"), "input")
    same_quantization(x, out)
    require(len(x.shape) == 4, "input is not 4-D")
    b = int(op.option("block_size", 0))
    require(b > 0, f"block size {b}")
    n, h, w, c = (int(d) for d in x.shape)
    if op.opcode == "DEPTH_TO_SPACE":
        require(c % (b * b) == 0, f"{c} channels do not divide by {b * b}")
        view = [n, h, w, b, b, c // (b * b)]
        out_dims = [n, h, b, w, b, c // (b * b)]
    else:
        require(h % b == 0 and w % b == 0, f"{h}x{w} does not divide by block {b}")
        view = [n, h // b, b, w // b, b, c]
        out_dims = [n, h // b, w // b, b, b, c]
    st = strides(view)
    require(numel(tuple(out_dims)) == out.size, "output size differs")
    structs = (StructParam("params", "mcu_transpose_params", {
        "out_dims": out_dims, "in_stride": [st[0], st[1], st[3], st[2], st[4], st[5]]}),)
    call = f"mcu_transpose(&$s_params, {DTYPE_SIZES[x.dtype]}, $in0, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_transpose", ("mcu_transpose.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"block {b}")


def lower_gather(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    pos = in_tensor(graph, op, 1, "positions")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8", "float32"), "input")
    check_dtype(pos, ("int32",), "positions")
    same_quantization(x, out)
    rank = len(x.shape)
    axis = op.option("axis", 0)
    axis = axis + rank if axis < 0 else axis
    batch_dims = op.option("batch_dims", 0)
    batch_dims = batch_dims + len(pos.shape) if batch_dims < 0 else batch_dims
    require(0 <= axis < rank and 0 <= batch_dims <= axis and batch_dims <= len(pos.shape),
            f"axis {axis} with batch_dims {batch_dims}")
    require(tuple(x.shape[:batch_dims]) == tuple(pos.shape[:batch_dims]), "batch dimensions differ")
    axis_size = int(x.shape[axis])
    if pos.data is not None:
        bad = [int(v) for v in np.asarray(pos.data).reshape(-1) if not 0 <= int(v) < axis_size]
        require(not bad, f"positions {bad[:4]} outside [0, {axis_size})")
    fields = {"batch_size": numel(x.shape[:batch_dims]), "outer_size": numel(x.shape[batch_dims:axis]),
              "axis_size": axis_size, "coord_size": numel(pos.shape[batch_dims:]),
              "inner_bytes": numel(x.shape[axis + 1:]) * DTYPE_SIZES[x.dtype]}
    require(numel(x.shape[:axis]) * fields["coord_size"] * fields["inner_bytes"] == out.nbytes,
            "output size differs")
    call = "mcu_gather(&$s_params, (const int32_t *)$in1, $in0, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_gather", ("mcu_gather.c",), (x.index, pos.index), (out.index,), call,
                      structs=(StructParam("params", "mcu_gather_params", fields),),
                      summary=f"{fields['coord_size']} positions along axis {axis}")


LOWERINGS = {
    "RESHAPE": lower_alias,
    "SQUEEZE": lower_alias,
    "EXPAND_DIMS": lower_alias,
    "PAD": lower_pad,
    "PADV2": lower_pad,
    "CONCATENATION": lower_concatenation,
    "TRANSPOSE": lower_transpose,
    "SPLIT": lower_split,
    "SPLIT_V": lower_split,
    "UNPACK": lower_unpack,
    "PACK": lower_pack,
    "DEPTH_TO_SPACE": lower_depth_space,
    "SPACE_TO_DEPTH": lower_depth_space,
    "GATHER": lower_gather,
}
