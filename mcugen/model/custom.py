"""A custom operator's options: the flexbuffer map in the operator's custom_options, decoded
into plain Python values for the custom operators mcugen lowers itself.

TFLite writes a custom op's parameters as a flexbuffer map (custom_options_format FLEXBUFFERS);
the decoding is the `flatbuffers` package's. Only maps of scalars are accepted (what
TFLite_Detection_PostProcess has); anything else is a ModelError naming the operator, never a
traceback from the decoder.
"""

from __future__ import annotations

from typing import Any

from flatbuffers import flexbuffers

from mcugen.errors import ModelError
from mcugen.text import printable

# Custom operators whose options mcugen reads (the others keep their bytes unread: TFLM reads them).
DECODED_CUSTOM_OPS = frozenset({"TFLite_Detection_PostProcess"})
MAX_OPTIONS_BYTES = 1 << 16  # a map of a few scalars is ~300 bytes


def decode_custom_options(custom_code: str, data: bytes, where: str) -> dict[str, Any]:
    """The options map of custom op `custom_code` ({} for an op mcugen does not read or no bytes)."""
    if custom_code not in DECODED_CUSTOM_OPS or not data:
        return {}
    if len(data) > MAX_OPTIONS_BYTES:
        raise ModelError(f"{where}: custom options of {len(data):,} bytes (a map of scalars expected).",
                         hint="The model file is damaged or not a TFLite model; re-export it.")
    try:
        root = flexbuffers.Loads(bytes(data))
    except Exception as exc:  # the decoder raises whatever its reads hit on damaged bytes
        raise ModelError(f"{where}: its custom options are not a readable flexbuffer "
                         f"({type(exc).__name__}: {printable(str(exc), 80)}).",
                         hint="The model file is damaged; re-export it.") from exc
    if not isinstance(root, dict):
        raise ModelError(f"{where}: its custom options are a {type(root).__name__}, not a map.",
                         hint="The model file is damaged; re-export it.")
    options: dict[str, Any] = {}
    for key, value in root.items():
        if not isinstance(value, (bool, int, float)):
            raise ModelError(f"{where}: custom option {printable(str(key), 40)} is a {type(value).__name__}, "
                             "not a number.", hint="The model file is damaged; re-export it.")
        options[str(key)] = value
    return options


__all__ = ["DECODED_CUSTOM_OPS", "decode_custom_options"]
