"""Patch-based inference (MCUNetV2): the first, high-resolution layers run patch by patch.

The activation peak of a MobileNet-like network sits in its first stage, where the
feature maps are largest. Splitting the stage's output into a grid of patches and
running the whole stage once per patch (each layer on a tile: the patch's receptive
field at that layer) keeps only one patch's tiles alive; the stage's input and output
stay whole. Tiles overlap at their borders, so some pixels are computed twice: the
price, in MACs, that `PatchStage.macs` counts.

    stage = make_stage(graph, ops=(0, 1, 2, 3), grid=(6, 1))   # ops from stage_chains(graph)
    patched = apply_patches(graph, stage, Kernels())           # the stage becomes one op
    # patched runs through the planner and the cubeai generator like any graph;
    # choose_patches(graph, PatchSpec.parse("auto"), Kernels(), plan_size) picks stages

Every tile is an ordinary kernel call with its own shapes and an explicit leading
padding (`padding: EXPLICIT`, see mcugen.codegen.quant.op_padding): the border tiles
keep the layer's padding, the others read real pixels instead. The padding after a
tile stays implicit, as in TFLM, through the tile's input bounds, so a tile computes
exactly the pixels the whole layer computes there: the outputs are bit-exact.

Where a patch spans the whole width, its first layer reads the stage input in place
and its last writes the stage output in place; otherwise `mcu_copy_tile` moves the
rectangles in and out of the patch's workspace. The workspace (each patch's tiles and
its kernels' scratch) is planned per patch by mcugen.planner, and is the stage op's
scratch in the network's plan. Because the patches read the stage input and write the
stage output in raster order, the output may start below the input and overlap it
(`PatchStage.min_distance`, proven byte by byte by `simulate_stage`).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mcugen.boards import Board
from mcugen.errors import McugenError
from mcugen.lower import LoweredGraph, renumbered
from mcugen.lower.call import CRef, KernelCall, StructParam
from mcugen.lower.kernels import Kernels, uniform_layer
from mcugen.lower.portable import lower_op
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator, Tensor
from mcugen.ops import REGISTRY, total_macs
from mcugen.ops.access import geometry
from mcugen.ops.base import PATCH_STAGE
from mcugen.planner import QUICK_ORDERS, MemoryPlan, plan_memory
from mcugen.planner.pools import plan_activations, planning_graph

PATCH_OPCODE = PATCH_STAGE
PATCHABLE = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
COPY_SOURCE = "mcu_copy_tile.c"
# `--patch auto` takes the smallest plan whose stages recompute at most this share of the
# network's MACs; small tiles cost more instructions than MACs (bench/models.py measures it).
AUTO_MAX_MAC_OVERHEAD = 0.10
AUTO_GRIDS = ((2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (4, 8), (8, 4), (7, 4), (4, 7),
              (2, 1), (3, 1), (4, 1), (6, 1), (8, 1), (14, 2))


class PatchError(McugenError):
    """The model has no stage that patch-based inference can run, or the options are wrong."""


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


# ---------------------------------------------------------------------------------
# geometry


def _needed(out: tuple[int, int], size: int, k: int, s: int, d: int, pad: int) -> tuple[tuple[int, int], int]:
    """Input span [a, b) the outputs [r0, r1) read, and the padding before it."""
    r0, r1 = out
    lo = r0 * s - pad
    hi = (r1 - 1) * s - pad + (k - 1) * d + 1
    a, b = max(lo, 0), min(hi, size)
    return (a, max(b, a)), a - lo


def tiles_for(graph: Graph, ops: Sequence[int], out_rows: tuple[int, int], out_cols: tuple[int, int]) -> tuple[Tile, ...]:
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


def _split(size: int, parts: int) -> list[tuple[int, int]]:
    edges = [round(size * k / parts) for k in range(parts + 1)]
    return [(edges[k], edges[k + 1]) for k in range(parts)]


def stage_chains(graph: Graph) -> list[tuple[int, ...]]:
    """Runs of consecutive windowed ops, each feeding only the next, that a stage may be
    made of (batch 1, NHWC); the first run starts at the first windowed op."""
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    chains: list[tuple[int, ...]] = []
    run: list[int] = []

    def ok(op: Operator) -> bool:
        if op.opcode not in PATCHABLE or not op.inputs or op.inputs[0] < 0 or len(op.outputs) != 1:
            return False
        g = geometry(graph, op)
        return g is not None and g.n == 1 and not graph.tensors[op.inputs[0]].is_constant

    for op in graph.operators:
        if run:
            prev = graph.operators[run[-1]]
            y = prev.outputs[0]
            if ok(op) and op.inputs[0] == y and consumers.get(y, []) == [op.index] and y not in outputs:
                run.append(op.index)
                continue
            chains.append(tuple(run))
            run = []
        if ok(op):
            run = [op.index]
    if run:
        chains.append(tuple(run))
    return chains


def make_stage(graph: Graph, ops: Sequence[int], grid: tuple[int, int]) -> PatchStage:
    """The stage `ops` (a prefix of a chain from stage_chains) in grid[0] x grid[1] patches."""
    ops = tuple(ops)
    for a, b in zip(ops, ops[1:]):
        if b != a + 1 or graph.operators[b].inputs[0] != graph.operators[a].outputs[0]:
            raise PatchError(f"Ops {a} and {b} are not one after the other in a chain of layers.",
                             hint="A stage is a run of consecutive layers, each feeding the next (stage_chains).")
    if any(graph.operators[i].opcode not in PATCHABLE for i in ops):
        raise PatchError("A patch stage holds only convolutions and pooling layers.",
                         hint=f"Operators that can run on tiles: {', '.join(PATCHABLE)}.")
    last = graph.operators[ops[-1]]
    y = graph.tensors[last.outputs[0]]
    _, out_h, out_w, _ = y.shape
    n_h, n_w = grid
    if n_h < 1 or n_w < 1 or n_h > out_h or n_w > out_w or n_h * n_w < 2:
        raise PatchError(f"A {n_h}x{n_w} grid does not split the stage's {out_h}x{out_w} output into patches.",
                         hint="Use at least 2 patches and at most one per output pixel.")
    patches = tuple(tiles_for(graph, ops, rows, cols) for rows in _split(out_h, n_h) for cols in _split(out_w, n_w))
    layer_macs = tuple(REGISTRY[graph.operators[i].opcode].macs(graph, graph.operators[i]) for i in ops)
    pixels = tuple(int(np.prod(graph.tensors[graph.operators[i].outputs[0]].shape[1:3])) for i in ops)
    first = graph.operators[ops[0]]
    return PatchStage(ops, (n_h, n_w), patches, first.inputs[0], last.outputs[0], layer_macs, pixels)


# ---------------------------------------------------------------------------------
# one patch as a graph of its own


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

    first_op = graph.operators[stage.ops[0]]
    current = tile_tensor(graph.tensors[first_op.inputs[0]], tiles[0].in_rows, tiles[0].in_cols, direct_in)
    first_in = current
    ops: list[Operator] = []
    for j, (i, tile) in enumerate(zip(stage.ops, tiles)):
        op = graph.operators[i]
        is_last = j == len(stage.ops) - 1
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


# ---------------------------------------------------------------------------------
# lowering the stage


@dataclass(frozen=True)
class StageLowering:
    """What the stage op lowers to: one KernelCall (a loop over the patches) and the figures."""

    call: KernelCall
    workspace: int  # bytes: the largest patch plan
    plans: tuple[MemoryPlan, ...]  # per patch: its plan over the workspace
    graphs: tuple[PatchGraph, ...]
    kernels: tuple[str, ...]  # per layer: the C function that runs it


def _lower_layer(sub: Graph, op: Operator, tiles: Kernels | None) -> KernelCall:
    call = tiles.variant_call(sub, op) if tiles is not None else None
    return call if call is not None else lower_op(sub, op)


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def lower_stage(graph: Graph, stage: PatchStage, tiles: Kernels | None = None,
                quick: bool = False, cache: dict | None = None) -> StageLowering:
    """Lower every tile of every patch, plan each patch's workspace and write the C.
    tiles: the kernel policy of the tiles (None: the portable kernels; the RAM rule does
    not apply to tiles); quick: first-fit plans only (no beam search), for comparing
    candidates; cache: a dict shared by calls on the same graph (tiles of equal geometry
    lower and plan alike)."""
    graphs = [patch_graph(graph, stage, k) for k in range(len(stage.patches))]
    layers = len(stage.ops)
    cache = {} if cache is None else cache

    def tile_key(k: int, j: int) -> tuple:
        # A layer is known by its tensors (shared by every graph derived from the model; op
        # indices change from one candidate graph to the next).
        t, pg, op = stage.patches[k][j], graphs[k], graph.operators[stage.ops[j]]
        # j: the tile graph's op index and tensor indices depend on the layer's place in the stage
        return (j, op.opcode, op.inputs, op.outputs, len(graph.tensors), t.in_shape, t.out_shape, t.pad_top,
                t.pad_left, j == 0 and pg.direct_in, j == layers - 1 and pg.direct_out, tiles is not None)

    def lowered(k: int, j: int, policy: Kernels | None) -> KernelCall:
        # Tiles of equal geometry lower alike; the tile tensors have the same indices in
        # every patch graph (appended in the same order), so the call can be shared.
        key = ("call", tile_key(k, j), policy is not None)
        if key not in cache:
            cache[key] = _lower_layer(graphs[k].graph, graphs[k].graph.operators[j], policy)
        return cache[key]

    calls = [[lowered(k, j, tiles) for j in range(layers)] for k in range(len(graphs))]
    # One kernel and one set of constants per layer (mcugen.lower.kernels.uniform_layer).
    for j in range(layers):
        if tiles is not None and not uniform_layer([c[j] for c in calls]):
            for k in range(len(graphs)):
                calls[k][j] = lowered(k, j, None)
        if not uniform_layer([c[j] for c in calls]):
            raise PatchError(f"Layer {stage.ops[j]} does not lower alike in every patch.")

    plans = []
    for k, (pg, patch_calls) in enumerate(zip(graphs, calls)):
        scratch = {c.op_index: c.scratch_bytes for c in patch_calls if c.scratch_bytes}
        key = ("plan", tuple(tile_key(k, j) for j in range(layers)), tuple(sorted(scratch.items())), quick)
        if key not in cache:
            cache[key] = plan_memory(pg.graph, scratch, strategies=QUICK_ORDERS if quick else None)
        plans.append(cache[key])
    workspace = max(p.arena_size for p in plans)

    constants = []
    for j in range(layers):
        for c in calls[0][j].constants:
            constants.append(dataclasses.replace(c, name=f"l{j}_{c.name}"))
    structs: list[StructParam] = []
    struct_names: dict[tuple, str] = {}

    def struct_symbol(j: int, k: int, s: StructParam) -> str:
        fields = {f: (CRef(f"l{j}_{v.name}") if isinstance(v, CRef) else v) for f, v in s.fields.items()}
        key = (j, s.name, s.ctype, _freeze({f: (("cref", v.name) if isinstance(v, CRef) else v)
                                             for f, v in fields.items()}))
        if key not in struct_names:
            name = f"p{k}l{j}_{s.name}"
            struct_names[key] = name
            structs.append(StructParam(name, s.ctype, fields))
        return struct_names[key]

    x, y = graph.tensors[stage.input], graph.tensors[stage.output]
    x_row = int(x.shape[2]) * int(x.shape[3]) * DTYPE_SIZES[x.dtype]
    y_row = int(y.shape[2]) * int(y.shape[3]) * DTYPE_SIZES[y.dtype]
    x_px = int(x.shape[3]) * DTYPE_SIZES[x.dtype]
    y_px = int(y.shape[3]) * DTYPE_SIZES[y.dtype]
    patches = len(graphs)
    direct_in, direct_out = graphs[0].direct_in, graphs[0].direct_out

    # One loop over the patches; what differs from patch to patch (tile shapes, workspace
    # offsets) comes from a table with one row per patch, what does not is written inline.
    fields: list[tuple[str, str]] = []  # (C type, name) of the table's columns
    rows: list[list[str]] = [[] for _ in range(patches)]

    def per_patch(name: str, ctype: str, values: Sequence[str]) -> str:
        if all(v == values[0] for v in values):
            return values[0]
        fields.append((ctype, name))
        for k, v in enumerate(values):
            rows[k].append(v)
        return f"t->{name}"

    def offset(name: str, values: Sequence[int]) -> str:
        return per_patch(name, "uint32_t", [f"{v}u" for v in values])

    in_at = [t[0].in_rows[0] * x_row + t[0].in_cols[0] * x_px for t in stage.patches]
    out_at = [t[-1].out_rows[0] * y_row + t[-1].out_cols[0] * y_px for t in stage.patches]
    body: list[str] = []
    sources: dict[str, None] = {}
    first_in = [pg.graph.operators[0].inputs[0] for pg in graphs]
    last_out = [pg.graph.outputs[0] for pg in graphs]
    if not direct_in:
        sources[COPY_SOURCE] = None
        tile_rows = [t[0].in_shape[0] for t in stage.patches]
        row_bytes = [pg.graph.tensors[i].nbytes // max(r, 1) for pg, i, r in zip(graphs, first_in, tile_rows)]
        src, dst = offset("in_at", in_at), offset("in_tile", [p.offsets[i] for p, i in zip(plans, first_in)])
        rb, nr = offset("in_row_bytes", row_bytes), offset("in_rows", tile_rows)
        body.append(f"if (patch_status == MCU_OK) {{ patch_status = mcu_copy_tile((const int8_t *)$in0 + {src}, "
                    f"{x_row}, (int8_t *)($scratch + {dst}), (int32_t){rb}, (int32_t){nr}, (int32_t){rb}); }}")
    for j in range(layers):
        call = calls[0][j]
        if any([s.name for s in c[j].structs] != [s.name for s in call.structs] for c in calls):
            raise PatchError(f"Layer {stage.ops[j]}'s tiles do not share one parameter layout.")
        names: dict[str, str] = {}
        if j == 0 and direct_in:
            names["in0"] = f"((const int8_t *)$in0 + {offset('in_at', in_at)})"
        else:
            names["in0"] = f"($scratch + {offset(f'l{j}_in', [p.offsets[c[j].inputs[0]] for p, c in zip(plans, calls)])})"
        if j == layers - 1 and direct_out:
            names["out0"] = f"((int8_t *)$out0 + {offset('out_at', out_at)})"
        else:
            names["out0"] = f"($scratch + {offset(f'l{j}_out', [p.offsets[c[j].outputs[0]] for p, c in zip(plans, calls)])})"
        if call.scratch_bytes:
            spans = [p.scratch[c[j].op_index] for p, c in zip(plans, calls)]
            names["scratch"] = f"($scratch + {offset(f'l{j}_scratch', [o for o, _ in spans])})"
            names["scratch_size"] = f"(int32_t){offset(f'l{j}_scratch_size', [n for _, n in spans])}"
        for c in call.constants:
            names[f"c_{c.name}"] = f"$c_l{j}_{c.name}"
        for n, s in enumerate(call.structs):
            symbols = [struct_symbol(j, k, c[j].structs[n]) for k, c in enumerate(calls)]
            if all(sym == symbols[0] for sym in symbols):
                names[f"s_{s.name}"] = f"$s_{symbols[0]}"
            else:
                names[f"s_{s.name}"] = f"(*{per_patch(f'l{j}_{s.name}', f'const {s.ctype} *', [f'&$s_{sym}' for sym in symbols])})"
        setup, expr = call.render(names)
        inline = " ".join(line.strip() for line in setup.splitlines() if line.strip())
        body.append(f"if (patch_status == MCU_OK) {{ {inline + ' ' if inline else ''}patch_status = {expr}; }}")
        for src in call.sources:
            sources[src] = None
    if not direct_out:
        sources[COPY_SOURCE] = None
        tile_rows = [t[-1].out_shape[0] for t in stage.patches]
        row_bytes = [pg.graph.tensors[i].nbytes // max(r, 1) for pg, i, r in zip(graphs, last_out, tile_rows)]
        src, dst = offset("out_tile", [p.offsets[i] for p, i in zip(plans, last_out)]), offset("out_at", out_at)
        rb, nr = offset("out_row_bytes", row_bytes), offset("out_rows", tile_rows)
        body.append(f"if (patch_status == MCU_OK) {{ patch_status = mcu_copy_tile((const int8_t *)($scratch + {src}), "
                    f"(int32_t){rb}, (int8_t *)$out0 + {dst}, {y_row}, (int32_t){nr}, (int32_t){rb}); }}")
    lines = ["mcu_status patch_status = MCU_OK;", "uint32_t patch;",
             f"for (patch = 0u; patch < {patches}u && patch_status == MCU_OK; ++patch) {{"]
    declarations = ""
    if fields:
        lines.append("    const ${prefix}_tile_t *const t = &${prefix}_tiles[patch];")
        decl = ["/* one row per patch of the patch-based stage (mcugen --patch) */", "typedef struct {"]
        decl += [f"    {ctype} {name};" for ctype, name in fields]
        decl += ["} ${prefix}_tile_t;", f"static const ${{prefix}}_tile_t ${{prefix}}_tiles[{patches}] = {{"]
        for k, row in enumerate(rows):
            last = stage.patches[k][-1]
            decl.append(f"    {{ {', '.join(row)} }}, /* rows {last.out_rows[0]}..{last.out_rows[1] - 1}, "
                        f"columns {last.out_cols[0]}..{last.out_cols[1] - 1} */")
        decl.append("};")
        declarations = "\n".join(decl)
    else:
        lines.append("    (void)patch;")
    lines += [f"    {line}" for line in body] + ["}"]
    kernels = tuple(calls[0][j].kernel for j in range(layers))
    summary = (f"patch-based stage: ops {stage.ops[0]}..{stage.ops[-1]} ({', '.join(kernels)}) in "
               f"{stage.grid[0]}x{stage.grid[1]} patches, {stage.macs} MACs ({stage.base_macs} unpatched), "
               f"{workspace} B workspace")
    call = KernelCall(
        op_index=-1, opcode=PATCH_OPCODE, kernel="mcu_patch_stage", sources=tuple(sources),
        inputs=(stage.input,), outputs=(stage.output,), call="patch_status", setup="\n".join(lines),
        declarations=declarations,
        constants=tuple(constants), structs=tuple(structs), scratch_bytes=workspace, summary=summary,
        parts=tuple(c for patch_calls in calls for c in patch_calls),
    )
    return StageLowering(call, workspace, tuple(plans), tuple(graphs), kernels)


# ---------------------------------------------------------------------------------
# the patched graph


def apply_patches(graph: Graph, stage: PatchStage, tiles: Kernels | None = None,
                  quick: bool = False, cache: dict | None = None) -> Graph:
    """`graph` with the stage's operators replaced by one MCU_PATCH_STAGE op (at the
    first one's place); later ops are renumbered. The op carries its lowering."""
    lowering = lower_stage(graph, stage, tiles, quick, cache)
    first = stage.ops[0]
    ops: list[Operator] = list(graph.operators[:first])
    call = dataclasses.replace(lowering.call, op_index=first)
    # The stage's constant inputs stay listed (after the stage input) so that the graph's
    # weights are still the model's; the generated code reads them through the lowering.
    constants = tuple(dict.fromkeys(t for i in stage.ops for t in graph.operators[i].inputs[1:]
                                    if t >= 0 and graph.tensors[t].is_constant))
    ops.append(Operator(first, PATCH_OPCODE, (stage.input, *constants), (stage.output,),
                        MappingProxyType({"stage": stage, "lowering": dataclasses.replace(lowering, call=call)})))
    for op in graph.operators[stage.ops[-1] + 1:]:
        ops.append(dataclasses.replace(op, index=len(ops)))
    return dataclasses.replace(graph, operators=tuple(ops))


