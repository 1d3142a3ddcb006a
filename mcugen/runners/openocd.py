"""OpenOCD runner: `openocd -f <board cfg> [-c "adapter serial <probe>"] -c "program <elf>
verify reset exit"`, then the board's virtual COM port (`port=`, else found from the
probe's USB identity)."""

from __future__ import annotations

from pathlib import Path

from mcugen.runners.base import RunnerCaps, register
from mcugen.runners.tool import ToolRunner


def openocd_command(program: str, config: str, elf: str | Path, adapter_serial: str | None = None) -> list[str]:
    argv = [program, "-f", config]
    if adapter_serial:
        argv += ["-c", f"adapter serial {adapter_serial}"]
    argv += ["-c", f"program {elf} verify reset exit"]
    return argv


@register
class OpenocdRunner(ToolRunner):
    name = "openocd"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles",
                      options=("port", "baud", "probe"), board_setting="openocd_config")
    program = "openocd"
    tool_name = "OpenOCD"
    install_hint = "Install it: apt-get install openocd (or a build from https://openocd.org)."
    no_probe_phrases = ("open failed", "no device found", "unable to find a matching cmsis-dap device")
    no_probe_hint = "No probe found: connect the board's ST-LINK USB port (and check the udev permissions)."

    def command(self, program: str | None = None) -> list[str]:
        return openocd_command(program or self.program, self.board.flash.openocd_config, self.elf, self.probe)
