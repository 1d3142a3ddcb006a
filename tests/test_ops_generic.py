"""issue 16: the tflm style runs any model TFLM runs (mcugen/ops/generic.py).

Real models built with TensorFlow: an int8 UNIDIRECTIONAL_SEQUENCE_LSTM (empty intermediates,
optional -1 inputs) and a model with ops mcugen has no precise entry or cubeai kernel for
(MIRROR_PAD, L2_NORMALIZATION, RESIZE_*, SQUARED_DIFFERENCE) go through inspect, estimate and
generate --style tflm and run bit-exact against the tflite-micro interpreter; an op neither
style runs is named with its index by inspect and estimate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("tensorflow")

from _tflm_models import detection_postprocess, unmodelled_mix, while_loop, with_custom_op  # noqa: E402
from tfmodels import cached_model, cached_tflite, int8_lstm  # noqa: E402

from mcugen import project  # noqa: E402
from mcugen.options import GenerateOptions  # noqa: E402


def mcugen(*args, timeout=300):
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def lstm():
    return cached_tflite("int8_lstm", int8_lstm)


@pytest.fixture(scope="module")
def mix():
    return cached_model("unmodelled_mix", unmodelled_mix)


@pytest.fixture(scope="module")
def detection(tmp_path_factory):
    path = tmp_path_factory.mktemp("det") / "detection.tflite"
    path.write_bytes(detection_postprocess())
    return path


def test_detection_postprocess_custom_op_is_known_and_runs_in_tflm(detection):
    """TFLM's custom TFLite_Detection_PostProcess: its float inputs (from DEQUANTIZE) and float
    detections pass the quantized-model check; inspect names it, both styles run it."""
    r = mcugen("inspect", detection, "--json")
    assert r.returncode == 0, r.stderr
    det = json.loads(r.stdout)["layers"][2]
    assert det["op"] == "CUSTOM:TFLite_Detection_PostProcess" and det["macs"] == 4 * 12 + 3 * 12 * 11 // 2
    assert det["styles"]["tflm"]["runs"] and det["styles"]["cubeai"]["runs"]  # tests/test_detection.py
    r = mcugen("estimate", detection, "-t", "qemu-m7", "--style", "tflm", "--json")
    assert r.returncode == 0, r.stderr
    assert not any("not modelled" in n for n in json.loads(r.stdout)["notes"])  # its arena is modelled


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    path = tmp_path_factory.mktemp("while") / "while_loop.tflite"
    path.write_bytes(while_loop())
    return path


@pytest.mark.tflm
def test_control_flow_model_with_several_subgraphs_is_not_refused_in_tflm(loop, tmp_path):
    """WHILE (three subgraphs): loaded, inspected, estimated in the tflm style (its bodies' ops
    registered and counted); cubeai names the WHILE; an op TFLM lacks inside a body is named."""
    r = mcugen("inspect", loop, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["layers"][0]["op"] == "WHILE" and data["styles"]["tflm"]["supported"]
    r = mcugen("estimate", loop, "-t", "qemu-m7", "--style", "tflm", "--json")
    assert r.returncode == 0, r.stderr
    assert any("control flow" in n for n in json.loads(r.stdout)["notes"])
    r = mcugen("estimate", loop, "-t", "qemu-m7")
    assert r.returncode == 1 and "WHILE at index 0" in r.stderr
    r = mcugen("generate", loop, "-t", "host", "--style", "tflm", "-o", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    main = next((tmp_path / "p").rglob("main.cc")).read_text()
    assert all(m in main for m in ("AddWhile", "AddLess", "AddAdd"))
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(while_loop("SCATTER_ND"))
    r = mcugen("inspect", bad)
    assert r.returncode == 1 and "SCATTER_ND (subgraph 2) at indices 0, 1" in r.stderr, r.stderr


def test_unmodelled_ops_are_inspected_per_style_and_estimated_in_tflm(mix):
    r = mcugen("inspect", mix, "--json")
    assert r.returncode == 0, r.stderr
    layers = json.loads(r.stdout)["layers"]
    assert [layer["op"] for layer in layers[1:3]] == ["MIRROR_PAD", "L2_NORMALIZATION"]
    for layer in layers[1:3]:  # ops no helper models precisely: generic entries
        assert layer["macs"] is None and layer["model"].startswith("generic")
        assert layer["styles"]["tflm"]["runs"] and not layer["styles"]["cubeai"]["runs"]
    assert layers[0]["styles"]["cubeai"]["runs"] and layers[0]["macs"] > 0  # the conv: precise
    r = mcugen("estimate", mix, "-t", "qemu-m7", "--style", "tflm", "--json")
    assert r.returncode == 0, r.stderr
    fp = json.loads(r.stdout)
    assert fp["macs"] is None and fp["activation_ram"] > 0
    assert any("MACs unknown" in n for n in fp["notes"])
    r = mcugen("estimate", mix, "-t", "qemu-m7")
    assert r.returncode != 0 and "MIRROR_PAD at index 1" in r.stderr and "--style tflm" in r.stderr
    assert "Traceback" not in r.stderr


def test_an_op_neither_style_runs_is_named_with_its_index(mix, tmp_path):
    bad = tmp_path / "custom.tflite"
    bad.write_bytes(with_custom_op(mix.read_bytes(), "L2_NORMALIZATION", "MyUnknownOp"))
    for args in (("inspect", bad), ("estimate", bad, "-t", "qemu-m7", "--style", "tflm"),
                 ("estimate", bad, "-t", "stm32h7"), ("generate", bad, "-t", "host", "--style", "tflm",
                                                      "-o", tmp_path / "out")):
        r = mcugen(*args)
        assert r.returncode == 1, (args, r.stdout)
        assert "CUSTOM:MyUnknownOp at index 2" in r.stderr and "either style" in r.stderr, args
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.tflm
def test_lstm_estimate_and_generate_in_tflm(lstm, tmp_path):
    r = mcugen("estimate", lstm, "-t", "stm32h7", "--style", "tflm", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["macs"] > 0
    r = mcugen("generate", lstm, "-t", "qemu-m7", "--style", "tflm", "-o", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    main = next((tmp_path / "p").rglob("main.cc")).read_text()
    assert "AddUnidirectionalSequenceLSTM" in main and "AddStridedSlice" in main
    r = mcugen("generate", lstm, "-t", "qemu-m7", "-o", tmp_path / "q")  # cubeai runs the integer LSTM too
    assert r.returncode == 0, r.stderr


def _validate(path, target, n, tmp_path):
    gen, built, rep = project.validate(path, target, GenerateOptions(style="tflm"), random=n, seed=5,
                                       output=tmp_path / "p", force=True)
    assert rep.inputs == n
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    assert rep.comparison.max_abs_diff == 0
    # the arena the estimate declared held what TFLM really allocated (arena_used_bytes)
    assert 0 < rep.extra_u32 <= rep.activation_bytes == gen.details["arena_size"]
    return rep


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.parametrize("which", ["lstm", "mix"])
def test_unmodelled_models_bit_exact_on_host(which, lstm, mix, tmp_path):
    _validate(lstm if which == "lstm" else mix, "host", 20, tmp_path)


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.parametrize("target", ["host", "qemu-m7"])
def test_detection_postprocess_bit_exact(detection, target, tmp_path):
    rep = _validate(detection, target, 20, tmp_path)
    assert rep.activation_bytes <= 1.1 * rep.extra_u32  # its kernel's allocations are modelled


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.parametrize("target", ["host", "qemu-m7"])
def test_while_loop_bit_exact(loop, target, tmp_path):
    _validate(loop, target, 20, tmp_path)


@pytest.mark.slow
@pytest.mark.tflm
def test_unmodelled_mix_bit_exact_on_qemu_m7(mix, tmp_path):
    rep = _validate(mix, "qemu-m7", 20, tmp_path)
    assert rep.timing_unit == "instructions" and rep.counts["min"] > 0


@pytest.mark.slow
@pytest.mark.tflm
def test_lstm_on_qemu_m7_cmsis_nn_is_exact_per_invoke_but_keeps_no_state(lstm, tmp_path):
    """TFLM's CMSIS-NN LSTM (cmsis_nn/unidirectional_sequence_lstm.cc) hands arm_lstm_unidirectional_s8
    no hidden state and a scratch cell state: every Invoke starts from zero state, while the reference
    kernels (the tflite-micro interpreter) carry the variable state tensors over. So one input is
    bit-exact; over several, the firmware matches a fresh reference interpreter per input."""
    from mcugen.inputs import make_samples
    from mcugen.pipeline import load_checked
    from mcugen.reference import Reference

    rep = _validate(lstm, "qemu-m7", 1, tmp_path / "one")
    assert rep.timing_unit == "instructions" and rep.counts["min"] > 0
    gen, built, rep = project.validate(lstm, "qemu-m7", GenerateOptions(style="tflm"), random=4, seed=5,
                                       output=tmp_path / "four", force=True)
    graph = load_checked(lstm)
    fresh = [Reference(graph).run(list(s))[0] for s in make_samples(graph, random=4, seed=5)]
    assert [o[0].tolist() for o in rep.outputs] == [f.tolist() for f in fresh]
    assert not rep.comparison.bit_exact  # against the stateful reference: the state is the difference
