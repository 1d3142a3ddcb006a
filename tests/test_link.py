"""The frame codec, the parser's resynchronisation, the payload decoders, and whole
sessions over a socketpair (PipeTransport, as the host build is run) and a pty. The
attacks on a real pty are in test_link_faults.py."""

from __future__ import annotations

import os
import re
import socket
import time
import tty
import zlib
from pathlib import Path

import numpy as np
import pytest

from _fake_target import HASH, N, FakeTarget, target_on_pty
from _link_attacks import GARBAGE, CorruptEveryThird, prefixed
from mcugen.errors import LinkError, LinkFramingError, LinkPortError, LinkTimeoutError
from mcugen.link import PipeTransport, SerialTransport, TargetLink
from mcugen.link import protocol as P
from mcugen.measure import measure_on_link

ROOT = Path(__file__).resolve().parents[1]


def test_frame_roundtrip_and_crc_is_zlib():
    frame = P.encode_frame(P.MSG_RUN, 0x1234, b"\x05\x00\x00\x00")
    assert frame[:2] == b"\xA5\x5A"
    assert frame[2:8] == bytes([P.MSG_RUN, 0, 0x34, 0x12, 4, 0])
    assert int.from_bytes(frame[-4:], "little") == zlib.crc32(frame[2:-4])
    parser = P.FrameParser()
    parser.feed(b"junk\xA5" + frame[:5])
    assert parser.next_frame() is None
    parser.feed(frame[5:])
    f = parser.next_frame()
    assert (f.type, f.seq, f.payload) == (P.MSG_RUN, 0x1234, b"\x05\x00\x00\x00")
    assert parser.stats.garbage_bytes == 5


def test_parser_finds_a_frame_hidden_after_a_false_sync_and_rejects_bad_crc():
    good = P.encode_frame(P.MSG_ACK, 7, b"\x00\x00\x02\x00")
    bad = bytearray(good)
    bad[-1] ^= 1
    parser = P.FrameParser()
    parser.feed(b"\xA5\x5A\xff\xff\xff\xff" + bytes(bad) + good)  # impossible length, bad CRC, good
    f = parser.next_frame()
    assert f is not None and f.seq == 7
    assert parser.stats.crc_errors == 1 and parser.stats.oversize_headers == 1


def test_python_constants_match_the_c_header():
    header = (ROOT / "firmware/runtime/mcugen_protocol.h").read_text()
    defs = {m[1]: int(m[2], 16 if m[2].startswith("0x") else 10)
            for m in re.finditer(r"#define (MCUGEN_\w+)\s+(0x[0-9A-Fa-f]+|\d+)u", header)}
    assert defs["MCUGEN_SYNC0"] == 0xA5 and defs["MCUGEN_SYNC1"] == 0x5A
    assert defs["MCUGEN_MAX_PAYLOAD"] == P.MAX_PAYLOAD
    assert defs["MCUGEN_PROTOCOL_VERSION"] == P.PROTOCOL_VERSION
    for name in ("HELLO", "WRITE_INPUT", "RUN", "GET_RESULT", "READ_OUTPUT", "READ_PROFILE", "PROFILE_DATA",
                 "ANNOUNCE", "ACK", "RUN_DONE",
                 "OUTPUT_DATA", "NAK", "FAULT"):
        assert defs[f"MCUGEN_MSG_{name}"] == getattr(P, f"MSG_{name}"), name
    statuses = {k[len("MCUGEN_STATUS_"):]: v for k, v in defs.items() if k.startswith("MCUGEN_STATUS_")}
    assert statuses == {k[len("STATUS_"):]: v for k, v in vars(P).items()
                        if k.startswith("STATUS_") and isinstance(v, int)}



def _frame_bytes(msg_type: int, seq: int, payload: bytes) -> bytes:
    return P.encode_frame(msg_type, seq, payload)


@pytest.mark.parametrize("stray", [b"\xA5", b"\xA5\x5A", b"\xA5\x5A\x82", bytes([0xA5, 0x5A, 0x83, 0, 1, 0, 64, 0]),
                                   b"\xA5\x5A" * 3])
def test_a_false_start_does_not_swallow_the_frame_behind_it(stray):
    """A stray sync, or a header with a plausible length, before a real frame: the parser
    must give the real frame now, not once the next frame has filled the false one."""
    good = _frame_bytes(P.MSG_ACK, 7, b"\x00\x00\x02\x00")
    parser = P.FrameParser()
    parser.feed(stray + good)
    f = parser.next_frame()
    assert f is not None and (f.type, f.seq) == (P.MSG_ACK, 7)
    assert parser.next_frame() is None and not parser.buf
    assert parser.stats.frames == 1 and parser.stats.bytes == len(stray) + len(good)


def test_pending_describes_a_truncated_frame():
    frame = _frame_bytes(P.MSG_RUN_DONE, 9, bytes(20))
    parser = P.FrameParser()
    parser.feed(frame[:13])
    assert parser.next_frame() is None
    assert parser.pending() == ("an incomplete frame: its header says RUN_DONE (seq 9, 20-byte payload) "
                                "but only 13 of its 32 bytes arrived")
    before = parser.stats.copy()
    parser.feed(frame[13:])
    assert parser.next_frame() is not None and parser.pending() == ""
    seen = parser.stats.since(before)
    assert (seen.bytes, seen.frames) == (19, 1) and seen.last_frame == "RUN_DONE (seq 9, 20-byte payload)"


