"""Runners: exact command lines, QEMU for real (and never left behind), the
host runner, pyOCD and OpenOCD up to the probe boundary."""

from __future__ import annotations

import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest

from _echo_project import make_echo_project
from mcugen.boards import get_board
from mcugen.build import build_project
from mcugen.errors import RunnerError
from mcugen.link import TargetLink
from mcugen.runners import MissingProgramError, make_runner, require
from mcugen.process import live as live_processes
from mcugen.runners.openocd import OpenocdRunner
from mcugen.runners.pyocd import PyocdRunner, find_serial_port, resolve_target
from mcugen.runners.qemu import QemuRunner


def test_qemu_argv():
    r = QemuRunner(get_board("qemu-m7"), "build/firmware.elf")
    assert r.command() == ["qemu-system-arm", "-M", "mps2-an500", "-cpu", "cortex-m7", "-nographic",
                           "-icount", "shift=0,align=off,sleep=off", "-serial", "pty", "-monitor", "none", "-kernel", "build/firmware.elf"]


def test_openocd_argv():
    r = OpenocdRunner(get_board("nucleo-h743zi2"), "build/firmware.elf", port="/dev/ttyACM0")
    assert r.command() == ["openocd", "-f", "board/st_nucleo_h743zi.cfg", "-c",
                           "program build/firmware.elf verify reset exit"]
    r = OpenocdRunner(get_board("stm32h747i-disco"), "b/f.elf", probe="0670FF")
    assert r.command() == ["openocd", "-f", "board/stm32h747i-disco.cfg", "-c", "adapter serial 0670FF",
                           "-c", "program b/f.elf verify reset exit"]


def test_missing_program_names_the_package(tmp_path):
    with pytest.raises(MissingProgramError, match="'no-such-tool'") as e:
        require("no-such-tool", "some-package")
    assert "apt-get install some-package" in e.value.hint
    elf = tmp_path / "f.elf"
    elf.write_bytes(b"\x7fELF")
    r = OpenocdRunner(get_board("nucleo-h743zi2"), elf, port="/dev/null", program="openocd-not-installed")
    with pytest.raises(MissingProgramError, match="openocd-not-installed"):
        r.flash()


def test_runner_must_fit_the_board():
    with pytest.raises(RunnerError, match="cannot run"):
        make_runner("qemu", get_board("rt1050"), "x.elf")


def test_runners_register_themselves_and_base_imports_none_of_them():
    import ast
    import inspect as pyinspect

    from mcugen.runners import base, runner_names

    assert runner_names() == ["host", "openocd", "pyocd", "qemu"]
    imported = {n.module for n in ast.walk(ast.parse(pyinspect.getsource(base))) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and m.startswith("mcugen.runners")}
    with pytest.raises(RunnerError, match="Unknown runner 'jlink'") as e:
        make_runner("jlink", get_board("qemu-m7"), "x.elf")
    assert "host, openocd, pyocd, qemu" in e.value.hint


@pytest.mark.parametrize("runner,board,options,message", [
    ("qemu", "qemu-m7", {"probe": "0670FF"}, "The qemu runner does not take --probe: it runs no hardware"),
    ("qemu", "qemu-m7", {"port": "/dev/ttyACM0"}, "does not take --port"),
    ("host", "host", {"probe": "X", "port": "Y"}, "The host runner does not take --port, --probe"),
    ("openocd", "stm32h7", {"pack": "x.pack"}, "The openocd runner does not take --pack."),
])
def test_capabilities_refuse_what_a_runner_cannot_do(runner, board, options, message):
    with pytest.raises(RunnerError) as e:
        make_runner(runner, get_board(board), "x.elf", **options)
    assert message in e.value.message and e.value.hint.startswith("Drop --")


def test_capabilities_checked_against_the_board():
    import dataclasses

    from mcugen.runners.base import check_request
    from mcugen.runners.openocd import OpenocdRunner

    rt1050 = get_board("rt1050")
    no_openocd = dataclasses.replace(rt1050, flash=dataclasses.replace(rt1050.flash, runners=("pyocd", "openocd")))
    with pytest.raises(RunnerError, match="no flash.openocd_config for mimxrt1050-evkb"):
        check_request(OpenocdRunner, no_openocd, {})
    wrong_unit = dataclasses.replace(get_board("stm32h7"), timing="instructions")
    with pytest.raises(RunnerError, match="counts cycles, but boards.yaml says .* counts instructions"):
        check_request(OpenocdRunner, wrong_unit, {})
    assert isinstance(make_runner("openocd", get_board("stm32h7"), "x.elf", port="/dev/ttyACM0", probe=None),
                      OpenocdRunner)


