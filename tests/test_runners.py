"""Runners: exact command lines (the process call patched, its argv asserted, as Zephyr's
west-runner tests do), capabilities enforced, QEMU for real (and never left behind), the
command-line flashers through a real pty, pyOCD and OpenOCD for real up to the missing probe."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest

from _cmsis_pack import build_flm, build_pack
from _echo_project import make_echo_project
from _images import make_image
from mcugen.boards import get_board
from mcugen.build import build_project
from mcugen.errors import RunnerError
from mcugen.link import TargetLink
from mcugen.process import live as live_processes
from mcugen.runners import MissingProgramError, choose_runner, make_runner, require
from mcugen.runners import tool as tool_module
from mcugen.runners.jlink import JlinkRunner
from mcugen.runners.linkserver import LinkserverRunner
from mcugen.runners.openocd import OpenocdRunner
from mcugen.runners.pyocd import PyocdRunner
from mcugen.runners.qemu import QemuRunner
from mcugen.runners.stm32cubeprogrammer import Stm32CubeProgrammerRunner
from test_probes import port_info

needs_binutils = pytest.mark.skipif(shutil.which("arm-none-eabi-ld") is None, reason="arm-none-eabi binutils missing")


def test_qemu_argv():
    r = QemuRunner(get_board("qemu-m7"), "build/firmware.elf")
    assert r.command() == ["qemu-system-arm", "-M", "mps2-an500", "-cpu", "cortex-m7", "-nographic",
                           "-icount", "shift=0,align=off,sleep=off", "-serial", "pty", "-monitor", "none", "-kernel", "build/firmware.elf"]


def test_openocd_argv():
    r = OpenocdRunner(get_board("nucleo-h743zi2"), "build/firmware.elf")
    assert r.command() == ["openocd", "-f", "board/st_nucleo_h743zi.cfg", "-c",
                           "program build/firmware.elf verify reset exit"]
    r = OpenocdRunner(get_board("stm32h747i-disco"), "b/f.elf", probe="0670FF")
    assert r.command("/usr/bin/openocd") == ["/usr/bin/openocd", "-f", "board/stm32h747i-disco.cfg",
                                             "-c", "adapter serial 0670FF", "-c", "program b/f.elf verify reset exit"]


class Calls:
    """Stands in for mcugen.process.run in the tool runners: records each argv (and the
    command file J-Link reads at that moment) and answers like the tool would."""

    def __init__(self, returncode: int = 0, output: str = "") -> None:
        self.argvs: list[list[str]] = []
        self.returncode, self.output = returncode, output
        self.port_open_at_call: list[bool] = []
        self.runner = None

    def __call__(self, argv, timeout, **kwargs):
        self.argvs.append(list(argv))
        if self.runner is not None:
            self.port_open_at_call.append(self.runner.transport is not None)
        return subprocess.CompletedProcess(argv, self.returncode, self.output, None)


@pytest.fixture
def calls(monkeypatch):
    c = Calls()
    monkeypatch.setattr(tool_module, "run", c)
    return c


def _installed(monkeypatch, where: str = "/opt/vendor/bin"):
    """The tool 'is installed' at `where` (require answers its path)."""
    monkeypatch.setattr(tool_module, "require", lambda program, **kw: f"{where}/{os.path.basename(program)}")


@needs_binutils
def test_jlink_argv_and_command_file(tmp_path, calls, monkeypatch):
    _installed(monkeypatch, "/opt/SEGGER/JLink")
    elf = make_image(tmp_path / "build", 0x60002000)
    r = JlinkRunner(get_board("rt1050"), elf, probe="000621000123")
    r.flash()
    assert calls.argvs == [["/opt/SEGGER/JLink/JLinkExe", "-nogui", "1", "-USB", "000621000123",
                            "-CommanderScript", str(tmp_path / "build" / "flash.jlink")]]
    assert (tmp_path / "build" / "flash.jlink").read_text().splitlines() == [
        "ExitOnError 1", "device MIMXRT1052xxxxB", "si SWD", "speed 4000", "connect", "r",
        f'loadfile "{tmp_path / "build" / "firmware.hex"}"', "r", "g", "exit"]
    for board, device in (("rt1170", "MIMXRT1176xxxA_M7"), ("stm32h7", "STM32H743ZI"),
                          ("stm32h747i-disco", "STM32H747XI_M7")):
        assert f"device {device}" in JlinkRunner(get_board(board), elf).script()
    assert JlinkRunner(get_board("stm32h7"), "b/firmware.elf").command() == [
        "JLinkExe", "-nogui", "1", "-CommanderScript", "b/flash.jlink"]


def test_linkserver_argv():
    r = LinkserverRunner(get_board("rt1050"), "build/firmware.elf")
    assert r.command("/usr/local/LinkServer/LinkServer") == [
        "/usr/local/LinkServer/LinkServer", "flash", "MIMXRT1052xxxxB:EVKB-IMXRT1050", "load", "build/firmware.elf"]
    r = LinkserverRunner(get_board("rt1170"), "build/firmware.elf", probe="I2RZ2TTJJRRVG")
    assert r.command() == ["LinkServer", "flash", "--probe", "I2RZ2TTJJRRVG", "MIMXRT1176xxxxx:MIMXRT1170-EVK",
                           "load", "build/firmware.elf"]


@needs_binutils
def test_stm32cubeprogrammer_argv_and_external_loader(tmp_path, calls, monkeypatch):
    bin_dir = tmp_path / "STM32CubeProgrammer" / "bin"
    _installed(monkeypatch, str(bin_dir))
    internal = make_image(tmp_path / "a" / "build", 0x08000000)
    r = Stm32CubeProgrammerRunner(get_board("stm32h7"), internal, probe="003A00293133510B37363734")
    r.flash()
    assert calls.argvs[-1] == [str(bin_dir / "STM32_Programmer_CLI"), "-c", "port=SWD",
                               "sn=003A00293133510B37363734", "mode=UR", "reset=HWrst",
                               "-w", str(internal.with_suffix(".hex")), "-v", "-rst"]
    # weights in the H747-DISCO's QSPI flash: the external loader ST ships for that board
    qspi = make_image(tmp_path / "b" / "build", 0x08000000, 0x90000000)
    r = Stm32CubeProgrammerRunner(get_board("stm32h747i-disco"), qspi)
    loader = bin_dir / "ExternalLoader" / "MT25TL01G_STM32H747I-DISCO.stldr"
    with pytest.raises(RunnerError, match="external loader MT25TL01G_STM32H747I-DISCO.stldr is not at") as e:
        r.flash()
    assert "ships with STM32CubeProgrammer" in e.value.hint
    loader.parent.mkdir(parents=True)
    loader.write_bytes(b"loader")
    r.flash()
    assert calls.argvs[-1] == [str(bin_dir / "STM32_Programmer_CLI"), "-c", "port=SWD", "mode=UR", "reset=HWrst",
                               "-el", str(loader), "-w", str(qspi.with_suffix(".hex")), "-v", "-rst"]


@pytest.mark.parametrize("cls,program,where", [
    (JlinkRunner, "JLinkExe", "https://www.segger.com/downloads/jlink/"),
    (LinkserverRunner, "LinkServer", "https://www.nxp.com/"),
    (Stm32CubeProgrammerRunner, "STM32_Programmer_CLI", "https://www.st.com/en/development-tools/stm32cubeprog.html"),
    (OpenocdRunner, "openocd", "apt-get install openocd"),
])
def test_missing_program_says_where_to_get_it(cls, program, where, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(cls, "search", ())  # no vendor install on this machine either way
    board = get_board("rt1050" if cls is LinkserverRunner else "stm32h7")
    with pytest.raises(MissingProgramError, match=f"'{program}' is not installed") as e:
        cls(board, "build/firmware.elf").flash()
    assert where in e.value.hint


def test_vendor_install_locations_are_searched(tmp_path, monkeypatch):
    tool = tmp_path / "SEGGER" / "JLink_V798" / "JLinkExe"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert require("JLinkExe", search=[str(tmp_path / "SEGGER" / "JLink_V*" / "JLinkExe")]) == str(tool)
    with pytest.raises(MissingProgramError, match="'no-such-tool'") as e:
        require("no-such-tool", "some-package")
    assert "apt-get install some-package" in e.value.hint


@needs_binutils
def test_tool_failure_shows_its_output_and_what_to_do(tmp_path, monkeypatch):
    _installed(monkeypatch)
    out = ("SEGGER J-Link Commander V7.98 (Compiled Jun 11 2024 17:08:22)\nDLL version V7.98, compiled Jun 11 2024\n\n"
           "Connecting to J-Link via USB...FAILED: Cannot connect to J-Link.\nScript processing completed.\n")
    monkeypatch.setattr(tool_module, "run", Calls(returncode=1, output=out))
    r = JlinkRunner(get_board("rt1170"), make_image(tmp_path / "build", 0x30002000))
    with pytest.raises(RunnerError, match=r"J-Link Commander failed \(exit 1\):") as e:
        r.flash()
    assert "Cannot connect to J-Link" in e.value.message and e.value.hint.startswith("No J-Link found")
    monkeypatch.setattr(tool_module, "run", Calls(returncode=1, output="Error: file not found\n"))
    with pytest.raises(RunnerError) as e:
        LinkserverRunner(get_board("rt1170"), tmp_path / "build" / "firmware.elf").flash()
    assert e.value.hint == "See LinkServer's output above."


def test_runner_must_fit_the_board():
    with pytest.raises(RunnerError, match="cannot run"):
        make_runner("qemu", get_board("rt1050"), "x.elf")
    with pytest.raises(RunnerError, match="Runner 'linkserver' cannot run nucleo-h743zi2"):
        make_runner("linkserver", get_board("stm32h7"), "x.elf")


def test_runners_register_themselves_and_base_imports_none_of_them():
    import ast
    import inspect as pyinspect

    from mcugen.runners import base, runner_names

    assert runner_names() == ["host", "jlink", "labgrid", "linkserver", "openocd", "pyocd", "qemu",
                              "stm32cubeprogrammer"]
    imported = {n.module for n in ast.walk(ast.parse(pyinspect.getsource(base))) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and m.startswith("mcugen.runners")}
    with pytest.raises(RunnerError, match="Unknown runner 'segger'") as e:
        make_runner("segger", get_board("qemu-m7"), "x.elf")
    assert "host, jlink, labgrid, linkserver, openocd, pyocd, qemu, stm32cubeprogrammer" in e.value.hint


def test_runner_modules_stay_small():
    from pathlib import Path

    import mcugen.runners as pkg

    for path in Path(pkg.__file__).parent.glob("*.py"):
        assert len(path.read_text().splitlines()) < 300, path.name


@pytest.mark.parametrize("runner,board,options,message", [
    ("qemu", "qemu-m7", {"probe": "0670FF"}, "The qemu runner does not take --probe: it runs no hardware"),
    ("qemu", "qemu-m7", {"port": "/dev/ttyACM0"}, "does not take --port"),
    ("qemu", "qemu-m7", {"baud": 921600}, "does not take --baud"),
    ("host", "host", {"probe": "X", "port": "Y"}, "The host runner does not take --port, --probe"),
    ("openocd", "stm32h7", {"pack": "x.pack"}, "The openocd runner does not take --pack."),
    ("jlink", "rt1050", {"download_pack": False}, "The jlink runner does not take --no-pack-download."),
])
def test_capabilities_refuse_what_a_runner_cannot_do(runner, board, options, message):
    with pytest.raises(RunnerError) as e:
        make_runner(runner, get_board(board), "x.elf", **options)
    assert message in e.value.message and e.value.hint.startswith("Drop --")


def test_capabilities_checked_against_the_board():
    import dataclasses

    from mcugen.runners.base import check_request

    rt1050 = get_board("rt1050")
    no_openocd = dataclasses.replace(rt1050, flash=dataclasses.replace(rt1050.flash, runners=("pyocd", "openocd")))
    with pytest.raises(RunnerError, match="no flash.openocd_config for mimxrt1050-evkb"):
        check_request(OpenocdRunner, no_openocd, {})
    no_device = dataclasses.replace(rt1050, flash=dataclasses.replace(rt1050.flash, jlink_device=""))
    with pytest.raises(RunnerError, match="no flash.jlink_device for mimxrt1050-evkb"):
        check_request(JlinkRunner, no_device, {})
    wrong_unit = dataclasses.replace(get_board("stm32h7"), timing="instructions")
    with pytest.raises(RunnerError, match="counts cycles, but boards.yaml says .* counts instructions"):
        check_request(OpenocdRunner, wrong_unit, {})
    for name in ("openocd", "jlink", "stm32cubeprogrammer", "pyocd"):
        assert make_runner(name, get_board("stm32h7"), "x.elf", port="/dev/ttyACM0", baud=921600).baud == 921600


@needs_binutils
def test_weights_in_qspi_need_the_runner_with_an_external_loader(tmp_path):
    disco = get_board("stm32h747i-disco")
    qspi = make_image(tmp_path / "q" / "build", 0x08000000, 0x90000000)
    for cls in (PyocdRunner, OpenocdRunner, JlinkRunner):
        with pytest.raises(RunnerError, match=r"puts data in qspi \(0x90000000\), external flash that the") as e:
            cls(disco, qspi).check_image()
        assert e.value.hint == "Use --runner stm32cubeprogrammer."
    Stm32CubeProgrammerRunner(disco, qspi).check_image()
    assert choose_runner(disco, qspi) == "stm32cubeprogrammer"
    internal = make_image(tmp_path / "i" / "build", 0x08000000, 0x24000000)
    assert choose_runner(disco, internal) == "pyocd"
    assert choose_runner(disco, internal, {"pack": "x.pack"}) == "pyocd"
    assert choose_runner(get_board("rt1050"), internal, {"probe": "X"}) == "pyocd"
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"\x7fELF garbage")
    with pytest.raises(RunnerError, match="is not a readable ELF image"):
        PyocdRunner(disco, bad).check_image()


@pytest.fixture
def pty_port():
    """A real pseudo-terminal standing in for the probe's virtual COM port."""
    master, slave = os.openpty()
    yield os.ttyname(slave), master
    os.close(master)
    os.close(slave)


