"""Ctrl-C and SIGTERM on real commands while their children run: exit 130/143 with one
line, and nothing of the run left behind (no QEMU, make or compiler, no temporary
project). Processes of a run are found by a marker in their environment, which every
descendant inherits, even one that was reparented after its parent died."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import MODELS, needs_arm, needs_qemu

MARKER = "MCUGEN_TEST_RUN"
MESSAGES = {signal.SIGINT: "mcugen: interrupted", signal.SIGTERM: "mcugen: terminated (SIGTERM)"}
COMPILERS = {"cc1", "make", "arm-none-eabi-g", "as", "collect2", "ld"}
QEMU = {"qemu-system-arm"}


def _processes_of(token: str) -> dict[int, str]:
    """pid -> command name of every live (non-zombie) process carrying the run's marker."""
    needle = f"{MARKER}={token}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                found[int(entry.name)] = (entry / "comm").read_text().strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def interrupt_run(args, sig, when, *, to_group, env=None, settle=0.0, timeout=180):
    """Starts `mcugen ARGS` in its own session, waits until one of its descendants is
    named in `when`, waits `settle` seconds, sends `sig` (to the process group, as a terminal's Ctrl-C does,
    or to mcugen alone, as `kill` does); returns (exit code, stderr, leftovers)."""
    token = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-m", "mcugen", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                            env={**os.environ, **(env or {}), MARKER: token})
    try:
        deadline = time.monotonic() + timeout
        while not set(_processes_of(token).values()) & when:
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate()
                pytest.fail(f"no {sorted(when)} seen (exit {proc.returncode}):\n{err[-2000:]}")
            time.sleep(0.05)
        time.sleep(settle)
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        deadline = time.monotonic() + 5
        while (left := _processes_of(token)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return proc.returncode, err, left
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _processes_of(token):  # never leave this test's processes to the next one
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def assert_interrupted(code, err, left, sig):
    message = MESSAGES[sig]
    lines = err.strip().splitlines()
    assert code == 128 + sig, err
    assert lines and lines[-1] == message, err
    assert sum(1 for line in lines if "interrupted" in line or "terminated" in line) == 1, err
    assert "Traceback" not in err and "Exception" not in err and "Aborted" not in err, err
    assert left == {}, f"left behind: {left}"


def test_ctrl_c_during_generate(tmp_path):
    """No child here: the patch search is pure Python. Exit 130, and no output directory
    nor staging directory appears."""
    out = tmp_path / "proj"
    token = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-m", "mcugen", "generate", str(MODELS / "person_detect.tflite"), "-t",
                             "qemu-m7", "--patch", "auto", "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                            env={**os.environ, MARKER: token})
    line = proc.stderr.readline()  # "choosing the patch stages": the search has begun
    assert "patch" in line, line + proc.communicate()[1]
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert_interrupted(proc.returncode, line + err, _processes_of(token), signal.SIGINT)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def pd_project(tmp_path_factory):
    out = tmp_path_factory.mktemp("signals") / "pd"
    r = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(MODELS / "person_detect.tflite"), "-t",
                        "qemu-m7", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.slow
@needs_arm
@pytest.mark.parametrize("sig,to_group", [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_build_stops_make_and_its_compilers(pd_project, sig, to_group):
    shutil.rmtree(pd_project / "build", ignore_errors=True)
    code, err, left = interrupt_run(["build", pd_project, "-j2"], sig, {"cc1"}, to_group=to_group)
    assert_interrupted(code, err, left, sig)


@pytest.mark.slow
@needs_arm
@needs_qemu
def test_sigterm_during_validate_build_removes_the_temporary_project(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    code, err, left = interrupt_run(["validate", MODELS / "person_detect.tflite", "-t", "qemu-m7", "--inputs", "2"],
                                    signal.SIGTERM, {"cc1"}, to_group=False, env={"TMPDIR": str(tmpdir)})
    assert_interrupted(code, err, left, signal.SIGTERM)
    assert not list(tmpdir.glob("mcugen-validate-*"))


@pytest.mark.slow
@needs_arm
@needs_qemu
def test_ctrl_c_during_validate_run_stops_qemu_and_removes_the_project(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    code, err, left = interrupt_run(["validate", MODELS / "hello_world_int8.tflite", "-t", "qemu-m7", "--inputs",
                                     "200", "--runs", "3"], signal.SIGINT, QEMU, to_group=True,
                                    env={"TMPDIR": str(tmpdir)}, settle=1.0)
    assert_interrupted(code, err, left, signal.SIGINT)
    assert not list(tmpdir.glob("mcugen-validate-*"))


@pytest.fixture(scope="module")
def hello_built(tmp_path_factory):
    out = tmp_path_factory.mktemp("signals") / "hello"
    for args in (["generate", MODELS / "hello_world_int8.tflite", "-t", "qemu-m7", "-o", out], ["build", out, "-j2"]):
        r = subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
    return out


@pytest.mark.slow
@needs_arm
@needs_qemu
@pytest.mark.parametrize("sig,to_group", [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_flash_and_measure_stops_qemu(hello_built, sig, to_group):
    code, err, left = interrupt_run(["flash-and-measure", hello_built, "--random", "200", "--runs", "3"], sig, QEMU,
                                    to_group=to_group, settle=1.0)
    assert_interrupted(code, err, left, sig)
    assert not (hello_built / "build" / "measure.json").exists()  # no report of an interrupted run


@pytest.mark.slow
def test_ctrl_c_during_a_host_run_stops_the_host_firmware(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    code, err, left = interrupt_run(["validate", MODELS / "person_detect.tflite", "-t", "host", "--inputs", "500"],
                                    signal.SIGINT, {"firmware.elf"}, to_group=True, env={"TMPDIR": str(tmpdir)},
                                    settle=1.0)
    assert_interrupted(code, err, left, signal.SIGINT)
    assert not list(tmpdir.glob("mcugen-validate-*"))


@pytest.mark.slow
@needs_arm
@pytest.mark.parametrize("sig,to_group", [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_interrupting_a_flash_stops_the_flashing_tool(tmp_path, sig, to_group):
    """OpenOCD stuck on a probe (there is no board here): a stand-in `openocd` on PATH that
    starts a child and waits, as a flashing tool waiting on USB would."""
    out = tmp_path / "nucleo"
    for args in (["generate", MODELS / "hello_world_int8.tflite", "-t", "stm32h7", "-o", out], ["build", out, "-j2"]):
        r = subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "openocd").write_text("#!/bin/sh\nsleep 60 &\nwait\n")
    (tools / "openocd").chmod(0o755)
    master, slave = os.openpty()  # the board's virtual COM port
    try:
        code, err, left = interrupt_run(["flash-and-measure", out, "--runner", "openocd", "--port", os.ttyname(slave)],
                                        sig, {"sleep"}, to_group=to_group,
                                        env={"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}, settle=0.3)
    finally:
        os.close(master)
        os.close(slave)
    assert_interrupted(code, err, left, sig)