def test_pyocd_target_resolution():
    assert resolve_target(get_board("rt1050")).source == "builtin"
    assert resolve_target(get_board("rt1170")).source == "builtin"

    class Cache:  # an empty cmsis-pack-manager cache (no network here)
        index: dict = {}
        data_path = "/nonexistent"

        def packs_for_devices(self, devices):
            return []

    with pytest.raises(RunnerError, match="stm32h743zitx.*Keil.STM32H7xx_DFP") as e:
        resolve_target(get_board("nucleo-h743zi2"), cache_factory=Cache)
    assert "pyocd pack install stm32h743zitx" in e.value.hint
    with pytest.raises(RunnerError, match="does not exist"):
        resolve_target(get_board("stm32h747i-disco"), pack="/nonexistent.pack")


def test_pyocd_no_probe(tmp_path):
    elf = tmp_path / "f.elf"
    elf.write_bytes(b"\x7fELF")
    r = PyocdRunner(get_board("rt1050"), elf)
    with pytest.raises(RunnerError, match="No debug probe found for mimxrt1050-evkb"):
        r.start()


def test_serial_port_by_probe_serial():
    ports = [SimpleNamespace(device="/dev/ttyACM0", serial_number="0669FF"),
             SimpleNamespace(device="/dev/ttyACM1", serial_number="ABCDEF")]
    assert find_serial_port("abcdef", lambda: ports) == "/dev/ttyACM1"
    with pytest.raises(RunnerError, match="No serial port belongs to probe 1234") as e:
        find_serial_port("1234", lambda: ports)
    assert "--port" in e.value.hint


@pytest.fixture(scope="module")
def qemu_project(tmp_path_factory):
    d = tmp_path_factory.mktemp("qemu")
    make_echo_project(d, "qemu-m7", n0=64)
    build_project(d, jobs=2)
    return d


def _qemu_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "qemu-system-arm"], capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


@pytest.mark.slow
def test_qemu_runs_and_stops(qemu_project):
    with QemuRunner(get_board("qemu-m7"), qemu_project / "build/firmware.elf") as r:
        link = TargetLink(r.start())
        ann = link.connect(timeout=10)
        assert ann.timing_unit == "instructions" and ann.clock_hz == 25_000_000
        assert r.pty and r.pty.startswith("/dev/pts/") and r.running()
        pid = r.proc.pid
    # (other QEMUs on a shared machine may come and go: only this one is checked)
    assert r.proc.poll() is not None and pid not in _qemu_pids()


@pytest.mark.slow
def test_qemu_never_stays_behind_when_the_body_raises(qemu_project):
    runner = QemuRunner(get_board("qemu-m7"), qemu_project / "build/firmware.elf")
    with pytest.raises(ZeroDivisionError):
        with runner:
            runner.start()
            pid = runner.proc.pid
            1 / 0
    time.sleep(0.1)
    assert pid not in _qemu_pids()
    assert all(p.pid != pid for p in live_processes())


@pytest.mark.slow
def test_qemu_bad_image_is_a_runner_error(tmp_path):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"not an elf at all")
    with pytest.raises(RunnerError, match="QEMU exited"):
        with QemuRunner(get_board("qemu-m7"), bad, pty_timeout=5) as r:
            TargetLink(r.start(), timeout=0.3).connect(timeout=1)


@pytest.mark.skipif(shutil.which("openocd") is None, reason="openocd not installed")
def test_real_openocd_stops_at_the_probe_boundary(tmp_path):
    """The real OpenOCD with the board's config: no ST-LINK here, so a clear 'no probe' error."""
    elf = tmp_path / "firmware.elf"
    elf.write_bytes(b"\x7fELF")  # OpenOCD gives up at the adapter, before it reads the image
    r = OpenocdRunner(get_board("nucleo-h743zi2"), elf)
    with pytest.raises(RunnerError, match="OpenOCD failed") as err:
        r.flash()
    assert "open failed" in err.value.message and "No probe found" in err.value.hint
