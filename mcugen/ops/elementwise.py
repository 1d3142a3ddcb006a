"""Element-by-element operators: arithmetic, activations, (de)quantization, softmax."""

from __future__ import annotations

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import INPLACE, SEPARATE, OpSpec, Shape, broadcast, inputs, no_macs, output_elements, same_as_input

BOTH = frozenset({"cubeai", "tflm"})


def binary_shape(graph: Graph, op: Operator) -> list[Shape]:
    a, b = inputs(graph, op, 2)[:2]
    return [broadcast(a.shape, b.shape)]


def _same_bytes_inplace(name: str, resolver: str) -> OpSpec:
    return OpSpec(name, same_as_input, no_macs, BOTH, INPLACE, tflm_resolver=resolver)


SPECS = [
    # Binary ops read both inputs at element i before writing element i; the planner
    # lets the output take over an input of the same size and type.
    OpSpec("ADD", binary_shape, output_elements, BOTH, INPLACE, tflm_resolver="AddAdd"),
    OpSpec("MUL", binary_shape, output_elements, BOTH, INPLACE, tflm_resolver="AddMul"),
    OpSpec("SUB", binary_shape, output_elements, frozenset({"tflm"}), SEPARATE, tflm_resolver="AddSub"),
    _same_bytes_inplace("RELU", "AddRelu"),
    _same_bytes_inplace("RELU6", "AddRelu6"),
    _same_bytes_inplace("LOGISTIC", "AddLogistic"),
    _same_bytes_inplace("HARD_SWISH", "AddHardSwish"),
    OpSpec("TANH", same_as_input, no_macs, frozenset({"tflm"}), SEPARATE, tflm_resolver="AddTanh"),
    OpSpec("LEAKY_RELU", same_as_input, no_macs, frozenset({"tflm"}), SEPARATE, tflm_resolver="AddLeakyRelu"),
    # Softmax reads a whole row (max, then sum of exponentials) before writing it.
    OpSpec("SOFTMAX", same_as_input, output_elements, BOTH, SEPARATE, tflm_resolver="AddSoftmax"),
    # In place only when the element size does not change (checked by the planner).
    OpSpec("QUANTIZE", same_as_input, no_macs, BOTH, INPLACE, tflm_resolver="AddQuantize"),
    OpSpec("DEQUANTIZE", same_as_input, no_macs, BOTH, SEPARATE, tflm_resolver="AddDequantize"),
]
