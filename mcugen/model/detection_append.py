"""`--detection-postprocess SPEC`: an SSD model exported without its TFLite_Detection_PostProcess
(raw box encodings and class scores as outputs, as the SSDLite family ships) gets the op
appended to mcugen's graph (never to the .tflite): a DEQUANTIZE per quantized output, the
op with its options and the anchor table as a constant, and the op's four float outputs
(boxes, classes, scores, count) as the model's outputs.

SPEC is `ssd` (every default) or comma-separated KEY=VALUE items (after `ssd,` or alone):

- anchors=FILE.npy: the anchors, [N, 4] (ycenter, xcenter, h, w); otherwise TF's
  ssd_anchor_generator (mcugen.model.ssd_anchors) with min_scale (0.2), max_scale (0.95),
  aspect_ratios (1:2:0.5:3:0.3333), interpolated_scale_aspect_ratio (1.0),
  reduce_boxes_in_lowest_layer (1) and feature_maps (19x19:10x10:... ; default: the input
  size over strides 16 to 512, a MobileNet SSD's heads);
- the op's options: max_detections (10), max_classes_per_detection (1), detections_per_class
  (100), regular_nms (0), score_threshold (1e-8), iou_threshold (0.6), num_classes (the scores'
  columns minus the background), y_scale, x_scale (10), h_scale, w_scale (5): the TF Object
  Detection API's export defaults;
- boxes=NAME, scores=NAME: the outputs holding the box encodings and the class scores
  (default: of two [1, N, K] outputs, the one with K = 4 holds the boxes);
- score_converter=sigmoid: the scores are logits (TF's raw_outputs/class_predictions): an int8
  LOGISTIC before the op, as TF's export puts it (default identity: the scores as they are).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from mcugen.errors import ModelError
from mcugen.model.check import check_graph
from mcugen.model.graph import Graph, Operator, Quantization, Tensor
from mcugen.model.tail_tflite import tail_tflite
from mcugen.model.ssd_anchors import SsdAnchorParams, default_feature_maps, ssd_anchors
from mcugen.text import printable

CUSTOM_CODE = "TFLite_Detection_PostProcess"
OP_DEFAULTS: dict[str, Any] = {
    "max_detections": 10, "max_classes_per_detection": 1, "detections_per_class": 100, "regular_nms": False,
    "score_threshold": 1e-8, "iou_threshold": 0.6, "y_scale": 10.0, "x_scale": 10.0, "h_scale": 5.0,
    "w_scale": 5.0,
}
_INTS = {"max_detections", "max_classes_per_detection", "detections_per_class", "num_classes"}
_FLOATS = {"score_threshold", "iou_threshold", "y_scale", "x_scale", "h_scale", "w_scale", "min_scale",
           "max_scale", "interpolated_scale_aspect_ratio"}
_BOOLS = {"regular_nms", "reduce_boxes_in_lowest_layer"}
_TEXT = {"anchors", "boxes", "scores", "aspect_ratios", "feature_maps", "score_converter"}
SCORE_CONVERTERS = ("identity", "sigmoid")
HINT = ("SPEC is `ssd` or KEY=VALUE items separated by commas, e.g. "
        "anchors=anchors.npy,max_detections=20 or feature_maps=20x20:10x10:5x5:3x3:2x2:1x1 (docs/detection.md).")


def _error(message: str) -> ModelError:
    return ModelError(f"--detection-postprocess: {message}", hint=HINT)


def parse_spec(spec: str) -> dict[str, Any]:
    """The SPEC's items, typed; ModelError naming a malformed or unknown one."""
    items: dict[str, Any] = {}
    if spec.strip() in ("", "ssd", "default"):
        return items
    for item in spec.split(","):
        if item.strip() in ("ssd", "default"):  # `ssd,max_detections=5`: the defaults, one changed
            continue
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not value:
            raise _error(f"'{printable(item, 60)}' is not KEY=VALUE.")
        try:
            if key in _INTS:
                items[key] = int(value)
            elif key in _FLOATS:
                items[key] = float(value)
            elif key in _BOOLS:
                if value.lower() not in ("0", "1", "true", "false"):
                    raise ValueError(value)
                items[key] = value.lower() in ("1", "true")
            elif key in _TEXT:
                items[key] = value
            else:
                raise _error(f"unknown key '{printable(key, 40)}'.")
        except ValueError:
            raise _error(f"{key}={printable(value, 40)} is not a valid value.") from None
    return items


