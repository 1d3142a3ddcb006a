"""Semantic checks on a parsed graph: is it a model mcugen can deploy at all?

Style-specific support (which ops a code generator has kernels for) is the
registry's business (mcugen.ops); here are the rules that hold for every style.
"""

from __future__ import annotations

from mcugen.errors import ModelError
from mcugen.model.graph import Graph

QUANTIZED_TYPES = {"int8", "uint8", "int16", "int32", "int64", "bool"}


def check_graph(graph: Graph) -> None:
    """Raise ModelError if the graph is empty, float (unquantized) or otherwise undeployable."""
    if not graph.operators:
        raise ModelError(f"Model '{graph.name}' has no operators to run.")
    if not graph.inputs or not graph.outputs:
        raise ModelError(f"Model '{graph.name}' declares no inputs or no outputs.")

    producers = graph.producers()
    consumers = graph.consumers()
    graph_inputs = set(graph.inputs)
    float_problems: list[str] = []
    for t in graph.tensors:
        if t.is_constant or t.dtype not in ("float32", "float16", "float64"):
            continue
        if t.index not in producers and t.index not in consumers:
            continue  # dangling tensor, nothing computes with it
        users = [graph.operators[i].opcode for i in consumers.get(t.index, [])]
        producer = graph.operators[producers[t.index]].opcode if t.index in producers else None
        # Float is fine only at the edges: a float input consumed by QUANTIZE,
        # a float output produced by DEQUANTIZE.
        input_ok = t.index in graph_inputs and all(u == "QUANTIZE" for u in users)
        output_ok = producer == "DEQUANTIZE" and not users
        if not (input_ok or output_ok):
            where = f"produced by {producer}" if producer else "a model input"
            float_problems.append(f"'{t.name}' ({where})")
    if float_problems:
        shown = ", ".join(float_problems[:5])
        more = f" and {len(float_problems) - 5} more" if len(float_problems) > 5 else ""
        raise ModelError(
            f"Model '{graph.name}' is not fully quantized: float tensors inside the graph: {shown}{more}.",
            hint="Convert with full-integer quantization (TFLiteConverter with a representative dataset and "
            "target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]); float is allowed only "
            "at the inputs (through QUANTIZE) and outputs (through DEQUANTIZE).",
        )

    for op in graph.operators:
        for t in graph.op_outputs(op):
            if t.is_constant:
                raise ModelError(f"Operator {op.index} ({op.opcode}) writes to constant tensor '{t.name}'.")
