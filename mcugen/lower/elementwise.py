"""Element-wise operators on the portable kernels: ADD, MUL (with broadcasting) and the activations."""

from __future__ import annotations

from functools import partial

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.call import KernelCall, LoweringError, StructParam, activation, broadcast_params, check_dtype
from mcugen.lower.call import in_tensor, int8_unary, out_tensor, qparams, require
from mcugen.model.graph import Graph, Operator, Tensor


def _binary(graph: Graph, op: Operator, name: str) -> KernelCall:
    a = in_tensor(graph, op, 0, "first")
    b = in_tensor(graph, op, 1, "second")
    out = out_tensor(graph, op)
    for t, what in ((a, "first input"), (b, "second input"), (out, "output")):
        check_dtype(t, ("int8",), what)
    s1, z1 = qparams(a)
    s2, z2 = qparams(b)
    so, zo = qparams(out)
    act_min, act_max = activation(op, out)
    if name == "add":
        try:
            mp = Q.add_params(s1, s2, so)
        except Q.PrepareError as exc:
            raise LoweringError(str(exc)) from exc
        fields = {"input1_offset": -z1, "input2_offset": -z2, **mp, "output_offset": zo,
                  "act_min": act_min, "act_max": act_max}
        ptype = "mcu_add_params"
    else:
        m, s = Q.quantize_multiplier(float(s1) * float(s2) / float(so))
        fields = {"input1_offset": -z1, "input2_offset": -z2, "output_multiplier": m, "output_shift": s,
                  "output_offset": zo, "act_min": act_min, "act_max": act_max}
        ptype = "mcu_mul_params"
    structs = [StructParam("params", ptype, fields)]
    elementwise = tuple(a.shape) == tuple(b.shape) == tuple(out.shape)
    if elementwise:
        kernel = f"mcu_{name}_s8"
        call = f"{kernel}(&$s_params, {out.size}, (const int8_t *)$in0, (const int8_t *)$in1, (int8_t *)$out0)"
        summary = f"{out.size} elements"
    else:
        kernel = f"mcu_{name}_broadcast_s8"
        structs.append(StructParam("bcast", "mcu_broadcast", broadcast_params(a.shape, b.shape, out.shape)))
        call = f"{kernel}(&$s_params, &$s_bcast, (const int8_t *)$in0, (const int8_t *)$in1, (int8_t *)$out0)"
        summary = f"broadcast {list(a.shape)} x {list(b.shape)} -> {list(out.shape)}"
    return KernelCall(op.index, op.opcode, kernel, (f"mcu_{name}_s8.c",), (a.index, b.index), (out.index,), call,
                      structs=tuple(structs), summary=summary)


def lower_softmax(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8", "int16"), "output")
    in_scale, _ = qparams(x)
    out_scale, out_zp = qparams(out)
    if out.dtype == "int8":
        require(out_zp == -128 and np.float32(out_scale) == np.float32(1.0 / 256), "int8 softmax output must be scale 1/256, zero point -128")
        kernel = "mcu_softmax_s8"
        ctype = "int8_t"
    else:
        require(out_zp == -32768 and abs(out_scale - 1.0 / 65536) <= 0.001 / 65536, "int16 softmax output must be scale 1/65536, zero point -32768")
        kernel = "mcu_softmax_s8_s16"
        ctype = "int16_t"
    require(len(x.shape) >= 1, "scalar input")
    depth = int(x.shape[-1])
    outer = x.size // depth
    try:
        mult, shift, diff_min = Q.softmax_params(op.option("beta", 1.0), in_scale)
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    structs = (StructParam("params", "mcu_softmax_params", {
        "input_multiplier": mult, "input_left_shift": shift, "diff_min": diff_min}),)
    call = f"{kernel}(&$s_params, {outer}, {depth}, (const int8_t *)$in0, ({ctype} *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, ("mcu_softmax_s8.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{outer} rows of {depth}, beta {op.option('beta', 1.0)}")


def _activation_call(op: Operator, x: Tensor, out: Tensor, name: str, fields: dict[str, int]) -> KernelCall:
    """The call of an int8 activation kernel mcu_<name>_s8(params, count, in, out)."""
    kernel = f"mcu_{name}_s8"
    call = f"{kernel}(&$s_params, {x.size}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), call,
                      structs=(StructParam("params", f"mcu_{name}_params", fields),), summary=f"{x.size} elements")


def lower_logistic(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    _, out_zp = qparams(out)
    require(out_zp == -128, "int8 logistic output zero point must be -128")
    mult, shift, radius = Q.logistic_params(in_scale)
    return _activation_call(op, x, out, "logistic", {
        "input_zero_point": in_zp, "input_range_radius": radius, "input_multiplier": mult, "input_left_shift": shift})


def lower_hard_swish(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    try:
        rm, rexp, om, oexp = Q.hard_swish_params(in_scale, out_scale)
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    return _activation_call(op, x, out, "hard_swish", {
        "input_zero_point": in_zp, "output_zero_point": out_zp, "reluish_multiplier_exponent": rexp,
        "output_multiplier_exponent": oexp, "reluish_multiplier": rm, "output_multiplier": om})


def lower_relu(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    mult, shift, act_min, act_max = Q.relu_params(in_scale, out_scale, out_zp, "int8")
    return _activation_call(op, x, out, "relu", {
        "input_zero_point": in_zp, "output_zero_point": out_zp, "multiplier": mult, "shift": shift,
        "act_min": act_min, "act_max": act_max})


def lower_relu6(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    lower, upper = Q.relu6_bounds(in_scale, in_zp, "int8")
    call = f"mcu_relu6_s8({lower}, {upper}, {x.size}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_relu6_s8", ("mcu_relu_s8.c",), (x.index,), (out.index,), call,
                      summary=f"clamp to [{lower}, {upper}], {x.size} elements")


LOWERINGS = {
    "ADD": partial(_binary, name="add"),
    "MUL": partial(_binary, name="mul"),
    "SOFTMAX": lower_softmax,
    "LOGISTIC": lower_logistic,
    "HARD_SWISH": lower_hard_swish,
    "RELU": lower_relu,
    "RELU6": lower_relu6,
}
