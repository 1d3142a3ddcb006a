"""TFLite_Detection_PostProcess in the cubeai style (mcugen/lower/detection.py,
firmware/kernels/mcu_detection_postprocess_f32.c, mcugen/ops/detection.py).

SSD-style models built with TensorFlow's schema API (tests/_tflm_models.py): int8 box encodings
and class scores -> DEQUANTIZE -> the custom op with its flexbuffer options. Fast and regular
NMS, with and without the background column, wider box encodings, many anchors, many tied
scores; generated in the cubeai style, compiled with the host cc and run on 20 inputs: the
detections equal the tflite-micro interpreter's bit for bit (rows past the count are the
detections TFLM's fast path leaves unwritten: not compared). A sample runs on qemu-m7."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from _tflm_models import detection_postprocess  # noqa: E402

from mcugen import project  # noqa: E402
from mcugen.errors import ModelError  # noqa: E402
from mcugen.inputs import make_samples  # noqa: E402
from mcugen.lower import unsupported_ops  # noqa: E402
from mcugen.mapfile import PROJECT_GROUPS, group_usage, usage_by_file  # noqa: E402
from mcugen.model.custom import decode_custom_options  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.options import GenerateOptions  # noqa: E402
from mcugen.validate import compare_outputs  # noqa: E402

CASES = {
    "fast": {},
    "fast_few": dict(score_threshold=0.9, anchors=30, max_detections=8),  # often fewer detections than rows
    "fast_no_background": dict(background=False, classes=5, anchors=21, iou_threshold=0.2),
    "regular": dict(regular_nms=True, anchors=40, classes=5, max_detections=6, detections_per_class=3),
    "regular_rows": dict(regular_nms=True, classes_per_detection=3, classes=4, anchors=25, max_detections=4,
                         background=False),  # 12 output rows, regular NMS fills 4
    "regular_wide_boxes": dict(box_values=6, regular_nms=True, score_threshold=0.95, anchors=33, iou_threshold=0.3),
    "regular_many": dict(regular_nms=True, anchors=301, classes=6, max_detections=20, detections_per_class=10,
                         score_threshold=0.5, iou_threshold=0.4),
    "fast_many": dict(anchors=257, classes=3, max_detections=17, score_threshold=0.2, iou_threshold=0.35),
}


def _model(tmp_path, name, **kwargs):
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(detection_postprocess(**{**CASES[name], **kwargs}))
    return load_model(path)


@pytest.mark.parametrize("name", list(CASES))
def test_detection_postprocess_bit_exact_on_host(name, tmp_path):
    graph = _model(tmp_path, name)
    assert not unsupported_ops(graph), unsupported_ops(graph)
    _, predicted, reference = check_bit_exact(graph, tmp_path / "p", n=20)
    counts = [int(r[3][0]) for r in reference]
    assert all(int(p[3][0]) == c for p, c in zip(predicted, counts))
    assert max(counts) > 0  # detections were made (the comparison is not over empty rows)


@pytest.mark.parametrize("name", ["fast_many", "regular_many"])
def test_tied_scores_keep_tflm_order(name, tmp_path):
    """Scores of only three levels: most candidates tie, the order (decreasing score, the lower
    anchor first, TFLM's stable sort and partial sort) decides which boxes survive."""
    graph = _model(tmp_path, name)
    rng = np.random.default_rng(3)
    samples = []
    for boxes, scores in make_samples(graph, random=10, seed=4):
        levels = rng.choice(np.array([-128, 40, 90], dtype=np.int8), size=scores.shape)
        samples.append([boxes, levels.astype(np.int8)])
    _, _, reference = check_bit_exact(graph, tmp_path / "p", samples=samples)
    assert min(int(r[3][0]) for r in reference) > 1


def test_fewer_detections_leave_rows_tflm_does_not_write(tmp_path):
    """TFLM's fast NMS leaves the rows past the count as they were; the comparison takes only the
    counted rows, and still catches a difference inside them."""
    graph = _model(tmp_path, "fast_few")
    samples = make_samples(graph, random=6, seed=1)
    _, predicted, reference = check_bit_exact(graph, tmp_path / "p", samples=samples)
    k = next(i for i, r in enumerate(reference) if 0 < int(r[3][0]) < 8)
    assert np.all(predicted[k][0][0, int(reference[k][3][0]):] == 0)  # mcugen zeroes the rows past the count
    changed = [list(map(np.copy, s)) for s in predicted]
    changed[k][2][0, int(reference[k][3][0]) - 1] += 0.25
    comparison = compare_outputs(graph, changed, reference)
    assert not comparison[2].bit_exact and comparison[0].bit_exact


def test_fast_nms_with_several_classes_per_detection_is_refused(tmp_path):
    """TFLM's fast path writes row k*r + c with r counting classes: beyond its outputs when k > 1."""
    graph = _model(tmp_path, "fast", classes_per_detection=2)
    bad = unsupported_ops(graph)
    assert len(bad) == 1 and bad[0].index == 2 and "max_classes_per_detection" in bad[0].reason


def test_damaged_custom_options_are_a_model_error():
    with pytest.raises(ModelError, match="flexbuffer|map"):
        decode_custom_options("TFLite_Detection_PostProcess", b"\x01\x02\x03garbage", "Operator 2")
    assert decode_custom_options("SomeOtherOp", b"\x01\x02", "Operator 2") == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fast_few", "regular_many"])
def test_detection_postprocess_bit_exact_on_qemu_m7(name, tmp_path):
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(detection_postprocess(**CASES[name]))
    gen, _, rep = project.validate(path, "qemu-m7", GenerateOptions(style="cubeai"), random=20, seed=5,
                                 output=tmp_path / "p", force=True)
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    assert rep.timing_unit == "instructions" and rep.counts["min"] > 0
    # the code estimate counts what the kernel's exp() pulls from libm (codesize.LIBRARY_BYTES)
    groups = group_usage(usage_by_file(tmp_path / "p" / "build" / "firmware.map"), PROJECT_GROUPS)
    real = sum(u.code + u.data for name, u in groups.items() if name != "weights and params")
    assert abs(gen.footprint.code_flash - real) <= 0.05 * real, (gen.footprint.code_flash_parts, real)


@pytest.mark.slow
@pytest.mark.tflm
def test_tflm_style_with_fewer_detections_than_rows_validates(tmp_path):
    """The tflm style runs TFLM's kernel, whose fast path leaves the rows past the count as the
    arena had them: validate compares the counted rows (mcugen.ops.detection.detection_row_outputs)."""
    path = tmp_path / "few.tflite"
    path.write_bytes(detection_postprocess(**CASES["fast_few"]))
    _, _, rep = project.validate(path, "host", GenerateOptions(style="tflm"), random=20, seed=5,
                                 output=tmp_path / "p", force=True)
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    counts = [int(o[3][0]) for o in rep.outputs]
    assert min(counts) < 8 and max(counts) > 0


@pytest.mark.parametrize("options, reason", [
    (dict(detections_per_class=2**40, regular_nms=True), "int32 range"),
    (dict(iou_threshold=1.5), "nms_iou_threshold"),
    (dict(scales=(10.0, float("inf"), 5.0, 5.0)), "finite"),
])
def test_options_the_kernel_cannot_take_are_named(tmp_path, options, reason):
    graph = _model(tmp_path, "fast", **options)
    bad = unsupported_ops(graph)
    assert len(bad) == 1 and reason in bad[0].reason, bad
