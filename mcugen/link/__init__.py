"""Host side of the UART link to the firmware (docs/protocol.md)."""

from mcugen.link.client import RunBatch, TargetFaultError, TargetLink, TargetResetError
from mcugen.link.protocol import Announcement, TensorSpec
from mcugen.link.transport import PipeTransport, SerialTransport, Transport

__all__ = ["Announcement", "PipeTransport", "RunBatch", "SerialTransport", "TargetFaultError", "TargetLink",
           "TargetResetError", "TensorSpec", "Transport"]