@pytest.mark.parametrize("msg_type, payload, decode, match", [
    (P.MSG_ACK, b"", P.decode_status, "ACK frame .* 0-byte payload, expected 4"),
    (P.MSG_NAK, b"\x01\x00\x03\x00\x00", P.decode_status, "NAK frame .* 5-byte payload, expected 4"),
    (P.MSG_RUN_DONE, bytes(11), P.decode_run_done, "RUN_DONE frame .* 11-byte payload, expected at least 12"),
    (P.MSG_RUN_DONE, P.RUN_DONE_HEADER.pack(5, 0, 2) + bytes(8), P.decode_run_done,
     r"20-byte payload, expected 12 \+ 8 x runs bytes \(it says 2 run\(s\) done\)"),
    (P.MSG_OUTPUT_DATA, bytes(15), P.decode_output_data, "OUTPUT_DATA frame .* 15-byte payload"),
    (P.MSG_PROFILE_DATA, bytes(13), P.decode_profile_data, "PROFILE_DATA frame .* 13-byte payload"),
])
def test_decoders_check_lengths_before_use(msg_type, payload, decode, match):
    with pytest.raises(LinkFramingError, match=match):
        decode(P.Frame(msg_type, 0, 3, payload))


def test_decoders_read_valid_payloads():
    done = P.decode_run_done(P.Frame(P.MSG_RUN_DONE, 0, 1, P.RUN_DONE_HEADER.pack(9, -2, 1) + P.COUNTER.pack(77)))
    assert done == P.RunDone(9, -2, (77,))
    out = P.decode_output_data(P.Frame(P.MSG_OUTPUT_DATA, 0, 1, P.OUTPUT_DATA_HEADER.pack(9, 1, 0, 4, 6) + b"ab"))
    assert (out.run_id, out.index, out.offset, out.total, out.data) == (9, 1, 4, 6, b"ab")


def _socket_session(make, timeout: float = 0.3):
    host, target = socket.socketpair()
    fake = make(target.detach())
    fake.start()
    fd = host.detach()
    transport = PipeTransport(fd, fd, name="socketpair")
    transport.open()
    link = TargetLink(transport, timeout=timeout, retries=3)
    try:
        x = np.arange(N, dtype=np.int64).astype(np.int8).reshape(1, N)
        ann, outputs, counts = measure_on_link(link, HASH, [[x]], runs=3, run_timeout=0.2, connect_timeout=2.0)
        return ann, outputs, counts, x
    finally:
        fake.stop.set()
        fake.join(2)
        transport.close()
        os.close(fake.fd)


class DropEveryFourth(FakeTarget):
    def send(self, data: bytes) -> None:
        self.sent = getattr(self, "sent", 0) + 1
        if self.sent % 4:
            super().send(data)


@pytest.mark.parametrize("make", [FakeTarget, prefixed(GARBAGE), CorruptEveryThird, DropEveryFourth],
                         ids=["ok", "garbage", "corrupt", "drop"])
def test_pipe_session_recovers_or_is_exact(make):
    t0 = time.monotonic()
    ann, outputs, counts, x = _socket_session(make)
    assert ann.model_hash == HASH and ann.timing_unit == "cycles" and ann.clock_hz == 480_000_000
    np.testing.assert_array_equal(outputs[0][0], (x.astype(np.int16) + 1).astype(np.int8))
    # Lost answers may make the host run again: each count is still one real run's, in order.
    assert len(counts[0]) == 3 and counts[0] == sorted(set(counts[0])) and counts[0][0] >= 1000
    if make is FakeTarget:
        assert counts == [[1000, 1001, 1002]]
    assert time.monotonic() - t0 < 10


def test_over_a_real_pty():
    """The whole session through a pseudo-terminal with pyserial (what QEMU gives)."""
    with target_on_pty(prefixed(GARBAGE)) as (_, port):
        transport = SerialTransport(port)
        transport.open()
        try:
            link = TargetLink(transport, timeout=0.5)
            x = np.zeros((1, N), np.int8)
            _, outputs, counts = measure_on_link(link, HASH, [[x]], runs=2, run_timeout=0.2, connect_timeout=3)
            assert (outputs[0][0] == 1).all() and counts == [[1000, 1001]]
        finally:
            transport.close()


def test_results_are_read_only_for_a_run_of_this_link():
    with target_on_pty(FakeTarget) as (_, port):
        transport = SerialTransport(port)
        transport.open()
        try:
            link = TargetLink(transport, timeout=0.5)
            link.connect(HASH, timeout=3)
            with pytest.raises(LinkError, match="call infer"):
                link.read_output(0)
            with pytest.raises(LinkError, match=f"Input 0 needs {N} bytes, got 3"):
                link.infer([b"abc"], 0.2)
            result = link.infer([bytes(N)], 0.2)
            assert result.status == 0 and result.counts == (1000,) and link.read_output(0) == bytes([1]) * N
        finally:
            transport.close()


def test_pty_that_nobody_answers():
    master, slave = os.openpty()
    tty.setraw(slave)
    transport = SerialTransport(os.ttyname(slave))
    transport.open()
    try:
        t0 = time.monotonic()
        with pytest.raises(LinkTimeoutError, match="did not announce") as e:
            TargetLink(transport, timeout=0.3).connect(timeout=1.0)
        assert "sent nothing" in (e.value.hint or "")
        assert time.monotonic() - t0 < 3
    finally:
        transport.close()
        os.close(master)
        os.close(slave)


def test_serial_port_that_does_not_exist():
    with pytest.raises(LinkPortError, match="Cannot open serial port"):
        SerialTransport("/dev/does-not-exist").open()
