"""Byte transports under the link protocol: explicit open/read/write/close and
a timeout on every read (cf. microTVM's project API transports).

- SerialTransport: a serial port through pyserial (a board's virtual COM port,
  QEMU's pty).
- PipeTransport: a pair of file descriptors (the host target's stdin/stdout,
  or one end of a socketpair in tests).
"""

from __future__ import annotations

import os
import select
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from mcugen.errors import LinkPortError

DEFAULT_BAUD = 115200  # when a board names none; runners use boards.yaml uart.baud (or --baud)


class Transport(ABC):
    """A byte stream to the target. read() never blocks longer than its timeout."""

    name = "transport"

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def read(self, n: int, timeout: float) -> bytes:
        """Up to n bytes; fewer (possibly none) when timeout seconds pass first."""

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


URL_POLL = 0.02  # seconds a read on a network (URL) port blocks before looking at the clock again


@dataclass(eq=False)
class SerialTransport(Transport):
    """pyserial port. `port` is a device path (/dev/ttyACM0, /dev/pts/3) or a pyserial URL (rfc2217://host:port)."""

    port: str
    baudrate: int = DEFAULT_BAUD
    write_timeout: float = 10.0
    _serial: Any = field(default=None, init=False, repr=False)  # the open serial.Serial

    def __post_init__(self) -> None:
        baudrate = self.baudrate
        if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
            raise LinkPortError(f"Baud rate {baudrate!r} is not a positive whole number.",
                                hint="Pass --baud as the firmware's rate, e.g. --baud 115200 (the board's default).")
        self.name = self.port

    def open(self) -> None:
        import serial  # pyserial

        if self._serial is not None:
            return
        try:
            if "://" in self.port:  # a network port (rfc2217://host:port, a farm's ser2net): pyserial's URL
                # handlers; its RFC 2217 client has no write timeout (TCP's own applies). The read
                # timeout stays fixed: plain pyserial 3.5 renegotiates an RFC 2217 port (baud, data
                # bits, ...) on every timeout change, which stalled the stream mid-frame.
                self._serial = serial.serial_for_url(self.port, self.baudrate, timeout=URL_POLL)
            else:
                self._serial = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=self.write_timeout,
                                             exclusive=True)
        except ValueError as exc:  # pyserial: a rate the port's driver cannot set
            raise LinkPortError(f"Cannot open serial port {self.port} at {self.baudrate} baud: {exc}.",
                                hint="Choose a rate the probe's virtual COM port supports (--baud).") from None
        except (serial.SerialException, OSError) as exc:
            raise LinkPortError(f"Cannot open serial port {self.port}: {exc}.",
                            hint="Check the port name (--port), that the board is connected, and that no "
                                 "other program (a terminal, another mcugen) holds the port.") from None
        self._serial.reset_input_buffer()

    def read(self, n: int, timeout: float) -> bytes:
        import serial

        if self._serial is None:
            raise LinkPortError(f"Serial port {self.port} is not open.")
        try:
            if "://" in self.port:
                return self._read_polling(n, timeout)
            # pyserial's read(n) waits for all n bytes: wait for the first byte
            # only, then take what has already arrived.
            self._serial.timeout = max(0.0, timeout)
            first = self._serial.read(1)
            if not first or n <= 1:
                return first
            waiting = self._serial.in_waiting
            if not waiting:
                return first
            self._serial.timeout = 0
            return first + self._serial.read(min(n - 1, waiting))
        except (serial.SerialException, OSError) as exc:
            raise LinkPortError(f"Reading {self.port} failed: {exc}.",
                            hint="The board may have been unplugged, or the emulator has exited.") from None

    def _read_polling(self, n: int, timeout: float) -> bytes:
        """read() on a URL port, its timeout left at URL_POLL: waits in steps of it."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            waiting = self._serial.in_waiting
            if waiting:
                return self._serial.read(min(n, waiting))
            first = self._serial.read(1)  # blocks for at most URL_POLL
            if first:
                waiting = self._serial.in_waiting if n > 1 else 0
                return first + (self._serial.read(min(n - 1, waiting)) if waiting else b"")
            if time.monotonic() >= deadline:
                return b""

    def write(self, data: bytes) -> None:
        import serial

        if self._serial is None:
            raise LinkPortError(f"Serial port {self.port} is not open.")
        try:
            self._serial.write(data)
            self._serial.flush()
        except serial.SerialTimeoutException:
            raise LinkPortError(f"Writing to {self.port} timed out after {self.write_timeout:.0f} s: "
                            "the target does not take data.") from None
        except (serial.SerialException, OSError) as exc:
            raise LinkPortError(f"Writing to {self.port} failed: {exc}.") from None

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None


@dataclass(eq=False)
class PipeTransport(Transport):
    """Reads from read_fd, writes to write_fd (may be the same fd, e.g. a socket).
    The transport owns the descriptors and closes them."""

    read_fd: int
    write_fd: int
    name: str = "pipe"
    write_timeout: float = 10.0
    _open: bool = field(default=False, init=False, repr=False)
    _eof: bool = field(default=False, init=False, repr=False)  # the target closed its end

    def open(self) -> None:
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self._open = True

    def read(self, n: int, timeout: float) -> bytes:
        if not self._open:
            raise LinkPortError(f"{self.name} is not open.")
        if self._eof:
            raise LinkPortError(f"The target closed {self.name}: the firmware process has exited.")
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.read_fd], [], [], max(0.0, remaining))
            if ready:
                try:
                    data = os.read(self.read_fd, n)
                except BlockingIOError:
                    data = None
                except OSError as exc:
                    raise LinkPortError(f"Reading {self.name} failed: {exc}.") from None
                if data == b"":
                    self._eof = True
                    raise LinkPortError(f"The target closed {self.name}: the firmware process has exited.")
                if data:
                    return data
            if remaining <= 0:
                return b""

    def write(self, data: bytes) -> None:
        if not self._open:
            raise LinkPortError(f"{self.name} is not open.")
        view = memoryview(data)
        deadline = time.monotonic() + self.write_timeout
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkPortError(f"Writing to {self.name} timed out: the target does not read its input.")
            _, ready, _ = select.select([], [self.write_fd], [], remaining)
            if not ready:
                continue
            try:
                n = os.write(self.write_fd, view)
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise LinkPortError(f"The target closed {self.name}: the firmware process has exited.") from None
            view = view[n:]

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        for fd in {self.read_fd, self.write_fd}:
            try:
                os.close(fd)
            except OSError:
                pass
