"""Semantic checks on a parsed graph: is it a model mcugen can deploy at all?

Style-specific support (which ops a code generator has kernels for) is the
registry's business (mcugen.ops); here are the rules that hold for every style.
"""

from __future__ import annotations

from mcugen.errors import ModelError
from mcugen.model.graph import Graph, Operator, Tensor
from mcugen.text import quoted

QUANTIZED_TYPES = {"int8", "uint8", "int16", "int32", "int64", "bool"}


def check_tensors(graph: Graph) -> None:
    """Refuse a tensor the graph computes with that has no elements or impossible quantization.

    The loader refused negative dimensions, absurd ranks and overflowing sizes; a zero
    dimension is refused here, for every tensor an operator reads or writes and every
    model input and output. An operator's intermediates (LSTM scratch tensors, of shape
    [0] by design) and tensors nothing uses are left alone."""
    roles: dict[int, str] = {}
    for k, i in enumerate(graph.inputs):
        roles.setdefault(i, f"model input {k + 1}")
    for k, i in enumerate(graph.outputs):
        roles.setdefault(i, f"model output {k + 1}")
    for op in graph.operators:
        for kind, refs in (("input", op.inputs), ("output", op.outputs)):
            for k, i in enumerate(refs):
                if i >= 0:
                    roles.setdefault(i, f"{kind} {k} of operator {op.index} ({op.opcode})")
    for t in graph.tensors:
        if t.index not in roles:
            continue
        if 0 in t.shape:
            raise ModelError(
                f"Tensor {t.index} {quoted(t.name)} ({roles[t.index]}) has no elements: shape {list(t.shape)}.",
                hint="mcugen needs static, non-empty shapes: export the model with a fixed input size and "
                "batch 1; a model that has them is corrupt.",
            )
        q = t.quant
        if q is not None:
            _check_quantization(t, roles[t.index])
        if q is not None and q.per_channel and len(q.scale) != _channels(t.shape, q.axis):
            raise ModelError(
                f"Tensor {t.index} {quoted(t.name)} ({roles[t.index]}) has {len(q.scale)} quantization scales for "
                f"{_channels(t.shape, q.axis)} channels (shape {list(t.shape)}, quantized dimension {q.axis}).",
                hint="Per-channel quantization needs one scale per channel; the file is corrupt.",
            )


# Scales further than this from 1 no quantized model uses, and float32 arithmetic on them
# (value / scale, products of scales) overflows or loses all precision.
_SCALE_RANGE = (1e-30, 1e30)
# Zero points a tensor type can hold (the kernels keep them in that type or in 32 bits).
_ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def _check_quantization(t: Tensor, role: str) -> None:
    """Scales are finite and positive (zero only for constants: a channel of zero weights);
    zero points fit the tensor's type."""
    q = t.quant
    assert q is not None
    low_scale, high_scale = _SCALE_RANGE
    bad_scale = next((s for s in q.scale if not (low_scale <= s <= high_scale or (s == 0 and t.is_constant))), None)
    if bad_scale is not None:
        raise ModelError(f"Tensor {t.index} {quoted(t.name)} ({role}) has the quantization scale {bad_scale!r}.",
                         hint="Quantization scales are positive, finite numbers; the file is corrupt.")
    low, high = _ZERO_POINT_RANGE.get(t.dtype, (-(1 << 31), (1 << 31) - 1))
    bad_zp = next((z for z in q.zero_point if not low <= z <= high), None)
    if bad_zp is not None:
        raise ModelError(f"Tensor {t.index} {quoted(t.name)} ({role}) has the zero point {bad_zp:,}, outside "
                         f"[{low:,}, {high:,}] of its type {t.dtype}.",
                         hint="The file is corrupt; re-export the model.")


def _channels(shape: tuple[int, ...], axis: int) -> int:
    """Channels of a per-channel quantized tensor. The converter gives biases (1-D) the
    quantized dimension of their filter (3 for a depthwise filter): then the channels are its
    elements."""
    if 0 <= axis < len(shape):
        return shape[axis]
    return shape[-1] if len(shape) == 1 else -1


DETECTION_POSTPROCESS = "CUSTOM:TFLite_Detection_PostProcess"


def _name(op: Operator) -> str:
    return f"CUSTOM:{op.custom_code or ''}" if op.opcode == "CUSTOM" else op.opcode


def check_graph(graph: Graph) -> None:
    """Raise ModelError if the graph is empty, float (unquantized) or otherwise undeployable."""
    if not graph.operators:
        raise ModelError(f"Model {quoted(graph.name)} has no operators to run (Subgraph 0's operators is empty).")
    if not graph.inputs or not graph.outputs:
        missing = "inputs" if not graph.inputs else "outputs"
        raise ModelError(f"Model {quoted(graph.name)} declares no {missing} (Subgraph 0's {missing} is empty).")

    producers = graph.producers()
    consumers = graph.consumers()
    graph_inputs = set(graph.inputs)
    float_problems: list[str] = []
    for t in graph.tensors:
        if t.is_constant or t.dtype not in ("float32", "float16", "float64"):
            continue
        if t.index not in producers and t.index not in consumers:
            continue  # dangling tensor, nothing computes with it
        users = [_name(graph.operators[i]) for i in consumers.get(t.index, [])]
        producer = _name(graph.operators[producers[t.index]]) if t.index in producers else None
        # Float is fine only at the edges: a float input consumed by QUANTIZE, a float output
        # produced by DEQUANTIZE; and around TFLM's detection post-processing, which takes
        # dequantized boxes and scores and gives float detections (its outputs are float by definition).
        input_ok = t.index in graph_inputs and all(u == "QUANTIZE" for u in users)
        output_ok = producer in ("DEQUANTIZE", DETECTION_POSTPROCESS) and not users
        detection_ok = producer == "DEQUANTIZE" and bool(users) and all(u == DETECTION_POSTPROCESS for u in users)
        if not (input_ok or output_ok or detection_ok):
            where = f"produced by {producer}" if producer else "a model input"
            float_problems.append(f"tensor {t.index} {quoted(t.name, 40)} ({where})")
    if float_problems:
        shown = ", ".join(float_problems[:5])
        more = f" and {len(float_problems) - 5} more" if len(float_problems) > 5 else ""
        raise ModelError(
            f"Model {quoted(graph.name)} is not fully quantized: float tensors inside the graph: {shown}{more}.",
            hint="Convert with full-integer quantization (TFLiteConverter with a representative dataset and "
            "target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]); float is allowed only "
            "at the inputs (through QUANTIZE) and outputs (through DEQUANTIZE).",
        )

    for kind, refs in (("input", graph.inputs), ("output", graph.outputs)):
        for k, i in enumerate(refs):
            t = graph.tensors[i]
            if t.is_constant:
                raise ModelError(f"Model {kind} {k + 1} is tensor {i} {quoted(t.name)}, a constant.",
                                 hint="A model's inputs and outputs are computed tensors; the file is corrupt.")

    for op in graph.operators:
        for t in graph.op_outputs(op):
            if t.is_constant:
                raise ModelError(f"Operator {op.index} ({op.opcode}) writes to constant tensor {t.index} "
                                 f"{quoted(t.name)}.", hint="The file is corrupt; re-export the model.")
