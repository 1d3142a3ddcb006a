"""Cortex-M7 kernel variants: what each handles, and everything it needs, prepared ahead.

One `ArmVariant` per C kernel in firmware/kernels/arm/. `select_arm_variant(graph,
op)` returns the variant that runs `op` (first match in `VARIANTS`) or None (the
portable kernel then runs it). `variant.prepare(graph, op)` does TFLM's prepare
step for it, plus the variant's own: the weight layout (`variant.transform`), the
bias with input_offset * sum(filter) folded in, the requantization in the fast
form where provably exact (mcugen.codegen.arm.fixedpoint), interleaved into one
stream with the filter (mcugen.codegen.arm.layouts), and returns an
`ArmCall`: plain data in the same shape as the cubeai lowering's KernelCall
(`ArmCall.to_kernel_call()` converts).

Each variant declares `pixels_in_flight` in the sense of mcugen/ops/access.py:
the kernel reads output pixel k's receptive field after the writes of pixels
< k - pixels_in_flight + 1 at most. Every raster variant here reads a pixel's
field before writing any pixel it has not finished (the matrix kernels expand
both pixels of a pair before writing either), so all declare 1; the planner's
GROUP = 2 is a safe upper bound, and `min_distance(graph, op, group=1)` is the
tighter distance the planner may use per op. None marks ops outside the
planner's raster model (FULLY_CONNECTED, ADD: the planner keeps
FULLY_CONNECTED's input and output apart, and ADD reads element i before
writing it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from mcugen.codegen import quant as Q
from mcugen.codegen.arm import fixedpoint as FP
from mcugen.codegen.arm import layouts as L
from mcugen.model.graph import Graph, Operator, Tensor

HEADERS = ("arm/mcu_arm_kernels.h", "arm/mcu_arm_requant.h", "arm/mcu_arm_acle.h")
MAT_MULT_SOURCE = "arm/mcu_arm_mat_mult_s8.c"
REQUANT_EXACT = 1  # MCU_ARM_REQUANT_EXACT
WIDE = 2           # MCU_ARM_WIDE

# The matrix kernels' int16-filter ("w16") variants take twice the filter's flash and
# about 20 % fewer instructions. select_arm_variant() takes them for filters up to this
# many int8 bytes (the extra flash is at most this much per layer); None: always.
DEFAULT_WIDE_LIMIT = 4 * 1024


@dataclass(frozen=True)
class Ref:
    """A struct field pointing at one of the call's constant arrays (KernelCall's CRef)."""

    name: str


@dataclass(frozen=True)
class ArmConst:
    name: str
    ctype: str
    values: np.ndarray
    weights: bool  # True: model data in the weights blob (16-byte aligned); False: .rodata params
    comment: str = ""


@dataclass(frozen=True)
class ArmStruct:
    name: str
    ctype: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class ArmCall:
    """A prepared call of a Cortex-M7 kernel; placeholders as KernelCall's ($in0, $out0,
    $scratch, $scratch_size, $c_<const>, $s_<struct>)."""

    variant: str
    kernel: str
    sources: tuple[str, ...]     # relative to firmware/kernels
    headers: tuple[str, ...]     # relative to firmware/kernels
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    call: str
    setup: str = ""
    constants: tuple[ArmConst, ...] = ()
    structs: tuple[ArmStruct, ...] = ()
    scratch_bytes: int = 0
    pixels_in_flight: int | None = None
    exact_requant: bool = False  # True: some channel did not fit the fast form
    summary: str = ""

    def to_kernel_call(self, op: Operator) -> Any:
        """The cubeai lowering's KernelCall for this call (imported lazily: that module
        belongs to the cubeai code generator). Its `sources` list the headers too, so that
        the generator copies them (it compiles only the .c files)."""
        from mcugen.codegen.lowering import ConstArray, CRef, KernelCall, StructParam  # noqa: PLC0415

        def conv(v: Any) -> Any:
            if isinstance(v, Ref):
                return CRef(v.name)
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        return KernelCall(
            op.index, op.opcode, self.kernel, self.sources + self.headers, self.inputs, self.outputs, self.call,
            setup=self.setup,
            constants=tuple(ConstArray(c.name, c.ctype, c.values, c.weights, c.comment) for c in self.constants),
            structs=tuple(StructParam(s.name, s.ctype, {k: conv(v) for k, v in s.fields.items()})
                          for s in self.structs),
            scratch_bytes=self.scratch_bytes, summary=self.summary,
        )


@dataclass(frozen=True)
class ArmVariant:
    """A Cortex-M7 kernel and what it handles.

    accepts(graph, op) -> None if the variant runs op, else the reason it does not.
    scratch(graph, op) -> scratch bytes (its C *_get_buffer_size()).
    transform(filter) -> the filter in the layout the kernel reads (numpy -> numpy).
    build(graph, op) -> ArmCall.
    """

    name: str
    opcodes: tuple[str, ...]
    kernel: str
    sources: tuple[str, ...]
    handles: str
    pixels_in_flight: int | None
    accepts: Callable[[Graph, Operator], str | None]
    scratch: Callable[[Graph, Operator], int]
    transform: Callable[[np.ndarray], np.ndarray] | None
    build: Callable[[Graph, Operator], ArmCall] = field(repr=False)
    headers: tuple[str, ...] = HEADERS
    wide: bool = False           # int16 filter stream: 2x the filter's flash, fewer instructions

    def scratch_bytes(self, graph: Graph, op: Operator) -> int:
        return self.scratch(graph, op)

    def prepare(self, graph: Graph, op: Operator) -> ArmCall:
        reason = self.accepts(graph, op)
        if reason is not None:
            raise ValueError(f"variant {self.name} does not run op {op.index} ({op.opcode}): {reason}")
        return self.build(graph, op)


# ---------------------------------------------------------------------------------
# helpers


def _t(graph: Graph, op: Operator, k: int) -> Tensor | None:
    if k >= len(op.inputs) or op.inputs[k] < 0:
        return None
    return graph.tensors[op.inputs[k]]


def _qp(t: Tensor) -> tuple[float, int]:
    assert t.quant is not None
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def _has_quant(t: Tensor | None) -> bool:
    return t is not None and t.quant is not None and bool(t.quant.scale)


def _dims(n: int, h: int, w: int, c: int) -> dict[str, int]:
    return {"n": int(n), "h": int(h), "w": int(w), "c": int(c)}


@dataclass(frozen=True)
class _Conv:
    """What the convolution variants need of a CONV_2D / DEPTHWISE_CONV_2D op."""

    x: Tensor
    filt: Tensor
    out: Tensor
    bias: np.ndarray          # int64 [out_c] (zeros without a bias)
    in_zp: int
    out_zp: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_h: int
    pad_w: int
    act_min: int
    act_max: int
    mults: list[int]
    shifts: list[int]


def _conv(graph: Graph, op: Operator) -> _Conv | str:
    """The op's TFLM prepare-step values (as mcugen.codegen.lowering computes them), or why not."""
    x, filt, out = _t(graph, op, 0), _t(graph, op, 1), graph.tensors[op.outputs[0]] if op.outputs else None
    bias_t = _t(graph, op, 2)
    if x is None or filt is None or out is None:
        return "missing input, filter or output"
    if (x.dtype, filt.dtype, out.dtype) != ("int8", "int8", "int8"):
        return "not int8"
    if filt.data is None or (bias_t is not None and (bias_t.data is None or bias_t.dtype != "int32")):
        return "filter or bias not a constant (int32 bias)"
    if not (_has_quant(x) and _has_quant(filt) and _has_quant(out)):
        return "missing quantization"
    if len(x.shape) != 4 or len(out.shape) != 4 or len(filt.shape) != 4:
        return "not 4-D"
    channels = int(out.shape[3])
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    _, k_h, k_w, _ = (int(d) for d in filt.shape)
    sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
    dh, dw = op.option("dilation_h_factor", 1), op.option("dilation_w_factor", 1)
    try:
        oh, pad_h = Q.op_padding(op, "h", sh, dh, int(x.shape[1]), k_h)
        ow, pad_w = Q.op_padding(op, "w", sw, dw, int(x.shape[2]), k_w)
        act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype,
                                              out_scale, out_zp)
    except Q.PrepareError as exc:
        return str(exc)
    if (oh, ow) != (int(out.shape[1]), int(out.shape[2])):
        return "output size differs from the padding's"
    if filt.quant.per_channel and len(filt.quant.scale) != channels:
        return "per-channel scales do not match the output channels"
    mults, shifts = Q.conv_per_channel(in_scale, filt.quant.scale, out_scale, channels)
    bias = (np.asarray(bias_t.data, dtype=np.int64).reshape(-1) if bias_t is not None
            else np.zeros(channels, dtype=np.int64))
    if bias.size != channels:
        return "bias size differs from the output channels"
    return _Conv(x, filt, out, bias, in_zp, out_zp, sh, sw, dh, dw, pad_h, pad_w, act_min, act_max, mults, shifts)


