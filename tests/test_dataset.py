"""validate --dataset: top-1/top-5 of the device, the TFLM reference and the float model on
labelled data, with the confusion matrix and the disagreements (a model trained here)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mcugen.dataset import load_dataset, score
from mcugen.errors import McugenError
from mcugen.model.load import load_model

pytest.importorskip("tensorflow")

CLASSES, FEATURES = 4, 16


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four well separated Gaussian classes in [-1, 1]^16."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).uniform(-0.6, 0.6, size=(CLASSES, FEATURES))
    y = rng.integers(0, CLASSES, size=n)
    x = np.clip(centres[y] + rng.normal(0, 0.12, size=(n, FEATURES)), -1, 1).astype(np.float32)
    return x, y


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(int8 model, float model, labelled .npz) of a small classifier trained on the blobs."""
    import tensorflow as tf

    from tfmodels import quantize

    tf.keras.utils.set_random_seed(0)
    x, y = blobs(800, 0)
    model = tf.keras.Sequential([tf.keras.Input(shape=(FEATURES,), batch_size=1),
                                 tf.keras.layers.Dense(24, activation="relu"),
                                 tf.keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    root = tmp_path_factory.mktemp("blobs")
    (root / "float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    (root / "int8.tflite").write_bytes(quantize(model, samples=64))
    xt, yt = blobs(60, 1)
    np.savez(root / "test.npz", x=xt, y=yt)
    return root / "int8.tflite", root / "float.tflite", root / "test.npz"


def validate(model, target, *args):
    r = subprocess.run([sys.executable, "-m", "mcugen", "validate", str(model), "--target", target,
                        *map(str, args), "--json"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads(r.stdout)


def test_loading_quantizes_floats_and_checks_the_shape(trained, tmp_path):
    model, _, data = trained
    g = load_model(model)
    ds = load_dataset(data, g)
    q = g.input_tensors[0].quant
    x = np.load(data)["x"]
    expected = np.clip(np.round(x[0] / q.scale[0]) + q.zero_point[0], -128, 127).astype(np.int8)
    assert len(ds.samples) == 60 and np.array_equal(ds.samples[0][0].reshape(-1), expected)
    np.savez(tmp_path / "bad.npz", x=np.zeros((3, 5), np.float32), y=np.zeros(3))
    with pytest.raises(McugenError, match="input has 16 values"):
        load_dataset(tmp_path / "bad.npz", g)
    # a folder per class of input files
    for k in range(2):
        (tmp_path / "dir" / f"class{k}").mkdir(parents=True)
        np.save(tmp_path / "dir" / f"class{k}" / "a.npy", ds.samples[k][0])
    folder = load_dataset(tmp_path / "dir", g)
    assert folder.classes == ("class0", "class1") and list(folder.labels) == [0, 1]


def test_scores_count_top_k_and_disagreements(trained):
    model, _, data = trained
    ds = load_dataset(data, load_model(model))
    right = [[np.eye(CLASSES)[label].astype(np.float32)] for label in ds.labels]
    wrong = [[np.eye(CLASSES)[(label + 1) % CLASSES].astype(np.float32)] for label in ds.labels]
    s = score(ds, wrong, right)
    assert s["device"]["top1"] == 0.0 and s["reference"]["top1"] == 1.0 and s["device"]["top5"] == 1.0
    assert len(s["disagreements"]) == 60 and np.trace(np.array(s["confusion"])) == 0


@pytest.mark.slow
@pytest.mark.parametrize("target", ["host", "qemu-m7"])
def test_validate_dataset_reports_device_reference_and_float_accuracy(trained, target):
    model, float_model, data = trained
    rep = validate(model, target, "--dataset", data, "--float-model", float_model)
    d = rep["dataset"]
    assert rep["bit_exact"] is True and d["samples"] == 60 and rep["inputs"] == 60
    assert d["device"] == d["reference"] and d["device"]["top1"] >= 0.9  # a trained model, bit-exact device
    assert d["float_model"]["top1"] >= 0.9 and d["disagreements"] == []
    assert np.array(d["confusion"]).sum() == 60
    from mcugen.jsonreport import load_schema
    import jsonschema

    jsonschema.validate(rep, load_schema())


def _run_with_terminal_stderr(args: list[str]) -> tuple[int, str]:
    """Run mcugen with stderr on a pseudo-terminal (as in an interactive shell); its exit code and
    everything written to that terminal."""
    import os
    import pty
    import threading

    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run([sys.executable, "-m", "mcugen", *args], stdout=subprocess.PIPE, stderr=slave,
                          stdin=subprocess.DEVNULL, timeout=900, env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_validate_dataset_draws_a_progress_bar_on_a_terminal_only(trained):
    """The samples' bar goes to stderr when it is a terminal; a pipe (CI) and --json get none."""
    model, _, data = trained
    code, terminal = _run_with_terminal_stderr(["validate", str(model), "--target", "host", "--dataset", str(data)])
    assert code == 0, terminal[-2000:]
    assert "samples" in terminal and "60/60" in terminal
    code, terminal = _run_with_terminal_stderr(["validate", str(model), "--target", "host", "--dataset", str(data),
                                                "--json"])
    assert code == 0 and "60/60" not in terminal
    r = subprocess.run([sys.executable, "-m", "mcugen", "validate", str(model), "--target", "host", "--dataset",
                        str(data)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and "60/60" not in r.stderr and "/60" not in r.stderr
