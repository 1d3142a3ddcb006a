"""The frame format and messages of the mcugen UART protocol (docs/protocol.md).

Frame, all integers little-endian:

    A5 5A | type u8 | flags u8 | seq u16 | len u16 | payload[len] | crc32 u32

crc32 is CRC-32/ISO-HDLC (zlib.crc32) over type..payload. The constants mirror
firmware/runtime/mcugen_protocol.h; tests check that the two agree. The decoders
check every payload length and count before use and raise LinkFramingError, which
names the frame type and the byte counts.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from mcugen.errors import LinkFramingError, TargetIdentityError

PROTOCOL_VERSION = 2
SYNC = b"\xA5\x5A"
HEADER = struct.Struct("<2sBBHH")      # sync, type, flags, seq, len
HEADER_BYTES = HEADER.size             # 8
CRC_BYTES = 4
MAX_PAYLOAD = 1024

MSG_HELLO = 0x01
MSG_WRITE_INPUT = 0x02
MSG_RUN = 0x03
MSG_GET_RESULT = 0x04
MSG_READ_OUTPUT = 0x05
MSG_READ_PROFILE = 0x06
MSG_ANNOUNCE = 0x81
MSG_ACK = 0x82
MSG_RUN_DONE = 0x83
MSG_OUTPUT_DATA = 0x84
MSG_NAK = 0x85
MSG_FAULT = 0x86
MSG_PROFILE_DATA = 0x87

FLAG_BOOT = 0x01

STATUS_OK = 0
STATUS_BAD_CRC = 1
STATUS_BAD_TYPE = 2
STATUS_BAD_ARGS = 3
STATUS_BAD_LENGTH = 4
STATUS_NOT_READY = 5
STATUS_TOO_LARGE = 6
STATUS_STALE_INPUT = 7
STATUS_NO_RESULT = 8
STATUS_NAMES = {
    STATUS_OK: "ok", STATUS_BAD_CRC: "bad CRC", STATUS_BAD_TYPE: "unknown request type",
    STATUS_BAD_ARGS: "bad arguments", STATUS_BAD_LENGTH: "bad length",
    STATUS_NOT_READY: "not ready (the model failed to initialise)", STATUS_TOO_LARGE: "announcement too large",
    STATUS_STALE_INPUT: "no input written since the last run",
    STATUS_NO_RESULT: "no result for this run id",
}
MSG_NAMES = {
    MSG_HELLO: "HELLO", MSG_WRITE_INPUT: "WRITE_INPUT", MSG_RUN: "RUN", MSG_GET_RESULT: "GET_RESULT",
    MSG_READ_OUTPUT: "READ_OUTPUT", MSG_ANNOUNCE: "ANNOUNCE", MSG_ACK: "ACK", MSG_RUN_DONE: "RUN_DONE",
    MSG_OUTPUT_DATA: "OUTPUT_DATA", MSG_NAK: "NAK", MSG_FAULT: "FAULT",
    MSG_READ_PROFILE: "READ_PROFILE", MSG_PROFILE_DATA: "PROFILE_DATA",
}

STATUS_PAYLOAD = struct.Struct("<HBB")           # ACK/NAK: status, request type, 0
WRITE_INPUT_HEADER = struct.Struct("<HHI")       # index, reserved, offset
RUN_REQUEST = struct.Struct("<II")               # run id, runs
RUN_ID = struct.Struct("<I")                     # GET_RESULT: the run id asked for
RUN_DONE_HEADER = struct.Struct("<IiI")          # run id, model status, runs done; then u64 counter[runs]
READ_OUTPUT_REQUEST = struct.Struct("<IHHII")    # run id, index, reserved, offset, max bytes
OUTPUT_DATA_HEADER = struct.Struct("<IHHII")     # run id, index, reserved, offset, total bytes
READ_PROFILE_REQUEST = struct.Struct("<II")      # run id, first node
PROFILE_HEADER = struct.Struct("<III")           # run id, nodes in all, first node; then u64 counter[n]
COUNTER = struct.Struct("<Q")
MAX_INPUT_CHUNK = MAX_PAYLOAD - WRITE_INPUT_HEADER.size
MAX_OUTPUT_CHUNK = MAX_PAYLOAD - OUTPUT_DATA_HEADER.size
ANNOUNCE_FIXED = struct.Struct("<HHBBBBIIIiHH32s")
TENSOR_FIXED = struct.Struct("<BBHIfi")          # dtype, rank, reserved, bytes, scale, zero point
FAULT_PAYLOAD = struct.Struct("<6I")

TIMING_UNITS = {0: "cycles", 1: "instructions", 2: "nanoseconds"}

# TFLite TensorType codes (schema.fbs) -> numpy dtypes; mirrors enum mcugen_dtype.
DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"), 1: np.dtype("<f2"), 2: np.dtype("<i4"), 3: np.dtype("u1"), 4: np.dtype("<i8"),
    6: np.dtype("?"), 7: np.dtype("<i2"), 9: np.dtype("i1"), 10: np.dtype("<f8"), 15: np.dtype("<u4"),
    16: np.dtype("<u2"),
}
DTYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16",
               9: "int8", 10: "float64", 15: "uint32", 16: "uint16"}
FAULT_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage fault", 5: "BusFault", 6: "UsageFault"}


@dataclass(frozen=True)
class Frame:
    type: int
    flags: int
    seq: int
    payload: bytes

    @property
    def type_name(self) -> str:
        return MSG_NAMES.get(self.type, f"0x{self.type:02X}")

    def describe(self) -> str:
        return f"{self.type_name} (seq {self.seq}, {len(self.payload)}-byte payload)"


def encode_frame(msg_type: int, seq: int, payload: bytes = b"", flags: int = 0) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = HEADER.pack(SYNC, msg_type, flags, seq & 0xFFFF, len(payload))
    crc = zlib.crc32(head[2:] + payload) & 0xFFFFFFFF
    return head + payload + struct.pack("<I", crc)


@dataclass
class FrameStats:
    """What arrived on the line and what the parser made of it; reported in LinkErrors."""

    bytes: int = 0                  # every byte received
    frames: int = 0                 # frames with a valid CRC
    garbage_bytes: int = 0          # bytes skipped outside frames
    crc_errors: int = 0
    oversize_headers: int = 0       # sync marker followed by an impossible length
    false_starts: int = 0           # headers whose frame never completed before a later valid frame
    ignored: int = 0                # valid frames that answered nothing asked (counted by the client)
    garbage_sample: bytes = b""     # the first bytes of the latest garbage run
    last_frame: str = ""            # the latest valid frame, e.g. "RUN_DONE (seq 12, 20-byte payload)"
    last_ignored: str = ""

    def copy(self) -> FrameStats:
        return dataclasses.replace(self)

    def since(self, before: FrameStats) -> FrameStats:
        """The counts of what arrived after `before` was taken."""
        counts = {f: getattr(self, f) - getattr(before, f) for f in
                  ("bytes", "frames", "garbage_bytes", "crc_errors", "oversize_headers", "false_starts", "ignored")}
        return FrameStats(**counts, garbage_sample=self.garbage_sample if counts["garbage_bytes"] else b"",
                          last_frame=self.last_frame if counts["frames"] else "",
                          last_ignored=self.last_ignored if counts["ignored"] else "")

    def describe(self, pending: str = "") -> str:
        parts = [f"{self.frames} valid frame(s)"]
        if self.ignored:
            parts.append(f"{self.ignored} of them not an answer to the request (last: {self.last_ignored})")
        if self.garbage_bytes:
            parts.append(f"{self.garbage_bytes} byte(s) skipped outside valid frames "
                         f"(latest: {self.garbage_sample.hex(' ')})")
        if self.crc_errors:
            parts.append(f"{self.crc_errors} frame(s) with a bad CRC")
        if self.oversize_headers:
            parts.append(f"{self.oversize_headers} header(s) with an impossible length")
        if self.false_starts:
            parts.append(f"{self.false_starts} header(s) whose frame never completed")
        if pending:
            parts.append(pending)
        return f"{self.bytes} byte(s): " + ", ".join(parts)


class FrameParser:
    """Incremental frame parser: feed bytes, take frames. Resynchronises on the
    sync marker after garbage, bad lengths and bad CRCs (hunting restarts one
    byte after the rejected sync, so a frame hidden in garbage is still found).
    A header that waits for more bytes does not hold a complete valid frame
    behind it hostage: a stray `A5 5A` or a plausible length before a real frame
    would otherwise swallow it until the next answer arrives."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.stats = FrameStats()

    def feed(self, data: bytes) -> None:
        self.stats.bytes += len(data)
        self.buf += data

    def _skip(self, n: int) -> None:
        if n <= 0:
            return
        self.stats.garbage_sample = bytes(self.buf[:min(n, 16)])
        self.stats.garbage_bytes += n
        del self.buf[:n]

    def _valid_frame_at(self, pos: int) -> bool:
        """A complete frame with a valid CRC starts at pos."""
        if len(self.buf) - pos < HEADER_BYTES:
            return False
        length = HEADER.unpack_from(self.buf, pos)[4]
        end = pos + HEADER_BYTES + length
        if length > MAX_PAYLOAD or len(self.buf) < end + CRC_BYTES:
            return False
        return zlib.crc32(self.buf[pos + 2:end]) & 0xFFFFFFFF == struct.unpack_from("<I", self.buf, end)[0]

    def _later_frame(self) -> int:
        """Offset of a complete valid frame after the first byte, or -1."""
        pos = self.buf.find(SYNC, 1)
        while pos >= 0:
            if self._valid_frame_at(pos):
                return pos
            pos = self.buf.find(SYNC, pos + 1)
        return -1

    def next_frame(self) -> Frame | None:
        while True:
            start = self.buf.find(SYNC)
            if start < 0:
                # keep a trailing 0xA5: it may start the next sync marker
                keep = 1 if self.buf[-1:] == SYNC[:1] else 0
                self._skip(len(self.buf) - keep)
                return None
            self._skip(start)
            if len(self.buf) < HEADER_BYTES:
                return None
            _, msg_type, flags, seq, length = HEADER.unpack_from(self.buf)
            if length > MAX_PAYLOAD:
                self.stats.oversize_headers += 1
                self._skip(1)
                continue
            total = HEADER_BYTES + length + CRC_BYTES
            if len(self.buf) < total:
                later = self._later_frame()
                if later < 0:
                    return None
                self.stats.false_starts += 1
                self._skip(later)
                continue
            if not self._valid_frame_at(0):
                self.stats.crc_errors += 1
                self._skip(1)
                continue
            payload = bytes(self.buf[HEADER_BYTES:HEADER_BYTES + length])
            del self.buf[:total]
            frame = Frame(msg_type, flags, seq, payload)
            self.stats.frames += 1
            self.stats.last_frame = frame.describe()
            return frame

    def pending(self) -> str:
        """What waits in the buffer for more bytes, in words ('' when nothing does)."""
        if not self.buf:
            return ""
        if len(self.buf) < HEADER_BYTES:
            return f"{len(self.buf)} byte(s) of a frame header ({self.buf.hex(' ')}), then nothing"
        _, msg_type, _, seq, length = HEADER.unpack_from(self.buf)
        name = MSG_NAMES.get(msg_type, f"0x{msg_type:02X}")
        total = HEADER_BYTES + length + CRC_BYTES
        return (f"an incomplete frame: its header says {name} (seq {seq}, {length}-byte payload) but only "
                f"{len(self.buf)} of its {total} bytes arrived")