def stage_of(op: Operator) -> PatchStage | None:
    return op.option("stage") if op.opcode == PATCH_OPCODE else None


def recomputed_macs(graph: Graph) -> int:
    """MACs the graph's patch stages compute twice (0 for a graph without patches)."""
    return sum(stage.macs - stage.base_macs for op in graph.operators if (stage := stage_of(op)) is not None)


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


# ---------------------------------------------------------------------------------
# choosing the stages


@dataclass(frozen=True)
class StageSpec:
    """One stage of --patch: a grid (None: any) and the original op it ends at (None: any)."""

    grid: tuple[int, int] | None = None
    last_op: int | None = None


@dataclass(frozen=True)
class PatchSpec:
    """--patch: "auto" (stages and grids chosen), or stages "GRID[@OP]" separated by commas,
    e.g. "4x3", "6x1@3,4x1@7" (OP: the model's index of the stage's last operator)."""

    stages: tuple[StageSpec, ...] = ()  # empty: auto

    @property
    def auto(self) -> bool:
        return not self.stages

    @classmethod
    def parse(cls, text: str) -> "PatchSpec":
        raw = text.strip().lower()
        if raw in ("auto", ""):
            return cls()
        stages = []
        for part in raw.split(","):
            grid_text, _, last_text = part.strip().partition("@")
            try:
                if "x" in grid_text:
                    h, w = grid_text.split("x", 1)
                    grid = (int(h), int(w))
                else:
                    grid = (int(grid_text), int(grid_text))
                last_op = int(last_text) if last_text else None
            except ValueError:
                raise PatchError(f"'--patch {text}' is not a patch grid.",
                                 hint="Use --patch auto, --patch 4x3, --patch 4x3@7 (the stage ends at op 7) "
                                      "or several stages: --patch 6x1@3,4x1@7.") from None
            stages.append(StageSpec(grid, last_op))
        return cls(tuple(stages))


