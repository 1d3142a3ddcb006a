"""Common base of the runners (cf. Zephyr's west runners, runners/core.py).

A runner knows one way to get firmware running and to reach its UART: start
QEMU, exec the host build, flash through pyOCD, OpenOCD, J-Link, LinkServer or
STM32CubeProgrammer (runners/tool.py for the command-line ones). Each declares its
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

__all__ = ["MissingProgramError", "Runner", "RunnerCaps", "check_options", "choose_runner", "image_regions",
           "make_runner", "register", "require", "runner_names"]

# What the user can pass to a runner, as the CLI spells it.
OPTION_FLAGS = {"port": "--port", "baud": "--baud", "probe": "--probe", "pack": "--pack",
                "download_pack": "--no-pack-download", "frequency": "--frequency",
                "place": "--place", "coordinator": "--coordinator", "wait": "--wait"}


@dataclass(frozen=True)
class RunnerCaps:
    flash: bool = False        # writes the image to non-volatile memory
    reset: bool = False        # can reset the target
    emulated: bool = False     # no hardware needed
    counter_unit: str = ""     # what the firmware's counter means on this runner (boards.yaml `timing`)
    options: tuple[str, ...] = ()  # what a user may choose (port=, probe=, ...): anything else is refused
    board_setting: str = ""    # the boards.yaml flash setting it needs (qemu_machine, pyocd_target, ...)
    host: bool = False         # runs the native build (the host board only)
    loader_flash: bool = False  # programs memory-mapped flash that needs an external loader (regions with init qspi)
    farm: bool = False         # runs any board on a farm's place (the place's tag names the board, not boards.yaml)


class Runner(ABC):
    """One way to run firmware. Subclasses set `name` and `caps`."""

    name = "runner"
    caps = RunnerCaps()
    transport: Transport | None = None  # the link to the target's UART while started
    request_timeout: float = 0.0  # seconds a request's answer may take at least (a farm's network serial port)

    def __init__(self, board: Board, elf: str | Path) -> None:
        self.board = board
        self.elf = Path(elf)

    def close_transport(self) -> None:
        """Closes the transport start() opened; stop() calls it first (safe to call again)."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None

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
        """RunnerError unless the image exists and this runner can write every region it fills."""
        if not self.elf.is_file():
            raise RunnerError(f"No firmware image at {self.elf}.", hint="Build the project first (mcugen build).")
        if self.caps.loader_flash:
            return
        needs_loader = [r for r in image_regions(self.elf, self.board) if r.init == "qspi"]
        if needs_loader:
            able = [n for n in self.board.flash.runners if n in _REGISTRY and _REGISTRY[n].caps.loader_flash]
            names = ", ".join(f"{r.name} (0x{r.base:08X})" for r in needs_loader)
            raise RunnerError(f"The image puts data in {names}, external flash that the {self.name} runner cannot "
                              "program (it needs an external loader).",
                              hint=(f"Use --runner {' or '.join(able)}." if able else
                                    "Place the weights in on-chip flash (--place weights=flash) instead."))

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
    if name not in board.flash.runners and not caps.farm:
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


def check_options(board: Board, runner: str | None, options: dict[str, Any]) -> None:
    """Before any build: RunnerError unless `runner` (else one of the board's runners) takes these options."""
    names = [runner] if runner else list(board.flash.runners)
    errors = []
    for name in names:
        try:
            check_request(runner_class(name), board, options)
            return
        except RunnerError as exc:
            errors.append(exc)
    raise errors[0]


def image_regions(elf: str | Path, board: Board) -> list:
    """The board's memory regions that the ELF's loadable bytes go to (empty for a board with
    no external flash needing a loader: nothing to decide there, and nothing is parsed)."""
    if not any(r.init == "qspi" for r in board.regions):
        return []
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(elf, "rb") as f:
            spans = [(seg["p_paddr"], seg["p_filesz"]) for seg in ELFFile(f).iter_segments()
                     if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]]
    except (ELFError, OSError, ValueError) as exc:
        raise RunnerError(f"{elf} is not a readable ELF image: {exc}.", hint="Rebuild it (mcugen build).") from None
    return [r for r in board.regions if any(a < r.end and a + n > r.base for a, n in spans)]


def choose_runner(board: Board, elf: str | Path, options: dict[str, Any] | None = None) -> str:
    """The board's first runner that takes these options and can write this image (weights in
    QSPI flash need a runner with an external loader); the first runner when none can (its
    check then says why)."""
    loader = any(r.init == "qspi" for r in board.regions) and Path(elf).is_file() and \
        any(r.init == "qspi" for r in image_regions(elf, board))
    for name in board.flash.runners:
        cls = _REGISTRY.get(name)
        if cls is None or (loader and not cls.caps.loader_flash):
            continue
        try:
            check_request(cls, board, options or {})
        except RunnerError:
            continue
        return name
    return board.flash.runners[0]


def make_runner(name: str, board: Board, elf: str | Path, **options: Any) -> Runner:
    """A runner by name, checked against the board and its caps; options go to its
    constructor (port=, probe=, ...; None values are dropped)."""
    cls = runner_class(name)
    check_request(cls, board, options)
    return cls(board, elf, **{k: v for k, v in options.items() if v is not None})
