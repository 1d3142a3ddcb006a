"""Host side of the UART link to the firmware (docs/protocol.md)."""

# the link's errors, each a LinkError a caller can catch by kind (mcugen.errors)
from mcugen.errors import (LinkCrcError, LinkError, LinkFramingError, LinkPortError, LinkTimeoutError,
                           StaleResultError, TargetFaultError, TargetIdentityError, TargetRefusedError,
                           TargetResetError)
from mcugen.link.client import RunResult, TargetLink
from mcugen.link.protocol import Announcement, TensorSpec
from mcugen.link.transport import PipeTransport, SerialTransport, Transport

__all__ = ["Announcement", "LinkCrcError", "LinkError", "LinkFramingError", "LinkPortError", "LinkTimeoutError",
           "PipeTransport", "RunResult", "SerialTransport", "StaleResultError", "TargetFaultError",
           "TargetIdentityError", "TargetLink", "TargetRefusedError", "TargetResetError", "TensorSpec", "Transport"]
