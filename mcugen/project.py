"""The stages after generation, strung together for the CLI: build, measure, validate.

Each function takes plain arguments, calls the stage modules in order and returns
plain data; the CLI only parses and renders. A generated project keeps a copy of its
model and the footprint estimate in its manifest (mcugen.pipeline), so `build` sets
real sizes beside the estimate and `flash-and-measure` compares the target's outputs
with the reference without being told the model.
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from mcugen.boards import Board, get_board
from mcugen.build import build_project, compare_with_estimate, memory_usage
from mcugen.dataset import load_dataset, score
from mcugen.errors import McugenError
from mcugen.firmware import MANIFEST_FILE, read_manifest
from mcugen.inputs import make_samples
from mcugen.jsonreport import region_json, timing_json
from mcugen.interrupt import temporary_directory
from mcugen.measure import measure
from mcugen.model.graph import Graph
from mcugen.model.load import load_model_bytes
from mcugen.ops import total_macs
from mcugen.options import GenerateOptions
from mcugen.emit import MODEL_COPY, Generated, generate
from mcugen.model.detection_append import append_detection_postprocess, spec_in_project
from mcugen.pipeline import load_checked
from mcugen.reference import Reference
from mcugen.runners.base import check_options
from mcugen.tflm.cache import BuildProgress
from mcugen.validate import FloatModel, ValidationResult, compare_outputs


def _manifest(project_dir: Path) -> dict[str, Any]:
    read_manifest(project_dir)  # validates, with clear errors
    return json.loads((project_dir / MANIFEST_FILE).read_text(encoding="utf-8"))


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
    images: tuple[Path, ...] = ()  # the .hex/.bin written beside the ELF (Arm builds)

    def to_json(self) -> dict[str, Any]:
        return {
            "project_dir": str(self.project_dir), "board": self.board, "elf": str(self.elf),
            "regions": [region_json(name, r["kind"], r["base"], r["size"], r["used"], sections=r["sections"],
                                    estimate=self.estimate.get(name)) for name, r in self.regions.items()],
            "estimate": self.estimate, "warnings": list(self.warnings),
            "images": [str(p) for p in self.images],
            "seconds": round(self.seconds, 3),
        }


def build(project_dir: str | Path, jobs: int | None = None) -> Built:
    project_dir = Path(project_dir)
    manifest = _manifest(project_dir)
    if manifest.get("layout") == "library":  # the network alone: the user's own build takes it in
        raise McugenError(f"{project_dir} is a library layout: it has no firmware of its own to build.",
                          hint="Add the folder to your project (see its README.md), or generate with "
                               "--layout firmware for a complete project.")
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
    images = tuple(p for p in (result.hex, result.bin) if p is not None)
    return Built(project_dir, result.board, result.elf, regions, est, tuple(warnings), seconds, images)


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
    comparison: ValidationResult | None  # None when no reference was asked for
    memory: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    outputs: tuple[tuple[np.ndarray, ...], ...] = ()  # per input, per output: the target's values
    layers: tuple[dict[str, Any], ...] = ()  # per node of the last run: index, op, count (profiling builds)
    input_names: tuple[str, ...] = ()  # per input: the file it came from, or "random #k"
    float_model: str | None = None  # the float .tflite compared with (per-output float_metrics)
    dataset: dict[str, Any] | None = None  # --dataset: accuracies, confusion, disagreements (mcugen.dataset.score)

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
            "macs": self.macs, "inputs": self.inputs, "runs": self.runs,
            # ST's validate figures under fixed keys: duration per inference (timing.ms, when
            # the counter is time) and cycles (QEMU: instructions) per MACC (timing.per_macc)
            "timing": timing_json(self.timing_unit, self.counts, self.macs, self.clock_hz),
            "float_model": self.float_model,
            "activation_bytes": self.activation_bytes, "extra_u32": self.extra_u32,
            "bit_exact": cmp.bit_exact if cmp is not None else None,
            "max_abs_diff": cmp.max_abs_diff if cmp is not None else None,
            "outputs": [o.to_json() for o in cmp.outputs] if cmp is not None else [],
            "memory": self.memory, "notes": list(self.notes),
            "layers": list(self.layers),
            "dataset": self.dataset,
            "results": [
                {"input": name, "outputs": [np.asarray(o).tolist() for o in outs]}
                for name, outs in zip(self.input_names, self.outputs)
            ] if self.inputs <= 64 else [],
        }


def reference_for(graph: Graph, samples: list[list[np.ndarray]], runs: int) -> list[list[np.ndarray]]:
    """TFLM's outputs for each sample as the target produces them after `runs` runs
    (stateful models advance their state on every run)."""
    return _outputs_after_runs(Reference(graph).run, graph, samples, runs)


def _outputs_after_runs(run: Callable[[list[np.ndarray]], list[np.ndarray]], graph: Graph, samples: list[list[np.ndarray]],
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
    dataset: str | Path | None = None,
    sample_progress: Callable[[int, int], None] | None = None,
) -> MeasureReport:
    """Flash/start a built project, run the inputs, compare with the reference.
    sample_progress(done, total): called after each sample of a --dataset run (a progress bar)."""
    project_dir = Path(project_dir)
    manifest = _manifest(project_dir)
    model_file = project_dir / manifest.get("model_file", MODEL_COPY)
    if not model_file.is_file():
        raise McugenError(
            f"{project_dir} has no copy of its model ({model_file.name}).",
            hint="Regenerate the project with this version of mcugen.",
        )
    graph = load_model_bytes(model_file.read_bytes(), manifest.get("model", {}).get("name") or model_file.stem)
    if manifest.get("detection_postprocess"):  # appended to the graph by generate (model/detection_append.py)
        graph = append_detection_postprocess(graph, spec_in_project(manifest["detection_postprocess"], project_dir))
    if profile and "MCUGEN_PROFILE" not in manifest.get("firmware", {}).get("defines", {}):
        raise McugenError(f"{project_dir} was not generated for profiling: it has no per-layer counters.",
                          hint="Generate it again with --profile, build it, then measure.")
    if not input_files and random <= 0:
        random = 1
    labelled = load_dataset(dataset, graph) if dataset is not None else None
    samples = labelled.samples if labelled is not None else make_samples(graph, input_files, random=random, seed=seed)
    m = measure(project_dir, runner, samples, runs=runs, profile=profile,
                on_sample=sample_progress if labelled is not None else None, **(runner_options or {}))
    comparison = None
    scored = None
    notes: list[str] = []
    if compare:
        reference = reference_for(graph, samples, runs)
        floats = float_reference_for(float_model, graph, samples, runs) if float_model is not None else None
        comparison = compare_outputs(graph, m.outputs, reference, floats)
        scored = score(labelled, m.outputs, reference, floats) if labelled is not None else None
        comparison = ValidationResult(model=graph.name, target=m.board, inputs=len(samples), outputs=comparison)
    if float_model is not None and not compare:
        notes.append("no comparison asked for: the float model was not run")
    memory = {}
    built = project_dir / "build" / "firmware.elf"
    if built.is_file() and not get_board(m.board).is_host:
        usage = memory_usage(built, m.board)
        memory = {name: {"used": r.used, "size": r.size} for name, r in usage.regions.items() if r.used}
    return MeasureReport(
        model=graph.name, board=m.board, style=manifest.get("style", "cubeai"), runner=m.runner,
        timing_unit=m.timing_unit, clock_hz=m.clock_hz, macs=total_macs(graph), inputs=len(samples), runs=runs,
        counts={"min": m.stats.min, "median": m.stats.median, "max": m.stats.max},
        activation_bytes=m.activation_bytes, extra_u32=m.extra_u32, comparison=comparison, memory=memory,
        notes=tuple(notes), outputs=tuple(tuple(o) for o in m.outputs),
        layers=profile_layers(m.profile, manifest.get("nodes") or [], graph),
        input_names=labelled.names if labelled is not None else
        tuple([str(f) for f in input_files] + [f"random #{k}" for k in range(len(samples) - len(input_files))]),
        dataset=scored,
        float_model=str(float_model) if float_model is not None and compare else None,
    )


def profile_layers(counts: Sequence[int], nodes: Sequence[dict[str, Any]], graph: Graph) -> tuple[dict[str, Any], ...]:
    """Per node of a profiled run: its counter ticks, share of their sum (%) and the kernel
    (variant) running it, from the manifest's nodes (cubeai: the generated network's, patched or
    not; tflm: every operator TFLM invokes). op_index: the operator's index in mcugen's graph
    (None for a shape op only TFLM runs), what lines the two styles up side by side."""
    total = sum(counts)
    layers = []
    for i, count in enumerate(counts):
        node = nodes[i] if i < len(nodes) else {}
        op = node.get("op") or (graph.operators[i].opcode if i < len(graph.operators) else "?")
        layers.append({"index": i, "op": op, "count": count,
                       "share_percent": round(100.0 * count / total, 3) if total else 0.0,
                       "kernel": node.get("kernel", ""), "kernel_variant": node.get("variant", ""),
                       "macs": node.get("macs"), "op_index": node["graph_index"] if "graph_index" in node
                       else node.get("index", i)})
    return tuple(layers)


def float_reference_for(float_model: str | Path, graph: Graph, samples: list[list[np.ndarray]],
                        runs: int) -> list[list[np.ndarray]]:
    """The float model's outputs for each sample, as the target produces them after `runs` runs."""
    return _outputs_after_runs(FloatModel(float_model, graph).run, graph, samples, runs)



