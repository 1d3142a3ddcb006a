"""Code generation: one module per style (cubeai here; tflm through mcugen.tflm's library).

For `mcugen generate --style cubeai`: `generate_cubeai(lowered_or_graph, board, out_dir, options)`
(mcugen.lower makes the LoweredGraph; mcugen.options.GenerateOptions holds the choices).
"""

from mcugen.codegen.cubeai import GeneratedProject, IOTensor, generate_cubeai, render_project

__all__ = ["GeneratedProject", "IOTensor", "generate_cubeai", "render_project"]
