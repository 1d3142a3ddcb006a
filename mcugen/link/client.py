"""The host side of the link: request/response over a Transport.

Every request gets one response carrying the request's sequence number; a
request whose response is lost, corrupted or NAKed for a bad CRC is sent again
(with a new sequence number, so a late answer to the old one is ignored), a
bounded number of times. Anything else ends in a LinkError that says what was
seen: silence, garbage, CRC errors, a wrong model, a target that reset (an
unasked boot announcement) or crashed (a FAULT frame).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

from mcugen.errors import LinkError
from mcugen.link.protocol import (
    FLAG_BOOT,
    MAX_INPUT_CHUNK,
    MAX_OUTPUT_CHUNK,
    MSG_ACK,
    MSG_ANNOUNCE,
    MSG_FAULT,
    MSG_GET_RESULT,
    MSG_HELLO,
    MSG_NAK,
    MSG_NAMES,
    MSG_OUTPUT_DATA,
    MSG_PROFILE_DATA,
    MSG_READ_OUTPUT,
    MSG_READ_PROFILE,
    PROFILE_HEADER,
    MSG_RUN,
    MSG_RUN_DONE,
    MSG_WRITE_INPUT,
    OUTPUT_DATA_HEADER,
    READ_OUTPUT_REQUEST,
    STATUS_BAD_CRC,
    STATUS_NAMES,
    WRITE_INPUT_HEADER,
    Announcement,
    Frame,
    FrameParser,
    decode_announcement,
    describe_fault,
    encode_frame,
)
from mcugen.link.transport import Transport

DEFAULT_TIMEOUT = 2.0          # seconds to wait for the answer to one request
DEFAULT_RETRIES = 3            # extra attempts after a lost or corrupted answer
READ_SLICE = 4096


class TargetResetError(LinkError):
    """The target announced itself unasked: it has reset (watchdog, brown-out, button)."""


class TargetFaultError(LinkError):
    """The firmware reported a CPU fault."""


@dataclass(frozen=True)
class RunBatch:
    status: int
    counts: tuple[int, ...]


class TargetLink:
    """One connection to a running mcugen firmware."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> None:
        self.transport = transport
        self.timeout = timeout
        self.retries = retries
        self.parser = FrameParser()
        self.announcement: Announcement | None = None
        self._seq = 0

    # ---- frames ---------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        if self._seq == 0:  # 0 is the boot announcement's
            self._seq = 1
        return self._seq

    def _read_frame(self, deadline: float) -> Frame | None:
        while True:
            frame = self.parser.next_frame()
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.parser.feed(self.transport.read(READ_SLICE, min(remaining, 0.25)))

    def _check_unasked(self, frame: Frame) -> None:
        if frame.type == MSG_FAULT:
            raise TargetFaultError(f"The target crashed: {describe_fault(frame.payload)}.",
                                   hint="Look the pc up in build/firmware.map or with arm-none-eabi-addr2line.")
        if frame.type == MSG_ANNOUNCE and frame.flags & FLAG_BOOT and self.announcement is not None:
            raise TargetResetError(
                "The target reset during the session (it announced itself again unasked); "
                "its inputs and results are gone.",
                hint="Check the power supply and the reset line; a watchdog or a fault can also reset it.")

    def request(self, msg_type: int, payload: bytes, expect: int, timeout: float | None = None) -> Frame:
        """Sends one request and returns its response frame of type `expect`."""
        timeout = self.timeout if timeout is None else timeout
        name = MSG_NAMES.get(msg_type, hex(msg_type))
        problems: list[str] = []
        for _attempt in range(self.retries + 1):
            seq = self._next_seq()
            self.transport.write(encode_frame(msg_type, seq, payload))
            deadline = time.monotonic() + timeout
            while True:
                frame = self._read_frame(deadline)
                if frame is None:
                    problems.append("no answer")
                    break
                self._check_unasked(frame)
                if frame.seq != seq:
                    continue  # a late answer to an earlier attempt, or an unasked frame
                if frame.type == MSG_NAK:
                    status = struct.unpack_from("<H", frame.payload)[0] if len(frame.payload) >= 2 else -1
                    if status == STATUS_BAD_CRC:
                        problems.append("the target received a corrupted request")
                        break
                    raise LinkError(f"The target refused {name}: {STATUS_NAMES.get(status, status)}.",
                                    hint="The firmware and the host disagree about the model; regenerate and "
                                         "rebuild the firmware.")
                if frame.type != expect:
                    raise LinkError(f"The target answered {name} with {frame.type_name}, expected "
                                    f"{MSG_NAMES.get(expect, expect)}.")
                return frame
        raise LinkError(
            f"No valid answer to {name} after {self.retries + 1} attempt(s) of {timeout:.1f} s "
            f"({'; '.join(problems)}). Seen on the line: {self.parser.stats.describe()}.",
            hint=self._silence_hint(),
        )

    def _silence_hint(self) -> str:
        s = self.parser.stats
        if s.frames == 0 and s.garbage_bytes == 0 and s.crc_errors == 0:
            return ("The target sent nothing: is the firmware flashed and running, the right serial port "
                    f"({self.transport.name}) chosen, and the baud rate right?")
        if s.frames == 0:
            return ("Bytes arrived but no valid frame: wrong baud rate, another program on the port, or "
                    "firmware that does not speak the mcugen protocol.")
        return "The line is noisy or the target stalls; retry, or lower the baud rate."

    # ---- session ----------------------------------------------------------------

    def connect(self, expected_hash: str | None = None, timeout: float = 10.0) -> Announcement:
        """Waits for the target's announcement (asking for it with HELLO, so a
        late connection works) and checks the model hash."""
        deadline = time.monotonic() + timeout
        ann_frame = None
        while ann_frame is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkError(
                    f"The target did not announce itself within {timeout:.1f} s on {self.transport.name}. "
                    f"Seen on the line: {self.parser.stats.describe()}.",
                    hint=self._silence_hint())
            seq = self._next_seq()
            self.transport.write(encode_frame(MSG_HELLO, seq))
            wait_until = time.monotonic() + min(self.timeout, remaining)
            while True:
                frame = self._read_frame(wait_until)
                if frame is None:
                    break
                self._check_unasked(frame)
                if frame.type == MSG_ANNOUNCE and (frame.seq == seq or frame.flags & FLAG_BOOT):
                    ann_frame = frame
                    break
                if frame.type == MSG_NAK and frame.seq == seq:
                    status = struct.unpack_from("<H", frame.payload)[0]
                    if status != STATUS_BAD_CRC:
                        raise LinkError(f"The target cannot announce itself: {STATUS_NAMES.get(status, status)}.",
                                        hint="The model has too many inputs/outputs for one announcement frame.")
        ann = decode_announcement(ann_frame.payload)
        if expected_hash is not None and ann.model_hash != expected_hash.lower():
            raise LinkError(
                f"The target runs a different model: '{ann.model_name}' with hash {ann.model_hash[:16]}..., "
                f"expected {expected_hash.lower()[:16]}....",
                hint="Flash the firmware built from this project (mcugen flash), or point to the project "
                     "that built what the board runs.")
        if ann.init_status != 0:
            raise LinkError(f"The model failed to initialise on the target (status {ann.init_status}).",
                            hint="The arena may be too small or the model data corrupt; rebuild and reflash.")
        self.announcement = ann
        # Drain what is still queued (e.g. the answer to an earlier HELLO).
        self.parser.feed(self.transport.read(READ_SLICE, 0.05))
        while (f := self.parser.next_frame()) is not None:
            if f.type == MSG_FAULT:
                self._check_unasked(f)
        return ann

    def _need_announcement(self) -> Announcement:
        if self.announcement is None:
            raise LinkError("Not connected: call connect() first.")
        return self.announcement

    def write_input(self, index: int, data: bytes) -> None:
        ann = self._need_announcement()
        spec = ann.inputs[index]
        if len(data) != spec.nbytes:
            raise LinkError(f"Input {index} needs {spec.nbytes} bytes, got {len(data)}.")
        for offset in range(0, len(data), MAX_INPUT_CHUNK):
            chunk = data[offset:offset + MAX_INPUT_CHUNK]
            frame = self.request(MSG_WRITE_INPUT, WRITE_INPUT_HEADER.pack(index, 0, offset) + chunk, MSG_ACK)
            status = struct.unpack_from("<H", frame.payload)[0]
            if status != 0:
                raise LinkError(f"The target rejected input {index} at offset {offset}: "
                                f"{STATUS_NAMES.get(status, status)}.")

    def run(self, runs: int, run_timeout: float) -> RunBatch:
        """Runs the model `runs` times (in batches the target can hold) and
        returns every counter value. run_timeout bounds one inference."""
        ann = self._need_announcement()
        counts: list[int] = []
        status = 0
        left = runs
        while left > 0:
            n = min(left, ann.max_runs_per_request)
            timeout = self.timeout + n * run_timeout
            try:
                frame = self.request(MSG_RUN, struct.pack("<I", n), MSG_RUN_DONE, timeout=timeout)
            except (TargetResetError, TargetFaultError):
                raise
            except LinkError as first:
                # The runs may have happened and only the answer been lost: ask for it
                # once more instead of running again.
                try:
                    frame = self.request(MSG_GET_RESULT, b"", MSG_RUN_DONE)
                except LinkError:
                    raise first from None
            status, done = struct.unpack_from("<iI", frame.payload)
            if len(frame.payload) != 8 + 8 * done or done > n:
                raise LinkError(f"Malformed RUN_DONE: {len(frame.payload)} bytes for {done} run(s).")
            counts += list(struct.unpack_from(f"<{done}Q", frame.payload, 8))
            if status != 0:
                break
            left -= done
        return RunBatch(status=status, counts=tuple(counts))

    def read_output(self, index: int) -> bytes:
        ann = self._need_announcement()
        spec = ann.outputs[index]
        out = bytearray()
        while len(out) < spec.nbytes:
            offset = len(out)
            frame = self.request(MSG_READ_OUTPUT, READ_OUTPUT_REQUEST.pack(index, 0, offset, MAX_OUTPUT_CHUNK),
                                 MSG_OUTPUT_DATA)
            idx, _, got_offset, total = OUTPUT_DATA_HEADER.unpack_from(frame.payload)
            data = frame.payload[OUTPUT_DATA_HEADER.size:]
            if idx != index or got_offset != offset or total != spec.nbytes or not data:
                raise LinkError(f"The target sent output {idx} at offset {got_offset} (total {total}, "
                                f"{len(data)} bytes); asked for output {index} at offset {offset} of {spec.nbytes}.")
            out += data
        if len(out) != spec.nbytes:
            raise LinkError(f"Output {index}: received {len(out)} bytes, expected {spec.nbytes}.")
        return bytes(out)

    def read_profile(self) -> list[int]:
        """Counter ticks per node of the last run (empty when the firmware was built
        without MCUGEN_PROFILE)."""
        counts: list[int] = []
        total = None
        while total is None or len(counts) < total:
            frame = self.request(MSG_READ_PROFILE, struct.pack("<I", len(counts)), MSG_PROFILE_DATA)
            if len(frame.payload) < PROFILE_HEADER.size or (len(frame.payload) - PROFILE_HEADER.size) % 8:
                raise LinkError(f"Malformed PROFILE_DATA of {len(frame.payload)} bytes.")
            got_total, first = PROFILE_HEADER.unpack_from(frame.payload)
            n = (len(frame.payload) - PROFILE_HEADER.size) // 8
            if first != len(counts) or (total is not None and got_total != total) or (got_total and not n):
                raise LinkError(f"The target sent profile nodes from {first} of {got_total}; asked from {len(counts)}.")
            total = got_total
            counts += list(struct.unpack_from(f"<{n}Q", frame.payload, PROFILE_HEADER.size))
        return counts
