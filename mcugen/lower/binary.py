"""Binary element-wise operators beyond ADD and MUL, with numpy broadcasting: SUB,
MAXIMUM, MINIMUM, SQUARED_DIFFERENCE and PRELU (its alpha the second operand).

Each kernel takes an mcu_broadcast whatever the shapes: two equal shapes become one
run of elements, so one C function serves both cases.
"""

from __future__ import annotations

from mcugen.lower import quant as Q
from mcugen.lower.call import KernelCall, StructParam, activation, broadcast_params
from mcugen.lower.call import check_dtype, in_tensor, out_tensor, qparams, require
from mcugen.model.graph import Graph, Operator, Tensor


def _operands(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor]:
    a = in_tensor(graph, op, 0, "first")
    b = in_tensor(graph, op, 1, "second")
    out = out_tensor(graph, op)
    for t, what in ((a, "first input"), (b, "second input"), (out, "output")):
        check_dtype(t, ("int8",), what)
    return a, b, out


def _bcast(a: Tensor, b: Tensor, out: Tensor) -> tuple[StructParam, str]:
    """The broadcast struct (equal shapes as one flat run) and the call's summary."""
    if tuple(a.shape) == tuple(b.shape) == tuple(out.shape):
        flat = (int(out.size),)
        return StructParam("bcast", "mcu_broadcast", broadcast_params(flat, flat, flat)), f"{out.size} elements"
    summary = f"broadcast {list(a.shape)} x {list(b.shape)} -> {list(out.shape)}"
    return StructParam("bcast", "mcu_broadcast", broadcast_params(a.shape, b.shape, out.shape)), summary


# Kernels that tabulate each input's scaling in a scratch (MCU_BINARY_TABLES_BYTES) and the
# element count above which the generator gives them one.
TABLE_KERNELS = ("sub", "squared_difference")
TABLES_BYTES = 2 * 256 * 4
TABLES_MIN_SIZE = 1024


def _call(op: Operator, a: Tensor, b: Tensor, out: Tensor, name: str, params: StructParam | None) -> KernelCall:
    """mcu_<name>_s8([ctx,] [&params,] &bcast, in0, in1, out0); a constant operand (PRELU's
    alpha, a constant subtrahend) is addressed in the weights by the generator."""
    kernel = f"mcu_{name}_s8"
    bcast, summary = _bcast(a, b, out)
    args = ("&$s_params, " if params else "") + "&$s_bcast, (const int8_t *)$in0, (const int8_t *)$in1, (int8_t *)$out0"
    setup, scratch = "", 0
    if name in TABLE_KERNELS:
        if out.size > TABLES_MIN_SIZE:
            setup, scratch = "const mcu_context ctx = { $scratch, $scratch_size };", TABLES_BYTES
            args = "&ctx, " + args
            summary += ", inputs' scaling tabulated"
        else:
            args = "NULL, " + args
    structs = ((params,) if params else ()) + (bcast,)
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (a.index, b.index), (out.index,),
                      f"{kernel}({args})", setup=setup, structs=structs, scratch_bytes=scratch, summary=summary)


def lower_sub(graph: Graph, op: Operator) -> KernelCall:
    a, b, out = _operands(graph, op)
    s1, z1 = qparams(a)
    s2, z2 = qparams(b)
    so, zo = qparams(out)
    act_min, act_max = activation(op, out)
    fields = {"input1_offset": -z1, "input2_offset": -z2, **Q.sub_params(s1, s2, so), "output_offset": zo,
              "act_min": act_min, "act_max": act_max}
    return _call(op, a, b, out, "sub", StructParam("params", "mcu_sub_params", fields))


def lower_max_min(graph: Graph, op: Operator) -> KernelCall:
    """MAXIMUM/MINIMUM compare raw values, as TFLM does (the converter gives the inputs and
    the output one quantization; TFLM does not check it, nor do we, to stay bit-exact)."""
    a, b, out = _operands(graph, op)
    return _call(op, a, b, out, op.opcode.lower(), None)


def lower_squared_difference(graph: Graph, op: Operator) -> KernelCall:
    a, b, out = _operands(graph, op)
    s1, z1 = qparams(a)
    s2, z2 = qparams(b)
    so, zo = qparams(out)
    fields = {"input1_offset": -z1, "input2_offset": -z2, **Q.squared_difference_params(s1, s2, so),
              "output_offset": zo}
    return _call(op, a, b, out, "squared_difference", StructParam("params", "mcu_squared_difference_params", fields))


def lower_prelu(graph: Graph, op: Operator) -> KernelCall:
    x, alpha, out = _operands(graph, op)
    require(alpha.quant is not None and len(alpha.quant.scale) == 1, "alpha must be quantized per tensor")
    si, zi = qparams(x)
    sa, za = qparams(alpha)
    so, zo = qparams(out)
    m1, s1, m2, s2 = Q.prelu_params(si, sa, so)
    fields = {"input_offset": -zi, "alpha_offset": -za, "output_offset": zo,
              "multiplier_1": m1, "shift_1": s1, "multiplier_2": m2, "shift_2": s2}
    return _call(op, x, alpha, out, "prelu", StructParam("params", "mcu_prelu_params", fields))


LOWERINGS = {
    "SUB": lower_sub,
    "MAXIMUM": lower_max_min,
    "MINIMUM": lower_max_min,
    "SQUARED_DIFFERENCE": lower_squared_difference,
    "PRELU": lower_prelu,
}
