"""FULLY_CONNECTED on the Cortex-M7 matrix kernels (weights zero point 0), with an
int16-filter ("w16") form."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.arm import layouts as L
from mcugen.lower.arm.variant import MAT_MULT_SOURCE, SCRATCH_SETUP, ArmVariant, dims, flags, has_quant, operand
from mcugen.lower.arm.variant import packed_stream, qp, requant_rows
from mcugen.lower.call import KernelCall, StructParam
from mcugen.model.graph import Graph, Operator, Tensor


@dataclass(frozen=True)
class _Fc:
    x: Tensor
    w: Tensor
    out: Tensor
    bias: np.ndarray
    in_zp: int
    out_zp: int
    act_min: int
    act_max: int
    mults: list[int]
    shifts: list[int]
    batches: int
    units: int
    depth: int


def _fc(graph: Graph, op: Operator) -> _Fc | str:
    x, w, bias_t = operand(graph, op, 0), operand(graph, op, 1), operand(graph, op, 2)
    out = graph.tensors[op.outputs[0]] if op.outputs else None
    if x is None or w is None or out is None:
        return "missing input, weights or output"
    if (x.dtype, w.dtype, out.dtype) != ("int8", "int8", "int8"):
        return "not int8"
    if w.data is None or len(w.shape) != 2 or (bias_t is not None and (bias_t.data is None or bias_t.dtype != "int32")):
        return "weights not a constant 2-D tensor (or bias not int32)"
    if op.option("weights_format", 0) not in (0, "DEFAULT"):
        return "shuffled weights"
    if not (has_quant(x) and has_quant(w) and has_quant(out)):
        return "missing quantization"
    units, depth = (int(d) for d in w.shape)
    if not out.shape or int(out.shape[-1]) != units or x.size % depth:
        return "shapes do not match"
    batches = out.size // units
    if x.size != batches * depth:
        return "input size is not batches x depth"
    in_scale, in_zp = qp(x)
    out_scale, out_zp = qp(out)
    if w.quant.per_channel:
        if len(w.quant.scale) != units:
            return "per-channel scales do not match the units"
        mults, shifts = Q.conv_per_channel(in_scale, w.quant.scale, out_scale, units)
    else:
        if int(w.quant.zero_point[0]) != 0:
            return "weights zero point is not 0"
        m, s = Q.fc_per_tensor(in_scale, w.quant.scale[0], out_scale)
        mults, shifts = [m] * units, [s] * units
    try:
        act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype,
                                              out_scale, out_zp)
    except Q.PrepareError as exc:
        return str(exc)
    bias = (np.asarray(bias_t.data, dtype=np.int64).reshape(-1) if bias_t is not None
            else np.zeros(units, dtype=np.int64))
    return _Fc(x, w, out, bias, in_zp, out_zp, act_min, act_max, mults, shifts, batches, units, depth)


def _fc_requant(f: _Fc) -> tuple[np.ndarray, bool] | None:
    return requant_rows(np.asarray(f.w.data), f.bias, f.in_zp, f.mults, f.shifts, f.out_zp)


def _fc_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "FULLY_CONNECTED":
        return "not FULLY_CONNECTED"
    f = _fc(graph, op)
    if isinstance(f, str):
        return f
    if _fc_requant(f) is None:
        return "accumulator may reach 2^30"
    return None


def _fc_scratch(graph: Graph, op: Operator) -> int:
    depth = int(graph.tensors[op.inputs[1]].shape[1])
    return 16 * ((depth + 3) // 4)


def _fc_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    f = _fc(graph, op)
    assert not isinstance(f, str)
    rq = _fc_requant(f)
    assert rq is not None
    rows, exact = rq
    call = ("mcu_fully_connected_s8_arm(&ctx, &$s_params, &$s_in_dims, (const int8_t *)$in0, "
            "&$s_filter_dims, (const int32_t *)$c_packed, &$s_out_dims, (int8_t *)$out0)")
    stream = L.mm_stream(L.conv1x1_depth(np.asarray(f.w.data)), rows, variant.wide)
    return variant.call(
        op, (f.x.index,), (f.out.index,), call, setup=SCRATCH_SETUP,
        constants=(packed_stream(stream, f"'{f.w.name}' and its requantization, {variant.name} stream"),),
        structs=(
            StructParam("params", "mcu_arm_fc_params", {
                "output_offset": f.out_zp, "act_min": f.act_min, "act_max": f.act_max,
                "flags": flags(exact, variant.wide)}),
            StructParam("in_dims", "mcu_dims", dims(f.batches, 1, 1, f.depth)),
            StructParam("filter_dims", "mcu_dims", dims(f.units, 1, 1, f.depth)),
            StructParam("out_dims", "mcu_dims", dims(f.batches, 1, 1, f.units)),
        ),
        scratch_bytes=_fc_scratch(graph, op),
        summary=f"{variant.name}: {f.batches}x{f.depth} -> {f.units}, {f.batches * f.units * f.depth} MACs",
    )


FC = ArmVariant(
    "fc", ("FULLY_CONNECTED",), "mcu_fully_connected_s8_arm", ("arm/mcu_fully_connected_s8_arm.c", MAT_MULT_SOURCE),
    handles="FULLY_CONNECTED, int8, weights zero point 0, any depth and units", pixels_in_flight=None,
    accepts=_fc_accepts, scratch=_fc_scratch, transform=L.conv1x1_filter, build=_fc_build)

FC_W16 = dataclasses.replace(
    FC, name="fc_w16", handles=FC.handles + "; int16 filter (2x flash)",
    transform=lambda f: L.wide_words(L.conv1x1_depth(f)), wide=True)
