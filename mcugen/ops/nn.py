"""Operators with weights or windows: convolutions, fully connected, pooling, MEAN, SVDF, LSTM."""

from __future__ import annotations

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import PATCH_STAGE, OpSpec, Shape, broadcast, constant_input, conv_out, inputs, numel


def _nhwc(graph: Graph, op: Operator, position: int = 0) -> Shape:
    shape = inputs(graph, op)[position].shape
    if len(shape) != 4:
        raise ValueError(f"expected a 4-D NHWC input, got {list(shape)}")
    return shape


def _conv_geometry(op: Operator, h: int, w: int, kh: int, kw: int) -> tuple[int, int]:
    pad = op.option("padding", "SAME")
    return (
        conv_out(h, kh, op.option("stride_h", 1), op.option("dilation_h_factor", 1), pad),
        conv_out(w, kw, op.option("stride_w", 1), op.option("dilation_w_factor", 1), pad),
    )


def _filtered_shape(graph: Graph, op: Operator, channels: int) -> list[Shape]:
    """The output of a convolution over the input with the op's filter: `channels` deep."""
    n, h, w, _ = _nhwc(graph, op)
    _, kh, kw, _ = inputs(graph, op, 2)[1].shape
    oh, ow = _conv_geometry(op, h, w, kh, kw)
    return [(n, oh, ow, channels)]


def conv2d_shape(graph: Graph, op: Operator) -> list[Shape]:
    c = _nhwc(graph, op)[3]
    o, _, _, i = inputs(graph, op, 2)[1].shape
    if c % i:
        raise ValueError(f"input depth {c} is not a multiple of the filter depth {i}")
    return _filtered_shape(graph, op, o)


def conv2d_macs(graph: Graph, op: Operator) -> int:
    out = graph.tensors[op.outputs[0]].shape
    _, kh, kw, i = graph.tensors[op.inputs[1]].shape
    return numel(out) * kh * kw * i


def depthwise_shape(graph: Graph, op: Operator) -> list[Shape]:
    c = _nhwc(graph, op)[3]
    oc = inputs(graph, op, 2)[1].shape[3]
    mult = op.option("depth_multiplier", 1) or oc // max(c, 1)
    if oc != c * mult and oc % c:
        raise ValueError(f"filter depth {oc} is not input depth {c} x depth multiplier {mult}")
    return _filtered_shape(graph, op, oc)


def depthwise_macs(graph: Graph, op: Operator) -> int:
    out = graph.tensors[op.outputs[0]].shape
    _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
    return numel(out) * kh * kw


def transpose_conv_shape(graph: Graph, op: Operator) -> list[Shape]:
    """TRANSPOSE_CONV's output is the shape its first input (a constant) names; the input's
    depth must be the filter's [out_c, kh, kw, in_c] and the output's depth its count."""
    out = tuple(int(d) for d in constant_input(graph, op, 0, "output shape").reshape(-1))
    filt = inputs(graph, op, 3)[1].shape
    c = _nhwc(graph, op, 2)[3]
    if len(out) != 4 or len(filt) != 4:
        raise ValueError(f"output shape {list(out)} and filter {list(filt)} must be 4-D")
    if filt[3] != c or filt[0] != out[3]:
        raise ValueError(f"filter {list(filt)} does not map {c} input channels to {out[3]}")
    return [out]


def transpose_conv_macs(graph: Graph, op: Operator) -> int:
    """Every input element meets every tap of its output channels' filters (the taps that
    fall outside the output are skipped by TFLM too, so this is an upper bound at the edges)."""
    filt = graph.tensors[op.inputs[1]].shape
    return graph.tensors[op.inputs[2]].size * filt[0] * filt[1] * filt[2]


def _matmul_dims(graph: Graph, op: Operator) -> tuple[tuple[int, ...], int, int, int]:
    """(broadcast batch dims, rows, depth, cols) of a BATCH_MATMUL, adj_x/adj_y applied."""
    lhs, rhs = (t.shape for t in inputs(graph, op, 2)[:2])
    if not (2 <= len(lhs) <= 5 and 2 <= len(rhs) <= 5):
        raise ValueError(f"operands of rank {len(lhs)} and {len(rhs)} (2 to 5)")
    rows, depth = (lhs[-1], lhs[-2]) if op.option("adj_x", False) else (lhs[-2], lhs[-1])
    rdepth, cols = (rhs[-1], rhs[-2]) if op.option("adj_y", False) else (rhs[-2], rhs[-1])
    if depth != rdepth:
        raise ValueError(f"lhs depth {depth} differs from rhs depth {rdepth}")
    return broadcast(tuple(lhs[:-2]), tuple(rhs[:-2])), rows, depth, cols


def batch_matmul_shape(graph: Graph, op: Operator) -> list[Shape]:
    batch, rows, _, cols = _matmul_dims(graph, op)
    return [batch + (rows, cols)]


def batch_matmul_macs(graph: Graph, op: Operator) -> int:
    batch, rows, depth, cols = _matmul_dims(graph, op)
    return numel(batch) * rows * depth * cols