def candidate_stages(graph: Graph, spec: StageSpec, origin: Sequence[int], auto: bool = False) -> list[tuple[int, ...]]:
    """The op runs the next stage may be, from the first run of windowed ops: every prefix
    of two ops or more (auto: only those whose output is smaller than the largest tensor
    inside, else nothing is gained). origin[i]: the model's index of graph op i."""
    chains = [c for c in stage_chains(graph) if len(c) >= 2]
    if not chains:
        further = "further " if any(op.opcode == PATCH_OPCODE for op in graph.operators) else ""
        raise PatchError(f"Model '{graph.name}' has no {further}run of two or more convolution or pooling layers "
                         "to split into patches.",
                         hint="--patch needs windowed layers (CONV_2D, DEPTHWISE_CONV_2D, pooling) one after the "
                              "other, each feeding the next.")
    chain = chains[0]
    result = []
    for n in range(2, len(chain) + 1):
        ops = chain[:n]
        if spec.last_op is not None and origin[ops[-1]] != spec.last_op:
            continue
        out = graph.tensors[graph.operators[ops[-1]].outputs[0]].nbytes
        biggest = max(graph.tensors[graph.operators[i].outputs[0]].nbytes for i in ops)
        if not auto or out < biggest:
            result.append(ops)
    if not result:
        where = f"op {spec.last_op}" if spec.last_op is not None else "any op"
        raise PatchError(f"No patch stage of '{graph.name}' ends at {where}: the next run of windowed layers "
                         f"is ops {origin[chain[0]]}..{origin[chain[-1]]}.",
                         hint="Pick its last op with --patch NxM@OP, or use --patch auto.")
    return result


