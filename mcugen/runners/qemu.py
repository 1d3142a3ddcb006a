"""QEMU runner: mps2-an500 (Cortex-M7) with the UART on a pseudo-terminal.

`-icount shift=0` makes each instruction take 1 ns of virtual time, so the
firmware's timer-based counter reports instructions (see
firmware/boards/mps2/board.c). QEMU prints "char device redirected to
/dev/pts/N (label serial0)" on stderr; the runner reads it (with a timeout)
and opens that pty with pyserial.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.firmware import QEMU_ICOUNT_SHIFT
from mcugen.link.transport import SerialTransport, Transport
from mcugen.process import require, spawn, stop as stop_process
from mcugen.runners.base import Runner, RunnerCaps, register

QEMU_PROGRAM = "qemu-system-arm"
QEMU_PACKAGE = "qemu-system-arm"
PTY_TIMEOUT = 10.0            # seconds to wait for QEMU to name its pty
STARTUP_GRACE = 0.2           # seconds in which a QEMU that cannot load the image exits
_PTY_LINE = re.compile(r"char device redirected to (?P<path>/dev/\S+)")


def qemu_command(program: str, machine: str, cpu: str, elf: str | Path, icount_shift: int = QEMU_ICOUNT_SHIFT) -> list[str]:
    return [
        program,
        "-M", machine,
        "-cpu", cpu,
        "-nographic",
        # sleep=off: when the guest waits, virtual time jumps instead of QEMU sleeping in
        # real time. Instruction counts are unchanged; the UART link runs about 1.7x faster.
        "-icount", f"shift={icount_shift},align=off,sleep=off",
        "-serial", "pty",
        "-monitor", "none",
        "-kernel", str(elf),
    ]


@register
class QemuRunner(Runner):
    name = "qemu"
    caps = RunnerCaps(flash=False, reset=False, emulated=True, counter_unit="instructions",
                      board_setting="qemu_machine")

    def __init__(self, board: Board, elf: str | Path, program: str = QEMU_PROGRAM, pty_timeout: float = PTY_TIMEOUT) -> None:
        super().__init__(board, elf)
        self.program = program
        self.pty_timeout = pty_timeout
        self.proc: subprocess.Popen | None = None
        self.transport: SerialTransport | None = None
        self.pty: str | None = None
        self._output: deque[str] = deque(maxlen=50)
        self._pty_found = threading.Event()
        self._reader: threading.Thread | None = None

    def command(self) -> list[str]:
        return qemu_command(self.program, self.board.flash.qemu_machine, self.board.core, self.elf)

    def _drain(self) -> None:
        """Reads QEMU's output until it exits: finds the pty line, keeps the tail for errors."""
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self._output.append(line)
            m = _PTY_LINE.search(line)
            if m and self.pty is None:
                self.pty = m.group("path")
                self._pty_found.set()
        self._pty_found.set()  # EOF: wake the waiter

    def output(self) -> str:
        return "\n".join(self._output)

    def start(self) -> Transport:
        self.check_image()
        program = require(self.program, QEMU_PACKAGE)
        argv = self.command()
        argv[0] = program
        self.proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace")
        self._reader = threading.Thread(target=self._drain, name="qemu-output", daemon=True)
        self._reader.start()
        try:
            if not self._pty_found.wait(self.pty_timeout) or self.pty is None:
                time.sleep(0.1)
                if self.proc.poll() is not None:
                    raise RunnerError(f"QEMU exited with status {self.proc.returncode}:\n{self.output()}",
                                      hint="Check the ELF was built for qemu-m7.")
                raise RunnerError(f"QEMU did not report its serial pty within {self.pty_timeout:.0f} s.\n{self.output()}")
            # QEMU names the pty before it loads the image: give it a moment to fail.
            try:
                self.proc.wait(timeout=STARTUP_GRACE)
            except subprocess.TimeoutExpired:
                pass
            else:
                self._reader.join(timeout=1.0)
                raise RunnerError(f"QEMU exited with status {self.proc.returncode}:\n{self.output()}",
                                  hint="Check that the ELF was built for qemu-m7 (mcugen build).")
            self.transport = SerialTransport(self.pty)
            self.transport.open()
        except BaseException:
            self.stop()
            raise
        return self.transport

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        self.close_transport()
        if self.proc is not None:
            stop_process(self.proc)
            if self.proc.stdout is not None:
                try:
                    self.proc.stdout.close()
                except OSError:
                    pass
        if self._reader is not None:
            self._reader.join(timeout=2.0)
            self._reader = None
