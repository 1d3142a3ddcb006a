"""A Python target that speaks the mcugen protocol, with ways to misbehave."""

from __future__ import annotations

import socket
import struct
import threading

from mcugen.link import protocol as P

HASH = "ab" * 32


def announcement(model_hash: str = HASH) -> P.Announcement:
    return P.Announcement(
        protocol_version=P.PROTOCOL_VERSION, max_payload=P.MAX_PAYLOAD, timing_unit="cycles", clock_hz=480_000_000,
        activation_bytes=1234, extra_u32=7, init_status=0, max_runs_per_request=64, model_api_version=1,
        model_hash=model_hash, model_name="fake",
        inputs=(P.TensorSpec(0, 9, (1, 3000), 3000, 0.5, -1),),
        outputs=(P.TensorSpec(0, 9, (1, 3000), 3000, 0.5, -1),),
    )


class FakeTarget(threading.Thread):
    """Serves one connection. mode: ok | garbage | corrupt | drop | wrong_hash | silent | reset | fault | noise_only"""

    def __init__(self, sock: socket.socket, mode: str = "ok", model_hash: str = HASH) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.mode = mode
        self.ann = announcement(model_hash)
        self.inp = bytearray(3000)
        self.out = bytearray(3000)
        self.buf = P.FrameParser()
        self.stop = threading.Event()
        self.responses = 0
        self.runs = 0
        self.counted = 0

    def send(self, frame: bytes) -> None:
        self.responses += 1
        n = self.responses
        if self.mode == "garbage":
            self.sock.sendall(bytes([0xA5, 0x00, 0x5A, 0xA5, 0x5A, 0x01, 0x02]) + b"noise\xa5" + frame)
            return
        if self.mode == "corrupt" and n % 3 == 0:
            bad = bytearray(frame)
            bad[len(bad) // 2] ^= 0x40
            self.sock.sendall(bytes(bad))
            return
        if self.mode == "drop" and n % 4 == 0:
            return
        self.sock.sendall(frame)

    def run(self) -> None:
        try:
            self._serve()
        except OSError:
            pass

    def _serve(self) -> None:
        if self.mode == "noise_only":
            while not self.stop.is_set():
                self.sock.sendall(b"hello world\r\n" * 4)
                self.stop.wait(0.05)
            return
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            if not data:
                return
            self.buf.feed(data)
            while (f := self.buf.next_frame()) is not None:
                self.handle(f)

    def handle(self, f: P.Frame) -> None:
        if self.mode == "silent":
            return
        if f.type == P.MSG_HELLO:
            self.send(P.encode_frame(P.MSG_ANNOUNCE, f.seq, P.encode_announcement(self.ann)))
        elif f.type == P.MSG_WRITE_INPUT:
            idx, _, off = P.WRITE_INPUT_HEADER.unpack_from(f.payload)
            data = f.payload[P.WRITE_INPUT_HEADER.size:]
            self.inp[off:off + len(data)] = data
            self.send(P.encode_frame(P.MSG_ACK, f.seq, struct.pack("<HBB", 0, f.type, 0)))
        elif f.type == P.MSG_RUN:
            (n,) = struct.unpack("<I", f.payload)
            self.runs += 1
            if self.mode == "reset":
                self.sock.sendall(P.encode_frame(P.MSG_ANNOUNCE, 0, P.encode_announcement(self.ann), P.FLAG_BOOT))
                return
            if self.mode == "fault":
                self.sock.sendall(P.encode_frame(P.MSG_FAULT, 0, P.FAULT_PAYLOAD.pack(3, 0x08000123, 0x100, 0x40000000, 0, 0)))
                return
            self.out[:] = bytes((b + 1) & 0xFF for b in self.inp)
            # Counter values number the runs across requests: 1000, 1001, ...
            first = 1000 + self.counted
            self.counted += n
            payload = struct.pack("<iI", 0, n) + struct.pack(f"<{n}Q", *[first + i for i in range(n)])
            self.send(P.encode_frame(P.MSG_RUN_DONE, f.seq, payload))
        elif f.type == P.MSG_READ_OUTPUT:
            idx, _, off, mx = P.READ_OUTPUT_REQUEST.unpack_from(f.payload)
            data = bytes(self.out[off:off + min(mx, P.MAX_OUTPUT_CHUNK)])
            self.send(P.encode_frame(P.MSG_OUTPUT_DATA, f.seq, P.OUTPUT_DATA_HEADER.pack(idx, 0, off, len(self.out)) + data))
        elif f.type == P.MSG_GET_RESULT:
            last = 1000 + max(self.counted - 1, 0)
            self.send(P.encode_frame(P.MSG_RUN_DONE, f.seq, struct.pack("<iI", 0, 1) + struct.pack("<Q", last)))