def _fold(w2d: np.ndarray, bias: np.ndarray, in_zp: int) -> tuple[list[int], list[int]]:
    """Folded biases bias + input_offset * sum(w) and bounds on |accumulator| per channel,
    for filters w2d [out_c, K] over inputs in [-128, 127] (out-of-image taps add 0)."""
    w = np.asarray(w2d, dtype=np.int64)
    in_off = -in_zp
    folded = bias + in_off * w.sum(axis=1)
    largest = max(abs(-128 + in_off), abs(127 + in_off))
    bounds = np.abs(bias) + largest * np.abs(w).sum(axis=1)
    return [int(v) for v in folded], [int(v) for v in bounds]


def _requant(c: _Conv, w2d: np.ndarray) -> tuple[np.ndarray, bool] | None:
    folded, bounds = _fold(w2d, c.bias, c.in_zp)
    result = FP.fold_channels(folded, c.mults, c.shifts, c.out_zp, bounds)
    if result is None:
        return None
    rows, exact = result
    return np.asarray(rows, dtype=np.int64).astype(np.int32).reshape(-1, 4), exact


def _conv_params(c: _Conv, exact: bool, wide: bool = False) -> dict[str, int]:
    return {
        "stride_w": c.stride_w, "stride_h": c.stride_h, "pad_w": c.pad_w, "pad_h": c.pad_h,
        "dilation_w": c.dil_w, "dilation_h": c.dil_h, "pad_value": c.in_zp, "output_offset": c.out_zp,
        "act_min": c.act_min, "act_max": c.act_max,
        "flags": (REQUANT_EXACT if exact else 0) | (WIDE if wide else 0),
    }


