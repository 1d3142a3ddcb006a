"""A .tflite model as TFLM sees it, for the arena estimate.

TFLM runs the flatbuffer as it is: every tensor with its buffer (a constant is a
tensor whose buffer holds data), the shape operators mcugen folds at load time
(mcugen.model.fold), the quantization arrays it allocates per channel, and the raw
builtin options tables. mcugen's Graph is the folded, checked view the cubeai
style compiles; the arena TFLM allocates is the unfolded model's, so it is read here
from the bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tflite

from mcugen.errors import ModelError

# TensorType -> bytes per element (TfLiteTypeSizeOf); int4 and string are not planned here.
TYPE_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16, 12: 8,
               15: 4, 16: 2, 17: 1}
OPCODE_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


# --- the model, as TFLM sees it ----------------------------------------------------------------


@dataclass
class TflmTensor:
    index: int
    shape: tuple[int, ...]
    dtype: int
    constant: bool  # its buffer has data: it lives in the flatbuffer, not the arena
    variable: bool
    quant_channels: int  # len(scale) when scale and zero_point are both non-empty, else 0

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * TYPE_BYTES.get(self.dtype, 1)


@dataclass
class TflmOp:
    index: int
    opcode: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: object | None  # the tflite.*Options table, or None


@dataclass
class TflmSubgraph:
    tensors: list[TflmTensor]
    ops: list[TflmOp]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass
class TflmModel:
    subgraphs: list[TflmSubgraph]
    offline_plan: bool


_OPTIONS = {
    "CONV_2D": tflite.Conv2DOptions,
    "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
    "AVERAGE_POOL_2D": tflite.Pool2DOptions,
    "MAX_POOL_2D": tflite.Pool2DOptions,
    "L2_POOL_2D": tflite.Pool2DOptions,
    "FULLY_CONNECTED": tflite.FullyConnectedOptions,
    "SVDF": tflite.SVDFOptions,
    "TRANSPOSE_CONV": tflite.TransposeConvOptions,
    "BATCH_MATMUL": tflite.BatchMatMulOptions,
}


def read_model(data: bytes) -> TflmModel:
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        n_sub = model.SubgraphsLength()
    except Exception as exc:  # flatbuffers raises plain struct/index errors on garbage
        raise ModelError("Not a TFLite flatbuffer; cannot estimate its TFLM arena.") from exc
    codes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        name = OPCODE_NAMES.get(code, f"BUILTIN_{code}")
        if name == "CUSTOM":  # by its name, as the resolver registers it: CUSTOM:<custom code>
            name = f"CUSTOM:{(oc.CustomCode() or b'').decode('utf-8', 'replace')}"
        codes.append(name)
    buffer_has_data = [model.Buffers(i).DataLength() > 0 for i in range(model.BuffersLength())]
    subgraphs = []
    for s in range(n_sub):
        sg = model.Subgraphs(s)
        tensors = []
        for t in range(sg.TensorsLength()):
            ft = sg.Tensors(t)
            q = ft.Quantization()
            channels = 0
            if q is not None and q.ScaleLength() > 0 and q.ZeroPointLength() > 0:
                channels = q.ScaleLength()
            buf = ft.Buffer()
            tensors.append(TflmTensor(
                index=t,
                shape=tuple(int(d) for d in ft.ShapeAsNumpy()) if ft.ShapeLength() else (),
                dtype=ft.Type(),
                constant=0 <= buf < len(buffer_has_data) and buffer_has_data[buf],
                variable=bool(ft.IsVariable()),
                quant_channels=channels,
            ))
        ops = []
        for o in range(sg.OperatorsLength()):
            fo = sg.Operators(o)
            opcode = codes[fo.OpcodeIndex()]
            options = None
            if opcode in _OPTIONS and fo.BuiltinOptions() is not None:
                table = fo.BuiltinOptions()
                options = _OPTIONS[opcode]()
                options.Init(table.Bytes, table.Pos)
            ops.append(TflmOp(
                index=o, opcode=opcode,
                inputs=tuple(int(i) for i in fo.InputsAsNumpy()) if fo.InputsLength() else (),
                outputs=tuple(int(i) for i in fo.OutputsAsNumpy()) if fo.OutputsLength() else (),
                options=options,
            ))
        subgraphs.append(TflmSubgraph(
            tensors=tensors, ops=ops,
            inputs=tuple(int(i) for i in sg.InputsAsNumpy()) if sg.InputsLength() else (),
            outputs=tuple(int(i) for i in sg.OutputsAsNumpy()) if sg.OutputsLength() else (),
        ))
    offline = any(
        model.Metadata(i).Name() == b"OfflineMemoryAllocation" for i in range(model.MetadataLength())
    )
    return TflmModel(subgraphs=subgraphs, offline_plan=offline)
