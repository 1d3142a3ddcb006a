"""The patch-based stage (mcugen --patch, op MCU_PATCH_STAGE): its tiles lowered, each
patch's workspace planned, and its C, one loop over the patches, written from
templates/lower/patch_stage.c.j2.

Every tile is an ordinary kernel call (mcugen.lower.portable, or its Cortex-M7 variant
as mcugen.lower.kernels allows on tiles) with its own shapes. The workspace (each
patch's tiles and its kernels' scratch) is planned per patch by mcugen.planner, and is
the stage op's scratch in the network's plan. Where a patch spans the whole width, its
first layer reads the stage input in place and its last writes the stage output in
place; otherwise `mcu_copy_tile` moves the rectangles in and out of the workspace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from mcugen.lower.call import ConstArray, CRef, KernelCall, StructParam
from mcugen.lower.kernels import Kernels, uniform_layer
from mcugen.lower.portable import lower_op
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator
from mcugen.ops.base import PATCH_STAGE
from mcugen.patch.tiling import PatchError, PatchGraph, PatchStage, patch_graph
from mcugen.planner import QUICK_ORDERS, MemoryPlan, plan_memory
from mcugen.resources import template_environment

COPY_SOURCE = "mcu_copy_tile.c"
TEMPLATE = "lower/patch_stage.c.j2"


@dataclass(frozen=True)
class StageLowering:
    """What a stage op lowers to: one KernelCall (a loop over the patches) and the figures."""

    stage: PatchStage
    call: KernelCall
    workspace: int  # bytes: the largest patch plan
    plans: tuple[MemoryPlan, ...]  # per patch: its plan over the workspace
    graphs: tuple[PatchGraph, ...]
    kernels: tuple[str, ...]  # per layer: the C function that runs it


def _lower_tile(sub: Graph, op: Operator, tiles: Kernels | None) -> KernelCall:
    call = tiles.variant_call(sub, op) if tiles is not None else None
    return call if call is not None else lower_op(sub, op)


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


class _Table:
    """The stage's per-patch table: a value alike in every patch is written inline, the
    others become a column (`t-><name>` in the loop)."""

    def __init__(self, patches: int) -> None:
        self.fields: list[tuple[str, str]] = []  # (C type, name) of the columns
        self.rows: list[list[str]] = [[] for _ in range(patches)]

    def value(self, name: str, ctype: str, values: Sequence[str]) -> str:
        if all(v == values[0] for v in values):
            return values[0]
        self.fields.append((ctype, name))
        for k, v in enumerate(values):
            self.rows[k].append(v)
        return f"t->{name}"

    def offset(self, name: str, values: Sequence[int]) -> str:
        return self.value(name, "uint32_t", [f"{v}u" for v in values])


class _Structs:
    """The tiles' parameter structs, one per distinct content."""

    def __init__(self) -> None:
        self.structs: list[StructParam] = []
        self.names: dict[tuple, str] = {}

    def symbol(self, j: int, k: int, s: StructParam) -> str:
        fields = {f: (CRef(f"l{j}_{v.name}") if isinstance(v, CRef) else v) for f, v in s.fields.items()}
        key = (j, s.name, s.ctype, _freeze({f: (("cref", v.name) if isinstance(v, CRef) else v)
                                             for f, v in fields.items()}))
        if key not in self.names:
            name = f"p{k}l{j}_{s.name}"
            self.names[key] = name
            self.structs.append(StructParam(name, s.ctype, fields))
        return self.names[key]


