"""Several activation pools planned together: one address space cut into the pools.

Planning each pool on its own wastes what the pools could share over time: the fast
pool is filled first, then the rest is planned again in the next pool, and the two
peaks add up (MobileNet V1 0.25 224 over dtcm,axisram: 303 KB against 201 KB in one
arena). Here the activations are laid out once, as for a single arena, with every
placement strategy of mcugen.planner.placement, and each layout is cut into pools: a
window of addresses [a, b), at most the first pool's capacity, is the first pool; the
rest of the layout closes up over it and is the next pools. A buffer may not straddle
a window's edge, so the few that do (and any pair the closing-up brings closer than an
op's read/write order allows) are placed again, as low as they fit without crossing a
cut. With more than two pools, the rest is cut again the same way.

Among the layouts and windows tried, the plan kept is the one that puts the most
traffic (bytes read and written per inference) in the first pool, then in the next,
among those within JOINT_SLACK of the best single arena in total; when none is that
small, the smallest total."""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass
from typing import Mapping, Sequence

from mcugen.planner.buffers import Buffer, align, align_down
from mcugen.planner.placement import BEAM_ORDERS, BEAM_WIDTH, ORDERS, place_beam, place_first_fit

# The pools together may take at most this much more than the best single arena
# before the planner gives up putting more traffic in the fast pool.
JOINT_SLACK = 1.02

Layout = Mapping[int, int]  # buffer id -> offset in one address space


@dataclass(frozen=True)
class Split:
    """A layout cut into pools: per buffer id its pool and in-pool offset, the pool sizes."""

    where: Mapping[int, tuple[int, int]]  # buffer id -> (pool, offset)
    sizes: tuple[int, ...]
    strategy: str
    traffic: tuple[int, ...]  # traffic per pool

    @property
    def total(self) -> int:
        return sum(self.sizes)

    def placed(self, buffers: Sequence[Buffer]) -> list[Buffer]:
        """`buffers` with the pool and offset of this split."""
        return [dataclasses.replace(b, pool=self.where[b.id][0], offset=self.where[b.id][1]) for b in buffers]


@dataclass(frozen=True)
class Facts:
    """What every cut of one plan needs: sizes, who is live with whom, the overlaps, traffic."""

    size: Mapping[int, int]
    partners: Mapping[int, tuple[int, ...]]
    allow: Mapping[tuple[int, int], int]
    traffic: Mapping[int, int]
    alignment: int


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


def live_pairs(buffers: Sequence[Buffer]) -> dict[int, tuple[int, ...]]:
    """Buffer id -> ids of the buffers live at the same time (computed once per plan)."""
    return {b.id: tuple(p.id for p in buffers if p.id != b.id and p.overlaps_in_time(b)) for b in buffers}


def _crosses(off: int, size: int, cuts: Sequence[int]) -> bool:
    return any(off < c < off + size for c in cuts)


def _clash(f: Facts, i: int, off: int, j: int, joff: int) -> bool:
    if off + f.size[i] <= joff or joff + f.size[j] <= off:
        return False
    d = f.allow.get((i, j))
    if d is not None and joff - off >= d:
        return False
    d = f.allow.get((j, i))
    if d is not None and off - joff >= d:
        return False
    return True


def _settle(f: Facts, layout: Layout, movers: list[int], cuts: Sequence[int]) -> dict[int, int]:
    """`layout` kept where it clashes with nothing kept so far (closing up the rest can
    bring buffers closer than an op's read/write order allows), the others and `movers`
    placed again: the lowest offset that clashes with no live buffer and crosses no cut."""
    fixed: dict[int, int] = {}
    for i in sorted(layout, key=lambda i: (-f.size[i], i)):
        off = layout[i]
        if any(_clash(f, i, off, q, fixed[q]) for q in f.partners[i] if q in fixed):
            movers.append(i)
        else:
            fixed[i] = off
    for i in sorted(movers, key=lambda i: (-f.size[i], i)):
        live = [(q, fixed[q]) for q in f.partners[i] if q in fixed]
        size, a = f.size[i], f.alignment
        candidates = {0, *cuts}
        for q, qoff in live:
            candidates.add(align(qoff + f.size[q], a))
            candidates.add(align_down(qoff - size, a))
            d = f.allow.get((i, q))
            if d is not None:
                candidates.add(align_down(qoff - d, a))
            d = f.allow.get((q, i))
            if d is not None:
                candidates.add(align(qoff + d, a))
        # above every live buffer and the last cut is always free
        fixed[i] = min(c for c in candidates if c >= 0 and not _crosses(c, size, cuts)
                       and not any(_clash(f, i, c, q, qoff) for q, qoff in live))
    return fixed


