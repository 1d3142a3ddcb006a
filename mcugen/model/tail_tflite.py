"""A small .tflite holding only the operators `--detection-postprocess` appended to a graph
(mcugen.model.detection_append): the reference interpreter runs the model file, then this
model on the file's outputs, so a network with the appended op is compared with TFLM's own
kernel. Written with the flatbuffers builder from TFLite's schema (field slots below).

Its inputs are the file's outputs, in the file's order and with their types and quantization;
its operators are the appended ones (LOGISTIC, DEQUANTIZE, TFLite_Detection_PostProcess with its
flexbuffer options), its constants the anchors; its outputs the graph's.
"""

from __future__ import annotations

from typing import Sequence

import flatbuffers
import numpy as np
from flatbuffers import flexbuffers

from mcugen.model.graph import Graph, Operator

TYPES = {"float32": 0, "int32": 2, "uint8": 3, "int16": 7, "int8": 9}
BUILTIN = {"DEQUANTIZE": 6, "LOGISTIC": 14, "CUSTOM": 32}


def _ints(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype=np.int32))


def _table(b: flatbuffers.Builder, fields: list[tuple[int, str, object]]) -> int:
    """A table from (slot, kind, value): kind "off" (an offset), or a scalar "u32", "i32", "u8", "i8"."""
    b.StartObject(max(slot for slot, _, _ in fields) + 1)
    add = {"off": b.PrependUOffsetTRelativeSlot, "u32": b.PrependUint32Slot, "i32": b.PrependInt32Slot,
           "u8": b.PrependUint8Slot, "i8": b.PrependInt8Slot}
    for slot, kind, value in fields:
        add[kind](slot, value, 0)
    return b.EndObject()


def _vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def tail_tflite(graph: Graph, file_outputs: Sequence[int], appended: Sequence[Operator]) -> bytes:
    """The .tflite of `appended` (operators of `graph`), fed by the tensors `file_outputs`."""
    used = list(file_outputs)
    for op in appended:
        used += [i for i in (*op.inputs, *op.outputs) if i >= 0 and i not in used]
    local = {t: k for k, t in enumerate(used)}
    codes = sorted({(op.opcode, op.custom_code or "") for op in appended})
    b = flatbuffers.Builder(4096)
    buffers = [_empty_buffer(b)]  # buffer 0: the empty one TFLite reserves
    tensors = []
    for t in (graph.tensors[i] for i in used):
        if t.data is not None:
            b.StartVector(1, t.nbytes, 16)  # constant data 16-byte aligned, as TFLite writes it
            b.head -= t.nbytes
            b.Bytes[b.head:b.head + t.nbytes] = np.ascontiguousarray(t.data).tobytes()
            data = b.EndVector()
            buffers.append(_table(b, [(0, "off", data)]))
            data_buffer = len(buffers) - 1
        else:
            buffers.append(_empty_buffer(b))
            data_buffer = len(buffers) - 1
        name = b.CreateString(t.name)
        shape = _ints(b, t.shape)
        fields = [(0, "off", shape), (1, "i8", TYPES[t.dtype]), (2, "u32", data_buffer), (3, "off", name)]
        if t.quant is not None and t.dtype != "float32":
            scale = b.CreateNumpyVector(np.asarray(t.quant.scale, dtype=np.float32))
            zp = b.CreateNumpyVector(np.asarray(t.quant.zero_point, dtype=np.int64))
            fields.append((4, "off", _table(b, [(2, "off", scale), (3, "off", zp)])))
        tensors.append(_table(b, fields))
    operators = []
    for op in appended:
        fields = [(0, "u32", codes.index((op.opcode, op.custom_code or ""))),
                  (1, "off", _ints(b, [local[i] for i in op.inputs])),
                  (2, "off", _ints(b, [local[i] for i in op.outputs]))]
        if op.opcode == "CUSTOM":
            options = b.CreateNumpyVector(np.frombuffer(bytes(flexbuffers.Dumps(dict(op.options))), dtype=np.uint8))
            fields.append((5, "off", options))
        operators.append(_table(b, fields))
    subgraph = _table(b, [(0, "off", _vector(b, tensors)), (1, "off", _ints(b, [local[i] for i in file_outputs])),
                          (2, "off", _ints(b, [local[i] for i in graph.outputs])), (3, "off", _vector(b, operators)),
                          (4, "off", b.CreateString("detection"))])
    code_tables = []
    for opcode, custom in codes:
        fields = [(0, "i8", BUILTIN[opcode]), (2, "i32", 1), (3, "i32", BUILTIN[opcode])]
        if custom:
            fields.append((1, "off", b.CreateString(custom)))
        code_tables.append(_table(b, fields))
    model = _table(b, [(0, "u32", 3), (1, "off", _vector(b, code_tables)), (2, "off", _vector(b, [subgraph])),
                       (3, "off", b.CreateString("mcugen: operators appended to the model's graph")),
                       (4, "off", _vector(b, buffers))])
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def _empty_buffer(b: flatbuffers.Builder) -> int:
    b.StartObject(1)
    return b.EndObject()


__all__ = ["tail_tflite"]
