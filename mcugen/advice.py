"""What would fit: the "does not fit" error with the alternatives, each one computed.

When the estimate (after mcugen.autoplace's moves) still overflows a region, the
error names the region, the need and the room (mcugen.estimate.require_fit) and
proposes what the user can do with mcugen itself, with the figures of each, from
the pipeline run again with that option, never guessed:

- `--patch auto` (cubeai): the first layers patch by patch, a smaller activation peak;
- `--pools A,B,...` (cubeai): the activations over every internal RAM region, fastest first;
- `--place KEY=REGION`: the weights or the arena in another region where they fit
  (an external memory, or one the user's --place left out).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mcugen.autoplace import candidates
from mcugen.boards import Board
from mcugen.errors import FitError, McugenError
from mcugen.estimate import Footprint, require_fit
from mcugen.model.graph import Graph
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model


@dataclass(frozen=True)
class Proposal:
    option: str  # as typed on the command line
    fits: bool
    figures: str  # what it gives, computed

    def __str__(self) -> str:
        return f"{self.option}: {self.figures}" + ("" if self.fits else " (still does not fit)")


def _shortfall(fp: Footprint) -> str:
    bad = fp.misfits()
    if not bad:
        return "fits"
    return ", ".join(f"{r.name} {r.used - r.size:,} B short" for r in bad)


def _arena_where(fp: Footprint) -> str:
    parts = [f"{r.name} {r.items['arena']:,} B" for r in fp.regions if r.items.get("arena")]
    return " + ".join(parts) if parts else f"{fp.activation_ram:,} B"


def _try(graph: Graph, board: Board, options: GenerateOptions, option: str, figures) -> Proposal | None:
    try:
        fp = estimate_model(graph, board, options)
    except McugenError:  # the option itself cannot apply (a tensor fits no pool, no patch stage ...)
        return None
    return Proposal(option, fp.fits, f"{figures(fp)}; {_shortfall(fp)}")


def proposals(graph: Graph, board: Board, options: GenerateOptions, footprint: Footprint) -> list[Proposal]:
    """The alternatives to a footprint that does not fit, each estimated (see the module doc)."""
    bad = {name for r in footprint.misfits() for name in r.items}
    found: list[Proposal] = []
    cubeai = options.style == "cubeai"
    if cubeai and "arena" in bad and not options.patch:
        p = _try(graph, board, dataclasses.replace(options, patch="auto"), "--patch auto",
                 lambda fp: f"activations {fp.activation_ram:,} B instead of {footprint.activation_ram:,} B "
                            f"({_arena_where(fp)})")
        found += [p] if p else []
    if cubeai and "arena" in bad and not options.pools:
        internal = [r.name for r in candidates(board, "arena") if not r.external]
        if len(internal) > 1:
            pools = ",".join(internal)
            p = _try(graph, board, dataclasses.replace(options, pools=pools), f"--pools {pools}",
                     lambda fp: f"activations {_arena_where(fp)}")
            found += [p] if p else []
    for what in ("arena", "weights"):
        if what not in bad or (what == "arena" and options.pools):
            continue
        size = sum(r.items.get(what, 0) for r in footprint.regions)
        here = {r.name for r in footprint.regions if r.items.get(what)}
        for region in candidates(board, what):
            if region.name in here or region.size < size:
                continue
            place = {**options.placement, what: region.name}
            kind = "external" if region.external else "internal"
            p = _try(graph, board, dataclasses.replace(options, placement=place), f"--place {what}={region.name}",
                     lambda fp, r=region, k=kind: f"{what} {size:,} B in {r.name} ({k}, {r.speed}, {r.size:,} B)")
            if p:
                found.append(p)
                break  # the fastest region that takes it
    return found


def require_fit_or_propose(graph: Graph, board: Board, options: GenerateOptions, footprint: Footprint) -> None:
    """mcugen.estimate.require_fit, its hint replaced by the computed alternatives."""
    try:
        require_fit(footprint)
    except FitError as exc:
        found = proposals(graph, board, options, footprint)
        if not found:
            raise
        shown = sorted(found, key=lambda p: not p.fits)  # what fits first
        head = "What would fit (estimated): " if shown[0].fits else "Tried, none fits alone (estimated): "
        raise FitError(exc.message, hint=head + "; ".join(str(p) for p in shown)
                       + ". Otherwise choose a bigger board or shrink the model.") from None


__all__ = ["Proposal", "proposals", "require_fit_or_propose"]