def window_layout(f: Facts, layout: Layout, window: tuple[int, int], capacities: Sequence[int],
                  strategy: str) -> Split | None:
    """`layout` (one arena) split into len(capacities) pools: the addresses [a, b) of
    `window` are the first pool's, the rest closes up over it and is cut into the next
    pools at their capacities. None when a pool overflows its capacity."""
    a, b = window
    width = b - a
    starts = [0]
    if len(capacities) > 1:
        starts.append(width)
        for cap in capacities[1:-1]:
            starts.append(starts[-1] + cap)
    cuts = starts[1:]
    moved: list[int] = []
    remapped: dict[int, int] = {}
    for i, off in layout.items():
        end = off + f.size[i]
        if a <= off and end <= b:
            new = off - a  # the first pool's addresses first ...
        elif end <= a:
            new = off + width  # ... then the rest, in its order
        elif off >= b:
            new = off
        else:
            moved.append(i)
            continue
        if _crosses(new, f.size[i], cuts):
            moved.append(i)
        else:
            remapped[i] = new
    settled = _settle(f, remapped, moved, cuts)
    n = len(capacities)
    sizes = [0] * n
    flow = [0] * n
    where = {}
    for i, off in settled.items():
        pool = bisect.bisect_right(starts, off) - 1
        offset = off - starts[pool]
        sizes[pool] = max(sizes[pool], align(offset + f.size[i], f.alignment))
        flow[pool] += f.traffic[i]
        where[i] = (pool, offset)
    if any(size > cap for size, cap in zip(sizes, capacities)):
        return None
    return Split(where, tuple(sizes), strategy, tuple(flow))


def _windows(f: Facts, layout: Layout, capacity: int) -> list[tuple[int, int]]:
    """The first pool's address windows worth trying: from each buffer edge up to the
    capacity, and down from each edge by the capacity, ends snapped to buffer edges."""
    ends = [off + f.size[i] for i, off in layout.items()]
    edges = sorted({0, max(ends, default=0), *layout.values(), *ends})
    windows = {(0, 0)}
    for k, e in enumerate(edges):
        up = bisect.bisect_right(edges, e + capacity) - 1
        if up > k:
            windows.add((e, edges[up]))
        down = bisect.bisect_left(edges, e - capacity)
        if down < k:
            windows.add((edges[down], e))
    a = f.alignment
    return sorted((align(x, a), align_down(y, a)) for x, y in windows if align(x, a) <= align_down(y, a))


def _best(splits: Sequence[Split], budget: float) -> Split | None:
    """Within the budget, the most traffic in the first pools; else the smallest total."""
    good = [s for s in splits if s.total <= budget]
    if good:
        return min(good, key=lambda s: (tuple(-t for t in s.traffic), s.total, s.strategy))
    return min(splits, key=lambda s: (s.total, tuple(-t for t in s.traffic), s.strategy)) if splits else None


def _splits(f: Facts, layout: Layout, name: str, capacities: Sequence[int], budget: float) -> list[Split]:
    """The splits of one layout over the pools. Two pools: every window of the first.
    More: the first pool's window chosen against the rest taken as one pool, then the
    rest (a layout of its own) split over the remaining pools in the same way."""
    if len(capacities) == 1:
        split = window_layout(f, layout, (0, 1 << 62), capacities, name)
        return [split] if split is not None else []
    two = [capacities[0], sum(capacities[1:])] if len(capacities) > 2 else list(capacities)
    firsts = [s for w in _windows(f, layout, capacities[0])
              if (s := window_layout(f, layout, w, two, name)) is not None]
    if len(capacities) == 2:
        return firsts
    firsts.sort(key=lambda s: (s.total > budget, tuple(-t for t in s.traffic), s.total))
    for first in firsts[:4]:  # the best few first pools; the rest must split too
        rest = {i: off for i, (pool, off) in first.where.items() if pool == 1}
        left = budget - first.sizes[0]
        tail = _best(_splits(f, rest, name, capacities[1:], left), left)
        if tail is not None and all(s <= c for s, c in zip(tail.sizes, capacities[1:])):
            where = {i: w for i, w in first.where.items() if w[0] == 0}
            where.update({i: (pool + 1, off) for i, (pool, off) in tail.where.items()})
            return [Split(where, (first.sizes[0], *tail.sizes), name, (first.traffic[0], *tail.traffic))]
    return []


def joint_split(buffers: list[Buffer], capacities: Sequence[int], alignment: int,
                allow: Mapping[tuple[int, int], int], traffic: Mapping[int, int]) -> Split | None:
    """The best split (see the module doc), or None when no layout fits the capacities.
    The layouts within JOINT_SLACK of the best are cut first (the others can hardly do
    better, and cutting takes time); the others only when those give nothing in budget.
    Layouts that place every buffer alike are cut once."""
    f = Facts({b.id: b.size for b in buffers}, live_pairs(buffers), allow, traffic, alignment)
    layouts = sorted(single_layouts(buffers, alignment, allow), key=lambda x: (x[1], x[2]))
    budget = layouts[0][1] * JOINT_SLACK
    seen: set[tuple[tuple[int, int], ...]] = set()
    splits: list[Split] = []
    for group in ([x for x in layouts if x[1] <= budget], [x for x in layouts if x[1] > budget]):
        for placed, _, name in group:
            layout = {b.id: b.offset for b in placed}
            key = tuple(sorted(layout.items()))
            if key in seen:
                continue
            seen.add(key)
            splits += _splits(f, layout, name, capacities, budget)
        best = _best(splits, budget)
        if best is not None and best.total <= budget:
            return best
    return _best(splits, budget)


__all__ = ["JOINT_SLACK", "Facts", "Split", "joint_split", "live_pairs", "single_layouts", "window_layout"]
