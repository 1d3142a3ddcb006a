"""Flashing a board's place of a labgrid farm, and opening its network serial port.

A board's place holds the probe as a `NetworkUSBDebugger` (the exporter's `USBDebugger`,
plugged into the bench PC) and its UART as a `NetworkSerialPort` (the exporter's
`USBSerialPort` served by ser2net, RFC 2217 unless the resource's `protocol` says `raw`).
The flash tool runs on the bench PC, as labgrid runs it: over SSH to the resource's host
(labgrid's sshmanager, one master connection per host), the ELF copied there first
(labgrid's ManagedFile; skipped when the host sees the same file, e.g. over NFS).

- OpenOCD: labgrid's own `OpenOCDDriver`, through `labgrid-client bootstrap` with a
  labgrid environment naming the driver and the board's OpenOCD config (boards.yaml
  `flash.openocd_config`); the driver selects the probe by its USB path on the bench PC
  and runs `program ELF verify reset exit` (flash, check, reset: the firmware starts).
- pyOCD: labgrid has no pyOCD driver, so the same route by hand: the debugger resource's
  `wrap_command` (ssh to its host) around `pyocd flash --uid SERIAL --target T ELF` (pyOCD
  resets after flashing). pyOCD selects a probe by its USB serial number, which the
  exported resource does not carry: the place's `probe` tag gives it (mcugen farm describe
  writes it), else --probe.

The tool is the first of the board's runners (boards.yaml order, as the local runners are
chosen) that is OpenOCD or pyOCD; a place tagged `flasher=openocd` or `flasher=pyocd`
chooses for itself (the tool its bench PC has).
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from mcugen.boards import Board
from mcugen.errors import LinkError, RunnerError
from mcugen.farm.places import FarmPlace, PlaceResource, labgrid_client
from mcugen.link.transport import PipeTransport, SerialTransport, Transport
from mcugen.process import run
from mcugen.runners.packs import resolve_target

DEBUGGER_RESOURCE = "NetworkUSBDebugger"
FLASHERS = ("openocd", "pyocd")
FLASH_TIMEOUT = 300.0      # seconds: ssh, the copy of the ELF and the flash itself
OUTPUT_TAIL_LINES = 15
OPENOCD_LOAD = "program {filename} verify reset exit"
# labgrid's sshmanager keeps one connection per host in a plain dict: places flashed at once
# (threads) on the same bench PC would each open one, and all but one would be left open
_SSH_SETUP = threading.Lock()
SSH_HINT = ("labgrid runs the flash tool on the bench PC over SSH: `ssh {host}` must log in without a password "
            "(a key; its host key known), and {tool} must be installed there.")


def choose_flasher(board: Board, tags: dict[str, str]) -> str:
    """openocd or pyocd: the place's `flasher` tag, else the board's first runner of the two."""
    tagged = tags.get("flasher", "")
    if tagged:
        if tagged not in FLASHERS:
            raise RunnerError(f"The place's flasher tag names '{tagged}'; mcugen flashes a farm's board with "
                              f"{' or '.join(FLASHERS)}.", hint="Tag the place flasher=openocd or flasher=pyocd.")
        chosen = tagged
    else:
        usable = [r for r in board.flash.runners if r in FLASHERS]
        if not usable:
            raise RunnerError(f"{board.name} has neither OpenOCD nor pyOCD among its runners: mcugen cannot flash "
                              "it through a labgrid exporter.", hint="Flash it on a desk with its own runner.")
        chosen = usable[0]
    setting = {"openocd": "openocd_config", "pyocd": "pyocd_target"}[chosen]
    if not getattr(board.flash, setting):
        raise RunnerError(f"boards.yaml gives no flash.{setting} for {board.name}: {chosen} cannot flash it.",
                          hint="Tag the place with the other flasher (flasher=openocd / flasher=pyocd).")
    return chosen


def openocd_driver(board: Board) -> dict[str, Any]:
    """OpenOCDDriver's arguments for the board: its config as labgrid's board_config /
    interface_config (OpenOCD finds those in its scripts), anything else sourced first."""
    config = board.flash.openocd_config
    args: dict[str, Any] = {"load_commands": [OPENOCD_LOAD]}
    for kind in ("board", "interface"):
        if config.startswith(f"{kind}/"):
            args[f"{kind}_config"] = config[len(kind) + 1:]
            return args
    args["load_commands"] = [f"source [find {config}]", OPENOCD_LOAD]
    return args


def openocd_environment(place: str, board: Board) -> dict[str, Any]:
    """The labgrid environment labgrid-client bootstraps the place with (the role is the place)."""
    return {"targets": {place: {"resources": {"RemotePlace": {"name": place}},
                                "drivers": {"OpenOCDDriver": openocd_driver(board)}}}}


def _tail(text: str) -> str:
    """The last lines of a tool's output, without the Python tracebacks labgrid-client adds
    (their final exception line stays: it names what failed)."""
    lines: list[str] = []
    in_traceback = False
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and (line.startswith(" ") or not line.strip()):
            continue
        elif line.startswith(("During handling of the above", "The above exception was", "Selected role ")):
            continue
        else:
            in_traceback = False
            if line.strip():
                lines.append(line)
    return "\n".join(lines[-OUTPUT_TAIL_LINES:])


def flash_openocd(place: FarmPlace, board: Board, elf: Path, host: str, timeout: float = FLASH_TIMEOUT) -> None:
    """labgrid's OpenOCDDriver flashes the acquired place (labgrid-client bootstrap)."""
    with tempfile.TemporaryDirectory(prefix="mcugen-labgrid-") as tmp:
        env = Path(tmp) / "env.yaml"
        env.write_text(yaml.safe_dump(openocd_environment(place.name, board), sort_keys=False), encoding="utf-8")
        argv = [labgrid_client(), "-x", place.address, "-c", str(env), "-p", place.name, "bootstrap",
                str(elf.resolve())]
        try:
            done = run(argv, timeout=timeout, text=True, errors="replace", stderr=subprocess.STDOUT)
        except subprocess.TimeoutExpired:
            raise RunnerError(f"OpenOCD did not flash place '{place.name}' within {timeout:.0f} s.",
                              hint=SSH_HINT.format(host=host, tool="OpenOCD")) from None
    if done.returncode != 0:
        raise RunnerError(f"Flashing place '{place.name}' with OpenOCD on {host} failed:\n{_tail(done.stdout)}",
                          hint=SSH_HINT.format(host=host, tool="OpenOCD"))


