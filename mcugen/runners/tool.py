"""Common part of the runners that flash through a vendor's command-line tool
(OpenOCD, J-Link Commander, LinkServer, STM32CubeProgrammer).

start(): the image is checked, the board's serial port is found (`port=`, else from
the probe's USB identity: runners/probes.py) and opened first, so that the boot
announcement after the tool's reset is not lost; then the tool runs once, with a
timeout, through mcugen.process. A subclass gives the tool's argv (`command()`,
tested for its exact value), where to get the tool, and the phrases by which its
output says that no probe is attached.
"""

from __future__ import annotations

import subprocess
from abc import abstractmethod
from pathlib import Path
from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.link.transport import DEFAULT_BAUD, SerialTransport, Transport
from mcugen.process import require, run
from mcugen.runners.base import Runner
from mcugen.runners.probes import Comports, find_port

FLASH_TIMEOUT = 180.0  # seconds: a few MB of weights through an external loader take a while
OUTPUT_TAIL_LINES = 15


class ToolRunner(Runner):
    """Flashes with one command-line tool run, then talks to the board's virtual COM port."""

    program = ""                         # the tool's name on PATH
    tool_name = ""                       # as people call it, for messages
    install_hint = ""                    # where to get it
    search: tuple[str, ...] = ()         # glob patterns of its vendor's install locations
    no_probe_phrases: tuple[str, ...] = ()  # lower-case phrases of its output when no probe is attached
    no_probe_hint = "No probe found: connect the board's debug USB port."

    def __init__(self, board: Board, elf: str | Path, port: str | None = None, baud: int | None = None,
                 probe: str | None = None, program: str | None = None, timeout: float = FLASH_TIMEOUT,
                 comports: Comports | None = None) -> None:
        super().__init__(board, elf)
        self.port = port
        self.baud = baud
        self.probe = probe
        self.program = program or type(self).program
        self.timeout = timeout
        self.comports = comports
        self.transport: SerialTransport | None = None

    @abstractmethod
    def command(self, program: str | None = None) -> list[str]:
        """The tool's argv; argv[0] is `program` (default: the name given to the runner)."""

    def prepare(self, program: str) -> None:
        """Writes what the command line refers to (a command file), checks what it needs."""

    def resolve_program(self) -> str:
        return require(self.program, hint=self.install_hint, search=self.search if self.program == type(self).program
                       else ())

    def output_hint(self, output: str) -> str:
        text = output.lower()
        if any(phrase in text for phrase in self.no_probe_phrases):
            return self.no_probe_hint
        return f"See {self.tool_name}'s output above."

    def flash(self, program: str | None = None) -> str:
        """Runs the tool once; its output, or RunnerError with its tail and what to do."""
        program = program or self.resolve_program()
        self.prepare(program)
        argv = self.command(program)
        try:
            proc = run(argv, timeout=self.timeout, stderr=subprocess.STDOUT, text=True, errors="replace")
        except subprocess.TimeoutExpired:
            raise RunnerError(f"{self.tool_name} did not finish flashing within {self.timeout:.0f} s.",
                              hint="Check the probe's connection; the board may need a power cycle.") from None
        out = proc.stdout or ""
        if proc.returncode != 0:
            tail = "\n".join(out.splitlines()[-OUTPUT_TAIL_LINES:])
            raise RunnerError(f"{self.tool_name} failed (exit {proc.returncode}):\n{tail}", hint=self.output_hint(out))
        return out

    def image(self, suffix: str) -> Path:
        """The build output beside the ELF (`.hex`: every region, external flash included)."""
        path = self.elf.with_suffix(suffix)
        if not path.is_file():
            raise RunnerError(f"No {path.name} beside {self.elf}: the {self.name} runner flashes it.",
                              hint="Rebuild the project (mcugen build) to make it.")
        return path

    def serial_port(self) -> str:
        return self.port or find_port(self.board, self.probe, self.comports)

    def start(self) -> Transport:
        self.check_image()
        program = self.resolve_program()  # a missing tool is said before any port is looked for
        baud = self.baud or (self.board.uart.baud if self.board.uart else DEFAULT_BAUD)
        self.transport = SerialTransport(self.serial_port(), baud)
        self.transport.open()  # before the tool's reset: the boot announcement is not lost
        try:
            self.flash(program)
        except BaseException:
            self.stop()
            raise
        return self.transport

    def stop(self) -> None:
        self.close_transport()