def lower_patch_stage(graph: Graph, stage: PatchStage, tiles: Kernels | None = None,
                      quick: bool = False, cache: dict | None = None) -> StageLowering:
    """Lower every tile of every patch, plan each patch's workspace and write the C.
    graph: any graph holding the stage's tensors (the one it was made for, or the patched
    one); tiles: the kernel policy of the tiles (None: the portable kernels); quick:
    first-fit plans only (no beam search), for comparing candidates; cache: a dict shared
    by calls on graphs of one model (tiles of equal geometry lower and plan alike)."""
    graphs = [patch_graph(graph, stage, k) for k in range(len(stage.patches))]
    layers = len(stage.layers)
    cache = {} if cache is None else cache

    def tile_key(k: int, j: int) -> tuple:
        # A layer is known by its tensors (shared by every graph derived from the model; op
        # indices change from one candidate graph to the next).
        t, pg, op = stage.patches[k][j], graphs[k], stage.layers[j]
        # j: the tile graph's op index and tensor indices depend on the layer's place in the stage
        return (j, op.opcode, op.inputs, op.outputs, len(graph.tensors), t.in_shape, t.out_shape, t.pad_top,
                t.pad_left, j == 0 and pg.direct_in, j == layers - 1 and pg.direct_out, tiles is not None)

    def lowered(k: int, j: int, policy: Kernels | None) -> KernelCall:
        # Tiles of equal geometry lower alike; the tile tensors have the same indices in
        # every patch graph (appended in the same order), so the call can be shared.
        key = ("call", tile_key(k, j), policy is not None)
        if key not in cache:
            cache[key] = _lower_tile(graphs[k].graph, graphs[k].graph.operators[j], policy)
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
    call = _stage_call(graph, stage, graphs, calls, plans, workspace)
    return StageLowering(stage, call, workspace, tuple(plans), tuple(graphs), tuple(c.kernel for c in calls[0]))


