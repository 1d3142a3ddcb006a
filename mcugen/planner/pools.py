"""The cubeai activation plan: inputs/outputs in or out of the activations, one pool or several.

X-CUBE-AI keeps a network's inputs and outputs inside its activation buffer unless told
otherwise (`--no-inputs-allocation`, `--no-outputs-allocation`), and can split the
activations over several memory pools (for example DTCM first, then AXI SRAM on an
STM32H7). This module turns those choices into a `MemoryPlan` for the generator:

    specs = parse_pools("dtcm,axisram")                  # or "ssram23:24K,psram"
    caps = pool_capacities(board, specs, reserved)       # bytes each region can give
    plan = plan_activations(graph, scratch, inputs=False, pools=caps)

I/O left out of the activations is planned as if it were constant data: the planner
gives it no bytes, and the generated code reads or writes the application's buffers
(a RESHAPE at the graph's edge then becomes a copy). Pools come from
`mcugen.planner.plan_pools`; unused pools are dropped and the rest renumbered.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mcugen.boards import Board
from mcugen.errors import FitError, McugenError
from mcugen.model.graph import Graph
from mcugen.planner.buffers import MemoryPlan
from mcugen.planner.plan import plan_memory, plan_pools

UNLIMITED = 1 << 31
# Bytes kept free in a region that also holds .data/.bss when a pool goes there: the
# generated code's own static data (st-ai context, legacy instance, main.c's buffers),
# libc's and the section alignment, which the estimate's data figure does not count.
POOL_DATA_MARGIN = 2048
_SIZE = re.compile(r"^(\d+)\s*([kKmM]i?[bB]?|[bB])?$")


@dataclass(frozen=True)
class PoolSpec:
    region: str
    limit: int | None = None  # at most this many bytes of the region (REGION:SIZE)

    def __str__(self) -> str:
        return self.region if self.limit is None else f"{self.region}:{self.limit}"


def parse_size(text: str) -> int:
    m = _SIZE.match(text.strip())
    if not m:
        raise McugenError(f"'{text}' is not a size.", hint="Write bytes, or K/M for KiB/MiB: 4096, 96K, 1M.")
    n, unit = int(m.group(1)), (m.group(2) or "").lower()
    return n * (1024 if unit.startswith("k") else 1024 * 1024 if unit.startswith("m") else 1)


def parse_pools(text: str | Sequence[str] | None) -> list[PoolSpec]:
    """'dtcm,axisram' or ['dtcm', 'axisram:256K'] -> pool specs (region, optional byte limit)."""
    if text is None:
        return []
    items = [text] if isinstance(text, str) else list(text)
    specs: list[PoolSpec] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            region, _, size = part.partition(":")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", region):
                raise McugenError(f"--pools: '{part}' is not REGION or REGION:SIZE.",
                                  hint="For example --pools dtcm,axisram (regions: `mcugen boards`).")
            specs.append(PoolSpec(region, parse_size(size) if size else None))
    names = [s.region for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise McugenError(f"--pools lists {', '.join(dup)} more than once.", hint="Name each region once.")
    return specs


def pool_capacities(board: Board, specs: Sequence[PoolSpec], reserved: Mapping[str, int] | None = None
                    ) -> list[tuple[str, int]]:
    """(region, bytes available to activations) per pool: the region's size minus what is
    already placed there (`reserved`: code, data, stack...), capped by the spec's limit.
    On the host target any name goes; the capacity is the limit (or unlimited)."""
    reserved = reserved or {}
    caps = []
    for spec in specs:
        if board.is_host:
            cap = spec.limit if spec.limit is not None else UNLIMITED
        else:
            region = board.region(spec.region)  # BoardError naming the regions
            if region.kind != "ram":
                raise McugenError(
                    f"--pools: region '{spec.region}' of {board.name} is {region.kind}, not ram.",
                    hint="Activations need internal RAM: "
                    + ", ".join(r.name for r in board.regions if r.kind == "ram") + ".",
                )
            cap = max(0, region.size - int(reserved.get(spec.region, 0)))
            if spec.limit is not None:
                cap = min(cap, spec.limit)
        caps.append((spec.region, cap))
    return caps


def pool_reservations(placed: Mapping[str, Mapping[str, int]], stack_size: int) -> dict[str, int]:
    """Per region, the bytes the rest of the firmware takes there (`placed`: region ->
    what the estimate places there, arena excepted), the linker's stack of stack_size
    bytes at least, and POOL_DATA_MARGIN where the data goes: what a pool cannot use."""
    reserved: dict[str, int] = {}
    for region, items in placed.items():
        items = {k: v for k, v in items.items() if k != "arena"}
        if "stack" in items:
            items["stack"] = max(items["stack"], stack_size)
        reserved[region] = sum(items.values()) + (POOL_DATA_MARGIN if "data" in items else 0)
    return reserved


def io_outside_bytes(graph: Graph, inputs: bool = True, outputs: bool = True) -> int:
    """Bytes of the inputs/outputs that live outside the activations."""
    return (0 if inputs else sum(t.nbytes for t in graph.input_tensors)) + \
        (0 if outputs else sum(t.nbytes for t in graph.output_tensors))


def states_bytes(graph: Graph) -> int:
    """Bytes of the variable tensors (recurrent state): they live in the states buffers,
    one per tensor, 8-byte aligned, outside the activations (mcugen.codegen.cubeai)."""
    return sum((graph.tensors[t].nbytes + 7) // 8 * 8 for t in state_tensors(graph))


def state_tensors(graph: Graph) -> list[int]:
    """The variable tensors an operator reads, in tensor order: the network's states."""
    used = {t for op in graph.operators for t in op.inputs if t >= 0}
    return [t.index for t in graph.tensors if t.is_variable and not t.is_constant and t.index in used]


