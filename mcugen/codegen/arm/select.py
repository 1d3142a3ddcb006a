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
