"""The hook into the cubeai code generator: a KernelSelector that runs every op it can
on a Cortex-M7 variant.

    from mcugen.codegen import generate_cubeai
    from mcugen.codegen.arm.select import arm_kernel_selector, NETWORK_INCLUDE
    generate_cubeai(graph, "qemu-m7", out_dir, select_kernel=arm_kernel_selector())

The generated network.c must also `#include NETWORK_INCLUDE` ("arm/mcu_arm_kernels.h")
for the variants' parameter structs: templates/cubeai/network.c.j2 includes only
mcu_kernels.h today (see `patch_network_source` for the one line it needs).
"""

from __future__ import annotations

from typing import Any, Callable

from mcugen.codegen.arm.variants import DEFAULT_WIDE_LIMIT, select_arm_variant
from mcugen.model.graph import Graph, Operator

NETWORK_INCLUDE = "arm/mcu_arm_kernels.h"


def arm_kernel_selector(wide_limit: int | None = DEFAULT_WIDE_LIMIT) -> Callable[[Graph, Operator], Any]:
    """select_kernel for mcugen.codegen.cubeai: the op's KernelCall on its Cortex-M7 variant
    (sources and headers under firmware/kernels/arm/), or None to keep the portable kernel.
    wide_limit: as select_arm_variant (int16 filters up to this many int8 filter bytes)."""

    def select(graph: Graph, op: Operator) -> Any:
        variant = select_arm_variant(graph, op, wide_limit)
        return None if variant is None else variant.prepare(graph, op).to_kernel_call(op)

    return select


def patch_network_source(text: str) -> str:
    """network.c with the Cortex-M7 kernels' header included after mcu_kernels.h."""
    line = '#include "mcu_kernels.h"\n'
    if f'#include "{NETWORK_INCLUDE}"' in text or line not in text:
        return text
    return text.replace(line, line + f'#include "{NETWORK_INCLUDE}"\n', 1)


# The matrix kernels of mcu_arm_mat_mult_s8.c by the calls that reach them, and the
# MCU_ARM_MM_VARIANTS bit of each (fast, clamp, exact; +3 with int16 filters).
_MM_2PX, _MM_1X1, _MM_1PX = 0, 6, 12
_MM_USERS = {
    "mcu_conv2d_1x1_s8_arm": (_MM_1X1, _MM_1PX),
    "mcu_conv2d_s8_arm": (_MM_2PX, _MM_1PX),
    "mcu_fully_connected_s8_arm": (_MM_2PX, _MM_1PX),
}
ARM_CONFIG_HEADER = "arm/mcu_arm_config.h"


def mat_mult_variants(calls) -> int:
    """MCU_ARM_MM_VARIANTS for a network: the matrix-kernel variants its calls can reach,
    from each call's flags and activation range (as mm_variant() picks them in C)."""
    mask = 0
    calls = [part for call in calls for part in (call.parts or (call,))]
    for call in calls:
        users = _MM_USERS.get(call.kernel)
        if users is None:
            continue
        params = next(s.fields for s in call.structs if "flags" in s.fields)
        wide = bool(params["flags"] & 2)
        exact = bool(params["flags"] & 1)
        clamp = params["act_min"] > -128 or params["act_max"] < 127
        variant = (3 if wide else 0) + (2 if exact else 1 if clamp else 0)
        block, one_px = users
        mask |= 1 << (block + variant)
        mask |= 1 << (one_px + (1 if wide else 0))
    return mask


def arm_config_header(calls) -> str:
    return (
        "/* mcu_arm_config.h: the matrix-kernel variants this network's layers use; the\n"
        " * others are not compiled in (see mcu_arm_mat_mult_s8.c). */\n"
        "#ifndef MCU_ARM_CONFIG_H\n#define MCU_ARM_CONFIG_H\n"
        f"#define MCU_ARM_MM_VARIANTS 0x{mat_mult_variants(calls):04X}u\n"
        "#endif\n"
    )


# The SIMD variants may need scratch (im2col columns, expanded inputs); they must not
# cost the firmware more than this share of the activation RAM the portable kernels
# need, or this many bytes on small models, whichever is more.
MAX_RAM_GROWTH = 0.02
MAX_RAM_GROWTH_BYTES = 1024


def ram_bounded(graph: Graph, select: Callable[[Graph, Operator], Any] | None,
                max_growth: float = MAX_RAM_GROWTH) -> Callable[[Graph, Operator], Any] | None:
    """`select`, minus the variants whose scratch buffers would grow the activation plan by
    more than `max_growth` (or 1 KiB) over the portable kernels' plan (largest scratch dropped first).
    Speed is worth little to a model that no longer fits: e.g. a batch-1 FULLY_CONNECTED
    over 4000 inputs would expand them into 16 KB of int16 pairs."""
    if select is None:
        return None
    from mcugen.codegen import lower_op  # noqa: PLC0415
    from mcugen.planner import plan_memory  # noqa: PLC0415

    portable = {op.index: lower_op(graph, op).scratch_bytes for op in graph.operators}
    chosen = {op.index: select(graph, op) for op in graph.operators}
    base = plan_memory(graph, {i: s for i, s in portable.items() if s}).arena_size
    budget = max(base * (1 + max_growth), base + MAX_RAM_GROWTH_BYTES)
    dropped: set[int] = set()

    def scratch() -> dict[int, int]:
        out = {}
        for i, call in chosen.items():
            size = portable[i] if (call is None or i in dropped) else call.scratch_bytes
            if size:
                out[i] = size
        return out

    while plan_memory(graph, scratch()).arena_size > budget:
        candidates = [i for i, c in chosen.items() if c is not None and i not in dropped and c.scratch_bytes]
        if not candidates:
            break
        dropped.add(max(candidates, key=lambda i: chosen[i].scratch_bytes))
    if not dropped:
        return select

    def bounded(g: Graph, op: Operator) -> Any:
        return None if op.index in dropped else select(g, op)

    return bounded
