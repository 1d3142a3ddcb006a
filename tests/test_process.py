"""mcugen.process: children found, timed out and stopped with everything they started;
mcugen.interrupt: temporary directories and held-back signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mcugen import interrupt, process
from mcugen.errors import ToolchainError
from mcugen.process import MissingProgramError, require

ROOT = Path(__file__).resolve().parent.parent


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_dead(pids, seconds=5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return []
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


# A shell that starts two grandchildren in the background and waits: like make and its compilers.
FAMILY = "sleep 60 & echo $! > {out}; sleep 60 & echo $! >> {out}; wait"


def test_require_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingProgramError, match="'arm-none-eabi-gcc' is not installed") as e:
        require("arm-none-eabi-gcc")
    assert e.value.hint == "Install it: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi."
    assert isinstance(e.value, ToolchainError)
    with pytest.raises(MissingProgramError) as e:
        require("qemu-system-arm")
    assert "apt-get install qemu-system-arm" in e.value.hint
    with pytest.raises(MissingProgramError) as e:
        require("frobnicate", "frob-tools")
    assert "apt-get install frob-tools" in e.value.hint
    with pytest.raises(MissingProgramError) as e:
        require("frobnicate")
    assert "Install frobnicate or put it on PATH" in e.value.hint


def test_a_timeout_kills_the_whole_group(tmp_path):
    pids_file = tmp_path / "pids"
    t0 = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        process.run(["sh", "-c", FAMILY.format(out=pids_file)], timeout=1.0)
    assert time.monotonic() - t0 < 5
    grandchildren = [int(x) for x in pids_file.read_text().split()]
    assert len(grandchildren) == 2
    assert _wait_dead(grandchildren) == []  # not only the shell: what it started too
    assert process.live() == []


def test_run_returns_output_and_status():
    r = process.run(["sh", "-c", "echo out; echo err >&2; exit 3"], text=True, timeout=10)
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    r = process.run(["cat"], input=b"bytes in", timeout=10)
    assert r.stdout == b"bytes in"


def test_stop_ends_the_group_and_forgets_the_child(tmp_path):
    pids_file = tmp_path / "pids"
    proc = process.spawn(["sh", "-c", FAMILY.format(out=pids_file)])
    deadline = time.monotonic() + 5
    while (not pids_file.exists() or len(pids_file.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc in process.live()
    assert os.getpgid(proc.pid) == proc.pid and os.getsid(proc.pid) == proc.pid  # its own session
    process.stop(proc)
    assert proc.returncode is not None and proc not in process.live()
    assert _wait_dead([int(x) for x in pids_file.read_text().split()]) == []
    process.stop(proc)  # twice is harmless


def test_children_do_not_inherit_held_back_signals():
    """spawn holds SIGINT/SIGTERM back while it forks; the child must not keep them blocked
    (a make with SIGTERM blocked could only be SIGKILLed, leaving its compilers)."""
    proc = process.spawn(["sleep", "30"])
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        blocked = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
        assert blocked & (1 << (signal.SIGTERM - 1) | 1 << (signal.SIGINT - 1)) == 0
        t0 = time.monotonic()
        process.stop(proc, grace=5)
        assert time.monotonic() - t0 < 2 and proc.returncode == -signal.SIGTERM  # SIGTERM was enough
    finally:
        process.stop(proc)


def test_a_missing_program_is_a_toolchain_error():
    with pytest.raises(ToolchainError, match="Cannot start /nonexistent/tool"):
        process.spawn(["/nonexistent/tool"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_children_die_with_a_killed_parent():
    script = textwrap.dedent("""\
        import sys, time
        from mcugen import process
        p = process.spawn(["sleep", "60"])
        print(p.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()  # SIGKILL: no handler, no atexit
        parent.wait()
        assert _wait_dead([child]) == []
    finally:
        parent.kill()


def test_temporary_directory_is_removed_however_the_block_ends():
    with pytest.raises(ZeroDivisionError):
        with interrupt.temporary_directory("mcugen-test-") as tmp:
            (tmp / "x").write_text("x")
            1 / 0
    assert not tmp.exists()
    with interrupt.temporary_directory("mcugen-test-") as tmp2:
        interrupt.remove_temporaries()  # what the CLI does after an interrupt
        assert not tmp2.exists()


def test_deferred_signals_arrive_after_the_block():
    got = []
    previous = signal.signal(signal.SIGTERM, lambda *a: got.append("SIGTERM"))
    try:
        with interrupt.deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            assert got == []  # held back: a rename half-done is never interrupted
        time.sleep(0.01)
        assert got == ["SIGTERM"]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_cli_puts_back_the_signal_handlers_it_replaced(monkeypatch):
    import mcugen.cli as cli

    before = {s: signal.getsignal(s) for s in interrupt.SIGNALS}
    monkeypatch.setattr(sys, "argv", ["mcugen", "--version"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 0
    assert {s: signal.getsignal(s) for s in interrupt.SIGNALS} == before
