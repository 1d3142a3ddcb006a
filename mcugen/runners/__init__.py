"""Ways to run firmware: qemu, host, pyocd, openocd (one class each, common base).

Importing a runner module registers it (mcugen.runners.base.register); this package
imports them all, so `make_runner` knows every runner.
"""

from mcugen.runners import host, openocd, pyocd, qemu  # noqa: F401  (registration)
from mcugen.runners.base import MissingProgramError, Runner, RunnerCaps, make_runner, require, runner_names

__all__ = ["MissingProgramError", "Runner", "RunnerCaps", "make_runner", "require", "runner_names"]
