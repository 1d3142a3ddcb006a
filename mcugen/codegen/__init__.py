"""Code generation: one module per style (cubeai here; tflm in mcugen.tflm).

For `mcugen generate --style cubeai`: `generate_cubeai(graph, board, out_dir, name=, force=)`;
`unsupported_ops(graph)` lists what the style cannot run (op index, opcode, reason).
"""

from mcugen.codegen.cubeai import (
    GeneratedProject,
    IOTensor,
    data_sizes,
    generate_cubeai,
    lower,
    render_project,
    require_supported,
    unsupported_ops,
)
from mcugen.codegen.lowering import CUBEAI_OPS, KernelCall, LoweringError, lower_graph, lower_op

__all__ = [
    "CUBEAI_OPS", "GeneratedProject", "IOTensor", "KernelCall", "LoweringError", "data_sizes",
    "generate_cubeai", "lower", "lower_graph", "lower_op", "render_project", "require_supported", "unsupported_ops",
]
