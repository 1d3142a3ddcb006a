"""TFLite_Detection_PostProcess (SSD detectors' last op): float box encodings and class scores
(from DEQUANTIZE), the anchors a constant array, four float outputs. The op's parameters are
its custom options (mcugen.model.custom); TFLM's Init and Prepare checks are made here, the
rest in firmware/kernels/mcu_detection_postprocess_f32.c."""

from __future__ import annotations

import numpy as np

from mcugen.lower.call import ConstArray, KernelCall, StructParam, check_dtype, const_data, in_tensor, out_tensor
from mcugen.lower.call import require
from mcugen.model.graph import Graph, Operator
from mcugen.ops.detection import DETECTION_POSTPROCESS

DEFAULT_DETECTIONS_PER_CLASS = 100  # TFLM's kNumDetectionsPerClass when the option is absent


def _number(op: Operator, name: str, kind: type, default: object = None) -> object:
    value = op.option(name, default)
    ok = isinstance(value, bool) if kind is bool else (isinstance(value, (int, float)) and not isinstance(value, bool))
    require(ok, f"custom option {name} is missing or not a {kind.__name__}")
    return kind(value)


def detection_params(graph: Graph, op: Operator) -> dict[str, object]:
    """mcu_detection_params' fields, from the op's options and its tensors' shapes."""
    boxes = in_tensor(graph, op, 0, "box encodings")
    scores = in_tensor(graph, op, 1, "class scores")
    anchors = in_tensor(graph, op, 2, "anchors")
    require(len(boxes.shape) == 3 and len(scores.shape) == 3 and len(anchors.shape) == 2,
            "box encodings and scores must be 3-D, the anchors 2-D")
    num_boxes = int(boxes.shape[1])
    require(boxes.shape[0] == 1 and scores.shape[0] == 1, "batch size must be 1 (as TFLM)")
    require(boxes.shape[2] >= 4, "box encodings need at least 4 values per box")
    require(scores.shape[1] == num_boxes, "class scores and box encodings differ in the number of boxes")
    require(tuple(anchors.shape) == (num_boxes, 4), f"anchors must be [{num_boxes}, 4]")
    p = {
        "num_boxes": num_boxes, "box_stride": int(boxes.shape[2]),
        "num_classes": _number(op, "num_classes", int),
        "num_classes_with_background": int(scores.shape[2]),
        "max_detections": _number(op, "max_detections", int),
        "max_classes_per_detection": _number(op, "max_classes_per_detection", int),
        "detections_per_class": _number(op, "detections_per_class", int, DEFAULT_DETECTIONS_PER_CLASS),
        "use_regular_nms": int(_number(op, "use_regular_nms", bool, False)),
        "score_threshold": _number(op, "nms_score_threshold", float),
        "iou_threshold": _number(op, "nms_iou_threshold", float),
        "y_scale": _number(op, "y_scale", float), "x_scale": _number(op, "x_scale", float),
        "h_scale": _number(op, "h_scale", float), "w_scale": _number(op, "w_scale", float),
    }
    for key, value in p.items():  # the C struct's int32 fields; floats as float32 (inf/nan refused)
        if isinstance(value, int):
            require(-(2**31) <= value < 2**31, f"custom option {key} = {value} is out of the int32 range")
        else:
            require(bool(np.isfinite(np.float32(value))), f"custom option {key} = {value} is not a finite float32")
    extra = p["num_classes_with_background"] - p["num_classes"]
    require(extra in (0, 1), f"{p['num_classes_with_background']} score columns for {p['num_classes']} classes "
            "(TFLM takes the classes, or one more for the background)")
    require(p["num_classes"] > 0 and p["max_detections"] >= 0, "num_classes must be > 0, max_detections >= 0")
    require(0.0 < float(np.float32(p["iou_threshold"])) <= 1.0, "nms_iou_threshold must be in (0, 1]")
    if p["use_regular_nms"]:
        require(p["detections_per_class"] > 0, "detections_per_class must be > 0")
    else:
        require(p["max_classes_per_detection"] > 0, "max_classes_per_detection must be > 0")
        # TFLM's fast path steps its output row once per class and again per anchor (row k*r + c,
        # r counting classes too): past its outputs for k > 1. Nothing defined to match.
        require(p["max_classes_per_detection"] == 1, "fast NMS with max_classes_per_detection > 1: TFLM's kernel "
                "writes those rows past its outputs (use the tflm style, or regular NMS)")
    return p


def scratch_bytes(p: dict[str, object]) -> int:
    """mcu_detection_postprocess_get_buffer_size's words, as the C computes them."""
    n, m = int(p["num_boxes"]), int(p["max_detections"])
    return (4 * n + 7 * n + 3 * (m + n) + 2 * m) * 4


def lower_detection_postprocess(graph: Graph, op: Operator) -> KernelCall:
    p = detection_params(graph, op)
    for k, what in enumerate(("box encodings", "class scores", "anchors")):
        check_dtype(in_tensor(graph, op, k, what), ("float32",), what)
    require(len(op.outputs) == 4, "the op has four outputs (boxes, classes, scores, count)")
    rows = int(p["max_detections"]) * int(p["max_classes_per_detection"])
    for k, shape in enumerate(((1, rows, 4), (1, rows), (1, rows), (1,))):
        out = out_tensor(graph, op, k)
        check_dtype(out, ("float32",), "output")
        require(out.size == int(np.prod(shape)), f"output {k} holds {out.size} values, not {int(np.prod(shape))}")
    anchors = in_tensor(graph, op, 2, "anchors")
    table = np.ascontiguousarray(const_data(anchors, "the anchors"), dtype=np.float32).reshape(-1)
    constants = (ConstArray("anchors", "float", table, True, f"'{anchors.name}' {list(anchors.shape)} "
                            "(ycenter, xcenter, h, w)"),)
    kernel = "mcu_detection_postprocess_f32"
    setup = "const mcu_context ctx = { $scratch, $scratch_size };"
    call = (f"{kernel}(&ctx, &$s_params, (const float *)$in0, (const float *)$in1, $c_anchors, "
            "(float *)$out0, (float *)$out1, (float *)$out2, (float *)$out3)")
    nms = "regular NMS" if p["use_regular_nms"] else "fast NMS"
    return KernelCall(op.index, op.opcode, kernel, ("mcu_detection_postprocess_f32.c",), tuple(op.inputs[:2]),
                      tuple(op.outputs), call, setup=setup, constants=constants,
                      structs=(StructParam("params", "mcu_detection_params", p),), scratch_bytes=scratch_bytes(p),
                      summary=f"{p['num_boxes']} anchors, {p['num_classes']} classes, {nms}, "
                      f"at most {p['max_detections']} detections")


LOWERINGS = {
    DETECTION_POSTPROCESS: lower_detection_postprocess,
}
