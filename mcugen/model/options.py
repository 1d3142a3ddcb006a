"""An operator's builtin options table decoded into plain fields, through the checked reader.

The field layout (slot, type, default) of each options table is taken from the
classes flatc generated for the TFLite schema (the `tflite` package): the slot and
type from each accessor's code, the default by calling the accessor on an empty
table. Only the layout comes from there; the bytes are read by mcugen.model.flatbuf.
"""

from __future__ import annotations

import inspect
import re
import struct
from dataclasses import dataclass
from typing import Any

import tflite
from tflite.BuiltinOptions import BuiltinOptions

from mcugen.model.flatbuf import Table

OPTION_TYPE_NAMES: dict[int, str] = {
    v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_") and isinstance(v, int)
}

_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATION = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT", 6: "SIGMOID"}
# Options fields whose integer value is an enum worth decoding to its name.
_ENUM_FIELDS = {"padding": _PADDING, "fused_activation_function": _ACTIVATION}

_FLAGS_FORMAT = {"Bool": "?", "Int8": "b", "Uint8": "B", "Int16": "h", "Uint16": "H", "Int32": "i",
                 "Uint32": "I", "Int64": "q", "Uint64": "Q", "Float32": "f", "Float64": "d"}
_SLOT = re.compile(r"self\._tab\.Offset\((\d+)\)")
_SCALAR = re.compile(r"self\._tab\.Get\(flatbuffers\.number_types\.(\w+)Flags, o \+ self\._tab\.Pos\)")
_VECTOR = re.compile(r"GetVectorAsNumpy\(flatbuffers\.number_types\.(\w+)Flags")
# A table with an empty vtable: every generated accessor returns its default on it.
_EMPTY_TABLE = struct.pack("<HHi", 4, 4, 4)


@dataclass(frozen=True)
class OptionField:
    name: str  # as the schema spells it: dilation_h_factor
    accessor: str  # the generated accessor: DilationHFactor
    slot: int
    fmt: str  # struct format of the scalar or of the vector's elements
    vector: bool
    default: Any


def _snake(name: str) -> str:
    # DilationHFactor -> dilation_h_factor
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _fields(cls: type) -> tuple[OptionField, ...]:
    empty = cls()
    empty.Init(_EMPTY_TABLE, 4)
    fields = []
    for attr, fn in vars(cls).items():
        if attr.startswith(("_", "GetRootAs", "Init")) or not callable(fn) or "BufferHasIdentifier" in attr:
            continue
        if attr.endswith(("AsNumpy", "Length", "IsNone")):
            continue
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError) as exc:  # never guess options: a default stride is a wrong result
            raise RuntimeError(f"cannot read the source of {cls.__name__}.{attr} from the tflite package, "
                               "which mcugen needs to decode operator options") from exc
        slot = _SLOT.search(source)
        if slot is None:
            continue
        numpy_fn = getattr(cls, attr + "AsNumpy", None)
        if numpy_fn is not None:
            kind = _VECTOR.search(inspect.getsource(numpy_fn))
            if kind and kind.group(1) in _FLAGS_FORMAT:
                fields.append(OptionField(_snake(attr), attr, int(slot.group(1)), _FLAGS_FORMAT[kind.group(1)],
                                          True, ()))
            continue
        kind = _SCALAR.search(source)
        if kind and kind.group(1) in _FLAGS_FORMAT and list(inspect.signature(fn).parameters) == ["self"]:
            fields.append(OptionField(_snake(attr), attr, int(slot.group(1)), _FLAGS_FORMAT[kind.group(1)], False,
                                      getattr(empty, attr)()))
    return tuple(fields)


_FIELDS_CACHE: dict[str, tuple[OptionField, ...]] = {}


def option_fields(type_name: str) -> tuple[OptionField, ...]:
    """The scalar and numeric-vector fields of an options table type (e.g. Conv2DOptions)."""
    fields = _FIELDS_CACHE.get(type_name)
    if fields is None:
        cls = getattr(tflite, type_name, None)
        fields = _FIELDS_CACHE[type_name] = _fields(cls) if isinstance(cls, type) else ()
    return fields


def decode_options(table: Table, type_name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in option_fields(type_name):
        if f.vector:
            values[f.name] = tuple(v.item() for v in table.numbers(f.slot, f.name, f.fmt))
            continue
        value = table.scalar(f.slot, f.fmt, f.name, f.default)
        if f.fmt == "?":
            value = bool(value)
        values[f.name] = _ENUM_FIELDS[f.name].get(value, value) if f.name in _ENUM_FIELDS else value
    return values


__all__ = ["OPTION_TYPE_NAMES", "OptionField", "decode_options", "option_fields"]