@needs_binutils
@pytest.mark.parametrize("cls,board,vid_pid,serial", [
    (OpenocdRunner, "stm32h7", (0x0483, 0x374E), "0670FF383930434B43185524"),
    (Stm32CubeProgrammerRunner, "stm32h747i-disco", (0x0483, 0x374E), "003A00293133510B37363734"),
    (JlinkRunner, "rt1050", (0x1366, 0x1015), "000621000123"),
    (LinkserverRunner, "rt1170", (0x1FC9, 0x0143), "I2RZ2TTJJRRVG"),
])
def test_tool_runner_finds_the_port_opens_it_at_the_baud_then_flashes(cls, board, vid_pid, serial, pty_port, calls,
                                                                       monkeypatch, tmp_path):
    """Every command-line runner: no --port needed (issue 18: OpenOCD asked for it); the port
    is open before the tool resets the target; --baud reaches the port."""
    _installed(monkeypatch)
    path, master = pty_port
    elf = make_image(tmp_path / "build", 0x08000000)
    ports = [port_info("/dev/ttyS0"), port_info(path, *vid_pid, serial=serial)]
    runner = make_runner(cls.name, get_board(board), elf, baud=921600)
    runner.comports = lambda: ports
    calls.runner = runner
    with runner:
        transport = runner.start()
        assert transport.port == path and transport._serial.baudrate == 921600
        assert calls.port_open_at_call == [True] and len(calls.argvs) == 1
        os.write(master, b"\xa5hello")
        assert transport.read(16, timeout=2.0) == b"\xa5hello"
    assert runner.transport is None


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


@needs_binutils
def test_pyocd_no_probe(tmp_path):
    r = PyocdRunner(get_board("rt1050"), make_image(tmp_path / "build", 0x60002000))
    with pytest.raises(RunnerError, match="No debug probe found for mimxrt1050-evkb"):
        r.start()


@needs_binutils
def test_pyocd_with_a_pack_file_reaches_the_probe(tmp_path):
    """--pack with a real pack: pyOCD's parser takes it, the session is asked for a probe."""
    pack = build_pack(tmp_path / "Keil.STM32H7xx_DFP.9.9.9.pack", build_flm(tmp_path / "algo.FLM"))
    r = PyocdRunner(get_board("stm32h7"), make_image(tmp_path / "build", 0x08000000), pack=str(pack))
    with pytest.raises(RunnerError, match="No debug probe found for nucleo-h743zi2"):
        r.start()
    assert r.session_options(SimpleNamespace(target="stm32h743zitx", pack_paths=(str(pack),))) == {
        "target_override": "stm32h743zitx", "connect_mode": "under-reset", "pack": [str(pack)]}
