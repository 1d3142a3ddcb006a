"""AVERAGE_POOL_2D on the Cortex-M7 kernel (16-bit lane sums up to 255 taps, 32-bit beyond)."""

from __future__ import annotations

from mcugen.lower import quant as Q
from mcugen.lower.arm.variant import ArmVariant, dims, has_quant, operand, qp
from mcugen.lower.call import KernelCall, StructParam
from mcugen.model.graph import Graph, Operator


def _avgpool_accepts(graph: Graph, op: Operator) -> str | None:
    if op.opcode != "AVERAGE_POOL_2D":
        return "not AVERAGE_POOL_2D"
    x, out = operand(graph, op, 0), graph.tensors[op.outputs[0]]
    if x is None or x.dtype != "int8" or out.dtype != "int8" or len(x.shape) != 4 or len(out.shape) != 4:
        return "not a 4-D int8 pool"
    if not (has_quant(x) and has_quant(out)):
        return "missing quantization"
    (si, zi), (so, zo) = qp(x), qp(out)
    if abs(si - so) > 1e-6 or zi != zo:
        return "input and output quantization differ"
    return None


def _avgpool_build(variant: ArmVariant, graph: Graph, op: Operator) -> KernelCall:
    x, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    fh, fw = op.option("filter_height", 1), op.option("filter_width", 1)
    sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
    kind = op.option("padding", "VALID")
    _, pad_h = Q.op_padding(op, "h", sh, 1, int(x.shape[1]), fh, "VALID")
    _, pad_w = Q.op_padding(op, "w", sw, 1, int(x.shape[2]), fw, "VALID")
    scale, zp = qp(out)
    act_min, act_max = Q.activation_range(op.option("fused_activation_function", "NONE"), out.dtype, scale, zp)
    call = "mcu_avgpool_s8_arm(NULL, &$s_params, &$s_in_dims, (const int8_t *)$in0, &$s_out_dims, (int8_t *)$out0)"
    return variant.call(
        op, (x.index,), (out.index,), call,
        structs=(
            StructParam("params", "mcu_pool_params", {"stride_w": sw, "stride_h": sh, "pad_w": pad_w, "pad_h": pad_h,
                                                      "filter_w": fw, "filter_h": fh, "act_min": act_min,
                                                      "act_max": act_max}),
            StructParam("in_dims", "mcu_dims", dims(*x.shape)),
            StructParam("out_dims", "mcu_dims", dims(*out.shape)),
        ),
        summary=f"avgpool: {fh}x{fw} stride {sh}x{sw} {kind}",
    )


AVGPOOL = ArmVariant(
    "avgpool", ("AVERAGE_POOL_2D",), "mcu_avgpool_s8_arm", ("arm/mcu_avgpool_s8_arm.c",),
    handles="AVERAGE_POOL_2D, int8 (16-bit lane sums up to 255 taps, 32-bit beyond)", pixels_in_flight=1,
    accepts=_avgpool_accepts, scratch=lambda graph, op: 0, transform=None, build=_avgpool_build)