@contextmanager
def built_project(graph: Graph, board: Board, options: GenerateOptions, output: str | Path | None, force: bool,
                  say: Callable[[str], None],
                  library_progress: Callable[[BuildProgress], None] | None) -> Iterator[tuple[Path, Generated, Built]]:
    """generate -> build into `output`, or into a temporary project removed however the block
    ends (an error, Ctrl-C, SIGTERM); yields (project dir, generated, built)."""
    with ExitStack() as stack:
        out = Path(output) if output is not None else \
            stack.enter_context(temporary_directory("mcugen-validate-")) / "project"
        say(f"generating the {options.style} project for {board.name}")
        gen = generate(graph, board, out, options, force=force or output is None, progress=library_progress)
        say("building")
        yield out, gen, build(out)


def validate(
    model: str | Path,
    target: str,
    options: GenerateOptions = GenerateOptions(),
    *,
    input_files: Sequence[str | Path] = (),
    random: int = 20,
    seed: int = 0,
    runs: int = 1,
    output: str | Path | None = None,
    force: bool = False,
    runner: str | None = None,
    runner_options: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    library_progress: Callable[[BuildProgress], None] | None = None,
    float_model: str | Path | None = None,
    profile: bool = False,
    dataset: str | Path | None = None,
    sample_progress: Callable[[int, int], None] | None = None,
) -> tuple[Generated, Built, MeasureReport]:
    """generate -> build -> flash/run -> compare, in one go (a temporary project unless `output`).

    float_model: the float .tflite the model came from; every output is then also
    compared with it (ST's figures per output: acc, rmse, mae, l2r, mean, std, nse, cos)."""
    graph = load_checked(model, options)
    board = get_board(target)
    check_options(board, runner, runner_options or {})  # a refused --port/--baud/--pack before the build
    if float_model is not None:
        FloatModel(float_model, graph)  # a wrong float model fails before anything is built
    if dataset is not None:
        random = len(load_dataset(dataset, graph).samples)  # a bad dataset fails before the build
    say = progress or (lambda _msg: None)
    baud = (runner_options or {}).get("baud")
    if baud:  # the firmware is built for the rate the link will use
        options = dataclasses.replace(options, baud=baud)
    if profile:  # every node timed with the board's counter
        options = dataclasses.replace(options, profile=True)
    with built_project(graph, board, options, output, force, say, library_progress) as (out, gen, built):
        say(f"running {random} labelled sample(s) of {dataset} on {board.name}" if dataset is not None else
            f"running {len(input_files)} file input(s) and {random} random input(s) on {board.name}")
        report = measure_project(out, runner=runner, input_files=input_files, random=random, seed=seed,
                                 runs=runs, runner_options=runner_options, float_model=float_model,
                                 profile=profile, dataset=dataset, sample_progress=sample_progress)
        return gen, built, report


def validate_host(
    model_path: str | Path,
    n_random: int = 20,
    seed: int = 0,
    input_files: Sequence[str | Path] = (),
    *,
    keep_dir: str | Path | None = None,
    name: str = "network",
    float_model: str | Path | None = None,
) -> ValidationResult:
    """Generate, build and run the cubeai network on the host and compare with TFLM: the
    library form of `mcugen validate MODEL --target host`.

    keep_dir: generate there (and keep it) instead of a temporary directory."""
    t0 = time.perf_counter()
    _, built, report = validate(
        model_path, "host", GenerateOptions(name=name), input_files=input_files, random=n_random, seed=seed,
        output=keep_dir, force=keep_dir is not None, float_model=float_model,
    )
    assert report.comparison is not None  # validate always compares
    timings = {"build": built.seconds, "total": time.perf_counter() - t0}
    return dataclasses.replace(report.comparison, timings=timings,
                               project_dir=str(keep_dir) if keep_dir is not None else None)
