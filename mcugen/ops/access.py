"""How a kernel walks memory, so an op's output may safely overlap its dying input.

The kernels (portable and Cortex-M7) compute their output in NHWC raster order,
one output pixel (all its channels) per step, reading only the receptive field
of the pixels they are working on; SIMD variants work on up to GROUP pixels at
once. Given that order, an output that starts `d` bytes below its input never
overwrites an input byte that is still to be read when

    in_offset - out_offset >= d,  d = max_k (write_end(k) - min read offset of steps >= k - GROUP + 1)

This module computes `d` per op (`min_distance`) and, independently, simulates the
byte-level read/write sequence of an op on a plan (`simulate_op`) to prove it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcugen.model.graph import DTYPE_SIZES, Graph, Operator
from mcugen.ops.base import PATCH_STAGE

# Output pixels a kernel may have in flight at once (reads done, writes pending).
GROUP = 2

RASTER_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")


@dataclass(frozen=True)
class Geometry:
    """The receptive-field geometry of a windowed op over NHWC tensors."""

    n: int
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_top: int
    pad_left: int
    in_elem: int
    out_elem: int

    @property
    def steps(self) -> int:
        return self.n * self.out_h * self.out_w


def _pad_before(size: int, out: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    if padding != "SAME":
        return 0
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2


def geometry(graph: Graph, op: Operator) -> Geometry | None:
    if op.opcode not in RASTER_OPS:
        return None
    x = graph.tensors[op.inputs[0]]
    y = graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4:
        return None
    n, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        _, k_h, k_w, _ = graph.tensors[op.inputs[1]].shape
        dil_h, dil_w = op.option("dilation_h_factor", 1), op.option("dilation_w_factor", 1)
    else:
        k_h, k_w = op.option("filter_height", 1), op.option("filter_width", 1)
        dil_h = dil_w = 1
    sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
    padding = op.option("padding", "SAME")
    if padding == "EXPLICIT":  # a tile of a patch-based stage (mcugen.patch)
        pad_top, pad_left = int(op.option("explicit_pad_h")), int(op.option("explicit_pad_w"))
    else:
        pad_top = _pad_before(in_h, out_h, k_h, sh, dil_h, padding)
        pad_left = _pad_before(in_w, out_w, k_w, sw, dil_w, padding)
    return Geometry(
        n, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, sh, sw, dil_h, dil_w, pad_top, pad_left,
        DTYPE_SIZES[x.dtype], DTYPE_SIZES[y.dtype],
    )


def _field_rows_cols(g: Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per output row/column: first and last valid input row/column of the receptive field."""
    def span(out: int, size: int, k: int, s: int, d: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
        base = np.arange(out) * s - pad
        taps = base[:, None] + np.arange(k)[None, :] * d
        valid = (taps >= 0) & (taps < size)
        first = np.where(valid.any(1), np.where(valid, taps, size).min(1), 0)
        last = np.where(valid.any(1), np.where(valid, taps, -1).max(1), -1)
        return first, last

    r0, r1 = span(g.out_h, g.in_h, g.k_h, g.stride_h, g.dil_h, g.pad_top)
    c0, c1 = span(g.out_w, g.in_w, g.k_w, g.stride_w, g.dil_w, g.pad_left)
    return r0, r1, c0, c1


def step_bounds(g: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Per step (output pixel in raster order): write end (bytes after the output start)
    and the lowest input byte the step reads (bytes after the input start)."""
    r0, _, c0, _ = _field_rows_cols(g)
    n = np.arange(g.n)[:, None, None]
    rows = r0[None, :, None]
    cols = c0[None, None, :]
    read_start = (((n * g.in_h + rows) * g.in_w + cols) * g.in_c * g.in_elem).reshape(-1)
    write_end = (np.arange(1, g.steps + 1) * g.out_c * g.out_elem).astype(np.int64)
    return write_end, read_start.astype(np.int64)


def min_distance(graph: Graph, op: Operator, group: int = GROUP) -> int | None:
    """Smallest in_offset - out_offset that keeps every unread input byte intact; None if
    the op's access pattern is not modelled (then input and output stay disjoint)."""
    if op.opcode == PATCH_STAGE:
        return op.option("stage").min_distance(graph)
    g = geometry(graph, op)
    if g is None or g.steps == 0:  # nothing written (an empty tensor): keep input and output apart
        return None
    write_end, read_start = step_bounds(g)
    suffix_min = np.minimum.accumulate(read_start[::-1])[::-1]
    lag = np.concatenate([np.full(group - 1, suffix_min[0]), suffix_min[: len(suffix_min) - (group - 1)]])
    return int(np.max(write_end - lag))


def simulate_op(graph: Graph, op: Operator, in_offset: int, out_offset: int, group: int = GROUP) -> list[str]:
    """Replay the op's byte-level reads and writes at the given offsets.

    Fails when a write lands on an input byte that a step still in flight or a
    later step reads. Independent of min_distance: it walks every receptive field.
    """
    if op.opcode == PATCH_STAGE:
        from mcugen.patch import simulate_stage  # noqa: PLC0415

        return simulate_stage(graph, op.option("stage"), in_offset, out_offset)
    g = geometry(graph, op)
    if g is None:
        return []
    x = graph.tensors[op.inputs[0]]
    r0, r1, c0, c1 = _field_rows_cols(g)
    row_bytes = g.in_w * g.in_c * g.in_elem
    pixel_bytes = g.in_c * g.in_elem
    # last_read[b]: the last step that reads input byte b
    last_read = np.full(x.nbytes, -1, dtype=np.int64)
    step = 0
    for n in range(g.n):
        for oy in range(g.out_h):
            for ox in range(g.out_w):
                for row in range(int(r0[oy]), int(r1[oy]) + 1):
                    start = (n * g.in_h + row) * row_bytes + int(c0[ox]) * pixel_bytes
                    end = (n * g.in_h + row) * row_bytes + (int(c1[ox]) + 1) * pixel_bytes
                    if end > start:
                        last_read[start:end] = step
                step += 1
    problems = []
    out_step_bytes = g.out_c * g.out_elem
    for k in range(g.steps):
        ws = out_offset + k * out_step_bytes - in_offset
        we = ws + out_step_bytes
        lo, hi = max(ws, 0), min(we, x.nbytes)
        if lo >= hi:
            continue
        still_needed = int(last_read[lo:hi].max())
        if still_needed >= k - group + 1:
            problems.append(
                f"op {op.index} ({op.opcode}) step {k} writes input bytes [{lo}, {hi}) that step {still_needed} reads"
            )
            break
    return problems
