"""The model: mcugen's graph IR (mcugen.model.graph) and its loading from a .tflite file
(mcugen.model.load: parse, fold the shape ops, propagate shapes, check).

The package exports the IR types only: loading uses the operator registry's shape
rules (mcugen.ops), which are themselves written against the IR.
"""

from mcugen.model.graph import Graph, Operator, Quantization, Tensor, c_identifier

__all__ = ["Graph", "Operator", "Quantization", "Tensor", "c_identifier"]
