"""`--detection-postprocess`: TFLite_Detection_PostProcess appended to an SSD exported without it
(mcugen/model/detection_append.py, mcugen/model/ssd_anchors.py).

A tiny SSD with raw box and score outputs is built with TensorFlow; mcugen appends the op to
its graph (anchors from TF's SSD generator, or a .npy) and generates it in the cubeai style;
the host build's detections are compared with the tflite-micro interpreter running the same
network with the op written into the .tflite (same anchors and options), bit for bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _tflm_models import ssd_heads, with_detection_postprocess  # noqa: E402
from tfmodels import cached_model  # noqa: E402

from mcugen.calibrate.hostrun import build_host, run_on_host  # noqa: E402
from mcugen.codegen import generate_cubeai  # noqa: E402
from mcugen.errors import ModelError  # noqa: E402
from mcugen.inputs import make_samples  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.model.ssd_anchors import SsdAnchorParams, anchors_per_layer, default_feature_maps, ssd_anchors  # noqa: E402
from mcugen.options import GenerateOptions  # noqa: E402
from mcugen.pipeline import load_checked  # noqa: E402
from mcugen.reference import reference_outputs  # noqa: E402
from mcugen.validate import compare_outputs  # noqa: E402
from mcugen import project  # noqa: E402

EXPORT_DEFAULTS = {  # TF's SSD export defaults, which `--detection-postprocess ssd` takes
    "max_detections": 10, "max_classes_per_detection": 1, "detections_per_class": 100, "use_regular_nms": False,
    "nms_score_threshold": 1e-8, "nms_iou_threshold": 0.6, "num_classes": 4, "y_scale": 10.0, "x_scale": 10.0,
    "h_scale": 5.0, "w_scale": 5.0}


def mcugen(*args, timeout=300):
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def heads():
    return cached_model("ssd_heads", ssd_heads)


def test_ssd_anchor_generator_matches_tf_ssd_mobilenet_on_300():
    """TF's ssd_anchor_generator defaults on a 300 x 300 MobileNet SSD: 1917 anchors (3 per cell
    on 19x19, then 6 per cell), the first cell's boxes of scale 0.1 and 0.2 at ratios 1, 2, 1/2."""
    p = SsdAnchorParams(default_feature_maps(300, 300))
    assert p.feature_maps == ((19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1))
    a = ssd_anchors(p)
    assert a.shape == (1917, 4) and anchors_per_layer(p) == [1083, 600, 150, 54, 24, 6]
    r2 = np.sqrt(2.0)
    expect = [[0.5 / 19, 0.5 / 19, 0.1, 0.1], [0.5 / 19, 0.5 / 19, 0.2 / r2, 0.2 * r2],
              [0.5 / 19, 0.5 / 19, 0.2 * r2, 0.2 / r2], [0.5 / 19, 1.5 / 19, 0.1, 0.1]]
    np.testing.assert_allclose(a[:4], expect, rtol=1e-6)
    # layer 1 (scale 0.35): ratio 1, 2, 1/2, 3, 1/3, then sqrt(0.35 * 0.5) at ratio 1
    s, s2 = 0.35, np.sqrt(0.35 * 0.5)
    np.testing.assert_allclose(a[1083][2:], [s, s], rtol=1e-6)
    np.testing.assert_allclose(a[1083 + 5][2:], [s2, s2], rtol=1e-6)
    np.testing.assert_allclose(a[-1], [0.5, 0.5, np.sqrt(0.95), np.sqrt(0.95)], rtol=1e-6)


def _compare(tmp_path, heads, spec, anchors, options):
    graph = load_checked(heads, GenerateOptions(detection_postprocess=spec))
    assert graph.opcodes[-2:] == ["DEQUANTIZE", "CUSTOM"]
    full = tmp_path / "with_op.tflite"
    full.write_bytes(with_detection_postprocess(heads.read_bytes(), anchors, **options))
    ref_graph = load_model(full)
    generate_cubeai(graph, "host", tmp_path / "p")
    build_host(tmp_path / "p")
    samples = make_samples(graph, random=20, seed=2)
    predicted = run_on_host(tmp_path / "p", samples)
    reference = reference_outputs(ref_graph, samples)
    bad = [c for c in compare_outputs(ref_graph, predicted, reference) if not c.bit_exact]
    assert not bad, [(c.name, c.max_abs_diff, c.mismatches) for c in bad]
    assert max(int(r[3][0]) for r in reference) > 0
    return reference


def test_appended_with_ssd_defaults_equals_tflm_running_the_op(heads, tmp_path):
    anchors = ssd_anchors(SsdAnchorParams(default_feature_maps(64, 64)))
    assert anchors.shape == (96, 4)
    _compare(tmp_path, heads, "ssd", anchors, EXPORT_DEFAULTS)


