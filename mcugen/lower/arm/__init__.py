"""Cortex-M7 (Armv7E-M DSP) kernel variants for the cubeai style.

    from mcugen.lower.arm import select_arm_variant
    variant = select_arm_variant(graph, op)      # ArmVariant, or None: keep the portable kernel
    if variant is not None:
        call = variant.prepare(graph, op)        # the op's KernelCall on the variant

Which variant runs an op in a network (board, --kernels, int16 filters, the RAM rule)
is decided in one place, mcugen.lower.kernels; `mcugen.lower.lower` applies it.

An `ArmVariant` describes one C kernel of firmware/kernels/arm/: the ops and
geometries it handles (`handles`, `accepts(graph, op)` -> None or the reason not),
its function (`kernel`) and sources, its scratch bytes (`scratch(graph, op)`, the C
*_get_buffer_size()), how many output pixels it has in flight (`pixels_in_flight`,
the planner's overlap contract: 1 for every raster variant, None outside the raster
model) and the weight transform it needs (`transform`, numpy -> numpy). `prepare`
also folds input_offset * sum(filter) into the bias and builds the requantization
(the fast SMMLAR form where provably bit-exact, TFLM's arithmetic otherwise), all
interleaved into the one int32 stream the kernel reads.

Variants, in order of preference (`VARIANTS`), one module per operator family:
    conv1x1_w16 / conv1x1   CONV_2D 1x1            mcu_conv2d_1x1_s8_arm         conv.py
    dw3x3                   DEPTHWISE 3x3          mcu_depthwise_conv2d_3x3_s8_arm  depthwise.py
    dw                      DEPTHWISE any          mcu_depthwise_conv2d_s8_arm   depthwise.py
    conv_w16 / conv         CONV_2D any (and DEPTHWISE with 1 input channel)  mcu_conv2d_s8_arm  conv.py
    fc_w16 / fc             FULLY_CONNECTED        mcu_fully_connected_s8_arm    fc.py
    avgpool                 AVERAGE_POOL_2D        mcu_avgpool_s8_arm            avgpool.py
    add                     ADD (same shapes)      mcu_add_s8_arm                add.py
    gconv                   CONV_2D grouped        mcu_conv2d_grouped_s8_arm     direct.py
    tconv                   TRANSPOSE_CONV         mcu_transpose_conv_s8_arm     direct.py
    bmm                     BATCH_MATMUL (no adj_x)  mcu_batch_matmul_s8_arm     direct.py
    lstm                    UNIDIRECTIONAL_SEQUENCE_LSTM  mcu_lstm_s8_arm        lstm.py
The *_w16 variants store the filter as int16 (twice its flash, ~20 % fewer
instructions); select_arm_variant(..., wide_limit=) takes them for filters up to
that many bytes (DEFAULT_WIDE_LIMIT = 4 KiB; None: always; 0: never).
"""

from __future__ import annotations

from mcugen.lower.arm.add import ADD
from mcugen.lower.arm.avgpool import AVGPOOL
from mcugen.lower.arm.conv import CONV, CONV1X1, CONV1X1_W16, CONV_W16
from mcugen.lower.arm.depthwise import DW, DW3X3
from mcugen.lower.arm.direct import BMM, GCONV, TCONV
from mcugen.lower.arm.fc import FC, FC_W16
from mcugen.lower.arm.lstm import LSTM
from mcugen.lower.arm.variant import HEADERS, ArmVariant
from mcugen.model.graph import Graph, Operator

# The int16-filter ("w16") variants take twice the filter's flash and about 20 % fewer
# instructions. select_arm_variant() takes them for filters up to this many int8
# bytes (the extra flash is at most this much per layer); None: always.
DEFAULT_WIDE_LIMIT = 4 * 1024

# In order of preference: the first variant that accepts an op runs it (the w16
# variants only within select_arm_variant's wide_limit).
VARIANTS: tuple[ArmVariant, ...] = (CONV1X1_W16, CONV1X1, DW3X3, DW, CONV_W16, CONV, FC_W16, FC, AVGPOOL, ADD,
                                   GCONV, TCONV, BMM, LSTM)
BY_NAME: dict[str, ArmVariant] = {v.name: v for v in VARIANTS}


def filter_bytes(graph: Graph, op: Operator) -> int:
    """Bytes of the op's int8 filter (0 for ops without one)."""
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 1 and op.inputs[1] >= 0:
        return graph.tensors[op.inputs[1]].nbytes
    return 0


def select_arm_variant(graph: Graph, op: Operator, wide_limit: int | None = DEFAULT_WIDE_LIMIT) -> ArmVariant | None:
    """The Cortex-M7 variant for op, or None (the portable kernel runs it).

    wide_limit: the largest filter (int8 bytes) for which an int16-filter variant is
    chosen (it stores the filter in twice the flash for ~20 % fewer instructions);
    None: whenever one applies; 0: never."""
    for v in VARIANTS:
        if op.opcode not in v.opcodes:
            continue
        if v.wide and wide_limit is not None and filter_bytes(graph, op) > wide_limit:
            continue
        if v.accepts(graph, op) is None:
            return v
    return None


def why_not(graph: Graph, op: Operator) -> dict[str, str]:
    """Per variant of op's opcode, why it does not run op (diagnostics)."""
    return {v.name: v.accepts(graph, op) or "accepted" for v in VARIANTS if op.opcode in v.opcodes}


__all__ = [
    "ADD", "AVGPOOL", "BMM", "BY_NAME", "CONV", "CONV1X1", "CONV1X1_W16", "CONV_W16", "DEFAULT_WIDE_LIMIT", "DW", "DW3X3",
    "FC", "FC_W16", "GCONV", "HEADERS", "LSTM", "TCONV", "VARIANTS", "ArmVariant", "filter_bytes", "select_arm_variant",
    "why_not",
]
