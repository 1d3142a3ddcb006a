"""Per-operator lowering for the cubeai style: TFLM's prepare step, run at generation time.

`lower_op(graph, op)` validates one operator, computes its requantization
parameters exactly as TFLM's prepare code does (see `quant`), and returns a
`KernelCall`: a plain description of the C call the generated network makes
(kernel function and source files, parameter structs, constant arrays, scratch
bytes, and a call template whose `$in0`, `$out0`, `$scratch`, `$c_<name>` and
`$s_<name>` placeholders the generator fills with arena and data addresses).

The choice of kernel is made here, in one place per operator: a faster
variant (firmware/kernels/arm/) is slotted in by returning a different
`kernel`/`sources` for the parameters it handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template
from typing import Any, Callable, Mapping

import numpy as np

from mcugen.codegen import quant as Q
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator, Tensor
from mcugen.ops.base import PATCH_STAGE

MAX_DIMS = 6
KERNEL_HEADERS = ("mcu_kernels.h", "mcu_fixedpoint.h", "mcu_compiler.h")

C_TYPES = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "float32": "float",
    "bool": "uint8_t",
    "int64": "int64_t",
}
SHORT = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32", "float32": "f32"}


class LoweringError(ValueError):
    """This operator (with these types or parameters) has no cubeai implementation."""


@dataclass(frozen=True)
class CRef:
    """A struct field that points at one of the call's params arrays."""

    name: str


@dataclass(frozen=True)
class ConstArray:
    """A constant array the call needs.

    weights=True: model data (filters, biases, constant operands), placed in the
    weights blob (section .nn_weights, 16-byte aligned, counted as weights flash).
    weights=False: small parameters computed at generation time (per-channel
    multipliers and shifts), plain .rodata.
    """

    name: str  # local to the call; the generator prefixes it with the op
    ctype: str
    values: np.ndarray
    weights: bool
    comment: str = ""

    @property
    def nbytes(self) -> int:
        return int(self.values.size * self.values.dtype.itemsize)


@dataclass(frozen=True)
class StructParam:
    """A `static const <ctype> <name> = { .field = value, ... };` parameter block."""

    name: str
    ctype: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class KernelCall:
    op_index: int
    opcode: str
    kernel: str  # C function called ("" for an alias that needs no code)
    sources: tuple[str, ...]  # files in firmware/kernels the call needs
    inputs: tuple[int, ...]  # tensors addressed by $in0.. (-1 = absent)
    outputs: tuple[int, ...]  # tensors addressed by $out0..
    call: str  # C expression returning mcu_status, with placeholders
    setup: str = ""  # C statements before the call (local arrays, contexts)
    constants: tuple[ConstArray, ...] = ()
    structs: tuple[StructParam, ...] = ()
    scratch_bytes: int = 0
    alias_bytes: int = 0  # > 0: RESHAPE-like; copy this many bytes when in and out differ
    summary: str = ""  # one line for the comment above the call
    parts: tuple["KernelCall", ...] = ()  # the calls a composite call makes (a patch-based stage)
    declarations: str = ""  # C at file scope after the call's structs ($s_, $c_ and $prefix placeholders)

    def render(self, names: Mapping[str, str]) -> tuple[str, str]:
        """(setup, call) with every placeholder substituted."""
        return Template(self.setup).substitute(names), Template(self.call).substitute(names)

    @property
    def weights_bytes(self) -> int:
        return sum(c.nbytes for c in self.constants if c.weights)

    @property
    def params_bytes(self) -> int:
        return sum(c.nbytes for c in self.constants if not c.weights)


# ---------------------------------------------------------------------------------
# helpers


def _t(graph: Graph, op: Operator, position: int, what: str) -> Tensor:
    if position >= len(op.inputs) or op.inputs[position] < 0:
        raise LoweringError(f"missing {what} input")
    return graph.tensors[op.inputs[position]]


def _opt_t(graph: Graph, op: Operator, position: int) -> Tensor | None:
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    return graph.tensors[op.inputs[position]]


def _out(graph: Graph, op: Operator, position: int = 0) -> Tensor:
    if position >= len(op.outputs):
        raise LoweringError("missing output")
    return graph.tensors[op.outputs[position]]


def _qp(t: Tensor) -> tuple[float, int]:
    if t.quant is None or not t.quant.scale:
        raise LoweringError(f"tensor '{t.name}' has no quantization parameters")
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def _require(cond: bool, reason: str) -> None:
    if not cond:
        raise LoweringError(reason)


