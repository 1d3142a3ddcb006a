"""Bounds-checked reading of a flatbuffer that names what is wrong.

A .tflite file may be anything: truncated, bit-flipped, hand-made. Every table is
verified before a field is read from it (its vtable lies in the file, the field lies
in its table), every offset and vector length is checked against the file, and a
failure says which table and field were being read and at which byte: the same
checks flatbuffers' C++ verifier makes, with a message instead of a boolean.

Tables are described by the caller with their field slots (4 + 2 * field id, as in
the schema); this module knows nothing about TFLite.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

_SCALAR_SIZES = {"b": 1, "B": 1, "?": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "f": 4, "d": 8}
_TYPE_NAMES = {"b": "int8", "B": "uint8", "?": "bool", "h": "int16", "H": "uint16", "i": "int32", "I": "uint32",
               "q": "int64", "Q": "uint64", "f": "float32", "d": "float64"}


class FlatbufferError(Exception):
    """A structural fault in the file: where (table and field), what, and at which byte."""

    def __init__(self, where: str, problem: str, offset: int | None = None) -> None:
        self.where = where
        self.problem = problem
        self.offset = offset
        at = f" (byte offset 0x{offset:x})" if offset is not None else ""
        super().__init__(f"{where}: {problem}{at}")


class Buffer:
    """The file's bytes with checked little-endian reads."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def read(self, fmt: str, pos: int, where: str, what: str) -> Any:
        n = _SCALAR_SIZES[fmt]
        if pos < 0 or pos + n > self.size:
            raise FlatbufferError(where, f"{what} lies beyond the end of the file ({self.size:,} bytes)", pos)
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def table_at(self, pos: int, where: str) -> "Table":
        return Table(self, pos, where)

    def root(self, where: str = "Model") -> "Table":
        offset = self.read("I", 0, where, "the root table offset")
        if offset < 8 or offset + 4 > self.size:
            raise FlatbufferError(where, f"the root table offset {offset:,} points outside the file "
                                  f"({self.size:,} bytes)", 0)
        return Table(self, offset, where)


class Table:
    """One verified flatbuffer table; `where` names it in messages ("Tensor 12 'conv/w'")."""

    __slots__ = ("buf", "pos", "where", "vtable", "vtable_size", "size")

    def __init__(self, buf: Buffer, pos: int, where: str) -> None:
        self.buf = buf
        self.pos = pos
        self.where = where
        soffset = buf.read("i", pos, where, "the table")
        vt = pos - soffset
        if vt < 0 or vt + 4 > buf.size:
            raise FlatbufferError(where, f"its vtable offset {soffset:,} points outside the file", pos)
        self.vtable = vt
        self.vtable_size = buf.read("H", vt, where, "the vtable")
        self.size = buf.read("H", vt + 2, where, "the vtable")
        if self.vtable_size < 4 or self.vtable_size % 2 or vt + self.vtable_size > buf.size:
            raise FlatbufferError(where, f"its vtable claims {self.vtable_size:,} bytes, which is not a valid "
                                  "vtable size here", vt)
        if self.size < 4 or pos + self.size > buf.size:
            raise FlatbufferError(where, f"its vtable gives a table size of {self.size:,} bytes, beyond the end "
                                  f"of the file ({buf.size:,} bytes)", vt + 2)

    def _field(self, slot: int, name: str, nbytes: int) -> int:
        """Absolute position of a field, 0 if absent."""
        if slot >= self.vtable_size:
            return 0
        off = struct.unpack_from("<H", self.buf.data, self.vtable + slot)[0]
        if off == 0:
            return 0
        if off < 4 or off + nbytes > self.size:
            raise FlatbufferError(self.where, f"field '{name}' lies outside its table (at {off} of a "
                                  f"{self.size}-byte table)", self.vtable + slot)
        return self.pos + off

    def has(self, slot: int) -> bool:
        return slot < self.vtable_size and struct.unpack_from("<H", self.buf.data, self.vtable + slot)[0] != 0

    def scalar(self, slot: int, fmt: str, name: str, default: Any = 0) -> Any:
        at = self._field(slot, name, _SCALAR_SIZES[fmt])
        if not at:
            return default
        return struct.unpack_from("<" + fmt, self.buf.data, at)[0]

    def _target(self, slot: int, name: str) -> int:
        """Position an offset field points to, 0 if the field is absent."""
        at = self._field(slot, name, 4)
        if not at:
            return 0
        target = at + struct.unpack_from("<I", self.buf.data, at)[0]
        if target + 4 > self.buf.size:
            raise FlatbufferError(self.where, f"field '{name}' points beyond the end of the file "
                                  f"({self.buf.size:,} bytes)", at)
        return target

    def table(self, slot: int, name: str, where: str) -> "Table | None":
        target = self._target(slot, name)
        return Table(self.buf, target, where) if target else None

    def vector(self, slot: int, name: str, elem_size: int, what: str = "") -> tuple[int, int]:
        """(start, count) of a vector field, (0, 0) if absent; checked to lie in the file."""
        start = self._target(slot, name)
        if not start:
            return 0, 0
        count = struct.unpack_from("<I", self.buf.data, start)[0]
        if start + 4 + count * elem_size > self.buf.size:
            kind = what or f"{elem_size}-byte elements"
            raise FlatbufferError(self.where, f"field '{name}' claims {count:,} {kind}, which run past the end "
                                  f"of the file ({self.buf.size:,} bytes)", start)
        return start + 4, count

    def numbers(self, slot: int, name: str, fmt: str) -> np.ndarray:
        """A vector of scalars as a read-only numpy array (empty if absent)."""
        size = _SCALAR_SIZES[fmt]
        start, count = self.vector(slot, name, size, f"{_TYPE_NAMES[fmt]} values")
        dtype = np.dtype("<" + fmt) if fmt != "?" else np.dtype(np.bool_)
        if not count:
            return np.zeros(0, dtype=dtype)
        return np.frombuffer(self.buf.data, dtype=dtype, count=count, offset=start)

    def bytes_view(self, slot: int, name: str) -> memoryview:
        start, count = self.vector(slot, name, 1, "bytes")
        return memoryview(self.buf.data)[start : start + count]

    def string(self, slot: int, name: str) -> str:
        start, count = self.vector(slot, name, 1, "characters")
        return bytes(self.buf.data[start : start + count]).decode("utf-8", errors="replace") if count else ""

    def tables(self, slot: int, name: str, what: str) -> "TableVector":
        start, count = self.vector(slot, name, 4, what)
        return TableVector(self, name, start, count)


class TableVector:
    """A vector of tables; each element is verified when it is read."""

    def __init__(self, parent: Table, name: str, start: int, count: int) -> None:
        self.parent = parent
        self.name = name
        self.start = start
        self.count = count

    def __len__(self) -> int:
        return self.count

    def get(self, index: int, where: str) -> Table:
        at = self.start + 4 * index
        target = at + struct.unpack_from("<I", self.parent.buf.data, at)[0]
        if target + 4 > self.parent.buf.size:
            raise FlatbufferError(where, f"its entry in {self.parent.where}'s '{self.name}' points beyond the end "
                                  f"of the file ({self.parent.buf.size:,} bytes)", at)
        return Table(self.parent.buf, target, where)
