"""What every Cortex-M7 kernel variant shares: its description (`ArmVariant`) and the
TFLM prepare-step facts of a convolution, folded for the matrix kernels.

Each variant declares `pixels_in_flight` in the sense of mcugen/ops/access.py:
the kernel reads output pixel k's receptive field after the writes of pixels
< k - pixels_in_flight + 1 at most. Every raster variant reads a pixel's field
before writing any pixel it has not finished (the matrix kernels expand both
pixels of a pair before writing either), so all declare 1; the planner's
GROUP = 2 is a safe upper bound, and `min_distance(graph, op, group=1)` is the
tighter distance the planner may use per op. None marks ops outside the
planner's raster model (FULLY_CONNECTED, ADD: the planner keeps
FULLY_CONNECTED's input and output apart, and ADD reads element i before
writing it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.arm import fixedpoint as FP
from mcugen.lower.call import ConstArray, KernelCall, StructParam
from mcugen.model.graph import Graph, Operator, Tensor

HEADERS = ("arm/mcu_arm_kernels.h", "arm/mcu_arm_requant.h", "arm/mcu_arm_acle.h")
MAT_MULT_SOURCE = "arm/mcu_arm_mat_mult_s8.c"
REQUANT_EXACT = 1  # MCU_ARM_REQUANT_EXACT
WIDE = 2           # MCU_ARM_WIDE
SCRATCH_SETUP = "const mcu_context ctx = { $scratch, $scratch_size };"


@dataclass(frozen=True)
class ArmVariant:
    """A Cortex-M7 kernel and what it handles.

    accepts(graph, op) -> None if the variant runs op, else the reason it does not.
    scratch(graph, op) -> scratch bytes (its C *_get_buffer_size()).
    transform(filter) -> the filter in the layout the kernel reads (numpy -> numpy).
    build(variant, graph, op) -> the op's KernelCall on this variant.
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
    build: Callable[["ArmVariant", Graph, Operator], KernelCall] = field(repr=False)
    headers: tuple[str, ...] = HEADERS
    wide: bool = False           # int16 filter stream: 2x the filter's flash, fewer instructions

    def prepare(self, graph: Graph, op: Operator) -> KernelCall:
        """The op's KernelCall on this variant: TFLM's prepare step plus the variant's own
        (weight layout, bias folding, requantization in the fast form where exact)."""
        reason = self.accepts(graph, op)
        if reason is not None:
            raise ValueError(f"variant {self.name} does not run op {op.index} ({op.opcode}): {reason}")
        return self.build(self, graph, op)

    def call(self, op: Operator, inputs: tuple[int, ...], outputs: tuple[int, ...], call: str, *,
             structs: tuple[StructParam, ...], constants: tuple[ConstArray, ...] = (), setup: str = "",
             scratch_bytes: int = 0, summary: str = "") -> KernelCall:
        """A KernelCall of this variant; its sources list the headers too, so that the
        generator copies them (it compiles only the .c files)."""
        return KernelCall(op.index, op.opcode, self.kernel, self.sources + self.headers, inputs, outputs, call,
                          setup=setup, constants=constants, structs=structs, scratch_bytes=scratch_bytes,
                          summary=summary, variant=self.name)


# ---------------------------------------------------------------------------------
# operands


def operand(graph: Graph, op: Operator, k: int) -> Tensor | None:
    if k >= len(op.inputs) or op.inputs[k] < 0:
        return None
    return graph.tensors[op.inputs[k]]


def qp(t: Tensor) -> tuple[float, int]:
    assert t.quant is not None
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def has_quant(t: Tensor | None) -> bool:
    return t is not None and t.quant is not None and bool(t.quant.scale)


def dims(n: int, h: int, w: int, c: int) -> dict[str, int]:
    return {"n": int(n), "h": int(h), "w": int(w), "c": int(c)}


def in_channels(graph: Graph, op: Operator) -> int:
    return int(graph.tensors[op.inputs[0]].shape[3])


def packed_stream(rows: np.ndarray, comment: str) -> ConstArray:
    """The one int32 stream a kernel reads: weights interleaved with their requantization."""
    return ConstArray("packed", "int32_t", rows, True, comment)


# ---------------------------------------------------------------------------------
# convolutions


@dataclass(frozen=True)
class ConvFacts:
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


