"""Lowering, the stage between the checked graph and everything that sizes or writes C.

    lowered = lower(graph, board, Kernels.named("simd"))   # UnsupportedOpsError lists every op it cannot run
    lowered.calls          # per op, the KernelCall that runs it (portable kernel or Cortex-M7 variant)
    lowered.scratch_bytes  # per op, its kernel's scratch: what the planner needs

Each op is lowered once: its portable kernel (mcugen.lower.portable, one module per
op family) is TFLM's prepare step and the support check in one; the Cortex-M7 variant,
where one applies (mcugen.lower.arm), is prepared next to it, and mcugen.lower.kernels
decides which of the two runs. The plan, the estimate, the patch search, the code-size
estimate and the generator all take the resulting `LoweredGraph`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mcugen.boards import Board
from mcugen.lower.call import KernelCall, LoweringError
from mcugen.lower.kernels import Kernels, choose
from mcugen.lower.patch_stage import lower_patch_stage
from mcugen.lower.portable import lower_op
from mcugen.model.graph import Graph, Operator
from mcugen.ops import UnsupportedOp, tflm_unsupported, unknown_ops, unsupported_error
from mcugen.ops.generic import op_name
from mcugen.ops.base import PATCH_STAGE


@dataclass(frozen=True)
class LoweredGraph:
    """A graph with the call of every op: what the stages after lowering take."""

    graph: Graph
    calls: tuple[KernelCall, ...]  # per op (op_index = position): the call that runs it
    portable: tuple[KernelCall, ...]  # per op: its portable kernel's call
    variants: tuple[KernelCall | None, ...]  # per op: its Cortex-M7 variant's call, where one applies
    kernels: Kernels

    @property
    def scratch_bytes(self) -> dict[int, int]:
        return {c.op_index: c.scratch_bytes for c in self.calls if c.scratch_bytes > 0}

    @property
    def sources(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.calls:
            for s in c.sources:
                seen.setdefault(s, None)
        return tuple(seen)

    def with_graph(self, graph: Graph, portable: tuple[KernelCall, ...],
                   variants: tuple[KernelCall | None, ...]) -> "LoweredGraph":
        """Another graph made of this one's ops (a patched graph), its calls chosen again."""
        return LoweredGraph(graph, choose(graph, portable, variants, self.kernels.max_ram_growth), portable,
                            variants, self.kernels)


def _portable(graph: Graph, op: Operator, tiles: Kernels | None) -> KernelCall:
    if op.opcode == PATCH_STAGE:  # a patch-based stage (mcugen.patch) lowers its tiles
        return renumbered(lower_patch_stage(graph, op.option("stage"), tiles).call, op.index)
    return lower_op(graph, op)


def unsupported_ops(graph: Graph) -> list[UnsupportedOp]:
    """Every operator the cubeai style cannot run (unknown, or no kernel for its types or
    parameters), with the reason."""
    return _lower_all(graph, None)[1]


def _lower_all(graph: Graph, tiles: Kernels | None) -> tuple[list[KernelCall], list[UnsupportedOp]]:
    found = unknown_ops(graph)
    skip = {u.index for u in found}
    calls = []
    for op in graph.operators:
        if op.index in skip:
            continue
        try:
            calls.append(_portable(graph, op, tiles))
        except LoweringError as exc:
            found.append(UnsupportedOp(op.index, op_name(op), str(exc)))
    return calls, sorted(found, key=lambda u: u.index)


def lower(graph: Graph, board: Board, kernels: Kernels | None = None) -> LoweredGraph:
    """Every op's call on `board` under the kernel policy (default: Kernels(), the Cortex-M7
    variants where they pay). UnsupportedOpsError lists every op cubeai cannot run."""
    kernels = kernels or Kernels()
    on = kernels.variants_on(board)
    portable, bad = _lower_all(graph, kernels if on else None)
    if bad:
        raise unsupported_error(graph, "cubeai", bad, not tflm_unsupported(graph))
    variants = tuple(kernels.variant_call(graph, op) if on else None for op in graph.operators)
    return LoweredGraph(graph, choose(graph, portable, variants, kernels.max_ram_growth), tuple(portable),
                        variants, kernels)


def renumbered(call: KernelCall, op_index: int) -> KernelCall:
    return call if call.op_index == op_index else dataclasses.replace(call, op_index=op_index)


__all__ = ["KernelCall", "Kernels", "LoweredGraph", "LoweringError", "lower", "renumbered", "unsupported_ops"]
