"""The Cortex-M7 UNIDIRECTIONAL_SEQUENCE_LSTM (firmware/kernels/arm/mcu_lstm_s8_arm.c): the
portable lowering (mcugen.lower.recurrent) with its projections as SMLAD dot products.

Generation time folds the zero points into per-gate biases (input: bias - input_zp * row
sums of the input weights; recurrent: - hidden_zp * row sums of the recurrent weights), so
the kernel multiplies raw int8 values; the weights stay as the model has them (no extra
flash beyond the 8 bias rows)."""

from __future__ import annotations

import dataclasses

import numpy as np

from mcugen.lower.arm.variant import SCRATCH_SETUP, ArmVariant
from mcugen.lower.call import ConstArray, KernelCall, LoweringError
from mcugen.lower.recurrent import lower_lstm
from mcugen.model.graph import Graph, Operator

GATES = "ifco"  # TFLite's gate order: input, forget, cell, output


def _accepts(graph: Graph, op: Operator) -> str | None:
    try:
        lower_lstm(graph, op)
    except LoweringError as exc:
        return str(exc)
    return None


def _geometry(graph: Graph, op: Operator) -> tuple[int, int, int]:
    """(rows per step, units, input size)."""
    x = graph.tensors[op.inputs[0]]
    units = int(graph.tensors[op.inputs[18]].shape[-1])
    rows = int(x.shape[1]) if op.option("time_major", False) else 1
    return rows, units, int(x.shape[2])


def _scratch(graph: Graph, op: Operator) -> int:
    rows, units, depth = _geometry(graph, op)
    return (4 * rows * units + (depth + 3) // 4 * 4 + (units + 3) // 4 * 4) * 2


def _row_sums(graph: Graph, t: int) -> np.ndarray:
    return np.asarray(graph.tensors[t].data, dtype=np.int64).sum(axis=1)


def _build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    portable = lower_lstm(graph, op)
    in_zp = int(graph.tensors[op.inputs[0]].quant.zero_point[0])
    h_zp = int(graph.tensors[op.inputs[18]].quant.zero_point[0])
    weights = [c for c in portable.constants if not c.name.startswith("bias_")]
    folded = []
    for g, name in enumerate(GATES):
        bias = np.asarray(graph.tensors[op.inputs[12 + g]].data, dtype=np.int64)
        for kind, values in (("in", bias - in_zp * _row_sums(graph, op.inputs[1 + g])),
                             ("rec", -h_zp * _row_sums(graph, op.inputs[5 + g]))):
            folded.append(ConstArray(f"{kind}_bias_{name}", "int32_t", values.astype(np.int32), False,
                                     f"gate {name} {kind} bias, zero point folded"))

    def refs(prefix: str) -> str:
        return ", ".join(f"$c_{prefix}_{name}" for name in GATES)

    setup = (SCRATCH_SETUP + "\n" f"const mcu_arm_lstm_weights lw = {{ {{ {refs('w_input')} }}, "
             f"{{ {refs('w_recurrent')} }}, {{ {refs('in_bias')} }}, {{ {refs('rec_bias')} }} }};")
    call = ("mcu_lstm_s8_arm(&ctx, &$s_params, &lw, (const int8_t *)$in0, (int8_t *)$in1, (int16_t *)$in2, "
            "(int8_t *)$out0)")
    kc = variant.call(op, portable.inputs, portable.outputs, call, setup=setup,
                      constants=tuple(weights + folded), structs=portable.structs,
                      scratch_bytes=_scratch(graph, op), summary=f"{variant.name}: {portable.summary}")
    # The step's end and a gate's sum are the portable kernel's functions.
    return dataclasses.replace(kc, sources=kc.sources + portable.sources)


LSTM = ArmVariant(
    "lstm", ("UNIDIRECTIONAL_SEQUENCE_LSTM",), "mcu_lstm_s8_arm", ("arm/mcu_lstm_s8_arm.c",),
    handles="UNIDIRECTIONAL_SEQUENCE_LSTM, int8 with int16 cell (as the portable kernel)", pixels_in_flight=None,
    accepts=_accepts, scratch=_scratch, transform=None, build=_build)
