"""Ctrl-C, SIGTERM and SIGHUP: an exception that unwinds, and what must not be cut in two.

`install()` (the CLI does it first thing) turns the first of these signals into an
`Interrupted` exception raised in the main thread, so every `finally` and `with`
on the way out runs: runners stop QEMU and probes, mcugen.process stops make and its
compilers, temporary projects are removed. Later signals are only noted: the
cleanup they would cut short is bounded. `Interrupted` derives from BaseException so
that no `except Exception` swallows it, and not from KeyboardInterrupt, which typer
turns into a silent exit code.

`deferred_signals()` holds these signals back for a few system calls that must not
be split (starting and registering a child, moving a project into place); they
are delivered when the block ends. `temporary_directory()` is a mkdtemp that is
removed however the block ends, and listed for `remove_temporaries()` meanwhile.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)
_NAMES = {getattr(signal, "SIGINT", -1): "interrupted", getattr(signal, "SIGTERM", -1): "terminated (SIGTERM)",
          getattr(signal, "SIGHUP", -1): "hung up (SIGHUP)"}


class Interrupted(BaseException):
    """The user or the system asked mcugen to stop (signal `signum`); exit 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
        self.message = _NAMES.get(signum, f"stopped by signal {signum}")


_state = {"received": None}


def _handler(signum: int, frame: object) -> None:
    if _state["received"] is None:
        _state["received"] = signum
        raise Interrupted(signum)
    # a second signal while unwinding: the cleanup is bounded, let it finish


def install() -> dict[int, object]:
    """Makes SIGINT, SIGTERM and SIGHUP raise Interrupted in the main thread (once);
    returns the handlers it replaced, for restore()."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _state["received"] = None
    previous = {}
    for sig in SIGNALS:
        try:
            previous[sig] = signal.signal(sig, _handler)
        except (ValueError, OSError):
            pass
    return previous


def restore(previous: dict[int, object]) -> None:
    """Puts back the handlers install() replaced (mcugen run in-process, by tests)."""
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError, TypeError):
            pass


def received() -> int | None:
    """The first signal install()'s handler got, if any."""
    return _state["received"]


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Holds SIGINT/SIGTERM/SIGHUP back for the block; they arrive after it.

    Blocking the signals in this thread is not enough: the kernel hands a
    process-directed signal to any thread that does not block it (a progress bar's,
    pyserial's, pyOCD's), and Python then runs the handler in the main thread anyway.
    So, in the main thread, the handlers themselves are swapped for ones that only
    note the signal, and the noted signals are raised again, once each, when the
    block ends. The mask is blocked too, which keeps the block atomic for C code
    (fork and exec); children started inside inherit it, and mcugen.process
    unblocks it in the child before exec. Blocks nest."""
    in_main = threading.current_thread() is threading.main_thread()
    pending: list[int] = []
    swapped: dict[int, object] = {}
    if in_main:
        for sig in SIGNALS:
            try:
                swapped[sig] = signal.signal(sig, lambda signum, frame: pending.append(signum))
            except (ValueError, OSError):
                pass
    masked = hasattr(signal, "pthread_sigmask")
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS) if masked else None
    try:
        yield
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        for sig, handler in swapped.items():
            if handler is not None:  # None: not set from Python; nothing we can put back
                signal.signal(sig, handler)
        for sig in dict.fromkeys(pending):
            signal.raise_signal(sig)


_temporaries: set[Path] = set()
_lock = threading.Lock()


@contextmanager
def temporary_directory(prefix: str, dir: str | Path | None = None) -> Iterator[Path]:
    """A fresh directory (tempfile.mkdtemp) removed when the block ends, however it ends."""
    with deferred_signals():
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))
        with _lock:
            _temporaries.add(path)
    try:
        yield path
    finally:
        with deferred_signals():
            shutil.rmtree(path, ignore_errors=True)
            with _lock:
                _temporaries.discard(path)


def remove_temporaries() -> None:
    """Removes every temporary_directory() still open (the CLI, after an interrupt)."""
    with _lock:
        paths = list(_temporaries)
        _temporaries.clear()
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
