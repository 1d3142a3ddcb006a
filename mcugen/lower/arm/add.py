"""ADD on the Cortex-M7 kernel: both inputs of the output's shape, each input rescaled
through a 256-entry table (no broadcasting)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.arm import fixedpoint as FP
from mcugen.lower.arm.variant import REQUANT_EXACT, ArmVariant, has_quant, operand, qp
from mcugen.lower.call import ConstArray, CRef, KernelCall, StructParam
from mcugen.model.graph import Graph, Operator, Tensor


def add_tables(zp1: int, zp2: int, mp: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Doubled rescaled inputs, t[v + 128] = 2 * MBQM((v - zp) << left_shift, m, s)."""
    ls = int(mp["left_shift"])
    values = range(-128, 128)
    t1 = [2 * FP.mbqm(FP.wrap32((v - zp1) << ls), int(mp["input1_multiplier"]), int(mp["input1_shift"]))
          for v in values]
    t2 = [2 * FP.mbqm(FP.wrap32((v - zp2) << ls), int(mp["input2_multiplier"]), int(mp["input2_shift"]))
          for v in values]
    return np.asarray(t1, dtype=np.int64), np.asarray(t2, dtype=np.int64)


@dataclass(frozen=True)
class _Add:
    a: Tensor
    b: Tensor
    out: Tensor
    t1: np.ndarray
    t2: np.ndarray
    row: FP.FoldedChannel
    out_zp: int
    act_min: int
    act_max: int


def _add(graph: Graph, op: Operator) -> _Add | str:
    a, b = operand(graph, op, 0), operand(graph, op, 1)
    out = graph.tensors[op.outputs[0]] if op.outputs else None
    if a is None or b is None or out is None:
        return "missing input or output"
    if (a.dtype, b.dtype, out.dtype) != ("int8", "int8", "int8"):
        return "not int8"
    if not (tuple(a.shape) == tuple(b.shape) == tuple(out.shape)):
        return "broadcasting"
    if a.is_constant or b.is_constant:
        return "constant operand"
    if not (has_quant(a) and has_quant(b) and has_quant(out)):
        return "missing quantization"
    (s1, z1), (s2, z2), (so, zo) = qp(a), qp(b), qp(out)
    try:
        mp = Q.add_params(s1, s2, so)
        act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype, so, zo)
    except Q.PrepareError as exc:
        return str(exc)
    t1, t2 = add_tables(z1, z2, mp)
    bound = (int(np.abs(t1).max()) + int(np.abs(t2).max())) // 2
    row = FP.fold_channel(0, int(mp["output_multiplier"]), int(mp["output_shift"]), zo, bound)
    if row is None:
        return "sum may reach 2^30"
    return _Add(a, b, out, t1, t2, row, zo, act_min, act_max)


def _add_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "ADD":
        return "not ADD"
    r = _add(graph, op)
    return r if isinstance(r, str) else None


def _add_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    r = _add(graph, op)
    assert not isinstance(r, str)
    row = r.row
    fields = {
        "table1": CRef("table1"), "table2": CRef("table2"),
        "mult": row.mult, "add": row.add, "shift": row.shift, "output_offset": r.out_zp,
        "act_min": r.act_min, "act_max": r.act_max, "flags": 0 if row.fast else REQUANT_EXACT,
    }
    call = (f"mcu_add_s8_arm(&$s_params, {r.out.size}, (const int8_t *)$in0, (const int8_t *)$in1, "
            "(int8_t *)$out0)")
    return variant.call(
        op, (r.a.index, r.b.index), (r.out.index,), call,
        constants=(
            ConstArray("table1", "int32_t", r.t1.astype(np.int32), False, "2 * rescaled input 1, v = -128..127"),
            ConstArray("table2", "int32_t", r.t2.astype(np.int32), False, "2 * rescaled input 2, v = -128..127"),
        ),
        structs=(StructParam("params", "mcu_arm_add_params", fields),),
        summary=f"add: {r.out.size} elements (tables)",
    )


ADD = ArmVariant(
    "add", ("ADD",), "mcu_add_s8_arm", ("arm/mcu_add_s8_arm.c",),
    handles="ADD, int8, both inputs of the output's shape (no broadcasting)", pixels_in_flight=None,
    accepts=_add_accepts, scratch=lambda graph, op: 0, transform=None, build=_add_build)
