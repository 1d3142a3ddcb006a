"""A real labgrid farm on this machine for the tests: a coordinator and an exporter (the
installed labgrid's programs, on free ports, in a temporary directory), exporting QEMU-backed
places (mcugen farm describe's groups: the UART as a NetworkSerialPort on a free TCP port).

`Farm.stop()` ends both programs (their whole process groups) and is called however the
test ends; `leftovers()` lists what would have been left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(address: str, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """labgrid-client against the farm's coordinator."""
    full = {**os.environ, "LG_COORDINATOR": address, **(env or {})}
    proc = subprocess.run([str(BIN / "labgrid-client"), *args], env=full, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"labgrid-client {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


class Farm:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen:
        path = self.workdir / log
        self.logs.append(path)
        with open(path, "wb") as out:
            proc = subprocess.Popen(argv, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def start_coordinator(self) -> None:
        self._spawn([str(BIN / "labgrid-coordinator"), "-l", self.address], "coordinator.log")
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the coordinator did not listen:\n" + self.log("coordinator.log"))
                time.sleep(0.1)

    def start_exporter(self, config: Path, name: str = "bench1") -> None:
        self._spawn([str(BIN / "labgrid-exporter"), "-c", self.address, "-n", name, "--hostname", "127.0.0.1",
                     str(config)], f"exporter-{name}.log")

    def wait_resources(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            out = client(self.address, "resources", check=False).stdout.split()
            if len(out) >= count:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the exporter's resources did not appear:\n" + self.log("exporter-bench1.log"))
            time.sleep(0.2)

    def log(self, name: str) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def qemu_processes_with(marker: str) -> list[str]:
    """Command lines of running QEMUs whose argv holds `marker` (a test's ELF path or port)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = status.read_bytes().split(b"\0")
        except OSError:
            continue
        line = b" ".join(argv).decode(errors="replace")
        if argv and argv[0].endswith(b"qemu-system-arm") and marker in line:
            found.append(line)
    return found


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (zombies excluded)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def stop_group(pgid: int, timeout: float = 15.0) -> None:
    """SIGTERM to the group, then SIGKILL to what is left after `timeout` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not group_members(pgid):
            return
