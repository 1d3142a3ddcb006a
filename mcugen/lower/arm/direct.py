"""TRANSPOSE_CONV, grouped CONV_2D and BATCH_MATMUL on the Cortex-M7: the portable kernels'
loops and parameters (the op's portable lowering, unchanged), with the dot products on SMLAD
(firmware/kernels/arm/mcu_arm_dot.h). Nothing is reordered or folded ahead of time, so the
call is the portable call with the variant's function (BATCH_MATMUL's also takes a scratch
for a rhs whose columns are strided)."""

from __future__ import annotations

import dataclasses

from mcugen.lower.arm.variant import SCRATCH_SETUP, ArmVariant
from mcugen.lower.call import KernelCall, LoweringError
from mcugen.lower.conv import LOWERINGS as CONV_LOWERINGS
from mcugen.lower.matmul import lower_batch_matmul
from mcugen.lower.transpose_conv import lower_transpose_conv
from mcugen.model.graph import Graph, Operator

DOT_HEADER = "arm/mcu_arm_dot.h"
MIN_DEPTH = 4  # one SMLAD word: below it the scalar tail does all the work and the variant does not pay


def _portable(graph: Graph, op: Operator) -> KernelCall:
    if op.opcode == "TRANSPOSE_CONV":
        return lower_transpose_conv(graph, op)
    if op.opcode == "BATCH_MATMUL":
        return lower_batch_matmul(graph, op)
    return CONV_LOWERINGS["CONV_2D"](graph, op)


def _depth(graph: Graph, op: Operator) -> int:
    """The length of the dot products: the filter's depth (its last dimension); BATCH_MATMUL's lhs
    depth (its last dimension without adj_x, the only case its variant takes)."""
    return int(graph.tensors[op.inputs[0 if op.opcode == "BATCH_MATMUL" else 1]].shape[-1])


def _accepts(opcode: str, grouped: bool):
    def accepts(graph: Graph, op: Operator) -> str | None:
        if op.opcode != opcode:
            return f"not {opcode}"
        try:
            _portable(graph, op)
        except (LoweringError, IndexError, ValueError) as exc:
            return f"no portable kernel either ({exc})"
        if opcode == "BATCH_MATMUL" and op.option("adj_x", False):
            return "adj_x (lhs rows strided)"
        if grouped and _depth(graph, op) == int(graph.tensors[op.inputs[0]].shape[3]):
            return "not grouped (groups = 1 runs on the matrix variants)"
        if _depth(graph, op) < MIN_DEPTH:
            return f"filter depth {_depth(graph, op)} < {MIN_DEPTH}"
        return None
    return accepts


def _build(portable_name: str):
    def build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
        call = _portable(graph, op)
        return dataclasses.replace(call, kernel=variant.kernel, sources=variant.sources + variant.headers,
                                   call=call.call.replace(f"{portable_name}(", f"{variant.kernel}(", 1),
                                   variant=variant.name)
    return build


TCONV = ArmVariant(
    "tconv", ("TRANSPOSE_CONV",), "mcu_transpose_conv_s8_arm", ("arm/mcu_transpose_conv_s8_arm.c",),
    handles="TRANSPOSE_CONV, int8, any filter, stride and padding, input depth >= 4", pixels_in_flight=None,
    accepts=_accepts("TRANSPOSE_CONV", False), scratch=lambda graph, op: 0, transform=None,
    build=_build("mcu_transpose_conv_s8"), headers=(DOT_HEADER, "arm/mcu_arm_kernels.h", "arm/mcu_arm_requant.h",
                                                    "arm/mcu_arm_acle.h"))

GCONV = ArmVariant(
    "gconv", ("CONV_2D",), "mcu_conv2d_grouped_s8_arm", ("arm/mcu_conv2d_grouped_s8_arm.c",),
    handles="CONV_2D, int8, groups > 1, filter depth >= 4, any filter, stride, dilation and padding",
    pixels_in_flight=1, accepts=_accepts("CONV_2D", True), scratch=lambda graph, op: 0, transform=None,
    build=_build("mcu_conv2d_s8"), headers=(DOT_HEADER, "arm/mcu_arm_kernels.h", "arm/mcu_arm_requant.h",
                                            "arm/mcu_arm_acle.h"))


def _bmm_params(call: KernelCall) -> dict:
    return dict(next(st.fields for st in call.structs if st.name == "params"))


def _bmm_scratch(graph: Graph, op: Operator) -> int:
    """mcu_batch_matmul_s8_arm_get_buffer_size: one rhs matrix transposed, unless adj_y."""
    p = _bmm_params(lower_batch_matmul(graph, op))
    return 0 if p["rhs_depth_stride"] == 1 else p["depth"] * p["cols"]


def _bmm_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    call = _portable(graph, op)
    scratch = _bmm_scratch(graph, op)
    ctx = "&ctx" if scratch else "NULL"
    return dataclasses.replace(call, kernel=variant.kernel, sources=variant.sources + variant.headers,
                               call=call.call.replace("mcu_batch_matmul_s8(", f"{variant.kernel}({ctx}, ", 1),
                               setup=SCRATCH_SETUP if scratch else "", scratch_bytes=scratch, variant=variant.name)


BMM = ArmVariant(
    "bmm", ("BATCH_MATMUL",), "mcu_batch_matmul_s8_arm", ("arm/mcu_batch_matmul_s8_arm.c",),
    handles="BATCH_MATMUL, int8, no adj_x, depth >= 4 (no adj_y: one rhs matrix transposed in scratch)",
    pixels_in_flight=None, accepts=_accepts("BATCH_MATMUL", False), scratch=_bmm_scratch, transform=None,
    build=_bmm_build, headers=(DOT_HEADER, "arm/mcu_arm_kernels.h", "arm/mcu_arm_requant.h", "arm/mcu_arm_acle.h"))