def fully_connected_shape(graph: Graph, op: Operator) -> list[Shape]:
    x, weights = inputs(graph, op, 2)[:2]
    units, depth = weights.shape
    if numel(x.shape) % depth:
        raise ValueError(f"input of {numel(x.shape)} elements is not a multiple of the weights' depth {depth}")
    if op.option("keep_num_dims", False):
        return [tuple(x.shape[:-1]) + (units,)]
    return [(numel(x.shape) // depth, units)]


def fully_connected_macs(graph: Graph, op: Operator) -> int:
    units, depth = graph.tensors[op.inputs[1]].shape
    return graph.tensors[op.outputs[0]].size // units * units * depth


def pool_shape(graph: Graph, op: Operator) -> list[Shape]:
    n, h, w, c = _nhwc(graph, op)
    pad = op.option("padding", "SAME")
    oh = conv_out(h, op.option("filter_height", 1), op.option("stride_h", 1), 1, pad)
    ow = conv_out(w, op.option("filter_width", 1), op.option("stride_w", 1), 1, pad)
    return [(n, oh, ow, c)]


def pool_macs(graph: Graph, op: Operator) -> int:
    return graph.tensors[op.outputs[0]].size * op.option("filter_height", 1) * op.option("filter_width", 1)


def _reduce_axes(graph: Graph, op: Operator) -> list[int]:
    rank = len(inputs(graph, op)[0].shape)
    axes = constant_input(graph, op, 1, "axis")
    return sorted({int(a) % rank for a in axes.reshape(-1)})


def mean_shape(graph: Graph, op: Operator) -> list[Shape]:
    shape = inputs(graph, op)[0].shape
    axes = _reduce_axes(graph, op)
    if op.option("keep_dims", False):
        return [tuple(1 if i in axes else d for i, d in enumerate(shape))]
    return [tuple(d for i, d in enumerate(shape) if i not in axes)]


def mean_macs(graph: Graph, op: Operator) -> int:
    return inputs(graph, op)[0].size


def arg_max_shape(graph: Graph, op: Operator) -> list[Shape]:
    """ARG_MAX/ARG_MIN drop their one axis (a negative axis counts from the end)."""
    shape = inputs(graph, op)[0].shape
    axis = constant_input(graph, op, 1, "axis").reshape(-1)
    if axis.size != 1:
        raise ValueError(f"{axis.size} axes given; the op takes one")
    k = int(axis[0])
    if not -len(shape) <= k < len(shape):
        raise ValueError(f"axis {k} out of range for rank {len(shape)}")
    k %= len(shape)
    return [tuple(d for i, d in enumerate(shape) if i != k)]


def svdf_shape(graph: Graph, op: Operator) -> list[Shape]:
    x, weights_feature = inputs(graph, op, 2)[:2]
    rank = op.option("rank", 1)
    batch = x.shape[0]
    return [(batch, weights_feature.shape[0] // rank)]


def svdf_macs(graph: Graph, op: Operator) -> int:
    x, wf, wt = inputs(graph, op, 3)[:3]
    batch = x.shape[0]
    filters = wf.shape[0]
    return batch * filters * (wf.shape[1] + wt.shape[1])


def lstm_shape(graph: Graph, op: Operator) -> list[Shape]:
    """[time, batch, units] or [batch, time, units]: the input's first two dims, the state's width."""
    x = inputs(graph, op, 1)[0]
    units = graph.tensors[op.inputs[18]].shape[-1] if len(op.inputs) > 18 and op.inputs[18] >= 0 else None
    if len(x.shape) != 3 or units is None:
        raise ValueError(f"expected a 3-D input and a hidden state, got {list(x.shape)}")
    return [(x.shape[0], x.shape[1], units)]


def lstm_macs(graph: Graph, op: Operator) -> int:
    """Four gates, each an input and a recurrent projection, per step and batch."""
    x = inputs(graph, op, 1)[0]
    units = lstm_shape(graph, op)[0][2]
    return x.shape[0] * x.shape[1] * 4 * units * (x.shape[2] + units)


def patch_stage_shape(graph: Graph, op: Operator) -> list[Shape]:
    return [tuple(graph.tensors[op.outputs[0]].shape)]


def patch_stage_macs(graph: Graph, op: Operator) -> int:
    return int(op.option("stage").macs)


SPECS = [
    OpSpec("CONV_2D", conv2d_shape, conv2d_macs),
    OpSpec("DEPTHWISE_CONV_2D", depthwise_shape, depthwise_macs),
    OpSpec("FULLY_CONNECTED", fully_connected_shape, fully_connected_macs),
    OpSpec("TRANSPOSE_CONV", transpose_conv_shape, transpose_conv_macs),
    OpSpec("BATCH_MATMUL", batch_matmul_shape, batch_matmul_macs),
    OpSpec("AVERAGE_POOL_2D", pool_shape, pool_macs),
    OpSpec("MAX_POOL_2D", pool_shape, pool_macs),
    OpSpec("MEAN", mean_shape, mean_macs),
    # Reductions: one comparison or addition per input element.
    OpSpec("SUM", mean_shape, mean_macs),
    OpSpec("REDUCE_MAX", mean_shape, mean_macs),
    OpSpec("ARG_MAX", arg_max_shape, mean_macs),
    OpSpec("SVDF", svdf_shape, svdf_macs),
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", lstm_shape, lstm_macs),
    # Not in any .tflite: mcugen.patch puts it in place of a stage run patch by patch.
    OpSpec(PATCH_STAGE, patch_stage_shape, patch_stage_macs,
           note="the first layers, run patch by patch (--patch)"),
]
