"""Patch-based inference, the search: which first layers run patch by patch, on which grid.

    stage = make_stage(graph, ops=(0, 1, 2, 3), grid=(6, 1))   # ops from stage_chains(graph)
    patched = apply_patches(graph, stage)                      # the stage becomes one op
    patched = patch_model(lowered, board, "auto")              # in the pipeline: a LoweredGraph

`choose_patches` applies the stages of a --patch spec in turn ("auto": the candidates
with the smallest activation plan within a MAC budget, in a small beam); `patch_model`
runs it on a lowered network and lowers the patched one, its other ops keeping their
lowering. The geometry is mcugen.patch.tiling; a stage's kernels and C,
mcugen.lower.patch_stage.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mcugen.boards import Board
from mcugen.lower import LoweredGraph, renumbered
from mcugen.lower.kernels import Kernels
from mcugen.lower.patch_stage import StageLowering, lower_patch_stage
from mcugen.model.graph import Graph, Operator
from mcugen.ops import REGISTRY, total_macs
from mcugen.ops.base import PATCH_STAGE
from mcugen.patch.tiling import RASTER_OPS, PatchError, PatchStage, geometry, split, tiles_for
from mcugen.planner import QUICK_ORDERS, plan_memory
from mcugen.planner.pools import plan_activations, planning_graph

PATCHABLE = RASTER_OPS  # the windowed ops, whose tiles are cut from their receptive fields
# `--patch auto` takes the smallest plan whose stages recompute at most this share of the
# network's MACs; small tiles cost more instructions than MACs (bench/models.py measures it).
AUTO_MAX_MAC_OVERHEAD = 0.10
AUTO_GRIDS = ((2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (4, 8), (8, 4), (7, 4), (4, 7),
              (2, 1), (3, 1), (4, 1), (6, 1), (8, 1), (14, 2))


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
    patches = tuple(tiles_for(graph, ops, rows, cols) for rows in split(out_h, n_h) for cols in split(out_w, n_w))
    layer_macs = tuple(REGISTRY[graph.operators[i].opcode].macs(graph, graph.operators[i]) for i in ops)
    pixels = tuple(int(np.prod(graph.tensors[graph.operators[i].outputs[0]].shape[1:3])) for i in ops)
    first = graph.operators[ops[0]]
    layers = tuple(graph.operators[i] for i in ops)
    return PatchStage(ops, layers, (n_h, n_w), patches, first.inputs[0], last.outputs[0], layer_macs, pixels)


def apply_patches(graph: Graph, stage: PatchStage) -> Graph:
    """`graph` with the stage's operators replaced by one MCU_PATCH_STAGE op (at the
    first one's place) carrying the stage; later ops are renumbered."""
    first = stage.ops[0]
    ops: list[Operator] = list(graph.operators[:first])
    # The stage's constant inputs stay listed (after the stage input) so that the graph's
    # weights are still the model's; the generated code reads them through the lowering.
    constants = tuple(dict.fromkeys(t for op in stage.layers for t in op.inputs[1:]
                                    if t >= 0 and graph.tensors[t].is_constant))
    ops.append(Operator(first, PATCH_STAGE, (stage.input, *constants), (stage.output,),
                        MappingProxyType({"stage": stage})))
    for op in graph.operators[stage.ops[-1] + 1:]:
        ops.append(dataclasses.replace(op, index=len(ops)))
    return dataclasses.replace(graph, operators=tuple(ops))


def stage_of(op: Operator) -> PatchStage | None:
    return op.option("stage") if op.opcode == PATCH_STAGE else None


def recomputed_macs(graph: Graph) -> int:
    """MACs the graph's patch stages compute twice (0 for a graph without patches)."""
    return sum(stage.macs - stage.base_macs for op in graph.operators if (stage := stage_of(op)) is not None)


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
        further = "further " if any(op.opcode == PATCH_STAGE for op in graph.operators) else ""
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
    lowerings: tuple[StageLowering, ...] = ()  # per stage: its tiles' calls, plans and C

    @property
    def extra_macs(self) -> int:
        return sum(s.macs - s.base_macs for s in self.stages)

    @property
    def workspaces(self) -> dict[int, int]:
        """Per stage op of the patched graph: its workspace (the op's scratch)."""
        bytes_of = {id(lw.stage): lw.workspace for lw in self.lowerings}
        return {op.index: bytes_of[id(op.option("stage"))] for op in self.graph.operators if op.opcode == PATCH_STAGE}


