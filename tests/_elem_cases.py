"""The bit-exact check of the element-wise and reduction kernels, shared by
tests/test_binary.py, test_unary.py and test_reduce.py: one single-op model per case
(tests/tfops_elem.py ELEM_CASES), generated in the cubeai style, run on the host on 20 random
inputs, every output element equal to TFLM's; CHECKS make sure the converter produced the
variant a case is named after (broadcasting, a fused activation, a negative axis, ...)."""

from __future__ import annotations

from pathlib import Path

from _cubeai import check_bit_exact
from tfmodels import cached_model
from tfops import Case
from tfops_elem import ELEM_CASES

from mcugen.model.graph import Graph, Operator
from mcugen.model.load import load_model


def _shapes_differ(g: Graph, op: Operator) -> bool:
    return tuple(g.tensors[op.inputs[0]].shape) != tuple(g.tensors[op.inputs[1]].shape)


def _second_constant(g: Graph, op: Operator) -> bool:
    return g.tensors[op.inputs[1]].data is not None and _shapes_differ(g, op)


def _negative_axis(g: Graph, op: Operator) -> bool:
    return bool((g.tensors[op.inputs[1]].data < 0).any())


def _input_zero_point(g: Graph, op: Operator) -> bool:
    return int(g.tensors[op.inputs[0]].quant.zero_point[0]) != 0


def _table(g: Graph, op: Operator) -> bool:
    return g.tensors[op.inputs[0]].size > 512


CHECKS = {
    "sub_tables": lambda g, op: g.tensors[op.outputs[0]].size > 1024 and _shapes_differ(g, op),
    "sqdiff_tables": lambda g, op: g.tensors[op.outputs[0]].size > 1024,
    "tanh_table": _table,
    "leaky_relu_table": _table,
    "abs_table": _table,
    "abs": _input_zero_point,
    "leaky_relu": _input_zero_point,
    "prelu_channels": lambda g, op: _input_zero_point(g, op) and g.tensors[op.inputs[1]].size == 7,
    "reduce_max": _input_zero_point,
    "sum": _input_zero_point,
    "sub_relu": lambda g, op: op.option("fused_activation_function") == "RELU",
    "sub_broadcast_rows": lambda g, op: _shapes_differ(g, op) and _input_zero_point(g, op),
    "sub_const_channels": _second_constant,
    "sub_broadcast_5d": lambda g, op: len(g.tensors[op.outputs[0]].shape) == 5 and _shapes_differ(g, op),
    "maximum_broadcast": _shapes_differ,
    "minimum_const": _second_constant,
    "sqdiff_broadcast": _shapes_differ,
    "prelu_shared_h": _shapes_differ,
    "leaky_relu_steep": lambda g, op: op.option("alpha") > 1.0,
    "leaky_relu_negative_alpha": lambda g, op: op.option("alpha") < 0,
    "reduce_max_neg_axes_keepdims": lambda g, op: _negative_axis(g, op) and bool(op.option("keep_dims")),
    "sum_keepdims_two_axes": lambda g, op: _negative_axis(g, op) and bool(op.option("keep_dims")),
    "arg_max_last": _negative_axis,
}


def cases(opcodes) -> list[Case]:
    return [c for c in ELEM_CASES if c[3] in opcodes]


def check_case(case: Case, tmp_path: Path) -> None:
    cid, builder, kwargs, opcode = case
    graph = load_model(cached_model(cid, builder, **kwargs))
    ops = [op for op in graph.operators if op.opcode == opcode]
    assert ops, f"{cid}: the converter produced {graph.opcodes}, not {opcode}"
    if cid in CHECKS:
        assert any(CHECKS[cid](graph, op) for op in ops), f"{cid}: the {opcode} is not the intended variant"
    check_bit_exact(graph, tmp_path / cid, n=20)