SCRATCH_SETUP = "const mcu_context ctx = { $scratch, $scratch_size };"


def _conv_call(variant: ArmVariant, graph: Graph, op: Operator, c: _Conv, w2d: np.ndarray,
               padded: np.ndarray, filter_dims: dict[str, int], in_dims: dict[str, int]) -> ArmCall:
    """A matrix-kernel call: w2d [out_c, K] the filter as TFLM sums it (for the bias fold),
    padded [out_c, steps * 4] the depth order the kernel reads."""
    rq = _requant(c, w2d)
    assert rq is not None  # accepts() checked it
    rows, exact = rq
    od = _dims(*c.out.shape)
    macs = int(np.prod(c.out.shape)) * filter_dims["h"] * filter_dims["w"] * filter_dims["c"]
    call = (f"{variant.kernel}(&ctx, &$s_params, &$s_in_dims, (const int8_t *)$in0, &$s_filter_dims, "
            "(const int32_t *)$c_packed, &$s_out_dims, (int8_t *)$out0)")
    return ArmCall(
        variant=variant.name, kernel=variant.kernel, sources=variant.sources, headers=variant.headers,
        inputs=(c.x.index,), outputs=(c.out.index,), call=call, setup=SCRATCH_SETUP,
        constants=(
            ArmConst("packed", "int32_t", L.mm_stream(padded, rows, variant.wide), True,
                     f"'{c.filt.name}' and its requantization, {variant.name} stream"),
        ),
        structs=(
            ArmStruct("params", "mcu_arm_conv_params", _conv_params(c, exact, variant.wide)),
            ArmStruct("in_dims", "mcu_dims", in_dims),
            ArmStruct("filter_dims", "mcu_dims", filter_dims),
            ArmStruct("out_dims", "mcu_dims", od),
        ),
        scratch_bytes=variant.scratch(graph, op), pixels_in_flight=variant.pixels_in_flight,
        exact_requant=exact,
        summary=f"{variant.name}: {filter_dims['h']}x{filter_dims['w']} stride {c.stride_h}x{c.stride_w}, "
                f"{macs} MACs{' (exact requantization)' if exact else ''}",
    )


def _in_c(graph: Graph, op: Operator) -> int:
    return int(graph.tensors[op.inputs[0]].shape[3])


# ---------------------------------------------------------------------------------
# CONV_2D 1x1


def _conv1x1_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "CONV_2D":
        return "not CONV_2D"
    c = _conv(graph, op)
    if isinstance(c, str):
        return c
    o, kh, kw, i = c.filt.shape
    if (kh, kw) != (1, 1):
        return "filter is not 1x1"
    if i != c.x.shape[3] or o != c.out.shape[3]:
        return "grouped convolution"
    if _requant(c, np.asarray(c.filt.data).reshape(o, -1)) is None:
        return "accumulator may reach 2^30"
    return None


