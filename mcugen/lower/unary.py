"""Unary element-wise int8 operators on the portable kernels: ABS, TANH, LEAKY_RELU, RSQRT.

Each is mcu_<name>_s8(&params, count, in, out) with its parameters computed as TFLM's
prepare step computes them (mcugen.lower.quant).
"""

from __future__ import annotations

from mcugen.lower import quant as Q
from mcugen.lower.call import KernelCall, StructParam, int8_unary, qparams, require
from mcugen.model.graph import Graph, Operator, Tensor


# The kernels that take a scratch for a 256-entry table (MCU_UNARY_VIA_LUT) and the
# element count above which they use it: both as mcu_kernels.h defines them.
LUT_KERNELS = ("abs", "tanh", "leaky_relu")
LUT_BYTES = 256
LUT_MIN_SIZE = 512


def _call(op: Operator, x: Tensor, out: Tensor, name: str, fields: dict[str, int], summary: str = "") -> KernelCall:
    kernel = f"mcu_{name}_s8"
    args = f"&$s_params, {x.size}, (const int8_t *)$in0, (int8_t *)$out0"
    setup, scratch = "", 0
    if name in LUT_KERNELS:
        if x.size > LUT_MIN_SIZE:
            setup, scratch = "const mcu_context ctx = { $scratch, $scratch_size };", LUT_BYTES
            args = "&ctx, " + args
            summary = (summary or f"{x.size} elements") + ", through a 256-entry table"
        else:
            args = "NULL, " + args
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), f"{kernel}({args})",
                      setup=setup, structs=(StructParam("params", f"mcu_{name}_params", fields),),
                      scratch_bytes=scratch, summary=summary or f"{x.size} elements")


def lower_abs(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    rescale, mult, shift = Q.abs_params(in_scale, out_scale)
    return _call(op, x, out, "abs", {"input_zero_point": in_zp, "output_zero_point": out_zp,
                                     "needs_rescale": int(rescale), "multiplier": mult, "shift": shift})


def lower_tanh(graph: Graph, op: Operator) -> KernelCall:
    """TFLM's int8 Tanh shares the logistic's input parameters (Q4.27) and writes Q0.7:
    the output must be scale 1/128, zero point 0, which the converter always gives."""
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    require(out_zp == 0 and abs(out_scale - 1.0 / 128) <= 1e-9, "int8 tanh output must be scale 1/128, zero point 0")
    mult, shift, radius = Q.logistic_params(in_scale)
    return _call(op, x, out, "tanh", {"input_zero_point": in_zp, "input_range_radius": radius,
                                      "input_multiplier": mult, "input_left_shift": shift})


def lower_leaky_relu(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    alpha = float(op.option("alpha", 0.0))
    mi, si, ma, sa = Q.leaky_relu_params(in_scale, out_scale, alpha)
    return _call(op, x, out, "leaky_relu", {
        "input_zero_point": in_zp, "output_zero_point": out_zp, "multiplier_identity": mi, "shift_identity": si,
        "multiplier_alpha": ma, "shift_alpha": sa}, summary=f"alpha {alpha:g}, {x.size} elements")


def lower_rsqrt(graph: Graph, op: Operator) -> KernelCall:
    x, out = int8_unary(graph, op)
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    mult, shift = Q.rsqrt_params(in_scale, out_scale)
    return _call(op, x, out, "rsqrt", {"input_zero_point": in_zp, "output_zero_point": out_zp,
                                       "multiplier": mult, "shift": shift})


LOWERINGS = {
    "ABS": lower_abs,
    "TANH": lower_tanh,
    "LEAKY_RELU": lower_leaky_relu,
    "RSQRT": lower_rsqrt,
}
