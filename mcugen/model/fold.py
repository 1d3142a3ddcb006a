"""Constant folding of the shape arithmetic that Keras exports leave behind.

A Keras Reshape/Flatten often exports as SHAPE -> STRIDED_SLICE -> PACK feeding a
RESHAPE's shape input. With static shapes these compute constants, so they are
evaluated here, at load time, and never run on the target.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from mcugen.model.graph import NUMPY_DTYPES, Graph, Operator, Tensor
from mcugen.ops import REGISTRY

FOLDABLE = ("SHAPE", "STRIDED_SLICE", "PACK")


def _shape(op: Operator, ins: list[np.ndarray | None], graph: Graph) -> np.ndarray:
    return np.array(graph.tensors[op.inputs[0]].shape, dtype=np.int64)


def _strided_slice(op: Operator, ins: list[np.ndarray | None], graph: Graph) -> np.ndarray:
    data, begin, end, strides = ins[0], ins[1], ins[2], ins[3]
    if op.option("ellipsis_mask", 0) or op.option("new_axis_mask", 0) or op.option("offset", False):
        raise NotImplementedError("ellipsis/new-axis/offset strided slices are not folded")
    begin_mask = op.option("begin_mask", 0)
    end_mask = op.option("end_mask", 0)
    shrink = op.option("shrink_axis_mask", 0)
    slices: list[slice | int] = []
    for axis in range(len(begin)):
        b = None if begin_mask & (1 << axis) else int(begin[axis])
        e = None if end_mask & (1 << axis) else int(end[axis])
        s = int(strides[axis])
        if shrink & (1 << axis):
            slices.append(int(begin[axis]))
        else:
            slices.append(slice(b, e, s))
    return np.asarray(data[tuple(slices)])


def _pack(op: Operator, ins: list[np.ndarray | None], graph: Graph) -> np.ndarray:
    return np.stack([np.asarray(x) for x in ins], axis=op.option("axis", 0))


_EVAL: dict[str, Callable[[Operator, list, Graph], np.ndarray]] = {
    "SHAPE": _shape,
    "STRIDED_SLICE": _strided_slice,
    "PACK": _pack,
}


def fold_constants(graph: Graph) -> Graph:
    """Evaluate foldable ops whose result is known at load time; drop them from the op list."""
    values: dict[int, np.ndarray] = {t.index: t.data for t in graph.tensors if t.data is not None}
    new_tensors = list(graph.tensors)
    kept: list[Operator] = []
    folded: list[Operator] = []
    graph_outputs = set(graph.outputs)
    for op in graph.operators:
        evaluator = _EVAL.get(op.opcode)
        can_fold = (
            evaluator is not None
            and len(op.outputs) == 1
            and op.outputs[0] not in graph_outputs
            and (op.opcode == "SHAPE" or all(i >= 0 and i in values for i in op.inputs))
        )
        if can_fold:
            out = graph.tensors[op.outputs[0]]
            try:
                result = evaluator(op, [values.get(i) for i in op.inputs], graph)
                np_dtype = NUMPY_DTYPES[out.dtype]
                result = np.asarray(result).astype(np_dtype).reshape(out.shape)
            except (NotImplementedError, ValueError, IndexError, KeyError, TypeError):
                kept.append(op)
                continue
            result.setflags(write=False)
            values[out.index] = result
            new_tensors[out.index] = dataclasses.replace(out, data=result)
            folded.append(op)
        else:
            kept.append(op)
    if not folded:
        return graph
    renumbered = tuple(dataclasses.replace(op, index=i) for i, op in enumerate(kept))
    return dataclasses.replace(
        graph, tensors=tuple(new_tensors), operators=renumbered, folded=tuple(folded)
    )


def propagate_shapes(graph: Graph) -> Graph:
    """Give tensors the converter left partly open (-1 in the shape signature) their real shape.

    With an open batch the converter stores placeholder shapes after a dynamic
    RESHAPE; once the shape ops are folded, the registry's shape rules give the
    real ones, in op order.
    """
    if not any(-1 in t.shape_signature for t in graph.tensors if not t.is_constant):
        return graph
    tensors = list(graph.tensors)
    changed = False
    for op in graph.operators:
        spec = REGISTRY.get(op.opcode)
        if spec is None:
            continue
        current = dataclasses.replace(graph, tensors=tuple(tensors))
        try:
            shapes = spec.infer(current, op)
        except Exception:  # noqa: BLE001  (a malformed op is reported by check_shapes later)
            continue
        for index, shape in zip(op.outputs, shapes):
            t = tensors[index]
            if tuple(shape) != t.shape and -1 in t.shape_signature and len(shape) == len(t.shape_signature):
                tensors[index] = dataclasses.replace(t, shape=tuple(shape))
                changed = True
    return dataclasses.replace(graph, tensors=tuple(tensors)) if changed else graph


def is_foldable(opcode: str) -> bool:
    return opcode in FOLDABLE


__all__ = ["fold_constants", "FOLDABLE", "is_foldable", "Tensor"]