@dataclass(frozen=True)
class TensorSpec:
    index: int
    dtype_code: int
    shape: tuple[int, ...]
    nbytes: int
    scale: float
    zero_point: int

    @property
    def dtype(self) -> np.dtype:
        try:
            return DTYPES[self.dtype_code]
        except KeyError:
            raise LinkFramingError(f"The target reports tensor type code {self.dtype_code}, which mcugen "
                                   "does not know.") from None

    @property
    def dtype_name(self) -> str:
        return DTYPE_NAMES.get(self.dtype_code, f"type{self.dtype_code}")


@dataclass(frozen=True)
class Announcement:
    protocol_version: int
    max_payload: int
    timing_unit: str                  # cycles | instructions | nanoseconds
    clock_hz: int
    activation_bytes: int
    extra_u32: int
    init_status: int
    max_runs_per_request: int
    model_api_version: int
    model_hash: str                   # hex
    model_name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


def decode_announcement(payload: bytes) -> Announcement:
    try:
        (version, max_payload, unit, n_in, n_out, name_len, clock, act, extra, init_status, max_runs,
         api, digest) = ANNOUNCE_FIXED.unpack_from(payload)
        if version != PROTOCOL_VERSION:
            raise TargetIdentityError(
                f"The target speaks link protocol version {version}; this mcugen speaks {PROTOCOL_VERSION}.",
                hint="Regenerate and rebuild the firmware with this mcugen.")
        pos = ANNOUNCE_FIXED.size
        name = payload[pos:pos + name_len].decode("utf-8", errors="replace")
        pos += name_len
        tensors = []
        for i in range(n_in + n_out):
            dtype, rank, _, nbytes, scale, zp = TENSOR_FIXED.unpack_from(payload, pos)
            pos += TENSOR_FIXED.size
            dims = struct.unpack_from(f"<{rank}I", payload, pos)
            pos += 4 * rank
            tensors.append(TensorSpec(i if i < n_in else i - n_in, dtype, tuple(dims), nbytes, scale, zp))
        if pos != len(payload):
            raise struct.error(f"{len(payload) - pos} trailing bytes")
    except struct.error as exc:
        raise LinkFramingError(f"The target's announcement ({len(payload)} bytes) is malformed ({exc}).",
                               hint="The firmware and this mcugen disagree on the protocol; rebuild the firmware.") \
            from None
    return Announcement(
        protocol_version=version, max_payload=max_payload, timing_unit=TIMING_UNITS.get(unit, f"unit{unit}"),
        clock_hz=clock, activation_bytes=act, extra_u32=extra, init_status=init_status,
        max_runs_per_request=max_runs, model_api_version=api, model_hash=digest.hex(), model_name=name,
        inputs=tuple(tensors[:n_in]), outputs=tuple(tensors[n_in:]),
    )


