"""Seeded mutation fuzzing of .tflite models through the commands a user runs.

Shared by bench/fuzz.py (10,000+ mutants) and tests/test_model_fuzz.py (a CI sample).

A mutant is fully determined by (seed, index): the model is chosen round-robin over
the bundled models and the mutations by a Random seeded with both, so any outcome
can be replayed with `python bench/fuzz.py --replay SEED:INDEX`.

Each mutant goes through `mcugen inspect`, `mcugen estimate -t qemu-m7` and, when
that succeeds, `mcugen generate -t qemu-m7` (cubeai, no build), driven through the
CLI's own typer app in a worker process with a time limit, its console output and
error messages captured. The outcome classes:

  ok        every command succeeded
  clear     a McugenError whose message names what is wrong (see `names_something`)
  vague     a McugenError whose message names nothing
  crash     any other exception (or the worker died)
  hang      the mutant took more than the time limit (10 s of CPU, or 60 s of wall time for one
            that blocks without computing: CPU time keeps the verdict independent of the load
            of a shared machine)
  oversize  a McugenError message or hint longer than MAX_MESSAGE characters
  unsafe    a control character (ESC, CR, BEL, ...) from the model reached the console
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import shutil
import struct
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "examples" / "models"

MAX_MESSAGE = 600
TIMEOUT_S = 10.0  # CPU seconds a mutant may take (see `fuzz`)
WALL_FACTOR = 6  # ... and wall-clock seconds, in multiples of that: a mutant blocked without computing
MEMORY_LIMIT = 3 << 30  # address space per worker: a runaway allocation is a crash, not an OOM kill
CLASSES = ("ok", "clear", "vague", "crash", "hang", "oversize", "unsafe")
FAILING = ("crash", "hang", "oversize", "unsafe")

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


# --------------------------------------------------------------------------------------
# Classification.

# A message names what is wrong when it points at something a user can find: an indexed
# element of the model (tensor 12, operator 3, buffer 7, subgraph 0, operator code 2,
# input 1, "#3 CONV_2D", "at index 3"), a named tensor/input/output ('conv/w'), a schema
# field (field 'shape', Tensor.buffer), a byte position (byte offset 0x1a2c), a memory
# region of the board (region 'dtcm'), or the file's size (a truncated or oversized file).
_NAMES_SOMETHING = re.compile(
    r"\b(tensor|operator|buffer|subgraph|operator code|opcode|input|output|dimension)s?\s+#?-?\d+"
    r"|#\d+ [A-Z]|\bat index \d+"
    r"|\b(tensor|input|output|operator)s?\s+'"
    r"|\bfield '?[a-z_]+|\b[A-Z][A-Za-z]+\.[a-z_]+\b"
    r"|\bbyte (offset )?(0x[0-9a-f]+|\d+)|\boffset 0x[0-9a-f]+"
    r"|\bregion '"
    r"|\bthe file is (only )?[\d,]+ bytes|[\d,]+ bytes long",
    re.IGNORECASE,
)


def names_something(message: str) -> bool:
    return bool(_NAMES_SOMETHING.search(message))


# Control characters a terminal acts on (newlines and tabs are the tool's own layout).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class Outcome:
    tag: str
    model: str
    mutations: tuple[str, ...]
    kind: str
    stage: str = ""
    message: str = ""
    seconds: float = 0.0  # wall time
    cpu_seconds: float = 0.0


def _run_cli(args: list[str], out: io.StringIO) -> None:
    """One CLI command through the real typer app, tables and errors rendered to `out`."""
    from rich.console import Console

    from mcugen import cli, report

    console = Console(file=out, width=120, highlight=False, emoji=False, color_system=None)
    report.console = console
    report.err_console = console
    cli._state["debug"] = False
    with contextlib.redirect_stdout(out):  # --json writes to stdout directly
        cli.app(args, standalone_mode=False)


def run_mutant(mutant: Mutant, work: Path) -> Outcome:
    """inspect, estimate and (when it fits) generate, as a user would run them on the file."""
    from mcugen import cli
    from mcugen.errors import McugenError

    path = work / f"{mutant.model}_m{mutant.index}.tflite"
    path.write_bytes(mutant.data)
    out = io.StringIO()
    start = time.monotonic()
    cpu_start = time.process_time()
    steps = [
        ("inspect", ["inspect", str(path)]),
        ("inspect --json", ["inspect", str(path), "--json"]),
        ("estimate", ["estimate", str(path), "-t", "qemu-m7"]),
        ("generate", ["generate", str(path), "-t", "qemu-m7", "-o", str(work / "project"), "--force"]),
    ]
    outcome = Outcome(mutant.tag, mutant.model, mutant.mutations, "ok")
    stage = ""
    try:
        for stage, args in steps:
            try:
                _run_cli(args, out)
            except McugenError as exc:
                cli._report_error(exc)  # rendering the message must not crash either
                message, hint = exc.message, exc.hint or ""
                if len(message) > MAX_MESSAGE or len(hint) > MAX_MESSAGE:
                    kind = "oversize"
                else:
                    kind = "clear" if names_something(message) else "vague"
                outcome = Outcome(mutant.tag, mutant.model, mutant.mutations, kind, stage, message)
                break
    except BaseException as exc:  # noqa: BLE001  (the point: anything else is a crash)
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        outcome = Outcome(mutant.tag, mutant.model, mutant.mutations, "crash", stage,
                          f"{type(exc).__name__}{where}: {str(exc)[:300]}")
    finally:
        shutil.rmtree(work / "project", ignore_errors=True)
        path.unlink(missing_ok=True)
    if outcome.kind not in ("crash", "oversize"):
        bad = _UNSAFE.search(out.getvalue())
        if bad:
            outcome = Outcome(mutant.tag, mutant.model, mutant.mutations, "unsafe", stage,
                              f"control character {bad.group()!r} in the console output")
    outcome.seconds = time.monotonic() - start
    outcome.cpu_seconds = time.process_time() - cpu_start
    return outcome


# --------------------------------------------------------------------------------------
# Worker processes: a mutant that hangs is killed after the time limit, not waited for.

def _worker(conn: multiprocessing.connection.Connection, corpus: Corpus, memory_limit: int) -> None:
    import resource

    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    work = Path(tempfile.mkdtemp(prefix="mcugen-fuzz-"))
    try:
        while True:
            task = conn.recv()
            if task is None:
                return
            seed, index = task
            conn.send(run_mutant(corpus.mutant(seed, index), work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Slot:
    def __init__(self, ctx, corpus: Corpus, memory_limit: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, corpus, memory_limit), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[int, int] | None = None
        self.started = 0.0
        self.cpu_started = 0.0

    def cpu(self) -> float:
        """CPU seconds the worker has used (user + system), from /proc; 0 where there is none."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def overdue(self, timeout: float) -> str:
        """Why the current mutant counts as a hang, or ''."""
        wall = time.monotonic() - self.started
        cpu = self.cpu() - self.cpu_started
        if cpu > timeout or wall > WALL_FACTOR * timeout:
            return f"no answer after {cpu:.1f} s of CPU time ({wall:.1f} s wall time)"
        return ""

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def warm_up() -> None:
    """Import what the commands import, once, before the workers fork (they start warm)."""
    import mcugen.cli  # noqa: F401
    import mcugen.codegen.cubeai  # noqa: F401
    import mcugen.inspect  # noqa: F401
    import mcugen.project  # noqa: F401
    import mcugen.report  # noqa: F401


