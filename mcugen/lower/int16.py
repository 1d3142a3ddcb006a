"""16x8 quantization on the portable kernels: int16 activations, int8 weights, int64
biases (TFLM's EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 models).

mcugen.lower.portable sends an op here when its first input is int16 and its opcode
is in LOWERINGS; the int8 families stay as they are. The prepare arithmetic is TFLM's
(the same multipliers as int8; ADD's left shift is 15; softmax's tables come from
mcugen.lower.quant16), and TFLM's int16 kernels require zero points of 0, checked here.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from mcugen.lower import conv
from mcugen.lower import quant as Q
from mcugen.lower import quant16 as Q16
from mcugen.lower.pool import lower_mean, lower_pool
from mcugen.lower.call import ConstArray, CRef, KernelCall, StructParam, activation, broadcast_params, check_dtype
from mcugen.lower.call import in_tensor, out_tensor, qparams
from mcugen.lower.call import require
from mcugen.model.graph import Graph, Operator, Tensor


def _zero_point_0(t: Tensor, what: str) -> float:
    scale, zp = qparams(t)
    require(zp == 0, f"int16 {what} zero point {zp} (TFLM's int16 kernels require 0)")
    return scale


def _weighted(graph: Graph, op: Operator, what: str) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    """(input, weights, bias or None, output): int16 activations, constant int8 weights,
    a constant int64 bias (the int32-bias variant TFLM also runs accumulates in 32 bits:
    not implemented)."""
    x, w, bias, out = conv.weighted(graph, op, what, activations="int16", bias_type="int64")
    require(w.quant is not None and bool(w.quant.scale), f"{what} have no quantization")
    if bias is None:
        # quantized_bias_type is a TensorType: 2 = INT32 (TFLM then accumulates in 32 bits)
        require(op.option("quantized_bias_type", 0) not in (2, "INT32"),
                "16x8 without bias accumulating in 32 bits (quantized_bias_type int32)")
    return x, w, bias, out


def _constants(name: str, w: Tensor, bias: Tensor | None, mults: list[int], shifts: list[int]) -> tuple[ConstArray, ...]:
    return conv.constants_of(name, w, bias, mults, shifts, "per-channel output {} ({})", bias_ctype="int64_t")


def _conv(graph: Graph, op: Operator, kind: str) -> KernelCall:
    x, filt, bias, out = _weighted(graph, op, "filter")
    in_scale = _zero_point_0(x, "input")
    out_scale = _zero_point_0(out, "output")
    g = conv.conv_geometry(op, x, filt, out, kind)
    act_min, act_max = activation(op, out)
    mults, shifts = Q.conv_per_channel(in_scale, filt.quant.scale, out_scale, g.channels)
    require(all(-31 <= s <= 7 for s in shifts), "a requantization shift outside [-31, 7] (TFLM's 64-bit path)")
    params = {**g.params, "input_offset": 0, "output_offset": 0, "act_min": act_min, "act_max": act_max}
    if kind == "conv":
        kernel, ptype = "mcu_conv2d_s16", "mcu_conv_params"
    else:
        kernel, ptype = "mcu_depthwise_conv2d_s16", "mcu_dw_conv_params"
    ind, fd, od, macs = g.ind, g.fd, g.od, g.macs
    structs = (
        StructParam("params", ptype, params),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", ind),
        StructParam("filter_dims", "mcu_dims", fd),
        StructParam("out_dims", "mcu_dims", od),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = (f"{kernel}(&$s_params, &$s_quant, &$s_in_dims, (const int16_t *)$in0, &$s_filter_dims, $c_filter, "
            f"{bias_ref}, &$s_out_dims, (int16_t *)$out0)")
    summary = f"16x8, {g.describe()}, {op.option('fused_activation_function', 'NONE')}, {macs} MACs"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), call,
                      constants=_constants("filter", filt, bias, mults, shifts), structs=structs, summary=summary)


def lower_fully_connected(graph: Graph, op: Operator) -> KernelCall:
    x, w, bias, out = _weighted(graph, op, "weights")
    require(op.option("weights_format", 0) in (0, "DEFAULT"), "shuffled weights format")
    require(len(w.shape) == 2, "weights are not 2-D")
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    units, depth = (int(d) for d in w.shape)
    require(bool(out.shape) and int(out.shape[-1]) == units, "output depth differs from the weights' units")
    batches = out.size // units
    require(x.size == batches * depth, "input size is not batches x depth")
    if w.quant.per_channel:
        require(len(w.quant.scale) == units, "per-channel scales do not match the units")
        mults, shifts = Q.conv_per_channel(in_scale, w.quant.scale, out_scale, units)
        filter_offset = 0
    else:
        m, s = Q.fc_per_tensor(in_scale, w.quant.scale[0], out_scale)
        mults, shifts = [m] * units, [s] * units
        filter_offset = -int(w.quant.zero_point[0])
    require(all(-31 <= s <= 7 for s in shifts), "a requantization shift outside [-31, 7] (TFLM's 64-bit path)")
    # zero points 0 (as the converter makes them and TFLM checks): the kernel's exact 32-bit
    # partial sums count on products of at most 2^22
    require(in_zp == 0 and filter_offset == 0, f"16x8 input zero point {in_zp} or weights zero point {-filter_offset}")
    act_min, act_max = activation(op, out)
    structs = (
        StructParam("params", "mcu_fc_params", {"input_offset": -in_zp, "filter_offset": filter_offset,
                                                "output_offset": out_zp, "act_min": act_min, "act_max": act_max}),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", {"n": batches, "h": 1, "w": 1, "c": depth}),
        StructParam("filter_dims", "mcu_dims", {"n": units, "h": 1, "w": 1, "c": depth}),
        StructParam("out_dims", "mcu_dims", {"n": batches, "h": 1, "w": 1, "c": units}),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = ("mcu_fully_connected_s16(&$s_params, &$s_quant, &$s_in_dims, (const int16_t *)$in0, "
            f"&$s_filter_dims, $c_weights, {bias_ref}, &$s_out_dims, (int16_t *)$out0)")
    summary = (f"16x8, {batches}x{depth} -> {units}, {'per-channel' if w.quant.per_channel else 'per-tensor'}, "
               f"{op.option('fused_activation_function', 'NONE')}, {batches * units * depth} MACs")
    return KernelCall(op.index, op.opcode, "mcu_fully_connected_s16", ("mcu_fully_connected_s16.c",),
                      (x.index,), (out.index,), call, constants=_constants("weights", w, bias, mults, shifts),
                      structs=structs, summary=summary)


def _binary(graph: Graph, op: Operator, name: str) -> KernelCall:
    a = in_tensor(graph, op, 0, "first")
    b = in_tensor(graph, op, 1, "second")
    out = out_tensor(graph, op)
    for t, what in ((a, "first input"), (b, "second input"), (out, "output")):
        check_dtype(t, ("int16",), what)
    s1, z1 = qparams(a)
    s2, z2 = qparams(b)
    so, zo = qparams(out)
    act_min, act_max = activation(op, out)
    if name == "add":
        fields = {"input1_offset": -z1, "input2_offset": -z2, **Q.add_params(s1, s2, so, left_shift=15),
                  "output_offset": zo, "act_min": act_min, "act_max": act_max}
    else:
        for t, what in ((a, "first input"), (b, "second input"), (out, "output")):
            _zero_point_0(t, what)
        m, s = Q.quantize_multiplier(float(s1) * float(s2) / float(so))
        fields = {"input1_offset": 0, "input2_offset": 0, "output_multiplier": m, "output_shift": s,
                  "output_offset": 0, "act_min": act_min, "act_max": act_max}
    if tuple(a.shape) == tuple(b.shape) == tuple(out.shape):
        flat = (int(out.size),)
        bcast, summary = broadcast_params(flat, flat, flat), f"16x8, {out.size} elements"
    else:
        bcast = broadcast_params(a.shape, b.shape, out.shape)
        summary = f"16x8, broadcast {list(a.shape)} x {list(b.shape)} -> {list(out.shape)}"
    kernel = f"mcu_{name}_s16"
    structs = (StructParam("params", f"mcu_{name}_params", fields), StructParam("bcast", "mcu_broadcast", bcast))
    call = f"{kernel}(&$s_params, &$s_bcast, (const int16_t *)$in0, (const int16_t *)$in1, (int16_t *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (a.index, b.index), (out.index,), call,
                      structs=structs, summary=summary)


def lower_softmax(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int16",), "input")
    check_dtype(out, ("int16",), "output")
    in_scale = _zero_point_0(x, "input")
    out_scale = _zero_point_0(out, "output")
    require(abs(float(np.float32(out_scale)) - 1.0 / 32768) <= 0.001 / 32768,
            "int16 softmax output must be scale 1/32768, zero point 0")
    require(len(x.shape) >= 1 and x.size > 0, "empty or scalar input")
    depth = int(x.shape[-1])
    outer = x.size // depth
    mult, shift = Q16.softmax16_params(op.option("beta", 1.0), in_scale)
    exp_lut, recip_lut = Q16.softmax_luts()
    constants = (
        ConstArray("exp_lut", "int16_t", exp_lut, False, "exp on [-10, 0], 512 segments (TFLM's LUTPopulate)"),
        ConstArray("recip_lut", "int16_t", recip_lut, False, "1 / (1 + x) on [0, 1], 512 segments"),
    )
    structs = (StructParam("params", "mcu_softmax_s16_params", {
        "input_multiplier": mult, "input_shift": shift,
        "exp_lut": CRef("exp_lut"), "one_over_one_plus_x_lut": CRef("recip_lut")}),)
    call = f"mcu_softmax_s16(&$s_params, {outer}, {depth}, (const int16_t *)$in0, (int16_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_softmax_s16", ("mcu_softmax_s16.c",), (x.index,), (out.index,),
                      call, constants=constants, structs=structs,
                      summary=f"16x8, {outer} rows of {depth}, beta {op.option('beta', 1.0)}")


def _sigmoid(graph: Graph, op: Operator, name: str) -> KernelCall:
    """LOGISTIC (name "logistic") or TANH ("tanh"): TFLM's table-interpolating int16 kernels."""
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int16",), "input")
    check_dtype(out, ("int16",), "output")
    in_scale = _zero_point_0(x, "input")
    out_scale = _zero_point_0(out, "output")
    mult, shift = Q16.sigmoid16_params(in_scale, out_scale, tanh=name == "tanh")
    kernel = f"mcu_{name}_s16"
    constants = (ConstArray("table", "uint16_t", Q16.sigmoid_table(), False,
                            "sigmoid(i/24), unsigned Q0.16 (TFLM's sigmoid_table_uint16)"),)
    structs = (StructParam("params", "mcu_sigmoid_s16_params", {
        "input_multiplier": mult, "input_left_shift": shift, "sigmoid_table": CRef("table")}),)
    call = f"{kernel}(&$s_params, {x.size}, (const int16_t *)$in0, (int16_t *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), call,
                      constants=constants, structs=structs, summary=f"16x8, {x.size} elements")


LOWERINGS = {
    "CONV_2D": partial(_conv, kind="conv"),
    "DEPTHWISE_CONV_2D": partial(_conv, kind="depthwise"),
    "FULLY_CONNECTED": lower_fully_connected,
    "ADD": partial(_binary, name="add"),
    "MUL": partial(_binary, name="mul"),
    "SOFTMAX": lower_softmax,
    "AVERAGE_POOL_2D": partial(lower_pool, kernel="mcu_avgpool_s16", dtype="int16"),
    "MAX_POOL_2D": partial(lower_pool, kernel="mcu_maxpool_s16", dtype="int16"),
    "MEAN": partial(lower_mean, dtype="int16"),
    "LOGISTIC": partial(_sigmoid, name="logistic"),
    "TANH": partial(_sigmoid, name="tanh"),
}


def handles(graph: Graph, op: Operator) -> bool:
    """Whether op is a 16x8 op this module lowers (its first input int16)."""
    return (op.opcode in LOWERINGS and bool(op.inputs) and op.inputs[0] >= 0
            and graph.tensors[op.inputs[0]].dtype == "int16")