def conv_facts(graph: Graph, op: Operator) -> ConvFacts | str:
    """The op's TFLM prepare-step values (as mcugen.lower.conv computes them), or why not."""
    x, filt, out = operand(graph, op, 0), operand(graph, op, 1), graph.tensors[op.outputs[0]] if op.outputs else None
    bias_t = operand(graph, op, 2)
    if x is None or filt is None or out is None:
        return "missing input, filter or output"
    if (x.dtype, filt.dtype, out.dtype) != ("int8", "int8", "int8"):
        return "not int8"
    if filt.data is None or (bias_t is not None and (bias_t.data is None or bias_t.dtype != "int32")):
        return "filter or bias not a constant (int32 bias)"
    if not (has_quant(x) and has_quant(filt) and has_quant(out)):
        return "missing quantization"
    if len(x.shape) != 4 or len(out.shape) != 4 or len(filt.shape) != 4:
        return "not 4-D"
    channels = int(out.shape[3])
    in_scale, in_zp = qp(x)
    out_scale, out_zp = qp(out)
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
    return ConvFacts(x, filt, out, bias, in_zp, out_zp, sh, sw, dh, dw, pad_h, pad_w, act_min, act_max, mults, shifts)


def conv_for(graph: Graph, op: Operator, opcodes: tuple[str, ...]) -> ConvFacts | str:
    """op's convolution facts when it is one of `opcodes`, else why not."""
    if op.opcode not in opcodes:
        return f"not {' or '.join(opcodes)}"
    return conv_facts(graph, op)


def fold_bias(w2d: np.ndarray, bias: np.ndarray, in_zp: int) -> tuple[list[int], list[int]]:
    """Folded biases bias + input_offset * sum(w) and bounds on |accumulator| per channel,
    for filters w2d [out_c, K] over inputs in [-128, 127] (out-of-image taps add 0)."""
    w = np.asarray(w2d, dtype=np.int64)
    in_off = -in_zp
    folded = bias + in_off * w.sum(axis=1)
    largest = max(abs(-128 + in_off), abs(127 + in_off))
    bounds = np.abs(bias) + largest * np.abs(w).sum(axis=1)
    return [int(v) for v in folded], [int(v) for v in bounds]


def requant_rows(w2d: np.ndarray, bias: np.ndarray, in_zp: int, mults: list[int], shifts: list[int],
                 out_zp: int) -> tuple[np.ndarray, bool] | None:
    """The per-channel requantization rows [out_c, 4] of filters w2d [out_c, K] and whether
    some channel needs the exact path; None when an accumulator may reach 2^30."""
    folded, bounds = fold_bias(w2d, bias, in_zp)
    result = FP.fold_channels(folded, mults, shifts, out_zp, bounds)
    if result is None:
        return None
    rows, exact = result
    return np.asarray(rows, dtype=np.int64).astype(np.int32).reshape(-1, 4), exact


def conv_requant(c: ConvFacts, w2d: np.ndarray) -> tuple[np.ndarray, bool] | None:
    return requant_rows(w2d, c.bias, c.in_zp, c.mults, c.shifts, c.out_zp)


def flags(exact: bool, wide: bool = False) -> int:
    return (REQUANT_EXACT if exact else 0) | (WIDE if wide else 0)


def conv_params(c: ConvFacts, exact: bool, wide: bool = False) -> dict[str, int]:
    return {
        "stride_w": c.stride_w, "stride_h": c.stride_h, "pad_w": c.pad_w, "pad_h": c.pad_h,
        "dilation_w": c.dil_w, "dilation_h": c.dil_h, "pad_value": c.in_zp, "output_offset": c.out_zp,
        "act_min": c.act_min, "act_max": c.act_max, "flags": flags(exact, wide),
    }


def conv_call(variant: ArmVariant, graph: Graph, op: Operator, c: ConvFacts, stream: np.ndarray, exact: bool,
              in_dims: dict[str, int], filter_dims: dict[str, int], comment: str, macs: int) -> KernelCall:
    """A convolution kernel's call: `stream` the int32 words it reads (filter and requantization)."""
    call = (f"{variant.kernel}(&ctx, &$s_params, &$s_in_dims, (const int8_t *)$in0, &$s_filter_dims, "
            "(const int32_t *)$c_packed, &$s_out_dims, (int8_t *)$out0)")
    return variant.call(
        op, (c.x.index,), (c.out.index,), call, setup=SCRATCH_SETUP,
        constants=(packed_stream(stream, comment),),
        structs=(
            StructParam("params", "mcu_arm_conv_params", conv_params(c, exact, variant.wide)),
            StructParam("in_dims", "mcu_dims", in_dims),
            StructParam("filter_dims", "mcu_dims", filter_dims),
            StructParam("out_dims", "mcu_dims", dims(*c.out.shape)),
        ),
        scratch_bytes=variant.scratch(graph, op),
        summary=f"{variant.name}: {filter_dims['h']}x{filter_dims['w']} stride {c.stride_h}x{c.stride_w}, "
                f"{macs} MACs{' (exact requantization)' if exact else ''}",
    )