def _stage_call(graph: Graph, stage: PatchStage, graphs: list[PatchGraph], calls: list[list[KernelCall]],
                plans: list[MemoryPlan], workspace: int) -> KernelCall:
    """The stage's KernelCall: its C (a loop over the patches) from the template's macros."""
    macros = template_environment().get_template(TEMPLATE).module
    layers, patches = len(stage.layers), len(graphs)
    constants: list[ConstArray] = [dataclasses.replace(c, name=f"l{j}_{c.name}")
                                   for j in range(layers) for c in calls[0][j].constants]
    structs = _Structs()
    table = _Table(patches)
    x, y = graph.tensors[stage.input], graph.tensors[stage.output]
    x_row = int(x.shape[2]) * int(x.shape[3]) * DTYPE_SIZES[x.dtype]
    y_row = int(y.shape[2]) * int(y.shape[3]) * DTYPE_SIZES[y.dtype]
    x_px = int(x.shape[3]) * DTYPE_SIZES[x.dtype]
    y_px = int(y.shape[3]) * DTYPE_SIZES[y.dtype]
    direct_in, direct_out = graphs[0].direct_in, graphs[0].direct_out
    in_at = [t[0].in_rows[0] * x_row + t[0].in_cols[0] * x_px for t in stage.patches]
    out_at = [t[-1].out_rows[0] * y_row + t[-1].out_cols[0] * y_px for t in stage.patches]
    body: list[str] = []
    sources: dict[str, None] = {}
    first_in = [pg.graph.operators[0].inputs[0] for pg in graphs]
    last_out = [pg.graph.outputs[0] for pg in graphs]

    def tile_rows(side: str, rows: list[int], tensors: list[int]) -> tuple[str, str]:
        """(bytes per row, rows) of each patch's first input or last output tile."""
        row_bytes = [pg.graph.tensors[i].nbytes // max(r, 1) for pg, i, r in zip(graphs, tensors, rows)]
        return table.offset(f"{side}_row_bytes", row_bytes), table.offset(f"{side}_rows", rows)

    if not direct_in:
        sources[COPY_SOURCE] = None
        src = table.offset("in_at", in_at)
        dst = table.offset("in_tile", [p.offsets[i] for p, i in zip(plans, first_in)])
        rb, nr = tile_rows("in", [t[0].in_shape[0] for t in stage.patches], first_in)
        body.append(macros.copy_tile(f"(const int8_t *)$in0 + {src}", x_row, f"(int8_t *)($scratch + {dst})",
                                     f"(int32_t){rb}", nr, rb))
    for j in range(layers):
        call = calls[0][j]
        if any([s.name for s in c[j].structs] != [s.name for s in call.structs] for c in calls):
            raise PatchError(f"Layer {stage.ops[j]}'s tiles do not share one parameter layout.")
        names: dict[str, str] = {}
        if j == 0 and direct_in:
            names["in0"] = f"((const int8_t *)$in0 + {table.offset('in_at', in_at)})"
        else:
            at = table.offset(f"l{j}_in", [p.offsets[c[j].inputs[0]] for p, c in zip(plans, calls)])
            names["in0"] = f"($scratch + {at})"
        if j == layers - 1 and direct_out:
            names["out0"] = f"((int8_t *)$out0 + {table.offset('out_at', out_at)})"
        else:
            at = table.offset(f"l{j}_out", [p.offsets[c[j].outputs[0]] for p, c in zip(plans, calls)])
            names["out0"] = f"($scratch + {at})"
        if call.scratch_bytes:
            spans = [p.scratch[c[j].op_index] for p, c in zip(plans, calls)]
            names["scratch"] = f"($scratch + {table.offset(f'l{j}_scratch', [o for o, _ in spans])})"
            names["scratch_size"] = f"(int32_t){table.offset(f'l{j}_scratch_size', [n for _, n in spans])}"
        for c in call.constants:
            names[f"c_{c.name}"] = f"$c_l{j}_{c.name}"
        for n, s in enumerate(call.structs):
            symbols = [structs.symbol(j, k, c[j].structs[n]) for k, c in enumerate(calls)]
            if all(sym == symbols[0] for sym in symbols):
                names[f"s_{s.name}"] = f"$s_{symbols[0]}"
            else:
                pointers = [f"&$s_{sym}" for sym in symbols]
                names[f"s_{s.name}"] = f"(*{table.value(f'l{j}_{s.name}', f'const {s.ctype} *', pointers)})"
        setup, expr = call.render(names)
        body.append(macros.kernel(" ".join(line.strip() for line in setup.splitlines() if line.strip()), expr))
        for src in call.sources:
            sources[src] = None
    if not direct_out:
        sources[COPY_SOURCE] = None
        src = table.offset("out_tile", [p.offsets[i] for p, i in zip(plans, last_out)])
        dst = table.offset("out_at", out_at)
        rb, nr = tile_rows("out", [t[-1].out_shape[0] for t in stage.patches], last_out)
        body.append(macros.copy_tile(f"(const int8_t *)($scratch + {src})", f"(int32_t){rb}",
                                     f"(int8_t *)$out0 + {dst}", y_row, nr, rb))
    rows = [{"cells": row, "rows": stage.patches[k][-1].out_rows, "cols": stage.patches[k][-1].out_cols}
            for k, row in enumerate(table.rows)]
    kernels = tuple(c.kernel for c in calls[0])
    summary = (f"patch-based stage: ops {stage.ops[0]}..{stage.ops[-1]} ({', '.join(kernels)}) in "
               f"{stage.grid[0]}x{stage.grid[1]} patches, {stage.macs} MACs ({stage.base_macs} unpatched), "
               f"{workspace} B workspace")
    return KernelCall(
        op_index=-1, opcode=PATCH_STAGE, kernel="mcu_patch_stage", sources=tuple(sources),
        inputs=(stage.input,), outputs=(stage.output,), call="patch_status",
        setup=str(macros.loop(patches, bool(table.fields), body)),
        declarations=str(macros.table(patches, table.fields, rows)) if table.fields else "",
        constants=tuple(constants), structs=tuple(structs.structs), scratch_bytes=workspace, summary=summary,
        parts=tuple(c for patch_calls in calls for c in patch_calls),
    )


__all__ = ["COPY_SOURCE", "StageLowering", "lower_patch_stage"]