def encode_announcement(a: Announcement) -> bytes:
    """The target's encoding (used by the Python fake target in tests)."""
    name = a.model_name.encode()[:32]
    unit = {v: k for k, v in TIMING_UNITS.items()}[a.timing_unit]
    out = ANNOUNCE_FIXED.pack(a.protocol_version, a.max_payload, unit, len(a.inputs), len(a.outputs), len(name),
                              a.clock_hz, a.activation_bytes, a.extra_u32, a.init_status, a.max_runs_per_request,
                              a.model_api_version, bytes.fromhex(a.model_hash)) + name
    for t in (*a.inputs, *a.outputs):
        out += TENSOR_FIXED.pack(t.dtype_code, len(t.shape), 0, t.nbytes, t.scale, t.zero_point)
        out += struct.pack(f"<{len(t.shape)}I", *t.shape)
    return out


def describe_fault(payload: bytes) -> str:
    if len(payload) != FAULT_PAYLOAD.size:
        return f"a fault (malformed report: {len(payload)} bytes, expected {FAULT_PAYLOAD.size})"
    exc, pc, cfsr, hfsr, mmfar, bfar = FAULT_PAYLOAD.unpack(payload)
    name = FAULT_NAMES.get(exc, f"exception {exc}")
    return (f"{name} at pc=0x{pc:08X} (CFSR=0x{cfsr:08X} HFSR=0x{hfsr:08X} "
            f"MMFAR=0x{mmfar:08X} BFAR=0x{bfar:08X})")