def _conv1x1_scratch(graph: Graph, op: Operator) -> int:
    return 16 * ((_in_c(graph, op) + 3) // 4)


def _conv1x1_build(variant_name: str) -> Callable[[Graph, Operator], ArmCall]:
    def build(graph: Graph, op: Operator) -> ArmCall:
        c = _conv(graph, op)
        assert not isinstance(c, str)
        w = np.asarray(c.filt.data, dtype=np.int8)
        return _conv_call(BY_NAME[variant_name], graph, op, c, w.reshape(w.shape[0], -1), L.conv1x1_depth(w),
                          _dims(*c.filt.shape), _dims(*c.x.shape))

    return build


CONV1X1 = ArmVariant(
    name="conv1x1",
    opcodes=("CONV_2D",),
    kernel="mcu_conv2d_1x1_s8_arm",
    sources=("arm/mcu_conv2d_1x1_s8_arm.c", MAT_MULT_SOURCE),
    handles="CONV_2D, int8, 1x1 filter, any stride, groups = 1, any channel counts",
    pixels_in_flight=1,
    accepts=_conv1x1_accepts,
    scratch=_conv1x1_scratch,
    transform=L.conv1x1_filter,
    build=_conv1x1_build("conv1x1"),
)

CONV1X1_W16 = dataclasses.replace(
    CONV1X1, name="conv1x1_w16", handles=CONV1X1.handles + "; int16 filter (2x flash)",
    transform=lambda f: L.wide_words(L.conv1x1_depth(f)), build=_conv1x1_build("conv1x1_w16"), wide=True)


# ---------------------------------------------------------------------------------
# CONV_2D any filter (and DEPTHWISE_CONV_2D with one input channel)


def _as_conv_filter(op: Operator, c: _Conv) -> np.ndarray:
    w = np.asarray(c.filt.data, dtype=np.int8)
    return L.depthwise_as_conv(w) if op.opcode == "DEPTHWISE_CONV_2D" else w


def _conv_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return "not a convolution"
    c = _conv(graph, op)
    if isinstance(c, str):
        return c
    in_c = int(c.x.shape[3])
    if op.opcode == "DEPTHWISE_CONV_2D":
        if in_c != 1 or c.filt.shape[0] != 1:
            return "depthwise with more than one input channel"
    elif c.filt.shape[3] != in_c or c.filt.shape[0] != c.out.shape[3]:
        return "grouped convolution"
    w = _as_conv_filter(op, c)
    if _requant(c, L.conv_filter_rows(w)) is None:
        return "accumulator may reach 2^30"
    return None


def _conv_scratch(graph: Graph, op: Operator) -> int:
    filt = graph.tensors[op.inputs[1]]
    _, k_h, k_w, _ = filt.shape
    rlen = L.conv_row_len(int(k_w), _in_c(graph, op))
    return 4 * int(k_h) * rlen + rlen


def _conv_build(variant_name: str) -> Callable[[Graph, Operator], ArmCall]:
    def build(graph: Graph, op: Operator) -> ArmCall:
        c = _conv(graph, op)
        assert not isinstance(c, str)
        w = _as_conv_filter(op, c)
        rows = L.conv_filter_rows(w)
        return _conv_call(BY_NAME[variant_name], graph, op, c, rows, rows, _dims(*w.shape), _dims(*c.x.shape))

    return build


CONV = ArmVariant(
    name="conv",
    opcodes=("CONV_2D", "DEPTHWISE_CONV_2D"),
    kernel="mcu_conv2d_s8_arm",
    sources=("arm/mcu_conv2d_s8_arm.c", MAT_MULT_SOURCE),
    handles="CONV_2D, int8, any filter, stride, dilation and padding, groups = 1; "
            "DEPTHWISE_CONV_2D with one input channel (any depth multiplier)",
    pixels_in_flight=1,
    accepts=_conv_accepts,
    scratch=_conv_scratch,
    transform=L.conv_filter,
    build=_conv_build("conv"),
)

CONV_W16 = dataclasses.replace(
    CONV, name="conv_w16", handles=CONV.handles + "; int16 filter (2x flash)",
    transform=lambda f: L.wide_words(L.conv_filter_rows(f)), build=_conv_build("conv_w16"), wide=True)


# ---------------------------------------------------------------------------------
# DEPTHWISE_CONV_2D 3x3


def _dw_common(graph: Graph, op: Operator) -> _Conv | str:
    if op.opcode != "DEPTHWISE_CONV_2D":
        return "not DEPTHWISE_CONV_2D"
    c = _conv(graph, op)
    if isinstance(c, str):
        return c
    channels = c.filt.shape[3]
    if channels != c.x.shape[3] or channels != c.out.shape[3]:
        return "depth multiplier is not 1"
    if channels % 4:
        return "channels are not a multiple of 4"
    if _requant(c, _dw_w2d(c)) is None:
        return "accumulator may reach 2^30"
    return c


def _dw3x3_accepts(graph: Graph, op: Operator) -> str | None:
    c = _dw_common(graph, op)
    if isinstance(c, str):
        return c
    if tuple(c.filt.shape[1:3]) != (3, 3):
        return "filter is not 3x3"
    if (c.dil_h, c.dil_w) != (1, 1):
        return "dilated"
    if c.pad_h > 1 or c.pad_w > 1:
        return "padding above 1"
    return None


def _dw_accepts(graph: Graph, op: Operator) -> str | None:
    c = _dw_common(graph, op)
    return c if isinstance(c, str) else None


def _dw_w2d(c: _Conv) -> np.ndarray:
    """Depthwise filter as [channels, taps]."""
    w = np.asarray(c.filt.data, dtype=np.int8)
    return w.reshape(-1, w.shape[3]).T


def _dw3x3_scratch(graph: Graph, op: Operator) -> int:
    return 12 * _in_c(graph, op)  # mcu_depthwise_conv2d_3x3_s8_arm_get_buffer_size


def _dw_scratch(graph: Graph, op: Operator) -> int:
    _, k_h, k_w, _ = graph.tensors[op.inputs[1]].shape
    taps = int(k_h) * int(k_w)
    return 8 * ((taps + 2) & ~1) + taps * _in_c(graph, op)  # mcu_depthwise_conv2d_s8_arm_get_buffer_size


def _dw_build(variant_name: str) -> Callable[[Graph, Operator], ArmCall]:
    def build(graph: Graph, op: Operator) -> ArmCall:
        variant = BY_NAME[variant_name]
        c = _conv(graph, op)
        assert not isinstance(c, str)
        rq = _requant(c, _dw_w2d(c))
        assert rq is not None
        rows, exact = rq
        w = np.asarray(c.filt.data, dtype=np.int8)
        macs = int(np.prod(c.out.shape)) * int(w.shape[1] * w.shape[2])
        call = (f"{variant.kernel}(&ctx, &$s_params, &$s_in_dims, (const int8_t *)$in0, "
                "&$s_filter_dims, (const int32_t *)$c_packed, &$s_out_dims, (int8_t *)$out0)")
        return ArmCall(
            variant=variant.name, kernel=variant.kernel, sources=variant.sources, headers=variant.headers,
            inputs=(c.x.index,), outputs=(c.out.index,), call=call, setup=SCRATCH_SETUP,
            constants=(ArmConst("packed", "int32_t", L.dw_packed(w, rows), True,
                                f"'{c.filt.name}': per 4 channels, bias, doubled tap pairs, requantization"),),
            structs=(
                ArmStruct("params", "mcu_arm_conv_params", _conv_params(c, exact)),
                ArmStruct("in_dims", "mcu_dims", _dims(*c.x.shape)),
                ArmStruct("filter_dims", "mcu_dims", _dims(*c.filt.shape)),
                ArmStruct("out_dims", "mcu_dims", _dims(*c.out.shape)),
            ),
            scratch_bytes=variant.scratch(graph, op), pixels_in_flight=variant.pixels_in_flight,
            exact_requant=exact,
            summary=f"{variant.name}: {w.shape[1]}x{w.shape[2]} stride {c.stride_h}x{c.stride_w}, {macs} MACs"
                    f"{' (exact requantization)' if exact else ''}",
        )

    return build


DW3X3 = ArmVariant(
    name="dw3x3",
    opcodes=("DEPTHWISE_CONV_2D",),
    kernel="mcu_depthwise_conv2d_3x3_s8_arm",
    sources=("arm/mcu_depthwise_conv2d_3x3_s8_arm.c",),
    handles="DEPTHWISE_CONV_2D, int8, 3x3, depth multiplier 1, channels % 4 == 0, any stride, "
            "padding <= 1, no dilation",
    pixels_in_flight=1,
    accepts=_dw3x3_accepts,
    scratch=_dw3x3_scratch,
    transform=L.dw3x3_filter,
    build=_dw_build("dw3x3"),
)

DW = ArmVariant(
    name="dw",
    opcodes=("DEPTHWISE_CONV_2D",),
    kernel="mcu_depthwise_conv2d_s8_arm",
    sources=("arm/mcu_depthwise_conv2d_s8_arm.c",),
    handles="DEPTHWISE_CONV_2D, int8, any filter size, stride, dilation and padding, depth multiplier 1, "
            "channels % 4 == 0",
    pixels_in_flight=1,
    accepts=_dw_accepts,
    scratch=_dw_scratch,
    transform=L.dw_filter,
    build=_dw_build("dw"),
)


# ---------------------------------------------------------------------------------
# FULLY_CONNECTED


@dataclass(frozen=True)
class _Fc:
    x: Tensor
    w: Tensor
    out: Tensor
    bias: np.ndarray
    in_zp: int
    out_zp: int
    act_min: int
    act_max: int
    mults: list[int]
    shifts: list[int]
    batches: int
    units: int
    depth: int


def _fc(graph: Graph, op: Operator) -> _Fc | str:
    x, w, bias_t = _t(graph, op, 0), _t(graph, op, 1), _t(graph, op, 2)
    out = graph.tensors[op.outputs[0]] if op.outputs else None
    if x is None or w is None or out is None:
        return "missing input, weights or output"
    if (x.dtype, w.dtype, out.dtype) != ("int8", "int8", "int8"):
        return "not int8"
    if w.data is None or len(w.shape) != 2 or (bias_t is not None and (bias_t.data is None or bias_t.dtype != "int32")):
        return "weights not a constant 2-D tensor (or bias not int32)"
    if op.option("weights_format", 0) not in (0, "DEFAULT"):
        return "shuffled weights"
    if not (_has_quant(x) and _has_quant(w) and _has_quant(out)):
        return "missing quantization"
    units, depth = (int(d) for d in w.shape)
    if not out.shape or int(out.shape[-1]) != units or x.size % depth:
        return "shapes do not match"
    batches = out.size // units
    if x.size != batches * depth:
        return "input size is not batches x depth"
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    if w.quant.per_channel:
        if len(w.quant.scale) != units:
            return "per-channel scales do not match the units"
        mults, shifts = Q.conv_per_channel(in_scale, w.quant.scale, out_scale, units)
    else:
        if int(w.quant.zero_point[0]) != 0:
            return "weights zero point is not 0"
        m, s = Q.fc_per_tensor(in_scale, w.quant.scale[0], out_scale)
        mults, shifts = [m] * units, [s] * units
    try:
        act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype,
                                              out_scale, out_zp)
    except Q.PrepareError as exc:
        return str(exc)
    bias = (np.asarray(bias_t.data, dtype=np.int64).reshape(-1) if bias_t is not None
            else np.zeros(units, dtype=np.int64))
    return _Fc(x, w, out, bias, in_zp, out_zp, act_min, act_max, mults, shifts, batches, units, depth)


