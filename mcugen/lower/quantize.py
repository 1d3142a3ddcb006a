"""(De)quantization: QUANTIZE (float or integer input) and DEQUANTIZE."""

from __future__ import annotations

from mcugen.lower import quant as Q
from mcugen.lower.call import C_TYPES, SHORT, KernelCall, StructParam, c_float, check_dtype, in_tensor, out_tensor
from mcugen.lower.call import qparams, require
from mcugen.model.graph import Graph, Operator


_REQUANT = {
    ("int16", "int8"), ("int8", "int8"), ("int8", "uint8"), ("uint8", "int8"), ("int8", "int16"),
    ("int8", "int32"), ("int16", "int16"), ("int16", "int32"), ("int32", "int8"), ("int32", "int16"),
}


def lower_quantize(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    require(out.quant is not None and len(out.quant.scale) == 1, "output must be quantized per tensor")
    out_scale, out_zp = qparams(out)
    pair = (x.dtype, out.dtype)
    if x.dtype == "float32":
        require(out.dtype in ("int8", "int16"), f"QUANTIZE float32 -> {out.dtype}")
        kernel = f"mcu_quantize_f32_{SHORT[out.dtype]}"
        call = (f"{kernel}({c_float(out_scale)} /* {out_scale!r} */, {out_zp}, {x.size}, "
                f"(const float *)$in0, ({C_TYPES[out.dtype]} *)$out0)")
        return KernelCall(op.index, op.opcode, kernel, ("mcu_quantize.c",), (x.index,), (out.index,), call,
                          summary=f"float32 -> {out.dtype}, {x.size} elements")
    require(pair in _REQUANT, f"QUANTIZE {x.dtype} -> {out.dtype}")
    in_scale, in_zp = qparams(x)
    mult, shift = Q.quantize_multiplier(float(in_scale) / float(out_scale))
    kernel = f"mcu_requantize_{SHORT[x.dtype]}_{SHORT[out.dtype]}"
    structs = (StructParam("params", "mcu_requantize_params", {
        "multiplier": mult, "shift": shift, "input_zero_point": in_zp, "output_zero_point": out_zp}),)
    call = (f"{kernel}(&$s_params, {x.size}, (const {C_TYPES[x.dtype]} *)$in0, "
            f"({C_TYPES[out.dtype]} *)$out0)")
    return KernelCall(op.index, op.opcode, kernel, ("mcu_quantize.c",), (x.index,), (out.index,), call,
                      structs=structs, summary=f"{x.dtype} -> {out.dtype}, {x.size} elements")


def lower_dequantize(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8", "uint8", "int16"), "input")
    check_dtype(out, ("float32",), "output")
    require(x.quant is not None and len(x.quant.scale) == 1, "input must be quantized per tensor")
    scale, zp = qparams(x)
    kernel = f"mcu_dequantize_{SHORT[x.dtype]}_f32"
    call = (f"{kernel}({c_float(scale)} /* {scale!r} */, {zp}, {x.size}, "
            f"(const {C_TYPES[x.dtype]} *)$in0, (float *)$out0)")
    return KernelCall(op.index, op.opcode, kernel, ("mcu_dequantize.c",), (x.index,), (out.index,), call,
                      summary=f"{x.dtype} -> float32, {x.size} elements")


LOWERINGS = {
    "QUANTIZE": lower_quantize,
    "DEQUANTIZE": lower_dequantize,
}
