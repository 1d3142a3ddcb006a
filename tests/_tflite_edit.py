"""Byte-level edits of a valid .tflite for the loader tests: a field set to a bad value,
a name replaced by one of the same length. Plain struct reads of the TFLite schema's
field slots, independent of mcugen's loader (whose errors the edits provoke)."""

from __future__ import annotations

import struct

TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER = 4, 6, 8
OP_INPUTS = 6


def _u16(b: bytes, at: int) -> int:
    return struct.unpack_from("<H", b, at)[0]


def _u32(b: bytes, at: int) -> int:
    return struct.unpack_from("<I", b, at)[0]


def field(b: bytes, table: int, slot: int) -> int:
    """Byte position of a table's field (0 if absent)."""
    vt = table - struct.unpack_from("<i", b, table)[0]
    if slot >= _u16(b, vt):
        return 0
    off = _u16(b, vt + slot)
    return table + off if off else 0


def _deref(b: bytes, at: int) -> int:
    return at + _u32(b, at)


def vector(b: bytes, table: int, slot: int) -> tuple[int, int]:
    """(position of the first element, count) of a vector field."""
    start = _deref(b, field(b, table, slot))
    return start + 4, _u32(b, start)


def subgraph(b: bytes) -> int:
    first, _ = vector(b, _u32(b, 0), 8)
    return _deref(b, first)


def tensor(b: bytes, index: int) -> int:
    first, _ = vector(b, subgraph(b), 4)
    return _deref(b, first + 4 * index)


def operator(b: bytes, index: int) -> int:
    first, _ = vector(b, subgraph(b), 10)
    return _deref(b, first + 4 * index)


def put(b: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(b)
    struct.pack_into("<" + fmt, out, at, value)
    return bytes(out)


def set_dim(b: bytes, index: int, dim: int, value: int) -> bytes:
    first, count = vector(b, tensor(b, index), TENSOR_SHAPE)
    assert dim < count
    return put(b, first + 4 * dim, "i", value)


def set_buffer(b: bytes, index: int, value: int) -> bytes:
    return put(b, field(b, tensor(b, index), TENSOR_BUFFER), "I", value)


def op_input_position(b: bytes, op: int, k: int) -> int:
    first, count = vector(b, operator(b, op), OP_INPUTS)
    assert k < count
    return first + 4 * k


def rename(b: bytes, old: bytes, new: bytes) -> bytes:
    """Replace the one occurrence of `old` (a name in the file) by `new`, padded or cut to its length."""
    at = b.find(old)
    assert at > 0 and b.find(old, at + 1) < 0, old
    return b[:at] + new.ljust(len(old), b"_")[: len(old)] + b[at + len(old):]
