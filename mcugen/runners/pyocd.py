"""pyOCD runner: flash through a CMSIS-DAP / ST-LINK probe with pyOCD's Python
API, reset, then talk to the firmware on the probe's virtual COM port.

Target support: pyOCD's built-in targets first; otherwise the board's CMSIS
pack (boards.yaml flash.cmsis_pack) from a pack file given by the user
(`pack=` or $MCUGEN_CMSIS_PACK) or from the cmsis-pack-manager cache, which
it can download into when allowed (`download_pack=True`; needs the network).
The serial port is the one whose USB serial number is the probe's unique id,
unless `port=` says otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.link.transport import SerialTransport, Transport
from mcugen.runners.base import Runner, RunnerCaps, register

PACK_ENV = "MCUGEN_CMSIS_PACK"


@dataclass(frozen=True)
class TargetSupport:
    target: str
    source: str                     # "builtin" | "pack file" | "managed pack"
    pack_paths: tuple[str, ...] = ()


def _normalise(name: str) -> str:
    from pyocd.target.pack.pack_target import normalise_target_type_name

    return normalise_target_type_name(name)


def _targets_in_pack(path: str) -> set[str]:
    from pyocd.target.pack.pack_target import PackTargets

    found: set[str] = set()
    PackTargets.process_targets_from_pack([path], lambda dev: found.add(_normalise(dev.part_number)))
    return found


def _managed_targets(cache_factory: Callable[[], Any] | None = None) -> set[str]:
    from pyocd.target.pack.pack_target import ManagedPacks

    cache = cache_factory() if cache_factory else None
    return {_normalise(dev.part_number) for dev in ManagedPacks.get_installed_targets(cache=cache)}


def resolve_target(board: Board, pack: str | None = None, download_pack: bool = False,
                   cache_factory: Callable[[], Any] | None = None) -> TargetSupport:
    """Where pyOCD gets the board's target from; RunnerError with the way out otherwise."""
    from pyocd.target import TARGET

    name = board.flash.pyocd_target
    if not name:
        raise RunnerError(f"boards.yaml gives no pyOCD target for {board.name}.")
    if name.lower() in TARGET:
        return TargetSupport(name, "builtin")
    pack = pack or os.environ.get(PACK_ENV)
    if pack:
        if not Path(pack).is_file():
            raise RunnerError(f"CMSIS pack {pack} does not exist.")
        if _normalise(name) not in _targets_in_pack(pack):
            raise RunnerError(f"The pack {pack} does not describe the target {name}.",
                              hint=f"{board.name} needs {board.flash.cmsis_pack or 'the vendor pack'}.")
        return TargetSupport(name, "pack file", (pack,))
    try:
        managed = _managed_targets(cache_factory)
    except Exception:  # a corrupt or unreadable cache is the same as no pack
        managed = set()
    if _normalise(name) in managed:
        return TargetSupport(name, "managed pack")
    if download_pack and board.flash.cmsis_pack:
        install_pack(name, cache_factory)
        return TargetSupport(name, "managed pack")
    raise RunnerError(
        f"pyOCD has no built-in support for {name} and its CMSIS pack "
        f"({board.flash.cmsis_pack or 'unknown'}) is not installed.",
        hint=f"Install it once with `pyocd pack install {name}` (needs the network), or pass the .pack file "
             f"(${PACK_ENV} or --pack).",
    )


def install_pack(target: str, cache_factory: Callable[[], Any] | None = None) -> None:
    """Downloads the pack providing `target` into cmsis-pack-manager's cache."""
    import cmsis_pack_manager

    cache = cache_factory() if cache_factory else cmsis_pack_manager.Cache(True, True)
    try:
        if not cache.index:
            cache.cache_descriptors()
        devices = [dev for dev in cache.index.values() if _normalise(dev["name"]) == _normalise(target)]
        if not devices:
            raise RunnerError(f"No CMSIS pack in the index describes {target}.")
        cache.download_pack_list(cache.packs_for_devices(devices))
    except RunnerError:
        raise
    except Exception as exc:
        raise RunnerError(f"Downloading the CMSIS pack for {target} failed: {exc}.",
                          hint="Check the network, or download the .pack file and pass it with --pack.") from None


def find_serial_port(unique_id: str, comports: Callable[[], list] | None = None) -> str:
    """The serial device whose USB serial number is the probe's unique id."""
    if comports is None:
        from serial.tools.list_ports import comports as _comports
        comports = _comports
    ports = list(comports())
    matches = [p.device for p in ports if p.serial_number and p.serial_number.lower() == unique_id.lower()]
    if len(matches) == 1:
        return matches[0]
    listing = ", ".join(f"{p.device} ({p.serial_number or 'no serial'})" for p in ports) or "none"
    if not matches:
        raise RunnerError(f"No serial port belongs to probe {unique_id}. Ports: {listing}.",
                          hint="Pass the board's virtual COM port with --port.")
    raise RunnerError(f"Several serial ports belong to probe {unique_id}: {', '.join(matches)}.",
                      hint="Choose one with --port.")


@register
class PyocdRunner(Runner):
    name = "pyocd"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles",
                      options=("probe", "port", "pack", "download_pack", "frequency"), board_setting="pyocd_target")

    def __init__(self, board: Board, elf: str | Path, probe: str | None = None, port: str | None = None,
                 pack: str | None = None, download_pack: bool = False, frequency: int | None = None) -> None:
        super().__init__(board, elf)
        self.probe = probe
        self.port = port
        self.pack = pack
        self.download_pack = download_pack
        self.frequency = frequency
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
            port = self.port or find_serial_port(self.unique_id)
            self.transport = SerialTransport(port, self.board.uart.baud if self.board.uart else 115200)
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
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        if self.session is not None:
            try:
                self.session.close()
            except Exception:
                pass
            self.session = None
