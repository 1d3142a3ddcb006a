"""Element-by-element operators: arithmetic, activations, (de)quantization, softmax."""

from __future__ import annotations

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import INPLACE, OpSpec, Shape, broadcast, inputs, no_macs, output_elements, same_as_input


def binary_shape(graph: Graph, op: Operator) -> list[Shape]:
    a, b = inputs(graph, op, 2)[:2]
    return [broadcast(a.shape, b.shape)]


def _same_bytes_inplace(name: str) -> OpSpec:
    return OpSpec(name, same_as_input, no_macs, INPLACE)


SPECS = [
    # Binary ops read both inputs at element i before writing element i; the planner
    # lets the output take over an input of the same size and type.
    OpSpec("ADD", binary_shape, output_elements, INPLACE),
    OpSpec("MUL", binary_shape, output_elements, INPLACE),
    OpSpec("SUB", binary_shape, output_elements),
    OpSpec("MAXIMUM", binary_shape, output_elements),
    OpSpec("MINIMUM", binary_shape, output_elements),
    OpSpec("SQUARED_DIFFERENCE", binary_shape, output_elements),
    # PRELU's second input is alpha, broadcast against the input.
    OpSpec("PRELU", binary_shape, output_elements),
    _same_bytes_inplace("RELU"),
    _same_bytes_inplace("RELU6"),
    _same_bytes_inplace("LOGISTIC"),
    _same_bytes_inplace("HARD_SWISH"),
    OpSpec("TANH", same_as_input, no_macs),
    OpSpec("LEAKY_RELU", same_as_input, no_macs),
    OpSpec("ABS", same_as_input, no_macs),
    OpSpec("RSQRT", same_as_input, no_macs),
    # Softmax reads a whole row (max, then sum of exponentials) before writing it.
    OpSpec("SOFTMAX", same_as_input, output_elements),
    # In place only when the element size does not change (checked by the planner).
    OpSpec("QUANTIZE", same_as_input, no_macs, INPLACE),
    OpSpec("DEQUANTIZE", same_as_input, no_macs),
]
