"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (NHWC, constant size), as TFLM computes them.

Nearest: which input row/column each output row/column takes depends on TFLM's float32
arithmetic (GetNearestNeighbor); the tables are computed here with the same float32
operations, so the target copies pixels by table. Bilinear (int8): TFLM's integer
ResizeBilinearInteger, with its 10-bit scales computed here as TFLM's Eval does.
"""

from __future__ import annotations

import math

import numpy as np

from mcugen.lower.call import ConstArray, KernelCall, StructParam, check_dtype, const_data, in_tensor, out_tensor
from mcugen.lower.call import require
from mcugen.lower.movement import same_quantization
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator


def nearest_index(out_size: int, in_size: int, align_corners: bool, half_pixel: bool) -> list[int]:
    """TFLM's GetNearestNeighbor for every output coordinate, in float32 as the C++ does."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5 if half_pixel else 0.0)
    table = []
    for v in range(out_size):
        pos = float((f32(v) + offset) * scale)
        # TfLiteRound rounds half away from zero; pos >= 0 here
        k = int(math.floor(pos + 0.5)) if align_corners else int(math.floor(pos))
        k = min(k, in_size - 1)
        table.append(max(0, k) if half_pixel else k)
    return table


def _scale_10(in_size: int, out_size: int, align_corners: bool) -> int:
    if align_corners and out_size > 1:
        return ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    return ((1 << 10) * in_size + out_size // 2) // out_size


def bilinear_lower_bound(out_size: int, in_size: int, scale_10: int, half_pixel: bool) -> int:
    """The largest lower neighbour TFLM's ComputeInterpolationValuesInteger picks: it is not
    clamped, and for some sizes (1 -> 65 rows) reaches past the input."""
    top = 0
    for v in range(out_size):
        scaled = v * scale_10 + (scale_10 // 2 - (1 << 9) if half_pixel else 0)
        lower = abs(scaled) // (1 << 10) * (1 if scaled >= 0 else -1)  # C's truncating division
        top = max(top, lower)
    return top


def lower_resize(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    size = [int(v) for v in const_data(in_tensor(graph, op, 1, "size"), "the size").reshape(-1)]
    out = out_tensor(graph, op)
    bilinear = op.opcode == "RESIZE_BILINEAR"
    check_dtype(x, ("int8",) if bilinear else ("int8", "int16", "float32"), "input")
    same_quantization(x, out)
    require(len(x.shape) == 4, "input is not 4-D NHWC")
    require(len(size) == 2 and min(size) > 0, f"size {size}")
    n, h, w, c = (int(d) for d in x.shape)
    oh, ow = size
    require(tuple(out.shape) == (n, oh, ow, c), f"output {list(out.shape)} is not {[n, oh, ow, c]}")
    align = bool(op.option("align_corners", False))
    half = bool(op.option("half_pixel_centers", False))
    require(not (align and half), "align_corners and half_pixel_centers both set")
    fields = {"batches": n, "input_height": h, "input_width": w, "output_height": oh, "output_width": ow,
              "depth": c, "element_bytes": DTYPE_SIZES[x.dtype], "height_scale_10": 0, "width_scale_10": 0,
              "half_pixel_centers": int(half)}
    mode = "align_corners" if align else "half_pixel_centers" if half else "asymmetric"
    summary = f"{h}x{w} -> {oh}x{ow}, {mode}"
    if bilinear:
        fields.update(height_scale_10=_scale_10(h, oh, align), width_scale_10=_scale_10(w, ow, align))
        for what, o, i, sc in (("row", oh, h, fields["height_scale_10"]), ("column", ow, w, fields["width_scale_10"])):
            require(bilinear_lower_bound(o, i, sc, half) < i,
                    f"TFLM's integer resize reads input {what} {bilinear_lower_bound(o, i, sc, half)} of {i} "
                    f"for an output of {o}: past the input")
        call = "mcu_resize_bilinear_s8(&$s_params, (const int8_t *)$in0, (int8_t *)$out0)"
        return KernelCall(op.index, op.opcode, "mcu_resize_bilinear_s8", ("mcu_resize_bilinear_s8.c",),
                          (x.index,), (out.index,), call, structs=(StructParam("params", "mcu_resize_params", fields),),
                          summary=summary)
    tables = (
        ConstArray("y_index", "int32_t", np.asarray(nearest_index(oh, h, align, half), dtype=np.int32), False,
                   "input row of each output row"),
        ConstArray("x_index", "int32_t", np.asarray(nearest_index(ow, w, align, half), dtype=np.int32), False,
                   "input column of each output column"),
    )
    call = "mcu_resize_nearest(&$s_params, $c_y_index, $c_x_index, $in0, $out0)"
    return KernelCall(op.index, op.opcode, "mcu_resize_nearest", ("mcu_resize_nearest.c",), (x.index,), (out.index,),
                      call, constants=tables, structs=(StructParam("params", "mcu_resize_params", fields),),
                      summary=summary)


LOWERINGS = {
    "RESIZE_NEAREST_NEIGHBOR": lower_resize,
    "RESIZE_BILINEAR": lower_resize,
}