# ---- answers, decoded after their lengths and counts are checked ----------------------

_MISMATCH_HINT = "The firmware and this mcugen disagree on the protocol, or the line corrupts frames that " \
                 "still pass the CRC; rebuild the firmware with this mcugen."


def _malformed(frame: Frame, expected: str, why: str = "") -> LinkFramingError:
    return LinkFramingError(
        f"The target sent a malformed {frame.type_name} frame (seq {frame.seq}): a {len(frame.payload)}-byte "
        f"payload, expected {expected}{why}.", hint=_MISMATCH_HINT)


@dataclass(frozen=True)
class Status:
    """An ACK or NAK: the status and the request type it answers."""

    status: int
    request_type: int

    @property
    def name(self) -> str:
        return STATUS_NAMES.get(self.status, f"status {self.status}")


def decode_status(frame: Frame) -> Status:
    if len(frame.payload) != STATUS_PAYLOAD.size:
        raise _malformed(frame, f"{STATUS_PAYLOAD.size} bytes (u16 status, u8 request type, u8 0)")
    status, request_type, _ = STATUS_PAYLOAD.unpack(frame.payload)
    return Status(status, request_type)


@dataclass(frozen=True)
class RunDone:
    run_id: int
    status: int                  # mcugen_model_run()'s return value, 0 = ok
    counts: tuple[int, ...]      # counter value per run done


