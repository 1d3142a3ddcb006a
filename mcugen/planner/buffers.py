"""The planner's vocabulary: buffers (tensors sharing bytes, or an op's scratch), their
lifetimes from the op order, the groups RESHAPE-like and in-place ops make, where an
op's output may overlap its dying input, and the plan that places them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from mcugen.model.graph import Graph
from mcugen.ops import ALIAS, INPLACE, REGISTRY
from mcugen.ops.access import min_distance


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


def align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def align_down(n: int, a: int) -> int:
    return n // a * a


class Groups:
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


def lifetimes(graph: Graph, groups: Groups, tensors: Iterable[int]) -> dict[int, tuple[int, int]]:
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


def build_groups(graph: Graph, inplace: bool) -> Groups:
    groups = Groups()
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


def overlap_allowances(graph: Graph, buffers: list[Buffer]) -> dict[tuple[int, int], int]:
    """(output buffer id, input buffer id) -> minimum in - out offset distance, for
    every windowed op whose input dies with it (see mcugen.ops.access)."""
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


def make_buffers(
    graph: Graph, scratch_bytes: Mapping[int, int], alignment: int, inplace: bool
) -> tuple[list[int], list[Buffer]]:
    tensors = activation_tensors(graph)
    groups = build_groups(graph, inplace)
    spans = lifetimes(graph, groups, tensors)
    members: dict[int, list[int]] = {}
    for t in tensors:
        members.setdefault(groups.find(t), []).append(t)
    buffers: list[Buffer] = []
    for root, ts in sorted(members.items(), key=lambda kv: spans[kv[0]]):
        first, last = spans[root]
        size = max(graph.tensors[t].nbytes for t in ts)
        buffers.append(Buffer(len(buffers), tuple(sorted(ts)), align(size, alignment), first, last))
    for op_index, size in sorted(scratch_bytes.items()):
        if size > 0:
            buffers.append(Buffer(len(buffers), (), align(size, alignment), op_index, op_index, scratch_of=op_index))
    return tensors, buffers


@dataclass(frozen=True)
class Pool:
    region: str
    size: int  # bytes the plan uses in this pool
    capacity: int  # bytes available in the region


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
        total = sum(ids.values()) + align(scratch_bytes.get(op.index, 0), alignment)
        if op.inputs and op.outputs and op.inputs[0] in by_tensor and op.outputs[0] in by_tensor:
            x, y = by_tensor[op.inputs[0]], by_tensor[op.outputs[0]]
            d = allow.get((y.id, x.id))
            if d is not None and x.id != y.id:
                total -= x.size + y.size - max(d + x.size, x.size, y.size)
        if total > best:
            best, best_index = total, op.index
    return best, best_index

