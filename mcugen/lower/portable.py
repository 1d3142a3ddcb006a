"""The portable kernel of every operator the cubeai style runs: one table, one entry point.

`lower_op(graph, op)` validates one operator, computes its requantization
parameters exactly as TFLM's prepare code does (mcugen.lower.quant) and returns
the KernelCall of its portable C kernel (firmware/kernels/); LoweringError says
why the op cannot run. Each op family lowers in its own module; a new operator
adds its function there (or a new family module) and its opcode to the family's
LOWERINGS. Whether a faster Cortex-M7 variant runs the op instead is decided
afterwards, in mcugen.lower.kernels.
"""

from __future__ import annotations

from typing import Callable

from mcugen.lower import binary, conv, detection, elementwise, int16, matmul, movement, pool, quantize, recurrent
from mcugen.lower import reduce, resize, slicing, transpose_conv, unary
from mcugen.lower import quant as Q
from mcugen.lower.call import KernelCall, LoweringError
from mcugen.model.graph import Graph, Operator
from mcugen.ops.generic import op_name

LOWERINGS: dict[str, Callable[[Graph, Operator], KernelCall]] = {
    opcode: fn
    for family in (conv, pool, elementwise, binary, unary, reduce, movement, quantize, recurrent, resize, slicing,
                   transpose_conv, matmul, detection)
    for opcode, fn in family.LOWERINGS.items()
}


def lower_op(graph: Graph, op: Operator) -> KernelCall:
    """The KernelCall of op's portable kernel; LoweringError when cubeai cannot run it."""
    # 16x8 lowers apart; a custom op's lowering is keyed CUSTOM:<name>
    fn = int16.LOWERINGS[op.opcode] if int16.handles(graph, op) else LOWERINGS.get(op_name(op))
    if fn is None:
        raise LoweringError("no cubeai kernel for this operator")
    try:
        return fn(graph, op)
    except LoweringError:
        raise
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise LoweringError(f"malformed operator ({type(exc).__name__}: {exc})") from exc
