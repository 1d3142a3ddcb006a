"""The frame format and messages of the mcugen UART protocol (docs/protocol.md).

Frame, all integers little-endian:

    A5 5A | type u8 | flags u8 | seq u16 | len u16 | payload[len] | crc32 u32

crc32 is CRC-32/ISO-HDLC (zlib.crc32) over type..payload. The constants mirror
firmware/runtime/mcugen_protocol.h; tests check that the two agree.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from mcugen.errors import LinkError

PROTOCOL_VERSION = 1
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
STATUS_NAMES = {
    STATUS_OK: "ok", STATUS_BAD_CRC: "bad CRC", STATUS_BAD_TYPE: "unknown request type",
    STATUS_BAD_ARGS: "bad arguments", STATUS_BAD_LENGTH: "bad length", STATUS_NOT_READY: "not ready",
    STATUS_TOO_LARGE: "announcement too large",
}
MSG_NAMES = {
    MSG_HELLO: "HELLO", MSG_WRITE_INPUT: "WRITE_INPUT", MSG_RUN: "RUN", MSG_GET_RESULT: "GET_RESULT",
    MSG_READ_OUTPUT: "READ_OUTPUT", MSG_ANNOUNCE: "ANNOUNCE", MSG_ACK: "ACK", MSG_RUN_DONE: "RUN_DONE",
    MSG_OUTPUT_DATA: "OUTPUT_DATA", MSG_NAK: "NAK", MSG_FAULT: "FAULT",
    MSG_READ_PROFILE: "READ_PROFILE", MSG_PROFILE_DATA: "PROFILE_DATA",
}

WRITE_INPUT_HEADER = struct.Struct("<HHI")       # index, reserved, offset
READ_OUTPUT_REQUEST = struct.Struct("<HHII")     # index, reserved, offset, max bytes
OUTPUT_DATA_HEADER = struct.Struct("<HHII")      # index, reserved, offset, total bytes
MAX_INPUT_CHUNK = MAX_PAYLOAD - WRITE_INPUT_HEADER.size
MAX_OUTPUT_CHUNK = MAX_PAYLOAD - OUTPUT_DATA_HEADER.size
ANNOUNCE_FIXED = struct.Struct("<HHBBBBIIIiHH32s")
TENSOR_FIXED = struct.Struct("<BBHIfi")          # dtype, rank, reserved, bytes, scale, zero point
FAULT_PAYLOAD = struct.Struct("<6I")
PROFILE_HEADER = struct.Struct("<II")            # nodes in all, first node

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


def encode_frame(msg_type: int, seq: int, payload: bytes = b"", flags: int = 0) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = HEADER.pack(SYNC, msg_type, flags, seq & 0xFFFF, len(payload))
    crc = zlib.crc32(head[2:] + payload) & 0xFFFFFFFF
    return head + payload + struct.pack("<I", crc)


@dataclass
class FrameStats:
    """What the parser threw away; reported in LinkErrors."""

    garbage_bytes: int = 0
    crc_errors: int = 0
    oversize_headers: int = 0
    frames: int = 0
    first_garbage: bytes = b""

    def describe(self) -> str:
        parts = [f"{self.frames} valid frame(s)"]
        if self.garbage_bytes:
            parts.append(f"{self.garbage_bytes} byte(s) outside frames (first: {self.first_garbage[:16].hex(' ')})")
        if self.crc_errors:
            parts.append(f"{self.crc_errors} frame(s) with a bad CRC")
        if self.oversize_headers:
            parts.append(f"{self.oversize_headers} header(s) with an impossible length")
        return ", ".join(parts)


class FrameParser:
    """Incremental frame parser: feed bytes, take frames. Resynchronises on the
    sync marker after garbage, bad lengths and bad CRCs (hunting restarts one
    byte after the rejected sync, so a frame hidden in garbage is still found)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.stats = FrameStats()

    def feed(self, data: bytes) -> None:
        self.buf += data

    def _skip(self, n: int) -> None:
        if n <= 0:
            return
        if len(self.stats.first_garbage) < 16:
            self.stats.first_garbage += bytes(self.buf[: 16 - len(self.stats.first_garbage)])
        self.stats.garbage_bytes += n
        del self.buf[:n]

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
                return None
            body = bytes(self.buf[2:HEADER_BYTES + length])
            (crc,) = struct.unpack_from("<I", self.buf, HEADER_BYTES + length)
            if zlib.crc32(body) & 0xFFFFFFFF != crc:
                self.stats.crc_errors += 1
                self._skip(1)
                continue
            del self.buf[:total]
            self.stats.frames += 1
            return Frame(msg_type, flags, seq, body[HEADER_BYTES - 2:])


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
            raise LinkError(f"The target reports tensor type code {self.dtype_code}, which mcugen does not know.") from None

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
            raise LinkError(f"The target speaks link protocol version {version}; this mcugen speaks {PROTOCOL_VERSION}.",
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
        raise LinkError(f"The target's announcement is malformed ({exc}).",
                        hint="The firmware and this mcugen disagree on the protocol; rebuild the firmware.") from None
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
    try:
        exc, pc, cfsr, hfsr, mmfar, bfar = FAULT_PAYLOAD.unpack(payload)
    except struct.error:
        return "a fault (malformed report)"
    name = FAULT_NAMES.get(exc, f"exception {exc}")
    return (f"{name} at pc=0x{pc:08X} (CFSR=0x{cfsr:08X} HFSR=0x{hfsr:08X} "
            f"MMFAR=0x{mmfar:08X} BFAR=0x{bfar:08X})")
