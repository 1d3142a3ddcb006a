"""Model-derived text made safe to show: escaped and of bounded length.

Names and descriptions inside a .tflite file are arbitrary bytes. Before they reach a
message or a terminal, every character that is not printable (control characters, ESC
sequences, bidirectional overrides, line breaks) is written as a Python-style escape,
and a long text is shortened in the middle, where names carry the least information.
"""

from __future__ import annotations

ELLIPSIS = "…"
NAME_LIMIT = 60  # characters of a model-derived name inside an error message


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, limit: int | None = None, keep: str = "") -> str:
    """`text` with non-printable characters escaped and, over `limit` characters, shortened.

    `keep` lists characters to leave as they are (the line breaks of a multi-line message
    that mcugen wrote itself, never those of a name)."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in text)
    if limit is not None and len(text) > limit:
        head = max(1, (limit * 2) // 3)
        tail = max(0, limit - head - 1)
        text = text[:head] + ELLIPSIS + (text[-tail:] if tail else "")
    return text


def quoted(name: str, limit: int = NAME_LIMIT) -> str:
    """A model-derived name for a message: escaped, shortened, in single quotes."""
    return f"'{printable(name, limit)}'"
