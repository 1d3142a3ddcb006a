"""The TFLM library targets mcugen builds for, and which one a board needs.

One table for the library builder (mcugen.tflm.library), the arena estimate
(mcugen.tflm.arena, whose struct sizes differ per target) and the code-size lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.boards import Board
from mcugen.errors import McugenError

ARM_TOOLCHAIN_PACKAGES = (
    "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib "
    "(Debian/Ubuntu), or Arm GNU Toolchain from developer.arm.com"
)


@dataclass(frozen=True)
class TargetSpec:
    """How TFLM's Makefile names a target, and which compiler builds it."""

    name: str  # mcugen's name: cortex-m7 | cortex-m7-nofp | host
    make_target: str  # TFLM TARGET
    make_arch: str  # TFLM TARGET_ARCH
    tool_prefix: str  # arm-none-eabi- | "" (host)
    package: str  # what to install when the compiler is missing

    @property
    def cross(self) -> bool:
        return bool(self.tool_prefix)

    @property
    def pointer_size(self) -> int:
        return 4 if self.cross else 8


TARGETS: dict[str, TargetSpec] = {
    "cortex-m7": TargetSpec(
        "cortex-m7", "cortex_m_generic", "cortex-m7+fp", "arm-none-eabi-", ARM_TOOLCHAIN_PACKAGES
    ),
    "cortex-m7-nofp": TargetSpec(
        "cortex-m7-nofp", "cortex_m_generic", "cortex-m7", "arm-none-eabi-", ARM_TOOLCHAIN_PACKAGES
    ),
    "host": TargetSpec("host", "linux", "x86_64", "", "g++ and gcc (Debian/Ubuntu: build-essential)"),
}


def target_for_board(board: Board) -> str:
    """The library target for a mcugen Board (boards.yaml entry)."""
    if board.is_host:
        return "host"
    if board.core != "cortex-m7":
        raise McugenError(
            f"Board {board.name} has core {board.core}; the TFLM library is built for Cortex-M7 only.",
            hint="Choose a Cortex-M7 board or the host target.",
        )
    return "cortex-m7" if board.fpu != "none" else "cortex-m7-nofp"


def get_target(name: str) -> TargetSpec:
    try:
        return TARGETS[name]
    except KeyError:
        raise McugenError(
            f"Unknown TFLM library target {name!r}.", hint=f"Use one of: {', '.join(TARGETS)}."
        ) from None
