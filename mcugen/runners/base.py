"""Common base of the runners (cf. Zephyr's west runners, runners/core.py).

A runner knows one way to get firmware running and to reach its UART: start
QEMU, exec the host build, flash through pyOCD or OpenOCD. Each declares its
capabilities (`RunnerCaps`), builds its command line in one function
(`command()`, tested for its exact argv), and is a context manager:
`with runner: transport = runner.start()` always stops what it started.

Runners register themselves by name (`@register`); `make_runner` checks a
request against the board and the runner's capabilities before constructing
anything. This module imports no runner: the package (`mcugen/runners/__init__.py`)
imports every runner module, so the registry is complete whenever this module
can be imported. Child processes (QEMU, OpenOCD, the host build) are started and
stopped by mcugen.process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.link.transport import Transport
from mcugen.process import MissingProgramError, require

__all__ = ["MissingProgramError", "Runner", "RunnerCaps", "make_runner", "register", "require", "runner_names"]

# What the user can pass to a runner, as the CLI spells it.
OPTION_FLAGS = {"port": "--port", "probe": "--probe", "pack": "--pack", "download_pack": "--download-pack",
                "frequency": "--frequency"}


@dataclass(frozen=True)
class RunnerCaps:
    flash: bool = False        # writes the image to non-volatile memory
    reset: bool = False        # can reset the target
    emulated: bool = False     # no hardware needed
    counter_unit: str = ""     # what the firmware's counter means on this runner (boards.yaml `timing`)
    options: tuple[str, ...] = ()  # what a user may choose (port=, probe=, ...): anything else is refused
    board_setting: str = ""    # the boards.yaml flash setting it needs (qemu_machine, pyocd_target, ...)
    host: bool = False         # runs the native build (the host board only)


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


_T = TypeVar("_T", bound=type)
_REGISTRY: dict[str, type[Runner]] = {}


def register(cls: _T) -> _T:
    """Class decorator: makes the runner available to make_runner under `cls.name`."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two runners named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def runner_names() -> list[str]:
    return sorted(_REGISTRY)


def runner_class(name: str) -> type[Runner]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RunnerError(f"Unknown runner '{name}'.", hint=f"Known runners: {', '.join(runner_names())}.") from None


def check_request(cls: type[Runner], board: Board, options: dict[str, Any]) -> None:
    """RunnerError unless runner `cls` can run `board` with these options (its caps)."""
    caps, name = cls.caps, cls.name
    if name not in board.flash.runners:
        raise RunnerError(f"Runner '{name}' cannot run {board.name}.",
                          hint=f"Runners for this board: {', '.join(board.flash.runners)}.")
    if caps.host != board.is_host:
        what = "runs the native build of the host target" if caps.host else "needs a Cortex-M target"
        raise RunnerError(f"Runner '{name}' {what}; {board.name} is {'' if board.is_host else 'not '}the host.")
    if caps.board_setting and not getattr(board.flash, caps.board_setting, ""):
        raise RunnerError(f"boards.yaml gives no flash.{caps.board_setting} for {board.name}: runner '{name}' "
                          "cannot run it.", hint="Add it to the board's entry or choose another runner.")
    if caps.counter_unit and caps.counter_unit != board.timing:
        raise RunnerError(f"Runner '{name}' counts {caps.counter_unit}, but boards.yaml says {board.name} counts "
                          f"{board.timing}.", hint="Fix the board's `timing` or its runners in boards.yaml.")
    refused = sorted(k for k, v in options.items() if v is not None and k not in caps.options)
    if refused:
        flags = ", ".join(OPTION_FLAGS.get(k, k) for k in refused)
        taken = ", ".join(OPTION_FLAGS.get(k, k) for k in caps.options)
        why = (": it runs no hardware, so there is no probe or serial port to choose" if caps.emulated else "")
        raise RunnerError(f"The {name} runner does not take {flags}{why}.",
                          hint=f"Drop {flags}" + (f"; it takes {taken}." if taken else "."))


def make_runner(name: str, board: Board, elf: str | Path, **options: Any) -> Runner:
    """A runner by name, checked against the board and its caps; options go to its
    constructor (port=, probe=, ...; None values are dropped)."""
    cls = runner_class(name)
    check_request(cls, board, options)
    return cls(board, elf, **{k: v for k, v in options.items() if v is not None})
