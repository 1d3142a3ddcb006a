"""Rendering: model-derived text never acts as markup or reaches the terminal raw."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from conftest import MODELS
from mcugen import report
from mcugen.inspect import summarize
from mcugen.model.load import load_model


def test_safe_text_escapes_markup_controls_and_length():
    assert report.safe_text("[bold]x[/x]") == "\\[bold]x\\[/x]"
    assert report.safe_text("a\x1b[2Jb") == "a\\x1b[2Jb"  # [2J is no tag: nothing to escape
    assert report.safe_text("ends with a backslash\\") == "ends with a backslash\\\\"
    assert len(report.safe_text("y" * 1000)) == report.TEXT_LIMIT
    console = Console(file=io.StringIO(), color_system=None)
    for hostile in ("[/x]", "[bold]", "x\\", "[/]", "[link=file:///etc]a[/link]", "\\[/x]"):
        console.print(f"[bold]{report.safe_text(hostile)}[/bold]")
    assert console.file.getvalue().splitlines() == ["[/x]", "[bold]", "x\\", "[/]", "[link=file:///etc]a[/link]",
                                                     "\\[/x]"]


@pytest.fixture
def recorded(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(report, "console", Console(file=out, width=250, color_system=None))
    return out


def test_summary_prints_hostile_names_literally(recorded):
    g = load_model(MODELS / "hello_world_int8.tflite")
    tensors = list(g.tensors)
    tensors[g.inputs[0]] = dataclasses.replace(tensors[g.inputs[0]], name="[/x]in\x1b]0;pwn\x07")
    g = dataclasses.replace(g, name="[bold]m", description="[/bold][red]\x1b[2Jdesc", tensors=tuple(tensors))
    report.render_summary(summarize(g))
    text = recorded.getvalue()
    assert "[bold]m  sha256" in text and "description: [/bold][red]\\x1b[2Jdesc" in text
    assert "[/x]in\\x1b]0;pwn\\x07" in text and "\x1b" not in text and "\x07" not in text
