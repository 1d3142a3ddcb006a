"""STM32CubeProgrammer runner: `STM32_Programmer_CLI -c port=SWD [sn=SERIAL] mode=UR
reset=HWrst [-el <loader>] -w firmware.hex -v -rst`.

It writes firmware.hex (every region the image fills), connecting under reset with a
hardware reset line (robust when the other core or a sleeping program holds the debug
port), verifies, and resets the target to run. When the image puts data in the board's
memory-mapped QSPI flash (weights placed there), it adds the board's external loader
(boards.yaml `flash.external_loader`, e.g. MT25TL01G_STM32H747I-DISCO.stldr), which ST
ships in STM32CubeProgrammer's bin/ExternalLoader folder. It is the one runner here that
programs that flash (caps.loader_flash).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mcugen.errors import RunnerError
from mcugen.runners.base import RunnerCaps, image_regions, register
from mcugen.runners.tool import ToolRunner


@register
class Stm32CubeProgrammerRunner(ToolRunner):
    name = "stm32cubeprogrammer"
    caps = RunnerCaps(flash=True, reset=True, emulated=False, counter_unit="cycles",
                      options=("port", "baud", "probe"), loader_flash=True)
    program = "STM32_Programmer_CLI"
    tool_name = "STM32CubeProgrammer"
    install_hint = ("Install STM32CubeProgrammer (https://www.st.com/en/development-tools/stm32cubeprog.html, "
                    "or STM32CubeCLT) and put its bin folder on PATH.")
    search = ("~/STMicroelectronics/STM32Cube/STM32CubeProgrammer/bin/STM32_Programmer_CLI",
              "/opt/st/stm32cubeclt*/STM32CubeProgrammer/bin/STM32_Programmer_CLI",
              "/Applications/STMicroelectronics/STM32Cube/STM32CubeProgrammer/STM32CubeProgrammer.app/"
              "Contents/MacOs/bin/STM32_Programmer_CLI")
    no_probe_phrases = ("no debug probe detected", "no stlink detected", "no st-link detected")
    no_probe_hint = "No ST-LINK found: connect the board's ST-LINK USB port (and check the udev permissions)."

    def loader(self, program: str) -> Path | None:
        """The external loader file, when the image fills a region that needs one."""
        if not any(r.init == "qspi" for r in image_regions(self.elf, self.board)):
            return None
        name = self.board.flash.external_loader
        if not name:
            raise RunnerError(f"The image puts data in {self.board.name}'s QSPI flash, but boards.yaml names no "
                              "STM32CubeProgrammer external loader for it (flash.external_loader).")
        where = Path(shutil.which(program) or program).resolve().parent
        return where / "ExternalLoader" / name

    def command(self, program: str | None = None) -> list[str]:
        program = program or self.program
        argv = [program, "-c", "port=SWD"]
        if self.probe:
            argv.append(f"sn={self.probe}")
        argv += ["mode=UR", "reset=HWrst"]
        loader = self.loader(program)
        if loader is not None:
            argv += ["-el", str(loader)]
        return argv + ["-w", str(self.elf.with_suffix(".hex")), "-v", "-rst"]

    def prepare(self, program: str) -> None:
        self.image(".hex")
        loader = self.loader(program)
        if loader is not None and not loader.is_file():
            raise RunnerError(f"STM32CubeProgrammer's external loader {loader.name} is not at {loader}.",
                              hint="It ships with STM32CubeProgrammer (bin/ExternalLoader); reinstall it, or place "
                                   "the weights in on-chip flash (--place weights=flash).")
