"""NXP LinkServer runner: `LinkServer flash [--probe SERIAL] <device> load firmware.elf`
with the board's LinkServer device name (boards.yaml `flash.linkserver_device`, as NXP
names it: <part>:<board>). LinkServer drives the i.MX RT EVKs' OpenSDA/MCU-Link in
their CMSIS-DAP firmware."""

from __future__ import annotations

from mcugen.runners.base import RunnerCaps, register
from mcugen.runners.tool import ToolRunner


@register
class LinkserverRunner(ToolRunner):
    name = "linkserver"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles",
                      options=("port", "baud", "probe"), board_setting="linkserver_device")
    program = "LinkServer"
    tool_name = "LinkServer"
    install_hint = ("Install NXP's LinkServer for Microcontrollers (https://www.nxp.com/design/design-center/software/"
                    "development-software/mcuxpresso-software-and-tools-/linkserver-for-microcontrollers:LINKERSERVER; "
                    "on Linux it installs under /usr/local/LinkServer_<version>) or put LinkServer on PATH.")
    search = ("/usr/local/LinkServer/LinkServer", "/usr/local/LinkServer_*/LinkServer",
              "/Applications/LinkServer_*/LinkServer")
    no_probe_phrases = ("no probes detected", "no probe found", "probe not found")
    no_probe_hint = ("No probe found: connect the EVK's debug USB port (DAPLink or MCU-Link CMSIS-DAP firmware; "
                     "`LinkServer probes` lists what LinkServer sees).")

    def command(self, program: str | None = None) -> list[str]:
        argv = [program or self.program, "flash"]
        if self.probe:
            argv += ["--probe", self.probe]
        return argv + [self.board.flash.linkserver_device, "load", str(self.elf)]
