"""Ways to run firmware: qemu, host, pyocd, openocd (one class each, common base)."""

from mcugen.runners.base import MissingProgramError, Runner, RunnerCaps, make_runner, require

__all__ = ["MissingProgramError", "Runner", "RunnerCaps", "make_runner", "require"]