MAX_STAGES = 3
STAGE_BEAM = 3  # partial choices kept from one stage to the next (auto)

# plan(graph, stage workspaces by op index, quick) -> activation bytes; quick: a cheaper
# plan for ranking candidates
PlanSize = Callable[[Graph, Mapping[int, int], bool], int]


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
            lowering = lower_patch_stage(choice.graph, stage, tiles, quick=True, cache=cache)
            first, last = stage.ops[0], stage.ops[-1]
            grown = PatchChoice(apply_patches(choice.graph, stage), (*choice.stages, stage),
                                (*choice.spans, (origin[first], origin[last])), 0, (*choice.lowerings, lowering))
            grown = dataclasses.replace(grown, arena=plan(grown.graph, grown.workspaces, True))
            found.append((grown, origin[:first] + [origin[last]] + origin[last + 1:]))
    found.sort(key=lambda item: (item[0].arena, item[0].extra_macs))
    return found, reasons


def choose_patches(graph: Graph, spec: PatchSpec, tiles: Kernels | None,
                   plan: PlanSize, max_overhead: float = AUTO_MAX_MAC_OVERHEAD) -> PatchChoice:
    """Apply the stages of `spec` in turn, each the candidate with the smallest activation
    plan (`plan(graph, workspaces, quick)` -> bytes). Auto adds stages (up to MAX_STAGES, keeping the
    STAGE_BEAM best partial choices) while the plan shrinks and all of them together
    recompute at most max_overhead of the network's MACs. The winner is planned again in
    full (per-patch workspaces with the beam planner)."""
    budget = max_overhead * max(total_macs(graph), 1)
    start = PatchChoice(graph, (), (), plan(graph, {}, True))
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
    stages, lowerings = [], []
    for stage in best.stages:
        stage = make_stage(current, stage.ops, stage.grid)
        lowerings.append(lower_patch_stage(current, stage, tiles, cache=cache))
        current = apply_patches(current, stage)
        stages.append(stage)
    final = PatchChoice(current, tuple(stages), best.spans, 0, tuple(lowerings))
    return dataclasses.replace(final, arena=plan(current, final.workspaces, False))


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
    fastest = [v if (v is not None and tiles is not None) else p for p, v in zip(lowered.portable, lowered.variants)]

    def arena(g: Graph, workspaces: Mapping[int, int], quick: bool) -> int:
        scratch = {}
        for op in g.operators:
            n = workspaces[op.index] if op.opcode == PATCH_STAGE else \
                fastest[by_key[(op.opcode, op.inputs, op.outputs)]].scratch_bytes
            if n:
                scratch[op.index] = n
        if quick:
            return plan_memory(planning_graph(g, inputs, outputs), scratch, strategies=QUICK_ORDERS).arena_size
        return plan_activations(g, scratch, inputs=inputs, outputs=outputs).arena_size

    choice = choose_patches(graph, spec, tiles, arena)
    stage_calls = {id(lw.stage): lw.call for lw in choice.lowerings}
    portable, variants = [], []
    for op in choice.graph.operators:
        if op.opcode == PATCH_STAGE:
            portable.append(renumbered(stage_calls[id(op.option("stage"))], op.index))
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
    stages = [{"ops": [first, last], "grid": f"{stage.grid[0]}x{stage.grid[1]}", "patches": len(stage.patches),
               "workspace": lowering.workspace, "macs": stage.macs, "macs_unpatched": stage.base_macs}
              for stage, lowering, (first, last) in zip(p.choice.stages, p.choice.lowerings, p.choice.spans)]
    return {
        "stages": stages, "macs": macs, "macs_unpatched": base,
        "extra_macs_percent": round(100.0 * (macs - base) / max(base, 1), 2),
        "activation_ram_unpatched": activation_ram_unpatched, "activation_ram_patched": activation_ram,
    }
