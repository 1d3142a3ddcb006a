"""--runner labgrid on a board's place (mcugen/runners/labgrid_board.py): a real coordinator
and exporter exporting the place's probe as a NetworkUSBDebugger and its UART as an RFC 2217
NetworkSerialPort on 127.0.0.1; labgrid's own OpenOCDDriver / sshmanager / ManagedFile flash
through a fake `ssh` (the bench PC is this machine) and fake `openocd` / `pyocd` that check
their argv and "flash" by starting QEMU; the UART is pyserial's RFC 2217 server bridged to
QEMU (tests/_farm_board.py). person_detect bit-exact through it; the errors are clear and
release the place."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from _farm import BIN, Farm, client, free_port
from _farm_board import HERE, write_fakes
from mcugen.boards import get_board
from mcugen.errors import RunnerError
from mcugen.runners.labgrid_board import choose_flasher, openocd_driver, pyocd_command

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "models" / "person_detect.tflite"
IMAGES = [ROOT / "examples" / "models" / "person.bmp", ROOT / "examples" / "models" / "no_person.bmp"]
PROBE_PATH = "1-1.4"
SILENT_PROBE_PATH = "1-1.5"
RAW_PROBE_PATH = "1-1.6"
PROBE_UID = "0670FF383930434B43175331"
H7_TAGS = ["board=nucleo-h743zi2", f"probe={PROBE_UID}", "flasher=openocd"]


def debugger(path: str) -> dict:
    return {"host": "127.0.0.1", "busnum": 1, "devnum": 7, "path": path, "vendor_id": 0x0483, "model_id": 0x374E}


@pytest.fixture(scope="module")
def board_farm(tmp_path_factory):
    """Places h7 (the board's UART through the RFC 2217 server) and h7-silent (another board,
    whose RFC 2217 server never answers), both on the bench PC 127.0.0.1."""
    work = tmp_path_factory.mktemp("boardfarm")
    f = Farm(work)
    bridges: list[subprocess.Popen] = []
    f.serial_port, f.board_port, silent_port = free_port(), free_port(), free_port()
    raw_port = free_port()  # a board whose UART ser2net serves raw: QEMU's TCP port itself
    boards = {PROBE_PATH: f.board_port, SILENT_PROBE_PATH: free_port(), RAW_PROBE_PATH: raw_port}  # USB path -> UART
    f.env = {"PATH": f"{write_fakes(work / 'bin')}:{BIN}:{os.environ['PATH']}", "LG_COORDINATOR": f.address,
             "MCUGEN_FAKE_LOG": str(work / "fake.log"), "MCUGEN_FAKE_BOARD_DIR": str(work),
             "MCUGEN_FAKE_BOARDS": json.dumps(boards), "MCUGEN_FAKE_PROBE_PATH": PROBE_PATH,
             "MCUGEN_FAKE_PROBE_UID": PROBE_UID, "MCUGEN_FAKE_OPENOCD_CONFIG": "board/st_nucleo_h743zi.cfg",
             "MCUGEN_FAKE_PYOCD_TARGET": "mimxrt1050_hyperflash"}
    try:
        for port, extra in ((f.serial_port, []), (silent_port, ["--silent"])):
            bridges.append(subprocess.Popen([sys.executable, str(HERE / "_farm_board.py"), "bridge", str(port),
                                             str(f.board_port), str(work / "bridge.log"), *extra],
                                            start_new_session=True))
        f.start_coordinator()
        groups = {place: {"NetworkUSBDebugger": debugger(path),
                          "NetworkSerialPort": {"host": "127.0.0.1", "port": port, "speed": 115200,
                                                "protocol": protocol}}
                  for place, path, port, protocol in (("h7", PROBE_PATH, f.serial_port, "rfc2217"),
                                                      ("h7-silent", SILENT_PROBE_PATH, silent_port, "rfc2217"),
                                                      ("h7-raw", RAW_PROBE_PATH, raw_port, "raw"))}
        config = work / "exporter.yaml"
        config.write_text(yaml.safe_dump(groups))
        for place in groups:
            client(f.address, "-p", place, "create")
            client(f.address, "-p", place, "add-match", f"bench1/{place}/*")
            client(f.address, "-p", place, "set-tags", *H7_TAGS)
        f.start_exporter(config)
        f.wait_resources(2 * len(groups))
        yield f
    finally:
        f.stop()
        for b in bridges:
            os.killpg(b.pid, signal.SIGKILL)
            b.wait()
        for pidfile in work.glob("qemu-*.pid"):  # the "boards" run their last firmware until now
            try:
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


def retagged(project: Path, board: str, out: Path) -> Path:
    """The qemu-m7 firmware, its manifest naming `board`: what the fake probe "flashes" runs on
    QEMU, what mcugen sees is a project for that board (its flash settings, its place's tag)."""
    copy = out / board
    shutil.copytree(project, copy)
    manifest = copy / "mcugen.json"
    data = json.loads(manifest.read_text())
    data["board"] = board
    manifest.write_text(json.dumps(data))
    return copy


@pytest.fixture(scope="module")
def qemu_project(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdboard")
    for argv in (["generate", str(MODEL), "--target", "qemu-m7", "-o", str(out / "pd")], ["build", str(out / "pd")]):
        done = run_mcugen(*argv)
        assert done.returncode == 0, done.stderr
    return out / "pd"


def run_mcugen(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "mcugen", *args], env=full, cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


def fake_calls(farm: Farm) -> list[dict]:
    log = farm.workdir / "fake.log"
    calls = [json.loads(x) for x in log.read_text().splitlines()] if log.is_file() else []
    log.unlink(missing_ok=True)
    return calls


def acquired(farm: Farm, place: str) -> str:
    show = client(farm.address, "-p", place, "show").stdout
    return next(x for x in show.splitlines() if x.strip().startswith("acquired:")).split(":", 1)[1].strip()


def measure(farm: Farm, project: Path, place: str = "h7", env: dict | None = None, *extra: str):
    args = ["flash-and-measure", str(project), "--place", place, "--json", *extra]
    for image in IMAGES:
        args += ["--inputs", str(image)]
    return run_mcugen(*args, env={**farm.env, **(env or {})})


@pytest.mark.slow
def test_openocd_flashes_the_board_through_labgrids_driver_and_rfc2217_is_bit_exact(board_farm, qemu_project,
                                                                                    tmp_path):
    project = retagged(qemu_project, "nucleo-h743zi2", tmp_path)
    fake_calls(board_farm)
    done = measure(board_farm, project)
    assert done.returncode == 0, done.stderr + done.stdout
    rep = json.loads(done.stdout)
    assert rep["bit_exact"] and rep["runner"] == "labgrid" and rep["board"] == "nucleo-h743zi2"
    assert [r["outputs"] for r in rep["results"]] == [[[[-113, 113]]], [[[57, -57]]]]
    calls = fake_calls(board_farm)
    # labgrid ran OpenOCD on the bench PC through ssh, with the board's config and the probe's USB path
    remote = [c["argv"] for c in calls if c["tool"] == "ssh" and "openocd" in c["argv"]]
    assert len(remote) == 1 and remote[0][remote[0].index("127.0.0.1") + 1] == "--"
    openocd = [c["argv"] for c in calls if c["tool"] == "openocd"]
    assert openocd == [["--command", f'adapter usb location "{PROBE_PATH}"', "--file", "board/st_nucleo_h743zi.cfg",
                        "--command", f"program {(project / 'build' / 'firmware.elf').resolve()} verify reset exit"]]
    assert "baud 115200" in (board_farm.workdir / "bridge.log").read_text()  # RFC 2217 SET-BAUDRATE
    assert acquired(board_farm, "h7") == "None"


@pytest.mark.slow
def test_a_raw_tcp_serial_port_is_bit_exact_too(board_farm, qemu_project, tmp_path):
    project = retagged(qemu_project, "nucleo-h743zi2", tmp_path)
    fake_calls(board_farm)
    done = measure(board_farm, project, "h7-raw")
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["bit_exact"]
    openocd = [c["argv"] for c in fake_calls(board_farm) if c["tool"] == "openocd"]
    assert [a[1] for a in openocd] == [f'adapter usb location "{RAW_PROBE_PATH}"']
    assert acquired(board_farm, "h7-raw") == "None"


@pytest.mark.slow
def test_pyocd_flashes_through_the_debuggers_ssh_wrapping(board_farm, qemu_project, tmp_path):
    project = retagged(qemu_project, "mimxrt1050-evkb", tmp_path)  # pyOCD first among its runners, a built-in target
    client(board_farm.address, "-p", "h7", "set-tags", "board=mimxrt1050-evkb", f"probe={PROBE_UID}",
           "flasher=")
    try:
        fake_calls(board_farm)
        done = measure(board_farm, project)
    finally:
        client(board_farm.address, "-p", "h7", "set-tags", *H7_TAGS)
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["bit_exact"]
    pyocd = [c["argv"] for c in fake_calls(board_farm) if c["tool"] == "pyocd"]
    assert pyocd == [["flash", "--uid", PROBE_UID, "--target", "mimxrt1050_hyperflash", "-M", "under-reset",
                      "--format", "elf", str((project / "build" / "firmware.elf").resolve())]]
    assert acquired(board_farm, "h7") == "None"


@pytest.mark.slow
@pytest.mark.parametrize("place,env,message", [
    ("h7", {"MCUGEN_FAKE_FLASH_FAIL": "1"}, "Flashing place 'h7' with OpenOCD on 127.0.0.1 failed"),
    ("h7", {"MCUGEN_FAKE_SSH_FAIL": "1"}, "Flashing place 'h7' with OpenOCD on 127.0.0.1 failed"),
    ("h7-silent", {}, "does not answer as an RFC 2217 server"),
])
def test_errors_are_clear_and_release_the_place(board_farm, qemu_project, tmp_path, place, env, message):
    project = retagged(qemu_project, "nucleo-h743zi2", tmp_path)
    done = measure(board_farm, project, place, env)
    assert done.returncode == 1, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr and "Selected role" not in done.stderr
    if "MCUGEN_FAKE_SSH_FAIL" in env:
        assert "Connection refused" in done.stderr and "ssh 127.0.0.1" in done.stderr
    if "MCUGEN_FAKE_FLASH_FAIL" in env:
        assert "open failed" in done.stderr
    assert acquired(board_farm, place) == "None"


@pytest.mark.slow
def test_pyocd_errors_are_clear(board_farm, qemu_project, tmp_path):
    project = retagged(qemu_project, "mimxrt1050-evkb", tmp_path)
    client(board_farm.address, "-p", "h7", "set-tags", "board=mimxrt1050-evkb", "probe=", "flasher=")
    try:
        no_uid = measure(board_farm, project)
        failing = measure(board_farm, project, "h7", {"MCUGEN_FAKE_SSH_FAIL": "1"}, "--probe", PROBE_UID)
    finally:
        client(board_farm.address, "-p", "h7", "set-tags", *H7_TAGS)
    assert no_uid.returncode == 1 and "pyOCD needs the USB serial number" in no_uid.stderr
    assert failing.returncode == 1 and "Cannot reach 127.0.0.1, the bench PC of place 'h7'" in failing.stderr
    assert "Traceback" not in no_uid.stderr + failing.stderr
    assert acquired(board_farm, "h7") == "None"


# ---- without a farm -------------------------------------------------------------------------


def test_the_flasher_follows_the_board_and_the_place():
    h7 = get_board("nucleo-h743zi2")
    assert choose_flasher(h7, {}) == "pyocd"  # boards.yaml's order, as the local runners
    assert choose_flasher(h7, {"flasher": "openocd"}) == "openocd"
    with pytest.raises(RunnerError, match="flashes a farm's board with openocd or pyocd"):
        choose_flasher(h7, {"flasher": "jlink"})
    with pytest.raises(RunnerError, match="no flash.openocd_config for mimxrt1050-evkb"):
        choose_flasher(get_board("mimxrt1050-evkb"), {"flasher": "openocd"})
    with pytest.raises(RunnerError, match="neither OpenOCD nor pyOCD"):
        choose_flasher(get_board("qemu-m7"), {})


def test_tool_arguments():
    h7 = get_board("nucleo-h743zi2")
    assert openocd_driver(h7) == {"load_commands": ["program {filename} verify reset exit"],
                                  "board_config": "st_nucleo_h743zi.cfg"}
    assert pyocd_command(h7, "066A", "/r/f.elf", ("/r/p.pack",)) == [
        "pyocd", "flash", "--uid", "066A", "--target", "stm32h743zitx", "-M", "under-reset", "--pack", "/r/p.pack",
        "--format", "elf", "/r/f.elf"]


@pytest.mark.slow
def test_board_places_at_once_one_failing(board_farm, qemu_project, tmp_path):
    project = retagged(qemu_project, "nucleo-h743zi2", tmp_path)
    done = measure(board_farm, project, "h7,h7-silent")
    assert done.returncode == 1, done.stderr
    # the farm's summary first (the error object the failure adds follows it)
    result, _ = json.JSONDecoder().raw_decode(done.stdout)
    by_place = {p["place"]: p for p in result["places"]}
    assert by_place["h7"]["ok"] and by_place["h7"]["bit_exact"]
    assert not by_place["h7-silent"]["ok"] and "RFC 2217" in by_place["h7-silent"]["error"]
    assert result["summary"]["failed"] == ["h7-silent"]
    assert acquired(board_farm, "h7") == "None" and acquired(board_farm, "h7-silent") == "None"


@pytest.mark.slow
def test_interrupted_board_run_releases_the_place(board_farm, qemu_project, tmp_path):
    project = retagged(qemu_project, "nucleo-h743zi2", tmp_path)
    fake_calls(board_farm)
    proc = subprocess.Popen([sys.executable, "-m", "mcugen", "flash-and-measure", str(project), "--place", "h7",
                             "--random", "50"], env={**os.environ, "PYTHONPATH": str(ROOT), **board_farm.env},
                            cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any(c["tool"] == "openocd" for c in fake_calls_peek(board_farm)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the board was not flashed"
        time.sleep(0.2)
    time.sleep(3.0)  # flashed, in the middle of the run
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert acquired(board_farm, "h7") == "None"


def fake_calls_peek(farm: Farm) -> list[dict]:
    log = farm.workdir / "fake.log"
    return [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.is_file() else []
