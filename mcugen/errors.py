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
    """The UART link to the target failed: timeout, framing, protocol or model mismatch.
    The subclasses below say which; catch LinkError for all of them."""


class LinkPortError(LinkError):
    """The serial port or pipe cannot be opened, read or written (unplugged board, exited emulator)."""


class LinkTimeoutError(LinkError):
    """No valid answer within the time: silence, garbage, or frames that never completed."""


class LinkCrcError(LinkError):
    """No valid answer because the frames kept failing their CRC (either direction)."""


class LinkFramingError(LinkError):
    """A frame arrived intact (valid CRC) but breaks the protocol: a payload too short or too long
    for its type, counts that do not add up, an answer of the wrong kind."""


class TargetIdentityError(LinkError):
    """The target is not the firmware asked for: another model (hash) or another protocol version."""


class TargetRefusedError(LinkError):
    """The target refused a request (NAK: bad arguments, unknown request, model init failed)."""


class TargetResetError(LinkError):
    """The target announced itself unasked: it has reset (watchdog, brown-out, button)."""


class TargetFaultError(LinkError):
    """The firmware reported a CPU fault."""


class StaleResultError(LinkError):
    """A result could not be bound to the run that was asked for (another run id, or no run):
    it is never returned as a value."""


class RunnerError(McugenError):
    """A runner (QEMU, pyOCD, OpenOCD, host) could not flash or start the firmware."""