@dataclass(frozen=True)
class PatchChoice:
    graph: Graph  # the patched graph (each stage one MCU_PATCH_STAGE op)
    stages: tuple[PatchStage, ...]  # in the order applied (ops: indices in the graph at that point)
    spans: tuple[tuple[int, int], ...]  # per stage: the model's first and last op
    arena: int  # activation plan of the patched graph

    @property
    def extra_macs(self) -> int:
        return sum(s.macs - s.base_macs for s in self.stages)


MAX_STAGES = 3
STAGE_BEAM = 3  # partial choices kept from one stage to the next (auto)

# plan(graph, quick) -> activation bytes; quick: a cheaper plan for ranking candidates
PlanSize = Callable[[Graph, bool], int]


def _extend(choice: PatchChoice, origin: list[int], stage_spec: StageSpec, auto: bool, budget: float,
            tiles: Kernels | None, plan: PlanSize, cache: dict
            ) -> tuple[list[tuple[PatchChoice, list[int]]], list[str]]:
    """Every way to add one stage to `choice` (auto: within the MAC budget), ranked."""
    candidates = candidate_stages(choice.graph, stage_spec, origin, auto)
    grids = [stage_spec.grid] if stage_spec.grid is not None else list(AUTO_GRIDS)
    found: list[tuple[PatchChoice, list[int]]] = []
    reasons: list[str] = []
    for ops in candidates:
        for grid in grids:
            try:
                stage = make_stage(choice.graph, ops, grid)
            except PatchError as exc:
                if not auto:  # auto tries grids that may not fit: no reason to report
                    reasons.append(exc.message)
                continue
            if auto and choice.extra_macs + stage.macs - stage.base_macs > budget:
                continue
            patched = apply_patches(choice.graph, stage, tiles, quick=True, cache=cache)
            first, last = stage.ops[0], stage.ops[-1]
            found.append((PatchChoice(patched, (*choice.stages, stage),
                                      (*choice.spans, (origin[first], origin[last])), plan(patched, True)),
                          origin[:first] + [origin[last]] + origin[last + 1:]))
    found.sort(key=lambda item: (item[0].arena, item[0].extra_macs))
    return found, reasons