def _ratios(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(":"))
    except ValueError:
        raise _error(f"aspect_ratios={printable(text, 60)}: give ratios separated by ':', e.g. 1:2:0.5") from None


def _grids(text: str) -> tuple[tuple[int, int], ...]:
    try:
        grids = tuple((int(h), int(w)) for h, w in (g.lower().split("x") for g in text.split(":")))
    except ValueError:
        raise _error(f"feature_maps={printable(text, 60)}: give HxW grids separated by ':', e.g. 19x19:10x10") from None
    if not grids or any(h < 1 or w < 1 for h, w in grids):
        raise _error(f"feature_maps={printable(text, 60)}: every grid needs at least one cell.")
    return grids


def anchor_table(graph: Graph, items: dict[str, Any]) -> np.ndarray:
    """The anchors: the .npy file, or TF's SSD generator from the items (defaults from the input size)."""
    if "anchors" in items:
        path = Path(items["anchors"])
        try:
            table = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise _error(f"cannot read the anchors {printable(str(path), 120)} ({exc}).") from exc
        if table.ndim != 2 or table.shape[1] != 4 or not np.all(np.isfinite(table)):
            raise _error(f"the anchors in {printable(str(path), 120)} are {list(table.shape)}: [N, 4] finite "
                         "(ycenter, xcenter, h, w) expected.")
        return np.ascontiguousarray(table, dtype=np.float32)
    grids = _grids(items["feature_maps"]) if "feature_maps" in items else None
    if grids is None:
        shape = graph.input_tensors[0].shape if graph.inputs else ()
        if len(shape) != 4:
            raise _error("no feature_maps given and the input is not an NHWC image to derive them from.")
        grids = default_feature_maps(int(shape[1]), int(shape[2]))
    params = SsdAnchorParams(
        grids, items.get("min_scale", 0.2), items.get("max_scale", 0.95),
        _ratios(items["aspect_ratios"]) if "aspect_ratios" in items else SsdAnchorParams.aspect_ratios,
        items.get("interpolated_scale_aspect_ratio", 1.0), items.get("reduce_boxes_in_lowest_layer", True))
    return ssd_anchors(params)


def _find_output(graph: Graph, name: str, what: str) -> Tensor:
    for t in graph.output_tensors:
        if t.name == name:
            return t
    names = ", ".join(printable(t.name, 60) for t in graph.output_tensors)
    raise _error(f"{what}={printable(name, 60)} is not an output of the model (its outputs: {names}).")


