"""Activation memory planning: tensor lifetimes -> offsets in one arena (or several pools).

Every non-constant tensor (graph inputs and outputs included, as X-CUBE-AI and
TFLM both keep them in the arena) gets a byte offset. RESHAPE-like ops alias
their input; element-wise ops may write over an input whose life ends with
them, and windowed ops over an input that dies with them, as far as their
read/write order allows (mcugen.ops.access). Offsets come from first-fit
placements in several orders and, where outputs may overlap inputs, a beam
search (mcugen.planner.placement); the smallest plan is kept. The plan's size is
the activation RAM that `estimate` reports and the generated code uses."""

from __future__ import annotations

from typing import Iterable, Mapping

from mcugen.errors import FitError
from mcugen.model.graph import Graph
from mcugen.planner.buffers import DEFAULT_ALIGNMENT, Buffer, MemoryPlan, Pool, align, make_buffers, op_lower_bound
from mcugen.planner.buffers import overlap_allowances
from mcugen.planner.joint import joint_split, single_layouts
from mcugen.planner.placement import best_placement


def finish_plan(
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
    bound_tensor = max((align(graph.tensors[t].nbytes, alignment) for t in tensors), default=0)
    return MemoryPlan(
        arena_size=arena_size, alignment=alignment, buffers=tuple(placed), offsets=offsets, scratch=scratch,
        bound_op=bound_op, bound_op_index=bound_index, bound_tensor=bound_tensor, strategy=strategy,
        overlaps=tuple((out_id, in_id, d) for (out_id, in_id), d in sorted(allow.items())), pools=pools,
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
    tensors, buffers = make_buffers(graph, scratch_bytes, alignment, inplace)
    allow = overlap_allowances(graph, buffers) if overlap else {}
    placed, arena_size, strategy = best_placement(buffers, alignment, allow, strategies)
    return finish_plan(graph, tensors, placed, arena_size, strategy, allow, scratch_bytes, alignment)


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

    The pools are planned together (mcugen.planner.joint): one layout, as for a single
    arena, cut into the pools, the most traffic in the first pool, at most JOINT_SLACK
    times the best single arena in total where the capacities allow. A buffer never
    straddles two pools. FitError when a buffer fits no pool or the pools are full.
    """
    if not capacities:
        raise ValueError("plan_pools needs at least one pool")
    scratch_bytes = dict(scratch_bytes or {})
    tensors, buffers = make_buffers(graph, scratch_bytes, alignment, inplace)
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
    split = joint_split(buffers, [cap for _, cap in capacities], alignment, allow, traffic)
    if split is None:
        single = min(size for _, size, _ in single_layouts(buffers, alignment, allow))
        raise FitError(
            f"The activations do not fit the pools {', '.join(f'{r} ({c:,} B)' for r, c in capacities)}: "
            f"they need {single:,} B in one arena, and cut into these pools more.",
            hint="Add a region to --pools or use larger ones.",
        )
    pools = [Pool(region, size, cap) for (region, cap), size in zip(capacities, split.sizes)]
    placed_all = split.placed(buffers)
    placed_all.sort(key=lambda b: b.id)
    return finish_plan(
        graph, tensors, placed_all, split.total, f"joint-{split.strategy}", allow, scratch_bytes, alignment,
        tuple(pools),
    )


