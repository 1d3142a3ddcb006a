"""The host side of the link protocol against a fake target that misbehaves:
garbage, corrupted and dropped frames, a wrong model hash, silence, a reset and
a crash mid-run. Each ends in a correct result or a LinkError, in bounded time."""

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

from _fake_target import HASH, FakeTarget
from mcugen.errors import LinkError
from mcugen.link import PipeTransport, SerialTransport, TargetFaultError, TargetLink, TargetResetError
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


def _pair(mode: str, model_hash: str = HASH):
    host, target = socket.socketpair()
    fake = FakeTarget(target, mode, model_hash)
    fake.start()
    fd = host.detach()
    transport = PipeTransport(fd, fd, name="socketpair")
    transport.open()
    return transport, fake


def _session(mode: str, timeout: float = 0.3, expected=HASH):
    transport, fake = _pair(mode)
    link = TargetLink(transport, timeout=timeout, retries=3)
    try:
        x = np.arange(3000, dtype=np.int64).astype(np.int8).reshape(1, 3000)
        ann, outputs, counts = measure_on_link(link, expected, [[x]], runs=3, run_timeout=0.2, connect_timeout=2.0)
        return ann, outputs, counts, x
    finally:
        fake.stop.set()
        transport.close()


@pytest.mark.parametrize("mode", ["ok", "garbage", "corrupt", "drop"])
def test_recovers_or_is_exact(mode):
    t0 = time.monotonic()
    ann, outputs, counts, x = _session(mode)
    assert ann.model_hash == HASH and ann.timing_unit == "cycles" and ann.clock_hz == 480_000_000
    np.testing.assert_array_equal(outputs[0][0], (x.astype(np.int16) + 1).astype(np.int8))
    if mode in ("ok", "garbage"):
        assert counts == [[1000, 1001, 1002]]
    else:
        # A request whose answer was lost may be re-sent and run again on the target:
        # each count is still the count of one real run, in order.
        assert len(counts[0]) == 3 and counts[0] == sorted(set(counts[0])) and counts[0][0] >= 1000
    assert time.monotonic() - t0 < 10


def test_wrong_model_hash():
    with pytest.raises(LinkError, match="different model"):
        _session("ok", expected="cd" * 32)


def test_silence_is_a_bounded_link_error():
    t0 = time.monotonic()
    with pytest.raises(LinkError, match="did not announce") as e:
        _session("silent")
    assert "sent nothing" in (e.value.hint or "")
    assert time.monotonic() - t0 < 5


def test_noise_without_frames():
    with pytest.raises(LinkError) as e:
        _session("noise_only")
    assert "no valid frame" in (e.value.hint or "")


def test_reset_mid_run_is_detected():
    with pytest.raises(TargetResetError, match="reset"):
        _session("reset")


def test_fault_mid_run_is_reported():
    with pytest.raises(TargetFaultError, match="HardFault at pc=0x08000123"):
        _session("fault")


def test_over_a_real_pty():
    """The same protocol through a pseudo-terminal with pyserial (what QEMU gives)."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    name = os.ttyname(slave)
    host_sock, target_sock = socket.socketpair()
    fake = FakeTarget(target_sock, "garbage")
    fake.start()
    import threading

    def bridge():  # pty master <-> fake target socket
        import select
        while not fake.stop.is_set():
            r, _, _ = select.select([master, host_sock], [], [], 0.05)
            try:
                if master in r:
                    host_sock.sendall(os.read(master, 4096))
                if host_sock in r:
                    os.write(master, host_sock.recv(4096))
            except OSError:
                return

    threading.Thread(target=bridge, daemon=True).start()
    transport = SerialTransport(name)
    transport.open()
    try:
        link = TargetLink(transport, timeout=0.5)
        x = np.zeros((1, 3000), np.int8)
        _, outputs, counts = measure_on_link(link, HASH, [[x]], runs=2, run_timeout=0.2, connect_timeout=3)
        assert (outputs[0][0] == 1).all() and counts == [[1000, 1001]]
    finally:
        fake.stop.set()
        transport.close()
        os.close(master)
        os.close(slave)


def test_pty_that_nobody_answers():
    master, slave = os.openpty()
    tty.setraw(slave)
    transport = SerialTransport(os.ttyname(slave))
    transport.open()
    try:
        t0 = time.monotonic()
        with pytest.raises(LinkError, match="did not announce"):
            TargetLink(transport, timeout=0.3).connect(timeout=1.0)
        assert time.monotonic() - t0 < 3
    finally:
        transport.close()
        os.close(master)
        os.close(slave)


def test_serial_port_that_does_not_exist():
    with pytest.raises(LinkError, match="Cannot open serial port"):
        SerialTransport("/dev/does-not-exist").open()
