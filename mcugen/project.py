"""The stages strung together for the CLI: generate, build, measure, validate.

Each function takes plain arguments, calls the stage modules in order and
returns plain data; the CLI only parses and renders. A generated project keeps
a copy of its model (model.tflite) and the footprint estimate in its manifest,
so `build` can set real sizes beside the estimate and `flash-and-measure` can
compare the target's outputs with the reference without being told the model.
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from mcugen.boards import Board, get_board
from mcugen.errors import McugenError
from mcugen.estimate import Footprint, arm_selector, default_selector, estimate, require_fit
from mcugen.interrupt import temporary_directory
from mcugen.model import Graph, load_model
from mcugen.names import check_network_name
from mcugen.ops import check_shapes, require_known, require_supported
from mcugen.outdir import check_output_dir

MODEL_COPY = "model.tflite"
STYLES = ("cubeai", "tflm")


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


def load_checked(model: str | Path) -> Graph:
    graph = load_model(model)
    require_known(graph)
    check_shapes(graph)
    return graph


def _manifest(project_dir: Path) -> dict[str, Any]:
    from mcugen.firmware import MANIFEST_FILE, read_manifest  # noqa: PLC0415

    read_manifest(project_dir)  # validates, with clear errors
    return json.loads((project_dir / MANIFEST_FILE).read_text(encoding="utf-8"))


def estimate_by_region(footprint: Footprint) -> dict[str, int]:
    return {r.name: r.used for r in footprint.regions}


def generate(
    graph: Graph,
    board: Board,
    out_dir: str | Path,
    *,
    style: str = "cubeai",
    force: bool = False,
    name: str = "network",
    placement: dict[str, str] | None = None,
    kernels: str | None = None,
    tflm_root: str | Path | None = None,
    arm_kernels: bool = True,
    wide_limit: int | None = None,
    profile: bool = False,
    progress: Callable[[Any], None] | None = None,
    c_api: str = "st-ai",
    inputs_allocation: bool = True,
    outputs_allocation: bool = True,
    pools: str | Sequence[str] | None = None,
    patch: str | None = None,
    baud: int | None = None,
) -> Generated:
    """Write a complete firmware project for `graph` on `board` in `style`.

    cubeai only: c_api ("st-ai", "legacy", "both"), inputs/outputs_allocation (False:
    the inputs/outputs get their own buffers outside the activations), pools (memory
    regions for the activations, most used tensors first: "dtcm,axisram"; REGION:SIZE
    caps a pool), patch (patch-based inference of the first layers: "auto", "4x3",
    "4x3@7"; see mcugen.patch). baud: the UART's rate in the firmware (default: boards.yaml).

    Refuses (before writing anything) unsupported operators, a model that does not
    fit the board, and an output directory holding files mcugen did not write."""
    from mcugen.firmware import FirmwareOptions  # noqa: PLC0415

    if style not in STYLES:
        raise McugenError(f"Unknown style '{style}'.", hint="Use --style cubeai or --style tflm.")
    cubeai_only = {"--c-api": c_api != "st-ai", "--no-inputs-allocation": not inputs_allocation,
                   "--no-outputs-allocation": not outputs_allocation, "--pools": bool(pools),
                   "--patch": bool(patch), "--name": name != "network"}
    if style != "cubeai" and any(cubeai_only.values()):
        raise McugenError(f"{', '.join(k for k, v in cubeai_only.items() if v)}: cubeai style only.",
                          hint="Drop these options or use --style cubeai.")
    if style == "cubeai":
        check_network_name(name)
    check_output_dir(out_dir, force)  # every option and the directory checked before any long work
    # Profiling builds time every node (cubeai) with the board's counter.
    options = FirmwareOptions(placement=dict(placement or {}), defines={"MCUGEN_PROFILE": "1"} if profile else {},
                              uart_baud=baud or 0)
    extra_files = {MODEL_COPY: graph.model_bytes}
    if style == "cubeai":
        from mcugen.codegen import generate_cubeai  # noqa: PLC0415

        from mcugen.codegen.cubeai import check_c_api, check_name  # noqa: PLC0415

        check_name(name)
        check_c_api(c_api)
        require_supported(graph, "cubeai")  # the full list of what cannot run, before anything else
        arm_kernels = arm_kernels and _cubeai_kernels(kernels) == "simd"
        patched = None
        if patch:
            patched = patch_model(graph, board, patch, arm_kernels=arm_kernels, wide_limit=wide_limit,
                                  inputs=inputs_allocation, outputs=outputs_allocation)
            graph = patched.graph
        select = default_selector(board, graph, wide_limit) if arm_kernels else None
        plan, footprint = cubeai_plan(graph, board, select, placement=placement, pools=pools,
                                      inputs=inputs_allocation, outputs=outputs_allocation,
                                      stack_size=options.stack_size, c_api=c_api)
        if patched is not None:
            footprint = _with_patch_figures(patched, footprint, board, arm_kernels, wide_limit, placement=placement,
                                            pools=pools, inputs=inputs_allocation, outputs=outputs_allocation,
                                            stack_size=options.stack_size, c_api=c_api)
        require_fit(footprint)
        extra_manifest = {"model_file": MODEL_COPY, "estimate": _estimate_json(footprint)}
        project = generate_cubeai(
            graph, board, out_dir, name=name, force=force, plan=plan, firmware_options=options,
            select_kernel=select, extra_files=extra_files, extra_manifest=extra_manifest, c_api=c_api,
            inputs_in_activations=inputs_allocation, outputs_in_activations=outputs_allocation,
        )
        details = {"arena_size": project.arena_size, "weights_bytes": project.weights_bytes,
                   "params_bytes": project.params_bytes, "kernels": list(project.kernels), "name": project.name,
                   "c_api": project.c_api, "pools": list(project.pools),
                   "inputs_in_activations": inputs_allocation, "outputs_in_activations": outputs_allocation,
                   "patch": footprint.patch, "notes": list(project.notes)}
        files = project.files
    else:
        from mcugen.codegen.tflm import default_kernels, generate_tflm  # noqa: PLC0415
        from mcugen.tflm.arena import estimate_tflm_arena  # noqa: PLC0415
        from mcugen.tflm.library import target_for_board  # noqa: PLC0415

        kernels = _tflm_kernels(kernels or default_kernels(board))
        arena = estimate_tflm_arena(graph, kernels=kernels, target=target_for_board(board)).total
        footprint = estimate(graph, board, "tflm", placement=placement, tflm_arena=arena, tflm_kernels=kernels)
        require_fit(footprint)
        extra_manifest = {"model_file": MODEL_COPY, "estimate": _estimate_json(footprint)}
        project = generate_tflm(
            graph, board, out_dir, kernels=kernels, tflm_root=tflm_root, force=force, firmware_options=options,
            arena_size=arena, progress=progress, extra_files=extra_files, extra_manifest=extra_manifest,
        )
        details = {"arena_size": project.arena_size, "kernels": project.kernels, "library": str(project.library),
                   "ops": list(project.ops), "notes": list(project.notes)}
        files = project.files
    return Generated(Path(out_dir), board.name, style, tuple(files), footprint, details)


def estimate_model(
    graph: Graph,
    board: Board,
    style: str = "cubeai",
    *,
    placement: dict[str, str] | None = None,
    pools: str | Sequence[str] | None = None,
    inputs_allocation: bool = True,
    outputs_allocation: bool = True,
    c_api: str = "st-ai",
    kernels: str | None = None,
    patch: str | None = None,
) -> Footprint:
    """The footprint `generate` would check (`mcugen estimate`): with pools, the
    activations per region; with patch, the patched network's, and the unpatched
    figures in `footprint.patch`."""
    if style == "cubeai":
        from mcugen.codegen.cubeai import check_c_api  # noqa: PLC0415

        check_c_api(c_api)
        require_supported(graph, "cubeai")
        simd = _cubeai_kernels(kernels) == "simd"
        patched = (patch_model(graph, board, patch, arm_kernels=simd, inputs=inputs_allocation,
                               outputs=outputs_allocation) if patch else None)
        if patched is not None:
            graph = patched.graph
        select = default_selector(board, graph) if simd else None
        _, footprint = cubeai_plan(graph, board, select, placement=placement, pools=pools,
                                   inputs=inputs_allocation, outputs=outputs_allocation, c_api=c_api)
        if patched is not None:
            footprint = _with_patch_figures(patched, footprint, board, simd, None, placement=placement, pools=pools,
                                            inputs=inputs_allocation, outputs=outputs_allocation, c_api=c_api)
        return footprint
    if pools or not inputs_allocation or not outputs_allocation or patch:
        raise McugenError("--pools, --no-inputs-allocation, --no-outputs-allocation and --patch: cubeai style only.",
                          hint="Drop these options or use --style cubeai.")
    from mcugen.codegen.tflm import default_kernels  # noqa: PLC0415
    from mcugen.tflm.arena import estimate_tflm_arena  # noqa: PLC0415
    from mcugen.tflm.library import target_for_board  # noqa: PLC0415

    kernels = _tflm_kernels(kernels or default_kernels(board))
    arena = estimate_tflm_arena(graph, kernels=kernels, target=target_for_board(board)).total
    return estimate(graph, board, style, placement=placement, tflm_arena=arena, tflm_kernels=kernels)


@dataclass(frozen=True)
class Patched:
    """A model with its first layers run patch by patch (mcugen.patch), next to the original."""

    graph: Graph  # the patched graph (each stage one MCU_PATCH_STAGE op)
    original: Graph
    choice: Any  # mcugen.patch.PatchChoice


def patch_model(graph: Graph, board: Board, patch: str, *, arm_kernels: bool = True,
                wide_limit: int | None = None, inputs: bool = True, outputs: bool = True) -> Patched:
    """The graph with patch-based inference of its first layers (`--patch auto|NxM[@OP]`):
    the stages and grids with the smallest activation plan, planned as generate will
    (inputs/outputs in the activations or not; auto: recomputing at most
    mcugen.patch.AUTO_MAX_MAC_OVERHEAD of the network's MACs). cubeai style only."""
    from mcugen.codegen import lower_op  # noqa: PLC0415
    from mcugen.codegen.pools import plan_activations, planning_graph  # noqa: PLC0415
    from mcugen.patch import PATCH_OPCODE, PatchSpec, choose_patches  # noqa: PLC0415
    from mcugen.planner import QUICK_ORDERS, plan_memory  # noqa: PLC0415

    spec = PatchSpec.parse(patch)
    # the tiles take every Cortex-M7 variant that runs them (no RAM rule: tiles are small)
    raw = arm_selector(board, wide_limit) if arm_kernels else None
    scratch_of: dict[tuple, int] = {}  # an op's kernel scratch, by its tensors (alike in every candidate)

    def op_scratch(g: Graph, op) -> int:
        if op.opcode == PATCH_OPCODE:
            return op.option("lowering").workspace
        key = (op.opcode, op.inputs, op.outputs)
        if key not in scratch_of:
            call = raw(g, op) if raw is not None else None
            scratch_of[key] = (call if call is not None else lower_op(g, op)).scratch_bytes
        return scratch_of[key]

    def arena(g: Graph, quick: bool) -> int:
        scratch = {op.index: n for op in g.operators if (n := op_scratch(g, op))}
        if quick:
            return plan_memory(planning_graph(g, inputs, outputs), scratch, strategies=QUICK_ORDERS).arena_size
        return plan_activations(g, scratch, inputs=inputs, outputs=outputs).arena_size

    choice = choose_patches(graph, spec, raw, arena)
    return Patched(choice.graph, graph, choice)


def _with_patch_figures(patched: Patched, footprint: Footprint, board: Board, arm_kernels: bool,
                        wide_limit: int | None, **plan_options: Any) -> Footprint:
    """`footprint` (of the patched graph) with what --patch did, next to the figures of
    the same options without it."""
    select = default_selector(board, patched.original, wide_limit) if arm_kernels else None
    _, unpatched = cubeai_plan(patched.original, board, select, **plan_options)
    return dataclasses.replace(footprint, patch=patch_summary(patched, footprint, unpatched))


def patch_summary(p: Patched, footprint: Footprint, unpatched: Footprint) -> dict[str, Any]:
    """What --patch did, for the estimate: the stages, their grids and cost, and the
    activation RAM with (this footprint's) and without patches (the same options)."""
    from mcugen.ops import total_macs  # noqa: PLC0415

    macs, base = total_macs(p.graph), total_macs(p.original)
    stages = []
    for stage, (first, last) in zip(p.choice.stages, p.choice.spans):
        op = next(o for o in p.graph.operators if o.option("stage") is stage)
        stages.append({"ops": [first, last], "grid": f"{stage.grid[0]}x{stage.grid[1]}",
                       "patches": len(stage.patches), "workspace": op.option("lowering").workspace,
                       "macs": stage.macs, "macs_unpatched": stage.base_macs})
    return {
        "stages": stages, "macs": macs, "macs_unpatched": base,
        "extra_macs_percent": round(100.0 * (macs - base) / max(base, 1), 2),
        "activation_ram_unpatched": unpatched.activation_ram, "activation_ram_patched": footprint.activation_ram,
    }


def _estimate_json(fp: Footprint) -> dict[str, Any]:
    return {
        "activation_ram": fp.activation_ram,
        "weights_flash": fp.weights_flash,
        "params_flash": fp.params_flash,
        "code_flash": fp.code_flash,
        "runtime_ram": fp.runtime_ram,
        "regions": estimate_by_region(fp),
        "patch": dict(fp.patch) if fp.patch else None,
    }


CUBEAI_KERNELS = ("simd", "portable")  # cubeai --kernels; the tflm ones are mcugen.tflm.source.KERNEL_SETS


def _tflm_kernels(kernels: str) -> str:
    from mcugen.tflm.source import KERNEL_SETS  # noqa: PLC0415

    if kernels not in KERNEL_SETS:
        raise McugenError(f"Unknown kernel set '{kernels}' for the tflm style.",
                          hint="Use --kernels cmsis_nn (default on Cortex-M7) or --kernels reference; "
                          "simd/portable are for --style cubeai.")
    return kernels


def _cubeai_kernels(kernels: str | None) -> str:
    """cubeai's --kernels: simd (Cortex-M7 DSP variants where they pay, the default) or portable."""
    if kernels is None:
        return CUBEAI_KERNELS[0]
    if kernels in CUBEAI_KERNELS:
        return kernels
    raise McugenError(f"Unknown kernel set '{kernels}' for the cubeai style.",
                      hint="Use --kernels simd (default) or --kernels portable; cmsis_nn/reference are for --style tflm.")


# Bytes kept free in a region that also holds .data/.bss when a pool goes there: the
# generated code's own static data (st-ai context, legacy instance, main.c's buffers),
# libc's and the section alignment, which the estimate's data figure does not count.
POOL_DATA_MARGIN = 2048


def io_outside_bytes(graph: Graph, inputs: bool = True, outputs: bool = True) -> int:
    """Bytes of the inputs/outputs that live outside the activations."""
    return (0 if inputs else sum(t.nbytes for t in graph.input_tensors)) + \
        (0 if outputs else sum(t.nbytes for t in graph.output_tensors))


def cubeai_plan(
    graph: Graph,
    board: Board,
    select=None,
    *,
    placement: dict[str, str] | None = None,
    pools: str | Sequence[str] | None = None,
    inputs: bool = True,
    outputs: bool = True,
    stack_size: int | None = None,
    c_api: str = "st-ai",
) -> tuple[Any, Footprint]:
    """The cubeai activation plan and its footprint estimate.

    With pools ("dtcm,axisram"), each region gives the activations what the rest of the
    firmware leaves free there (code, weights, data, the linker's stack of stack_size
    bytes, a margin) and the planner fills them in order, most used tensors first
    (mcugen.planner.plan_pools); FitError with the figures when the largest tensor fits
    no pool. Unused pools are dropped."""
    from mcugen.codegen import lower  # noqa: PLC0415
    from mcugen.codegen.pools import parse_pools, plan_activations, pool_capacities  # noqa: PLC0415
    from mcugen.firmware import DEFAULT_STACK_SIZE  # noqa: PLC0415

    lowered = lower(graph, select, check=False)  # unsupported ops are refused before; once for all below
    scratch = lowered.scratch_bytes
    io_out = io_outside_bytes(graph, inputs, outputs)
    plan = plan_activations(graph, scratch, inputs=inputs, outputs=outputs)
    footprint = estimate(graph, board, "cubeai", placement=placement, plan=plan, select_kernel=select,
                         io_outside=io_out, c_api=c_api, lowered=lowered)
    specs = parse_pools(pools)
    if not specs:
        return plan, footprint
    stack = DEFAULT_STACK_SIZE if stack_size is None else stack_size
    reserved: dict[str, int] = {}
    for r in footprint.regions:
        items = {k: v for k, v in r.items.items() if k != "arena"}
        if "stack" in items:
            items["stack"] = max(items["stack"], stack)
        reserved[r.name] = sum(items.values()) + (POOL_DATA_MARGIN if "data" in items else 0)
    caps = pool_capacities(board, specs, reserved)
    plan = plan_activations(graph, scratch, inputs=inputs, outputs=outputs, pools=caps)
    footprint = estimate(graph, board, "cubeai", placement=placement, plan=plan, select_kernel=select,
                         io_outside=io_out, c_api=c_api, lowered=lowered)
    return plan, footprint


# ---------------------------------------------------------------------------------------------
# build


@dataclass(frozen=True)
class Built:
    project_dir: Path
    board: str
    elf: Path
    regions: dict[str, dict[str, Any]]
    estimate: dict[str, int]
    warnings: tuple[str, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "project_dir": str(self.project_dir), "board": self.board, "elf": str(self.elf),
            "regions": self.regions, "estimate": self.estimate, "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


def build(project_dir: str | Path, jobs: int | None = None) -> Built:
    from mcugen.build import build_project, compare_with_estimate  # noqa: PLC0415

    project_dir = Path(project_dir)
    manifest = _manifest(project_dir)
    t0 = time.perf_counter()
    result = build_project(project_dir, jobs=jobs)
    seconds = time.perf_counter() - t0
    est = {k: int(v) for k, v in manifest.get("estimate", {}).get("regions", {}).items()}
    warnings = compare_with_estimate(result.usage, est) if est else []
    regions = {
        name: {"kind": r.kind, "base": r.base, "size": r.size, "used": r.used, "sections": dict(r.sections)}
        for name, r in result.usage.regions.items()
        if r.used
    }
    return Built(project_dir, result.board, result.elf, regions, est, tuple(warnings), seconds)


# ---------------------------------------------------------------------------------------------
# measure and compare


@dataclass(frozen=True)
class MeasureReport:
    model: str
    board: str
    style: str
    runner: str
    timing_unit: str
    clock_hz: int
    macs: int
    inputs: int
    runs: int
    counts: dict[str, float]  # min / median / max per inference
    activation_bytes: int
    extra_u32: int
    comparison: Any  # validate.ValidationResult-like outputs (or None when no reference)
    memory: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    outputs: tuple[tuple[Any, ...], ...] = ()  # per input, per output: the target's values
    layers: tuple[dict[str, Any], ...] = ()  # per node of the last run: index, op, count (profiling builds)
    input_names: tuple[str, ...] = ()  # per input: the file it came from, or "random #k"
    float_model: str | None = None  # the float .tflite compared with (per-output float_metrics)

    @property
    def per_mac(self) -> float | None:
        return self.counts["median"] / self.macs if self.macs else None

    @property
    def latency_ms(self) -> float | None:
        if self.timing_unit == "cycles" and self.clock_hz:
            return self.counts["median"] / self.clock_hz * 1e3
        if self.timing_unit == "nanoseconds":
            return self.counts["median"] * 1e-6
        return None

    def to_json(self) -> dict[str, Any]:
        cmp = self.comparison
        return {
            "model": self.model, "board": self.board, "style": self.style, "runner": self.runner,
            "timing_unit": self.timing_unit, "clock_hz": self.clock_hz, "macs": self.macs,
            "inputs": self.inputs, "runs": self.runs,
            self.timing_unit: self.counts,
            "per_mac": self.per_mac, "latency_ms": self.latency_ms,
            # ST's validate figures: duration per inference (ms, when the counter is time)
            # and cycles (QEMU: instructions) per MACC
            "duration_ms": self.latency_ms, f"{self.timing_unit}_per_macc": self.per_mac,
            "float_model": self.float_model,
            "activation_bytes": self.activation_bytes, "extra_u32": self.extra_u32,
            "bit_exact": cmp.bit_exact if cmp is not None else None,
            "max_abs_diff": cmp.max_abs_diff if cmp is not None else None,
            "outputs": [o.to_json() for o in cmp.outputs] if cmp is not None else [],
            "memory": self.memory, "notes": list(self.notes),
            "layers": list(self.layers),
            "results": [
                {"input": name, "outputs": [np.asarray(o).tolist() for o in outs]}
                for name, outs in zip(self.input_names, self.outputs)
            ] if self.inputs <= 64 else [],
        }


def reference_for(graph: Graph, samples: list[list[np.ndarray]], runs: int) -> list[list[np.ndarray]]:
    """TFLM's outputs for each sample as the target produces them after `runs` runs
    (stateful models advance their state on every run)."""
    from mcugen.reference import Reference  # noqa: PLC0415

    return _outputs_after_runs(Reference(graph).run, graph, samples, runs)


def _outputs_after_runs(run: Callable[[Any], list[np.ndarray]], graph: Graph, samples: list[list[np.ndarray]],
                        runs: int) -> list[list[np.ndarray]]:
    """`run` on each sample, repeated `runs` times where the model keeps state between runs
    (SVDF, LSTM), so the outputs are those the target gives after its last run."""
    stateful = any(t.is_variable for t in graph.tensors)
    out = []
    for s in samples:
        result = run(s)
        for _ in range(runs - 1 if stateful else 0):
            result = run(s)
        out.append(result)
    return out


def measure_project(
    project_dir: str | Path,
    *,
    runner: str | None = None,
    input_files: Sequence[str | Path] = (),
    random: int = 0,
    seed: int = 0,
    runs: int = 1,
    compare: bool = True,
    float_model: str | Path | None = None,
    runner_options: dict[str, Any] | None = None,
    profile: bool = False,
) -> MeasureReport:
    """Flash/start a built project, run the inputs, compare with the reference."""
    from mcugen.inputs import make_samples  # noqa: PLC0415
    from mcugen.measure import measure  # noqa: PLC0415
    from mcugen.ops import total_macs  # noqa: PLC0415
    from mcugen.validate import compare_outputs  # noqa: PLC0415

    project_dir = Path(project_dir)
    manifest = _manifest(project_dir)
    model_file = project_dir / manifest.get("model_file", MODEL_COPY)
    if not model_file.is_file():
        raise McugenError(
            f"{project_dir} has no copy of its model ({model_file.name}).",
            hint="Regenerate the project with this version of mcugen.",
        )
    from mcugen.model import load_model_bytes  # noqa: PLC0415

    graph = load_model_bytes(model_file.read_bytes(), manifest.get("model", {}).get("name") or model_file.stem)
    if not input_files and random <= 0:
        random = 1
    samples = make_samples(graph, input_files, random=random, seed=seed)
    m = measure(project_dir, runner, samples, runs=runs, profile=profile, **(runner_options or {}))
    comparison = None
    notes: list[str] = []
    if compare:
        reference = reference_for(graph, samples, runs)
        floats = float_reference_for(float_model, graph, samples, runs) if float_model is not None else None
        comparison = compare_outputs(graph, m.outputs, reference, floats)
        from mcugen.validate import ValidationResult  # noqa: PLC0415

        comparison = ValidationResult(model=graph.name, target=m.board, inputs=len(samples), outputs=comparison)
    if float_model is not None and not compare:
        notes.append("no comparison asked for: the float model was not run")
    memory = {}
    built = project_dir / "build" / "firmware.elf"
    if built.is_file() and not get_board(m.board).is_host:
        from mcugen.build import memory_usage  # noqa: PLC0415

        usage = memory_usage(built, m.board)
        memory = {name: {"used": r.used, "size": r.size} for name, r in usage.regions.items() if r.used}
    return MeasureReport(
        model=graph.name, board=m.board, style=manifest.get("style", "cubeai"), runner=m.runner,
        timing_unit=m.timing_unit, clock_hz=m.clock_hz, macs=total_macs(graph), inputs=len(samples), runs=runs,
        counts={"min": m.stats.min, "median": m.stats.median, "max": m.stats.max},
        activation_bytes=m.activation_bytes, extra_u32=m.extra_u32, comparison=comparison, memory=memory,
        notes=tuple(notes), outputs=tuple(tuple(o) for o in m.outputs),
        layers=tuple({"index": i, "op": graph.operators[i].opcode if i < len(graph.operators) else "?", "count": c}
                     for i, c in enumerate(m.profile)),
        input_names=tuple([str(f) for f in input_files] + [f"random #{k}" for k in range(len(samples) - len(input_files))]),
        float_model=str(float_model) if float_model is not None and compare else None,
    )


def float_reference_for(float_model: str | Path, graph: Graph, samples: list[list[np.ndarray]],
                        runs: int) -> list[list[np.ndarray]]:
    """The float model's outputs for each sample, as the target produces them after `runs` runs."""
    from mcugen.validate import FloatModel  # noqa: PLC0415

    return _outputs_after_runs(FloatModel(float_model, graph).run, graph, samples, runs)


def validate(
    model: str | Path,
    target: str,
    *,
    style: str = "cubeai",
    input_files: Sequence[str | Path] = (),
    random: int = 20,
    seed: int = 0,
    runs: int = 1,
    output: str | Path | None = None,
    force: bool = False,
    kernels: str | None = None,
    tflm_root: str | Path | None = None,
    runner: str | None = None,
    runner_options: dict[str, Any] | None = None,
    placement: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    library_progress: Callable[[Any], None] | None = None,
    float_model: str | Path | None = None,
    name: str = "network",
    c_api: str = "st-ai",
    inputs_allocation: bool = True,
    outputs_allocation: bool = True,
    pools: str | Sequence[str] | None = None,
    patch: str | None = None,
) -> tuple[Generated, Built, MeasureReport]:
    """generate -> build -> flash/run -> compare, in one go (a temporary project unless `output`).

    float_model: the float .tflite the model came from; every output is then also
    compared with it (ST's figures per output: acc, rmse, mae, l2r, mean, std, nse, cos)."""
    graph = load_checked(model)
    board = get_board(target)
    from mcugen.runners.base import check_options  # noqa: PLC0415

    check_options(board, runner, runner_options or {})  # a refused --port/--baud/--pack before the build
    if float_model is not None:
        from mcugen.validate import FloatModel  # noqa: PLC0415

        FloatModel(float_model, graph)  # a wrong float model fails before anything is built
    say = progress or (lambda _msg: None)
    with ExitStack() as stack:
        # a temporary project is removed however this ends (an error, Ctrl-C, SIGTERM)
        out = Path(output) if output is not None else \
            stack.enter_context(temporary_directory("mcugen-validate-")) / "project"
        say(f"generating the {style} project for {board.name}")
        gen = generate(graph, board, out, style=style, force=force or output is None, kernels=kernels,
                       tflm_root=tflm_root, placement=placement, progress=library_progress, name=name,
                       c_api=c_api, inputs_allocation=inputs_allocation, outputs_allocation=outputs_allocation,
                       pools=pools, patch=patch, baud=(runner_options or {}).get("baud"))
        say("building")
        built = build(out)
        say(f"running {len(input_files)} file input(s) and {random} random input(s) on {board.name}")
        report = measure_project(out, runner=runner, input_files=input_files, random=random, seed=seed,
                                 runs=runs, runner_options=runner_options, float_model=float_model)
        return gen, built, report
