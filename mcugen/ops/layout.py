"""Operators that move bytes around: reshapes, padding, concatenation, transposes, shape ops."""

from __future__ import annotations

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import ALIAS, OpSpec, Shape, constant_input, inputs, no_macs, numel


def _target_shape(graph: Graph, op: Operator) -> list[int] | None:
    """RESHAPE's requested shape: the constant shape input, else the new_shape option."""
    if len(op.inputs) > 1 and op.inputs[1] >= 0 and graph.tensors[op.inputs[1]].data is not None:
        return [int(d) for d in graph.tensors[op.inputs[1]].data.reshape(-1)]
    new_shape = op.option("new_shape")
    return [int(d) for d in new_shape] if new_shape else None


def reshape_shape(graph: Graph, op: Operator) -> list[Shape]:
    x = inputs(graph, op, 1)[0]
    target = _target_shape(graph, op) if op.opcode == "RESHAPE" else None
    if target is None:
        out = graph.tensors[op.outputs[0]].shape
    else:
        known = numel(tuple(d for d in target if d != -1))
        if target.count(-1) > 1 or known <= 0:
            raise ValueError(f"reshape target {target} is not a valid shape")
        if -1 in target:
            if numel(x.shape) % known:
                raise ValueError(f"cannot reshape {list(x.shape)} to {target}")
            target = [numel(x.shape) // known if d == -1 else d for d in target]
        out = tuple(target)
    if numel(out) != numel(x.shape):
        raise ValueError(f"reshape from {list(x.shape)} to {list(out)} changes the element count")
    return [out]


def squeeze_shape(graph: Graph, op: Operator) -> list[Shape]:
    shape = inputs(graph, op, 1)[0].shape
    dims = op.option("squeeze_dims", ()) or ()
    if dims:
        drop = {d % len(shape) for d in dims}
        for d in drop:
            if shape[d] != 1:
                raise ValueError(f"cannot squeeze dimension {d} of size {shape[d]}")
    else:
        drop = {i for i, d in enumerate(shape) if d == 1}
    return [tuple(d for i, d in enumerate(shape) if i not in drop)]


def pad_shape(graph: Graph, op: Operator) -> list[Shape]:
    shape = inputs(graph, op, 2)[0].shape
    pads = constant_input(graph, op, 1, "paddings").reshape(-1, 2)
    if len(pads) != len(shape):
        raise ValueError(f"paddings for {len(pads)} dimensions on a rank-{len(shape)} input")
    return [tuple(int(d + p[0] + p[1]) for d, p in zip(shape, pads))]


def concat_shape(graph: Graph, op: Operator) -> list[Shape]:
    ts = inputs(graph, op, 1)
    rank = len(ts[0].shape)
    axis = op.option("axis", 0) % rank
    out = list(ts[0].shape)
    for t in ts[1:]:
        if len(t.shape) != rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, out)) if i != axis):
            raise ValueError("concatenated tensors differ outside the concatenation axis")
        out[axis] += t.shape[axis]
    return [tuple(out)]


def transpose_shape(graph: Graph, op: Operator) -> list[Shape]:
    shape = inputs(graph, op, 2)[0].shape
    perm = [int(p) for p in constant_input(graph, op, 1, "permutation").reshape(-1)]
    if sorted(perm) != list(range(len(shape))):
        raise ValueError(f"permutation {perm} does not fit a rank-{len(shape)} input")
    return [tuple(shape[p] for p in perm)]


def declared_shape(graph: Graph, op: Operator) -> list[Shape]:
    """For ops whose output shape depends on values: trust the model."""
    return [graph.tensors[i].shape for i in op.outputs]


SPECS = [
    OpSpec("RESHAPE", reshape_shape, no_macs, ALIAS),
    OpSpec("SQUEEZE", squeeze_shape, no_macs, ALIAS),
    OpSpec("EXPAND_DIMS", reshape_shape, no_macs, ALIAS),
    OpSpec("PAD", pad_shape, no_macs),
    OpSpec("PADV2", pad_shape, no_macs),
    OpSpec("CONCATENATION", concat_shape, no_macs),
    OpSpec("TRANSPOSE", transpose_shape, no_macs),
    # Shape arithmetic left behind by Keras exports: folded to constants at load time.
    # If one survives (its inputs are not constant), only TFLM can run it.
    OpSpec("SHAPE", declared_shape, no_macs, folded=True),
    # STRIDED_SLICE and PACK, also folded when they can be, are in mcugen.ops.movement.
]
