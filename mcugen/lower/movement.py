"""Operators that move bytes: RESHAPE-like aliases, PAD, CONCATENATION, TRANSPOSE."""

from __future__ import annotations

import numpy as np

from mcugen.lower.call import MAX_DIMS, KernelCall, StructParam, check_dtype, const_data, in_tensor, numel, opt_tensor
from mcugen.lower.call import out_tensor, pad6, qparams, require, strides
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator


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


LOWERINGS = {
    "RESHAPE": lower_alias,
    "SQUEEZE": lower_alias,
    "EXPAND_DIMS": lower_alias,
    "PAD": lower_pad,
    "PADV2": lower_pad,
    "CONCATENATION": lower_concatenation,
    "TRANSPOSE": lower_transpose,
}
