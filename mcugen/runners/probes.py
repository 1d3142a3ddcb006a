"""The board's serial port, found from its debug probe's USB identity.

Every evaluation board here reaches the host through its on-board probe: the
probe flashes the target over SWD and bridges the target's UART to a USB virtual
COM port. That port is the one whose USB vendor/product ID is the probe
firmware's (boards.yaml `probe.firmware`) and, when the probe's serial number is
known (`--probe`, or pyOCD's unique id), whose USB serial number is the probe's.

USB IDs (facts about the probes, not the boards):
- ST-LINK: 0483:374B (V2-1), 0483:3752 (V2-1 without mass storage), 0483:374E,
  374F, 3753, 3754, 3755, 3757 (V3 variants). pyOCD probe/stlink/usb.py
  (USB_PID_EP_MAP); OpenOCD contrib/60-openocd.rules.
- DAPLink (CMSIS-DAP, as on OpenSDA): 0D28:0204. pyOCD
  probe/pydapaccess/interface/common.py (ARM_DAPLINK_ID).
- MCU-Link (CMSIS-DAP): 1FC9:0143. pyOCD probe/pydapaccess/interface/common.py
  (NXP_MCULINK_ID).
- SEGGER J-Link (any model, also J-Link OB on OpenSDA): vendor 1366, every
  product ID. OpenOCD contrib/60-openocd.rules.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from mcugen.boards import Board
from mcugen.errors import RunnerError

# boards.PROBE_FIRMWARES -> (vendor id, product ids; empty = every product of that vendor)
USB_IDS: dict[str, tuple[int, tuple[int, ...]]] = {
    "stlink": (0x0483, (0x374B, 0x3752, 0x374E, 0x374F, 0x3753, 0x3754, 0x3755, 0x3757)),
    "daplink": (0x0D28, (0x0204,)),
    "mcu-link": (0x1FC9, (0x0143,)),
    "jlink": (0x1366, ()),
}

Comports = Callable[[], Sequence[Any]]


def usb_ids_text(firmware: Sequence[str]) -> str:
    """'0483:374B/3752/...' per firmware, for messages."""
    parts = []
    for fw in firmware:
        vid, pids = USB_IDS[fw]
        parts.append(f"{fw} {vid:04X}:" + ("/".join(f"{p:04X}" for p in pids) if pids else "*"))
    return ", ".join(parts)


def is_probe_port(port: Any, firmware: Sequence[str]) -> bool:
    """True when the port's USB vendor/product ID belongs to one of these probe firmwares."""
    if port.vid is None:
        return False
    for fw in firmware:
        vid, pids = USB_IDS[fw]
        if port.vid == vid and (not pids or port.pid in pids):
            return True
    return False


def same_serial(a: str | None, b: str | None) -> bool:
    """USB serial numbers as tools print them: case and leading zeros differ
    (a J-Link's USB serial is its S/N padded to 12 digits)."""
    if not a or not b:
        return False
    return a.strip().lower().lstrip("0") == b.strip().lower().lstrip("0")


def describe(port: Any) -> str:
    usb = f"{port.vid:04X}:{port.pid:04X}" if port.vid is not None and port.pid is not None else "not USB"
    what = port.product or port.description or ""
    return f"{port.device} ({usb}, serial {port.serial_number or '-'}{', ' + what if what and what != 'n/a' else ''})"


def _listing(ports: Sequence[Any]) -> str:
    return "\n".join(f"  {describe(p)}" for p in ports) or "  (none)"


def find_port(board: Board, probe_serial: str | None = None, comports: Comports | None = None) -> str:
    """The device path of `board`'s virtual COM port; RunnerError listing the ports when
    none or several fit.

    Candidates are the ports with the USB ID of a firmware the board's probe may run.
    With a probe serial number, the candidate with that serial wins; when none has it
    (an external probe flashes the target, the UART still goes through the on-board
    probe), a single candidate is still unambiguous."""
    if comports is None:
        from serial.tools.list_ports import comports as _comports

        comports = _comports
    if board.probe is None:
        raise RunnerError(f"boards.yaml names no debug probe for {board.name}: its serial port cannot be found.",
                          hint="Pass the serial port with --port.")
    firmware = board.probe.firmware
    ports = sorted(comports(), key=lambda p: p.device)
    candidates = [p for p in ports if is_probe_port(p, firmware)]
    if probe_serial:
        exact = [p for p in candidates if same_serial(p.serial_number, probe_serial)]
        if len(exact) == 1:
            return exact[0].device
        if len(exact) > 1:
            candidates = exact
    if len(candidates) == 1:
        return candidates[0].device
    wanted = f"{board.probe.name} ({usb_ids_text(firmware)})"
    if not candidates:
        raise RunnerError(
            f"No serial port of {board.name}'s probe {wanted} is attached. Serial ports:\n{_listing(ports)}",
            hint="Connect the board's debug USB port (and check `dmesg` and the udev permissions), or pass the "
                 "port with --port.")
    which = f" with serial {probe_serial}" if probe_serial else ""
    raise RunnerError(
        f"Several serial ports could be {board.name}'s{which}:\n{_listing(candidates)}",
        hint="Choose one with --port, or the probe with --probe SERIAL (the serial numbers above).")
