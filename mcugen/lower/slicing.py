"""SLICE and STRIDED_SLICE on one portable kernel (mcu_strided_slice).

Begin, end, masks and strides are constants (TFLM requires them to be), so the slice is
resolved here, with TFLM's own bound rules (mcugen.ops.movement.strided_slice_axes), into
the input element the output starts from and one signed step per output dimension.
"""

from __future__ import annotations

import numpy as np

from mcugen.lower.call import MAX_DIMS, KernelCall, LoweringError, StructParam, check_dtype, const_data, in_tensor, out_tensor
from mcugen.lower.call import require, strides
from mcugen.lower.movement import COPY_TYPES, same_quantization
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator
from mcugen.ops.movement import SliceAxis, strided_slice_axes


def _slice_axes(graph: Graph, op: Operator) -> list[SliceAxis]:
    x = in_tensor(graph, op, 0, "input")
    begin = [int(v) for v in const_data(in_tensor(graph, op, 1, "begin"), "the begin").astype(np.int64).reshape(-1)]
    size = [int(v) for v in const_data(in_tensor(graph, op, 2, "size"), "the size").astype(np.int64).reshape(-1)]
    require(len(begin) == len(size) == len(x.shape), "begin and size do not match the input rank")
    axes = []
    for d, b, n in zip(x.shape, begin, size):
        n = int(d) - b if n == -1 else n
        require(0 <= b and 0 <= n and b + n <= int(d), f"slice of {n} from {b} outside a dimension of {d}")
        axes.append(SliceAxis(b, 1, n, False))
    return axes


def lower_slice(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, COPY_TYPES, "input")
    same_quantization(x, out)
    if op.opcode == "SLICE":
        axes = _slice_axes(graph, op)
    else:
        for position, what in ((1, "begin"), (2, "end"), (3, "strides")):
            const_data(in_tensor(graph, op, position, what), f"the {what}")
        try:
            axes = strided_slice_axes(graph, op)
        except ValueError as exc:  # a mask TFLM ignores: refused with the rule's own words
            raise LoweringError(str(exc)) from exc
    require(len(axes) <= MAX_DIMS, f"rank {len(axes)} exceeds {MAX_DIMS}")
    for k, a in enumerate(axes):
        # TFLM's kernel loops from start to start + 1 by the stride: backwards, it writes nothing
        require(not (a.shrink and a.stride < 0), f"shrink_axis_mask on axis {k} with stride {a.stride} "
                "(TFLM's kernel writes no output for it)")
    require(all(a.count > 0 for a in axes), "an empty slice")
    require(tuple(a.count for a in axes if not a.shrink) == tuple(out.shape), "output shape differs from the slice")
    in_strides = strides([int(d) for d in x.shape])
    for a, d in zip(axes, x.shape):  # every index the copy reads lies in the input
        last = a.start + (a.count - 1) * a.stride
        require(0 <= min(a.start, last) and max(a.start, last) < int(d), "slice outside the input")
    lead = MAX_DIMS - len(axes)
    fields = {"out_dims": [1] * lead + [a.count for a in axes],
              "step": [0] * lead + [a.stride * s for a, s in zip(axes, in_strides)],
              "start": sum(a.start * s for a, s in zip(axes, in_strides))}
    call = f"mcu_strided_slice(&$s_params, {DTYPE_SIZES[x.dtype]}, $in0, $out0)"
    summary = ", ".join(f"{a.start}:{a.start + a.count * a.stride}:{a.stride}" + ("(shrunk)" if a.shrink else "")
                        for a in axes)
    return KernelCall(op.index, op.opcode, "mcu_strided_slice", ("mcu_strided_slice.c",), (x.index,), (out.index,),
                      call, structs=(StructParam("params", "mcu_strided_slice_params", fields),), summary=summary)


LOWERINGS = {
    "SLICE": lower_slice,
    "STRIDED_SLICE": lower_slice,
}
