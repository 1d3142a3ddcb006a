"""OpenOCD runner: `openocd -f <board cfg> -c "program <elf> verify reset exit"`,
then the board's virtual COM port (`port=` or found by the ST-LINK serial)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.link.transport import SerialTransport, Transport
from mcugen.process import require, run
from mcugen.runners.base import Runner, RunnerCaps, register

OPENOCD_PROGRAM = "openocd"
OPENOCD_PACKAGE = "openocd"
FLASH_TIMEOUT = 120.0


def openocd_command(program: str, config: str, elf: str | Path, adapter_serial: str | None = None) -> list[str]:
    argv = [program, "-f", config]
    if adapter_serial:
        argv += ["-c", f"adapter serial {adapter_serial}"]
    argv += ["-c", f"program {elf} verify reset exit"]
    return argv


@register
class OpenocdRunner(Runner):
    name = "openocd"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles", options=("port", "probe"),
                      board_setting="openocd_config")

    def __init__(self, board: Board, elf: str | Path, port: str | None = None, probe: str | None = None,
                 program: str = OPENOCD_PROGRAM, timeout: float = FLASH_TIMEOUT) -> None:
        super().__init__(board, elf)
        self.port = port
        self.probe = probe
        self.program = program
        self.timeout = timeout
        self.transport: SerialTransport | None = None

    def command(self) -> list[str]:
        return openocd_command(self.program, self.board.flash.openocd_config, self.elf, self.probe)

    def flash(self) -> str:
        argv = self.command()
        argv[0] = require(self.program, OPENOCD_PACKAGE)
        try:
            proc = run(argv, timeout=self.timeout, stderr=subprocess.STDOUT, text=True, errors="replace")
        except subprocess.TimeoutExpired:
            raise RunnerError(f"OpenOCD did not finish flashing within {self.timeout:.0f} s.") from None
        out = proc.stdout
        if proc.returncode != 0:
            tail = "\n".join(out.splitlines()[-15:])
            hint = ("No probe found: connect the board's ST-LINK USB port." if "open failed" in out or
                    "no device found" in out.lower() else "See OpenOCD's output above.")
            raise RunnerError(f"OpenOCD failed (exit {proc.returncode}):\n{tail}", hint=hint)
        return out

    def start(self) -> Transport:
        self.check_image()
        if not self.port:
            raise RunnerError("The OpenOCD runner needs the board's serial port.", hint="Pass it with --port.")
        self.transport = SerialTransport(self.port, self.board.uart.baud if self.board.uart else 115200)
        self.transport.open()  # before the reset, so the boot announcement is not lost
        try:
            self.flash()
        except BaseException:
            self.stop()
            raise
        return self.transport

    def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
