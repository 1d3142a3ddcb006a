"""What TFLM's interpreter runs, operator by operator: the nodes a profiled tflm build times.

TFLM invokes every operator of the model's main subgraph in the flatbuffer's order, the
shape operators mcugen folds at load time included. A profiling build (`--profile`) counts
the board's counter around each invoke (templates/tflm/main.cc.j2), so counter n belongs to
operator n of that list; `tflm_nodes` gives each its name, the kernel TFLM links for it and,
where mcugen's graph keeps the operator, its index there and its MACs.
"""

from __future__ import annotations

from typing import Any

from mcugen.model.graph import Graph
from mcugen.model.loader import parse_model
from mcugen.ops import op_macs
from mcugen.ops.generic import op_name

# The operators whose registration comes from tensorflow/lite/micro/kernels/cmsis_nn/*.cc in the
# pinned tree (add, batch_matmul, conv, depthwise_conv, fully_connected, maximum_minimum, mul,
# pad, pooling, softmax, svdf, transpose, transpose_conv, unidirectional_sequence_lstm) when the
# library is built with OPTIMIZED_KERNEL_DIR=cmsis_nn; every other operator runs the reference
# kernel. tests/test_tflm_nodes.py checks this set against the tree.
CMSIS_NN_OPS = frozenset({
    "ADD", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAXIMUM", "MINIMUM", "MUL",
    "PAD", "PADV2", "AVERAGE_POOL_2D", "MAX_POOL_2D", "SOFTMAX", "SVDF", "TRANSPOSE", "TRANSPOSE_CONV",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
})


def tflm_kernel(opcode: str, kernels: str) -> str:
    """The kernel TFLM links for `opcode` with the kernel set `kernels` (cmsis_nn | reference)."""
    return "cmsis_nn" if kernels == "cmsis_nn" and opcode in CMSIS_NN_OPS else "reference"


def tflm_nodes(graph: Graph, kernels: str) -> list[dict[str, Any]]:
    """Per operator of the main subgraph in TFLM's invoke order: index, op, kernel, variant
    ("" : TFLM picks the code path inside its kernel), graph_index (the operator's index in
    mcugen's graph, None for a shape op mcugen folded) and macs (None when unknown)."""
    raw = parse_model(graph.model_bytes, graph.name).operators
    folded = {op.index for op in graph.folded}  # folded operators keep their flatbuffer index
    kept = iter(graph.operators)
    nodes = []
    for op in raw:
        mine = None if op.index in folded else next(kept, None)
        nodes.append({"index": op.index, "op": op_name(op), "kernel": tflm_kernel(op.opcode, kernels),
                      "variant": "", "graph_index": mine.index if mine is not None else None,
                      "macs": op_macs(graph, mine) if mine is not None else None})
    return nodes


__all__ = ["CMSIS_NN_OPS", "tflm_kernel", "tflm_nodes"]