def planning_graph(graph: Graph, inputs: bool = True, outputs: bool = True) -> Graph:
    """`graph` with the inputs (outputs) that live outside the activations marked constant,
    so that the planner gives them no bytes, and the states (variable tensors) too: they
    persist from run to run in their own buffers, whatever the application does with the
    activations between runs. For planning only."""
    skip = set()
    if not inputs:
        skip |= set(graph.inputs)
    if not outputs:
        skip |= set(graph.outputs)
    skip = {t for t in skip if not graph.tensors[t].is_constant and not graph.tensors[t].is_variable}
    skip |= set(state_tensors(graph))
    if not skip:
        return graph
    empty = np.zeros(0, dtype=np.uint8)
    tensors = tuple(dataclasses.replace(t, data=empty) if t.index in skip else t for t in graph.tensors)
    return dataclasses.replace(graph, tensors=tensors)


def compact_pools(plan: MemoryPlan) -> MemoryPlan:
    """Drops the pools no buffer uses and renumbers the rest."""
    if not plan.pools:
        return plan
    used = sorted({b.pool for b in plan.buffers})
    if used == list(range(len(plan.pools))):
        return plan
    remap = {old: new for new, old in enumerate(used)}
    buffers = tuple(dataclasses.replace(b, pool=remap[b.pool]) for b in plan.buffers)
    pools = tuple(plan.pools[i] for i in used)
    return dataclasses.replace(plan, buffers=buffers, pools=pools, arena_size=sum(p.size for p in pools))


def plan_activations(
    graph: Graph,
    scratch_bytes: Mapping[int, int] | None = None,
    *,
    inputs: bool = True,
    outputs: bool = True,
    pools: Sequence[tuple[str, int]] | None = None,
) -> MemoryPlan:
    """The activation plan of the cubeai style (see the module doc). FitError, with the
    figures, when the largest tensor fits no pool or the pools are too small."""
    g = planning_graph(graph, inputs, outputs)
    if not pools:
        return plan_memory(g, scratch_bytes)
    try:
        return compact_pools(plan_pools(g, list(pools), scratch_bytes))
    except FitError as exc:
        raise FitError(exc.message, hint=exc.hint or "List a larger memory region in --pools.") from None


__all__ = [
    "POOL_DATA_MARGIN", "PoolSpec", "compact_pools", "io_outside_bytes", "parse_pools", "parse_size",
    "plan_activations", "planning_graph", "pool_capacities", "pool_reservations", "state_tensors", "states_bytes",
]
