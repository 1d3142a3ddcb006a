"""Read a .tflite flatbuffer into a Graph, defensively.

The file may be anything: not a flatbuffer, truncated, bit-flipped. Every
offset and length read from it is checked against the buffer before use, so a
bad file ends in a ModelError, never in a crash, a hang or a huge allocation.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions

from mcugen.errors import ModelError
from mcugen.model.graph import DTYPES, Graph, Operator, Quantization, Tensor

FILE_IDENTIFIER = b"TFL3"  # TFLite schema file_identifier, bytes 4..8
MAX_MODEL_BYTES = 1 << 31  # flatbuffers' own limit (offsets are 32-bit signed)

OPCODE_NAMES: dict[int, str] = {
    v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)
}
_OPTION_TYPE_NAMES: dict[int, str] = {
    v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_") and isinstance(v, int)
}

_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATION = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT", 6: "SIGMOID"}
# Options fields whose integer value is an enum worth decoding to its name.
_ENUM_FIELDS = {"padding": _PADDING, "fused_activation_function": _ACTIVATION}
# Flatbuffer accessor methods that are not option fields.
_NOT_FIELDS = {"Init", "GetRootAs"}


class _Corrupt(Exception):
    """Internal: a structural check on the flatbuffer failed."""


def _snake(name: str) -> str:
    # DilationHFactor -> dilation_h_factor, as the schema spells the fields
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _option_fields(cls: type) -> list[tuple[str, str, str]]:
    """(field name, accessor, kind) for a generated options class; kind is scalar or vector."""
    fields = []
    for attr, fn in vars(cls).items():
        if attr.startswith("_") or attr in _NOT_FIELDS or not callable(fn) or attr.startswith("GetRootAs"):
            continue
        if attr.endswith(("AsNumpy", "Length", "IsNone")) or "BufferHasIdentifier" in attr:
            continue
        params = list(inspect.signature(fn).parameters)
        if params == ["self"]:
            fields.append((_snake(attr), attr, "scalar"))
        elif params == ["self", "j"] and hasattr(cls, attr + "AsNumpy"):
            fields.append((_snake(attr), attr, "vector"))
    return fields


_FIELDS_CACHE: dict[type, list[tuple[str, str, str]]] = {}


class _Reader:
    """Bounds-checked access to the generated flatbuffer accessors."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.size = len(buf)

    def length(self, n: int, elem_bytes: int = 4) -> int:
        if n < 0 or n * elem_bytes > self.size:
            raise _Corrupt(f"vector length {n} exceeds the file")
        return n

    def numpy(self, obj: Any, name: str, dtype: Any) -> np.ndarray:
        if getattr(obj, name + "IsNone")():
            return np.zeros(0, dtype=dtype)
        self.length(getattr(obj, name + "Length")(), np.dtype(dtype).itemsize)
        arr = getattr(obj, name + "AsNumpy")()
        if isinstance(arr, int):  # the generated code returns 0 for an absent vector
            return np.zeros(0, dtype=dtype)
        return np.asarray(arr, dtype=dtype)

    def string(self, raw: bytes | None) -> str:
        if raw is None:
            return ""
        return raw.decode("utf-8", errors="replace")


def _decode_options(reader: _Reader, op: Any) -> dict[str, Any]:
    type_id = op.BuiltinOptionsType()
    if type_id == 0:
        return {}
    type_name = _OPTION_TYPE_NAMES.get(type_id)
    cls = getattr(tflite, type_name, None) if type_name else None
    table = op.BuiltinOptions()
    if cls is None or table is None:
        return {}
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    fields = _FIELDS_CACHE.get(cls)
    if fields is None:
        fields = _FIELDS_CACHE[cls] = _option_fields(cls)
    values: dict[str, Any] = {}
    for name, accessor, kind in fields:
        if kind == "vector":
            values[name] = tuple(int(v) for v in reader.numpy(opts, accessor, np.int32))
            continue
        value = getattr(opts, accessor)()
        if isinstance(value, (bool, int, float)):
            values[name] = _ENUM_FIELDS.get(name, {}).get(value, value) if name in _ENUM_FIELDS else value
    return values


