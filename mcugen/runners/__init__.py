"""Ways to run firmware: qemu, host, pyocd, openocd, jlink, linkserver, stm32cubeprogrammer, labgrid
(one class each, common base; the command-line flashers share runners/tool.py).

Importing a runner module registers it (mcugen.runners.base.register); this package
imports them all, so `make_runner` knows every runner.
"""

from mcugen.runners import host, jlink, labgrid, linkserver, openocd, pyocd, qemu, stm32cubeprogrammer  # noqa: F401
from mcugen.runners.base import (MissingProgramError, Runner, RunnerCaps, choose_runner, make_runner, require,
                                 runner_names)

__all__ = ["MissingProgramError", "Runner", "RunnerCaps", "choose_runner", "make_runner", "require", "runner_names"]