def _fc_requant(f: _Fc) -> tuple[np.ndarray, bool] | None:
    folded, bounds = _fold(np.asarray(f.w.data), f.bias, f.in_zp)
    result = FP.fold_channels(folded, f.mults, f.shifts, f.out_zp, bounds)
    if result is None:
        return None
    rows, exact = result
    return np.asarray(rows, dtype=np.int64).astype(np.int32).reshape(-1, 4), exact


def _fc_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "FULLY_CONNECTED":
        return "not FULLY_CONNECTED"
    f = _fc(graph, op)
    if isinstance(f, str):
        return f
    if _fc_requant(f) is None:
        return "accumulator may reach 2^30"
    return None


def _fc_scratch(graph: Graph, op: Operator) -> int:
    depth = int(graph.tensors[op.inputs[1]].shape[1])
    return 16 * ((depth + 3) // 4)


def _fc_build(variant_name: str) -> Callable[[Graph, Operator], ArmCall]:
    return lambda graph, op: _fc_call(BY_NAME[variant_name], graph, op)


def _fc_call(variant: ArmVariant, graph: Graph, op: Operator) -> ArmCall:
    f = _fc(graph, op)
    assert not isinstance(f, str)
    rq = _fc_requant(f)
    assert rq is not None
    rows, exact = rq
    call = ("mcu_fully_connected_s8_arm(&ctx, &$s_params, &$s_in_dims, (const int8_t *)$in0, "
            "&$s_filter_dims, (const int32_t *)$c_packed, &$s_out_dims, (int8_t *)$out0)")
    return ArmCall(
        variant=variant.name, kernel=variant.kernel, sources=variant.sources, headers=variant.headers,
        inputs=(f.x.index,), outputs=(f.out.index,), call=call, setup=SCRATCH_SETUP,
        constants=(
            ArmConst("packed", "int32_t", L.mm_stream(L.conv1x1_depth(np.asarray(f.w.data)), rows, variant.wide),
                     True, f"'{f.w.name}' and its requantization, {variant.name} stream"),
        ),
        structs=(
            ArmStruct("params", "mcu_arm_fc_params", {
                "output_offset": f.out_zp, "act_min": f.act_min, "act_max": f.act_max,
                "flags": (REQUANT_EXACT if exact else 0) | (WIDE if variant.wide else 0)}),
            ArmStruct("in_dims", "mcu_dims", _dims(f.batches, 1, 1, f.depth)),
            ArmStruct("filter_dims", "mcu_dims", _dims(f.units, 1, 1, f.depth)),
            ArmStruct("out_dims", "mcu_dims", _dims(f.batches, 1, 1, f.units)),
        ),
        scratch_bytes=_fc_scratch(graph, op), pixels_in_flight=variant.pixels_in_flight, exact_requant=exact,
        summary=f"{variant.name}: {f.batches}x{f.depth} -> {f.units}, {f.batches * f.units * f.depth} MACs",
    )


FC = ArmVariant(
    name="fc",
    opcodes=("FULLY_CONNECTED",),
    kernel="mcu_fully_connected_s8_arm",
    sources=("arm/mcu_fully_connected_s8_arm.c", MAT_MULT_SOURCE),
    handles="FULLY_CONNECTED, int8, weights zero point 0, any depth and units",
    pixels_in_flight=None,
    accepts=_fc_accepts,
    scratch=_fc_scratch,
    transform=L.conv1x1_filter,
    build=_fc_build("fc"),
)

FC_W16 = dataclasses.replace(
    FC, name="fc_w16", handles=FC.handles + "; int16 filter (2x flash)",
    transform=lambda f: L.wide_words(L.conv1x1_depth(f)), build=_fc_build("fc_w16"), wide=True)


# ---------------------------------------------------------------------------------
# AVERAGE_POOL_2D


def _avgpool_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "AVERAGE_POOL_2D":
        return "not AVERAGE_POOL_2D"
    x, out = _t(graph, op, 0), graph.tensors[op.outputs[0]]
    if x is None or x.dtype != "int8" or out.dtype != "int8" or len(x.shape) != 4 or len(out.shape) != 4:
        return "not a 4-D int8 pool"
    if not (_has_quant(x) and _has_quant(out)):
        return "missing quantization"
    (si, zi), (so, zo) = _qp(x), _qp(out)
    if abs(si - so) > 1e-6 or zi != zo:
        return "input and output quantization differ"
    return None


def _avgpool_build(graph: Graph, op: Operator) -> ArmCall:
    x, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    fh, fw = op.option("filter_height", 1), op.option("filter_width", 1)
    sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
    kind = op.option("padding", "VALID")
    _, pad_h = Q.op_padding(op, "h", sh, 1, int(x.shape[1]), fh, "VALID")
    _, pad_w = Q.op_padding(op, "w", sw, 1, int(x.shape[2]), fw, "VALID")
    scale, zp = _qp(out)
    act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype, scale, zp)
    call = "mcu_avgpool_s8_arm(NULL, &$s_params, &$s_in_dims, (const int8_t *)$in0, &$s_out_dims, (int8_t *)$out0)"
    return ArmCall(
        variant=AVGPOOL.name, kernel=AVGPOOL.kernel, sources=AVGPOOL.sources, headers=AVGPOOL.headers,
        inputs=(x.index,), outputs=(out.index,), call=call,
        structs=(
            ArmStruct("params", "mcu_pool_params", {"stride_w": sw, "stride_h": sh, "pad_w": pad_w, "pad_h": pad_h,
                                                    "filter_w": fw, "filter_h": fh, "act_min": act_min,
                                                    "act_max": act_max}),
            ArmStruct("in_dims", "mcu_dims", _dims(*x.shape)),
            ArmStruct("out_dims", "mcu_dims", _dims(*out.shape)),
        ),
        pixels_in_flight=AVGPOOL.pixels_in_flight, summary=f"avgpool: {fh}x{fw} stride {sh}x{sw} {kind}",
    )


