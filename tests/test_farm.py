"""--runner labgrid on a real labgrid farm: a coordinator and an exporter started here,
QEMU-backed places (mcugen/runners/labgrid.py), person_detect on two places at once,
bit-exact with TFLM; a place held by someone else; Ctrl-C in the middle of a run. After each,
no place is left acquired and no QEMU is left running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from _farm import BIN, Farm, client, qemu_processes_with
from mcugen.boards import get_board
from mcugen.errors import McugenError
from mcugen.farm.describe import describe_board
from mcugen.farm.parallel import split_places
from mcugen.farm.places import FarmError, coordinator_address

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "models" / "person_detect.tflite"
IMAGES = [ROOT / "examples" / "models" / "person.bmp", ROOT / "examples" / "models" / "no_person.bmp"]
PLACES = ("qemu-a", "qemu-b")


def mcugen(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "mcugen", *args], env=full, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def run_mcugen(*args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = mcugen(*args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    work = tmp_path_factory.mktemp("farm")
    f = Farm(work)
    try:
        f.start_coordinator()
        config = work / "exporter.yaml"
        groups = []
        for place in PLACES:
            files = describe_board(get_board("qemu-m7"), work / "places", place=place, exporter="bench1")
            groups.append(files[0].read_text())
            env = {**os.environ, "LG_COORDINATOR": f.address, "PATH": f"{BIN}:{os.environ['PATH']}"}
            subprocess.run(["sh", str(files[1])], env=env, check=True, capture_output=True, timeout=120)
        config.write_text("".join(groups))
        f.start_exporter(config)
        f.wait_resources(2 * len(PLACES))
        yield f
    finally:
        f.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("pd") / "pd"
    for argv in (["generate", str(MODEL), "--target", "qemu-m7", "-o", str(out)], ["build", str(out)]):
        done = run_mcugen(*argv)
        assert done.returncode == 0, done.stderr
    return out


def acquired(farm: Farm, place: str) -> str:
    show = client(farm.address, "-p", place, "show").stdout
    line = next(x for x in show.splitlines() if x.strip().startswith("acquired:"))
    return line.split(":", 1)[1].strip()


def assert_clean(farm: Farm, project: Path) -> None:
    for place in PLACES:
        assert acquired(farm, place) == "None", f"{place} left acquired"
    assert not qemu_processes_with(str(project)), "a QEMU was left running"


@pytest.mark.slow
def test_person_detect_on_two_places_at_once_is_bit_exact(farm, project):
    args = ["flash-and-measure", str(project), "--place", ",".join(PLACES), "--coordinator", farm.address, "--json"]
    for image in IMAGES:
        args += ["--inputs", str(image)]
    t0 = time.monotonic()
    done = run_mcugen(*args)
    seconds = time.monotonic() - t0
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout)
    assert [p["place"] for p in result["places"]] == list(PLACES)
    for entry in result["places"]:
        assert entry["ok"] and entry["bit_exact"] and entry["max_abs_diff"] == 0, entry
        assert entry["runner"] == "labgrid" and entry["board"] == "qemu-m7"
        assert [r["outputs"] for r in entry["results"]] == [[[[-113, 113]]], [[[57, -57]]]]
    assert result["summary"] == {"places": 2, "ok": 2, "failed": [], "bit_exact": True}
    # in parallel: the two runs overlap, so the whole takes less than their sum
    assert seconds < sum(p["seconds"] for p in result["places"]) + 5
    assert_clean(farm, project)


@pytest.mark.slow
def test_one_place_runs_through_the_ordinary_report(farm, project):
    done = run_mcugen("flash-and-measure", str(project), "--runner", "labgrid", "--place", "qemu-b",
                      "--inputs", str(IMAGES[0]), "--json", env={"LG_COORDINATOR": farm.address})
    assert done.returncode == 0, done.stderr
    rep = json.loads(done.stdout)
    assert rep["bit_exact"] and rep["runner"] == "labgrid"
    assert_clean(farm, project)


@pytest.mark.slow
def test_a_held_place_names_its_holder_and_wait_waits(farm, project):
    alice = {"LG_USERNAME": "alice", "LG_HOSTNAME": "desk7"}
    client(farm.address, "-p", "qemu-a", "acquire", env=alice)
    try:
        done = run_mcugen("flash-and-measure", str(project), "--place", "qemu-a", "--coordinator", farm.address)
        assert done.returncode == 1
        assert "acquired by desk7/alice" in done.stderr and "--wait" in done.stderr
        assert "Traceback" not in done.stderr
        waiting = mcugen("flash-and-measure", str(project), "--place", "qemu-a", "--coordinator", farm.address,
                         "--wait", "--json")
        time.sleep(3)
        assert waiting.poll() is None, "mcugen did not wait for the place"
        assert acquired(farm, "qemu-a") == "desk7/alice"
    finally:
        client(farm.address, "-p", "qemu-a", "release", env=alice)
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert json.loads(out)["bit_exact"]
    # one line says why the command sat idle (stderr: also with --json), then nothing more about it
    assert err.count("mcugen: place qemu-a is acquired by desk7/alice: waiting") == 1, err
    assert_clean(farm, project)


@pytest.mark.slow
@pytest.mark.parametrize("places", [",".join(PLACES), PLACES[0]])
def test_interrupted_run_releases_the_places_and_stops_qemu(farm, project, places):
    proc = mcugen("flash-and-measure", str(project), "--place", places, "--coordinator", farm.address,
                  "--random", "50")
    deadline = time.monotonic() + 120
    while len(qemu_processes_with(str(project))) < len(places.split(",")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the QEMUs of the places did not start"
        time.sleep(0.1)
    assert all(acquired(farm, p) != "None" for p in places.split(","))
    time.sleep(1.0)  # in the middle of the runs
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert_clean(farm, project)


@pytest.mark.slow
def test_a_place_of_another_board_is_refused(farm, project):
    client(farm.address, "-p", "qemu-b", "set-tags", "board=nucleo-h743zi2")
    try:
        done = run_mcugen("flash-and-measure", str(project), "--place", "qemu-b", "--coordinator", farm.address)
    finally:
        client(farm.address, "-p", "qemu-b", "set-tags", "board=qemu-m7")
    assert done.returncode == 1
    assert "holds a nucleo-h743zi2, not qemu-m7" in done.stderr
    assert_clean(farm, project)


@pytest.mark.slow
def test_a_place_whose_port_is_taken_is_a_clear_error(farm, project):
    group = yaml.safe_load((farm.workdir / "places" / "exporter-qemu-b.yaml").read_text())
    port = group["qemu-b"]["NetworkSerialPort"]["port"]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        done = run_mcugen("flash-and-measure", str(project), "--place", "qemu-b", "--coordinator", farm.address)
    assert done.returncode == 1, done.stderr
    assert "QEMU for place 'qemu-b' exited" in done.stderr and f"127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert_clean(farm, project)


@pytest.mark.slow
def test_no_coordinator_is_a_clear_error(project):
    done = run_mcugen("flash-and-measure", str(project), "--place", "x", env={"LG_COORDINATOR": ""})
    assert done.returncode == 1 and "No labgrid coordinator given" in done.stderr
    done = run_mcugen("flash-and-measure", str(project), "--runner", "qemu", "--place", "x",
                      "--coordinator", "127.0.0.1:1")
    assert done.returncode == 1 and "does not take --coordinator, --place" in done.stderr


@pytest.mark.slow
def test_interrupted_wait_leaves_the_holder_its_place(farm, project):
    alice = {"LG_USERNAME": "alice", "LG_HOSTNAME": "desk7"}
    client(farm.address, "-p", "qemu-a", "acquire", env=alice)
    try:
        proc = mcugen("flash-and-measure", str(project), "--place", "qemu-a", "--coordinator", farm.address, "--wait")
        time.sleep(3)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "Traceback" not in err
        assert acquired(farm, "qemu-a") == "desk7/alice"
    finally:
        client(farm.address, "-p", "qemu-a", "release", env=alice)
    assert_clean(farm, project)


# ---- without a farm -------------------------------------------------------------------------


def test_describe_writes_files_labgrid_reads(tmp_path):
    from labgrid.remote.config import ResourceConfig  # labgrid-exporter's own reader of its config

    files = describe_board(get_board("qemu-m7"), tmp_path, place="q1", exporter="bench9", port=4321)
    assert [f.name for f in files] == ["exporter-q1.yaml", "place-q1.sh", "env-q1.yaml"]
    data = ResourceConfig(str(files[0])).data
    assert data == {"q1": {"NetworkSerialPort": {"host": "127.0.0.1", "port": 4321, "speed": 115200,
                                                 "protocol": "raw"},
                           "MCUGenQEMU": {"board": "qemu-m7"}}}
    script = files[1].read_text()
    assert "labgrid-client -p q1 add-match 'bench9/q1/*'" in script and "set-tags board=qemu-m7" in script

    h7 = describe_board(get_board("stm32h7"), tmp_path, exporter="b", serial="0670FF")
    group = ResourceConfig(str(h7[0])).data["nucleo-h743zi2"]
    assert group == {"USBSerialPort": {"match": {"ID_SERIAL_SHORT": "0670FF"}, "speed": 115200},
                     "USBDebugger": {"match": {"ID_SERIAL_SHORT": "0670FF"}}}
    assert "labgrid-client -p nucleo-h743zi2 set-tags board=nucleo-h743zi2 probe=0670FF" in h7[1].read_text()
    assert "probe=" not in script  # a QEMU place has no probe


@pytest.mark.parametrize("board,kwargs,message", [
    ("stm32h7", {}, "needs its debug probe's USB serial number"),
    ("host", {}, "has no place on a farm"),
    ("qemu-m7", {"place": "../x"}, "cannot name a place"),
])
def test_describe_refuses_what_it_cannot_describe(tmp_path, board, kwargs, message):
    with pytest.raises(McugenError, match=message):
        describe_board(get_board(board), tmp_path, **kwargs)


def test_places_and_coordinator_arguments(monkeypatch):
    assert split_places(" a, b,a,,c ") == ["a", "b", "c"]
    with pytest.raises(FarmError, match="names no place"):
        split_places(" , ")
    monkeypatch.setenv("LG_COORDINATOR", "farm.lab")
    assert coordinator_address(None) == "farm.lab:20408"
    assert coordinator_address("10.0.0.2:1234") == "10.0.0.2:1234"
    monkeypatch.delenv("LG_COORDINATOR")
    with pytest.raises(FarmError, match="No labgrid coordinator given"):
        coordinator_address(None)


def test_several_places_refuse_another_runner_and_its_options(tmp_path):
    done = run_mcugen("flash-and-measure", str(tmp_path), "--place", "a,b", "--runner", "qemu")
    assert done.returncode == 1 and "runs them through labgrid, not the qemu runner" in done.stderr
    done = run_mcugen("flash-and-measure", str(tmp_path), "--place", "a,b", "--port", "/dev/ttyACM0")
    assert done.returncode == 1 and "The labgrid runner does not take --port" in done.stderr
