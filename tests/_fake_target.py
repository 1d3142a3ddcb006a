"""A Python target that speaks the mcugen protocol on a file descriptor (the master side
of a pty, or a socket), as firmware/runtime/mcugen_protocol.c does, with hooks to
misbehave (tests/_link_attacks.py subclasses it).

The model: one int8 input and one int8 output of N bytes, output = input + 1. The input
lives "in the arena": a run overwrites it (as generated code may), so a run on an input
that was not written again gives a wrong output. Run k (counting from 0 over the
session) reports the counter value 1000 + k and the per-node profile [100 k + i].

It speaks the protocol version of the mcugen it is imported with; the version 1
dialect exists only so that tests/_link_attacks.py can replay the attacks on the old host.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import threading
import tty
from collections import Counter
from collections.abc import Callable, Iterator

from mcugen.link import protocol as P

HASH = "ab" * 32
N = 3000
PROFILE_NODES = 5
V2 = P.PROTOCOL_VERSION >= 2
STATUS_STALE_INPUT, STATUS_NO_RESULT = 7, 8


def announcement(model_hash: str = HASH) -> P.Announcement:
    return P.Announcement(
        protocol_version=P.PROTOCOL_VERSION, max_payload=P.MAX_PAYLOAD, timing_unit="cycles", clock_hz=480_000_000,
        activation_bytes=1234, extra_u32=7, init_status=0, max_runs_per_request=64, model_api_version=1,
        model_hash=model_hash, model_name="fake",
        inputs=(P.TensorSpec(0, 9, (1, N), N, 0.5, -1),),
        outputs=(P.TensorSpec(0, 9, (1, N), N, 0.5, -1),),
    )


def status_payload(status: int, request_type: int) -> bytes:
    return struct.pack("<HBB", status, request_type, 0)


def run_done_payload(run_id: int, status: int, counts: tuple[int, ...]) -> bytes:
    head = struct.pack("<IiI", run_id, status, len(counts)) if V2 else struct.pack("<iI", status, len(counts))
    return head + struct.pack(f"<{len(counts)}Q", *counts)


class FakeTarget(threading.Thread):
    """Serves the protocol on `fd` until stop is set. Hooks for attacks: receive()
    (a request lost on the way in), answer() (what the target says), send() (the bytes
    on the wire), compute() (what a run does)."""

    def __init__(self, fd: int, model_hash: str = HASH) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.ann = announcement(model_hash)
        self.parser = P.FrameParser()
        self.stop = threading.Event()
        self.requests: Counter[int] = Counter()   # per request type, as received
        self.answers: Counter[int] = Counter()    # per answer type, as answered
        self.reset_state()

    def reset_state(self) -> None:
        self.inp = bytearray(N)
        self.out = bytearray(N)
        self.fresh = False
        self.result_id = 0
        self.status = 0
        self.counts: tuple[int, ...] = ()
        self.profile: tuple[int, ...] = ()
        self.runs_done = getattr(self, "runs_done", 0)  # counter values keep counting across a reset

    # ---- hooks ------------------------------------------------------------------

    def receive(self, frame: P.Frame) -> bool:
        """False: the request is lost before the target sees it."""
        return True

    def answer(self, request: P.Frame, msg_type: int, payload: bytes, flags: int = 0) -> None:
        self.answers[msg_type] += 1
        self.send(P.encode_frame(msg_type, request.seq, payload, flags))

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.stop.is_set():
            _, ready, _ = select.select([], [self.fd], [], 1.0)
            if ready:
                view = view[os.write(self.fd, view):]

    def compute(self) -> None:
        self.out[:] = bytes((b + 1) & 0xFF for b in self.inp)
        self.inp[:] = bytes(reversed(self.out))  # the activations reuse the input's bytes

    # ---- the protocol -------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                ready, _, _ = select.select([self.fd], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self.fd, 4096)
                if not data:
                    return
                self.parser.feed(data)
                while (f := self.parser.next_frame()) is not None and not self.stop.is_set():
                    self.requests[f.type] += 1
                    if self.receive(f):
                        self.handle(f)
        except OSError:
            pass  # the test closed the descriptors

    def nak(self, f: P.Frame, status: int) -> None:
        self.answer(f, P.MSG_NAK, status_payload(status, f.type))

    def handle(self, f: P.Frame) -> None:
        if f.type == P.MSG_HELLO:
            self.answer(f, P.MSG_ANNOUNCE, P.encode_announcement(self.ann))
        elif f.type == P.MSG_WRITE_INPUT:
            _, _, off = struct.unpack_from("<HHI", f.payload)
            data = f.payload[8:]
            self.inp[off:off + len(data)] = data
            self.fresh = True
            if V2:  # version 1 kept the last result (and GET_RESULT returned it) whatever came after
                self.result_id = 0
            self.answer(f, P.MSG_ACK, status_payload(0, f.type))
        elif f.type == P.MSG_RUN:
            run_id, n = struct.unpack("<II", f.payload) if V2 else (1, *struct.unpack("<I", f.payload))
            if V2 and not self.fresh:
                self.nak(f, STATUS_STALE_INPUT)
                return
            self.fresh = False
            counts = []
            for _ in range(n):
                self.compute()
                counts.append(1000 + self.runs_done)
                self.profile = tuple(100 * self.runs_done + i for i in range(PROFILE_NODES))
                self.runs_done += 1
            self.result_id, self.status, self.counts = run_id, 0, tuple(counts)
            self.answer(f, P.MSG_RUN_DONE, run_done_payload(run_id, 0, self.counts))
        elif f.type == P.MSG_GET_RESULT:
            if not self.result_id:
                self.nak(f, STATUS_NO_RESULT if V2 else P.STATUS_NOT_READY)
            else:
                self.answer(f, P.MSG_RUN_DONE, run_done_payload(self.result_id, self.status, self.counts))
        elif f.type == P.MSG_READ_OUTPUT:
            if V2:
                run_id, idx, _, off, mx = struct.unpack("<IHHII", f.payload)
                if run_id != self.result_id:
                    self.nak(f, STATUS_NO_RESULT)
                    return
                head = struct.pack("<IHHII", run_id, idx, 0, off, N)
            else:
                idx, _, off, mx = struct.unpack("<HHII", f.payload)
                head = struct.pack("<HHII", idx, 0, off, N)
            data = bytes(self.out[off:off + min(mx, P.MAX_PAYLOAD - len(head))])
            self.answer(f, P.MSG_OUTPUT_DATA, head + data)
        elif f.type == P.MSG_READ_PROFILE:
            if V2:
                run_id, first = struct.unpack("<II", f.payload)
                if run_id != self.result_id:
                    self.nak(f, STATUS_NO_RESULT)
                    return
                head = struct.pack("<III", run_id, len(self.profile), first)
            else:
                (first,) = struct.unpack("<I", f.payload)
                head = struct.pack("<II", len(self.profile), first)
            rest = self.profile[first:]
            self.answer(f, P.MSG_PROFILE_DATA, head + struct.pack(f"<{len(rest)}Q", *rest))
        else:
            self.nak(f, P.STATUS_BAD_TYPE)


@contextlib.contextmanager
def target_on_pty(make: Callable[[int], FakeTarget]) -> Iterator[tuple[FakeTarget, str]]:
    """A fake target on the master side of a real pty; yields it and the slave's path,
    which the host opens with pyserial (SerialTransport), as it opens QEMU's pty."""
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line editing before the host opens it
    fake = make(master)
    fake.start()
    try:
        yield fake, os.ttyname(slave)
    finally:
        fake.stop.set()
        fake.join(2.0)
        os.close(master)
        os.close(slave)
