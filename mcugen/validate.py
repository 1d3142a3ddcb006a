"""Comparing a target's outputs with the TFLM reference, bit for bit (`mcugen validate`,
whose pipeline is mcugen.project.validate).

Next to that verdict, `compare_outputs` gives ST's float-domain figures per output
(acc, rmse, mae, l2r, mean and std of the error, nse, cos; mcugen.metrics) against
the reference, and against the float model the quantized one came from when its
outputs are given (`FloatModel`: the float .tflite through the TFLM interpreter, on
the dequantized inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mcugen.errors import McugenError
from mcugen.metrics import OutputMetrics, compare
from mcugen.model.fold import fold_constants, propagate_shapes
from mcugen.model.graph import NUMPY_DTYPES, Graph, Quantization
from mcugen.model.loader import parse_model, read_model_file
from mcugen.ops.detection import detection_row_outputs
from mcugen.reference import ARENA_SLACK, ReferenceInterpreterError, tflm_runtime


@dataclass(frozen=True)
class OutputComparison:
    """One output of the model, compared over all samples (and ST's figures)."""

    index: int
    shape: tuple[int, ...]
    name: str
    dtype: str
    max_abs_diff: float  # over all samples and elements (integers compared exactly)
    mismatches: int  # elements that differ, over all samples
    elements: int  # elements compared, over all samples
    metrics: OutputMetrics | None = None  # in the float domain, vs the reference
    float_metrics: OutputMetrics | None = None  # the same vs the float model (when one was given)

    @property
    def bit_exact(self) -> bool:
        return self.mismatches == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "dtype": self.dtype, "shape": list(self.shape),
            "max_abs_diff": self.max_abs_diff, "mismatches": self.mismatches, "elements": self.elements,
            "bit_exact": self.bit_exact, "metrics": self.metrics.to_json() if self.metrics is not None else None,
            "metrics_float_model": self.float_metrics.to_json() if self.float_metrics is not None else None,
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
                    reference: Sequence[Sequence[np.ndarray]],
                    float_reference: Sequence[Sequence[np.ndarray]] | None = None) -> tuple[OutputComparison, ...]:
    """Element-wise comparison per output over all samples, with ST's float-domain
    figures against the reference and (float_reference: the float model's outputs)
    against the float model."""

    result = []
    rows_of = detection_row_outputs(graph)
    for k, t in enumerate(graph.output_tensors):
        p = [np.asarray(s[k]) for s in predicted]
        r = [np.asarray(s[k]) for s in reference]
        if k in rows_of:  # detections: only the rows the reference's count says hold one
            counts = [s[rows_of[k]] for s in reference]
            p, r = _detected_rows(p, counts), _detected_rows(r, counts)
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
            kept = [k for k, x in enumerate(r) if x.size]  # a sample without detections has no rows to compare
            metrics = compare(
                [_deq(p[k], q) for k in kept], [_deq(r[k], q) for k in kept],
                classifier=None,
            ) if kept else None
        except Exception:  # metrics are a courtesy; the exact comparison above is the verdict
            metrics = None
        float_metrics = None
        if float_reference is not None:
            f = [np.asarray(s[k], dtype=np.float64) for s in float_reference]
            try:
                f = [y.reshape(x.shape) for x, y in zip(p, f)]
                float_metrics = compare([_deq(x, q) for x in p], f, classifier=None)
            except ValueError:
                float_metrics = None
        result.append(OutputComparison(k, tuple(int(d) for d in t.shape), t.name, t.dtype, max_diff, mismatches,
                                       elements, metrics, float_metrics))
    return tuple(result)


class FloatModel:
    """The float .tflite the quantized `graph` was converted from, run by the TFLM
    interpreter (it runs float models too) on the dequantized inputs; `run(sample)`
    takes a sample of the quantized model and returns float outputs."""

    def __init__(self, path: str | Path, graph: Graph) -> None:
        data = read_model_file(path)
        fg = propagate_shapes(fold_constants(parse_model(data, Path(path).stem)))
        problems = []
        if len(fg.inputs) != len(graph.inputs) or len(fg.outputs) != len(graph.outputs):
            problems.append(f"{len(fg.inputs)} input(s) and {len(fg.outputs)} output(s), the quantized model "
                            f"{len(graph.inputs)} and {len(graph.outputs)}")
        else:
            for kind, a, b in (("input", fg.input_tensors, graph.input_tensors),
                               ("output", fg.output_tensors, graph.output_tensors)):
                for k, (x, y) in enumerate(zip(a, b)):
                    if x.size != y.size:
                        problems.append(f"{kind} {k + 1} has {x.size} elements {list(x.shape)}, the quantized "
                                        f"model's {y.size} {list(y.shape)}")
        if problems:
            raise McugenError(f"The float model {path} does not match '{graph.name}': " + "; ".join(problems) + ".",
                              hint="Give the float .tflite the quantized model was converted from.")
        self.graph, self.float_graph = graph, fg
        arena = sum(t.nbytes for t in fg.tensors if not t.is_constant) + len(data) + ARENA_SLACK
        runtime = tflm_runtime()
        try:
            self.interpreter = runtime.Interpreter.from_bytes(data, arena_size=arena)
            self.interpreter.reset()
        except Exception as exc:
            raise ReferenceInterpreterError(f"The TFLM interpreter cannot load the float model {path}: {exc}") from exc

    def run(self, sample: Sequence[np.ndarray]) -> list[np.ndarray]:
        for k, (array, tq, tf) in enumerate(zip(sample, self.graph.input_tensors, self.float_graph.input_tensors)):
            q = tq.quant if tq.dtype != "float32" else None
            real = _deq(np.asarray(array).reshape(-1), q)
            if tf.dtype == "float32":
                value = real.astype(np.float32)
            else:  # a quantized input on the float side too: quantize with its parameters
                fq = tf.quant
                info = np.iinfo(NUMPY_DTYPES[tf.dtype])
                value = np.clip(np.round(real / fq.scale[0]) + fq.zero_point[0], info.min, info.max)
                value = value.astype(NUMPY_DTYPES[tf.dtype])
            self.interpreter.set_input(np.ascontiguousarray(value.reshape(tf.shape)), k)
        self.interpreter.invoke()
        outs = []
        for k, tf in enumerate(self.float_graph.output_tensors):
            out = np.array(self.interpreter.get_output(k), copy=True)
            outs.append(_deq(out, tf.quant if tf.dtype != "float32" else None))
        return outs


def float_model_outputs(path: str | Path, graph: Graph,
                        samples: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
    """The float model's outputs (float64) for each sample of the quantized model, in order."""
    model = FloatModel(path, graph)
    return [model.run(s) for s in samples]


def _detected_rows(values: list[np.ndarray], counts: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each sample's detection rows up to its count (the rows after it hold nothing defined)."""
    out = []
    for v, c in zip(values, counts):
        if v.ndim < 2:
            out.append(v)
            continue
        n = int(np.clip(np.nan_to_num(np.asarray(c, dtype=np.float64).reshape(-1)[0]), 0, v.shape[1]))
        out.append(np.ascontiguousarray(v[:, :n]))
    return out


def _deq(values: np.ndarray, q: Quantization | None) -> np.ndarray:
    if q is None:
        return values.astype(np.float64)
    return (values.astype(np.float64) - q.zero_point[0]) * q.scale[0]


__all__ = ["FloatModel", "OutputComparison", "ValidationResult", "compare_outputs", "float_model_outputs"]
