"""Patch-based inference (MCUNetV2), its geometry: which rows and columns each layer of
each patch reads and writes, the patch as a graph of its own, and the proof that the
patches may write the stage output over its input.

The activation peak of a MobileNet-like network sits in its first stage, where the
feature maps are largest. Splitting the stage's output into a grid of patches and
running the whole stage once per patch (each layer on a tile: the patch's receptive
field at that layer) keeps only one patch's tiles alive; the stage's input and output
stay whole. Tiles overlap at their borders, so some pixels are computed twice: the
price, in MACs, that `PatchStage.macs` counts.

Every tile is an ordinary kernel call with its own shapes and an explicit leading
padding (`padding: EXPLICIT`, see mcugen.lower.quant.op_padding): the border tiles
keep the layer's padding, the others read real pixels instead. The padding after a
tile stays implicit, as in TFLM, through the tile's input bounds, so a tile computes
exactly the pixels the whole layer computes there: the outputs are bit-exact.

Because the patches read the stage input and write the stage output in raster order,
the output may start below the input and overlap it (`PatchStage.min_distance`,
proven byte by byte by `simulate_stage`). The search for stages is mcugen.patch.search;
a stage's kernels and C, mcugen.lower.patch_stage.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Sequence

import numpy as np

from mcugen.errors import McugenError
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator, Tensor


class PatchError(McugenError):
    """The model has no stage that patch-based inference can run, or the options are wrong."""


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


@dataclass(frozen=True)
class Tile:
    """One layer of one patch: the rows/columns of the layer's input it reads and of
    its output it writes (half-open), and the padding rows/columns before them."""

    in_rows: tuple[int, int]
    in_cols: tuple[int, int]
    out_rows: tuple[int, int]
    out_cols: tuple[int, int]
    pad_top: int
    pad_left: int

    @property
    def in_shape(self) -> tuple[int, int]:
        return self.in_rows[1] - self.in_rows[0], self.in_cols[1] - self.in_cols[0]

    @property
    def out_shape(self) -> tuple[int, int]:
        return self.out_rows[1] - self.out_rows[0], self.out_cols[1] - self.out_cols[0]


@dataclass(frozen=True)
class PatchStage:
    """The first layers of a network, run patch by patch over a grid of their output."""

    ops: tuple[int, ...]  # indices of the stage's operators in the graph it was made for
    layers: tuple[Operator, ...]  # those operators: a stage lowers from any graph with its tensors
    grid: tuple[int, int]  # patches down, across
    patches: tuple[tuple[Tile, ...], ...]  # per patch (raster order), one Tile per layer
    input: int  # the stage's input tensor
    output: int  # the stage's output tensor
    layer_macs: tuple[int, ...]  # per layer, without patches
    out_pixels: tuple[int, ...]  # per layer: output height x width

    @property
    def base_macs(self) -> int:
        return sum(self.layer_macs)

    @property
    def macs(self) -> int:
        """MACs of the stage with patches (the overlapping tiles' recomputation included):
        every layer's MACs are its output pixels times a per-pixel cost."""
        total = 0
        for tiles in self.patches:
            for macs, pixels, tile in zip(self.layer_macs, self.out_pixels, tiles):
                h, w = tile.out_shape
                total += macs * h * w // max(pixels, 1)
        return total

    def io_spans(self, graph: Graph) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Per patch: (lowest stage-input byte it reads, end of the highest stage-output byte it writes)."""
        x, y = graph.tensors[self.input], graph.tensors[self.output]
        _, _, xw, xc = x.shape
        _, _, yw, yc = y.shape
        xe, ye = DTYPE_SIZES[x.dtype], DTYPE_SIZES[y.dtype]
        reads, writes = [], []
        for tiles in self.patches:
            first, last = tiles[0], tiles[-1]
            reads.append(((first.in_rows[0] * xw + first.in_cols[0]) * xc * xe,
                          ((first.in_rows[1] - 1) * xw + first.in_cols[1]) * xc * xe))
            writes.append(((last.out_rows[0] * yw + last.out_cols[0]) * yc * ye,
                           ((last.out_rows[1] - 1) * yw + last.out_cols[1]) * yc * ye))
        return reads, writes

    def min_distance(self, graph: Graph) -> int:
        """Smallest input offset - output offset at which the stage output may overlap its
        input: when patch k writes, no later patch's input bytes may be under its writes."""
        reads, writes = self.io_spans(graph)  # a stage has two patches or more (make_stage)
        written = list(itertools.accumulate((w[1] for w in writes[:-1]), max))  # highest end so far
        later = list(itertools.accumulate((r[0] for r in reads[:0:-1]), min))[::-1]  # lowest start after k
        return max(w - r for w, r in zip(written, later))


def _needed(out: tuple[int, int], size: int, k: int, s: int, d: int, pad: int) -> tuple[tuple[int, int], int]:
    """Input span [a, b) the outputs [r0, r1) read, and the padding before it."""
    r0, r1 = out
    lo = r0 * s - pad
    hi = (r1 - 1) * s - pad + (k - 1) * d + 1
    a, b = max(lo, 0), min(hi, size)
    return (a, max(b, a)), a - lo


def tiles_for(graph: Graph, ops: Sequence[int], out_rows: tuple[int, int], out_cols: tuple[int, int]
              ) -> tuple[Tile, ...]:
    """Each layer's tile for one patch of the last layer's output, from the last layer back."""
    tiles: list[Tile] = []
    rows, cols = out_rows, out_cols
    for i in reversed(ops):
        g = geometry(graph, graph.operators[i])
        in_rows, pad_top = _needed(rows, g.in_h, g.k_h, g.stride_h, g.dil_h, g.pad_top)
        in_cols, pad_left = _needed(cols, g.in_w, g.k_w, g.stride_w, g.dil_w, g.pad_left)
        tiles.append(Tile(in_rows, in_cols, rows, cols, pad_top, pad_left))
        rows, cols = in_rows, in_cols
    return tuple(reversed(tiles))


def split(size: int, parts: int) -> list[tuple[int, int]]:
    edges = [round(size * k / parts) for k in range(parts + 1)]
    return [(edges[k], edges[k + 1]) for k in range(parts)]


@dataclass(frozen=True)
class PatchGraph:
    graph: Graph  # the patch's layers over its tiles
    direct_in: bool  # the first layer reads the stage input in place
    direct_out: bool  # the last layer writes the stage output in place


def patch_graph(graph: Graph, stage: PatchStage, k: int) -> PatchGraph:
    """Patch k's layers as a graph over tile tensors (appended after the model's tensors,
    so the constant inputs keep their indices). A tile read or written in place in the
    stage's input/output is made a (dataless) constant: the workspace plan skips it."""
    tiles = stage.patches[k]
    x, y = graph.tensors[stage.input], graph.tensors[stage.output]
    # in place when every patch spans the whole width (one loop body serves all patches)
    direct_in = all(t[0].in_cols == (0, int(x.shape[2])) for t in stage.patches)
    direct_out = all(t[-1].out_cols == (0, int(y.shape[2])) for t in stage.patches)
    tensors: list[Tensor] = list(graph.tensors)
    empty = np.zeros(0, dtype=np.int8)

    def tile_tensor(like: Tensor, rows: tuple[int, int], cols: tuple[int, int], outside: bool) -> int:
        index = len(tensors)
        shape = (1, rows[1] - rows[0], cols[1] - cols[0], int(like.shape[3]))
        tensors.append(Tensor(index, f"{like.name}@patch{k}", shape, like.dtype, like.quant,
                              data=empty if outside else None))
        return index

    current = tile_tensor(graph.tensors[stage.layers[0].inputs[0]], tiles[0].in_rows, tiles[0].in_cols, direct_in)
    first_in = current
    ops: list[Operator] = []
    for j, (op, tile) in enumerate(zip(stage.layers, tiles)):
        is_last = j == len(stage.layers) - 1
        out = tile_tensor(graph.tensors[op.outputs[0]], tile.out_rows, tile.out_cols, is_last and direct_out)
        options = dict(op.options)
        options.update(padding="EXPLICIT", explicit_pad_h=tile.pad_top, explicit_pad_w=tile.pad_left,
                       explicit_out_h=tile.out_shape[0], explicit_out_w=tile.out_shape[1])
        ops.append(dataclasses.replace(op, index=j, inputs=(current, *op.inputs[1:]), outputs=(out,),
                                       options=MappingProxyType(options)))
        current = out
    sub = dataclasses.replace(graph, name=f"{graph.name}@patch{k}", tensors=tuple(tensors), operators=tuple(ops),
                              inputs=(first_in,), outputs=(current,), folded=())
    return PatchGraph(sub, direct_in, direct_out)


def simulate_stage(graph: Graph, stage: PatchStage, in_offset: int, out_offset: int) -> list[str]:
    """Replay the stage's patch order byte by byte: patch k reads its input tile's rows
    and columns, then writes its output rectangle; report a write that lands on an input
    byte a later patch reads. Independent of min_distance (exact rectangles, not spans)."""
    x, y = graph.tensors[stage.input], graph.tensors[stage.output]
    _, xh, xw, xc = x.shape
    _, yh, yw, yc = y.shape
    xe, ye = DTYPE_SIZES[x.dtype], DTYPE_SIZES[y.dtype]
    last_read = np.full((xh, xw), -1, dtype=np.int64)
    for k, tiles in enumerate(stage.patches):
        (a, b), (c, e) = tiles[0].in_rows, tiles[0].in_cols
        last_read[a:b, c:e] = k
    last_read_bytes = np.repeat(last_read.reshape(-1), xc * xe)
    problems = []
    for k, tiles in enumerate(stage.patches):
        (r0, r1), (q0, q1) = tiles[-1].out_rows, tiles[-1].out_cols
        for r in range(r0, r1):
            ws = out_offset + ((r * yw + q0) * yc) * ye - in_offset
            we = out_offset + ((r * yw + q1) * yc) * ye - in_offset
            lo, hi = max(ws, 0), min(we, last_read_bytes.size)
            if lo < hi and int(last_read_bytes[lo:hi].max()) > k:
                problems.append(f"patch {k} writes stage-input bytes [{lo}, {hi}) that patch "
                                f"{int(last_read_bytes[lo:hi].max())} reads")
                return problems
    return problems


