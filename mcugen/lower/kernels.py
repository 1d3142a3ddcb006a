"""Which kernel runs each op: the choice between the portable C kernels and the
Cortex-M7 variants (mcugen.lower.arm), made here and nowhere else.

The rules, in order:
- `--kernels portable`, or a board without a Cortex-M7 core: the portable kernels.
- Otherwise each op runs on the first variant that accepts it (mcugen.lower.arm.VARIANTS);
  the int16-filter variants only for filters up to `wide_limit` bytes.
- The variants' scratch buffers must not grow the activation plan by more than
  `max_ram_growth` of the portable kernels' plan (or MAX_RAM_GROWTH_BYTES on small
  models, whichever is more): speed is worth little to a model that no longer fits
  (a batch-1 FULLY_CONNECTED over 4000 inputs would expand them into 16 KB of int16
  pairs). Over budget, the variant with the largest scratch goes back to its
  portable kernel first, until the plan fits.
- A filter several ops read (an unrolled RNN's steps all read the same matrices) is stored
  once for the portable kernels (the generator shares equal arrays), but each variant
  stores its own stream of it: when those copies would exceed MAX_SHARED_COPIES times the
  filter (plus the w16 allowance), the ops sharing it keep their portable kernels.
- In a patch-based stage (mcugen.patch) every tile may take its variant (tiles are
  small: no RAM rule), but one layer runs one kernel with one set of constants in every
  patch: where the variant does not take every tile alike, the layer's tiles run
  their portable kernel (`uniform_layer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mcugen.boards import Board
from mcugen.errors import McugenError
from mcugen.lower.arm import DEFAULT_WIDE_LIMIT, select_arm_variant
from mcugen.lower.call import KernelCall
from mcugen.model.graph import Graph, Operator
from mcugen.planner import plan_memory

SIMD, PORTABLE = "simd", "portable"
CUBEAI_KERNELS = (SIMD, PORTABLE)  # cubeai --kernels; the tflm ones are mcugen.tflm.source.KERNEL_SETS
MAX_RAM_GROWTH = 0.02
MAX_RAM_GROWTH_BYTES = 1024
MAX_SHARED_COPIES = 4
FILTERED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass(frozen=True)
class Kernels:
    """The kernel policy of a cubeai network (see the module doc).

    simd: Cortex-M7 variants where they apply; wide_limit: int16-filter variants for
    filters up to this many int8 bytes (None: always, 0: never); max_ram_growth: the
    RAM rule (None: none); any_core: the variants off Cortex-M7 too (a host build
    emulates the DSP instructions: for tests)."""

    simd: bool = True
    wide_limit: int | None = DEFAULT_WIDE_LIMIT
    max_ram_growth: float | None = MAX_RAM_GROWTH
    any_core: bool = False

    @classmethod
    def named(cls, name: str | None, wide_limit: int | None = DEFAULT_WIDE_LIMIT) -> "Kernels":
        """cubeai's --kernels: simd (the Cortex-M7 variants where they pay, the default) or portable."""
        if name is None or name == SIMD:
            return cls(simd=True, wide_limit=wide_limit)
        if name == PORTABLE:
            return cls(simd=False, wide_limit=wide_limit)
        raise McugenError(f"Unknown kernel set '{name}' for the cubeai style.",
                          hint="Use --kernels simd (default) or --kernels portable; cmsis_nn/reference are for "
                               "--style tflm.")

    def variants_on(self, board: Board) -> bool:
        """Whether the Cortex-M7 variants run on `board` under this policy."""
        return self.simd and (self.any_core or (not board.is_host and board.core == "cortex-m7"))

    def variant_call(self, graph: Graph, op: Operator) -> KernelCall | None:
        """op's KernelCall on its Cortex-M7 variant, or None (no variant runs it)."""
        variant = select_arm_variant(graph, op, self.wide_limit)
        return None if variant is None else variant.prepare(graph, op)


def choose(graph: Graph, portable: Sequence[KernelCall], variants: Sequence[KernelCall | None],
           max_growth: float | None) -> tuple[KernelCall, ...]:
    """Per op, the call that runs it: its variant's where there is one, minus those of ops
    sharing a filter whose copies would cost too much flash, and those whose scratch would
    grow the activation plan beyond the RAM rule (max_growth None: no RAM rule)."""
    variants = shared_filter_rule(graph, variants)
    if max_growth is None or all(v is None for v in variants):
        return tuple(v if v is not None else p for p, v in zip(portable, variants))
    base = plan_memory(graph, {i: p.scratch_bytes for i, p in enumerate(portable) if p.scratch_bytes}).arena_size
    budget = max(base * (1 + max_growth), base + MAX_RAM_GROWTH_BYTES)
    dropped: set[int] = set()

    def scratch() -> dict[int, int]:
        out = {}
        for i, (p, v) in enumerate(zip(portable, variants)):
            size = p.scratch_bytes if (v is None or i in dropped) else v.scratch_bytes
            if size:
                out[i] = size
        return out

    while plan_memory(graph, scratch()).arena_size > budget:
        candidates = [i for i, v in enumerate(variants) if v is not None and i not in dropped and v.scratch_bytes]
        if not candidates:
            break
        dropped.add(max(candidates, key=lambda i: variants[i].scratch_bytes))
    return tuple(p if (v is None or i in dropped) else v for i, (p, v) in enumerate(zip(portable, variants)))


def shared_filter_rule(graph: Graph, variants: Sequence[KernelCall | None]) -> tuple[KernelCall | None, ...]:
    """`variants` without those of the ops that share a constant filter when the variants'
    streams together exceed MAX_SHARED_COPIES times it plus DEFAULT_WIDE_LIMIT bytes."""
    readers: dict[int, list[int]] = {}
    for i, op in enumerate(graph.operators):
        if (variants[i] is not None and op.opcode in FILTERED and len(op.inputs) > 1 and op.inputs[1] >= 0
                and graph.tensors[op.inputs[1]].is_constant):
            readers.setdefault(op.inputs[1], []).append(i)
    dropped: set[int] = set()
    for t, ops in readers.items():
        copies = sum(variants[i].weights_bytes + variants[i].params_bytes for i in ops)  # type: ignore[union-attr]
        if len(ops) > 1 and copies > MAX_SHARED_COPIES * graph.tensors[t].nbytes + DEFAULT_WIDE_LIMIT:
            dropped.update(ops)
    return tuple(None if i in dropped else v for i, v in enumerate(variants))


def same_constants(a: KernelCall, b: KernelCall) -> bool:
    """Whether two calls run one kernel on equal constant arrays."""
    if a.kernel != b.kernel or len(a.constants) != len(b.constants):
        return False
    return all(ca.name == cb.name and ca.ctype == cb.ctype and ca.weights == cb.weights
               and np.array_equal(ca.values, cb.values) for ca, cb in zip(a.constants, b.constants))


def uniform_layer(tiles: Sequence[KernelCall]) -> bool:
    """Whether one layer's tiles (one per patch) can share one kernel and its constants."""
    return all(same_constants(tiles[0], t) for t in tiles[1:])
