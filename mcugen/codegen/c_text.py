"""C text for the generated sources: array initializers, struct blocks, safe comments and
the first line that stamps every file with mcugen's version and the model's hash."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mcugen import __version__
from mcugen.lower.call import CRef, StructParam, c_float
from mcugen.model.graph import Graph


C99_MAX_STRING = 4095  # the longest string literal every C99 compiler must take (5.2.4.1)


def c_array_init(values: np.ndarray, ctype: str, per_line: int = 24) -> str:
    """A C initializer for a flat array: a string literal for 8-bit data (up to the C99
    limit), numbers otherwise."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if flat.size == 0:
        return "{ 0 }"
    if ctype in ("int8_t", "uint8_t") and flat.size <= C99_MAX_STRING:
        raw = flat.astype(np.uint8 if ctype == "uint8_t" else np.int8).tobytes()
        chunk = 48
        lines = []
        for i in range(0, len(raw), chunk):
            lines.append('"' + "".join(f"\\x{b:02x}" for b in raw[i : i + chunk]) + '"')
        return "\n        ".join(lines)
    if ctype == "float":
        items = [c_float(float(v)) for v in flat]
    elif ctype == "int32_t":
        items = [("(-2147483647 - 1)" if v == -(2**31) else str(v)) for v in flat.astype(np.int64).tolist()]
    elif ctype == "int64_t":
        items = [f"{v}LL" for v in flat.astype(np.int64).tolist()]
    else:
        items = [str(v) for v in flat.astype(np.int64).tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "{\n        " + ",\n        ".join(lines) + ",\n    }"


def safe_text(text: str, limit: int = 80) -> str:
    """Text that is safe both inside a C comment and a C string literal (names from the model)."""
    out = []
    for ch in str(text)[:limit]:
        if ch in '\\"':
            out.append("'" if ch == '"' else "/")
        elif not (32 <= ord(ch) < 127) or ch == "?":  # no trigraphs either
            out.append("_")
        else:
            out.append(ch)
    return "".join(out).replace("*/", "*_/").replace("/*", "/_*")


def c_field(value: Any, resolve: Mapping[str, str]) -> str:
    if isinstance(value, CRef):
        return resolve[value.name]
    if isinstance(value, (list, tuple)):
        return "{ " + ", ".join(c_field(v, resolve) for v in value) + " }"
    if isinstance(value, float):
        return c_float(value)
    v = int(value)
    return "(-2147483647 - 1)" if v == -(2**31) else str(v)


def render_struct(s: StructParam, symbol: str, resolve: Mapping[str, str]) -> str:
    fields = ", ".join(f".{k} = {c_field(v, resolve)}" for k, v in s.fields.items())
    return f"static const {s.ctype} {symbol} = {{ {fields} }};"


def stamp(rel: str, text: str, graph: Graph, how: str) -> str:
    """Prefixes a first line naming mcugen, its version and the model's sha256."""
    line = f"{how} by mcugen {__version__} for model '{safe_text(graph.name)}' (sha256 {graph.model_hash})"
    if rel.endswith((".c", ".h", ".ld", ".cc", ".cpp")):
        return f"/* {rel}: {line} */\n{text}"
    if rel == "Makefile" or rel.endswith((".mk", ".txt")):
        return f"# {line}\n{text}"
    return text
