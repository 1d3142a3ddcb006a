"""CONV_2D on the Cortex-M7 matrix kernels: 1x1 filters, and any filter (with
DEPTHWISE_CONV_2D over one input channel), each with an int16-filter ("w16") form."""

from __future__ import annotations

import dataclasses

import numpy as np

from mcugen.lower.arm import layouts as L
from mcugen.lower.arm.variant import MAT_MULT_SOURCE, ArmVariant, ConvFacts, conv_call, conv_facts, conv_for
from mcugen.lower.arm.variant import conv_requant, dims, in_channels
from mcugen.lower.call import KernelCall
from mcugen.model.graph import Graph, Operator


def matrix_call(variant: ArmVariant, graph: Graph, op: Operator, c: ConvFacts, w2d: np.ndarray,
                padded: np.ndarray, filter_dims: dict[str, int], in_dims: dict[str, int]) -> KernelCall:
    """A matrix-kernel call: w2d [out_c, K] the filter as TFLM sums it (for the bias fold),
    padded [out_c, steps * 4] the depth order the kernel reads."""
    rq = conv_requant(c, w2d)
    assert rq is not None  # accepts() checked it
    rows, exact = rq
    macs = int(np.prod(c.out.shape)) * filter_dims["h"] * filter_dims["w"] * filter_dims["c"]
    return conv_call(variant, graph, op, c, L.mm_stream(padded, rows, variant.wide), exact, in_dims, filter_dims,
                     f"'{c.filt.name}' and its requantization, {variant.name} stream", macs)


# ---------------------------------------------------------------------------------
# CONV_2D 1x1


def _conv1x1_accepts(graph: Graph, op: Operator) -> str | None:
    c = conv_for(graph, op, ("CONV_2D",))
    if isinstance(c, str):
        return c
    o, kh, kw, i = c.filt.shape
    if (kh, kw) != (1, 1):
        return "filter is not 1x1"
    if i != c.x.shape[3] or o != c.out.shape[3]:
        return "grouped convolution"
    if conv_requant(c, np.asarray(c.filt.data).reshape(o, -1)) is None:
        return "accumulator may reach 2^30"
    return None


def _conv1x1_scratch(graph: Graph, op: Operator) -> int:
    return 16 * ((in_channels(graph, op) + 3) // 4)


def _conv1x1_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    c = conv_facts(graph, op)
    assert not isinstance(c, str)
    w = np.asarray(c.filt.data, dtype=np.int8)
    return matrix_call(variant, graph, op, c, w.reshape(w.shape[0], -1), L.conv1x1_depth(w),
                       dims(*c.filt.shape), dims(*c.x.shape))


CONV1X1 = ArmVariant(
    "conv1x1", ("CONV_2D",), "mcu_conv2d_1x1_s8_arm", ("arm/mcu_conv2d_1x1_s8_arm.c", MAT_MULT_SOURCE),
    handles="CONV_2D, int8, 1x1 filter, any stride, groups = 1, any channel counts", pixels_in_flight=1,
    accepts=_conv1x1_accepts, scratch=_conv1x1_scratch, transform=L.conv1x1_filter, build=_conv1x1_build)

CONV1X1_W16 = dataclasses.replace(
    CONV1X1, name="conv1x1_w16", handles=CONV1X1.handles + "; int16 filter (2x flash)",
    transform=lambda f: L.wide_words(L.conv1x1_depth(f)), wide=True)


# ---------------------------------------------------------------------------------
# CONV_2D any filter (and DEPTHWISE_CONV_2D with one input channel)


def _as_conv_filter(op: Operator, c: ConvFacts) -> np.ndarray:
    w = np.asarray(c.filt.data, dtype=np.int8)
    return L.depthwise_as_conv(w) if op.opcode == "DEPTHWISE_CONV_2D" else w


def _conv_accepts(graph: Graph, op: Operator) -> str | None:
    c = conv_for(graph, op, ("CONV_2D", "DEPTHWISE_CONV_2D"))
    if isinstance(c, str):
        return c
    in_c = int(c.x.shape[3])
    if op.opcode == "DEPTHWISE_CONV_2D":
        if in_c != 1 or c.filt.shape[0] != 1:
            return "depthwise with more than one input channel"
    elif c.filt.shape[3] != in_c or c.filt.shape[0] != c.out.shape[3]:
        return "grouped convolution"
    w = _as_conv_filter(op, c)
    if conv_requant(c, L.conv_filter_rows(w)) is None:
        return "accumulator may reach 2^30"
    return None


def _conv_scratch(graph: Graph, op: Operator) -> int:
    filt = graph.tensors[op.inputs[1]]
    _, k_h, k_w, _ = filt.shape
    rlen = L.conv_row_len(int(k_w), in_channels(graph, op))
    return 4 * int(k_h) * rlen + rlen


def _conv_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    c = conv_facts(graph, op)
    assert not isinstance(c, str)
    w = _as_conv_filter(op, c)
    rows = L.conv_filter_rows(w)
    return matrix_call(variant, graph, op, c, rows, rows, dims(*w.shape), dims(*c.x.shape))


CONV = ArmVariant(
    "conv", ("CONV_2D", "DEPTHWISE_CONV_2D"), "mcu_conv2d_s8_arm", ("arm/mcu_conv2d_s8_arm.c", MAT_MULT_SOURCE),
    handles="CONV_2D, int8, any filter, stride, dilation and padding, groups = 1; "
            "DEPTHWISE_CONV_2D with one input channel (any depth multiplier)", pixels_in_flight=1,
    accepts=_conv_accepts, scratch=_conv_scratch, transform=L.conv_filter, build=_conv_build)

CONV_W16 = dataclasses.replace(
    CONV, name="conv_w16", handles=CONV.handles + "; int16 filter (2x flash)",
    transform=lambda f: L.wide_words(L.conv_filter_rows(f)), wide=True)
