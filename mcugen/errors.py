"""One exception family for everything a user can cause or fix.

The CLI is the only place that prints these: the message, then the hint, and a
non-zero exit code. Library code raises; it never prints.
"""

from __future__ import annotations


class McugenError(Exception):
    """An error the user can act on: `message` says what, `hint` says what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class ModelError(McugenError):
    """The .tflite file cannot be read or is not a model mcugen can take."""


class UnsupportedOpsError(ModelError):
    """The model uses operators that the chosen style cannot run."""


class BoardError(McugenError):
    """boards.yaml is invalid, or the target is unknown."""


class FitError(McugenError):
    """The model does not fit the board's memory."""


class ToolchainError(McugenError):
    """A compiler, emulator or flashing tool is missing or failed."""


class OutputDirError(McugenError):
    """The output directory holds files mcugen did not write."""


class LinkError(McugenError):
    """The UART link to the target failed: timeout, framing, protocol or model mismatch."""


class RunnerError(McugenError):
    """A runner (QEMU, pyOCD, OpenOCD, host) could not flash or start the firmware."""
