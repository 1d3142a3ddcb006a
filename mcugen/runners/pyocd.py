"""pyOCD runner: flash through the board's CMSIS-DAP / ST-LINK probe with pyOCD's Python
API, reset, then talk to the firmware on the probe's virtual COM port.

Target support: pyOCD's built-in targets first, else the board's CMSIS pack
(runners/packs.py: the --pack file, mcugen's pack cache, cmsis-pack-manager's cache,
or a download when allowed and online), read and checked before a probe is opened.
The serial port is the probe's (same USB serial number as its unique id) unless
`port=` says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.link.transport import DEFAULT_BAUD, SerialTransport, Transport
from mcugen.runners.base import Runner, RunnerCaps, register
from mcugen.runners.packs import PACK_ENV, TargetSupport, resolve_target
from mcugen.runners.probes import Comports, find_port

__all__ = ["PACK_ENV", "PyocdRunner", "resolve_target"]


@register
class PyocdRunner(Runner):
    name = "pyocd"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles",
                      options=("probe", "port", "baud", "pack", "download_pack", "frequency"),
                      board_setting="pyocd_target")

    def __init__(self, board: Board, elf: str | Path, probe: str | None = None, port: str | None = None,
                 baud: int | None = None, pack: str | None = None, download_pack: bool = True,
                 frequency: int | None = None, comports: Comports | None = None) -> None:
        super().__init__(board, elf)
        self.probe = probe
        self.port = port
        self.baud = baud
        self.pack = pack
        self.download_pack = download_pack
        self.frequency = frequency
        self.comports = comports
        self.session = None
        self.transport: SerialTransport | None = None
        self.unique_id: str | None = None

    def command(self) -> list[str]:
        return []  # library based: see session_options()

    def session_options(self, support: TargetSupport) -> dict[str, Any]:
        options: dict[str, Any] = {"target_override": support.target, "connect_mode": "under-reset"}
        if support.pack_paths:
            options["pack"] = list(support.pack_paths)
        if self.frequency:
            options["frequency"] = self.frequency
        return options

    def open_session(self):
        from pyocd.core.helpers import ConnectHelper

        support = resolve_target(self.board, self.pack, self.download_pack)
        try:
            session = ConnectHelper.session_with_chosen_probe(
                blocking=False, return_first=False, unique_id=self.probe, options=self.session_options(support))
        except Exception as exc:
            raise RunnerError(f"pyOCD could not open the probe: {exc}.",
                              hint="Several probes are attached? Choose one with --probe <unique id>.") from None
        if session is None:
            which = f" with id {self.probe}" if self.probe else ""
            raise RunnerError(f"No debug probe{which} found for {self.board.name}.",
                              hint="Connect the board's debug USB port, check the cable and udev permissions "
                                   "(`pyocd list` shows what pyOCD sees).")
        return session

    def start(self) -> Transport:
        from pyocd.flash.file_programmer import FileProgrammer

        self.check_image()
        self.session = self.open_session()
        try:
            self.session.open()
            self.unique_id = self.session.probe.unique_id
            FileProgrammer(self.session).program(str(self.elf), file_format="elf")
            port = self.port or find_port(self.board, self.unique_id, self.comports)
            baud = self.baud or (self.board.uart.baud if self.board.uart else DEFAULT_BAUD)
            self.transport = SerialTransport(port, baud)
            self.transport.open()
            self.session.target.reset()  # after the port is open: the boot announcement is not lost
        except RunnerError:
            self.stop()
            raise
        except Exception as exc:
            self.stop()
            raise RunnerError(f"pyOCD failed to flash {self.board.name}: {exc}.") from None
        return self.transport

    def stop(self) -> None:
        self.close_transport()
        if self.session is not None:
            try:
                self.session.close()
            except Exception:
                pass
            self.session = None
