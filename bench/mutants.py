"""Seeded mutations of .tflite files, plain and flatbuffer-aware (for bench/fuzz.py and its CI sample).

A mutant is fully determined by (seed, index): the model is chosen round-robin over the
bundled models, the mutations by a Random seeded with both.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "examples" / "models"

# --------------------------------------------------------------------------------------
# Where the structure of a (valid) .tflite lies: found by walking the flatbuffer with the
# TFLite schema's field slots. Independent of mcugen's loader on purpose: this is what
# the mutations aim at, not what the loader happens to check.

# (table, field slot) -> kind of field: "table", "tables", "vector" (element bytes), "string"
_MODEL = {6: ("tables", "OperatorCode"), 8: ("tables", "SubGraph"), 10: ("string", None), 12: ("tables", "Buffer")}
_SCHEMA: dict[str, dict[int, tuple[str, object]]] = {
    "Model": _MODEL,
    "OperatorCode": {4: ("scalar", "b"), 6: ("string", None), 8: ("scalar", "i"), 10: ("scalar", "i")},
    "SubGraph": {4: ("tables", "Tensor"), 6: ("vector", "index"), 8: ("vector", "index"),
                 10: ("tables", "Operator"), 12: ("string", None)},
    "Tensor": {4: ("vector", "dim"), 6: ("scalar", "b"), 8: ("scalar", "I"), 10: ("string", None),
               12: ("table", "Quantization"), 18: ("vector", "dim")},
    "Quantization": {8: ("vector", 4), 10: ("vector", 8), 16: ("scalar", "i")},
    "Operator": {4: ("scalar", "I"), 6: ("vector", "index"), 8: ("vector", "index"), 10: ("scalar", "B"),
                 12: ("table", "Options"), 20: ("vector", "index")},
    "Buffer": {4: ("vector", 1)},
    "Options": {},
}


@dataclass
class Structure:
    """Byte positions of the structural fields of one model file."""

    vtable_entries: list[int] = field(default_factory=list)  # u16: vtable size, table size, field offsets
    table_starts: list[int] = field(default_factory=list)  # i32 soffset from a table to its vtable
    offsets: list[int] = field(default_factory=list)  # u32 offsets to tables, vectors, strings
    lengths: list[int] = field(default_factory=list)  # u32 vector and string lengths
    scalars: list[tuple[int, str]] = field(default_factory=list)  # (position, struct format)
    indices: list[int] = field(default_factory=list)  # i32 tensor indices in inputs/outputs vectors
    dims: list[int] = field(default_factory=list)  # i32 tensor shape entries


def _u32(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<I", buf, pos)[0]


def walk_structure(buf: bytes) -> Structure:
    s = Structure()
    seen: set[int] = set()

    def table(pos: int, kind: str) -> None:
        if pos in seen:
            return
        seen.add(pos)
        s.table_starts.append(pos)
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        vt_size = struct.unpack_from("<H", buf, vt)[0]
        s.vtable_entries.extend(range(vt, vt + vt_size, 2))
        for slot, (what, arg) in _SCHEMA[kind].items():
            if slot >= vt_size:
                continue
            off = struct.unpack_from("<H", buf, vt + slot)[0]
            if off == 0:
                continue
            at = pos + off
            if what == "scalar":
                s.scalars.append((at, str(arg)))
                continue
            s.offsets.append(at)
            target = at + _u32(buf, at)
            if what == "table":
                table(target, str(arg))
                continue
            s.lengths.append(target)
            n = _u32(buf, target)
            if what == "tables":
                for j in range(n):
                    elem = target + 4 + 4 * j
                    s.offsets.append(elem)
                    table(elem + _u32(buf, elem), str(arg))
            elif arg == "index":
                s.indices.extend(target + 4 + 4 * j for j in range(n))
            elif arg == "dim":
                s.dims.extend(target + 4 + 4 * j for j in range(n))

    table(_u32(buf, 0), "Model")
    return s


# --------------------------------------------------------------------------------------
# Mutations. Each takes the bytes, a Random and the file's structure; returns new bytes.

BOUNDARY_BYTES = (0x00, 0xFF, 0x7F, 0x80)


def _u32_values(rng: random.Random, old: int, size: int) -> int:
    return rng.choice((0, 1, 2, 3, 4, 7, 8, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
                       size, size - 4, size + 4, old + 1, old - 1, old + 4, old * 2, old ^ 0x80000000,
                       rng.getrandbits(32), rng.randrange(size + 1))) & 0xFFFFFFFF


def bit_flip(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return b


def boundary_byte(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    for _ in range(rng.randint(1, 3)):
        b[rng.randrange(len(b))] = rng.choice(BOUNDARY_BYTES)
    return b


def u32_field(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    i = rng.randrange(0, max(len(b) - 4, 1)) & ~3
    old = _u32(b, i)
    b[i : i + 4] = struct.pack("<I", _u32_values(rng, old, len(b)))
    return b


def truncate(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    cut = rng.choice((rng.randrange(len(b)), rng.randrange(min(64, len(b))), len(b) - rng.randint(1, 16)))
    return b[: max(cut, 0)]


def duplicate_chunk(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    n = rng.choice((1, 2, 4, 8, 16, 64, 256))
    src = rng.randrange(max(len(b) - n, 1))
    dst = rng.randrange(len(b) + 1)
    return b[:dst] + b[src : src + n] + b[dst:]


def delete_chunk(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    n = rng.choice((1, 2, 4, 8, 16, 64, 256))
    start = rng.randrange(max(len(b) - n, 1))
    return b[:start] + b[start + n :]


def fb_vtable(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """A vtable entry (a field's offset in its table, or the vtable/table size) gets a bad value."""
    i = rng.choice(s.vtable_entries)
    old = struct.unpack_from("<H", b, i)[0]
    new = rng.choice((0, 1, 2, 3, 0xFFFF, 0x7FFF, old + 2, old - 2, old + 1, rng.getrandbits(16))) & 0xFFFF
    struct.pack_into("<H", b, i, new)
    return b


def fb_table_start(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """A table's offset to its vtable points elsewhere."""
    i = rng.choice(s.table_starts)
    old = struct.unpack_from("<i", b, i)[0]
    new = rng.choice((0, 4, -4, old + 2, old - 2, old + 4, -old, 0x7FFFFFFF, -0x80000000, rng.getrandbits(31)))
    struct.pack_into("<i", b, i, new)
    return b


def fb_offset(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """An offset to a table, vector or string points elsewhere."""
    i = rng.choice(s.offsets)
    struct.pack_into("<I", b, i, _u32_values(rng, _u32(b, i), len(b)))
    return b


def fb_length(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """A vector or string length grows, shrinks or overflows."""
    i = rng.choice(s.lengths)
    struct.pack_into("<I", b, i, _u32_values(rng, _u32(b, i), len(b)))
    return b


def fb_scalar(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """A scalar field (type, buffer index, opcode index, options type, ...) gets a boundary value."""
    i, fmt = rng.choice(s.scalars)
    bits = struct.calcsize(fmt) * 8
    value = rng.choice((0, 1, -1, (1 << (bits - 1)) - 1, -(1 << (bits - 1)), rng.getrandbits(bits - 1), 2, 17))
    if fmt.isupper():
        value &= (1 << bits) - 1
    struct.pack_into("<" + fmt, b, i, value)
    return b


def fb_index(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """An operator's or the subgraph's tensor index points at a missing tensor (or -1)."""
    i = rng.choice(s.indices)
    struct.pack_into("<i", b, i, rng.choice((-1, -2, 0, 77, 0x7FFFFFFF, -0x80000000, rng.randrange(-4, 400))))
    return b


def fb_dim(b: bytearray, rng: random.Random, s: Structure) -> bytearray:
    """A tensor dimension becomes 0, negative, huge or slightly different."""
    i = rng.choice(s.dims)
    old = struct.unpack_from("<i", b, i)[0]
    struct.pack_into("<i", b, i, rng.choice((0, -1, -2, 1, old + 1, old - 1, old * 2, 65536, 0x7FFFFFFF,
                                             -0x80000000, 1 << 20)))
    return b


MUTATIONS: dict[str, Callable[[bytearray, random.Random, Structure], bytearray]] = {
    f.__name__: f
    for f in (bit_flip, boundary_byte, u32_field, truncate, duplicate_chunk, delete_chunk, fb_vtable,
              fb_table_start, fb_offset, fb_length, fb_scalar, fb_index, fb_dim)
}


@dataclass(frozen=True)
class Mutant:
    seed: int
    index: int
    model: str
    mutations: tuple[str, ...]
    data: bytes = field(repr=False)

    @property
    def tag(self) -> str:
        return f"{self.seed}:{self.index}"


class Corpus:
    """The bundled models and their structure, from which mutants are derived."""

    def __init__(self, paths: Iterable[Path] | None = None) -> None:
        self.paths = sorted(paths if paths is not None else MODELS_DIR.glob("*.tflite"))
        self.data = {p.stem: p.read_bytes() for p in self.paths}
        self.structure = {name: walk_structure(d) for name, d in self.data.items()}
        self.names = list(self.data)

    def mutant(self, seed: int, index: int) -> Mutant:
        name = self.names[index % len(self.names)]
        rng = random.Random(seed * 1_000_003 + index)
        b = bytearray(self.data[name])
        applied = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            kind = rng.choice(list(MUTATIONS))
            if len(b) < 16:
                break
            # the structure is the original's: after a length-changing mutation it is stale,
            # so structural mutations come first or aim at whatever bytes are there now
            s = self.structure[name]
            try:
                b = MUTATIONS[kind](b, rng, s)
            except struct.error:  # a stale position beyond a shortened file
                continue
            applied.append(kind)
        return Mutant(seed, index, name, tuple(applied), bytes(b))
