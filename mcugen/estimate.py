"""Footprint: will this model fit this board, and where does each byte go?

Computed before anything is built, from the memory plan (activation RAM),
the model's constants (weights flash) and the sizes of really compiled
objects (code flash, runtime RAM; see mcugen.codesize). Each figure is placed
in the board's memory region that holds it, and each region is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from mcugen import codesize
from mcugen.boards import Board
from mcugen.errors import FitError
from mcugen.jsonreport import part_key, parts_json
from mcugen.lower import LoweredGraph, lower
from mcugen.model.graph import Graph
from mcugen.ops import total_macs, unknown_macs_ops
from mcugen.planner import MemoryPlan, plan_memory
from mcugen.support import require_supported
from mcugen.tflm.arena import estimate_tflm_arena
from mcugen.tflm.targets import target_for_board

WEIGHTS_ALIGNMENT = 16
# The legacy client API (cubeai --c-api legacy: main.c calls ai_<name>_*): its code and
# static data on top of the st-ai layer, measured from builds of hello_world_int8 and
# person_detect on qemu-m7 (gcc 12.2 -O2: +1,836..1,852 B .text, +352 B .data/.bss with
# the 7.1+ file set: the I/O descriptions for AI_HANDLE_NULL and the address tables).
# With --c-api both or legacy-6, main.c uses st-ai and the linker drops the legacy functions.
LEGACY_API_CODE_BYTES = 1852
LEGACY_API_DATA_BYTES = 352


@dataclass(frozen=True)
class RegionUse:
    name: str
    kind: str
    base: int
    size: int
    items: Mapping[str, int]  # what is placed here -> bytes

    @property
    def used(self) -> int:
        return sum(self.items.values())

    @property
    def free(self) -> int:
        return self.size - self.used

    @property
    def fits(self) -> bool:
        return self.used <= self.size

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "base": self.base,
            "size": self.size,
            "used": self.used,
            "free": self.free,
            "fits": self.fits,
            "items": dict(self.items),
        }


@dataclass(frozen=True)
class Footprint:
    model: str
    board: str
    style: str
    macs: int | None  # None: some operator's MACs are unknown (generic registry entries)
    activation_ram: int
    runtime_ram: int
    weights_flash: int
    params_flash: int
    code_flash: int
    regions: tuple[RegionUse, ...]
    plan: MemoryPlan
    runtime_ram_parts: Mapping[str, int] = field(default_factory=dict)
    code_flash_parts: Mapping[str, int] = field(default_factory=dict)
    code_flash_basis: str = ""
    notes: tuple[str, ...] = ()
    patch: Mapping[str, Any] | None = None  # --patch: the stage and the figures without it

    @property
    def total_ram(self) -> int:
        return self.activation_ram + self.runtime_ram

    @property
    def total_flash(self) -> int:
        return self.weights_flash + self.params_flash + self.code_flash

    @property
    def fits(self) -> bool:
        return all(r.fits for r in self.regions)

    def misfits(self) -> list[RegionUse]:
        return [r for r in self.regions if not r.fits]

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "board": self.board,
            "style": self.style,
            "macs": self.macs,
            "activation_ram": self.activation_ram,
            "runtime_ram": self.runtime_ram,
            "weights_flash": self.weights_flash,
            "params_flash": self.params_flash,
            "code_flash": self.code_flash,
            "total_ram": self.total_ram,
            "total_flash": self.total_flash,
            "fits": self.fits,
            "regions": [r.to_json() for r in self.regions],
            "runtime_ram_parts": dict(self.runtime_ram_parts),
            "code_flash_parts": parts_json(self.code_flash_parts),
            "code_flash_part_labels": {part_key(k): k for k in self.code_flash_parts},
            "code_flash_is_estimate": True,
            "code_flash_basis": self.code_flash_basis,
            "activation_plan": {
                "arena_size": self.plan.arena_size,
                "strategy": self.plan.strategy,
                "lower_bound_op": self.plan.bound_op,
                "lower_bound_tensor": self.plan.bound_tensor,
                "pools": [{"region": p.region, "size": p.size, "capacity": p.capacity} for p in self.plan.pools],
            },
            "notes": list(self.notes),
            "patch": dict(self.patch) if self.patch else None,
        }


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def weights_blob_bytes(lowered: LoweredGraph) -> tuple[int, int]:
    """(weights blob bytes, params bytes) the cubeai generator emits for `lowered`: the blob
    (.nn_weights) starts with a signature word and holds every call's weight arrays and the
    constant inputs, each 16-byte aligned; params are the .rodata arrays. Arrays of equal
    content are emitted once (ConstArray.content_key)."""
    graph = lowered.graph
    size = _align(4, WEIGHTS_ALIGNMENT)
    seen: set[int] = set()
    emitted: set[tuple] = set()
    params = 0
    for call in lowered.calls:
        for c in call.constants:
            if c.content_key in emitted:
                continue
            emitted.add(c.content_key)
            if c.weights:
                size = _align(size, WEIGHTS_ALIGNMENT) + c.nbytes
            else:
                params += c.nbytes
        for t in call.inputs:
            if t >= 0 and graph.tensors[t].is_constant and t not in seen:
                seen.add(t)
                size = _align(size, WEIGHTS_ALIGNMENT) + graph.tensors[t].nbytes
    return _align(size, WEIGHTS_ALIGNMENT), params


def cubeai_data_bytes(lowered: LoweredGraph) -> tuple[int, int]:
    """(weights, params) as the cubeai generator lays them out: weights are the model's
    constants the ops read (aligned, as in the .nn_weights blob); params is everything
    else computed at generation time: requantization tables and, with the Cortex-M7
    kernels, the filters re-laid out for SIMD (int16 where that pays) with their
    per-channel bias and requantization words."""
    graph = lowered.graph
    used = {i for op in graph.operators for i in op.inputs if i >= 0}
    constants = sum(_align(graph.tensors[i].nbytes, WEIGHTS_ALIGNMENT) for i in used if graph.tensors[i].is_constant)
    blob, params = weights_blob_bytes(lowered)
    weights = min(constants, blob)
    return weights, blob + params - weights


def tflm_weights_bytes(graph: Graph) -> int:
    """The tflm style carries the whole flatbuffer."""
    return _align(len(graph.model_bytes), WEIGHTS_ALIGNMENT)


def _regions(board: Board, placement: Mapping[str, str], figures: Mapping[str, int],
             pools: tuple[tuple[str, int], ...] = ()) -> tuple[RegionUse, ...]:
    if board.is_host:
        return ()
    items: dict[str, dict[str, int]] = {r.name: {} for r in board.regions}
    for what, size in figures.items():
        region = placement["code" if what == "params" else what]
        items[region][what] = items[region].get(what, 0) + size
    for region, size in pools:  # activation pools (cubeai --pools): the arena per region
        board.region(region)
        items[region]["arena"] = items[region].get("arena", 0) + size
    return tuple(
        RegionUse(r.name, r.kind, r.base, r.size, items[r.name]) for r in board.regions if items[r.name]
    )


def estimate(
    model: Graph | LoweredGraph,
    board: Board,
    style: str = "cubeai",
    *,
    placement: Mapping[str, str] | None = None,
    plan: MemoryPlan | None = None,
    tflm_arena: int | None = None,
    tflm_code: codesize.CodeSize | None = None,
    tflm_kernels: str | None = None,
    tflm_unmodeled: tuple[str, ...] = (),
    io_outside: int = 0,
    c_api: str = "st-ai",
    states: int = 0,
) -> Footprint:
    """The footprint of a model on `board` in `style`. Raises UnsupportedOpsError first.

    cubeai: of a LoweredGraph (a Graph is lowered here with the default kernels), with
    its plan (default: the plain activation plan of its kernels' scratch); a plan with
    several pools (--pools) puts each pool's bytes in its region. io_outside: bytes of
    inputs/outputs the application keeps outside the activations (--no-inputs-allocation
    / --no-outputs-allocation), counted with the data; c_api "legacy" adds the legacy API
    layer's code and data; states: bytes of the recurrent states' own buffers (.bss), counted
    with the data. tflm: of a Graph, with TFLM's arena (estimated when not given)."""
    lowered: LoweredGraph | None = None
    if style == "cubeai":
        lowered = model if isinstance(model, LoweredGraph) else lower(model, board)
        graph = lowered.graph
    else:
        graph = model.graph if isinstance(model, LoweredGraph) else model
        require_supported(graph, style)
    if plan is None:
        plan = plan_memory(graph, lowered.scratch_bytes) if lowered is not None else plan_memory(graph)
    notes: list[str] = []
    if lowered is not None:
        activation = plan.arena_size
        weights, params = cubeai_data_bytes(lowered)
        code = codesize.cubeai_code_size(lowered, board)
    else:
        if tflm_arena is None:
            arena_estimate = estimate_tflm_arena(graph, kernels="reference" if board.is_host else "cmsis_nn",
                                                 target=target_for_board(board))
            tflm_arena, tflm_unmodeled = arena_estimate.total, arena_estimate.unmodeled_ops
        if tflm_unmodeled:
            notes.append(f"tflm arena: the allocations of {', '.join(tflm_unmodeled)} are not modelled; "
                         "counted with a conservative guess")
        activation = tflm_arena
        weights = tflm_weights_bytes(graph)
        params = 0  # TFLM computes them at AllocateTensors, into the arena
        code = tflm_code or codesize.tflm_code_size(graph, board, tflm_kernels)
        notes.append(
            f"tflm arena includes TFLM's own bookkeeping; the activations alone plan to {plan.arena_size} B"
        )
    macs = total_macs(graph)
    if macs is None:
        unknown = unknown_macs_ops(graph)
        notes.append(f"MACs unknown: {len(unknown)} operator{'s' if len(unknown) > 1 else ''} without a MAC model "
                     f"(index {', '.join(str(i) for i in unknown[:8])}{' ...' if len(unknown) > 8 else ''})")
    runtime = codesize.runtime_ram(board, style)
    runtime_parts = dict(runtime.parts)
    if io_outside:
        runtime_parts["io buffers"] = io_outside
    if states:
        runtime_parts["states"] = states
    code_parts = dict(code.by_part)
    legacy_data = 0
    if style == "cubeai" and c_api == "legacy":
        code_parts["legacy API"] = LEGACY_API_CODE_BYTES
        runtime_parts["legacy API"] = legacy_data = LEGACY_API_DATA_BYTES
    code_total = sum(code_parts.values())
    notes.extend(code.notes)

    base_placement = board.placement.as_dict() if board.placement else {}
    base_placement.update(placement or {})
    for what, region in base_placement.items():
        if not board.is_host:
            board.region(region)  # BoardError naming the regions when unknown
    # cubeai: the weights blob (.nn_weights) where the weights go, the tables computed at
    # generation time (.rodata) with the code; the same totals when both share a region.
    blob, rodata = weights_blob_bytes(lowered) if lowered is not None else (weights, 0)
    figures = {
        "code": code_total,
        "weights": blob,
        "arena": activation,
        "data": runtime.parts.get("data", 0) + io_outside + legacy_data + states,
        "stack": runtime.parts.get("stack", 0),
    }
    if rodata:
        figures["params"] = rodata
    pools: tuple[tuple[str, int], ...] = ()
    if style == "cubeai" and plan.pools:
        figures.pop("arena")
        pools = tuple((p.region, p.size) for p in plan.pools)
    regions = _regions(board, base_placement, figures, pools) if base_placement else ()
    return Footprint(
        model=graph.name, board=board.name, style=style, macs=macs, activation_ram=activation,
        runtime_ram=sum(runtime_parts.values()), weights_flash=weights, params_flash=params, code_flash=code_total,
        regions=regions, plan=plan, runtime_ram_parts=runtime_parts, code_flash_parts=code_parts,
        code_flash_basis=code.basis, notes=tuple(notes),
    )


def require_fit(footprint: Footprint) -> None:
    """FitError naming each region that overflows, with the need and the room."""
    bad = footprint.misfits()
    if not bad:
        return
    parts = []
    for r in bad:
        detail = ", ".join(f"{k} {v:,} B" for k, v in r.items.items())
        parts.append(
            f"region '{r.name}' ({r.kind}, {r.size:,} B at 0x{r.base:08X}) needs {r.used:,} B ({detail}): "
            f"{r.used - r.size:,} B too many"
        )
    raise FitError(
        f"Model '{footprint.model}' does not fit {footprint.board} in the {footprint.style} style: "
        + "; ".join(parts)
        + ".",
        hint="Place the weights or the arena in a larger region (e.g. --place weights=<region>), "
        "choose a bigger board, or shrink the model.",
    )


__all__ = ["Footprint", "RegionUse", "cubeai_data_bytes", "estimate", "require_fit", "weights_blob_bytes"]
