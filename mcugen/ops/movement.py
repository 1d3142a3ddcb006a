"""Operators that pick, split and rearrange bytes: SPLIT, SPLIT_V, SLICE, STRIDED_SLICE,
GATHER, PACK, UNPACK, DEPTH_TO_SPACE, SPACE_TO_DEPTH and the two RESIZEs.

The shape rules follow TFLM's prepare code (strided_slice_logic.h for the slice bounds,
which the cubeai lowering reuses to address the input); the parameters that decide a
shape (axes, sizes, begin/end/strides, the resize size) must be constants, as TFLM needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import OpSpec, Shape, constant_input, inputs, no_macs, output_elements


def _axis(axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ValueError(f"axis {axis} out of range for rank {rank}")
    return a


def _scalar(graph: Graph, op: Operator, position: int, what: str) -> int:
    values = constant_input(graph, op, position, what).reshape(-1)
    if values.size != 1:
        raise ValueError(f"the {what} holds {values.size} values, not one")
    return int(values[0])


def split_sizes(graph: Graph, op: Operator) -> tuple[int, list[int]]:
    """(axis, size of each output along it) of a SPLIT or SPLIT_V."""
    if op.opcode == "SPLIT":
        shape = graph.tensors[op.inputs[1]].shape
        axis = _axis(_scalar(graph, op, 0, "axis"), len(shape))
        n = int(op.option("num_splits", len(op.outputs)) or len(op.outputs))
        if n <= 0 or shape[axis] % n:
            raise ValueError(f"dimension {shape[axis]} does not split into {n}")
        return axis, [shape[axis] // n] * n
    shape = inputs(graph, op, 3)[0].shape
    axis = _axis(_scalar(graph, op, 2, "axis"), len(shape))
    sizes = [int(s) for s in constant_input(graph, op, 1, "size_splits").reshape(-1)]
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"size_splits {sizes} are not valid")
    if -1 in sizes:
        sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != shape[axis] or any(s < 0 for s in sizes):
        raise ValueError(f"size_splits {sizes} do not add up to dimension {shape[axis]}")
    return axis, sizes


def split_shape(graph: Graph, op: Operator) -> list[Shape]:
    x = graph.tensors[op.inputs[1] if op.opcode == "SPLIT" else op.inputs[0]]
    axis, sizes = split_sizes(graph, op)
    return [tuple(s if k == axis else d for k, d in enumerate(x.shape)) for s in sizes]


def slice_shape(graph: Graph, op: Operator) -> list[Shape]:
    shape = inputs(graph, op, 3)[0].shape
    begin = [int(v) for v in constant_input(graph, op, 1, "begin").reshape(-1)]
    size = [int(v) for v in constant_input(graph, op, 2, "size").reshape(-1)]
    if len(begin) != len(shape) or len(size) != len(shape):
        raise ValueError(f"begin {begin} and size {size} do not fit a rank-{len(shape)} input")
    out = []
    for d, b, s in zip(shape, begin, size):
        s = d - b if s == -1 else s
        if b < 0 or s < 0 or b + s > d:
            raise ValueError(f"slice of {s} from {b} does not fit a dimension of {d}")
        out.append(s)
    return [tuple(out)]


@dataclass(frozen=True)
class SliceAxis:
    start: int
    stride: int
    count: int  # elements taken along the axis
    shrink: bool  # dropped from the output shape


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def strided_slice_axes(graph: Graph, op: Operator) -> list[SliceAxis]:
    """Per input axis, where the slice starts, its stride and length: TFLM's
    StridedSliceStartForAxis/EndForAxis (TFLM ignores ellipsis and new-axis masks and
    the offset flag, so a model using them is refused here rather than run wrong)."""
    shape = inputs(graph, op, 4)[0].shape
    for name in ("ellipsis_mask", "new_axis_mask"):
        if op.option(name, 0):
            raise ValueError(f"{name} {op.option(name)} (TFLM's STRIDED_SLICE ignores it)")
    if op.option("offset", False):
        raise ValueError("offset=true (TFLM's STRIDED_SLICE ignores it)")
    begin = [int(v) for v in constant_input(graph, op, 1, "begin").reshape(-1)]
    end = [int(v) for v in constant_input(graph, op, 2, "end").reshape(-1)]
    strides = [int(v) for v in constant_input(graph, op, 3, "strides").reshape(-1)]
    rank = len(shape)
    if not len(begin) == len(end) == len(strides) == rank:
        raise ValueError(f"begin/end/strides of {len(begin)}/{len(end)}/{len(strides)} values for rank {rank}")
    bmask, emask, smask = (int(op.option(n, 0) or 0) for n in ("begin_mask", "end_mask", "shrink_axis_mask"))
    axes = []
    for k, size in enumerate(shape):
        stride = strides[k]
        if stride == 0:
            raise ValueError("stride 0")
        start = begin[k] + size if begin[k] < 0 else begin[k]
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if bmask & (1 << k):
            start = 0 if stride > 0 else size - 1
        shrink = bool(smask & (1 << k))
        if shrink:
            stop = start if start >= size else start + 1
        else:
            stop = end[k] + size if end[k] < 0 else end[k]
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if emask & (1 << k):
                stop = size if stride > 0 else -1
        count = max(0, -(-(stop - start) // stride))  # ceil((stop - start) / stride)
        axes.append(SliceAxis(start, stride, count, shrink))
    return axes


def strided_slice_shape(graph: Graph, op: Operator) -> list[Shape]:
    if op.option("ellipsis_mask", 0) or op.option("new_axis_mask", 0) or op.option("offset", False):
        # TF's meaning of these is not TFLM's (which ignores them): trust the model's shape
        # here; the cubeai lowering refuses the op, naming the mask.
        return [graph.tensors[i].shape for i in op.outputs]
    return [tuple(a.count for a in strided_slice_axes(graph, op) if not a.shrink)]


def pack_shape(graph: Graph, op: Operator) -> list[Shape]:
    ts = inputs(graph, op, 1)
    shape = ts[0].shape
    if any(tuple(t.shape) != tuple(shape) for t in ts):
        raise ValueError("packed tensors differ in shape")
    axis = _axis(int(op.option("axis", 0)), len(shape) + 1)
    return [tuple(shape[:axis]) + (len(ts),) + tuple(shape[axis:])]


def unpack_shape(graph: Graph, op: Operator) -> list[Shape]:
    shape = inputs(graph, op, 1)[0].shape
    axis = _axis(int(op.option("axis", 0)), len(shape))
    num = int(op.option("num", 0) or shape[axis])
    if num != shape[axis]:
        raise ValueError(f"num {num} differs from dimension {shape[axis]}")
    return [tuple(d for k, d in enumerate(shape) if k != axis)] * num


def gather_shape(graph: Graph, op: Operator) -> list[Shape]:
    x, pos = inputs(graph, op, 2)[:2]
    axis = _axis(int(op.option("axis", 0)), len(x.shape))
    batch_dims = int(op.option("batch_dims", 0))
    batch_dims = batch_dims + len(pos.shape) if batch_dims < 0 else batch_dims
    if not 0 <= batch_dims <= axis or batch_dims > len(pos.shape):
        raise ValueError(f"batch_dims {batch_dims} with axis {axis}")
    if tuple(x.shape[:batch_dims]) != tuple(pos.shape[:batch_dims]):
        raise ValueError("the batch dimensions of input and positions differ")
    return [tuple(x.shape[:axis]) + tuple(pos.shape[batch_dims:]) + tuple(x.shape[axis + 1:])]


def _block(op: Operator) -> int:
    block = int(op.option("block_size", 0))
    if block <= 0:
        raise ValueError(f"block size {block}")
    return block


def depth_to_space_shape(graph: Graph, op: Operator) -> list[Shape]:
    n, h, w, c = inputs(graph, op, 1)[0].shape
    b = _block(op)
    if c % (b * b):
        raise ValueError(f"{c} channels do not divide by block {b} squared")
    return [(n, h * b, w * b, c // (b * b))]


def space_to_depth_shape(graph: Graph, op: Operator) -> list[Shape]:
    n, h, w, c = inputs(graph, op, 1)[0].shape
    b = _block(op)
    if h % b or w % b:
        raise ValueError(f"{h}x{w} does not divide by block {b}")
    return [(n, h // b, w // b, c * b * b)]


def resize_shape(graph: Graph, op: Operator) -> list[Shape]:
    n, _, _, c = inputs(graph, op, 2)[0].shape
    size = [int(v) for v in constant_input(graph, op, 1, "size").reshape(-1)]
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"size {size} is not a positive (height, width)")
    if op.option("align_corners", False) and op.option("half_pixel_centers", False):
        raise ValueError("align_corners and half_pixel_centers are both set")
    return [(n, size[0], size[1], c)]


def bilinear_macs(graph: Graph, op: Operator) -> int:
    """Four products per output element (the four neighbours' weights)."""
    return 4 * output_elements(graph, op)


SPECS = [
    OpSpec("SPLIT", split_shape, no_macs),
    OpSpec("SPLIT_V", split_shape, no_macs),
    OpSpec("SLICE", slice_shape, no_macs),
    # Folded at load time when its inputs are constants (Keras shape arithmetic); else a copy.
    OpSpec("STRIDED_SLICE", strided_slice_shape, no_macs, folded=True),
    OpSpec("PACK", pack_shape, no_macs, folded=True),
    OpSpec("UNPACK", unpack_shape, no_macs),
    OpSpec("GATHER", gather_shape, no_macs),
    OpSpec("DEPTH_TO_SPACE", depth_to_space_shape, no_macs),
    OpSpec("SPACE_TO_DEPTH", space_to_depth_shape, no_macs),
    OpSpec("RESIZE_NEAREST_NEIGHBOR", resize_shape, no_macs),
    OpSpec("RESIZE_BILINEAR", resize_shape, bilinear_macs),
]

__all__ = ["SPECS", "SliceAxis", "split_sizes", "strided_slice_axes"]
