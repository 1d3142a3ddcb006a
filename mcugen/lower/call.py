"""What lowering produces: `KernelCall`, a plain description of one C call of the
generated network, and the checks every op family shares.

A KernelCall names the kernel function and its source files, the parameter
structs and constant arrays it needs, its scratch bytes, and a call template
whose `$in0`, `$out0`, `$scratch`, `$scratch_size`, `$c_<name>` and `$s_<name>`
placeholders the generator fills with arena and data addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template
from typing import Any, Mapping

import numpy as np

from mcugen.lower import quant as Q
from mcugen.model.graph import Graph, Operator, Tensor

MAX_DIMS = 6
KERNEL_HEADERS = ("mcu_kernels.h", "mcu_fixedpoint.h", "mcu_compiler.h")

C_TYPES = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "float32": "float",
    "bool": "uint8_t",
    "int64": "int64_t",
}
SHORT = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32", "float32": "f32"}


class LoweringError(ValueError):
    """This operator (with these types or parameters) has no cubeai implementation."""


@dataclass(frozen=True)
class CRef:
    """A struct field that points at one of the call's params arrays."""

    name: str


@dataclass(frozen=True)
class ConstArray:
    """A constant array the call needs.

    weights=True: model data (filters, biases, constant operands), placed in the
    weights blob (section .nn_weights, 16-byte aligned, counted as weights flash).
    weights=False: small parameters computed at generation time (per-channel
    multipliers and shifts), plain .rodata.
    """

    name: str  # local to the call; the generator prefixes it with the op
    ctype: str
    values: np.ndarray
    weights: bool
    comment: str = ""

    @property
    def nbytes(self) -> int:
        return int(self.values.size * self.values.dtype.itemsize)

    @property
    def content_key(self) -> tuple[bool, str, str, bytes]:
        """Equal for arrays the generator emits once and shares: the same bytes of the same
        C type in the same place (a weight matrix an unrolled RNN's steps all read)."""
        return self.weights, self.ctype, self.values.dtype.str, np.ascontiguousarray(self.values).tobytes()


@dataclass(frozen=True)
class StructParam:
    """A `static const <ctype> <name> = { .field = value, ... };` parameter block."""

    name: str
    ctype: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class KernelCall:
    op_index: int
    opcode: str
    kernel: str  # C function called ("" for an alias that needs no code)
    sources: tuple[str, ...]  # files in firmware/kernels the call needs (a variant's headers too)
    inputs: tuple[int, ...]  # tensors addressed by $in0.. (-1 = absent)
    outputs: tuple[int, ...]  # tensors addressed by $out0..
    call: str  # C expression returning mcu_status, with placeholders
    setup: str = ""  # C statements before the call (local arrays, contexts)
    constants: tuple[ConstArray, ...] = ()
    structs: tuple[StructParam, ...] = ()
    scratch_bytes: int = 0
    alias_bytes: int = 0  # > 0: RESHAPE-like; copy this many bytes when in and out differ
    summary: str = ""  # one line for the comment above the call
    parts: tuple["KernelCall", ...] = ()  # the calls a composite call makes (a patch-based stage)
    declarations: str = ""  # C at file scope after the call's structs ($s_, $c_ and $prefix placeholders)
    variant: str = ""  # the Cortex-M7 variant running the op (mcugen.lower.arm); "" for a portable kernel

    def render(self, names: Mapping[str, str]) -> tuple[str, str]:
        """(setup, call) with every placeholder substituted."""
        return Template(self.setup).substitute(names), Template(self.call).substitute(names)

    @property
    def weights_bytes(self) -> int:
        return sum(c.nbytes for c in self.constants if c.weights)

    @property
    def params_bytes(self) -> int:
        return sum(c.nbytes for c in self.constants if not c.weights)


def c_float(value: float) -> str:
    """An exact C float literal (hexadecimal), e.g. 0x1.0p-8f."""
    return f"{float(np.float32(value)).hex()}f"


# ---------------------------------------------------------------------------------
# operands and the checks every family makes


def in_tensor(graph: Graph, op: Operator, position: int, what: str) -> Tensor:
    if position >= len(op.inputs) or op.inputs[position] < 0:
        raise LoweringError(f"missing {what} input")
    return graph.tensors[op.inputs[position]]


def opt_tensor(graph: Graph, op: Operator, position: int) -> Tensor | None:
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    return graph.tensors[op.inputs[position]]


