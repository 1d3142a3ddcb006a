"""Seeded mutation fuzzing of .tflite models through the commands a user runs.

Shared by bench/fuzz.py (10,000+ mutants) and tests/test_model_fuzz.py (a CI sample).

The mutations are in bench/mutants.py; a mutant is fully determined by (seed, index),
so any outcome can be replayed with `python bench/fuzz.py --replay SEED:INDEX`.

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
import re
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from mutants import MUTATIONS, Corpus, Mutant, walk_structure

MAX_MESSAGE = 600
TIMEOUT_S = 10.0  # CPU seconds a mutant may take (see `fuzz`)
WALL_FACTOR = 6  # ... and wall-clock seconds, in multiples of that: a mutant blocked without computing
MEMORY_LIMIT = 3 << 30  # address space per worker: a runaway allocation is a crash, not an OOM kill
CLASSES = ("ok", "clear", "vague", "crash", "hang", "oversize", "unsafe")
FAILING = ("crash", "hang", "oversize", "unsafe")

# --------------------------------------------------------------------------------------
# Classification.

# A message names what is wrong when it points at something a user can find: an indexed
# element of the model (tensor 12, operator 3, buffer 7, subgraph 0, operator code 2,
# input 1, "#3 CONV_2D", "at index 3", "at indices 3, 7"), a named tensor/input/output
# ('conv/w'), a schema field (field 'shape', Tensor.buffer), a byte position (byte offset
# 0x1a2c), a memory region of the board (region 'dtcm'), or the file's size (a truncated
# or oversized file). The model's own name, in every message, does not count.
_NAMES_SOMETHING = re.compile(
    r"\b(tensor|operator|buffer|subgraph|operator code|opcode|input|output|dimension)s?\s+#?-?\d+"
    r"|#\d+ [A-Z]|\bat ind(ex|ices) \d+"
    r"|\b(tensor|input|output|operator)s?\s+'"
    r"|\bfield '?[a-z_]+|\b[A-Z][A-Za-z]+\.[a-z_]+\b"
    r"|\bbyte (offset )?(0x[0-9a-f]+|\d+)|\boffset 0x[0-9a-f]+"
    r"|\bregion '"
    r"|\bthe file is (only )?[\d,]+ bytes|[\d,]+ bytes long",
    re.IGNORECASE,
)


_MODEL_NAME = re.compile(r"^(Model )?'[^']*'")


def names_something(message: str) -> bool:
    return bool(_NAMES_SOMETHING.search(_MODEL_NAME.sub("", message, count=1)))


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
        ("generate", ["generate", str(path), "-t", "qemu-m7", "-o", str(work / "project")]),  # a fresh directory
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


__all__ = ["CLASSES", "FAILING", "MUTATIONS", "Corpus", "Mutant", "Outcome", "fuzz", "names_something",
           "run_mutant", "summarize", "vague_share", "walk_structure"]
