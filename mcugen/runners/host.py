"""Host runner: the native build, its stdin/stdout as the link."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mcugen.boards import Board
from mcugen.link.transport import PipeTransport, Transport
from mcugen.process import spawn, stop as stop_process
from mcugen.runners.base import Runner, RunnerCaps, register


@register
class HostRunner(Runner):
    name = "host"
    caps = RunnerCaps(flash=False, reset=False, emulated=True, counter_unit="nanoseconds", host=True)

    def __init__(self, board: Board, elf: str | Path) -> None:
        super().__init__(board, elf)
        self.proc: subprocess.Popen | None = None
        self.transport: PipeTransport | None = None

    def command(self) -> list[str]:
        return [str(self.elf.resolve())]

    def start(self) -> Transport:
        self.check_image()
        self.proc = spawn(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        # The transport owns duplicates of the pipe ends.
        self.transport = PipeTransport(os.dup(self.proc.stdout.fileno()), os.dup(self.proc.stdin.fileno()),
                                       name=f"pipes of {self.elf.name}")
        self.proc.stdout.close()
        self.proc.stdin.close()
        self.transport.open()
        return self.transport

    def stop(self) -> None:
        self.close_transport()
        if self.proc is not None:
            stop_process(self.proc)
