"""TFLite_Detection_PostProcess, the custom operator ending SSD detectors: box decoding against
the anchors and non-maximum suppression, float in and float out (TFLM's
micro/kernels/detection_postprocess.cc). Its parameters are the custom options
(mcugen.model.custom)."""

from __future__ import annotations

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import OpSpec, Shape, inputs

DETECTION_POSTPROCESS = "CUSTOM:TFLite_Detection_PostProcess"


def _int_option(op: Operator, name: str) -> int:
    value = op.option(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"custom option {name} is missing or not an integer")
    return value


def detection_shape(graph: Graph, op: Operator) -> list[Shape]:
    """TFLite's Prepare: boxes [1, max_detections x max_classes_per_detection, 4], classes and
    scores [1, that], the count [1]."""
    boxes, scores, anchors = inputs(graph, op, 3)[:3]
    if len(boxes.shape) != 3 or len(scores.shape) != 3 or len(anchors.shape) != 2:
        raise ValueError("box encodings and class scores must be 3-D, the anchors 2-D")
    n = _int_option(op, "max_detections") * _int_option(op, "max_classes_per_detection")
    return [(1, n, 4), (1, n), (1, n), (1,)]


def detection_macs(graph: Graph, op: Operator) -> int:
    """The box decoding's multiplies (4 per anchor) and one IoU (3 multiplies) per pair of kept
    anchors in the worst case: the sort and compares are not MACs."""
    num_boxes = graph.tensors[op.inputs[0]].shape[1]
    return 4 * num_boxes + 3 * num_boxes * (num_boxes - 1) // 2


SPECS = [OpSpec(DETECTION_POSTPROCESS, detection_shape, detection_macs)]


def detection_row_outputs(graph: Graph) -> dict[int, int]:
    """{position of a boxes/classes/scores output among the model's outputs: position of its op's
    count output} for the detection ops whose count is a model output. Rows at or past the count
    hold no detection: TFLM's fast NMS leaves them as the arena had them, so a comparison skips them."""
    position = {t: k for k, t in enumerate(graph.outputs)}
    found: dict[int, int] = {}
    for op in graph.operators:
        if op.opcode != "CUSTOM" or f"CUSTOM:{op.custom_code}" != DETECTION_POSTPROCESS or len(op.outputs) != 4:
            continue
        count = position.get(op.outputs[3])
        if count is not None:
            found.update({position[t]: count for t in op.outputs[:3] if t in position})
    return found


def tflm_scratch_bytes(graph: Graph) -> int:
    """The scratch TFLM's detection ops request in Prepare (detection_postprocess.cc, eleven
    buffers: up to max(num_classes, max_detections) x anchors ints), summed: an arena sized from
    the tensors alone misses it (the reference interpreter's, mcugen.reference)."""
    total = 0
    for op in graph.operators:
        if op.opcode != "CUSTOM" or f"CUSTOM:{op.custom_code}" != DETECTION_POSTPROCESS or len(op.inputs) < 2:
            continue
        scores = graph.tensors[op.inputs[1]].shape
        n = int(scores[1]) if len(scores) == 3 else 0
        det = int(op.option("max_detections", 0) or 0)
        classes = int(op.option("num_classes", 0) or 0)
        total += n + 16 * n + n * (int(scores[2]) if len(scores) == 3 else 0) * 4 + 3 * 4 * n
        total += 3 * det * n * 4 + max(classes, det) * n * 4 + min(n, det) * n * 4 + 11 * 16  # + alignment
    return total
