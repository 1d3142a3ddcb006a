"""DEPTHWISE_CONV_2D on the Cortex-M7 depthwise kernels: 3x3 (padding <= 1, no
dilation) and any filter, depth multiplier 1, channels a multiple of 4."""

from __future__ import annotations

import numpy as np

from mcugen.lower.arm import layouts as L
from mcugen.lower.arm.variant import ArmVariant, ConvFacts, conv_call, conv_facts, conv_for, conv_requant, dims, in_channels
from mcugen.lower.call import KernelCall
from mcugen.model.graph import Graph, Operator


def _dw_w2d(c: ConvFacts) -> np.ndarray:
    """Depthwise filter as [channels, taps]."""
    w = np.asarray(c.filt.data, dtype=np.int8)
    return w.reshape(-1, w.shape[3]).T


def _dw_common(graph: Graph, op: Operator) -> ConvFacts | str:
    c = conv_for(graph, op, ("DEPTHWISE_CONV_2D",))
    if isinstance(c, str):
        return c
    channels = c.filt.shape[3]
    if channels != c.x.shape[3] or channels != c.out.shape[3]:
        return "depth multiplier is not 1"
    if channels % 4:
        return "channels are not a multiple of 4"
    if conv_requant(c, _dw_w2d(c)) is None:
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


def _dw3x3_scratch(graph: Graph, op: Operator) -> int:
    return 12 * in_channels(graph, op)  # mcu_depthwise_conv2d_3x3_s8_arm_get_buffer_size


def _dw_scratch(graph: Graph, op: Operator) -> int:
    _, k_h, k_w, _ = graph.tensors[op.inputs[1]].shape
    taps = int(k_h) * int(k_w)
    return 8 * ((taps + 2) & ~1) + taps * in_channels(graph, op)  # mcu_depthwise_conv2d_s8_arm_get_buffer_size


def _dw_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    c = conv_facts(graph, op)
    assert not isinstance(c, str)
    rq = conv_requant(c, _dw_w2d(c))
    assert rq is not None
    rows, exact = rq
    w = np.asarray(c.filt.data, dtype=np.int8)
    macs = int(np.prod(c.out.shape)) * int(w.shape[1] * w.shape[2])
    return conv_call(variant, graph, op, c, L.dw_packed(w, rows), exact, dims(*c.x.shape), dims(*c.filt.shape),
                     f"'{c.filt.name}': per 4 channels, bias, doubled tap pairs, requantization", macs)


DW3X3 = ArmVariant(
    "dw3x3", ("DEPTHWISE_CONV_2D",), "mcu_depthwise_conv2d_3x3_s8_arm", ("arm/mcu_depthwise_conv2d_3x3_s8_arm.c",),
    handles="DEPTHWISE_CONV_2D, int8, 3x3, depth multiplier 1, channels % 4 == 0, any stride, padding <= 1, "
            "no dilation", pixels_in_flight=1,
    accepts=_dw3x3_accepts, scratch=_dw3x3_scratch, transform=L.dw3x3_filter, build=_dw_build)

DW = ArmVariant(
    "dw", ("DEPTHWISE_CONV_2D",), "mcu_depthwise_conv2d_s8_arm", ("arm/mcu_depthwise_conv2d_s8_arm.c",),
    handles="DEPTHWISE_CONV_2D, int8, any filter size, stride, dilation and padding, depth multiplier 1, "
            "channels % 4 == 0", pixels_in_flight=1,
    accepts=_dw_accepts, scratch=_dw_scratch, transform=L.dw_filter, build=_dw_build)
