"""The recurrent state in the cubeai style: its own buffers (STAI_FLAG_STATES), apart from
the activations, persisting from run to run, exposed by the st-ai API (set_/get_states,
the STATES macros) and kept by the legacy API too.

tests/fixtures/cubeai_states_app.c streams samples through the LSTM model (tests/tfmodels.py
int8_lstm), saves the state after the second sample, trashes the activations and resumes
from the saved copy: what it writes must equal TFLM's outputs over the same sequence
(the interpreter keeps its variable tensors from invoke to invoke)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

import subprocess  # noqa: E402

import numpy as np  # noqa: E402
from test_cubeai_api import FIXTURES, _samples_bytes, assert_exact, build_app_host, generate  # noqa: E402
from test_cubeai_api import parse_outputs, run_app  # noqa: E402
from tfmodels import cached_tflite, int8_lstm  # noqa: E402

from mcugen.boards import get_board  # noqa: E402
from mcugen.inputs import make_samples  # noqa: E402
from mcugen.lower import lower  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.options import GenerateOptions  # noqa: E402
from mcugen.pipeline import cubeai_plan  # noqa: E402
from mcugen.planner.pools import plan_activations, states_bytes  # noqa: E402
from mcugen.reference import reference_outputs  # noqa: E402


@pytest.fixture(scope="module")
def lstm():
    return load_model(cached_tflite("int8_lstm", int8_lstm))


def test_states_live_outside_the_activations_and_are_counted(lstm):
    """The hidden (int8, 8 B) and cell (int16, 16 B) states get no place in the activation
    plan; the estimate counts their bytes with the data."""
    states = [t.index for t in lstm.tensors if t.is_variable]
    assert len(states) == 2
    plan = plan_activations(lstm, {})
    assert not set(states) & set(plan.offsets)
    assert states_bytes(lstm) == 8 + 16
    _, footprint = cubeai_plan(lower(lstm, get_board("stm32h7")), get_board("stm32h7"), GenerateOptions())
    assert footprint.runtime_ram_parts["states"] == 24


def test_states_round_trip_in_c(lstm, tmp_path):
    root = tmp_path / "p"
    generate(lstm, "host", root)
    header = (root / "network.h").read_text()
    assert "#define STAI_NETWORK_STATES_NUM (2)" in header and "#define STAI_NETWORK_STATES_SIZE_BYTES (24)" in header
    exe = build_app_host(root, [FIXTURES / "cubeai_states_app.c"], tmp_path / "app")
    samples = make_samples(lstm, (), random=8, seed=3)
    run = tmp_path / "run"
    run.mkdir()
    (run / "inputs.bin").write_bytes(_samples_bytes(samples))
    proc = subprocess.run([str(exe)], cwd=run, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    status = (run / "status.txt").read_text() if (run / "status.txt").exists() else ""
    assert proc.returncode == 0, f"exit {proc.returncode}: {status}"
    got = parse_outputs(lstm, (run / "outputs.bin").read_bytes(), 8 + 6)
    # the stream, then its resumption from the state saved after sample 1: both TFLM's sequence
    reference = reference_outputs(lstm, samples)
    assert [p[0].tolist() for p in got[:8]] == [r[0].tolist() for r in reference]
    assert [p[0].tolist() for p in got[8:]] == [r[0].tolist() for r in reference[2:]]
    # and the state matters: the same samples on a fresh state give other outputs
    fresh = [reference_outputs(lstm, [s])[0][0] for s in samples[2:]]
    assert sum(not np.array_equal(f, p[0]) for f, p in zip(fresh, got[8:])) >= 3


@pytest.mark.parametrize("app", ["stai", "legacy"])
def test_both_apis_keep_the_state_from_run_to_run(lstm, app, tmp_path):
    """The client applications of test_cubeai_api on the LSTM: 12 runs in a row as TFLM's sequence."""
    root = tmp_path / "p"
    generate(lstm, "host", root)
    exe = build_app_host(root, app, tmp_path / "app")
    samples = make_samples(lstm, (), random=12, seed=1)
    assert_exact(lstm, run_app([str(exe)], lstm, samples, tmp_path / "run"), samples)
