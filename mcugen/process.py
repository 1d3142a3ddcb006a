"""Every child process mcugen starts: found, started, timed out and stopped here.

- `require(program)`: its path (PATH, then where a vendor installs it), or MissingProgramError
  saying where to get it (the Debian package, or the vendor's download page).
- `spawn(argv, ...)`: a Popen in its own session (so its process group holds what it
  starts in turn: make's compilers, a shell's commands), asked to die with mcugen
  (PR_SET_PDEATHSIG on Linux), and registered until `stop()` ends it.
- `run(argv, timeout=...)`: spawn, wait at most `timeout` seconds, always stop. On
  timeout the whole group is killed and subprocess.TimeoutExpired raised.
- `stop(proc)`: SIGTERM to the group, a grace period, then SIGKILL to the group.
- `stop_all()`: every registered child, at once (the signal handlers and atexit).

A child in its own session does not see the terminal's Ctrl-C; mcugen stops it itself
(mcugen.interrupt), so a compiler under make dies with make instead of finishing
its file as an orphan.
"""

from __future__ import annotations

import atexit
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Sequence

from mcugen.errors import ToolchainError
from mcugen.interrupt import deferred_signals

STOP_GRACE_SECONDS = 2.0
_POLL_SECONDS = 0.02

# Program -> what to install on Debian/Ubuntu for it.
PACKAGES = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "arm-none-eabi-g++": "gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib",
    "arm-none-eabi-ar": "binutils-arm-none-eabi",
    "make": "make",
    "cc": "gcc",
    "gcc": "gcc",
    "g++": "g++",
    "ar": "binutils",
    "qemu-system-arm": "qemu-system-arm",
    "openocd": "openocd",
}


class MissingProgramError(ToolchainError):
    """A program mcugen needs (compiler, make, emulator, flashing tool) is not installed."""


def require(program: str, package: str | None = None, *, hint: str | None = None,
            search: Sequence[str] = ()) -> str:
    """Path of `program` (a name looked up on PATH, or a path), else the first match of the
    `search` glob patterns (where a vendor's installer puts it, newest first), or
    MissingProgramError. Its hint is `hint` (where to get a vendor tool) or names the
    Debian package (`package`, else the known one for it)."""
    path = shutil.which(program)
    if path is None:
        for pattern in search:
            found = sorted(glob.glob(os.path.expanduser(pattern)), reverse=True)
            path = next((f for f in found if os.path.isfile(f) and os.access(f, os.X_OK)), None)
            if path:
                return path
        pkg = package or PACKAGES.get(os.path.basename(program))
        if hint is None:
            hint = f"Install it: apt-get install {pkg}." if pkg else f"Install {program} or put it on PATH."
        raise MissingProgramError(f"'{program}' is not installed or not on PATH.", hint=hint)
    return path


# ---- the registry of live children ------------------------------------------------------

_live: dict[int, subprocess.Popen] = {}
_lock = threading.Lock()
_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    """Runs in the child between fork and exec.

    Unblocks the signals spawn() held back while forking (a blocked mask survives
    exec: make would ignore our SIGTERM). On Linux, asks for SIGTERM when mcugen dies,
    even by SIGKILL; SIGTERM rather than SIGKILL so that make passes it on to its
    compilers. Linux ties it to the thread that forked: children are started from
    the main thread."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


def spawn(argv: Sequence[str], **popen: Any) -> subprocess.Popen:
    """A Popen in its own session, registered until stop(); dies with mcugen on Linux.

    OSError (e.g. the program vanished since require()) becomes a ToolchainError."""
    if "preexec_fn" in popen:
        raise TypeError("spawn() sets preexec_fn itself")
    popen["preexec_fn"] = _child_setup
    popen["start_new_session"] = True
    # No signal between the fork and the registration: a child nobody knows would outlive us.
    with deferred_signals():
        try:
            proc = subprocess.Popen(list(argv), **popen)
        except OSError as exc:
            raise ToolchainError(f"Cannot start {argv[0]}: {exc.strerror or exc}.") from None
        with _lock:
            _live[proc.pid] = proc
    return proc


def live() -> list[subprocess.Popen]:
    """The registered children still running (for tests and diagnostics)."""
    with _lock:
        procs = list(_live.values())
    return [p for p in procs if p.returncode is None and p.poll() is None]


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """`sig` to the child's process group (its pid: it leads its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exited_unreaped(proc: subprocess.Popen) -> bool:
    """True once the child has exited; does not reap it, so its pid (the group id)
    cannot be reused while we still signal the group."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped elsewhere (Popen.poll from another thread)
        return True


def stop_many(procs: Sequence[subprocess.Popen], grace: float = STOP_GRACE_SECONDS) -> None:
    """Ends each child and everything in its process group: SIGTERM, up to `grace`
    seconds for the leaders to exit, then SIGKILL to every group (stragglers that
    ignored SIGTERM or outlived their leader), and reaps the leaders."""
    with deferred_signals():
        pending = [p for p in procs if p.returncode is None]
        for p in pending:
            _signal_group(p, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pending and time.monotonic() < deadline:
            if all(_exited_unreaped(p) for p in pending):
                break
            time.sleep(_POLL_SECONDS)
        for p in pending:
            _signal_group(p, signal.SIGKILL)  # leaders are zombies at worst: the group id is still ours
        for p in procs:
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:  # unkillable (D state): leave it registered
                continue
            with _lock:
                _live.pop(p.pid, None)


def stop(proc: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """Ends `proc` and its process group (see stop_many). Safe to call more than once."""
    stop_many([proc], grace)


def stop_all(grace: float = 0.5) -> None:
    """Every registered child: for the signal handlers and interpreter exit."""
    with _lock:
        procs = list(_live.values())
    if procs:
        stop_many(procs, grace)


atexit.register(stop_all)


def run(argv: Sequence[str], *, timeout: float, input: bytes | str | None = None, capture: bool = True,
        **popen: Any) -> subprocess.CompletedProcess:
    """Runs `argv` to completion in its own process group, like subprocess.run.

    capture: stdout and stderr as pipes (unless given); `input` goes to stdin (else
    /dev/null). On timeout or any exception (an interrupt), the whole group is
    stopped; TimeoutExpired carries what was read so far."""
    if capture:
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("stdin", subprocess.PIPE if input is not None else subprocess.DEVNULL)
    proc = spawn(argv, **popen)
    try:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(proc, grace=0.5)
            try:
                out, err = proc.communicate(timeout=5)  # the group is dead: the pipes are at EOF
            except subprocess.TimeoutExpired:  # something unkillable holds them
                out = err = None
            raise subprocess.TimeoutExpired(list(argv), timeout, out, err) from None
        return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
    finally:
        stop(proc, grace=0.5)