def _quantization(reader: _Reader, t: Any) -> Quantization | None:
    q = t.Quantization()
    if q is None:
        return None
    scale = reader.numpy(q, "Scale", np.float32)
    zp = reader.numpy(q, "ZeroPoint", np.int64)
    if scale.size == 0:
        return None
    if zp.size == 0:
        zp = np.zeros(scale.size, dtype=np.int64)
    if zp.size != scale.size:
        raise _Corrupt("quantization scale and zero point lengths differ")
    return Quantization(
        scale=tuple(float(s) for s in scale),
        zero_point=tuple(int(z) for z in zp),
        axis=int(q.QuantizedDimension()),
    )


def _buffer_data(reader: _Reader, model: Any, buffer_index: int, tensor_name: str) -> memoryview | None:
    if buffer_index == 0:
        return None  # buffer 0 is the schema's empty sentinel
    if buffer_index >= model.BuffersLength():
        raise _Corrupt(f"tensor '{tensor_name}' refers to buffer {buffer_index}, which does not exist")
    buf = model.Buffers(buffer_index)
    offset, size = buf.Offset(), buf.Size()
    if offset > 1:
        # Large models keep buffers after the flatbuffer, addressed by file offset.
        if offset + size > reader.size:
            raise _Corrupt(f"buffer {buffer_index} lies beyond the end of the file")
        return memoryview(reader.buf)[offset : offset + size]
    if buf.DataIsNone():
        return None
    n = reader.length(buf.DataLength(), 1)
    if n == 0:
        return None
    start = buf._tab.Vector(buf._tab.Offset(4))
    if start + n > reader.size:
        raise _Corrupt(f"buffer {buffer_index} lies beyond the end of the file")
    return memoryview(reader.buf)[start : start + n]


def _tensor(reader: _Reader, model: Any, index: int, t: Any) -> Tensor:
    name = reader.string(t.Name())
    type_id = t.Type()
    if type_id not in DTYPES:
        raise ModelError(f"Tensor {index} '{name}' has unknown type code {type_id}.")
    dtype, np_dtype, elem = DTYPES[type_id]
    shape = tuple(int(d) for d in reader.numpy(t, "Shape", np.int32))
    signature = tuple(int(d) for d in reader.numpy(t, "ShapeSignature", np.int32))
    if any(d <= 0 for d in shape) and shape:
        raise ModelError(
            f"Tensor {index} '{name}' has a dynamic or empty shape {list(shape)}.",
            hint="mcugen needs static shapes: export the model with a fixed input size and batch 1.",
        )
    data = _buffer_data(reader, model, t.Buffer(), name)
    array = None
    if data is not None:
        if np_dtype is None:
            raise ModelError(f"Tensor {index} '{name}' holds constant data of type {dtype}, which mcugen cannot read.")
        count = 1
        for d in shape:
            count *= d
        if len(data) != count * elem:
            raise _Corrupt(f"tensor '{name}' has {len(data)} bytes of data for shape {list(shape)} of {dtype}")
        array = np.frombuffer(data, dtype=np_dtype).reshape(shape)
    if t.Sparsity() is not None:
        raise ModelError(f"Tensor {index} '{name}' is sparse; mcugen needs dense weights.")
    return Tensor(
        index=index,
        name=name or f"tensor_{index}",
        shape=shape,
        dtype=dtype,
        quant=_quantization(reader, t),
        data=array,
        shape_signature=signature,
        is_variable=bool(t.IsVariable()),
    )


def _opcode(model: Any, index: int) -> tuple[str, int, str | None]:
    code = model.OperatorCodes(index)
    builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
    name = OPCODE_NAMES.get(builtin, f"UNKNOWN_{builtin}")
    custom = None
    if name == "CUSTOM":
        custom = (code.CustomCode() or b"").decode("utf-8", errors="replace")
    return name, int(code.Version()), custom


