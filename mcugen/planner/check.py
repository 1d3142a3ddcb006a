"""Proof of a plan: every pair of buffers live at once apart (or overlapping only where
the op's read/write order allows it), and the overlaps replayed byte by byte."""

from __future__ import annotations

from mcugen.model.graph import Graph
from mcugen.ops.access import simulate_op
from mcugen.planner.buffers import MemoryPlan, activation_tensors


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