def choose_patches(graph: Graph, spec: PatchSpec, tiles: Kernels | None,
                   plan: PlanSize, max_overhead: float = AUTO_MAX_MAC_OVERHEAD) -> PatchChoice:
    """Apply the stages of `spec` in turn, each the candidate with the smallest activation
    plan (`plan(graph, quick)` -> bytes). Auto adds stages (up to MAX_STAGES, keeping the
    STAGE_BEAM best partial choices) while the plan shrinks and all of them together
    recompute at most max_overhead of the network's MACs. The winner is planned again in
    full (per-patch workspaces with the beam planner)."""
    budget = max_overhead * max(total_macs(graph), 1)
    start = PatchChoice(graph, (), (), plan(graph, True))
    cache: dict = {}  # tile lowerings and patch plans, keyed by layer (its tensors) and tile geometry
    beam: list[tuple[PatchChoice, list[int]]] = [(start, list(range(len(graph.operators))))]
    best = start
    wanted = spec.stages or (StageSpec(),) * MAX_STAGES
    for level, stage_spec in enumerate(wanted):
        grown: list[tuple[PatchChoice, list[int]]] = []
        reasons: list[str] = []
        for choice, origin in beam:
            try:
                found, why = _extend(choice, origin, stage_spec, spec.auto, budget, tiles, plan, cache)
            except PatchError as exc:
                if not spec.auto:
                    raise
                reasons.append(exc.message)
                continue
            reasons += why
            # auto: a stage must shrink the plan it is added to
            grown += [f for f in found if not spec.auto or f[0].arena < choice.arena]
        if not grown:
            if spec.auto and level > 0:
                break
            if spec.auto:
                raise _nothing_gained(graph, reasons[0] if reasons else
                                      f"no stage within {max_overhead:.0%} more MACs shrinks the {start.arena:,} B plan")
            detail = f" ({reasons[0]})" if reasons else ""
            raise PatchError(f"No patch stage of '{graph.name}' fits --patch{detail}.",
                             hint="Try another grid (--patch 2x2, --patch 4x1) or --patch auto.")
        grown.sort(key=lambda item: (item[0].arena, item[0].extra_macs))
        beam = grown[:STAGE_BEAM] if spec.auto else grown[:1]
        if (beam[0][0].arena, beam[0][0].extra_macs) < (best.arena, best.extra_macs) or not best.stages:
            best = beam[0][0]
    # Rebuild the winner with full plans.
    current = graph
    stages = []
    for stage in best.stages:
        stage = make_stage(current, stage.ops, stage.grid)
        current = apply_patches(current, stage, tiles, cache=cache)
        stages.append(stage)
    return PatchChoice(current, tuple(stages), best.spans, plan(current, False))


