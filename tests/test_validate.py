"""validate: the bit-exact verdict and, next to it, ST's float-domain figures per output,
against the TFLM reference and against the float model (--float-model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mcugen.model.load import load_model
from mcugen.validate import compare_outputs
from conftest import needs_reference, needs_tf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "examples" / "models"


# ---------------------------------------------------------------------------------
# the figures against numpy on known outputs


def test_figures_of_identical_and_offset_outputs():
    """hello_world's int8 output (scale s, zero point z): identical outputs give cos 1,
    rmse 0, nse 1; outputs 3 steps higher give rmse = mae = mean = 3 s, std 0; a float
    reference offset by 0.125 gives rmse 0.125 against it."""
    graph = load_model(MODELS_DIR / "hello_world_int8.tflite")
    t = graph.output_tensors[0]
    s, z = t.quant.scale[0], t.quant.zero_point[0]
    rng = np.random.default_rng(0)
    ref = [[rng.integers(-100, 100, size=t.shape).astype(np.int8)] for _ in range(6)]
    same = compare_outputs(graph, ref, ref)[0]
    assert same.bit_exact and same.metrics.cos == 1.0 and same.metrics.rmse == 0.0 and same.metrics.nse == 1.0
    assert same.metrics.acc is None  # one value per sample: not a classifier
    up = [[(r[0].astype(np.int16) + 3).astype(np.int8)] for r in ref]
    floats = [[(r[0].astype(np.float64) - z) * s - 0.125] for r in ref]
    cmp = compare_outputs(graph, up, ref, floats)[0]
    assert not cmp.bit_exact and cmp.max_abs_diff == 3 and cmp.mismatches == 6
    m = cmp.metrics
    assert m.rmse == pytest.approx(3 * s) and m.mae == pytest.approx(3 * s) and m.mean == pytest.approx(3 * s)
    assert m.std == pytest.approx(0.0, abs=1e-12)
    r = np.concatenate([(x[0].astype(np.float64) - z) * s for x in ref]).reshape(-1)
    p = r + 3 * s
    assert m.l2r == pytest.approx(np.linalg.norm(p - r) / np.linalg.norm(r))
    assert m.nse == pytest.approx(1 - np.sum((p - r) ** 2) / np.sum((r - r.mean()) ** 2))
    assert m.cos == pytest.approx(p @ r / np.linalg.norm(p) / np.linalg.norm(r))
    f = cmp.float_metrics
    assert f.rmse == pytest.approx(3 * s + 0.125) and f.mean == pytest.approx(3 * s + 0.125)
    exact = compare_outputs(graph, ref, ref, [[(x[0].astype(np.float64) - z) * s - 0.125] for x in ref])[0]
    assert exact.float_metrics.rmse == pytest.approx(0.125) and exact.float_metrics.mae == pytest.approx(0.125)
    j = cmp.to_json()
    assert set(j["metrics"]) >= {"acc", "rmse", "mae", "l2r", "mean", "std", "nse", "cos"}
    assert j["metrics_float_model"]["rmse"] == pytest.approx(3 * s + 0.125)


# ---------------------------------------------------------------------------------
# a float model and its int8 conversion


def _tiny_classifier():
    import tensorflow as tf

    inp = tf.keras.Input((4, 4, 2), batch_size=1)
    x = tf.keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(5)(x)
    out = tf.keras.layers.Softmax()(x)
    return tf.keras.Model(inp, out)


def float_and_int8(tmp_root: Path) -> tuple[Path, Path]:
    """(float .tflite, int8 .tflite) of one small classifier, cached."""
    from tfmodels import _silence_tf, cache_dir, quantize

    key = "v1"
    fpath, qpath = cache_dir() / f"tiny_cls_float-{key}.tflite", cache_dir() / f"tiny_cls_int8-{key}.tflite"
    if fpath.is_file() and qpath.is_file():
        return fpath, qpath
    _silence_tf()
    import tensorflow as tf

    tf.keras.utils.set_random_seed(3)
    model = _tiny_classifier()
    fpath.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    qpath.write_bytes(quantize(model))
    return fpath, qpath


@needs_tf
@needs_reference
def test_float_model_figures_host(tmp_path):
    """validate_host with the float model: bit-exact with TFLM, and close to the float
    model: the figures equal numpy's on the float interpreter's own outputs."""
    from mcugen.inputs import make_samples
    from mcugen.metrics import compare, dequantize
    from mcugen.project import validate_host
    from mcugen.validate import float_model_outputs

    fpath, qpath = float_and_int8(tmp_path)
    result = validate_host(qpath, n_random=12, seed=1, float_model=fpath)
    assert result.bit_exact
    out = result.outputs[0]
    f = out.float_metrics
    assert f is not None and f.samples == 12
    assert f.cos > 0.99 and f.rmse < 0.05 and f.acc is not None and f.acc >= 0.75

    graph = load_model(qpath)
    samples = make_samples(graph, (), random=12, seed=1)
    floats = float_model_outputs(fpath, graph, samples)
    from mcugen.reference import reference_outputs

    ref = reference_outputs(graph, samples)
    t = graph.output_tensors[0]
    pred = [dequantize(r[0], t.quant.scale[0], t.quant.zero_point[0]) for r in ref]
    want = compare(pred, [x[0].reshape(pred[0].shape) for x in floats])
    assert f.rmse == pytest.approx(want.rmse) and f.cos == pytest.approx(want.cos) and f.acc == want.acc


@needs_tf
@needs_reference
def test_float_model_that_does_not_match_is_refused(tmp_path):
    from mcugen.errors import McugenError
    from mcugen.validate import FloatModel

    fpath, _ = float_and_int8(tmp_path)
    with pytest.raises(McugenError, match="does not match"):
        FloatModel(fpath, load_model(MODELS_DIR / "micro_speech_quantized.tflite"))


@needs_tf
@needs_reference
def test_validate_cli_float_model_json(tmp_path):
    """mcugen validate --target host --float-model --c-api legacy: the firmware build (main.c
    on the legacy API) bit-exact, figures per output against both references, duration."""
    fpath, qpath = float_and_int8(tmp_path)
    r = subprocess.run([sys.executable, "-m", "mcugen", "validate", str(qpath), "--target", "host", "--inputs", "5",
                        "--float-model", str(fpath), "--c-api", "legacy", "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["bit_exact"] is True and j["float_model"] == str(fpath)
    out = j["outputs"][0]
    assert out["metrics"]["cos"] == 1.0 and out["metrics"]["rmse"] == 0.0
    assert out["metrics_float_model"]["cos"] > 0.99
    assert j["timing"]["unit"] == "nanoseconds" and j["timing"]["ms"]["median"] > 0 and j["timing"]["per_macc"] > 0
    r = subprocess.run([sys.executable, "-m", "mcugen", "validate", str(qpath), "--target", "host", "--inputs", "2",
                        "--float-model", str(fpath)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Outputs vs the float model" in r.stdout and "nse" in r.stdout
