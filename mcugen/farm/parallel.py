"""One built project on several places of a labgrid farm at once: a thread per place, each
holding its place for its run only, one outcome per place (a report, or the error that
stopped it), and the merged summary.

Signals reach the main thread only; when it is interrupted (Ctrl-C, SIGTERM) it aborts
every place's runner (QEMU stopped, a wait for a held place given up) and waits for the
threads to unwind, so every place mcugen acquired is released before the command ends.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from mcugen.boards import get_board
from mcugen.emit import Generated
from mcugen.errors import McugenError
from mcugen.farm.places import FarmError, place_names
from mcugen.firmware import BUILD_DIR, ELF_NAME, read_manifest
from mcugen.options import GenerateOptions
from mcugen.pipeline import load_checked
from mcugen.project import Built, MeasureReport, built_project, measure_project
from mcugen.runners.base import make_runner
from mcugen.runners.labgrid import LabgridRunner
from mcugen.tflm.cache import BuildProgress

UNWIND_TIMEOUT = 30.0   # seconds an aborted place's thread gets to stop QEMU and release the place
_JOIN_POLL = 0.2        # the main thread joins in slices so signals reach it


@dataclass(frozen=True)
class PlaceOutcome:
    place: str
    report: MeasureReport | None
    error: McugenError | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.report is not None and (self.report.comparison is None or self.report.comparison.bit_exact)

    def to_json(self) -> dict[str, Any]:
        if self.report is not None:
            return {"place": self.place, "ok": self.ok, "seconds": round(self.seconds, 3), **self.report.to_json()}
        assert self.error is not None
        return {"place": self.place, "ok": False, "seconds": round(self.seconds, 3),
                "error": self.error.message, "hint": self.error.hint}


def split_places(text: str) -> list[str]:
    """--place a,b,c as a list (order kept, repeats dropped); FarmError when empty."""
    names = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not names:
        raise FarmError(f"--place {text!r} names no place.", hint="Pass --place NAME or --place a,b,c.")
    return names


def expand_places(names: Sequence[str], coordinator: str | None) -> list[str]:
    """Names with glob characters (qemu-*) replaced by the coordinator's places they match."""
    if not any(set(n) & set("*?[") for n in names):
        return list(names)
    known = place_names(coordinator)
    out: list[str] = []
    for name in names:
        matched = sorted(fnmatch.filter(known, name)) if set(name) & set("*?[") else [name]
        if not matched:
            raise FarmError(f"No place of the coordinator matches {name!r}.",
                            hint=f"Places: {', '.join(known) or 'none'}.")
        out.extend(m for m in matched if m not in out)
    return out


def measure_on_places(project_dir: str | Path, places: Sequence[str], *, coordinator: str | None = None,
                      wait: bool = False, say: Callable[[str], None] | None = None,
                      **measure: Any) -> list[PlaceOutcome]:
    """Runs the built project on every place at once; `measure` goes to measure_project
    (input_files=, random=, seed=, runs=). One outcome per place, in the order given."""
    project_dir = Path(project_dir)
    manifest = read_manifest(project_dir)
    board = manifest.firmware.board_for(get_board(manifest.board))
    elf = project_dir / BUILD_DIR / ELF_NAME
    runners = [make_runner("labgrid", board, elf, place=p, coordinator=coordinator, wait=wait) for p in places]
    outcomes: dict[str, PlaceOutcome] = {}
    tell = say or (lambda _msg: None)

    def run(runner: LabgridRunner) -> None:
        t0 = time.perf_counter()
        try:
            rep = measure_project(project_dir, runner=runner, **measure)
            outcomes[runner.place_name] = PlaceOutcome(runner.place_name, rep, None, time.perf_counter() - t0)
            tell(f"place {runner.place_name}: done")
        except McugenError as exc:
            outcomes[runner.place_name] = PlaceOutcome(runner.place_name, None, exc, time.perf_counter() - t0)
            tell(f"place {runner.place_name}: {exc.message}")
        except Exception as exc:  # an unexpected failure still belongs to its place, not to the others
            err = McugenError(f"Unexpected {type(exc).__name__} on place {runner.place_name}: {exc}",
                              hint="This is a bug in mcugen; please report it.")
            outcomes[runner.place_name] = PlaceOutcome(runner.place_name, None, err, time.perf_counter() - t0)

    threads = [threading.Thread(target=run, args=(r,), name=f"place-{r.place_name}", daemon=True) for r in runners]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(_JOIN_POLL)
    except BaseException:
        for r in runners:
            r.abort()
        deadline = time.monotonic() + UNWIND_TIMEOUT
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        raise
    return [outcomes[p] for p in places]


def validate_on_places(model: str | Path, target: str, options: GenerateOptions, places: Sequence[str], *,
                       coordinator: str | None = None, wait: bool = False, output: str | Path | None = None,
                       force: bool = False, say: Callable[[str], None] | None = None,
                       library_progress: Callable[[BuildProgress], None] | None = None,
                       **measure: Any) -> tuple[Generated, Built, list[PlaceOutcome]]:
    """generate -> build once -> run on every place at once (project.validate's farm form)."""
    graph = load_checked(model, options)  # with --detection-postprocess, the op appended
    board = get_board(target)
    tell = say or (lambda _msg: None)
    with built_project(graph, board, options, output, force, tell, library_progress) as (out, gen, built):
        tell(f"running on {len(places)} place(s): {', '.join(places)}")
        outcomes = measure_on_places(out, places, coordinator=coordinator, wait=wait, say=say, **measure)
        return gen, built, outcomes
