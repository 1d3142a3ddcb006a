"""The generation pipeline: load -> check -> lower -> (patch) -> plan -> estimate -> emit.

`estimate_model` and `generate` share one style branch (`plan_model`): cubeai lowers
the graph once (mcugen.lower), runs the patch search on the lowered graph when asked
(mcugen.patch), plans the activations (one pool or several) and estimates the
footprint; tflm estimates TFLM's arena and its code from the library. `generate` then
checks the fit and writes the project. A generated project keeps a copy of its model
(model.tflite) and the footprint estimate in its manifest, so `build` can set real sizes
beside the estimate and `flash-and-measure` can compare the target's outputs with the
reference without being told the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mcugen.boards import Board
from mcugen.codegen.cubeai import generate_cubeai
from mcugen.planner.pools import io_outside_bytes, parse_pools, plan_activations, pool_capacities, pool_reservations
from mcugen.codegen.tflm import generate_tflm
from mcugen.estimate import Footprint, estimate, require_fit
from mcugen.lower import LoweredGraph, lower
from mcugen.model import Graph
from mcugen.model.load import load_model
from mcugen.ops import check_shapes, require_known
from mcugen.options import GenerateOptions
from mcugen.patch.search import Patched, patch_model, patch_summary
from mcugen.planner import MemoryPlan
from mcugen.tflm.arena import estimate_tflm_arena
from mcugen.tflm.library import BuildProgress
from mcugen.tflm.targets import target_for_board

MODEL_COPY = "model.tflite"


@dataclass(frozen=True)
class Generated:
    out_dir: Path
    board: str
    style: str
    files: tuple[str, ...]
    footprint: Footprint
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "board": self.board,
            "style": self.style,
            "files": list(self.files),
            "estimate": self.footprint.to_json(),
            **self.details,
        }


@dataclass(frozen=True)
class CubeaiPlanned:
    """The cubeai branch's result: the network as it will be generated, its plan and footprint."""

    lowered: LoweredGraph  # patched when --patch
    plan: MemoryPlan
    footprint: Footprint


@dataclass(frozen=True)
class TflmPlanned:
    kernels: str  # cmsis_nn | reference
    arena: int  # the arena the application declares (mcugen.tflm.arena's estimate)
    footprint: Footprint


def load_checked(model: str | Path) -> Graph:
    graph = load_model(model)
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
                        c_api=options.c_api)

    plan = plan_activations(graph, scratch, inputs=inputs, outputs=outputs)
    first = footprint(plan)
    specs = parse_pools(options.pools)
    if not specs:
        return plan, first
    reserved = pool_reservations({r.name: r.items for r in first.regions}, options.firmware().stack_size)
    plan = plan_activations(graph, scratch, inputs=inputs, outputs=outputs,
                            pools=pool_capacities(board, specs, reserved))
    return plan, footprint(plan)


def plan_model(graph: Graph, board: Board, options: GenerateOptions = GenerateOptions()
               ) -> CubeaiPlanned | TflmPlanned:
    """The style's branch, written once for estimate and generate: what the project will
    hold and its footprint (not checked against the board: see require_fit)."""
    options = options.checked()
    if options.style == "cubeai":
        lowered = lower(graph, board, options.cubeai_kernels())  # the full list of what cannot run, first
        patched: Patched | None = None
        if options.patch:
            patched = patch_model(lowered, board, options.patch, inputs=options.inputs_allocation,
                                  outputs=options.outputs_allocation)
            lowered = patched.lowered
        plan, footprint = cubeai_plan(lowered, board, options)
        if patched is not None:
            _, unpatched = cubeai_plan(patched.original, board, options)
            footprint = dataclasses.replace(footprint, patch=patch_summary(patched, footprint.activation_ram,
                                                                            unpatched.activation_ram))
        return CubeaiPlanned(lowered, plan, footprint)
    kernels = options.tflm_kernels(board)
    arena = estimate_tflm_arena(graph, kernels=kernels, target=target_for_board(board)).total
    footprint = estimate(graph, board, "tflm", placement=options.placement, tflm_arena=arena, tflm_kernels=kernels)
    return TflmPlanned(kernels, arena, footprint)


def estimate_model(graph: Graph, board: Board, options: GenerateOptions = GenerateOptions()) -> Footprint:
    """The footprint `generate` would check (`mcugen estimate`): with pools, the
    activations per region; with patch, the patched network's, and the unpatched
    figures in `footprint.patch`."""
    return plan_model(graph, board, options).footprint


def generate(
    graph: Graph,
    board: Board,
    out_dir: str | Path,
    options: GenerateOptions = GenerateOptions(),
    *,
    force: bool = False,
    progress: Callable[[BuildProgress], None] | None = None,
) -> Generated:
    """Write a complete firmware project for `graph` on `board` (see GenerateOptions).

    Refuses (before writing anything) unsupported operators, a model that does not
    fit the board, and an output directory holding files mcugen did not write.
    progress: the TFLM library build's progress (tflm style, first build only)."""
    planned = plan_model(graph, board, options)
    footprint = planned.footprint
    require_fit(footprint)
    extra_files = {MODEL_COPY: graph.model_bytes}
    extra_manifest = {"model_file": MODEL_COPY, "estimate": estimate_json(footprint)}
    if isinstance(planned, CubeaiPlanned):
        project = generate_cubeai(planned.lowered, board, out_dir, options, plan=planned.plan, force=force,
                                  extra_files=extra_files, extra_manifest=extra_manifest)
        details = {"arena_size": project.arena_size, "weights_bytes": project.weights_bytes,
                   "params_bytes": project.params_bytes, "kernels": list(project.kernels), "name": project.name,
                   "c_api": project.c_api, "pools": list(project.pools),
                   "inputs_in_activations": options.inputs_allocation,
                   "outputs_in_activations": options.outputs_allocation, "patch": footprint.patch}
        files = project.files
    else:
        tflm = generate_tflm(graph, board, out_dir, kernels=planned.kernels, tflm_root=options.tflm_root,
                             force=force, firmware_options=options.firmware(), arena_size=planned.arena,
                             progress=progress, extra_files=extra_files, extra_manifest=extra_manifest)
        details = {"arena_size": tflm.arena_size, "kernels": tflm.kernels, "library": str(tflm.library),
                   "ops": list(tflm.ops)}
        files = tflm.files
    return Generated(Path(out_dir), board.name, options.style, tuple(files), footprint, details)


def estimate_json(fp: Footprint) -> dict[str, Any]:
    """The estimate a project's manifest keeps (`build` compares the ELF with it)."""
    return {
        "activation_ram": fp.activation_ram,
        "weights_flash": fp.weights_flash,
        "params_flash": fp.params_flash,
        "code_flash": fp.code_flash,
        "runtime_ram": fp.runtime_ram,
        "regions": {r.name: r.used for r in fp.regions},
        "patch": dict(fp.patch) if fp.patch else None,
    }


__all__ = ["CubeaiPlanned", "GenerateOptions", "Generated", "MODEL_COPY", "TflmPlanned", "cubeai_plan",
           "estimate_model", "generate", "load_checked", "plan_model"]
