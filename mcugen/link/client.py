"""The host side of the link: request/response over a Transport (docs/protocol.md).

An answer is the frame that carries the request's sequence number and the type
the request calls for (or a NAK); every other frame on the line is counted and
skipped. An idempotent request (HELLO, WRITE_INPUT, GET_RESULT, READ_OUTPUT,
READ_PROFILE) whose answer is lost, corrupted or NAKed for a bad CRC is sent
again with a new sequence number, a bounded number of times.

RUN is never sent again as it was: the host asks which result the target holds
(GET_RESULT); when it is not this run's id, the host writes every input again
and sends RUN with a new run id. So a result becomes a value only when the
target binds it to this run id, and no run starts on inputs an earlier run may
have overwritten (they often share the arena with the activations).

Failures raise the LinkError subclasses of mcugen.errors, each saying what
arrived on the line.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mcugen.errors import (
    LinkCrcError,
    LinkError,
    LinkFramingError,
    LinkTimeoutError,
    StaleResultError,
    TargetFaultError,
    TargetIdentityError,
    TargetRefusedError,
    TargetResetError,
)
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
    MSG_RUN,
    MSG_RUN_DONE,
    MSG_WRITE_INPUT,
    READ_OUTPUT_REQUEST,
    READ_PROFILE_REQUEST,
    RUN_ID,
    RUN_REQUEST,
    STATUS_BAD_CRC,
    STATUS_NO_RESULT,
    STATUS_OK,
    STATUS_STALE_INPUT,
    WRITE_INPUT_HEADER,
    Announcement,
    Frame,
    FrameParser,
    FrameStats,
    RunDone,
    Status,
    decode_announcement,
    decode_output_data,
    decode_profile_data,
    decode_run_done,
    decode_status,
    describe_fault,
    encode_frame,
)
from mcugen.link.transport import Transport

DEFAULT_TIMEOUT = 2.0          # seconds to wait for the answer to one request
DEFAULT_RETRIES = 3            # extra attempts after a lost or corrupted answer
READ_SLICE = 4096
CORRUPTED = "the target received it corrupted"

__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "RunResult", "TargetFaultError", "TargetLink", "TargetResetError"]


@dataclass(frozen=True)
class RunResult:
    """One run of the model on the inputs given to TargetLink.infer()."""

    run_id: int
    status: int                  # mcugen_model_run()'s return value, 0 = ok
    counts: tuple[int, ...]      # the run's counter value (empty only when the model failed)


class TargetLink:
    """One connection to a running mcugen firmware."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> None:
        self.transport = transport
        self.timeout = timeout
        self.retries = retries
        self.parser = FrameParser()
        self.announcement: Announcement | None = None
        self.result: RunResult | None = None
        # Random starts: an answer or a result left on the target by an earlier session
        # cannot carry the numbers this one asks for.
        self._seq = secrets.randbelow(0xFFFF)
        self._run_id = secrets.randbelow(0xFFFFFFFF)

    # ---- frames ---------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        if self._seq == 0:  # 0 is the unasked frames'
            self._seq = 1
        return self._seq

    def _next_run_id(self) -> int:
        self._run_id = (self._run_id + 1) & 0xFFFFFFFF
        if self._run_id == 0:  # 0 means "no run"
            self._run_id = 1
        return self._run_id

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

    def _ignore(self, frame: Frame) -> None:
        self.parser.stats.ignored += 1
        self.parser.stats.last_ignored = frame.describe()

    def _exchange(self, msg_type: int, payload: bytes, expect: int, timeout: float, attempts: int) -> Frame:
        """Sends the request up to `attempts` times; returns its answer: the frame with the
        request's seq and type `expect`, or a NAK other than 'bad CRC'."""
        before = self.parser.stats.copy()
        problems: list[str] = []
        for _ in range(attempts):
            seq = self._next_seq()
            self.transport.write(encode_frame(msg_type, seq, payload))
            deadline = time.monotonic() + timeout
            while True:
                frame = self._read_frame(deadline)
                if frame is None:
                    problems.append("no valid answer")
                    break
                self._check_unasked(frame)
                if frame.seq != seq or frame.type not in (expect, MSG_NAK):
                    self._ignore(frame)  # a late answer to an earlier attempt, a duplicate, noise that parses
                    continue
                if frame.type == MSG_NAK and decode_status(frame).status == STATUS_BAD_CRC:
                    problems.append(CORRUPTED)
                    break
                return frame
        raise self._no_answer(MSG_NAMES[msg_type], attempts, timeout, before, problems)

    def _no_answer(self, what: str, attempts: int, timeout: float, before: FrameStats,
                   problems: list[str]) -> LinkError:
        seen = self.parser.stats.since(before)
        tally = ", ".join(f"{n} x {p}" if n > 1 else p for p, n in Counter(problems).items())
        message = (f"No valid answer to {what} after {attempts} attempt(s) of {timeout:.1f} s ({tally}). "
                   f"Received since the request: {seen.describe(self.parser.pending())}.")
        if not seen.frames and self.parser.stats.last_frame:
            message += f" The last valid frame before it: {self.parser.stats.last_frame}."
        cls = LinkCrcError if seen.crc_errors or CORRUPTED in problems else LinkTimeoutError
        return cls(message, hint=self._silence_hint(seen))

    def _silence_hint(self, seen: FrameStats) -> str:
        if self.parser.stats.bytes == 0:
            return ("The target sent nothing: is the firmware flashed and running, the right serial port "
                    f"({self.transport.name}) chosen, and the baud rate right?")
        if self.parser.pending():
            return ("A frame started but never finished: the target stopped while sending (a crash, a reset) "
                    "or bytes were lost (a UART overrun).")
        if seen.bytes == 0:
            return (f"The target stopped answering: nothing arrived since the request, after "
                    f"{self.parser.stats.frames} valid frame(s) before. It may hang in the model or have lost power.")
        if seen.frames == 0 and seen.crc_errors == 0:
            return ("Bytes arrived but no valid frame: wrong baud rate, another program on the port, or "
                    "firmware that does not speak the mcugen protocol.")
        if seen.crc_errors:
            return "The line corrupts frames: check the cable, the ground and the baud rate, then retry."
        return ("Frames arrived but none answered the request (other sequence numbers or types): another "
                "program may be talking to the target, or its firmware is not this mcugen's.")

    def _refused(self, msg_type: int, status: Status) -> LinkError:
        name = MSG_NAMES[msg_type]
        if status.status in (STATUS_NO_RESULT, STATUS_STALE_INPUT):
            return StaleResultError(f"The target refused {name}: {status.name}.",
                                    hint="The target lost its inputs or results (a reset?); run again.")
        return TargetRefusedError(f"The target refused {name}: {status.name}.",
                                  hint="The firmware and the host disagree about the model; regenerate and "
                                       "rebuild the firmware.")

    def request(self, msg_type: int, payload: bytes, expect: int, timeout: float | None = None) -> Frame:
        """Sends one idempotent request (resent while its answer is lost) and returns
        its answer of type `expect`; a NAK raises."""
        frame = self._exchange(msg_type, payload, expect, self.timeout if timeout is None else timeout,
                               self.retries + 1)
        if frame.type == MSG_NAK:
            raise self._refused(msg_type, decode_status(frame))
        return frame

    # ---- session ----------------------------------------------------------------

    def connect(self, expected_hash: str | None = None, timeout: float = 10.0) -> Announcement:
        """Waits for the target's announcement (asking for it with HELLO, so a
        late connection works) and checks the model hash."""
        deadline = time.monotonic() + timeout
        ann_frame = None
        while ann_frame is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = self.parser.stats
                raise (LinkCrcError if seen.crc_errors else LinkTimeoutError)(
                    f"The target did not announce itself within {timeout:.1f} s on {self.transport.name}. "
                    f"Received: {seen.describe(self.parser.pending())}.",
                    hint=self._silence_hint(seen))
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
                    status = decode_status(frame)
                    if status.status != STATUS_BAD_CRC:
                        raise TargetRefusedError(f"The target cannot announce itself: {status.name}.",
                                                 hint="The model has too many inputs/outputs for one "
                                                      "announcement frame.")
                else:
                    self._ignore(frame)
        ann = decode_announcement(ann_frame.payload)
        if expected_hash is not None and ann.model_hash != expected_hash.lower():
            raise TargetIdentityError(
                f"The target runs a different model: '{ann.model_name}' with hash {ann.model_hash[:16]}..., "
                f"expected {expected_hash.lower()[:16]}....",
                hint="Flash the firmware built from this project (mcugen flash), or point to the project "
                     "that built what the board runs.")
        if ann.init_status != 0:
            raise TargetRefusedError(f"The model failed to initialise on the target (status {ann.init_status}).",
                                     hint="The arena may be too small or the model data corrupt; rebuild and "
                                          "reflash.")
        self.announcement = ann
        self.result = None
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

    def _write_input(self, index: int, data: bytes) -> None:
        for offset in range(0, len(data), MAX_INPUT_CHUNK):
            chunk = data[offset:offset + MAX_INPUT_CHUNK]
            frame = self.request(MSG_WRITE_INPUT, WRITE_INPUT_HEADER.pack(index, 0, offset) + chunk, MSG_ACK)
            status = decode_status(frame)
            if status.status != STATUS_OK or status.request_type != MSG_WRITE_INPUT:
                raise LinkFramingError(
                    f"The target acknowledged input {index} at offset {offset} with {status.name} for request "
                    f"type 0x{status.request_type:02X}, expected ok for WRITE_INPUT.")

    def infer(self, inputs: Sequence[bytes], run_timeout: float) -> RunResult:
        """Writes every input, runs the model once, and returns the run's result, bound to
        its run id (read_output() then reads this run's outputs). `run_timeout` bounds one
        inference. A run whose answer is lost is recovered by its run id; a run that did
        not happen is repeated with every input written again."""
        ann = self._need_announcement()
        if len(inputs) != len(ann.inputs):
            raise LinkError(f"{len(inputs)} input(s) given; the model takes {len(ann.inputs)}.")
        for spec, data in zip(ann.inputs, inputs):
            if len(data) != spec.nbytes:
                raise LinkError(f"Input {spec.index} needs {spec.nbytes} bytes, got {len(data)}.")
        self.result = None
        history: list[str] = []
        for _ in range(self.retries + 1):
            for spec, data in zip(ann.inputs, inputs):
                self._write_input(spec.index, data)
            run_id = self._next_run_id()
            try:
                frame = self._exchange(MSG_RUN, RUN_REQUEST.pack(run_id, 1), MSG_RUN_DONE,
                                       self.timeout + run_timeout, attempts=1)
            except (LinkTimeoutError, LinkCrcError) as lost:
                # The run may have happened and only its answer been lost: ask for it by run id.
                held, what = self._held_result(run_id, lost)
                if held is not None and held.run_id == run_id:
                    return self._accept(held, run_id)
                history.append(f"run {run_id}: no RUN_DONE, {what}")
                continue
            if frame.type == MSG_NAK:
                status = decode_status(frame)
                if status.status != STATUS_STALE_INPUT:
                    raise self._refused(MSG_RUN, status)
                history.append(f"run {run_id}: NAK ({status.name})")
                continue
            return self._accept(decode_run_done(frame), run_id)
        raise StaleResultError(
            f"No result bound to a run of this input after {self.retries + 1} RUN request(s): "
            f"{'; '.join(history)}.",
            hint="RUN requests are lost, or the target forgets its inputs (does it reset?). Check the line and "
                 "the power supply.")

    def _held_result(self, run_id: int, lost: LinkError) -> tuple[RunDone | None, str]:
        """The result the target holds (None: none) and how to say it."""
        mark = self.parser.stats.copy()
        try:
            frame = self._exchange(MSG_GET_RESULT, RUN_ID.pack(run_id), MSG_RUN_DONE, self.timeout,
                                   self.retries + 1)
        except (LinkTimeoutError, LinkCrcError):
            if self.parser.stats.since(mark).bytes == 0:
                # The target has gone silent: nothing to recover from. What the RUN got says most.
                raise type(lost)(f"{lost.message} Asked for the result of run {run_id} {self.retries + 1} "
                                 "time(s) (GET_RESULT): nothing arrived.", hint=lost.hint) from None
            return None, "GET_RESULT got no valid answer either"
        if frame.type == MSG_NAK:
            status = decode_status(frame)
            if status.status != STATUS_NO_RESULT:
                raise self._refused(MSG_GET_RESULT, status)
            return None, "the target holds no result"
        held = decode_run_done(frame)
        return held, f"the target holds run {held.run_id}"

    def _accept(self, done: RunDone, run_id: int) -> RunResult:
        if done.run_id != run_id:
            raise StaleResultError(f"The target answered RUN of run {run_id} with the result of run {done.run_id}.",
                                   hint="The firmware does not bind results to runs; rebuild it with this mcugen.")
        if len(done.counts) > 1:
            raise LinkFramingError(f"The target's RUN_DONE of run {run_id} reports {len(done.counts)} runs done; "
                                   "1 was asked.")
        if not done.counts and done.status == 0:
            raise LinkFramingError(f"The target's RUN_DONE of run {run_id} reports status 0 (ok) and 0 runs done.",
                                   hint="The firmware's serve loop is broken; rebuild it with this mcugen.")
        self.result = RunResult(run_id, done.status, done.counts)
        return self.result

    def _need_result(self) -> RunResult:
        if self.result is None or self.result.status != 0:
            raise StaleResultError("No successful run to read results of: call infer() first.")
        return self.result

    def read_output(self, index: int) -> bytes:
        """Output `index` of the last infer()'s run."""
        ann = self._need_announcement()
        run_id = self._need_result().run_id
        spec = ann.outputs[index]
        out = bytearray()
        while len(out) < spec.nbytes:
            offset = len(out)
            frame = self.request(MSG_READ_OUTPUT,
                                 READ_OUTPUT_REQUEST.pack(run_id, index, 0, offset, MAX_OUTPUT_CHUNK), MSG_OUTPUT_DATA)
            got = decode_output_data(frame)
            if got.run_id != run_id:
                raise StaleResultError(f"The target sent output {index} of run {got.run_id}; asked for run {run_id}.",
                                       hint="The firmware does not bind results to runs; rebuild it with this mcugen.")
            if (got.index != index or got.offset != offset or got.total != spec.nbytes or not got.data
                    or len(got.data) > spec.nbytes - offset):
                raise LinkFramingError(
                    f"The target sent {len(got.data)} byte(s) of output {got.index} at offset {got.offset} (total "
                    f"{got.total}); asked for output {index} at offset {offset} of {spec.nbytes}.")
            out += got.data
        return bytes(out)

    def read_profile(self) -> list[int]:
        """Counter ticks per node of the last infer()'s run (empty when the firmware was
        built without MCUGEN_PROFILE)."""
        run_id = self._need_result().run_id
        counts: list[int] = []
        total = None
        while total is None or len(counts) < total:
            frame = self.request(MSG_READ_PROFILE, READ_PROFILE_REQUEST.pack(run_id, len(counts)), MSG_PROFILE_DATA)
            got = decode_profile_data(frame)
            if got.run_id != run_id:
                raise StaleResultError(f"The target sent the profile of run {got.run_id}; asked for run {run_id}.")
            if (got.first != len(counts) or (total is not None and got.total != total)
                    or (got.total > len(counts) and not got.counts) or len(counts) + len(got.counts) > got.total):
                raise LinkFramingError(f"The target sent {len(got.counts)} profile node(s) from {got.first} of "
                                       f"{got.total}; asked from node {len(counts)}.")
            total = got.total
            counts += got.counts
        return counts
