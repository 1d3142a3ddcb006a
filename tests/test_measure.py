"""measure(): the echo fake model end to end on QEMU (pty) and the host build (pipes)."""

from __future__ import annotations

import numpy as np
import pytest

from _echo_project import echo_hash, make_echo_project
from mcugen.boards import get_board
from mcugen.build import build_project
from mcugen.errors import LinkError, StaleResultError, TargetRefusedError
from mcugen.firmware import BUILD_DIR, ELF_NAME
from mcugen.link import TargetFaultError, TargetLink
from mcugen.link import protocol as P
from mcugen.measure import measure
from mcugen.runners.base import make_runner


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
    m = measure(tmp_path, None, sets, runs=70)   # > 64 runs (the most one RUN request may ask for)
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


@pytest.mark.slow
def test_firmware_binds_results_to_run_ids_and_runs_only_on_fresh_inputs(tmp_path):
    """The C side of protocol version 2, request by request, on the host build."""
    make_echo_project(tmp_path, "host", n0=16)
    build_project(tmp_path, jobs=2)
    with make_runner("host", get_board("host"), tmp_path / BUILD_DIR / ELF_NAME) as runner:
        link = TargetLink(runner.start(), timeout=2.0, retries=0)
        link.connect(echo_hash(16), timeout=10)

        def run(run_id: int) -> P.RunDone:
            return P.decode_run_done(link.request(P.MSG_RUN, P.RUN_REQUEST.pack(run_id, 1), P.MSG_RUN_DONE))

        def get_result(run_id: int) -> P.RunDone:
            return P.decode_run_done(link.request(P.MSG_GET_RESULT, P.RUN_ID.pack(run_id), P.MSG_RUN_DONE))

        def read(run_id: int) -> P.OutputData:
            frame = link.request(P.MSG_READ_OUTPUT, P.READ_OUTPUT_REQUEST.pack(run_id, 0, 0, 0, 64), P.MSG_OUTPUT_DATA)
            return P.decode_output_data(frame)

        def write(value: int) -> None:
            link.request(P.MSG_WRITE_INPUT, P.WRITE_INPUT_HEADER.pack(0, 0, 0) + bytes([value]) * 16, P.MSG_ACK)

        with pytest.raises(StaleResultError, match="no result for this run id"):
            get_result(5)                                   # no run yet
        with pytest.raises(StaleResultError, match="no input written since the last run"):
            run(5)                                          # nothing written since boot
        write(7)
        with pytest.raises(TargetRefusedError, match="bad arguments"):
            run(0)                                          # 0 is "no run"
        done = run(41)
        assert done.run_id == 41 and done.status == 0 and len(done.counts) == 1
        assert get_result(99).run_id == 41                  # the result held, under its own id
        out = read(41)
        assert (out.run_id, out.index, out.offset, out.total, out.data) == (41, 0, 0, 16, bytes([8]) * 16)
        with pytest.raises(StaleResultError, match="no result for this run id"):
            read(40)
        with pytest.raises(StaleResultError, match="no input written since the last run"):
            run(42)                                         # the run consumed the inputs
        write(9)                                            # ... and writing drops the result
        with pytest.raises(StaleResultError, match="no result for this run id"):
            read(41)
        with pytest.raises(StaleResultError, match="no result for this run id"):
            get_result(41)
        with pytest.raises(TargetRefusedError, match="bad length"):
            link.request(P.MSG_READ_OUTPUT, P.RUN_ID.pack(41), P.MSG_OUTPUT_DATA)
        assert run(43).run_id == 43 and read(43).data == bytes([10]) * 16
        profile = P.decode_profile_data(
            link.request(P.MSG_READ_PROFILE, P.READ_PROFILE_REQUEST.pack(43, 0), P.MSG_PROFILE_DATA))
        assert (profile.run_id, profile.total, profile.counts) == (43, 0, ())  # built without MCUGEN_PROFILE