def test_appended_with_anchor_file_and_regular_nms_equals_tflm(heads, tmp_path):
    rng = np.random.default_rng(7)
    anchors = np.concatenate([rng.uniform(0.1, 0.9, (96, 2)), rng.uniform(0.05, 0.5, (96, 2))], axis=1)
    path = tmp_path / "anchors.npy"
    np.save(path, anchors.astype(np.float32))
    options = {**EXPORT_DEFAULTS, "use_regular_nms": True, "max_detections": 7, "detections_per_class": 4,
               "nms_score_threshold": 0.5, "nms_iou_threshold": 0.4}
    reference = _compare(tmp_path, heads, f"anchors={path},regular_nms=1,max_detections=7,detections_per_class=4,"
                         "score_threshold=0.5,iou_threshold=0.4", anchors, options)
    assert min(int(r[3][0]) for r in reference) < 7 or max(int(r[3][0]) for r in reference) == 7


def test_estimate_and_generate_take_the_spec_cubeai_only(heads, tmp_path):
    r = mcugen("estimate", heads, "-t", "qemu-m7", "--detection-postprocess", "ssd,max_detections=5", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["fits"] and "kernel_mcu_detection_postprocess_f32" in data["code_flash_parts"]
    r = mcugen("estimate", heads, "-t", "qemu-m7", "--style", "tflm", "--detection-postprocess", "ssd")
    assert r.returncode == 1 and "cubeai style only" in r.stderr and "Traceback" not in r.stderr
    r = mcugen("generate", heads, "-t", "host", "-o", tmp_path / "g", "--detection-postprocess", "max_detections=x")
    assert r.returncode == 1 and "max_detections=x is not a valid value" in r.stderr and "Traceback" not in r.stderr
    r = mcugen("validate", heads, "-t", "host", "--detection-postprocess", "ssd,regular_nms=1", "--inputs", "5",
               "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["bit_exact"] and [o["name"] for o in data["outputs"]][-1] == "num_detections"


@pytest.mark.slow
def test_appended_validates_on_qemu_m7_with_the_anchors_copied_into_the_project(heads, tmp_path):
    """validate: the reference runs the file, then TFLM's op alone (graph.tail_model) on its outputs;
    the project keeps its anchors (anchors.npy), so measuring it later finds them wherever it is."""
    rng = np.random.default_rng(8)
    anchors = np.concatenate([rng.uniform(0.1, 0.9, (96, 2)), rng.uniform(0.05, 0.5, (96, 2))], axis=1)
    np.save(tmp_path / "a.npy", anchors.astype(np.float32))
    spec = f"anchors={tmp_path / 'a.npy'},score_threshold=0.6,max_detections=6"
    gen, _, rep = project.validate(heads, "qemu-m7", GenerateOptions(detection_postprocess=spec), random=20,
                                   seed=3, output=tmp_path / "p", force=True)
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    manifest = json.loads((tmp_path / "p" / "mcugen.json").read_text())
    assert "anchors=anchors.npy" in manifest["detection_postprocess"] and (tmp_path / "p" / "anchors.npy").is_file()
    (tmp_path / "a.npy").unlink()
    again = project.measure_project(tmp_path / "p", random=3, seed=4)
    assert again.comparison.bit_exact and len(again.outputs[0]) == 4


def test_logit_scores_get_tfs_sigmoid_and_validate_on_host(tmp_path):
    """score_converter=sigmoid: raw logits through an int8 LOGISTIC (TF's convert_scores) before the op;
    the reference runs TFLM's LOGISTIC, DEQUANTIZE and detection kernels after the file."""
    logits = cached_model("ssd_heads_logits", ssd_heads, sigmoid=False)
    spec = "score_converter=sigmoid,score_threshold=0.4,max_detections=8"
    graph = load_checked(logits, GenerateOptions(detection_postprocess=spec))
    assert graph.opcodes[-3:] == ["LOGISTIC", "DEQUANTIZE", "CUSTOM"]
    _, _, rep = project.validate(logits, "host", GenerateOptions(detection_postprocess=spec), random=20, seed=1,
                                 output=tmp_path / "p", force=True)
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    assert max(int(o[3][0]) for o in rep.outputs) > 0


@pytest.mark.parametrize("spec, message", [
    ("feature_maps=3x3", "27 anchors for 96 boxes"),
    ("boxes=nope,scores=class_scores", "boxes=nope is not an output"),
    ("colour=red", "unknown key"),
    ("aspect_ratios=1:two", "aspect_ratios"),
    ("score_converter=softmax", "identity or sigmoid"),
])
def test_bad_specs_are_clear_errors(heads, spec, message):
    with pytest.raises(ModelError, match=message):
        load_checked(heads, GenerateOptions(detection_postprocess=spec))


@pytest.mark.slow
def test_whole_ssdlite_mobilenet_v2_with_appended_post_processing_is_bit_exact(tmp_path):
    """SSDLite MobileNetV2 300 (tests/seednets.py: 1917 anchors, 91 classes, class logits) with
    `ssd,score_converter=sigmoid`: TF's SSD anchors (1917 from the 300 x 300 input), an int8 LOGISTIC,
    DEQUANTIZE and the op, on the host, against TFLM running the file and the appended operators."""
    import seednets

    model = cached_model("ssdlite_mobilenet_v2_300", seednets.ssdlite_mobilenet_v2)
    spec = "ssd,score_converter=sigmoid,score_threshold=0.3"
    _, _, rep = project.validate(model, "host", GenerateOptions(detection_postprocess=spec), random=2, seed=0,
                                 output=tmp_path / "p", force=True)
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    assert min(int(o[3][0]) for o in rep.outputs) > 0
