"""labgrid descriptions of a place from boards.yaml (`mcugen farm describe BOARD`).

Three files per place, so that setting a place up is copying files and running one script:
- exporter-PLACE.yaml: the resource group for the bench PC's exporter config
  (labgrid-exporter reads a mapping of groups to resources). A QEMU board's group is its
  UART as a NetworkSerialPort on a TCP port plus the MCUGenQEMU marker (mcugen starts QEMU
  there, mcugen/runners/labgrid.py); a board's is its probe's USB UART (USBSerialPort, at
  the board's baud rate) and the probe itself (USBDebugger), both matched by the probe's
  USB serial number.
- place-PLACE.sh: the labgrid-client commands creating the place, matching the group and
  tagging it `board=NAME` (the labgrid runner checks that tag against the firmware) and, for
  a board, `probe=SERIAL` (pyOCD selects the probe by it on the bench PC).
- env-PLACE.yaml: a labgrid environment with the place as a RemotePlace (labgrid's pytest
  plugin and `labgrid-client -c`).
"""

from __future__ import annotations

import shlex
import socket
from pathlib import Path

import yaml

from mcugen.boards import Board
from mcugen.errors import McugenError
from mcugen.runners.labgrid import QEMU_RESOURCE, SERIAL_RESOURCE


def free_port(host: str) -> int:
    """A TCP port free on `host` now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def exporter_group(board: Board, *, host: str = "127.0.0.1", port: int = 0, serial: str = "") -> dict:
    """The resources of one place, as labgrid-exporter's config holds them."""
    baud = board.uart.baud if board.uart is not None else 115200
    if board.flash.qemu_machine:
        return {SERIAL_RESOURCE: {"host": host, "port": port or free_port(host), "speed": baud, "protocol": "raw"},
                QEMU_RESOURCE: {"board": board.name}}
    if board.is_host:
        raise McugenError(f"{board.name} runs on this machine: it has no place on a farm.",
                          hint="Describe a board (mcugen boards lists them).")
    if not serial:
        raise McugenError(f"A place for {board.name} needs its debug probe's USB serial number.",
                          hint="Pass --serial (udevadm info /dev/ttyACM0 | grep ID_SERIAL_SHORT, or pyocd list).")
    match = {"ID_SERIAL_SHORT": serial}
    return {"USBSerialPort": {"match": dict(match), "speed": baud},
            "USBDebugger": {"match": dict(match)}}


def place_script(place: str, exporter: str, board: Board, serial: str = "") -> str:
    """The labgrid-client commands that create the place (LG_COORDINATOR names the coordinator)."""
    q = shlex.quote
    return "\n".join([
        "#!/bin/sh",
        f"# The labgrid place {place} for a {board.name} ({board.description}); written by mcugen farm describe.",
        "# Run it once against the coordinator in LG_COORDINATOR (or add -x HOST:PORT).",
        "set -e",
        f"labgrid-client -p {q(place)} create",
        f"labgrid-client -p {q(place)} add-match {q(f'{exporter}/{place}/*')}",
        f"labgrid-client -p {q(place)} set-tags board={q(board.name)}" + (f" probe={q(serial)}" if serial else ""),
        "",
    ])


def environment(place: str) -> dict:
    return {"targets": {"main": {"resources": {"RemotePlace": {"name": place}}}}}


def describe_board(board: Board, output: str | Path, *, place: str | None = None, exporter: str = "bench",
                   host: str = "127.0.0.1", port: int = 0, serial: str = "") -> list[Path]:
    """Writes the three files of one place of `board` into `output`; returns their paths."""
    name = place or board.name
    if not name or "/" in name or name.startswith("."):
        raise McugenError(f"'{name}' cannot name a place (and its files).", hint="Use letters, digits, - and _.")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    group = {name: exporter_group(board, host=host, port=port, serial=serial)}
    files = {
        # "##": labgrid-exporter reads its config as a Jinja template whose statements start with "#"
        out / f"exporter-{name}.yaml": f"## labgrid-exporter resources of the place {name} ({board.name}); "
                                       "append to the exporter's config.\n" + yaml.safe_dump(group, sort_keys=False),
        out / f"place-{name}.sh": place_script(name, exporter, board, "" if board.flash.qemu_machine else serial),
        out / f"env-{name}.yaml": yaml.safe_dump(environment(name), sort_keys=False),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
