"""The intermediate representation every later stage reads: an immutable graph.

It holds what a .tflite flatbuffer says, decoded into plain Python values:
tensors with shape, type, quantization and constant data (numpy views into the
file's bytes), operators with their options as plain fields, and the order they
run in. Nothing here knows about styles, boards or C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

# TFLite TensorType value -> (name, numpy dtype, bytes per element)
DTYPES: dict[int, tuple[str, Any, int]] = {
    0: ("float32", np.float32, 4), 1: ("float16", np.float16, 2), 2: ("int32", np.int32, 4),
    3: ("uint8", np.uint8, 1), 4: ("int64", np.int64, 8), 5: ("string", None, 1), 6: ("bool", np.bool_, 1),
    7: ("int16", np.int16, 2), 8: ("complex64", np.complex64, 8), 9: ("int8", np.int8, 1),
    10: ("float64", np.float64, 8), 12: ("uint64", np.uint64, 8), 15: ("uint32", np.uint32, 4),
    16: ("uint16", np.uint16, 2), 17: ("int4", None, 1),
}

DTYPE_SIZES = {name: size for name, _, size in DTYPES.values()}
NUMPY_DTYPES = {name: np_type for name, np_type, _ in DTYPES.values() if np_type is not None}


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    def to_json(self) -> dict[str, Any]:
        return {"scale": list(self.scale), "zero_point": list(self.zero_point), "axis": self.axis}


@dataclass(frozen=True, eq=False)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quantization | None = None
    data: np.ndarray | None = field(default=None, repr=False)
    is_variable: bool = False
    shape_signature: tuple[int, ...] = ()  # -1 marks a dimension the converter left open

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * DTYPE_SIZES[self.dtype]

    @property
    def c_name(self) -> str:
        return c_identifier(self.name, fallback=f"t{self.index}")


@dataclass(frozen=True, eq=False)
class Operator:
    index: int
    opcode: str
    inputs: tuple[int, ...]  # -1 marks an optional input that is absent
    outputs: tuple[int, ...]
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version: int = 1
    custom_code: str | None = None
    intermediates: tuple[int, ...] = ()  # scratch tensors some kernels declare (LSTM), often empty by design

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True, eq=False)
class Graph:
    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    model_hash: str  # sha256 of the .tflite bytes, hex
    model_bytes: bytes = field(repr=False, default=b"")
    description: str = ""
    folded: tuple[Operator, ...] = ()  # shape ops computed at load time, not run
    # The operators of the model's other subgraphs (WHILE/IF bodies, CALL_ONCE initialisers), as
    # (subgraph, operator index, opcode, custom code): only the tflm style runs them (TFLM does).
    subgraph_ops: tuple[tuple[int, int, str, str | None], ...] = ()
    # Operators mcugen appended after the file's (--detection-postprocess): a .tflite of them alone,
    # whose inputs are the file's outputs, for the reference to run after the file (mcugen.reference).
    tail_model: bytes = field(repr=False, default=b"")

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Operator) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    @property
    def opcodes(self) -> list[str]:
        """Distinct operator codes in first-use order."""
        seen: dict[str, None] = {}
        for op in self.operators:
            seen.setdefault(op.opcode, None)
        return list(seen)

    def constant_bytes(self) -> int:
        """Bytes of constant tensor data the operators read (the model's weights)."""
        used = {i for op in self.operators for i in op.inputs if i >= 0}
        return sum(self.tensors[i].nbytes for i in used if self.tensors[i].is_constant)

    def consumers(self) -> dict[int, list[int]]:
        """Tensor index -> indices of the operators that read it, in order."""
        out: dict[int, list[int]] = {}
        for op in self.operators:
            for i in op.inputs:
                if i >= 0:
                    out.setdefault(i, []).append(op.index)
        return out

    def producers(self) -> dict[int, int]:
        """Tensor index -> index of the operator that writes it."""
        return {t: op.index for op in self.operators for t in op.outputs}


_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary bool true false".split()
)


def c_identifier(text: str, fallback: str = "x") -> str:
    """A valid C identifier derived from arbitrary text (tensor or model names)."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", text)
    ident = re.sub(r"_+", "_", ident).strip("_")
    if not ident:
        return fallback
    if ident[0].isdigit():
        ident = "_" + ident
    if ident in _C_KEYWORDS:
        ident += "_"
    return ident
