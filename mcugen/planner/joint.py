"""Several activation pools planned together: one address space cut into the pools.

Planning each pool on its own wastes what the pools could share over time: the fast
pool is filled first, then the rest is planned again in the next pool, and the two
peaks add up (MobileNet V1 0.25 224 over dtcm,axisram: 303 KB against 201 KB in one
arena). Here the activations are laid out once, as for a single arena, with every
placement strategy of mcugen.planner.placement, and each layout is cut into pools:
pool 0 holds the addresses [0, c), pool 1 the next [c, c + capacity 1), and so on. A
buffer may not straddle a cut, so the few that do are placed again, on top of the
others, with a first fit that respects the cuts. The low addresses are the first
(fastest) pool's.

Among the layouts and the first cut points tried, the plan kept is the one that puts
the most traffic (bytes read and written per inference) in the first pool, then in the
next, among those within JOINT_SLACK of the smallest total; when none is that small,
the smallest total."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping, Sequence

from mcugen.planner.buffers import Buffer, align, align_down
from mcugen.planner.placement import BEAM_ORDERS, BEAM_WIDTH, ORDERS, place_beam, place_first_fit

# The pools together may take at most this much more than the best single arena
# before the planner gives up putting more traffic in the fast pool.
JOINT_SLACK = 1.02


@dataclass(frozen=True)
class Split:
    """A layout cut into pools: buffers with their pool and in-pool offset, pool sizes."""

    buffers: tuple[Buffer, ...]
    sizes: tuple[int, ...]
    strategy: str
    traffic: tuple[int, ...]  # traffic per pool

    @property
    def total(self) -> int:
        return sum(self.sizes)


def single_layouts(buffers: list[Buffer], alignment: int, allow: Mapping[tuple[int, int], int]
                   ) -> list[tuple[list[Buffer], int, str]]:
    """Every single-arena layout the placement strategies give (first fit per order, beams)."""
    layouts = []
    for name, order in ORDERS.items():
        placed, size = place_first_fit(buffers, order(buffers), alignment, allow)
        layouts.append((placed, size, name))
    if allow:
        for name in BEAM_ORDERS:
            placed, size = place_beam(buffers, ORDERS[name](buffers), alignment, allow, BEAM_WIDTH)
            layouts.append((placed, size, f"beam-{name}"))
    return layouts


def _crosses(off: int, size: int, cuts: Sequence[int]) -> bool:
    return any(off < c < off + size for c in cuts)


def _clash(buf: Buffer, off: int, p: Buffer, allow: Mapping[tuple[int, int], int]) -> bool:
    if off + buf.size <= p.offset or p.offset + p.size <= off:
        return False
    d = allow.get((buf.id, p.id))
    if d is not None and p.offset - off >= d:
        return False
    d = allow.get((p.id, buf.id))
    if d is not None and off - p.offset >= d:
        return False
    return True


def live_pairs(buffers: Sequence[Buffer]) -> dict[int, tuple[int, ...]]:
    """Buffer id -> ids of the buffers live at the same time (computed once per plan)."""
    return {b.id: tuple(p.id for p in buffers if p.id != b.id and p.overlaps_in_time(b)) for b in buffers}


def _settle(layout: list[Buffer], movers: list[Buffer], cuts: Sequence[int], alignment: int,
            allow: Mapping[tuple[int, int], int], partners: Mapping[int, tuple[int, ...]]) -> list[Buffer]:
    """`layout` kept where it clashes with nothing kept so far (moving the pools apart can
    bring buffers closer than an op's read/write order allows), the rest and `movers` placed
    again: lowest offset that clashes with no live buffer and crosses no cut."""
    fixed: dict[int, Buffer] = {}
    for b in sorted(layout, key=lambda b: (-b.size, b.id)):
        if any(_clash(b, b.offset, fixed[q], allow) for q in partners[b.id] if q in fixed):
            movers.append(b)
        else:
            fixed[b.id] = b
    for buf in sorted(movers, key=lambda b: (-b.size, b.id)):
        live = [fixed[q] for q in partners[buf.id] if q in fixed]
        candidates = {0, *cuts}
        for p in live:
            candidates.add(align(p.offset + p.size, alignment))
            candidates.add(align_down(p.offset - buf.size, alignment))
            d = allow.get((buf.id, p.id))
            if d is not None:
                candidates.add(align_down(p.offset - d, alignment))
            d = allow.get((p.id, buf.id))
            if d is not None:
                candidates.add(align(p.offset + d, alignment))
        feasible = [c for c in candidates if c >= 0 and not _crosses(c, buf.size, cuts)
                    and not any(_clash(buf, c, p, allow) for p in live)]
        fixed[buf.id] = dataclasses.replace(buf, offset=min(feasible))  # above all of them always is
    return sorted(fixed.values(), key=lambda b: b.id)


def window_layout(placed: list[Buffer], window: tuple[int, int], capacities: Sequence[int], alignment: int,
                  allow: Mapping[tuple[int, int], int], traffic: Mapping[int, int],
                  partners: Mapping[int, tuple[int, ...]], strategy: str) -> Split | None:
    """`placed` (one arena) split into len(capacities) pools: the addresses [a, b) of
    `window` are the first pool's, the rest close up over it and is cut into the next
    pools at their capacities. None when a pool overflows its capacity."""
    a, b = window
    width = b - a
    starts = [0]
    if len(capacities) > 1:
        starts.append(width)
        for cap in capacities[1:-1]:
            starts.append(starts[-1] + cap)
    cuts = starts[1:]
    moved: list[Buffer] = []
    remapped: list[Buffer] = []
    for buf in placed:
        end = buf.offset + buf.size
        if a <= buf.offset and end <= b:
            off = buf.offset - a  # the first pool's addresses first ...
        elif end <= a:
            off = buf.offset + width  # ... then the rest, in its order
        elif buf.offset >= b:
            off = buf.offset
        else:
            moved.append(buf)
            continue
        (moved if _crosses(off, buf.size, cuts) else remapped).append(dataclasses.replace(buf, offset=off))
    layout = _settle(remapped, moved, cuts, alignment, allow, partners)
    n = len(capacities)
    sizes = [0] * n
    flow = [0] * n
    out = []
    for buf in layout:
        pool = max(i for i in range(n) if starts[i] <= buf.offset)
        offset = buf.offset - starts[pool]
        sizes[pool] = max(sizes[pool], align(offset + buf.size, alignment))
        flow[pool] += traffic[buf.id]
        out.append(dataclasses.replace(buf, offset=offset, pool=pool))
    if any(size > cap for size, cap in zip(sizes, capacities)):
        return None
    return Split(tuple(out), tuple(sizes), strategy, tuple(flow))


def _windows(placed: list[Buffer], capacity: int, alignment: int) -> list[tuple[int, int]]:
    """The first pool's address windows worth trying: from each buffer edge up to the
    capacity, and down from each edge by the capacity, ends snapped to buffer edges."""
    extent = max((b.offset + b.size for b in placed), default=0)
    edges = sorted({0, extent, *(b.offset for b in placed), *(b.offset + b.size for b in placed)})
    windows = {(0, 0)}
    for e in edges:
        up = [x for x in edges if e < x <= e + capacity]
        if up:
            windows.add((e, up[-1]))
        down = [x for x in edges if e - capacity <= x < e]
        if down:
            windows.add((down[0], e))
    return sorted((align(a, alignment), align_down(b, alignment)) for a, b in windows if align(a, alignment) <=
                  align_down(b, alignment))


def joint_split(buffers: list[Buffer], capacities: Sequence[int], alignment: int,
                allow: Mapping[tuple[int, int], int], traffic: Mapping[int, int]) -> Split | None:
    """The best split (see the module doc), or None when no layout fits the capacities."""
    layouts = single_layouts(buffers, alignment, allow)
    best_single = min(size for _, size, _ in layouts)
    partners = live_pairs(buffers)
    splits = []
    for placed, _, name in layouts:
        windows = _windows(placed, capacities[0], alignment) if len(capacities) > 1 else [(0, 1 << 62)]
        for window in windows:
            split = window_layout(placed, window, capacities, alignment, allow, traffic, partners, name)
            if split is not None:
                splits.append(split)
    if not splits:
        return None
    good = [s for s in splits if s.total <= best_single * JOINT_SLACK]
    if good:
        return min(good, key=lambda s: (tuple(-t for t in s.traffic), s.total, s.strategy))
    return min(splits, key=lambda s: (s.total, tuple(-t for t in s.traffic), s.strategy))


__all__ = ["JOINT_SLACK", "Split", "joint_split", "live_pairs", "single_layouts", "window_layout"]