def _dtype(t: Tensor, allowed: tuple[str, ...], what: str) -> str:
    if t.dtype not in allowed:
        raise LoweringError(f"{what} of type {t.dtype} (supported: {', '.join(allowed)})")
    return t.dtype


def _const(t: Tensor | None, what: str) -> np.ndarray:
    if t is None or t.data is None:
        raise LoweringError(f"{what} must be a constant tensor")
    return np.asarray(t.data)


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _nhwc(t: Tensor) -> dict[str, int]:
    _require(len(t.shape) == 4, f"tensor '{t.name}' is not 4-D NHWC ({list(t.shape)})")
    n, h, w, c = (int(d) for d in t.shape)
    return {"n": n, "h": h, "w": w, "c": c}


def _pad6(shape: tuple[int, ...]) -> list[int]:
    _require(len(shape) <= MAX_DIMS, f"rank {len(shape)} exceeds {MAX_DIMS}")
    return [1] * (MAX_DIMS - len(shape)) + [int(d) for d in shape]


def _strides(shape: list[int]) -> list[int]:
    out, acc = [0] * len(shape), 1
    for k in range(len(shape) - 1, -1, -1):
        out[k] = acc
        acc *= shape[k]
    return out


def _activation(op: Operator, out: Tensor) -> tuple[int, int]:
    scale, zp = _qp(out)
    act = op.option("fused_activation_function", "NONE")
    try:
        return Q.activation_range(act, out.dtype, scale, zp)
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc


def _weights(name: str, t: Tensor, ctype: str, comment: str = "") -> ConstArray:
    return ConstArray(name, ctype, np.ascontiguousarray(t.data).reshape(-1), True, comment or f"'{t.name}' {list(t.shape)}")


def _i32(name: str, values: list[int], comment: str = "") -> ConstArray:
    return ConstArray(name, "int32_t", np.asarray(values, dtype=np.int32), False, comment)


def _cast(ctype: str, placeholder: str, const: bool) -> str:
    return f"({'const ' if const else ''}{ctype} *){placeholder}"


def _no_bias_dims() -> dict[str, int]:
    return {"n": 0, "h": 0, "w": 0, "c": 0}


# ---------------------------------------------------------------------------------
# convolutions and fully connected


