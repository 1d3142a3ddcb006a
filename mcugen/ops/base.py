"""What every registry entry knows about its operator.

An entry answers two questions for the stages after loading: what output shape
the op must produce (checked against the model, and used to fill in shapes the
converter left open), and how many multiply-accumulates it costs. It also tells
the planner how the op's output may share memory with its input. Which styles run
an op is not the registry's to say: the cubeai style runs it when its lowering
succeeds (mcugen.lower), the tflm style when TFLM's resolver registers it
(mcugen.tflm.ops); mcugen.support asks both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mcugen.errors import ModelError
from mcugen.model.graph import Graph, Operator, Tensor

Shape = tuple[int, ...]

STYLES = ("cubeai", "tflm")

# How the planner may place an op's output relative to its first input.
SEPARATE = "separate"  # distinct buffers
ALIAS = "alias"  # the output IS the input's bytes (RESHAPE, SQUEEZE): no code runs
INPLACE = "inplace"  # element i of the output is written after element i of the input is read

# mcugen's own operator, in no .tflite: a run of first layers executed patch by patch (mcugen.patch).
PATCH_STAGE = "MCU_PATCH_STAGE"


@dataclass(frozen=True)
class OpSpec:
    name: str
    infer: Callable[[Graph, Operator], list[Shape]]  # the output shapes the inputs imply
    macs: Callable[[Graph, Operator], int | None]  # None: unknown (generic entries, mcugen.ops.generic)
    memory: str = SEPARATE
    folded: bool = False  # computed at load time when its inputs are known (shape ops)
    note: str = ""


def numel(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def inputs(graph: Graph, op: Operator, count: int | None = None) -> list[Tensor]:
    """The op's present inputs; ModelError if fewer than `count`."""
    ts = [t for t in graph.op_inputs(op) if t is not None]
    if count is not None and len(ts) < count:
        raise ModelError(f"Operator {op.index} ({op.opcode}) has {len(ts)} inputs; it needs {count}.")
    return ts


def constant_input(graph: Graph, op: Operator, position: int, what: str):
    if position >= len(op.inputs) or op.inputs[position] < 0:
        raise ModelError(f"Operator {op.index} ({op.opcode}) lacks its {what} input.")
    t = graph.tensors[op.inputs[position]]
    if t.data is None:
        raise ModelError(
            f"Operator {op.index} ({op.opcode}) has a non-constant {what} ('{t.name}').",
            hint="mcugen needs the shape-like inputs of an op to be constants in the model.",
        )
    return t.data


def conv_out(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """TFLite's output size rule for SAME and VALID padding."""
    effective = (kernel - 1) * dilation + 1
    if stride <= 0 or dilation <= 0:
        raise ValueError("stride and dilation must be positive")
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size - effective + stride) // stride


def broadcast(a: Shape, b: Shape) -> Shape:
    rank = max(len(a), len(b))
    a = (1,) * (rank - len(a)) + tuple(a)
    b = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError(f"shapes {a} and {b} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


def no_macs(graph: Graph, op: Operator) -> int:
    return 0


def same_as_input(graph: Graph, op: Operator) -> list[Shape]:
    return [inputs(graph, op, 1)[0].shape]


def output_elements(graph: Graph, op: Operator) -> int:
    return sum(graph.tensors[i].size for i in op.outputs)
