"""How a kernel walks memory, so an op's output may safely overlap its dying input.

The kernels (portable and Cortex-M7) compute their output in NHWC raster order,
one output pixel (all its channels) per step, reading only the receptive field
of the pixels they are working on; SIMD variants work on up to GROUP pixels at
once. Given that order, an output that starts `d` bytes below its input never
overwrites an input byte that is still to be read when

    in_offset - out_offset >= d,  d = max_k (write_end(k) - min read offset of steps >= k - GROUP + 1)

This module computes `d` per op (`min_distance`) and, independently, simulates the
byte-level read/write sequence of an op on a plan (`simulate_op`) to prove it. The
receptive-field geometry of a windowed op is mcugen.patch.tiling's (the tiles of a
patch-based stage are cut from the same fields); such a stage reads its input and
writes its output patch by patch, with its own distance and proof there.
"""

from __future__ import annotations

import numpy as np

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import PATCH_STAGE
from mcugen.patch.tiling import Geometry, geometry, simulate_stage

# Output pixels a kernel may have in flight at once (reads done, writes pending).
GROUP = 2


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
