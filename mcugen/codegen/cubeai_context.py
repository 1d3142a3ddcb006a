"""What the cubeai templates say about the network's memory: the I/O tensors (st-ai and
legacy buffer descriptions) and the activation pools (sections, regions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from mcugen.boards import Board
from mcugen.codegen.c_text import safe_text
from mcugen.errors import McugenError
from mcugen.lower.call import c_float
from mcugen.model.graph import DTYPE_SIZES, Graph, Tensor
from mcugen.planner import MemoryPlan

STAI_FORMATS = {
    "float32": "STAI_FORMAT_FLOAT32",
    "uint8": "STAI_FORMAT_U8",
    "int8": "STAI_FORMAT_S8",
    "int16": "STAI_FORMAT_S16",
    "int32": "STAI_FORMAT_S32",
    "uint16": "STAI_FORMAT_U16",
    "uint32": "STAI_FORMAT_U32",
    "bool": "STAI_FORMAT_BOOL",
}
AI_FORMATS = {
    "float32": "AI_BUFFER_FORMAT_FLOAT", "uint8": "AI_BUFFER_FORMAT_U8", "int8": "AI_BUFFER_FORMAT_S8",
    "int16": "AI_BUFFER_FORMAT_S16", "int32": "AI_BUFFER_FORMAT_S32", "uint16": "AI_BUFFER_FORMAT_U16",
    "uint32": "AI_BUFFER_FORMAT_U32", "bool": "AI_BUFFER_FORMAT_BOOL",
}
# Zero-point array type and flag of the legacy API's quantization meta info.
AI_ZERO_POINTS = {"uint8": ("ai_u8", "AI_BUFFER_META_FLAG_ZEROPOINT_U8"),
                  "int8": ("ai_i8", "AI_BUFFER_META_FLAG_ZEROPOINT_S8")}
AI_ZERO_POINT_WIDE = ("ai_i16", "AI_BUFFER_META_FLAG_ZEROPOINT_S16")
MCUGEN_DTYPES = {
    "float32": "MCUGEN_DTYPE_FLOAT32", "int32": "MCUGEN_DTYPE_INT32", "uint8": "MCUGEN_DTYPE_UINT8",
    "int16": "MCUGEN_DTYPE_INT16", "int8": "MCUGEN_DTYPE_INT8", "bool": "MCUGEN_DTYPE_BOOL",
    "uint16": "MCUGEN_DTYPE_UINT16", "uint32": "MCUGEN_DTYPE_UINT32",
}
NP_TO_C = {
    np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t", np.dtype(np.int16): "int16_t",
    np.dtype(np.int32): "int32_t", np.dtype(np.float32): "float", np.dtype(np.bool_): "uint8_t",
    np.dtype(np.int64): "int64_t", np.dtype(np.uint16): "uint16_t", np.dtype(np.uint32): "uint32_t",
}


@dataclass(frozen=True)
class IOTensor:
    k: int  # 1-based, as in the STAI macros
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    offset: int
    scale: float | None
    zero_point: int | None
    pool: int = 0  # activation pool holding it (when in_activations)
    in_activations: bool = True  # False: the application's buffer (offset is then -1)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "dtype": self.dtype, "shape": list(self.shape),
            "bytes": self.bytes, "offset": self.offset, "scale": self.scale, "zero_point": self.zero_point,
            "pool": self.pool, "in_activations": self.in_activations,
        }


def io_tensor(graph: Graph, k: int, t: Tensor, plan: MemoryPlan, in_activations: bool) -> IOTensor:
    q = t.quant if (t.quant is not None and t.dtype != "float32") else None
    if in_activations and t.index not in plan.offsets:
        raise McugenError(f"The memory plan has no place for '{t.name}', which should live in the activations.",
                          hint="Plan with mcugen.planner.pools.plan_activations and the same I/O choices.")
    return IOTensor(
        k=k, index=t.index, name=t.name, dtype=t.dtype, shape=tuple(int(d) for d in t.shape), bytes=t.nbytes,
        offset=int(plan.offsets[t.index]) if in_activations else -1, scale=float(q.scale[0]) if q else None,
        zero_point=int(q.zero_point[0]) if q else None,
        pool=pool_of(plan, t.index) if in_activations else 0, in_activations=in_activations,
    )


def pool_of(plan: MemoryPlan, tensor: int) -> int:
    return plan.pool_of(tensor) if plan.pools else 0


def io_context(io: IOTensor, tag: str) -> dict[str, Any]:
    shape = list(io.shape) or [1]
    rank = len(shape)
    if rank == 4:
        h, w, c = shape[1], shape[2], shape[3]
    elif rank == 3:
        h, w, c = shape[1], 1, shape[2]
    elif rank == 2:
        h, w, c = 1, 1, shape[1]
    else:
        h, w, c = 1, 1, shape[-1]
    elem = DTYPE_SIZES[io.dtype]
    owner = "STAI_FLAG_INPUTS" if tag.startswith("in") else "STAI_FLAG_OUTPUTS"
    zp_ctype, zp_flag = AI_ZERO_POINTS.get(io.dtype, AI_ZERO_POINT_WIDE)
    return {
        # ST marks the buffers the network allocates (inside the activations) PREALLOCATED.
        "flags": ([owner, "STAI_FLAG_PREALLOCATED"] if io.in_activations else []) + ["STAI_FLAG_CHANNEL_LAST",
                                                                                 "STAI_FLAG_HAS_BATCH"],
        "batch": shape[0] if rank >= 2 else 1, "ai_format": AI_FORMATS.get(io.dtype, "AI_BUFFER_FORMAT_NONE"),
        "zp_ctype": zp_ctype, "zp_flag": zp_flag, "pool": io.pool, "pool_k": io.pool + 1,
        "in_activations": io.in_activations,
        "k": io.k, "tag": tag, "name": safe_text(io.name), "dtype": io.dtype,
        "shape": shape, "rank": rank, "size": int(np.prod(shape)), "bytes": io.bytes, "offset": io.offset,
        "format": STAI_FORMATS.get(io.dtype, "STAI_FORMAT_NONE"), "mcugen_dtype": MCUGEN_DTYPES.get(io.dtype, "0"),
        "height": h, "width": w, "channel": c, "alignment": min(elem, 4) if elem else 1,
        "quantized": io.scale is not None, "scale": io.scale,
        "scale_c": c_float(io.scale) if io.scale is not None else "0.0f", "zero_point": io.zero_point,
    }


def state_contexts(graph: Graph, states: list[int]) -> list[dict[str, Any]]:
    """Per state (variable tensor, mcugen.planner.pools.state_tensors): its buffer's size
    (8-byte multiple), its reset value (TFLM resets an int8 state to its zero point, any
    other to 0) and its st-ai descriptor, as io_context gives the I/O."""
    out = []
    for k, t in enumerate(states):
        tensor = graph.tensors[t]
        q = tensor.quant if (tensor.quant is not None and tensor.dtype != "float32") else None
        io = IOTensor(k=k + 1, index=t, name=tensor.name, dtype=tensor.dtype,
                      shape=tuple(int(d) for d in tensor.shape), bytes=tensor.nbytes, offset=-1,
                      scale=float(q.scale[0]) if q else None, zero_point=int(q.zero_point[0]) if q else None,
                      in_activations=False)
        ctx = io_context(io, f"state_{k + 1}")
        fill = int(q.zero_point[0]) & 0xFF if q is not None and tensor.dtype == "int8" else 0
        ctx.update(index=k, fill=fill, alloc=(tensor.nbytes + 7) // 8 * 8,
                   flags=["STAI_FLAG_STATES", "STAI_FLAG_PREALLOCATED"] + ctx["flags"])
        out.append(ctx)
    return out


def activation_pools(plan: MemoryPlan, board: Board, arena_region: str | None = None) -> list[dict[str, Any]]:
    """Per activation pool: its index (0-based), k (1-based), size, alignment, region and
    linker section (.nn_arena for a single-buffer plan, .nn_arena.<region> per pool).
    arena_region: where --place (or the placement by speed) put a single arena."""
    if not plan.pools:
        region = arena_region or (board.placement.arena if board.placement is not None else "ram")
        return [{"index": 0, "k": 1, "size": plan.arena_size, "alignment": plan.alignment, "region": region,
                 "section": ".nn_arena", "label": "activations"}]
    return [{"index": i, "k": i + 1, "size": p.size, "alignment": plan.alignment, "region": p.region,
             "section": f".nn_arena.{p.region}", "label": f"activations {p.region}"}
            for i, p in enumerate(plan.pools)]


def tensor_place(plan: MemoryPlan, t: int, in_graph: Mapping[int, int], out_graph: Mapping[int, int]) -> str:
    if t in plan.offsets:
        return f"@{plan.offsets[t]}" + (f" in pool {pool_of(plan, t) + 1}" if plan.pools else "")
    if t in in_graph:
        return f"application buffer (input {in_graph[t] + 1})"
    if t in out_graph:
        return f"application buffer (output {out_graph[t] + 1})"
    return "@?"


def details_context(graph: Graph) -> dict[str, Any]:
    """The tables of <name>_details.h: every non-constant tensor (its index in the table as
    its id) and every node with the table indices of its tensors (-1: a constant or none)."""
    table: dict[int, int] = {}
    tensors = []
    for t in graph.tensors:
        if t.is_constant:
            continue
        table[t.index] = len(tensors)
        q = t.quant if t.dtype != "float32" else None
        tensors.append({"id": len(tensors), "name": safe_text(t.name, 80), "bytes": t.nbytes,
                        "format": STAI_FORMATS.get(t.dtype, "STAI_FORMAT_NONE"), "shape": list(t.shape),
                        "quantized": q is not None, "scale_c": c_float(float(q.scale[0])) if q is not None else "",
                        "zero_point": int(q.zero_point[0]) if q is not None else 0})
    opcodes = list(graph.opcodes)  # a property: distinct codes in first-use order
    nodes = [{"id": op.index, "type": opcodes.index(op.opcode), "opcode": safe_text(op.opcode, 40),
              "inputs": [table.get(i, -1) for i in op.inputs], "outputs": [table.get(i, -1) for i in op.outputs]}
             for op in graph.operators]
    return {"tensors": tensors, "nodes": nodes, "opcodes": [safe_text(o, 40) for o in opcodes]}
