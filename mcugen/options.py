"""The choices `generate`, `estimate` and `validate` share: one dataclass for the CLI's
flags, checked once, read by the pipeline (mcugen.pipeline) and the cubeai generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from mcugen.boards import Board
from mcugen.errors import McugenError
from mcugen.firmware import FirmwareOptions
from mcugen.lower.arm import DEFAULT_WIDE_LIMIT
from mcugen.lower.kernels import Kernels
from mcugen.names import check_network_name
from mcugen.ops.base import STYLES
from mcugen.tflm.source import KERNEL_SETS

C_APIS = ("st-ai", "legacy", "legacy-6", "both")
LAYOUTS = ("firmware", "library")  # a complete firmware project, or the network alone (mcugen.codegen.library)


@dataclass(frozen=True)
class GenerateOptions:
    """Everything but the model and the board.

    style: cubeai (mcugen's own kernels, X-CUBE-AI's API) or tflm. cubeai only: name (the
    network's C name), c_api ("st-ai", "legacy", "legacy-6", "both"), inputs/outputs_allocation
    (False: their own buffers outside the activations), pools (memory regions for the
    activations, most used tensors first: "dtcm,axisram"; REGION:SIZE caps a pool),
    patch (patch-based inference of the first layers: "auto", "4x3", "4x3@7"; see
    mcugen.patch.search), wide_limit (int16 filters up to this many bytes per layer).
    kernels: cubeai simd|portable, tflm cmsis_nn|reference (default: per board).
    placement: KEY=REGION overrides (code, weights, arena, data, stack); profile: time
    every node with the board's counter; baud: the UART's rate in the firmware (default:
    boards.yaml); tflm_root: the TFLM tree (tflm); layout: "firmware" (a complete project) or
    "library" (cubeai: the network alone, with CMake/Make/Zephyr/PlatformIO files; tflm: the
    model, its resolver and the TFLM library, with CMake/Make files);
    detection_postprocess: a SPEC appending TFLite_Detection_PostProcess to an SSD's raw
    outputs in mcugen's graph (cubeai; mcugen.model.detection_append, pipeline.load_checked)."""

    style: str = "cubeai"
    name: str = "network"
    kernels: str | None = None
    wide_limit: int | None = DEFAULT_WIDE_LIMIT
    c_api: str = "st-ai"
    inputs_allocation: bool = True
    outputs_allocation: bool = True
    pools: str | tuple[str, ...] | None = None
    patch: str | None = None
    placement: Mapping[str, str] = field(default_factory=dict)
    profile: bool = False
    baud: int | None = None
    tflm_root: str | Path | None = None
    layout: str = "firmware"
    detection_postprocess: str | None = None

    def checked(self) -> "GenerateOptions":
        """The options, or a McugenError naming what is wrong (before anything is computed)."""
        if self.style not in STYLES:
            raise McugenError(f"Unknown style '{self.style}'.", hint="Use --style cubeai or --style tflm.")
        cubeai_only = {"--c-api": self.c_api != "st-ai", "--no-inputs-allocation": not self.inputs_allocation,
                       "--no-outputs-allocation": not self.outputs_allocation, "--pools": bool(self.pools),
                       "--patch": bool(self.patch), "--name": self.name != "network",
                       "--detection-postprocess": bool(self.detection_postprocess)}
        if self.baud is not None and (isinstance(self.baud, bool) or not isinstance(self.baud, int) or self.baud < 1):
            raise McugenError(f"--baud {self.baud!r} is not a baud rate.", hint="Give a positive number, as 115200.")
        if self.layout not in LAYOUTS:
            raise McugenError(f"Unknown layout '{self.layout}'.", hint="Use --layout firmware or --layout library.")
        if self.style != "cubeai":
            if any(cubeai_only.values()):
                raise McugenError(f"{', '.join(k for k, v in cubeai_only.items() if v)}: cubeai style only.",
                                  hint="Drop these options or use --style cubeai.")
            if self.kernels is not None and self.kernels not in KERNEL_SETS:
                raise McugenError(f"Unknown kernel set '{self.kernels}' for the tflm style.",
                                  hint="Use --kernels cmsis_nn (default on Cortex-M7) or --kernels reference; "
                                  "simd/portable are for --style cubeai.")
            return self
        check_network_name(self.name)
        if self.c_api not in C_APIS:
            raise McugenError(f"Unknown client API '{self.c_api}'.",
                              hint="Use --c-api st-ai, legacy, legacy-6 or both.")
        self.cubeai_kernels()
        return self

    def cubeai_kernels(self) -> Kernels:
        """The cubeai kernel policy (mcugen.lower.kernels)."""
        return Kernels.named(self.kernels, self.wide_limit)

    def tflm_kernels(self, board: Board) -> str:
        """The TFLM kernel set: --kernels, else CMSIS-NN on Cortex-M and the reference kernels on the host."""
        return self.kernels or ("reference" if board.is_host else "cmsis_nn")

    def firmware(self) -> FirmwareOptions:
        """The firmware build's options (profiling builds time every node with the board's counter)."""
        return FirmwareOptions(placement=dict(self.placement),
                               defines={"MCUGEN_PROFILE": "1"} if self.profile else {}, uart_baud=self.baud or 0)


__all__ = ["C_APIS", "LAYOUTS", "STYLES", "GenerateOptions"]