def pyocd_command(board: Board, uid: str, elf: str, packs: tuple[str, ...] = ()) -> list[str]:
    """pyOCD's command line on the bench PC (connect under reset, as the local pyOCD runner)."""
    argv = ["pyocd", "flash", "--uid", uid, "--target", board.flash.pyocd_target, "-M", "under-reset"]
    for pack in packs:
        argv += ["--pack", pack]
    return argv + ["--format", "elf", elf]


def flash_pyocd(place: str, board: Board, elf: Path, debugger: PlaceResource, uid: str,
                timeout: float = FLASH_TIMEOUT) -> None:
    """pyOCD on the debugger's host, through labgrid's ssh wrapping and file sync."""
    from labgrid import Target  # heavy: labgrid is the optional farm extra, loaded for a board's place only
    from labgrid.resource.remote import NetworkUSBDebugger
    from labgrid.util.managedfile import ManagedFile

    host = str(debugger.params.get("host", ""))
    if not uid:
        raise RunnerError(f"pyOCD needs the USB serial number of the probe of place '{place}'.",
                          hint=f"Tag the place with it: labgrid-client -p {place} set-tags probe=SERIAL "
                               "(mcugen farm describe writes it), or pass --probe SERIAL.")
    support = resolve_target(board)
    fields = ("busnum", "devnum", "path", "vendor_id", "model_id")
    with _SSH_SETUP:
        try:
            resource = NetworkUSBDebugger(Target(place), name=None, host=host,
                                          **{k: debugger.params.get(k) for k in fields})
            resource.extra = dict(debugger.params.get("extra") or {})
            files = [ManagedFile(str(p), resource) for p in (elf.resolve(), *support.pack_paths)]
            for f in files:
                f.sync_to_resource()
            remote = [f.get_remote_path() for f in files]
            argv = resource.wrap_command(pyocd_command(board, uid, remote[0], tuple(remote[1:])))
        except Exception as exc:  # labgrid's ExecutionError and ssh failures: said with what to check
            raise RunnerError(f"Cannot reach {host}, the bench PC of place '{place}', to flash it with pyOCD: "
                              f"{_tail(str(exc))}", hint=SSH_HINT.format(host=host, tool="pyOCD")) from None
    try:
        done = run(argv, timeout=timeout, text=True, errors="replace", stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired:
        raise RunnerError(f"pyOCD did not flash place '{place}' within {timeout:.0f} s.",
                          hint=SSH_HINT.format(host=host, tool="pyOCD")) from None
    if done.returncode != 0:
        raise RunnerError(f"Flashing place '{place}' with pyOCD on {host} failed (exit {done.returncode}):\n"
                          f"{_tail(done.stdout)}", hint=SSH_HINT.format(host=host, tool="pyOCD"))


def raw_serial(place: str, host: str, port: int, timeout: float = 10.0) -> Transport:
    """A raw TCP serial port (ser2net's raw mode, a QEMU place's chardev)."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise RunnerError(f"Cannot connect to the serial port of place '{place}', {host}:{port}: {exc}.",
                          hint="Is the place's exporter (and its ser2net) running?") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fd = sock.detach()
    transport = PipeTransport(fd, fd, name=f"place {place} serial ({host}:{port})")
    transport.open()
    return transport


def network_serial(place: str, serial: PlaceResource, baud: int) -> Transport:
    """The place's NetworkSerialPort at the firmware's baud rate: RFC 2217 (labgrid's default,
    what the exporter's ser2net speaks) or raw TCP."""
    host, port = str(serial.params.get("host", "")), int(serial.params.get("port") or 0)
    protocol = str(serial.params.get("protocol") or "rfc2217")
    if not host or not port:
        raise RunnerError(f"The serial port of place '{place}' is not exported (no host:port).",
                          hint="Is the board's USB serial port plugged into the bench PC? (labgrid-client -p "
                               f"{place} show)")
    if protocol == "raw":
        return raw_serial(place, host, port)
    if protocol != "rfc2217":
        raise RunnerError(f"The serial port of place '{place}' speaks '{protocol}'; mcugen speaks raw and rfc2217.")
    transport = SerialTransport(f"rfc2217://{host}:{port}", baud)
    try:
        transport.open()
    except LinkError as exc:
        raise RunnerError(f"The serial port of place '{place}', rfc2217://{host}:{port}, does not answer as an "
                          f"RFC 2217 server: {exc.message}",
                          hint="Is ser2net running on the bench PC for this port (labgrid-exporter starts it "
                               "while the place is acquired)?") from None
    return transport
