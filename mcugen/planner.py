"""Activation memory planning: tensor lifetimes -> offsets in one arena.

Every non-constant tensor (graph inputs and outputs included, as X-CUBE-AI and
TFLM both keep them in the arena) gets a byte offset. RESHAPE-like ops alias
their input; element-wise ops may write over an input whose life ends with
them. Offsets come from a first-fit placement of buffers; several placement
orders are tried and the smallest plan is kept. The plan's size is the
activation RAM that `estimate` reports and the generated code uses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from mcugen.model.graph import Graph
from mcugen.ops import ALIAS, INPLACE, REGISTRY

DEFAULT_ALIGNMENT = 16


@dataclass(frozen=True)
class Buffer:
    """One region of the arena: a group of tensors sharing bytes, or an op's scratch."""

    id: int
    tensors: tuple[int, ...]  # tensor indices stored here (aliases share one buffer); empty for scratch
    size: int
    first: int  # first op index during which the bytes are live
    last: int  # last op index during which the bytes are live
    offset: int = -1
    scratch_of: int | None = None  # op index, for scratch buffers
    pool: int = 0  # which activation pool (memory region) holds it

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    def overlaps_in_space(self, other: "Buffer") -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


@dataclass(frozen=True)
class MemoryPlan:
    arena_size: int
    alignment: int
    buffers: tuple[Buffer, ...]
    offsets: Mapping[int, int]  # tensor index -> arena offset
    scratch: Mapping[int, tuple[int, int]]  # op index -> (offset, size)
    bound_op: int  # the largest (inputs + outputs + scratch) of any single op
    bound_op_index: int
    bound_tensor: int  # the largest single tensor
    strategy: str = "greedy"
    # (output buffer id, input buffer id, d): pairs allowed to overlap when in - out >= d
    overlaps: tuple[tuple[int, int, int], ...] = ()
    # Several activation pools (memory regions): offsets are then within each tensor's pool.
    pools: tuple["Pool", ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def pool_of(self, tensor_index: int) -> int:
        return self.buffer_of(tensor_index).pool

    def buffer_of(self, tensor_index: int) -> Buffer:
        for b in self.buffers:
            if tensor_index in b.tensors:
                return b
        raise KeyError(tensor_index)

    def to_json(self) -> dict:
        return {
            "arena_size": self.arena_size,
            "alignment": self.alignment,
            "strategy": self.strategy,
            "lower_bound_op": self.bound_op,
            "lower_bound_op_index": self.bound_op_index,
            "lower_bound_tensor": self.bound_tensor,
            "overlaps": [list(x) for x in self.overlaps],
            "pools": [{"region": p.region, "size": p.size, "capacity": p.capacity} for p in self.pools],
            "buffers": [
                {
                    "tensors": list(b.tensors),
                    "scratch_of": b.scratch_of,
                    "offset": b.offset,
                    "pool": b.pool,
                    "size": b.size,
                    "first_op": b.first,
                    "last_op": b.last,
                }
                for b in self.buffers
            ],
        }


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _align_down(n: int, a: int) -> int:
    return n // a * a


class _Groups:
    """Union-find over tensor indices: tensors that must share one buffer."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, t: int) -> int:
        self.parent.setdefault(t, t)
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def union(self, keep: int, other: int) -> None:
        self.parent[self.find(other)] = self.find(keep)


def activation_tensors(graph: Graph) -> list[int]:
    """Non-constant tensors that the operators or the graph's I/O actually use."""
    used = set(graph.inputs) | set(graph.outputs)
    for op in graph.operators:
        used.update(i for i in op.inputs if i >= 0)
        used.update(op.outputs)
    return sorted(i for i in used if not graph.tensors[i].is_constant)


def _lifetimes(graph: Graph, groups: _Groups, tensors: Iterable[int]) -> dict[int, tuple[int, int]]:
    last_op = len(graph.operators) - 1
    producers = graph.producers()
    consumers = graph.consumers()
    spans: dict[int, tuple[int, int]] = {}
    outputs = set(graph.outputs)
    for t in tensors:
        first = producers.get(t, 0)
        uses = consumers.get(t, [])
        last = max(uses) if uses else first
        if t in outputs or graph.tensors[t].is_variable:
            # Outputs are read after the last op; variable tensors (recurrent state)
            # persist from one run to the next.
            first = 0 if graph.tensors[t].is_variable else first
            last = last_op
        root = groups.find(t)
        if root in spans:
            a, b = spans[root]
            spans[root] = (min(a, first), max(b, last))
        else:
            spans[root] = (first, last)
    return spans


def _build_groups(graph: Graph, inplace: bool) -> _Groups:
    groups = _Groups()
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    for op in graph.operators:
        spec = REGISTRY.get(op.opcode)
        if spec is None or not op.outputs:
            continue
        data_inputs = [i for i in op.inputs if i >= 0 and not graph.tensors[i].is_constant]
        out = op.outputs[0]
        if spec.memory == ALIAS and data_inputs:
            groups.union(data_inputs[0], out)
        elif spec.memory == INPLACE and inplace:
            out_t = graph.tensors[out]
            for i in data_inputs:
                t = graph.tensors[i]
                root = groups.find(i)
                members = [m for m in groups.parent if groups.find(m) == root] or [i]
                # The input's bytes must be dead after this op (no later reader, not a
                # graph output), and the output element must be the same size.
                later = any(max(consumers.get(m, [op.index])) > op.index or m in outputs for m in members)
                if later or t.nbytes != out_t.nbytes or t.size != out_t.size:
                    continue
                groups.union(i, out)
                break
    return groups


def _place_first_fit(
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
        candidates = {lo, _align_down(hi - buf.size, alignment) if placed else 0}
        for p in live:
            candidates.add(_align(p.offset + p.size, alignment))
            candidates.add(_align_down(p.offset - buf.size, alignment))
            d = allow.get((buf.id, p.id))
            if d is not None:
                candidates.add(_align_down(p.offset - d, alignment))
            d = allow.get((p.id, buf.id))
            if d is not None:
                candidates.add(_align(p.offset + d, alignment))
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
    return shifted, _align(size, alignment)


def overlap_allowances(graph: Graph, buffers: list[Buffer]) -> dict[tuple[int, int], int]:
    """(output buffer id, input buffer id) -> minimum in - out offset distance, for
    every windowed op whose input dies with it (see mcugen.ops.access)."""
    from mcugen.ops.access import min_distance  # noqa: PLC0415

    by_tensor = {t: b for b in buffers for t in b.tensors}
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    allow: dict[tuple[int, int], int] = {}
    for op in graph.operators:
        if not op.inputs or op.inputs[0] < 0 or not op.outputs:
            continue
        x_buf, y_buf = by_tensor.get(op.inputs[0]), by_tensor.get(op.outputs[0])
        if x_buf is None or y_buf is None or x_buf is y_buf:
            continue
        dies_here = all(
            max(consumers.get(t, [-1]), default=-1) <= op.index
            and t not in outputs
            and not graph.tensors[t].is_variable
            for t in x_buf.tensors
        )
        if not dies_here or x_buf.last != op.index:
            continue
        d = min_distance(graph, op)
        if d is not None:
            allow[(y_buf.id, x_buf.id)] = d
    return allow


def _place_beam(
    buffers: list[Buffer], order: list[int], alignment: int, allow: Mapping[tuple[int, int], int], width: int
) -> tuple[list[Buffer], int]:
    """Like _place_first_fit, but keeps the `width` best partial layouts (smallest extent)
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
            candidates = {lo, _align_down(hi - buf.size, alignment) if offsets else 0}
            for p, poff in live:
                candidates.add(_align(poff + p.size, alignment))
                candidates.add(_align_down(poff - buf.size, alignment))
                d = allow.get((buf.id, p.id))
                if d is not None:
                    candidates.add(_align_down(poff - d, alignment))
                d = allow.get((p.id, buf.id))
                if d is not None:
                    candidates.add(_align(poff + d, alignment))
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
    return placed, _align(size, alignment)


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


def _buffers(
    graph: Graph, scratch_bytes: Mapping[int, int], alignment: int, inplace: bool
) -> tuple[list[int], list[Buffer]]:
    tensors = activation_tensors(graph)
    groups = _build_groups(graph, inplace)
    spans = _lifetimes(graph, groups, tensors)
    members: dict[int, list[int]] = {}
    for t in tensors:
        members.setdefault(groups.find(t), []).append(t)
    buffers: list[Buffer] = []
    for root, ts in sorted(members.items(), key=lambda kv: spans[kv[0]]):
        first, last = spans[root]
        size = max(graph.tensors[t].nbytes for t in ts)
        buffers.append(Buffer(len(buffers), tuple(sorted(ts)), _align(size, alignment), first, last))
    for op_index, size in sorted(scratch_bytes.items()):
        if size > 0:
            buffers.append(Buffer(len(buffers), (), _align(size, alignment), op_index, op_index, scratch_of=op_index))
    return tensors, buffers


def _best_placement(
    buffers: list[Buffer], alignment: int, allow: Mapping[tuple[int, int], int], strategies: Iterable[str] | None
) -> tuple[list[Buffer], int, str]:
    best: tuple[list[Buffer], int, str] | None = None
    for name in strategies or ORDERS:
        placed, size = _place_first_fit(buffers, ORDERS[name](buffers), alignment, allow)
        if best is None or size < best[1]:
            best = (placed, size, name)
    if strategies is None and allow:
        for name in BEAM_ORDERS:
            placed, size = _place_beam(buffers, ORDERS[name](buffers), alignment, allow, BEAM_WIDTH)
            if best is None or size < best[1]:
                best = (placed, size, f"beam-{name}")
    return best if best else ([], 0, "none")


def _finish(
    graph: Graph,
    tensors: list[int],
    placed: list[Buffer],
    arena_size: int,
    strategy: str,
    allow: Mapping[tuple[int, int], int],
    scratch_bytes: Mapping[int, int],
    alignment: int,
    pools: tuple["Pool", ...] = (),
) -> MemoryPlan:
    offsets = {t: b.offset for b in placed for t in b.tensors}
    scratch = {b.scratch_of: (b.offset, b.size) for b in placed if b.scratch_of is not None}
    bound_op, bound_index = op_lower_bound(graph, placed, scratch_bytes, alignment, allow)
    bound_tensor = max((_align(graph.tensors[t].nbytes, alignment) for t in tensors), default=0)
    return MemoryPlan(
        arena_size=arena_size,
        alignment=alignment,
        buffers=tuple(placed),
        offsets=offsets,
        scratch=scratch,
        bound_op=bound_op,
        bound_op_index=bound_index,
        bound_tensor=bound_tensor,
        strategy=strategy,
        overlaps=tuple((out_id, in_id, d) for (out_id, in_id), d in sorted(allow.items())),
        pools=pools,
    )


def plan_memory(
    graph: Graph,
    scratch_bytes: Mapping[int, int] | None = None,
    *,
    alignment: int = DEFAULT_ALIGNMENT,
    inplace: bool = True,
    overlap: bool = True,
    strategies: Iterable[str] | None = None,
) -> MemoryPlan:
    """Plan the activation arena; tries each placement strategy and keeps the smallest."""
    scratch_bytes = dict(scratch_bytes or {})
    tensors, buffers = _buffers(graph, scratch_bytes, alignment, inplace)
    allow = overlap_allowances(graph, buffers) if overlap else {}
    placed, arena_size, strategy = _best_placement(buffers, alignment, allow, strategies)
    return _finish(graph, tensors, placed, arena_size, strategy, allow, scratch_bytes, alignment)


@dataclass(frozen=True)
class Pool:
    region: str
    size: int  # bytes the plan uses in this pool
    capacity: int  # bytes available in the region


def buffer_traffic(graph: Graph, buffers: list[Buffer]) -> dict[int, int]:
    """Bytes read and written per inference in each buffer: how 'used' it is."""
    by_tensor = {t: b.id for b in buffers for t in b.tensors}
    traffic = {b.id: 0 for b in buffers}
    for op in graph.operators:
        for t in (*op.inputs, *op.outputs):
            if t >= 0 and t in by_tensor:
                traffic[by_tensor[t]] += graph.tensors[t].nbytes
    for b in buffers:
        if b.scratch_of is not None:
            traffic[b.id] += 2 * b.size  # scratch is written and read back within its op
    return traffic


def plan_pools(
    graph: Graph,
    capacities: list[tuple[str, int]],
    scratch_bytes: Mapping[int, int] | None = None,
    *,
    alignment: int = DEFAULT_ALIGNMENT,
    inplace: bool = True,
    overlap: bool = True,
) -> MemoryPlan:
    """Split the activations over several regions (name, capacity), first one preferred.

    Buffers go to the first pool in order of traffic per byte (the most used first)
    as long as that pool's plan stays within its capacity; the rest spill to the
    next pool, and so on. A buffer never straddles two pools. FitError when a
    buffer fits no pool or the pools are full.
    """
    from mcugen.errors import FitError  # noqa: PLC0415

    if not capacities:
        raise ValueError("plan_pools needs at least one pool")
    scratch_bytes = dict(scratch_bytes or {})
    tensors, buffers = _buffers(graph, scratch_bytes, alignment, inplace)
    allow = overlap_allowances(graph, buffers) if overlap else {}
    largest = max(buffers, key=lambda b: b.size, default=None)
    if largest is not None and all(largest.size > cap for _, cap in capacities):
        names = ", ".join(f"{name} ({cap:,} B)" for name, cap in capacities)
        what = f"tensor {largest.tensors[0]} '{graph.tensors[largest.tensors[0]].name}'" if largest.tensors else "a scratch buffer"
        raise FitError(
            f"The largest activation, {what}, needs {largest.size:,} B; no pool can hold it: {names}.",
            hint="List a larger memory region in --pools.",
        )
    traffic = buffer_traffic(graph, buffers)
    order = sorted(buffers, key=lambda b: (-traffic[b.id] / max(b.size, 1), -b.size, b.id))
    remaining = list(order)
    placed_all: list[Buffer] = []
    pools: list[Pool] = []
    strategies: list[str] = []
    for pool_index, (region, capacity) in enumerate(capacities):
        chosen: list[Buffer] = []
        size = 0
        for b in list(remaining):
            trial = chosen + [b]
            _, trial_size, _ = _best_placement(trial, alignment, allow, None)
            if trial_size <= capacity:
                chosen, size = trial, trial_size
                remaining.remove(b)
        if chosen:
            placed, size, strategy = _best_placement(chosen, alignment, allow, None)
            placed_all += [dataclasses.replace(b, pool=pool_index) for b in placed]
            strategies.append(strategy)
        pools.append(Pool(region, size, capacity))
        if not remaining:
            break
    if remaining:
        need = sum(b.size for b in remaining)
        raise FitError(
            f"The activations do not fit the pools {', '.join(r for r, _ in capacities)}: "
            f"{len(remaining)} buffer(s), {need:,} B, left over.",
            hint="Add a region to --pools or use larger ones.",
        )
    placed_all.sort(key=lambda b: b.id)
    total = sum(p.size for p in pools)
    return _finish(
        graph, tensors, placed_all, total, "+".join(strategies), allow, scratch_bytes, alignment, tuple(pools)
    )


def op_lower_bound(
    graph: Graph, buffers: list[Buffer], scratch_bytes: Mapping[int, int], alignment: int,
    allow: Mapping[tuple[int, int], int] | None = None,
) -> tuple[int, int]:
    """The largest sum of distinct live buffers any single op touches (inputs, outputs, scratch);
    an output allowed to overlap its dying input counts for the pair's least extent."""
    by_tensor = {t: b for b in buffers for t in b.tensors}
    allow = overlap_allowances(graph, buffers) if allow is None else allow
    best, best_index = 0, -1
    for op in graph.operators:
        ids = {}
        for t in (*op.inputs, *op.outputs):
            if t >= 0 and t in by_tensor:
                ids[by_tensor[t].id] = by_tensor[t].size
        total = sum(ids.values()) + _align(scratch_bytes.get(op.index, 0), alignment)
        if op.inputs and op.outputs and op.inputs[0] in by_tensor and op.outputs[0] in by_tensor:
            x, y = by_tensor[op.inputs[0]], by_tensor[op.outputs[0]]
            d = allow.get((y.id, x.id))
            if d is not None and x.id != y.id:
                total -= x.size + y.size - max(d + x.size, x.size, y.size)
        if total > best:
            best, best_index = total, op.index
    return best, best_index


def check_plan(graph: Graph, plan: MemoryPlan) -> list[str]:
    """Brute force: every pair of buffers live at the same time must not share a byte.

    Also checks that every activation tensor has an offset, fits its buffer and the
    arena, and that aliased tensors really are interchangeable byte-for-byte.
    Returns the problems found (empty when the plan is sound).
    """
    problems = []
    for t in activation_tensors(graph):
        if t not in plan.offsets:
            problems.append(f"tensor {t} has no offset")
            continue
        if plan.offsets[t] % plan.alignment:
            problems.append(f"tensor {t} is not {plan.alignment}-byte aligned")
        limit = plan.pools[plan.pool_of(t)].size if plan.pools else plan.arena_size
        if plan.offsets[t] + graph.tensors[t].nbytes > limit:
            problems.append(f"tensor {t} ends beyond its arena")
    # Recompute lifetimes per tensor independently of the plan's grouping.
    producers, consumers = graph.producers(), graph.consumers()
    last_op = len(graph.operators) - 1
    outputs = set(graph.outputs)

    def span(t: int) -> tuple[int, int]:
        if graph.tensors[t].is_variable:
            return 0, last_op
        first = producers.get(t, 0)
        uses = consumers.get(t, [])
        last = max(uses) if uses else first
        return first, (last_op if t in outputs else last)

    items = []
    for b in plan.buffers:
        # Offsets are per pool: a pool's bytes start where the previous pool's end.
        base = sum(p.size for p in plan.pools[: b.pool]) + b.pool if plan.pools else 0
        if b.scratch_of is not None:
            items.append((f"scratch of op {b.scratch_of}", base + b.offset, b.size, b.first, b.last, b.id))
        for t in b.tensors:
            f, l = span(t)
            items.append((f"tensor {t}", base + plan.offsets[t], graph.tensors[t].nbytes, f, l, b.id))
    allowed = {(o, i): d for o, i, d in plan.overlaps}
    buffer_offset = {b.id: b.offset for b in plan.buffers}

    def overlap_ok(out_id: int, in_id: int) -> bool:
        d = allowed.get((out_id, in_id))
        return d is not None and buffer_offset[in_id] - buffer_offset[out_id] >= d

    for i, (na, oa, sa, fa, la, ba) in enumerate(items):
        for nb, ob, sb, fb, lb, bb in items[i + 1 :]:
            if ba == bb:
                continue  # same buffer: aliases or in-place, allowed by the op's semantics
            if overlap_ok(ba, bb) or overlap_ok(bb, ba):
                continue  # an op writing over its dying input in a proven-safe order
            if fa <= lb and fb <= la and oa < ob + sb and ob < oa + sa:
                problems.append(f"{na} [{oa}, {oa + sa}) and {nb} [{ob}, {ob + sb}) overlap while both live")
    return problems


def simulate_plan(graph: Graph, plan: MemoryPlan) -> list[str]:
    """Replay the read/write order of every op whose output overlaps its input in the
    plan, byte by byte, and report any write that lands on an input byte still to be read."""
    from mcugen.ops.access import simulate_op  # noqa: PLC0415

    problems = []
    for op in graph.operators:
        if not op.inputs or op.inputs[0] < 0 or not op.outputs:
            continue
        x, y = op.inputs[0], op.outputs[0]
        if x not in plan.offsets or y not in plan.offsets:
            continue
        xo, yo = plan.offsets[x], plan.offsets[y]
        xs, ys = graph.tensors[x].nbytes, graph.tensors[y].nbytes
        same_pool = plan.pool_of(x) == plan.pool_of(y)
        if same_pool and xo < yo + ys and yo < xo + xs and plan.buffer_of(x) is not plan.buffer_of(y):
            problems += simulate_op(graph, op, xo, yo)
    return problems