def fuzz(corpus: Corpus, seed: int, indices: Iterable[int], jobs: int = 1, timeout: float = TIMEOUT_S,
         memory_limit: int = MEMORY_LIMIT) -> Iterator[Outcome]:
    """Run the mutants in `jobs` worker processes; yields one Outcome per mutant, in completion order."""
    warm_up()
    ctx = multiprocessing.get_context("fork")
    pending = list(indices)[::-1]
    slots = [_Slot(ctx, corpus, memory_limit) for _ in range(max(1, min(jobs, len(pending))))]
    try:
        for slot in slots:
            _assign(slot, seed, pending)
        while any(s.task is not None for s in slots):
            busy = [s for s in slots if s.task is not None]
            ready = multiprocessing.connection.wait([s.conn for s in busy], min(1.0, timeout / 4))
            for slot in busy:
                task = slot.task
                assert task is not None
                if slot.conn in ready:
                    try:
                        result = slot.conn.recv()
                    except (EOFError, OSError):
                        slot.proc.join(5)
                        result = _died(corpus, seed, task, f"the worker died (exit code {slot.proc.exitcode})")
                        slots[slots.index(slot)] = slot = _respawn(slot, ctx, corpus, memory_limit)
                    yield result
                    _assign(slot, seed, pending)
                elif why := slot.overdue(timeout):
                    m = corpus.mutant(*task)
                    yield Outcome(m.tag, m.model, m.mutations, "hang", "", why, time.monotonic() - slot.started)
                    slots[slots.index(slot)] = slot = _respawn(slot, ctx, corpus, memory_limit)
                    _assign(slot, seed, pending)
    finally:
        for slot in slots:
            slot.stop(kill=slot.task is not None)


def _assign(slot: _Slot, seed: int, pending: list[int]) -> None:
    slot.task = None
    if pending:
        slot.task = (seed, pending.pop())
        slot.started = time.monotonic()
        slot.cpu_started = slot.cpu()
        slot.conn.send(slot.task)


def _respawn(slot: _Slot, ctx, corpus: Corpus, memory_limit: int) -> _Slot:
    slot.stop(kill=True)  # hung or dead: nothing to wait for
    return _Slot(ctx, corpus, memory_limit)


def _died(corpus: Corpus, seed: int, task: tuple[int, int], why: str) -> Outcome:
    m = corpus.mutant(*task)
    return Outcome(m.tag, m.model, m.mutations, "crash", "", why)


def summarize(outcomes: list[Outcome]) -> dict[str, int]:
    counts = {k: 0 for k in CLASSES}
    for o in outcomes:
        counts[o.kind] += 1
    return counts


def vague_share(counts: dict[str, int]) -> float:
    """Vague errors as a share of all errors (clear + vague + oversize)."""
    errors = counts["clear"] + counts["vague"] + counts["oversize"]
    return counts["vague"] / errors if errors else 0.0


__all__ = ["CLASSES", "FAILING", "Corpus", "Mutant", "Outcome", "fuzz", "names_something", "run_mutant",
           "summarize", "vague_share", "walk_structure"]
