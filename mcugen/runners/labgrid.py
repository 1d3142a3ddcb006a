"""labgrid runner: the firmware runs on a place of a labgrid farm (docs/farm.md).

start(): acquire the place through the coordinator (mcugen.farm.places; --wait waits for
its holder), check its `board` tag names this firmware's board, "flash" it through the
place's resources, and open its NetworkSerialPort (raw TCP or RFC 2217). stop() closes the port, stops
what the flash started and releases the place, also after an error or Ctrl-C (the Runner's
`with` block).

How a place is flashed follows from the resources it holds:
- `MCUGenQEMU` (a QEMU-backed place, the farm's stand-in for a board in tests and CI):
  QEMU starts on this machine with the ELF, its UART served on the TCP port the place's
  NetworkSerialPort names, so the exporter's published port reaches it. The exporter
  must therefore run on the machine that runs mcugen (its `host` is one of this machine's
  addresses).
- `NetworkUSBDebugger` (a board's probe on a bench PC): OpenOCD or pyOCD flash it on the
  bench PC over SSH, the way labgrid runs its tools (runners/labgrid_board.py), then the
  NetworkSerialPort (ser2net's RFC 2217, or raw TCP) is opened at the firmware's baud rate.
- anything else: refused with a clear error.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.farm.places import FarmPlace, PlaceResource
from mcugen.link.transport import DEFAULT_BAUD, PipeTransport, Transport
from mcugen.process import require, spawn, stop as stop_process
from mcugen.runners.base import Runner, RunnerCaps, register
from mcugen.runners.labgrid_board import (DEBUGGER_RESOURCE, choose_flasher, flash_openocd, flash_pyocd,
                                           network_serial)
from mcugen.runners.qemu import QEMU_PACKAGE, QEMU_PROGRAM, STARTUP_GRACE, qemu_command

QEMU_RESOURCE = "MCUGenQEMU"
SERIAL_RESOURCE = "NetworkSerialPort"
LISTEN_TIMEOUT = 10.0   # seconds for QEMU to listen on the place's port


def qemu_place_command(program: str, board: Board, elf: str | Path, host: str, port: int) -> list[str]:
    """QEMU's argv for a QEMU-backed place: the UART served on host:port instead of a pty."""
    argv = qemu_command(program, board.flash.qemu_machine, board.core, elf)
    argv[argv.index("pty")] = f"tcp:{host}:{port},server=on,wait=off,nodelay=on"
    return argv