def _conv_common(graph: Graph, op: Operator, kind: str) -> KernelCall:
    x = _t(graph, op, 0, "input")
    filt = _t(graph, op, 1, "filter")
    bias = _opt_t(graph, op, 2)
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    _dtype(filt, ("int8",), "filter")
    _const(filt, "the filter")
    if bias is not None:
        _dtype(bias, ("int32",), "bias")
        _const(bias, "the bias")
    _require(filt.quant is not None and bool(filt.quant.scale), "filter has no quantization")
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    ind, fd, od = _nhwc(x), _nhwc(filt), _nhwc(out)
    channels = od["c"]
    quant_axis = 0 if kind == "conv" else 3
    if filt.quant.per_channel:
        _require(len(filt.quant.scale) == channels, "per-channel scales do not match the output channels")
        _require(filt.quant.axis == quant_axis, f"per-channel axis {filt.quant.axis} (expected {quant_axis})")
    stride_h, stride_w = op.option("stride_h", 1), op.option("stride_w", 1)
    dil_h, dil_w = op.option("dilation_h_factor", 1), op.option("dilation_w_factor", 1)
    pad_kind = op.option("padding", "SAME")
    try:
        oh, pad_h = Q.op_padding(op, "h", stride_h, dil_h, ind["h"], fd["h"])
        ow, pad_w = Q.op_padding(op, "w", stride_w, dil_w, ind["w"], fd["w"])
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    _require((oh, ow) == (od["h"], od["w"]), f"output size {oh}x{ow} differs from the tensor's {od['h']}x{od['w']}")
    act_min, act_max = _activation(op, out)
    mults, shifts = Q.conv_per_channel(in_scale, filt.quant.scale, out_scale, channels)
    geometry = {
        "stride_w": stride_w, "stride_h": stride_h, "pad_w": pad_w, "pad_h": pad_h,
        "dilation_w": dil_w, "dilation_h": dil_h,
    }
    if kind == "conv":
        _require(fd["n"] == channels, "filter count differs from the output channels")
        _require(ind["c"] % fd["c"] == 0 and channels % (ind["c"] // fd["c"]) == 0, "bad filter depth for groups")
        params = {**geometry, "input_offset": -in_zp, "output_offset": out_zp, "act_min": act_min, "act_max": act_max}
        kernel, ptype, src = "mcu_conv2d_s8", "mcu_conv_params", "mcu_conv2d_s8.c"
        macs = _numel(out.shape) * fd["h"] * fd["w"] * fd["c"]
    else:
        _require(fd["n"] == 1 and fd["c"] == channels, "depthwise filter is not [1, kh, kw, out_c]")
        mult = op.option("depth_multiplier", 0) or 0
        if mult <= 0 or ind["c"] * mult != channels:
            _require(channels % ind["c"] == 0, "output channels are not a multiple of the input channels")
            mult = channels // ind["c"]
        params = {
            **geometry, "depth_multiplier": mult, "input_offset": -in_zp, "output_offset": out_zp,
            "act_min": act_min, "act_max": act_max,
        }
        kernel, ptype, src = "mcu_depthwise_conv2d_s8", "mcu_dw_conv_params", "mcu_depthwise_conv2d_s8.c"
        macs = _numel(out.shape) * fd["h"] * fd["w"]
    constants = [
        _weights("filter", filt, "int8_t"),
        _i32("multiplier", mults, "per-channel output multipliers (Q0.31)"),
        _i32("shift", shifts, "per-channel output shifts (exponents)"),
    ]
    if bias is not None:
        constants.append(_weights("bias", bias, "int32_t"))
    structs = (
        StructParam("params", ptype, params),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", ind),
        StructParam("filter_dims", "mcu_dims", fd),
        StructParam("bias_dims", "mcu_dims", {"n": 1, "h": 1, "w": 1, "c": channels} if bias is not None else _no_bias_dims()),
        StructParam("out_dims", "mcu_dims", od),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = (
        f"{kernel}(NULL, &$s_params, &$s_quant, &$s_in_dims, (const int8_t *)$in0, "
        f"&$s_filter_dims, $c_filter, &$s_bias_dims, {bias_ref}, &$s_out_dims, (int8_t *)$out0)"
    )
    summary = (
        f"{fd['h']}x{fd['w']} stride {stride_h}x{stride_w} dilation {dil_h}x{dil_w} {pad_kind}, "
        f"{'per-channel' if filt.quant.per_channel else 'per-tensor'}, "
        f"{op.option('fused_activation_function', 'NONE')}, {macs} MACs"
    )
    return KernelCall(op.index, op.opcode, kernel, (src,), (x.index,), (out.index,), call,
                      constants=tuple(constants), structs=structs, summary=summary)


def lower_conv2d(graph: Graph, op: Operator) -> KernelCall:
    return _conv_common(graph, op, "conv")


def lower_depthwise_conv2d(graph: Graph, op: Operator) -> KernelCall:
    return _conv_common(graph, op, "depthwise")


def lower_fully_connected(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    w = _t(graph, op, 1, "weights")
    bias = _opt_t(graph, op, 2)
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    _dtype(w, ("int8",), "weights")
    _const(w, "the weights")
    _require(op.option("weights_format", 0) in (0, "DEFAULT"), "shuffled weights format")
    _require(len(w.shape) == 2, "weights are not 2-D")
    if bias is not None:
        _dtype(bias, ("int32",), "bias")
        _const(bias, "the bias")
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    units, depth = (int(d) for d in w.shape)
    _require(out.shape and int(out.shape[-1]) == units, "output depth differs from the weights' units")
    batches = out.size // units
    _require(x.size == batches * depth, "input size is not batches x depth")
    _require(w.quant is not None and bool(w.quant.scale), "weights have no quantization")
    if w.quant.per_channel:
        _require(len(w.quant.scale) == units, "per-channel scales do not match the units")
        mults, shifts = Q.conv_per_channel(in_scale, w.quant.scale, out_scale, units)
        filter_offset = 0
    else:
        m, s = Q.fc_per_tensor(in_scale, w.quant.scale[0], out_scale)
        mults, shifts = [m] * units, [s] * units
        filter_offset = -int(w.quant.zero_point[0])
    act_min, act_max = _activation(op, out)
    constants = [
        _weights("weights", w, "int8_t"),
        _i32("multiplier", mults, "output multipliers (Q0.31), one per unit"),
        _i32("shift", shifts, "output shifts (exponents), one per unit"),
    ]
    if bias is not None:
        constants.append(_weights("bias", bias, "int32_t"))
    structs = (
        StructParam("params", "mcu_fc_params", {
            "input_offset": -in_zp, "filter_offset": filter_offset, "output_offset": out_zp,
            "act_min": act_min, "act_max": act_max,
        }),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", {"n": batches, "h": 1, "w": 1, "c": depth}),
        StructParam("filter_dims", "mcu_dims", {"n": units, "h": 1, "w": 1, "c": depth}),
        StructParam("bias_dims", "mcu_dims", {"n": 1, "h": 1, "w": 1, "c": units} if bias is not None else _no_bias_dims()),
        StructParam("out_dims", "mcu_dims", {"n": batches, "h": 1, "w": 1, "c": units}),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = (
        "mcu_fully_connected_s8(NULL, &$s_params, &$s_quant, &$s_in_dims, (const int8_t *)$in0, "
        f"&$s_filter_dims, $c_weights, &$s_bias_dims, {bias_ref}, &$s_out_dims, (int8_t *)$out0)"
    )
    summary = (
        f"{batches}x{depth} -> {units}, {'per-channel' if w.quant.per_channel else 'per-tensor'}, "
        f"{op.option('fused_activation_function', 'NONE')}, {batches * units * depth} MACs"
    )
    return KernelCall(op.index, op.opcode, "mcu_fully_connected_s8", ("mcu_fully_connected_s8.c",),
                      (x.index,), (out.index,), call, constants=tuple(constants), structs=structs, summary=summary)


# ---------------------------------------------------------------------------------
# pooling


def _pool(graph: Graph, op: Operator, kernel: str) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    _require(abs(in_scale - out_scale) <= 1e-6 and in_zp == out_zp, "input and output quantization differ")
    ind, od = _nhwc(x), _nhwc(out)
    fh, fw = op.option("filter_height", 1), op.option("filter_width", 1)
    sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
    pad_kind = op.option("padding", "VALID")
    oh, pad_h = Q.op_padding(op, "h", sh, 1, ind["h"], fh, "VALID")
    ow, pad_w = Q.op_padding(op, "w", sw, 1, ind["w"], fw, "VALID")
    _require((oh, ow) == (od["h"], od["w"]), "output size differs from the tensor's")
    act_min, act_max = _activation(op, out)
    structs = (
        StructParam("params", "mcu_pool_params", {
            "stride_w": sw, "stride_h": sh, "pad_w": pad_w, "pad_h": pad_h,
            "filter_w": fw, "filter_h": fh, "act_min": act_min, "act_max": act_max,
        }),
        StructParam("in_dims", "mcu_dims", ind),
        StructParam("out_dims", "mcu_dims", od),
    )
    call = f"{kernel}(NULL, &$s_params, &$s_in_dims, (const int8_t *)$in0, &$s_out_dims, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, kernel, (f"{kernel}.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{fh}x{fw} stride {sh}x{sw} {pad_kind}")


def lower_avgpool(graph: Graph, op: Operator) -> KernelCall:
    return _pool(graph, op, "mcu_avgpool_s8")


def lower_maxpool(graph: Graph, op: Operator) -> KernelCall:
    return _pool(graph, op, "mcu_maxpool_s8")


# ---------------------------------------------------------------------------------
# element-wise binary


def _broadcast(a: tuple[int, ...], b: tuple[int, ...], out: tuple[int, ...]) -> dict[str, list[int]]:
    od = _pad6(out)
    result = {"dims": od}
    for key, shape in (("stride1", a), ("stride2", b)):
        sd = _pad6(shape)
        st = _strides(sd)
        strides = []
        for k in range(MAX_DIMS):
            if sd[k] == od[k]:
                strides.append(st[k])
            else:
                _require(sd[k] == 1, f"shape {list(shape)} does not broadcast to {list(out)}")
                strides.append(0)
        result[key] = strides
    return result


def _binary(graph: Graph, op: Operator, name: str) -> KernelCall:
    a = _t(graph, op, 0, "first")
    b = _t(graph, op, 1, "second")
    out = _out(graph, op)
    for t, what in ((a, "first input"), (b, "second input"), (out, "output")):
        _dtype(t, ("int8",), what)
    s1, z1 = _qp(a)
    s2, z2 = _qp(b)
    so, zo = _qp(out)
    act_min, act_max = _activation(op, out)
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
        structs.append(StructParam("bcast", "mcu_broadcast", _broadcast(a.shape, b.shape, out.shape)))
        call = f"{kernel}(&$s_params, &$s_bcast, (const int8_t *)$in0, (const int8_t *)$in1, (int8_t *)$out0)"
        summary = f"broadcast {list(a.shape)} x {list(b.shape)} -> {list(out.shape)}"
    return KernelCall(op.index, op.opcode, kernel, (f"mcu_{name}_s8.c",), (a.index, b.index), (out.index,), call,
                      structs=tuple(structs), summary=summary)


def lower_add(graph: Graph, op: Operator) -> KernelCall:
    return _binary(graph, op, "add")


def lower_mul(graph: Graph, op: Operator) -> KernelCall:
    return _binary(graph, op, "mul")


# ---------------------------------------------------------------------------------
# reductions


def lower_mean(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    axis_t = _t(graph, op, 1, "axis")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    axes_raw = [int(v) for v in _const(axis_t, "the axis").reshape(-1)]
    rank = len(x.shape)
    axes: list[int] = []
    for a in axes_raw:
        a = a + rank if a < 0 else a
        _require(0 <= a < rank, f"axis {a} out of range")
        if a not in axes:
            axes.append(a)
    dims = _pad6(x.shape)
    shift_dims = MAX_DIMS - rank
    reduced = {a + shift_dims for a in axes}
    kept = [k for k in range(MAX_DIMS) if k not in reduced]
    out_stride = [0] * MAX_DIMS
    acc = 1
    for k in reversed(kept):
        out_stride[k] = acc
        acc *= dims[k]
    _require(acc == out.size, "output size differs from the reduced input")
    num = 1
    for k in reduced:
        num *= dims[k]
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    mult, shift = Q.mean_multiplier(in_scale, out_scale, num)
    scratch = out.size * 4
    structs = (
        StructParam("params", "mcu_mean_params", {
            "dims": dims, "out_stride": out_stride, "output_size": out.size, "num_reduced": num,
            "input_zero_point": in_zp, "output_zero_point": out_zp, "multiplier": mult, "shift": shift,
        }),
    )
    setup = "const mcu_context ctx = { $scratch, $scratch_size };"
    call = "mcu_mean_s8(&ctx, &$s_params, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_mean_s8", ("mcu_mean_s8.c",), (x.index,), (out.index,), call,
                      setup=setup, structs=structs, scratch_bytes=scratch,
                      summary=f"axes {axes} keep_dims={bool(op.option('keep_dims', False))}, {num} elements each")


# ---------------------------------------------------------------------------------
# activations


def lower_softmax(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8", "int16"), "output")
    in_scale, _ = _qp(x)
    out_scale, out_zp = _qp(out)
    if out.dtype == "int8":
        _require(out_zp == -128 and np.float32(out_scale) == np.float32(1.0 / 256), "int8 softmax output must be scale 1/256, zero point -128")
        kernel = "mcu_softmax_s8"
        ctype = "int8_t"
    else:
        _require(out_zp == -32768 and abs(out_scale - 1.0 / 65536) <= 0.001 / 65536, "int16 softmax output must be scale 1/65536, zero point -32768")
        kernel = "mcu_softmax_s8_s16"
        ctype = "int16_t"
    _require(len(x.shape) >= 1, "scalar input")
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


def lower_logistic(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    in_scale, in_zp = _qp(x)
    _, out_zp = _qp(out)
    _require(out_zp == -128, "int8 logistic output zero point must be -128")
    mult, shift, radius = Q.logistic_params(in_scale)
    structs = (StructParam("params", "mcu_logistic_params", {
        "input_zero_point": in_zp, "input_range_radius": radius, "input_multiplier": mult,
        "input_left_shift": shift}),)
    call = f"mcu_logistic_s8(&$s_params, {x.size}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_logistic_s8", ("mcu_logistic_s8.c",), (x.index,), (out.index,),
                      call, structs=structs, summary=f"{x.size} elements")


def lower_hard_swish(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    try:
        rm, rexp, om, oexp = Q.hard_swish_params(in_scale, out_scale)
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    structs = (StructParam("params", "mcu_hard_swish_params", {
        "input_zero_point": in_zp, "output_zero_point": out_zp,
        "reluish_multiplier_exponent": rexp, "output_multiplier_exponent": oexp,
        "reluish_multiplier": rm, "output_multiplier": om}),)
    call = f"mcu_hard_swish_s8(&$s_params, {x.size}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_hard_swish_s8", ("mcu_hard_swish_s8.c",), (x.index,), (out.index,),
                      call, structs=structs, summary=f"{x.size} elements")


def lower_relu(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    mult, shift, act_min, act_max = Q.relu_params(in_scale, out_scale, out_zp, "int8")
    structs = (StructParam("params", "mcu_relu_params", {
        "input_zero_point": in_zp, "output_zero_point": out_zp, "multiplier": mult, "shift": shift,
        "act_min": act_min, "act_max": act_max}),)
    call = f"mcu_relu_s8(&$s_params, {x.size}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_relu_s8", ("mcu_relu_s8.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{x.size} elements")


def lower_relu6(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    in_scale, in_zp = _qp(x)
    lower, upper = Q.relu6_bounds(in_scale, in_zp, "int8")
    call = f"mcu_relu6_s8({lower}, {upper}, {x.size}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_relu6_s8", ("mcu_relu_s8.c",), (x.index,), (out.index,), call,
                      summary=f"clamp to [{lower}, {upper}], {x.size} elements")


# ---------------------------------------------------------------------------------
# data movement


def lower_alias(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _require(x.nbytes == out.nbytes, "input and output sizes differ")
    _require(x.dtype == out.dtype, "input and output types differ")
    return KernelCall(op.index, op.opcode, "", (), (x.index,), (out.index,), "", alias_bytes=out.nbytes,
                      summary=f"{list(x.shape)} -> {list(out.shape)}")


def lower_pad(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    pads = _const(_t(graph, op, 1, "paddings"), "the paddings").astype(np.int64).reshape(-1, 2)
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    rank = len(x.shape)
    _require(pads.shape[0] == rank, "paddings do not match the input rank")
    _require((pads >= 0).all(), "negative padding")
    _, out_zp = _qp(out)
    pad_value = out_zp
    value_t = _opt_t(graph, op, 2)
    if value_t is not None:
        value = _const(value_t, "the pad value").reshape(-1)
        _require(value.size == 1, "the pad value is not a scalar")
        _require(value_t.dtype == x.dtype, "the pad value's type differs from the input's")
        pad_value = int(value[0])
    expected = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, pads))
    _require(expected == tuple(out.shape), "output shape differs from input + paddings")
    lead = MAX_DIMS - rank
    before = [0] * lead + [int(a) for a, _ in pads]
    after = [0] * lead + [int(b) for _, b in pads]
    structs = (StructParam("params", "mcu_pad_params", {"dims": _pad6(x.shape), "before": before, "after": after}),)
    call = f"mcu_pad_s8(&$s_params, {pad_value}, (const int8_t *)$in0, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_pad_s8", ("mcu_pad_s8.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{[list(map(int, p)) for p in pads]} with {pad_value}")


def lower_concatenation(graph: Graph, op: Operator) -> KernelCall:
    out = _out(graph, op)
    ins = [graph.tensors[i] for i in op.inputs if i >= 0]
    _require(len(ins) >= 1, "no inputs")
    _require(op.option("fused_activation_function", "NONE") == "NONE", "fused activation on CONCATENATION")
    _dtype(out, ("int8", "uint8", "int16", "int32", "float32"), "output")
    for t in ins:
        _require(t.dtype == out.dtype, "input and output types differ")
        if out.dtype in ("int8", "int16") and out.quant is not None:
            s, z = _qp(t)
            so, zo = _qp(out)
            _require(s == so and z == zo, "inputs and output must share one quantization")
    rank = len(out.shape)
    axis = op.option("axis", 0)
    axis = axis + rank if axis < 0 else axis
    _require(0 <= axis < rank, f"axis {axis} out of range")
    elem = DTYPE_SIZES[out.dtype]
    outer = _numel(out.shape[:axis])
    copy = [_numel(t.shape[axis:]) * elem for t in ins]
    _require(sum(copy) * outer == out.nbytes, "inputs do not fill the output")
    n = len(ins)
    setup = (
        f"const void *const inputs[{n}] = {{ " + ", ".join(f"$in{k}" for k in range(n)) + " };\n"
        f"static const int32_t copy_bytes[{n}] = {{ " + ", ".join(str(c) for c in copy) + " };"
    )
    call = f"mcu_concat({n}, inputs, copy_bytes, {outer}, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_concat", ("mcu_concat.c",), tuple(t.index for t in ins),
                      (out.index,), call, setup=setup, summary=f"{n} inputs along axis {axis}")


def lower_transpose(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    perm = [int(v) for v in _const(_t(graph, op, 1, "perm"), "the permutation").reshape(-1)]
    out = _out(graph, op)
    _require(x.dtype == out.dtype, "input and output types differ")
    elem = DTYPE_SIZES[x.dtype]
    _require(elem in (1, 2, 4), f"{x.dtype} elements")
    rank = len(x.shape)
    perm = [p + rank if p < 0 else p for p in perm]
    _require(sorted(perm) == list(range(rank)), f"bad permutation {perm}")
    _require(tuple(out.shape) == tuple(int(x.shape[p]) for p in perm), "output shape differs from the permutation")
    in_strides = _strides([int(d) for d in x.shape])
    lead = MAX_DIMS - rank
    structs = (StructParam("params", "mcu_transpose_params", {
        "out_dims": _pad6(out.shape), "in_stride": [0] * lead + [in_strides[p] for p in perm]}),)
    call = f"mcu_transpose(&$s_params, {elem}, $in0, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_transpose", ("mcu_transpose.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"perm {perm}")


# ---------------------------------------------------------------------------------
# (de)quantization

def lower_patch_stage(graph: Graph, op: Operator) -> KernelCall:
    """A patch-based stage (mcugen.patch) carries its lowering, made when it was built."""
    lowering = op.option("lowering")
    _require(lowering is not None, "patch stage without its lowering")
    return lowering.call


_REQUANT = {
    ("int16", "int8"), ("int8", "int8"), ("int8", "uint8"), ("uint8", "int8"), ("int8", "int16"),
    ("int8", "int32"), ("int16", "int16"), ("int16", "int32"), ("int32", "int8"), ("int32", "int16"),
}


def c_float(value: float) -> str:
    """An exact C float literal (hexadecimal), e.g. 0x1.0p-8f."""
    return f"{float(np.float32(value)).hex()}f"


def lower_quantize(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _require(out.quant is not None and len(out.quant.scale) == 1, "output must be quantized per tensor")
    out_scale, out_zp = _qp(out)
    pair = (x.dtype, out.dtype)
    if x.dtype == "float32":
        _require(out.dtype in ("int8", "int16"), f"QUANTIZE float32 -> {out.dtype}")
        kernel = f"mcu_quantize_f32_{SHORT[out.dtype]}"
        call = (f"{kernel}({c_float(out_scale)} /* {out_scale!r} */, {out_zp}, {x.size}, "
                f"(const float *)$in0, ({C_TYPES[out.dtype]} *)$out0)")
        return KernelCall(op.index, op.opcode, kernel, ("mcu_quantize.c",), (x.index,), (out.index,), call,
                          summary=f"float32 -> {out.dtype}, {x.size} elements")
    _require(pair in _REQUANT, f"QUANTIZE {x.dtype} -> {out.dtype}")
    in_scale, in_zp = _qp(x)
    mult, shift = Q.quantize_multiplier(float(in_scale) / float(out_scale))
    kernel = f"mcu_requantize_{SHORT[x.dtype]}_{SHORT[out.dtype]}"
    structs = (StructParam("params", "mcu_requantize_params", {
        "multiplier": mult, "shift": shift, "input_zero_point": in_zp, "output_zero_point": out_zp}),)
    call = (f"{kernel}(&$s_params, {x.size}, (const {C_TYPES[x.dtype]} *)$in0, "
            f"({C_TYPES[out.dtype]} *)$out0)")
    return KernelCall(op.index, op.opcode, kernel, ("mcu_quantize.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{x.dtype} -> {out.dtype}, {x.size} elements")


def lower_dequantize(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    out = _out(graph, op)
    _dtype(x, ("int8", "uint8", "int16"), "input")
    _dtype(out, ("float32",), "output")
    _require(x.quant is not None and len(x.quant.scale) == 1, "input must be quantized per tensor")
    scale, zp = _qp(x)
    kernel = f"mcu_dequantize_{SHORT[x.dtype]}_f32"
    call = (f"{kernel}({c_float(scale)} /* {scale!r} */, {zp}, {x.size}, "
            f"(const {C_TYPES[x.dtype]} *)$in0, (float *)$out0)")
    return KernelCall(op.index, op.opcode, kernel, ("mcu_dequantize.c",), (x.index,), (out.index,), call,
                      summary=f"{x.dtype} -> float32, {x.size} elements")


# ---------------------------------------------------------------------------------
# recurrent


def lower_svdf(graph: Graph, op: Operator) -> KernelCall:
    x = _t(graph, op, 0, "input")
    wf = _t(graph, op, 1, "feature weights")
    wt = _t(graph, op, 2, "time weights")
    bias = _opt_t(graph, op, 3)
    state = _t(graph, op, 4, "state")
    out = _out(graph, op)
    _dtype(x, ("int8",), "input")
    _dtype(out, ("int8",), "output")
    _dtype(wf, ("int8",), "feature weights")
    _dtype(wt, ("int8", "int16"), "time weights")
    _require(state.dtype == wt.dtype, "state and time weights differ in type")
    _require(state.is_variable and not state.is_constant, "the state is not a variable tensor")
    _const(wf, "the feature weights")
    _const(wt, "the time weights")
    if bias is not None:
        _dtype(bias, ("int32",), "bias")
        _const(bias, "the bias")
    rank = int(op.option("rank", 1))
    _require(len(x.shape) == 2 and len(out.shape) == 2, "input and output must be 2-D")
    batches, input_size = (int(d) for d in x.shape)
    filters = int(wf.shape[0])
    _require(rank > 0 and filters % rank == 0, "filters are not a multiple of the rank")
    units = filters // rank
    memory = int(wt.shape[1])
    _require(tuple(state.shape) == (batches, filters * memory), "state shape")
    _require(tuple(out.shape) == (batches, units), "output shape")
    in_s, in_zp = _qp(x)
    st_s, st_zp = _qp(state)
    out_s, out_zp = _qp(out)
    wf_s, _ = _qp(wf)
    wt_s, _ = _qp(wt)
    f32 = np.float32
    m1, s1 = Q.quantize_multiplier(float(f32(in_s) * f32(wf_s) / f32(st_s)))
    m2, s2 = Q.quantize_multiplier(float(f32(st_s) * f32(wt_s) / f32(out_s)))
    st_ctype = C_TYPES[state.dtype]
    kernel = "mcu_svdf_s8" if state.dtype == "int8" else "mcu_svdf_s8_s16"
    constants = [_weights("weights_feature", wf, "int8_t"), _weights("weights_time", wt, st_ctype)]
    if bias is not None:
        constants.append(_weights("bias", bias, "int32_t"))
    structs = (StructParam("params", "mcu_svdf_params", {
        "batches": batches, "input_size": input_size, "filters": filters, "units": units, "rank": rank,
        "memory": memory, "input_zero_point": in_zp, "state_zero_point": st_zp, "output_zero_point": out_zp,
        "multiplier1": m1, "shift1": s1, "multiplier2": m2, "shift2": s2, "act_min": -128, "act_max": 127}),)
    bias_ref = "$c_bias" if bias is not None else "NULL"
    setup = "const mcu_context ctx = { $scratch, $scratch_size };"
    call = (f"{kernel}(&ctx, &$s_params, (const int8_t *)$in0, $c_weights_feature, $c_weights_time, "
            f"{bias_ref}, ({st_ctype} *)$in1, (int8_t *)$out0)")
    scratch = batches * (filters + units) * 4
    return KernelCall(op.index, op.opcode, kernel, ("mcu_svdf_s8.c",), (x.index, state.index), (out.index,), call,
                      setup=setup, constants=tuple(constants), structs=structs, scratch_bytes=scratch,
                      summary=f"rank {rank}, {filters} filters x {memory} steps, {state.dtype} state")


LOWERINGS: dict[str, Callable[[Graph, Operator], KernelCall]] = {
    "CONV_2D": lower_conv2d,
    "DEPTHWISE_CONV_2D": lower_depthwise_conv2d,
    "FULLY_CONNECTED": lower_fully_connected,
    "AVERAGE_POOL_2D": lower_avgpool,
    "MAX_POOL_2D": lower_maxpool,
    "ADD": lower_add,
    "MUL": lower_mul,
    "MEAN": lower_mean,
    "SOFTMAX": lower_softmax,
    "LOGISTIC": lower_logistic,
    "HARD_SWISH": lower_hard_swish,
    "RELU": lower_relu,
    "RELU6": lower_relu6,
    "RESHAPE": lower_alias,
    "SQUEEZE": lower_alias,
    "EXPAND_DIMS": lower_alias,
    "PAD": lower_pad,
    "PADV2": lower_pad,
    "CONCATENATION": lower_concatenation,
    "TRANSPOSE": lower_transpose,
    "QUANTIZE": lower_quantize,
    "DEQUANTIZE": lower_dequantize,
    "SVDF": lower_svdf,
    PATCH_STAGE: lower_patch_stage,
}

CUBEAI_OPS = frozenset(LOWERINGS)


def lower_op(graph: Graph, op: Operator) -> KernelCall:
    """The KernelCall for one operator; LoweringError when cubeai cannot run it."""
    fn = LOWERINGS.get(op.opcode)
    if fn is None:
        raise LoweringError("no cubeai kernel for this operator")
    try:
        return fn(graph, op)
    except LoweringError:
        raise
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise LoweringError(f"malformed operator ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class LoweredGraph:
    calls: tuple[KernelCall, ...]

    @property
    def scratch_bytes(self) -> dict[int, int]:
        return {c.op_index: c.scratch_bytes for c in self.calls if c.scratch_bytes > 0}

    @property
    def sources(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.calls:
            for s in c.sources:
                seen.setdefault(s, None)
        return tuple(seen)


def lower_graph(graph: Graph) -> LoweredGraph:
    """Lower every operator; raises LoweringError from the first that fails (see unsupported_ops)."""
    return LoweredGraph(tuple(lower_op(graph, op) for op in graph.operators))


__all__ = [
    "CRef", "ConstArray", "CUBEAI_OPS", "KernelCall", "LOWERINGS", "LoweredGraph", "LoweringError",
    "StructParam", "c_float", "lower_graph", "lower_op",
]
