"""The board's serial port found from its probe's USB identity (runners/probes.py).

pyserial's list_ports is replaced by realistic ListPortInfo objects (what Linux's sysfs
gives for these probes): the physical devices cannot exist here."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from mcugen.boards import PROBE_FIRMWARES, get_board
from mcugen.errors import RunnerError
from mcugen.runners.probes import USB_IDS, find_port, is_probe_port, same_serial

PRODUCTS = {0x0483: ("STMicroelectronics", "STLINK-V3"), 0x0D28: ("Arm", "DAPLink CMSIS-DAP"),
            0x1FC9: ("NXP Semiconductors", "MCU-LINK on-board (r0E7) CMSIS-DAP V3.128"),
            0x1366: ("SEGGER", "J-Link"), 0x0403: ("FTDI", "FT232R USB UART")}


def port_info(device: str, vid: int | None = None, pid: int | None = None, serial: str | None = None,
              interface: int = 2) -> ListPortInfo:
    """A ListPortInfo as pyserial's Linux backend fills it for a USB CDC-ACM port."""
    p = ListPortInfo(device, skip_link_detection=True)
    if vid is not None:
        maker, product = PRODUCTS[vid]
        p.vid, p.pid, p.serial_number = vid, pid, serial
        p.manufacturer, p.product = maker, product
        p.location = f"1-4.{interface}:1.{interface}"
        p.interface = None
        p.description = f"{product} - {product}"
        p.hwid = f"USB VID:PID={vid:04X}:{pid:04X} SER={serial} LOCATION={p.location}"
    return p


STLINK = port_info("/dev/ttyACM0", 0x0483, 0x374E, "0670FF383930434B43185524")
STLINK2 = port_info("/dev/ttyACM3", 0x0483, 0x374B, "066DFF535155878281163326")
DAPLINK = port_info("/dev/ttyACM1", 0x0D28, 0x0204, "0227000041114e4500290011b0c8000069f1000097969900")
JLINK_OB = port_info("/dev/ttyACM2", 0x1366, 0x1015, "000621000123")
MCULINK = port_info("/dev/ttyACM4", 0x1FC9, 0x0143, "I2RZ2TTJJRRVG")
FTDI = port_info("/dev/ttyUSB0", 0x0403, 0x6001, "A50285BI")
UART = port_info("/dev/ttyS0")


def test_every_probe_firmware_has_its_usb_ids():
    assert set(USB_IDS) == set(PROBE_FIRMWARES)
    assert is_probe_port(STLINK, ["stlink"]) and is_probe_port(STLINK2, ["stlink"])
    assert is_probe_port(JLINK_OB, ["jlink"]) and not is_probe_port(JLINK_OB, ["daplink"])
    assert not is_probe_port(UART, list(PROBE_FIRMWARES)) and not is_probe_port(FTDI, list(PROBE_FIRMWARES))
    assert same_serial("000621000123", "621000123") and same_serial("0670ff", "0670FF")
    assert not same_serial(None, "1") and not same_serial("1", "")


def test_the_board_probe_port_is_found_among_others():
    everything = [UART, FTDI, STLINK, DAPLINK, MCULINK]
    assert find_port(get_board("stm32h7"), comports=lambda: everything) == "/dev/ttyACM0"
    assert find_port(get_board("stm32h747i-disco"), comports=lambda: everything) == "/dev/ttyACM0"
    assert find_port(get_board("rt1050"), comports=lambda: everything) == "/dev/ttyACM1"
    assert find_port(get_board("rt1170"), comports=lambda: [UART, MCULINK, FTDI]) == "/dev/ttyACM4"


def test_the_probe_serial_number_chooses_among_several():
    two_nucleos = [STLINK, STLINK2]
    board = get_board("stm32h7")
    assert find_port(board, "066DFF535155878281163326", lambda: two_nucleos) == "/dev/ttyACM3"
    assert find_port(board, "0670ff383930434b43185524", lambda: two_nucleos) == "/dev/ttyACM0"
    # a J-Link serial as J-Link tools print it (no leading zeros) on an EVK with J-Link firmware
    assert find_port(get_board("rt1050"), "621000123", lambda: [DAPLINK, JLINK_OB]) == "/dev/ttyACM2"
    # an external probe flashes (its serial is no port's): the board's only VCOM is still the one
    assert find_port(board, "000601234567", lambda: [STLINK, FTDI]) == "/dev/ttyACM0"


def test_several_candidates_are_listed():
    with pytest.raises(RunnerError) as e:
        find_port(get_board("stm32h7"), comports=lambda: [STLINK, STLINK2, FTDI])
    assert "Several serial ports could be nucleo-h743zi2's" in e.value.message
    assert "/dev/ttyACM0 (0483:374E, serial 0670FF383930434B43185524, STLINK-V3)" in e.value.message
    assert "/dev/ttyACM3 (0483:374B, serial 066DFF535155878281163326" in e.value.message
    assert "ttyUSB0" not in e.value.message and "--port" in e.value.hint and "--probe" in e.value.hint
    with pytest.raises(RunnerError, match="Several serial ports could be mimxrt1050-evkb's"):
        find_port(get_board("rt1050"), comports=lambda: [DAPLINK, JLINK_OB])


def test_no_candidate_lists_every_port_and_the_wanted_ids():
    with pytest.raises(RunnerError) as e:
        find_port(get_board("stm32h7"), comports=lambda: [UART, FTDI])
    m = e.value.message
    assert "No serial port of nucleo-h743zi2's probe ST-LINK/V3E (stlink 0483:374B/3752/374E" in m
    assert "/dev/ttyS0 (not USB, serial -)" in m and "/dev/ttyUSB0 (0403:6001, serial A50285BI, FT232R USB UART)" in m
    assert "--port" in e.value.hint
    with pytest.raises(RunnerError, match=r"(?s)probe OpenSDA \(daplink 0D28:0204, jlink 1366:\*\).*\(none\)"):
        find_port(get_board("rt1050"), comports=lambda: [])


def test_real_list_ports_runs_here():
    """pyserial's own enumeration on this machine: a clear error when no ST-LINK is attached."""
    from serial.tools.list_ports import comports

    if any(is_probe_port(p, ["stlink"]) for p in comports()):
        pytest.skip("an ST-LINK is attached to this machine")
    with pytest.raises(RunnerError, match="No serial port of nucleo-h743zi2's probe"):
        find_port(get_board("stm32h7"))
    with pytest.raises(RunnerError, match="names no debug probe for qemu-m7"):
        find_port(get_board("qemu-m7"), comports=lambda: [STLINK])
