"""Model-derived text made safe to show: escaped, bounded."""

from __future__ import annotations

from mcugen.text import printable, quoted


def test_control_characters_and_escape_sequences_are_escaped():
    assert printable("a\x1b[31mb\x07\r\n\t\x00") == "a\\x1b[31mb\\x07\\x0d\\x0a\\x09\\x00"
    assert printable("c1 \u009b bidi \u202e wide \U000e0001") == "c1 \\x9b bidi \\u202e wide \\U000e0001"
    assert printable("MobilenetV1/Conv2d_0/Relu6 ünïcode €") == "MobilenetV1/Conv2d_0/Relu6 ünïcode €"


def test_keep_leaves_the_listed_characters():
    assert printable("line 1\nline\x1b 2\t", keep="\n\t") == "line 1\nline\\x1b 2\t"


def test_long_text_is_shortened_in_the_middle():
    text = "head/" + "x" * 1000 + "/tail"
    short = printable(text, 60)
    assert len(short) == 60 and short.startswith("head/") and short.endswith("/tail") and "…" in short
    assert printable("short", 60) == "short"
    assert len(printable("\x1b" * 100, 20)) == 20  # the limit counts the escapes


def test_quoted():
    assert quoted("conv/w") == "'conv/w'"
    assert len(quoted("n" * 500)) == 62
