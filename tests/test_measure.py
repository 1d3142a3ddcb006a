"""measure(): the echo fake model end to end on QEMU (pty) and the host build (pipes)."""

from __future__ import annotations

import numpy as np
import pytest

from _echo_project import make_echo_project
from mcugen.build import build_project
from mcugen.errors import LinkError
from mcugen.link import TargetFaultError
from mcugen.measure import measure


def _inputs(n0: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 127, size=(1, n0), dtype=np.int8),
            rng.integers(-1000, 1000, size=(2, 3, 4), dtype=np.int16)]


def _check(m, sets, n0):
    for got, x in zip(m.outputs, sets):
        np.testing.assert_array_equal(got[0], (x[0].astype(np.int16) + 1).astype(np.int8))
        np.testing.assert_array_equal(got[1], x[1] + 1)
        assert got[2].shape == (1, 1) and got[2][0, 0] == np.float32(x[0].astype(np.float64).sum())
        assert got[0].dtype == np.int8 and got[0].shape == (1, n0)


@pytest.mark.slow
@pytest.mark.parametrize("n0", [16, 3000, 70_000])
def test_qemu_end_to_end(tmp_path, n0):
    make_echo_project(tmp_path, "qemu-m7", n0=n0)
    build_project(tmp_path, jobs=2)
    sets = [_inputs(n0, 1), _inputs(n0, 2)]
    m = measure(tmp_path, "qemu", sets, runs=3)
    _check(m, sets, n0)
    assert m.timing_unit == "instructions" and m.clock_hz == 25_000_000 and m.runner == "qemu"
    assert m.activation_bytes >= 2 * n0 and m.extra_u32 == 0xEC40
    assert len(m.counts) == 2 and all(len(c) == 3 for c in m.counts)
    # a few instructions per element, counted in 40-instruction timer ticks
    assert 2 * n0 <= m.stats.min <= m.stats.max <= 20 * n0 + 400
    assert all(c % 40 == 0 for per in m.counts for c in per)
    assert m.time_seconds() is None  # instructions are not time


@pytest.mark.slow
def test_host_end_to_end(tmp_path):
    make_echo_project(tmp_path, "host", n0=100_000)
    build_project(tmp_path, jobs=2)
    sets = [_inputs(100_000, 3)]
    m = measure(tmp_path, None, sets, runs=70)   # > 64 runs: two RUN batches
    _check(m, sets, 100_000)
    assert m.timing_unit == "nanoseconds" and m.stats.count == 70 and m.stats.min > 0


@pytest.mark.slow
def test_wrong_model_on_target(tmp_path):
    make_echo_project(tmp_path, "host", name="echo")
    build_project(tmp_path, jobs=2)
    make_echo_project(tmp_path / "other", "host", name="other")
    (tmp_path / "mcugen.json").write_text((tmp_path / "other/mcugen.json").read_text())
    with pytest.raises(LinkError, match="different model"):
        measure(tmp_path, "host", [_inputs(16, 0)], runs=1)


@pytest.mark.slow
def test_wrong_input_shape_or_dtype(tmp_path):
    make_echo_project(tmp_path, "host")
    build_project(tmp_path, jobs=2)
    x = _inputs(16, 0)
    with pytest.raises(LinkError, match="dtype"):
        measure(tmp_path, "host", [[x[0].astype(np.int16), x[1]]], runs=1)
    with pytest.raises(LinkError, match="shape"):
        measure(tmp_path, "host", [[np.zeros((1, 17), np.int8), x[1]]], runs=1)


@pytest.mark.slow
def test_qemu_crash_is_reported(tmp_path):
    make_echo_project(tmp_path, "qemu-m7", defines={"ECHO_FAULT_ON_RUN": "1"})
    build_project(tmp_path, jobs=2)
    with pytest.raises(TargetFaultError, match="HardFault|UsageFault"):
        measure(tmp_path, "qemu", [_inputs(16, 0)], runs=1, timeout=1.0, run_timeout=1.0)
