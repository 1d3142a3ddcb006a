"""Common base of the runners (cf. Zephyr's west runners, runners/core.py).

A runner knows one way to get firmware running and to reach its UART: start
QEMU, exec the host build, flash through pyOCD or OpenOCD. Each declares its
capabilities, builds its command line in one function (`command()`, tested
for its exact argv), checks its programs with `require()`, and is a context
manager: `with runner: transport = runner.start()` always stops what it started.

Every subprocess a runner starts is registered here and killed at interpreter
exit or on SIGTERM/SIGHUP, and asked to die with its parent (PR_SET_PDEATHSIG):
no emulator stays behind.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.link.transport import Transport

STOP_GRACE_SECONDS = 2.0


class MissingProgramError(RunnerError):
    """A program a runner needs is not installed."""


@dataclass(frozen=True)
class RunnerCaps:
    flash: bool = False        # writes the image to non-volatile memory
    reset: bool = False        # can reset the target
    emulated: bool = False     # no hardware needed
    counter_unit: str = ""     # what the firmware's counter means on this runner


def require(program: str, package: str) -> str:
    """Path of `program`, or MissingProgramError naming the Debian package."""
    path = shutil.which(program)
    if path is None:
        raise MissingProgramError(f"'{program}' is not installed or not on PATH.",
                                  hint=f"Install it: apt-get install {package}.")
    return path


# ---- processes that must not outlive us -------------------------------------------------

_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()
_handlers_installed = False
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


def kill_process(proc: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    if proc.poll() is None:
        try:
            proc.terminate()
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        except ProcessLookupError:
            pass
    with _live_lock:
        _live.discard(proc)


def _kill_all() -> None:
    with _live_lock:
        procs = list(_live)
    for p in procs:
        kill_process(p, grace=0.5)


def _install_handlers() -> None:
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_kill_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(sig)

        def handler(signum, frame, previous=previous):
            _kill_all()
            if callable(previous):
                previous(signum, frame)
            else:
                raise SystemExit(128 + signum)

        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            pass


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    """Popen that is killed at exit and dies with this process."""
    _install_handlers()
    try:
        proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
    except OSError as exc:
        raise RunnerError(f"Cannot start {argv[0]}: {exc.strerror}.") from None
    with _live_lock:
        _live.add(proc)
    return proc


def live_processes() -> list[subprocess.Popen]:
    with _live_lock:
        return [p for p in _live if p.poll() is None]


class Runner(ABC):
    """One way to run firmware. Subclasses set `name` and `caps`."""

    name = "runner"
    caps = RunnerCaps()

    def __init__(self, board: Board, elf: str | Path) -> None:
        self.board = board
        self.elf = Path(elf)

    @abstractmethod
    def command(self) -> list[str]:
        """The argv this runner executes (empty for library-based runners)."""

    @abstractmethod
    def start(self) -> Transport:
        """Flash/launch the firmware and return an open transport to its UART."""

    @abstractmethod
    def stop(self) -> None:
        """Release everything start() acquired. Safe to call more than once."""

    def check_image(self) -> None:
        if not self.elf.is_file():
            raise RunnerError(f"No firmware image at {self.elf}.", hint="Build the project first (mcugen build).")

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def runner_names() -> list[str]:
    return ["qemu", "host", "pyocd", "openocd"]


def make_runner(name: str, board: Board, elf: str | Path, **options) -> Runner:
    """A runner by name; options go to its constructor (port=, probe=, ...)."""
    if name not in board.flash.runners:
        raise RunnerError(f"Runner '{name}' cannot run {board.name}.",
                          hint=f"Runners for this board: {', '.join(board.flash.runners)}.")
    if name == "qemu":
        from mcugen.runners.qemu import QemuRunner
        return QemuRunner(board, elf, **options)
    if name == "host":
        from mcugen.runners.host import HostRunner
        return HostRunner(board, elf, **options)
    if name == "pyocd":
        from mcugen.runners.pyocd import PyocdRunner
        return PyocdRunner(board, elf, **options)
    if name == "openocd":
        from mcugen.runners.openocd import OpenocdRunner
        return OpenocdRunner(board, elf, **options)
    raise RunnerError(f"Unknown runner '{name}'.", hint=f"Known runners: {', '.join(runner_names())}.")


def default_env() -> dict[str, str]:
    return dict(os.environ)
