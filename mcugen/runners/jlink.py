"""SEGGER J-Link runner: J-Link Commander (`JLinkExe`) runs a command file that mcugen
writes beside the image (build/flash.jlink, so that the same flash can be repeated by
hand): select the device and SWD, connect, reset, program firmware.hex, reset, go, exit.

The J-Link device name comes from boards.yaml `flash.jlink_device` (SEGGER's supported
device list). A J-Link is the external probe on the ST boards (ST-LINK/V3 cannot run
J-Link firmware) and the OpenSDA/MCU-Link of the i.MX RT EVKs reflashed with SEGGER's
J-Link firmware; `probe=` is the J-Link's serial number (`-USB`).
"""

from __future__ import annotations

from pathlib import Path

from mcugen.runners.base import RunnerCaps, register
from mcugen.runners.tool import ToolRunner

JLINK_SPEED_KHZ = 4000
COMMAND_FILE = "flash.jlink"


def jlink_script(device: str, image: str | Path, speed_khz: int = JLINK_SPEED_KHZ) -> list[str]:
    """The J-Link Commander command file, one command a line."""
    return [
        "ExitOnError 1",          # any failed command ends JLinkExe with a non-zero status
        f"device {device}",
        "si SWD",
        f"speed {speed_khz}",
        "connect",
        "r",                       # reset and halt before programming
        f'loadfile "{image}"',
        "r",
        "g",
        "exit",
    ]


@register
class JlinkRunner(ToolRunner):
    name = "jlink"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles",
                      options=("port", "baud", "probe"), board_setting="jlink_device")
    program = "JLinkExe"
    tool_name = "J-Link Commander"
    install_hint = ("Install SEGGER's J-Link Software and Documentation Pack (https://www.segger.com/downloads/jlink/; "
                    "the Linux package installs under /opt/SEGGER) or put JLinkExe on PATH.")
    search = ("/opt/SEGGER/JLink/JLinkExe", "/opt/SEGGER/JLink_V*/JLinkExe", "/Applications/SEGGER/JLink*/JLinkExe")
    no_probe_phrases = ("cannot connect to j-link", "connecting to j-link via usb...failed",
                        "could not open j-link", "no j-link found")
    no_probe_hint = ("No J-Link found: connect the J-Link (or the EVK's debug USB port with J-Link firmware) and "
                     "check the udev permissions.")

    @property
    def script_path(self) -> Path:
        return self.elf.parent / COMMAND_FILE

    def script(self) -> list[str]:
        return jlink_script(self.board.flash.jlink_device, self.elf.with_suffix(".hex"))

    def command(self, program: str | None = None) -> list[str]:
        argv = [program or self.program, "-nogui", "1"]
        if self.probe:
            argv += ["-USB", self.probe]
        return argv + ["-CommanderScript", str(self.script_path)]

    def prepare(self, program: str) -> None:
        self.image(".hex")
        self.script_path.write_text("\n".join(self.script()) + "\n", encoding="utf-8")