def head_outputs(graph: Graph, items: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """(box encodings, class scores): the named outputs, or of two [1, N, K] outputs the one with K = 4."""
    if "boxes" in items or "scores" in items:
        if not ("boxes" in items and "scores" in items):
            raise _error("give both boxes=NAME and scores=NAME.")
        return _find_output(graph, items["boxes"], "boxes"), _find_output(graph, items["scores"], "scores")
    outs = graph.output_tensors
    boxes = [t for t in outs if len(t.shape) == 3 and t.shape[2] == 4]
    if len(outs) != 2 or len(boxes) != 1:
        names = ", ".join(f"{printable(t.name, 60)} {list(t.shape)}" for t in outs)
        raise _error(f"cannot tell the box encodings from the class scores among the outputs ({names}): "
                     "name them with boxes=NAME,scores=NAME.")
    return boxes[0], next(t for t in outs if t is not boxes[0])


def append_detection_postprocess(graph: Graph, spec: str) -> Graph:
    """The graph with TFLite_Detection_PostProcess appended to its box and score outputs."""
    items = parse_spec(spec)
    boxes, scores = head_outputs(graph, items)
    for t, what in ((boxes, "box encodings"), (scores, "class scores")):
        if len(t.shape) != 3 or t.shape[0] != 1:
            raise _error(f"the {what} output '{printable(t.name, 60)}' is {list(t.shape)}, not [1, N, K].")
        if t.dtype not in ("int8", "uint8", "float32"):
            raise _error(f"the {what} output '{printable(t.name, 60)}' is {t.dtype} (int8, uint8 or float32).")
    n = int(boxes.shape[1])
    if scores.shape[1] != n or boxes.shape[2] < 4:
        raise _error(f"box encodings {list(boxes.shape)} and class scores {list(scores.shape)} do not pair up.")
    anchors = anchor_table(graph, items)
    if anchors.shape[0] != n:
        raise _error(f"{anchors.shape[0]} anchors for {n} boxes: give the model's anchors (anchors=FILE.npy) or "
                     "its feature_maps and scales.")
    options = {**OP_DEFAULTS, **{k: v for k, v in items.items() if k in OP_DEFAULTS}}
    num_classes = items.get("num_classes", int(scores.shape[2]) - 1)
    op_options = {
        "max_detections": options["max_detections"], "max_classes_per_detection": options["max_classes_per_detection"],
        "detections_per_class": options["detections_per_class"], "use_regular_nms": bool(options["regular_nms"]),
        "nms_score_threshold": options["score_threshold"], "nms_iou_threshold": options["iou_threshold"],
        "num_classes": num_classes, "y_scale": options["y_scale"], "x_scale": options["x_scale"],
        "h_scale": options["h_scale"], "w_scale": options["w_scale"],
    }
    tensors = list(graph.tensors)
    ops = list(graph.operators)

    def add_tensor(name: str, shape: tuple[int, ...], data: np.ndarray | None = None) -> int:
        tensors.append(Tensor(len(tensors), name, shape, "float32", None, data))
        return len(tensors) - 1

    def as_float(t: Tensor) -> int:
        if t.dtype == "float32":
            return t.index
        f = add_tensor(f"{t.name}/dequantized", t.shape)
        ops.append(Operator(len(ops), "DEQUANTIZE", (t.index,), (f,)))
        return f

    converter = items.get("score_converter", "identity")
    if converter not in SCORE_CONVERTERS:
        raise _error(f"score_converter={printable(converter, 40)}: use identity or sigmoid.")
    if converter == "sigmoid":  # raw logits (raw_outputs/class_predictions): TF's convert_scores, int8 LOGISTIC
        if scores.dtype != "int8":
            raise _error(f"score_converter=sigmoid takes int8 scores, not {scores.dtype}.")
        tensors.append(Tensor(len(tensors), f"{scores.name}/sigmoid", scores.shape, "int8",
                              Quantization((1.0 / 256,), (-128,))))  # TFLM's int8 LOGISTIC output
        ops.append(Operator(len(ops), "LOGISTIC", (scores.index,), (len(tensors) - 1,)))
        scores = tensors[-1]
    ins = (as_float(boxes), as_float(scores), add_tensor("anchors", anchors.shape, anchors))
    rows = int(options["max_detections"]) * int(options["max_classes_per_detection"])
    outs = (add_tensor("detection_boxes", (1, rows, 4)), add_tensor("detection_classes", (1, rows)),
            add_tensor("detection_scores", (1, rows)), add_tensor("num_detections", (1,)))
    ops.append(Operator(len(ops), "CUSTOM", ins, outs, MappingProxyType(op_options), custom_code=CUSTOM_CODE))
    appended = dataclasses.replace(graph, tensors=tuple(tensors), operators=tuple(ops), outputs=outs,
                                   description=(graph.description + " + " if graph.description else "")
                                   + "TFLite_Detection_PostProcess appended by mcugen")
    check_graph(appended)
    # the reference runs the file, then these operators alone (TFLM's kernel) on its outputs
    tail = tail_tflite(appended, graph.outputs, ops[len(graph.operators):])
    return dataclasses.replace(appended, tail_model=tail)


ANCHORS_COPY = "anchors.npy"  # the anchors file, copied into a generated project


def _with_anchors(spec: str, path: str) -> str:
    items = [i for i in spec.split(",") if i.strip() and not i.strip().startswith("anchors=")]
    return ",".join([*items, f"anchors={path}"])


def spec_for_project(spec: str) -> tuple[str, dict[str, bytes]]:
    """The spec a project's manifest keeps and the files it needs: an anchors file is copied
    in (anchors.npy), so measuring the project later finds it wherever the project went."""
    items = parse_spec(spec)
    if "anchors" not in items:
        return spec, {}
    path = Path(items["anchors"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _error(f"cannot read the anchors {printable(str(path), 120)} ({exc}).") from exc
    return _with_anchors(spec, ANCHORS_COPY), {ANCHORS_COPY: data}


def spec_in_project(spec: str, project_dir: Path) -> str:
    """A manifest's spec with its anchors file found in the project directory."""
    items = parse_spec(spec)
    return _with_anchors(spec, str(project_dir / items["anchors"])) if "anchors" in items else spec


__all__ = ["ANCHORS_COPY", "append_detection_postprocess", "anchor_table", "head_outputs", "parse_spec",
           "spec_for_project", "spec_in_project"]