def decode_run_done(frame: Frame) -> RunDone:
    size = len(frame.payload)
    if size < RUN_DONE_HEADER.size:
        raise _malformed(frame, f"at least {RUN_DONE_HEADER.size} bytes (u32 run id, i32 status, u32 runs done)")
    run_id, status, done = RUN_DONE_HEADER.unpack_from(frame.payload)
    if size != RUN_DONE_HEADER.size + COUNTER.size * done:
        raise _malformed(frame, f"{RUN_DONE_HEADER.size} + 8 x runs bytes", f" (it says {done} run(s) done)")
    return RunDone(run_id, status, struct.unpack_from(f"<{done}Q", frame.payload, RUN_DONE_HEADER.size))


@dataclass(frozen=True)
class OutputData:
    run_id: int
    index: int
    offset: int
    total: int
    data: bytes


def decode_output_data(frame: Frame) -> OutputData:
    if len(frame.payload) < OUTPUT_DATA_HEADER.size:
        raise _malformed(frame, f"at least {OUTPUT_DATA_HEADER.size} bytes "
                                "(u32 run id, u16 output, u16 0, u32 offset, u32 total bytes)")
    run_id, index, _, offset, total = OUTPUT_DATA_HEADER.unpack_from(frame.payload)
    return OutputData(run_id, index, offset, total, frame.payload[OUTPUT_DATA_HEADER.size:])


@dataclass(frozen=True)
class ProfileData:
    run_id: int
    total: int                   # nodes in all
    first: int
    counts: tuple[int, ...]


def decode_profile_data(frame: Frame) -> ProfileData:
    size = len(frame.payload)
    if size < PROFILE_HEADER.size or (size - PROFILE_HEADER.size) % COUNTER.size:
        raise _malformed(frame, f"{PROFILE_HEADER.size} + 8 x nodes bytes "
                                "(u32 run id, u32 nodes in all, u32 first node, u64 counter per node)")
    run_id, total, first = PROFILE_HEADER.unpack_from(frame.payload)
    n = (size - PROFILE_HEADER.size) // COUNTER.size
    return ProfileData(run_id, total, first, struct.unpack_from(f"<{n}Q", frame.payload, PROFILE_HEADER.size))