def _nothing_gained(graph: Graph, why: str) -> PatchError:
    hint = "Generate without --patch; `mcugen inspect` lists the activations per layer."
    if any(len(c) >= 2 for c in stage_chains(graph)):
        hint = ("Its activation peak is not in its first high-resolution layers: generate without --patch "
                "(`mcugen inspect` lists the activations per layer), or name a stage: --patch 4x4@OP.")
    return PatchError(f"--patch auto finds no patch stage that lowers the activation RAM of '{graph.name}': "
                      f"{why.rstrip('.')}.", hint=hint)


# ---------------------------------------------------------------------------------
# --patch in the pipeline


@dataclass(frozen=True)
class Patched:
    """A lowered network with its first layers run patch by patch, next to the original."""

    lowered: LoweredGraph  # the patched network (each stage one MCU_PATCH_STAGE op)
    original: LoweredGraph
    choice: PatchChoice


def patch_model(lowered: LoweredGraph, board: Board, patch: str, *, inputs: bool = True,
                outputs: bool = True) -> Patched:
    """The lowered network with patch-based inference of its first layers (`--patch
    auto|NxM[@OP]`): the stages and grids with the smallest activation plan, planned as
    generate will (inputs/outputs in the activations or not; auto: recomputing at most
    AUTO_MAX_MAC_OVERHEAD of the network's MACs). The ops outside the stages keep their
    lowering; their kernels are chosen again for the patched network. cubeai style only."""
    spec = PatchSpec.parse(patch)
    graph = lowered.graph
    # the tiles take every Cortex-M7 variant that runs them (no RAM rule: tiles are small)
    tiles = lowered.kernels if lowered.kernels.variants_on(board) else None
    # An op of the model is known by its tensors in every candidate graph.
    by_key = {(op.opcode, op.inputs, op.outputs): op.index for op in graph.operators}

    def op_scratch(op: Operator) -> int:
        if op.opcode == PATCH_OPCODE:
            return op.option("lowering").workspace
        i = by_key[(op.opcode, op.inputs, op.outputs)]
        fastest = lowered.variants[i] if tiles is not None else None
        return (fastest if fastest is not None else lowered.portable[i]).scratch_bytes

    def arena(g: Graph, quick: bool) -> int:
        scratch = {op.index: n for op in g.operators if (n := op_scratch(op))}
        if quick:
            return plan_memory(planning_graph(g, inputs, outputs), scratch, strategies=QUICK_ORDERS).arena_size
        return plan_activations(g, scratch, inputs=inputs, outputs=outputs).arena_size

    choice = choose_patches(graph, spec, tiles, arena)
    portable, variants = [], []
    for op in choice.graph.operators:
        if op.opcode == PATCH_OPCODE:
            portable.append(op.option("lowering").call)
            variants.append(None)
            continue
        i = by_key[(op.opcode, op.inputs, op.outputs)]
        portable.append(renumbered(lowered.portable[i], op.index))
        variant = lowered.variants[i]
        variants.append(None if variant is None else renumbered(variant, op.index))
    return Patched(lowered.with_graph(choice.graph, tuple(portable), tuple(variants)), lowered, choice)


def patch_summary(p: Patched, activation_ram: int, activation_ram_unpatched: int) -> dict[str, Any]:
    """What --patch did, for the estimate: the stages, their grids and cost, and the
    activation RAM with and without patches (the same options)."""
    graph, original = p.lowered.graph, p.original.graph
    macs, base = total_macs(graph), total_macs(original)
    stages = []
    for stage, (first, last) in zip(p.choice.stages, p.choice.spans):
        op = next(o for o in graph.operators if o.option("stage") is stage)
        stages.append({"ops": [first, last], "grid": f"{stage.grid[0]}x{stage.grid[1]}",
                       "patches": len(stage.patches), "workspace": op.option("lowering").workspace,
                       "macs": stage.macs, "macs_unpatched": stage.base_macs})
    return {
        "stages": stages, "macs": macs, "macs_unpatched": base,
        "extra_macs_percent": round(100.0 * (macs - base) / max(base, 1), 2),
        "activation_ram_unpatched": activation_ram_unpatched, "activation_ram_patched": activation_ram,
    }
