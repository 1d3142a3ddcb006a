"""BATCH_MATMUL on its portable kernel (firmware/kernels/mcu_batch_matmul_s8.c).

TFLM's prepare: lhs, rhs and output int8, ranks 2..5, batch dimensions broadcast (a 1
stretches), per-tensor requantization from GetQuantizedConvolutionMultipler (the float32
product of the two input scales over the output's, in double), the output clamped to
int8 (the op has no fused activation). Either operand may be a constant.
"""

from __future__ import annotations

from mcugen.lower import quant as Q
from mcugen.lower.call import KernelCall, StructParam, check_dtype, in_tensor, numel, out_tensor, qparams, require
from mcugen.model.graph import Graph, Operator

BATCH_DIMS = 3  # TFLM's kernel takes ranks up to 5: three batch dimensions


def _batch_strides(batch: list[int], out_batch: list[int], matrix: int) -> list[int]:
    """Element strides of one operand's batch dimensions (padded to BATCH_DIMS), 0 where broadcast."""
    strides, acc = [0] * BATCH_DIMS, matrix
    for k in range(BATCH_DIMS - 1, -1, -1):
        if batch[k] == out_batch[k]:
            strides[k] = acc if batch[k] > 1 else 0
        else:
            require(batch[k] == 1, f"batch dimensions {batch} do not broadcast to {out_batch}")
        acc *= batch[k]
    return strides


def lower_batch_matmul(graph: Graph, op: Operator) -> KernelCall:
    lhs = in_tensor(graph, op, 0, "lhs")
    rhs = in_tensor(graph, op, 1, "rhs")
    out = out_tensor(graph, op)
    for t, what in ((lhs, "lhs"), (rhs, "rhs"), (out, "output")):
        check_dtype(t, ("int8",), what)
        require(2 <= len(t.shape) <= 5, f"{what} of rank {len(t.shape)} (TFLM takes 2 to 5)")
        require(t.quant is None or len(t.quant.scale) <= 1, f"{what} is quantized per channel")
    adj_x, adj_y = bool(op.option("adj_x", False)), bool(op.option("adj_y", False))
    ls, rs = [int(d) for d in lhs.shape], [int(d) for d in rhs.shape]
    rows, depth = (ls[-1], ls[-2]) if adj_x else (ls[-2], ls[-1])
    rdepth, cols = (rs[-1], rs[-2]) if adj_y else (rs[-2], rs[-1])
    require(depth == rdepth, f"lhs depth {depth} differs from rhs depth {rdepth}")
    lb = [1] * (BATCH_DIMS - len(ls) + 2) + ls[:-2]
    rb = [1] * (BATCH_DIMS - len(rs) + 2) + rs[:-2]
    ob = [max(a, b) for a, b in zip(lb, rb)]
    rank = max(len(ls), len(rs))
    expected = ob[BATCH_DIMS - (rank - 2):] + [rows, cols]
    require([int(d) for d in out.shape] == expected, f"output shape {list(out.shape)} (expected {expected})")
    lhs_scale, lhs_zp = qparams(lhs)
    rhs_scale, rhs_zp = qparams(rhs)
    out_scale, out_zp = qparams(out)
    mult, shift = Q.fc_per_tensor(lhs_scale, rhs_scale, out_scale)
    params = {
        "batch": ob,
        "lhs_batch_stride": _batch_strides(lb, ob, rows * depth),
        "rhs_batch_stride": _batch_strides(rb, ob, depth * cols),
        "rows": rows, "cols": cols, "depth": depth,
        # lhs [.., rows, depth] or, adj_x, [.., depth, rows]; rhs [.., depth, cols] or, adj_y, [.., cols, depth]
        "lhs_row_stride": 1 if adj_x else depth, "lhs_depth_stride": rows if adj_x else 1,
        "rhs_depth_stride": 1 if adj_y else cols, "rhs_col_stride": depth if adj_y else 1,
        "lhs_offset": -lhs_zp, "rhs_offset": -rhs_zp, "output_offset": out_zp,
        "multiplier": mult, "shift": shift, "act_min": -128, "act_max": 127,
    }
    call = "mcu_batch_matmul_s8(&$s_params, (const int8_t *)$in0, (const int8_t *)$in1, (int8_t *)$out0)"
    macs = numel(out.shape) * depth
    summary = (f"{'x'.join(map(str, ob))} batches of {rows}x{depth} @ {depth}x{cols}"
               f"{' adj_x' if adj_x else ''}{' adj_y' if adj_y else ''}, {macs} MACs")
    return KernelCall(op.index, op.opcode, "mcu_batch_matmul_s8", ("mcu_batch_matmul_s8.c",),
                      (lhs.index, rhs.index), (out.index,), call,
                      structs=(StructParam("params", "mcu_batch_matmul_params", params),), summary=summary)


LOWERINGS = {
    "BATCH_MATMUL": lower_batch_matmul,
}
