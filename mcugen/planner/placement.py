"""Placing buffers in the arena: first fit in several orders, and a beam search over
partial layouts where ops may write over their dying input; the smallest wins."""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Mapping

from mcugen.planner.buffers import Buffer, align, align_down


def place_first_fit(
    buffers: list[Buffer], order: list[int], alignment: int, allow: Mapping[tuple[int, int], int]
) -> tuple[list[Buffer], int]:
    """First fit in the given order. allow[(out_id, in_id)] = d lets an op's output
    overlap its dying input when in_offset - out_offset >= d."""
    placed: list[Buffer] = []
    result: dict[int, Buffer] = {}

    def clash(buf: Buffer, off: int, p: Buffer) -> bool:
        if off + buf.size <= p.offset or p.offset + p.size <= off:
            return False
        d = allow.get((buf.id, p.id))
        if d is not None and p.offset - off >= d:
            return False
        d = allow.get((p.id, buf.id))
        if d is not None and off - p.offset >= d:
            return False
        return True

    lo = hi = 0  # the arena's extent so far; offsets may go below 0 and are shifted at the end
    for idx in order:
        buf = buffers[idx]
        live = [p for p in placed if p.overlaps_in_time(buf)]
        # Feasible offsets worth trying: the arena's ends, just above or below each live
        # buffer, and the overlap points an op's read/write order allows.
        candidates = {lo, align_down(hi - buf.size, alignment) if placed else 0}
        for p in live:
            candidates.add(align(p.offset + p.size, alignment))
            candidates.add(align_down(p.offset - buf.size, alignment))
            d = allow.get((buf.id, p.id))
            if d is not None:
                candidates.add(align_down(p.offset - d, alignment))
            d = allow.get((p.id, buf.id))
            if d is not None:
                candidates.add(align(p.offset + d, alignment))
        feasible = [c for c in candidates if not any(clash(buf, c, p) for p in live)]
        # Grow the arena as little as possible; among equals, the lowest offset.
        offset = min(feasible, key=lambda c: (max(hi, c + buf.size) - min(lo, c), c))
        if placed:
            lo, hi = min(lo, offset), max(hi, offset + buf.size)
        else:
            lo, hi = offset, offset + buf.size
        done = dataclasses.replace(buf, offset=offset)
        placed.append(done)
        result[idx] = done
    shifted = [dataclasses.replace(result[i], offset=result[i].offset - lo) for i in range(len(buffers))]
    size = max((b.offset + b.size for b in shifted), default=0)
    return shifted, align(size, alignment)


def place_beam(
    buffers: list[Buffer], order: list[int], alignment: int, allow: Mapping[tuple[int, int], int], width: int
) -> tuple[list[Buffer], int]:
    """Like place_first_fit, but keeps the `width` best partial layouts (smallest extent)
    instead of one: whether an op's output goes just below its input or clear above it
    only shows its cost a few ops later."""

    def clash(buf: Buffer, off: int, p: Buffer, poff: int) -> bool:
        if off + buf.size <= poff or poff + p.size <= off:
            return False
        d = allow.get((buf.id, p.id))
        if d is not None and poff - off >= d:
            return False
        d = allow.get((p.id, buf.id))
        if d is not None and off - poff >= d:
            return False
        return True

    # state: (extent, lo, hi, offsets by buffer index)
    states: list[tuple[int, int, int, dict[int, int]]] = [(0, 0, 0, {})]
    for idx in order:
        buf = buffers[idx]
        successors: dict[tuple, tuple[int, int, int, dict[int, int]]] = {}
        for _, lo, hi, offsets in states:
            live = [(buffers[j], o) for j, o in offsets.items() if buffers[j].overlaps_in_time(buf)]
            candidates = {lo, align_down(hi - buf.size, alignment) if offsets else 0}
            for p, poff in live:
                candidates.add(align(poff + p.size, alignment))
                candidates.add(align_down(poff - buf.size, alignment))
                d = allow.get((buf.id, p.id))
                if d is not None:
                    candidates.add(align_down(poff - d, alignment))
                d = allow.get((p.id, buf.id))
                if d is not None:
                    candidates.add(align(poff + d, alignment))
            for c in candidates:
                if any(clash(buf, c, p, poff) for p, poff in live):
                    continue
                nlo, nhi = (min(lo, c), max(hi, c + buf.size)) if offsets else (c, c + buf.size)
                new = dict(offsets)
                new[idx] = c
                key = tuple(sorted((j, o - nlo) for j, o in new.items()))
                if key not in successors:
                    successors[key] = (nhi - nlo, nlo, nhi, new)
        states = sorted(successors.values(), key=lambda st: st[0])[:width]
    _, lo, _, offsets = states[0]
    placed = [dataclasses.replace(buffers[i], offset=offsets[i] - lo) for i in range(len(buffers))]
    size = max((b.offset + b.size for b in placed), default=0)
    return placed, align(size, alignment)


BEAM_WIDTH = 12
BEAM_ORDERS = ("first-use", "reverse-use")
# First fit in these orders only: a quick plan for ranking many candidates (mcugen.patch).
QUICK_ORDERS = ("first-use", "reverse-use", "greedy-size")


ORDERS: dict[str, Callable[[list[Buffer]], list[int]]] = {
    # TFLM's greedy planner: largest first.
    "greedy-size": lambda bs: sorted(range(len(bs)), key=lambda i: (-bs[i].size, bs[i].first)),
    # Longest-lived first, then size: keeps long buffers at the bottom.
    "greedy-lifetime": lambda bs: sorted(
        range(len(bs)), key=lambda i: (-(bs[i].last - bs[i].first), -bs[i].size, bs[i].first)
    ),
    # Size times lifetime ("area") first.
    "greedy-area": lambda bs: sorted(
        range(len(bs)), key=lambda i: (-bs[i].size * (bs[i].last - bs[i].first + 1), bs[i].first)
    ),
    # In execution order: the first-fit of a linear scan.
    "first-use": lambda bs: sorted(range(len(bs)), key=lambda i: (bs[i].first, -bs[i].size)),
    # Against execution order: an op's output is placed before its input, and an input
    # may only overlap its output from above, so chains of overlapping ops stack upward
    # instead of drifting down across the whole arena.
    "reverse-use": lambda bs: sorted(range(len(bs)), key=lambda i: (-bs[i].first, -bs[i].size)),
    "reverse-last": lambda bs: sorted(range(len(bs)), key=lambda i: (-bs[i].last, -bs[i].size)),
}


def best_placement(
    buffers: list[Buffer], alignment: int, allow: Mapping[tuple[int, int], int], strategies: Iterable[str] | None
) -> tuple[list[Buffer], int, str]:
    best: tuple[list[Buffer], int, str] | None = None
    for name in strategies or ORDERS:
        placed, size = place_first_fit(buffers, ORDERS[name](buffers), alignment, allow)
        if best is None or size < best[1]:
            best = (placed, size, name)
    if strategies is None and allow:
        for name in BEAM_ORDERS:
            placed, size = place_beam(buffers, ORDERS[name](buffers), alignment, allow, BEAM_WIDTH)
            if best is None or size < best[1]:
                best = (placed, size, f"beam-{name}")
    return best if best else ([], 0, "none")