def out_tensor(graph: Graph, op: Operator, position: int = 0) -> Tensor:
    if position >= len(op.outputs):
        raise LoweringError("missing output")
    return graph.tensors[op.outputs[position]]


def int8_unary(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    """(input, output) of an op reading and writing int8."""
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8",), "output")
    return x, out


def qparams(t: Tensor) -> tuple[float, int]:
    if t.quant is None or not t.quant.scale:
        raise LoweringError(f"tensor '{t.name}' has no quantization parameters")
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def require(cond: bool, reason: str) -> None:
    if not cond:
        raise LoweringError(reason)


def check_dtype(t: Tensor, allowed: tuple[str, ...], what: str) -> str:
    if t.dtype not in allowed:
        raise LoweringError(f"{what} of type {t.dtype} (supported: {', '.join(allowed)})")
    return t.dtype


def const_data(t: Tensor | None, what: str) -> np.ndarray:
    if t is None or t.data is None:
        raise LoweringError(f"{what} must be a constant tensor")
    return np.asarray(t.data)


def numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def nhwc(t: Tensor) -> dict[str, int]:
    require(len(t.shape) == 4, f"tensor '{t.name}' is not 4-D NHWC ({list(t.shape)})")
    n, h, w, c = (int(d) for d in t.shape)
    return {"n": n, "h": h, "w": w, "c": c}


def pad6(shape: tuple[int, ...]) -> list[int]:
    require(len(shape) <= MAX_DIMS, f"rank {len(shape)} exceeds {MAX_DIMS}")
    return [1] * (MAX_DIMS - len(shape)) + [int(d) for d in shape]


def strides(shape: list[int]) -> list[int]:
    out, acc = [0] * len(shape), 1
    for k in range(len(shape) - 1, -1, -1):
        out[k] = acc
        acc *= shape[k]
    return out


def broadcast_params(a: tuple[int, ...], b: tuple[int, ...], out: tuple[int, ...]) -> dict[str, list[int]]:
    """mcu_broadcast's fields: the output shape padded to MAX_DIMS and each input's element
    strides along it, 0 where that input is broadcast (numpy's rules: shapes aligned at
    the end, a 1 stretches)."""
    od = pad6(out)
    result = {"dims": od}
    for key, shape in (("stride1", a), ("stride2", b)):
        sd = pad6(shape)
        st = strides(sd)
        axis_strides = []
        for k in range(MAX_DIMS):
            if sd[k] == od[k]:
                axis_strides.append(st[k])
            else:
                require(sd[k] == 1, f"shape {list(shape)} does not broadcast to {list(out)}")
                axis_strides.append(0)
        result[key] = axis_strides
    return _collapse(result)


def _collapse(b: dict[str, list[int]]) -> dict[str, list[int]]:
    """Merges each dimension into the one inside it where both inputs step through the two
    as one (contiguous, or both broadcast): the same elements in the same order, in fewer
    and longer inner runs; padded again with leading 1s."""
    merged: list[list[int]] = []  # [dim, stride1, stride2], innermost first
    for k in range(MAX_DIMS - 1, -1, -1):
        d, s1, s2 = b["dims"][k], b["stride1"][k], b["stride2"][k]
        if d == 1:
            continue
        if merged and s1 == merged[-1][1] * merged[-1][0] and s2 == merged[-1][2] * merged[-1][0]:
            merged[-1][0] *= d
            continue
        merged.append([d, s1, s2])
    merged += [[1, 0, 0]] * (MAX_DIMS - len(merged))
    merged.reverse()
    return {"dims": [m[0] for m in merged], "stride1": [m[1] for m in merged], "stride2": [m[2] for m in merged]}


def activation(op: Operator, out: Tensor) -> tuple[int, int]:
    """The fused activation's clamp on the output, as TFLM's prepare computes it."""
    scale, zp = qparams(out)
    act = op.option("fused_activation_function", "NONE")
    try:
        return Q.activation_range(act, out.dtype, scale, zp)
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc


def weights_array(name: str, t: Tensor, ctype: str, comment: str = "") -> ConstArray:
    return ConstArray(name, ctype, np.ascontiguousarray(t.data).reshape(-1), True, comment or f"'{t.name}' {list(t.shape)}")


def i32_array(name: str, values: list[int], comment: str = "") -> ConstArray:
    return ConstArray(name, "int32_t", np.asarray(values, dtype=np.int32), False, comment)


def no_bias_dims() -> dict[str, int]:
    return {"n": 0, "h": 0, "w": 0, "c": 0}
