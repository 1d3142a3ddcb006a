"""`mcugen validate MODEL --target host`: the cubeai network against TFLM, bit for bit.

`validate_host(model_path)` generates the cubeai project into a temporary
directory, builds it with the host compiler, runs it on the given input files
plus `n_random` seeded random samples, runs the same samples through the TFLM
reference interpreter, and compares every output element.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mcugen.boards import get_board
from mcugen.model import load_model
from mcugen.model.graph import Graph


@dataclass(frozen=True)
class OutputComparison:
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    max_abs_diff: float  # over all samples and elements (integers compared exactly)
    mismatches: int  # elements that differ, over all samples
    elements: int  # elements compared, over all samples
    metrics: Any = None  # mcugen.metrics.OutputMetrics, in the float domain

    @property
    def bit_exact(self) -> bool:
        return self.mismatches == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "dtype": self.dtype, "shape": list(self.shape),
            "max_abs_diff": self.max_abs_diff, "mismatches": self.mismatches, "elements": self.elements,
            "bit_exact": self.bit_exact, "metrics": self.metrics.to_json() if self.metrics is not None else None,
        }


@dataclass(frozen=True)
class ValidationResult:
    model: str
    target: str
    inputs: int  # samples compared
    outputs: tuple[OutputComparison, ...]
    timings: dict[str, float] = field(default_factory=dict)  # seconds: generate, build, run, reference
    project_dir: str | None = None  # kept project, if any

    @property
    def bit_exact(self) -> bool:
        return all(o.bit_exact for o in self.outputs)

    @property
    def max_abs_diff(self) -> float:
        return max((o.max_abs_diff for o in self.outputs), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "target": self.target, "inputs": self.inputs, "bit_exact": self.bit_exact,
            "max_abs_diff": self.max_abs_diff, "outputs": [o.to_json() for o in self.outputs],
            "timings": dict(self.timings), "project_dir": self.project_dir,
        }


def compare_outputs(graph: Graph, predicted: Sequence[Sequence[np.ndarray]],
                    reference: Sequence[Sequence[np.ndarray]]) -> tuple[OutputComparison, ...]:
    """Element-wise comparison per output over all samples."""
    from mcugen.metrics import compare  # noqa: PLC0415

    result = []
    for k, t in enumerate(graph.output_tensors):
        p = [np.asarray(s[k]) for s in predicted]
        r = [np.asarray(s[k]) for s in reference]
        max_diff, mismatches, elements = 0.0, 0, 0
        for a, b in zip(p, r):
            a = a.reshape(-1)
            b = b.reshape(-1)
            elements += b.size
            if a.shape != b.shape:
                mismatches += b.size
                max_diff = float("inf")
                continue
            if a.dtype.kind == "f" or b.dtype.kind == "f":
                a64, b64 = a.astype(np.float64), b.astype(np.float64)
                same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
                diff = np.where(same, 0.0, np.abs(a64 - b64))
            else:
                diff = np.abs(a.astype(np.int64) - b.astype(np.int64)).astype(np.float64)
                same = diff == 0
            mismatches += int((~same).sum())
            if diff.size:
                max_diff = max(max_diff, float(np.nanmax(np.where(np.isnan(diff), np.inf, diff))))
        metrics = None
        q = t.quant if t.dtype != "float32" else None
        try:
            metrics = compare(
                [_deq(x, q) for x in p], [_deq(x, q) for x in r],
                classifier=None,
            )
        except Exception:  # metrics are a courtesy; the exact comparison above is the verdict
            metrics = None
        result.append(OutputComparison(k, t.name, t.dtype, tuple(int(d) for d in t.shape), max_diff, mismatches,
                                       elements, metrics))
    return tuple(result)


def _deq(values: np.ndarray, q: Any) -> np.ndarray:
    if q is None:
        return values.astype(np.float64)
    return (values.astype(np.float64) - q.zero_point[0]) * q.scale[0]


def validate_host(
    model_path: str | Path,
    n_random: int = 20,
    seed: int = 0,
    input_files: Sequence[str | Path] = (),
    *,
    keep_dir: str | Path | None = None,
    name: str = "network",
) -> ValidationResult:
    """Generate, build and run the cubeai network on the host and compare with TFLM.

    keep_dir: generate there (and keep it) instead of a temporary directory."""
    from mcugen.codegen import generate_cubeai  # noqa: PLC0415
    from mcugen.hostrun import build_host, run_on_host  # noqa: PLC0415
    from mcugen.inputs import make_samples  # noqa: PLC0415
    from mcugen.reference import reference_outputs  # noqa: PLC0415

    graph = load_model(model_path)
    samples = make_samples(graph, input_files, random=n_random, seed=seed)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mcugen-validate-") as tmp:
        out = Path(keep_dir) if keep_dir is not None else Path(tmp) / "project"
        t0 = time.perf_counter()
        generate_cubeai(graph, get_board("host"), out, name=name, force=keep_dir is not None)
        t1 = time.perf_counter()
        build_host(out)
        t2 = time.perf_counter()
        predicted = run_on_host(out, samples) if samples else []
        t3 = time.perf_counter()
        reference = reference_outputs(graph, samples) if samples else []
        t4 = time.perf_counter()
    timings.update(generate=t1 - t0, build=t2 - t1, run=t3 - t2, reference=t4 - t3)
    return ValidationResult(
        model=graph.name, target="host", inputs=len(samples),
        outputs=compare_outputs(graph, predicted, reference), timings=timings,
        project_dir=str(keep_dir) if keep_dir is not None else None,
    )


__all__ = ["OutputComparison", "ValidationResult", "compare_outputs", "validate_host"]
