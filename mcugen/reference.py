"""Golden outputs from the TensorFlow Lite Micro Python interpreter (`tflite-micro`).

The interpreter runs TFLM's reference kernels: the arithmetic the cubeai style
must reproduce bit for bit. `tflite_micro` is imported only when a reference is
asked for, so `inspect`/`estimate` never load it (nor TensorFlow).

Stateful models (SVDF, LSTM) keep their state from one sample to the next, as
the firmware does: the interpreter is reset once, then the samples run in order.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mcugen.errors import McugenError
from mcugen.model.graph import NUMPY_DTYPES, Graph
from mcugen.model.loader import parse_model
from mcugen.ops.detection import tflm_scratch_bytes

ARENA_SLACK = 1 << 20  # bytes on top of every activation tensor: TFLM's own bookkeeping


class ReferenceInterpreterError(McugenError):
    """The reference interpreter is missing or failed."""


def tflm_runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: PLC0415
    except ImportError as exc:
        raise ReferenceInterpreterError(
            "The TFLM reference interpreter (Python package tflite-micro) is not installed.",
            hint="pip install 'mcugen[reference]' (or pip install tflite-micro).",
        ) from exc
    return runtime


def arena_size_for(graph: Graph) -> int:
    """An arena certainly large enough: every non-constant tensor at once, plus slack."""
    total = sum(t.nbytes for t in graph.tensors if not t.is_constant) + tflm_scratch_bytes(graph)
    return total + len(graph.model_bytes) + ARENA_SLACK


class Reference:
    """One interpreter for one model; `run(sample)` returns its outputs."""

    def __init__(self, graph: Graph) -> None:
        runtime = tflm_runtime()
        self.graph = graph
        try:
            self.interpreter = runtime.Interpreter.from_bytes(graph.model_bytes, arena_size=arena_size_for(graph))
            self.interpreter.reset()
            self.tail = None  # operators mcugen appended (graph.tail_model): run after the file, on its outputs
            self.file_outputs = len(graph.outputs)
            if graph.tail_model:
                self.file_outputs = len(parse_model(graph.tail_model, "tail").inputs)
                self.tail = runtime.Interpreter.from_bytes(graph.tail_model, arena_size=arena_size_for(graph))
                self.tail.reset()
        except Exception as exc:  # the extension raises RuntimeError/ValueError with TFLM's log
            raise ReferenceInterpreterError(f"The TFLM reference interpreter cannot load '{graph.name}': {exc}") from exc

    def run(self, sample: Sequence[np.ndarray]) -> list[np.ndarray]:
        graph = self.graph
        if len(sample) != len(graph.inputs):
            raise ReferenceInterpreterError(f"{len(sample)} arrays for a model with {len(graph.inputs)} inputs.")
        try:
            for k, (array, t) in enumerate(zip(sample, graph.input_tensors)):
                data = np.ascontiguousarray(np.asarray(array, dtype=NUMPY_DTYPES[t.dtype]).reshape(t.shape))
                self.interpreter.set_input(data, k)
            self.interpreter.invoke()
            outputs = [np.array(self.interpreter.get_output(k), copy=True) for k in range(self.file_outputs)]
            if self.tail is not None:
                for k, array in enumerate(outputs):
                    self.tail.set_input(array, k)
                self.tail.invoke()
                outputs = [np.array(self.tail.get_output(k), copy=True) for k in range(len(graph.outputs))]
            return outputs
        except ReferenceInterpreterError:
            raise
        except Exception as exc:
            raise ReferenceInterpreterError(f"The TFLM reference interpreter failed on '{graph.name}': {exc}") from exc


def reference_outputs(graph: Graph, samples: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
    """TFLM's outputs for each sample, in order (one interpreter, state carried over)."""
    ref = Reference(graph)
    return [ref.run(s) for s in samples]