def parse_model(buf: bytes, name: str = "model") -> Graph:
    """Parse .tflite bytes into a Graph (no semantic checks; see model.check)."""
    if len(buf) < 8:
        raise ModelError(f"'{name}' is not a TFLite model: the file is only {len(buf)} bytes long.")
    if buf[4:8] != FILE_IDENTIFIER:
        raise ModelError(
            f"'{name}' is not a TFLite model: no 'TFL3' identifier at byte 4 (found {buf[4:8]!r}).",
            hint="Give mcugen a .tflite file produced by the TFLite converter.",
        )
    if len(buf) >= MAX_MODEL_BYTES:
        raise ModelError(f"'{name}' is larger than 2 GiB; flatbuffers cannot address it.")
    reader = _Reader(buf)
    try:
        root = int.from_bytes(buf[0:4], "little")
        if root < 8 or root + 4 > len(buf):
            raise _Corrupt(f"root table offset {root} is outside the file")
        model = tflite.Model.GetRootAs(buf, 0)
        n_subgraphs = reader.length(model.SubgraphsLength())
        if n_subgraphs == 0:
            raise ModelError(f"'{name}' has no subgraph.")
        if n_subgraphs > 1:
            raise ModelError(
                f"'{name}' has {n_subgraphs} subgraphs; mcugen supports single-subgraph models.",
                hint="Control flow (IF/WHILE) and multi-signature models are not supported.",
            )
        reader.length(model.BuffersLength())
        n_codes = reader.length(model.OperatorCodesLength())
        opcodes = [_opcode(model, i) for i in range(n_codes)]
        sg = model.Subgraphs(0)
        n_tensors = reader.length(sg.TensorsLength())
        tensors = tuple(_tensor(reader, model, i, sg.Tensors(i)) for i in range(n_tensors))

        def tensor_refs(values: np.ndarray, what: str, allow_absent: bool) -> tuple[int, ...]:
            refs = tuple(int(v) for v in values)
            for r in refs:
                if r >= n_tensors or r < (-1 if allow_absent else 0):
                    raise _Corrupt(f"{what} refers to tensor {r}, which does not exist")
            return refs

        operators = []
        for i in range(reader.length(sg.OperatorsLength())):
            op = sg.Operators(i)
            code_index = op.OpcodeIndex()
            if code_index >= n_codes:
                raise _Corrupt(f"operator {i} refers to operator code {code_index}, which does not exist")
            opcode, version, custom = opcodes[code_index]
            operators.append(
                Operator(
                    index=i,
                    opcode=opcode,
                    inputs=tensor_refs(reader.numpy(op, "Inputs", np.int32), f"operator {i}", True),
                    outputs=tensor_refs(reader.numpy(op, "Outputs", np.int32), f"operator {i}", False),
                    options=MappingProxyType(_decode_options(reader, op)),
                    version=version,
                    custom_code=custom,
                )
            )
        inputs = tensor_refs(reader.numpy(sg, "Inputs", np.int32), "the subgraph inputs", False)
        outputs = tensor_refs(reader.numpy(sg, "Outputs", np.int32), "the subgraph outputs", False)
        description = reader.string(model.Description())
        _check_static_inputs(tensors, inputs)
    except ModelError:
        raise
    except (_Corrupt, Exception) as exc:  # flatbuffers raises plain IndexError/struct.error on bad offsets
        detail = str(exc) if isinstance(exc, _Corrupt) else f"{type(exc).__name__} while reading it"
        raise ModelError(
            f"'{name}' is a corrupt or truncated TFLite file ({detail}).",
            hint="Re-export the model; check that the file was copied completely.",
        ) from exc
    return Graph(
        name=name,
        tensors=tensors,
        operators=tuple(operators),
        inputs=inputs,
        outputs=outputs,
        model_hash=hashlib.sha256(buf).hexdigest(),
        model_bytes=bytes(buf),
        description=description,
    )


def _check_static_inputs(tensors: tuple[Tensor, ...], inputs: tuple[int, ...]) -> None:
    """A -1 in an input's shape signature, other than an open batch, is a dynamic size.

    Inner tensors inherit -1s from the batch; only the inputs say what the user feeds.
    """
    for i in inputs:
        t = tensors[i]
        sig = t.shape_signature
        if sig and len(sig) == len(t.shape):
            dynamic = [d for d, v in enumerate(sig) if v < 0 and not (d == 0 and t.shape[0] == 1)]
            if dynamic:
                raise ModelError(
                    f"Input '{t.name}' has unknown dimension(s) {dynamic} (shape signature {list(sig)}).",
                    hint="mcugen needs static shapes: export the model with a fixed input size.",
                )


def read_model_file(path: str | Path) -> bytes:
    path = Path(path)
    try:
        if path.is_dir():
            raise ModelError(f"'{path}' is a directory, not a .tflite file.")
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"Model file '{path}' does not exist.") from exc
    except OSError as exc:
        raise ModelError(f"Cannot read model file '{path}': {exc.strerror}.") from exc


def model_name_from_path(path: str | Path) -> str:
    return Path(path).stem