@register
class LabgridRunner(Runner):
    name = "labgrid"
    caps = RunnerCaps(flash=True, reset=True, farm=True, options=("place", "coordinator", "wait", "probe"))
    # A place's UART is a network port (ser2net, a QEMU on a busy farm host): answers may come
    # late; a retried request resends its whole payload and only adds to the backlog.
    request_timeout = 10.0

    def __init__(self, board: Board, elf: str | Path, place: str = "", coordinator: str | None = None,
                 wait: bool = False, probe: str | None = None, program: str = QEMU_PROGRAM) -> None:
        super().__init__(board, elf)
        if not place:
            raise RunnerError("The labgrid runner needs a place.", hint="Pass --place NAME (labgrid-client places).")
        self.place_name = place
        self.coordinator = coordinator
        self.wait = wait
        self.probe = probe  # a board place's probe serial for pyOCD (default: the place's probe tag)
        self.program = program
        self.place: FarmPlace | None = None
        self.proc: subprocess.Popen | None = None
        self.transport: Transport | None = None
        self._aborted = threading.Event()
        self._log: IO[bytes] | None = None

    def command(self) -> list[str]:
        return []  # the place decides: see start()

    def start(self) -> Transport:
        self.check_image()
        self.place = FarmPlace(self.place_name, self.coordinator, wait=self.wait, abort=self._aborted, say=_tell)
        try:
            self.place.acquire()
            self._check_board()
            resources = self.place.resources()
            serial = _one(resources, SERIAL_RESOURCE, self.place_name)
            if any(r.cls == QEMU_RESOURCE for r in resources):
                self.transport = self._start_qemu(serial)
            elif any(r.cls == DEBUGGER_RESOURCE for r in resources):
                self.transport = self._start_board(_one(resources, DEBUGGER_RESOURCE, self.place_name, "probe"),
                                                   serial)
            else:
                kinds = ", ".join(sorted({r.cls for r in resources}))
                raise RunnerError(f"mcugen cannot flash place '{self.place_name}': it holds {kinds}.",
                                  hint=f"A place needs a {DEBUGGER_RESOURCE} (a board's probe) or an MCUGenQEMU "
                                       "resource besides its NetworkSerialPort; see docs/farm.md.")
        except BaseException:
            self.stop()
            raise
        return self.transport

    def _check_board(self) -> None:
        assert self.place is not None
        tagged = self.place.tags.get("board", "")
        if tagged != self.board.name and tagged not in self.board.aliases:
            raise RunnerError(
                f"Place '{self.place_name}' holds " + (f"a {tagged}" if tagged else "no board tag") +
                f", not {self.board.name}.",
                hint=f"Choose a place tagged board={self.board.name} (labgrid-client places -v), or tag this one: "
                     f"labgrid-client -p {self.place_name} set-tags board={self.board.name}.")

    def _start_board(self, debugger: PlaceResource, serial: PlaceResource) -> Transport:
        """Flash (and reset) the board on its bench PC, then open its UART: a board's firmware
        waits for the host's first request, so the boot announcement is not needed."""
        assert self.place is not None
        tags = self.place.tags
        flasher = choose_flasher(self.board, tags)
        if flasher == "openocd":
            flash_openocd(self.place, self.board, self.elf, str(debugger.params.get("host", "")))
        else:
            flash_pyocd(self.place_name, self.board, self.elf, debugger, self.probe or tags.get("probe", ""))
        if self._aborted.is_set():
            raise RunnerError(f"Stopped while flashing place '{self.place_name}'.")
        baud = self.board.uart.baud if self.board.uart is not None else DEFAULT_BAUD
        return network_serial(self.place_name, serial, baud)

    def _start_qemu(self, serial: PlaceResource) -> Transport:
        host, port = str(serial.params.get("host", "")), int(serial.params.get("port", 0))
        if not self.board.flash.qemu_machine:
            raise RunnerError(f"Place '{self.place_name}' is QEMU-backed, but boards.yaml gives {self.board.name} "
                              "no flash.qemu_machine.", hint="Tag the place with a board QEMU runs (qemu-m7).")
        program = require(self.program, QEMU_PACKAGE)
        argv = qemu_place_command(program, self.board, self.elf, host, port)
        # QEMU's messages go to a file, not a pipe nobody drains while the model runs
        self._log = tempfile.TemporaryFile()
        self.proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + LISTEN_TIMEOUT
        while True:
            if self._aborted.is_set():
                raise RunnerError(f"Stopped while starting QEMU for place '{self.place_name}'.")
            self._check_qemu_alive(host, port)
            try:
                sock = socket.create_connection((host, port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RunnerError(f"QEMU for place '{self.place_name}' did not listen on {host}:{port} within "
                                      f"{LISTEN_TIMEOUT:.0f} s.") from None
                time.sleep(0.05)
        # Something else listening there (the port taken) answers too: QEMU then fails to bind and exits.
        try:
            self.proc.wait(timeout=STARTUP_GRACE)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._check_qemu_alive(host, port)
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = sock.detach()
        transport = PipeTransport(fd, fd, name=f"place {self.place_name} serial ({host}:{port})")
        transport.open()
        return transport

    def _check_qemu_alive(self, host: str, port: int) -> None:
        assert self.proc is not None and self._log is not None
        if self.proc.poll() is None:
            return
        self._log.seek(0)
        out = self._log.read().decode(errors="replace").strip()
        raise RunnerError(f"QEMU for place '{self.place_name}' exited with status {self.proc.returncode}:\n"
                          f"{out[-2000:]}",
                          hint=f"Is {host}:{port} (the place's NetworkSerialPort) an address of this machine, and "
                               "free? A QEMU-backed place's exporter runs on the machine that runs mcugen.")

    def abort(self) -> None:
        """From another thread: end a start() or a run in progress (QEMU stopped, the wait
        for the place given up); the thread running it then unwinds through stop()."""
        self._aborted.set()
        if self.proc is not None:
            stop_process(self.proc)

    def stop(self) -> None:
        self.close_transport()
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.place is not None:
            place, self.place = self.place, None
            place.release()


def _tell(message: str) -> None:
    """What the runner says while it works (waiting for a held place), on stderr: also with
    --json, whose stdout stays one document, so a CI log shows why a job is idle."""
    print(f"mcugen: {message}", file=sys.stderr, flush=True)


def _one(resources: list[PlaceResource], cls: str, place: str, what: str = "board's UART") -> PlaceResource:
    found = [r for r in resources if r.cls == cls]
    if len(found) != 1:
        raise RunnerError(f"Place '{place}' holds {len(found)} {cls} resources; mcugen needs exactly one (the "
                          f"{what}).", hint=f"Match one in the place: labgrid-client -p {place} add-match "
                                                 f"EXPORTER/GROUP/{cls}.")
    return found[0]