AVGPOOL = ArmVariant(
    name="avgpool",
    opcodes=("AVERAGE_POOL_2D",),
    kernel="mcu_avgpool_s8_arm",
    sources=("arm/mcu_avgpool_s8_arm.c",),
    handles="AVERAGE_POOL_2D, int8 (16-bit lane sums up to 255 taps, 32-bit beyond)",
    pixels_in_flight=1,
    accepts=_avgpool_accepts,
    scratch=lambda graph, op: 0,
    transform=None,
    build=_avgpool_build,
)


# ---------------------------------------------------------------------------------
# ADD


def add_tables(zp1: int, zp2: int, mp: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Doubled rescaled inputs, t[v + 128] = 2 * MBQM((v - zp) << left_shift, m, s)."""
    ls = int(mp["left_shift"])
    values = range(-128, 128)
    t1 = [2 * FP.mbqm(FP.wrap32((v - zp1) << ls), int(mp["input1_multiplier"]), int(mp["input1_shift"]))
          for v in values]
    t2 = [2 * FP.mbqm(FP.wrap32((v - zp2) << ls), int(mp["input2_multiplier"]), int(mp["input2_shift"]))
          for v in values]
    return np.asarray(t1, dtype=np.int64), np.asarray(t2, dtype=np.int64)


@dataclass(frozen=True)
class _Add:
    a: Tensor
    b: Tensor
    out: Tensor
    t1: np.ndarray
    t2: np.ndarray
    row: FP.FoldedChannel
    out_zp: int
    act_min: int
    act_max: int


def _add(graph: Graph, op: Operator) -> _Add | str:
    a, b = _t(graph, op, 0), _t(graph, op, 1)
    out = graph.tensors[op.outputs[0]] if op.outputs else None
    if a is None or b is None or out is None:
        return "missing input or output"
    if (a.dtype, b.dtype, out.dtype) != ("int8", "int8", "int8"):
        return "not int8"
    if not (tuple(a.shape) == tuple(b.shape) == tuple(out.shape)):
        return "broadcasting"
    if a.is_constant or b.is_constant:
        return "constant operand"
    if not (_has_quant(a) and _has_quant(b) and _has_quant(out)):
        return "missing quantization"
    (s1, z1), (s2, z2), (so, zo) = _qp(a), _qp(b), _qp(out)
    try:
        mp = Q.add_params(s1, s2, so)
        act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype, so, zo)
    except Q.PrepareError as exc:
        return str(exc)
    t1, t2 = add_tables(z1, z2, mp)
    bound = (int(np.abs(t1).max()) + int(np.abs(t2).max())) // 2
    row = FP.fold_channel(0, int(mp["output_multiplier"]), int(mp["output_shift"]), zo, bound)
    if row is None:
        return "sum may reach 2^30"
    return _Add(a, b, out, t1, t2, row, zo, act_min, act_max)


def _add_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "ADD":
        return "not ADD"
    r = _add(graph, op)
    return r if isinstance(r, str) else None


def _add_build(graph: Graph, op: Operator) -> ArmCall:
    r = _add(graph, op)
    assert not isinstance(r, str)
    row = r.row
    fields = {
        "table1": Ref("table1"), "table2": Ref("table2"),
        "mult": row.mult, "add": row.add, "shift": row.shift, "output_offset": r.out_zp,
        "act_min": r.act_min, "act_max": r.act_max, "flags": 0 if row.fast else REQUANT_EXACT,
    }
    call = (f"mcu_add_s8_arm(&$s_params, {r.out.size}, (const int8_t *)$in0, (const int8_t *)$in1, "
            "(int8_t *)$out0)")
    return ArmCall(
        variant=ADD.name, kernel=ADD.kernel, sources=ADD.sources, headers=ADD.headers,
        inputs=(r.a.index, r.b.index), outputs=(r.out.index,), call=call,
        constants=(
            ArmConst("table1", "int32_t", r.t1.astype(np.int32), False, "2 * rescaled input 1, v = -128..127"),
            ArmConst("table2", "int32_t", r.t2.astype(np.int32), False, "2 * rescaled input 2, v = -128..127"),
        ),
        structs=(ArmStruct("params", "mcu_arm_add_params", fields),),
        pixels_in_flight=ADD.pixels_in_flight, exact_requant=not row.fast,
        summary=f"add: {r.out.size} elements (tables)",
    )


ADD = ArmVariant(
    name="add",
    opcodes=("ADD",),
    kernel="mcu_add_s8_arm",
    sources=("arm/mcu_add_s8_arm.c",),
    handles="ADD, int8, both inputs of the output's shape (no broadcasting)",
    pixels_in_flight=None,
    accepts=_add_accepts,
    scratch=lambda graph, op: 0,
    transform=None,
    build=_add_build,
)


# In order of preference: the first variant that accepts an op runs it (the w16
# variants only within select_arm_variant's wide_limit).
VARIANTS: tuple[ArmVariant, ...] = (CONV1X1_W16, CONV1X1, DW3X3, DW, CONV_W16, CONV, FC_W16, FC, AVGPOOL, ADD)
BY_NAME: dict[str, ArmVariant] = {v.name: v for v in VARIANTS}


def filter_bytes(graph: Graph, op: Operator) -> int:
    """Bytes of the op's int8 filter (0 for ops without one)."""
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 1 and op.inputs[1] >= 0:
        return graph.tensors[op.inputs[1]].nbytes
    return 0


def select_arm_variant(graph: Graph, op: Operator, wide_limit: int | None = DEFAULT_WIDE_LIMIT) -> ArmVariant | None:
    """The Cortex-M7 variant for op, or None (the portable kernel runs it).

    wide_limit: the largest filter (int8 bytes) for which an int16-filter variant is
    chosen (it stores the filter in twice the flash for ~20 % fewer instructions);
    None: whenever one applies; 0: never."""
    for v in VARIANTS:
        if op.opcode not in v.opcodes:
            continue
        if v.wide and wide_limit is not None and filter_bytes(graph, op) > wide_limit:
            continue
        if v.accepts(graph, op) is None:
            return v
    return None


def why_not(graph: Graph, op: Operator) -> dict[str, str]:
    """Per variant of op's opcode, why it does not run op (diagnostics)."""
    return {v.name: v.accepts(graph, op) or "accepted" for v in VARIANTS if op.opcode in v.opcodes}
