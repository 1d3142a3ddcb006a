"""The pipeline up to the estimate: load -> check -> lower -> (patch) -> plan -> estimate.

`estimate_model` (`mcugen estimate`) and mcugen.emit.generate share one style branch,
`plan_model`: cubeai lowers the graph once (mcugen.lower), runs the patch search on the
lowered graph when asked (mcugen.patch.search), plans the activations (one pool or
several) and estimates the footprint; tflm estimates TFLM's arena and its code from
the cached library, if any. Nothing here writes or builds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from mcugen.autoplace import place_by_speed
from mcugen.boards import Board
from mcugen.estimate import Footprint, estimate
from mcugen.lower import LoweredGraph, lower
from mcugen.model import Graph
from mcugen.model.detection_append import append_detection_postprocess
from mcugen.model.load import load_model
from mcugen.ops import check_shapes, require_known
from mcugen.options import GenerateOptions
from mcugen.patch.search import Patched, patch_model, patch_summary
from mcugen.planner import MemoryPlan
from mcugen.planner.pools import io_outside_bytes, parse_pools, plan_activations, pool_capacities, pool_reservations
from mcugen.planner.pools import states_bytes
from mcugen.tflm.arena import estimate_tflm_arena
from mcugen.tflm.targets import target_for_board


@dataclass(frozen=True)
class CubeaiPlanned:
    """The cubeai branch's result: the network as it will be generated, its plan and footprint."""

    lowered: LoweredGraph  # patched when --patch
    plan: MemoryPlan
    footprint: Footprint
    options: GenerateOptions  # as given, with the placement moves (mcugen.autoplace) added


@dataclass(frozen=True)
class TflmPlanned:
    """The tflm branch's result: the kernel set, the arena to declare, the footprint."""

    kernels: str  # cmsis_nn | reference
    arena: int  # the arena the application declares (mcugen.tflm.arena's estimate)
    footprint: Footprint
    options: GenerateOptions  # as given, with the placement moves (mcugen.autoplace) added


def load_checked(model: str | Path, options: GenerateOptions | None = None) -> Graph:
    """The model, loaded and checked; with options.detection_postprocess, the detection
    post-processing appended to its graph (mcugen.model.detection_append)."""
    graph = load_model(model)
    if options is not None and options.detection_postprocess:
        graph = append_detection_postprocess(graph, options.detection_postprocess)
    require_known(graph)
    check_shapes(graph)
    return graph


def cubeai_plan(lowered: LoweredGraph, board: Board, options: GenerateOptions = GenerateOptions()
                ) -> tuple[MemoryPlan, Footprint]:
    """The cubeai activation plan and its footprint estimate.

    With pools ("dtcm,axisram"), each region gives the activations what the rest of the
    firmware leaves free there (mcugen.planner.pools.pool_reservations) and the planner
    fills them in order, most used tensors first (mcugen.planner.plan_pools); FitError
    with the figures when the largest tensor fits no pool. Unused pools are dropped."""
    graph, scratch = lowered.graph, lowered.scratch_bytes
    inputs, outputs = options.inputs_allocation, options.outputs_allocation
    io_out = io_outside_bytes(graph, inputs, outputs)

    def footprint(plan: MemoryPlan) -> Footprint:
        return estimate(lowered, board, "cubeai", placement=options.placement, plan=plan, io_outside=io_out,
                        c_api=options.c_api, states=states_bytes(graph))

    plan = plan_activations(graph, scratch, inputs=inputs, outputs=outputs)
    first = footprint(plan)
    specs = parse_pools(options.pools)
    if not specs:
        return plan, first
    reserved = pool_reservations({r.name: r.items for r in first.regions}, options.firmware().stack_size)
    plan = plan_activations(graph, scratch, inputs=inputs, outputs=outputs,
                            pools=pool_capacities(board, specs, reserved))
    return plan, footprint(plan)


def _moved(board: Board, options: GenerateOptions, footprint: Footprint) -> tuple[GenerateOptions, tuple[str, ...]]:
    """The options with the weights/arena placed by speed (mcugen.autoplace) when the
    footprint does not fit and a move helps, and the notes saying so; else `options`."""
    if footprint.fits or board.is_host or board.placement is None:
        return options, ()
    placement = {**board.placement.as_dict(), **options.placement}
    moves = place_by_speed(board, footprint, placement, options.placement)
    if not moves:
        return options, ()
    moved = dataclasses.replace(options, placement={**options.placement, **{m.what: m.target for m in moves}})
    return moved, tuple(m.note(board) for m in moves)


def _noted(footprint: Footprint, notes: tuple[str, ...]) -> Footprint:
    return dataclasses.replace(footprint, notes=footprint.notes + notes) if notes else footprint


def plan_model(graph: Graph, board: Board, options: GenerateOptions = GenerateOptions()
               ) -> CubeaiPlanned | TflmPlanned:
    """The style's branch, written once for estimate and generate: what the project will
    hold and its footprint (not checked against the board: see require_fit). Weights or
    an arena too large for the board's default region, and not placed by the user, move
    to the fastest region with the room (mcugen.autoplace); `options` in the result say
    where they went."""
    options = options.checked()
    if options.style == "cubeai":
        lowered = lower(graph, board, options.cubeai_kernels())  # the full list of what cannot run, first
        patched: Patched | None = None
        if options.patch:
            patched = patch_model(lowered, board, options.patch, inputs=options.inputs_allocation,
                                  outputs=options.outputs_allocation)
            lowered = patched.lowered
        plan, footprint = cubeai_plan(lowered, board, options)
        moved, notes = _moved(board, options, footprint)
        if notes:
            options = moved
            plan, footprint = cubeai_plan(lowered, board, options)
            footprint = _noted(footprint, notes)
        if patched is not None:
            _, unpatched = cubeai_plan(patched.original, board, options)
            footprint = dataclasses.replace(footprint, patch=patch_summary(patched, footprint.activation_ram,
                                                                            unpatched.activation_ram))
        return CubeaiPlanned(lowered, plan, footprint, options)
    kernels = options.tflm_kernels(board)
    arena = estimate_tflm_arena(graph, kernels=kernels, target=target_for_board(board))
    footprint = estimate(graph, board, "tflm", placement=options.placement, tflm_arena=arena.total,
                         tflm_kernels=kernels, tflm_unmodeled=arena.unmodeled_ops)
    moved, notes = _moved(board, options, footprint)
    if notes:
        options = moved
        footprint = estimate(graph, board, "tflm", placement=options.placement, tflm_arena=arena.total,
                             tflm_kernels=kernels, tflm_unmodeled=arena.unmodeled_ops)
        footprint = _noted(footprint, notes)
    return TflmPlanned(kernels, arena.total, footprint, options)


def estimate_model(graph: Graph, board: Board, options: GenerateOptions = GenerateOptions()) -> Footprint:
    """The footprint `generate` would check (`mcugen estimate`): with pools, the
    activations per region; with patch, the patched network's, and the unpatched
    figures in `footprint.patch`."""
    return plan_model(graph, board, options).footprint


__all__ = ["CubeaiPlanned", "GenerateOptions", "TflmPlanned", "cubeai_plan", "estimate_model", "load_checked",
           "plan_model"]
