"""Which matrix-kernel variants a network's calls reach: MCU_ARM_MM_VARIANTS.

mcu_arm_mat_mult_s8.c holds 14 inner loops (two pixels or one, fast, clamping or exact
requantization, int8 or int16 filters); a generated project compiles in only those
its layers use, named by the bits of MCU_ARM_MM_VARIANTS in arm/mcu_arm_config.h.
The code-size estimate (mcugen.codesize) counts the same bits.
"""

from __future__ import annotations

from typing import Iterable

from mcugen.lower.arm.variant import REQUANT_EXACT, WIDE
from mcugen.lower.call import KernelCall

ARM_CONFIG_HEADER = "arm/mcu_arm_config.h"
NETWORK_INCLUDE = "arm/mcu_arm_kernels.h"  # the variants' parameter structs, for network.c

# The matrix kernels by the calls that reach them, and the MCU_ARM_MM_VARIANTS bit of
# each (fast, clamp, exact; +3 with int16 filters).
_MM_2PX, _MM_1X1, _MM_1PX = 0, 6, 12
_MM_USERS = {
    "mcu_conv2d_1x1_s8_arm": (_MM_1X1, _MM_1PX),
    "mcu_conv2d_s8_arm": (_MM_2PX, _MM_1PX),
    "mcu_fully_connected_s8_arm": (_MM_2PX, _MM_1PX),
}


def mat_mult_variants(calls: Iterable[KernelCall]) -> int:
    """MCU_ARM_MM_VARIANTS for a network: the matrix-kernel variants its calls can reach,
    from each call's flags and activation range (as mm_variant() picks them in C)."""
    mask = 0
    for call in (part for call in calls for part in (call.parts or (call,))):
        users = _MM_USERS.get(call.kernel)
        if users is None:
            continue
        params = next(s.fields for s in call.structs if "flags" in s.fields)
        wide = bool(params["flags"] & WIDE)
        exact = bool(params["flags"] & REQUANT_EXACT)
        clamp = params["act_min"] > -128 or params["act_max"] < 127
        variant = (3 if wide else 0) + (2 if exact else 1 if clamp else 0)
        block, one_px = users
        mask |= 1 << (block + variant)
        mask |= 1 << (one_px + (1 if wide else 0))
    return mask


def arm_config_header(calls: Iterable[KernelCall]) -> str:
    return (
        "/* mcu_arm_config.h: the matrix-kernel variants this network's layers use; the\n"
        " * others are not compiled in (see mcu_arm_mat_mult_s8.c). */\n"
        "#ifndef MCU_ARM_CONFIG_H\n#define MCU_ARM_CONFIG_H\n"
        f"#define MCU_ARM_MM_VARIANTS 0x{mat_mult_variants(calls):04X}u\n"
        "#endif\n"
    )
