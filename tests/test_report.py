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


# ---------------------------------------------------------------------------------
# every command piped at 80 columns shows every value whole (mcugen.tables)


def _piped(*args, env=None) -> str:
    import os
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "COLUMNS": "80", **(env or {})})
    assert r.returncode == 0, r.stderr
    return r.stdout


def _whole(text: str, values) -> None:
    lines = text.splitlines()
    missing = [v for v in values if not any(v in line for line in lines)]
    assert not missing, f"cut or missing at 80 columns: {missing[:10]}"
    cut = [w for line in lines for w in line.split() if w.endswith("…") and not w.rstrip("…").isalnum()]
    assert not cut, cut


def test_estimate_and_inspect_at_80_columns_show_every_value_whole():
    import json

    person = MODELS / "person_detect.tflite"
    for style in ("cubeai", "tflm"):
        doc = json.loads(_piped("estimate", person, "-t", "stm32h7", "-s", style, "--json"))
        text = _piped("estimate", person, "-t", "stm32h7", "-s", style)
        values = [f"0x{r['base']:08X}" for r in doc["regions"]]
        values += [f"{r[k]:,}" for r in doc["regions"] for k in ("size", "used", "free")]
        values += [f"{v:,}" for v in doc["code_flash_parts"].values()]
        _whole(text, values)
    doc = json.loads(_piped("inspect", person, "--json"))
    text = _piped("inspect", person)
    values = [x for layer in doc["layers"] for x in (
        layer["op"], "[" + ",".join(map(str, layer["output_shape"])) + "]", f"{layer['macs']:,}",
        f"{layer['activation_bytes']:,}", layer["kernel"] or "-")]
    _whole(text, values + [t["name"] for t in doc["inputs"] + doc["outputs"]])
    text = _piped("boards")
    doc = json.loads(_piped("boards", "--json"))
    _whole(text, [b["name"] for b in doc["boards"]] + [r["name"] for b in doc["boards"] for r in b["regions"]])


@pytest.mark.slow
def test_validate_build_and_generate_at_80_columns_show_every_value_whole(tmp_path):
    import json

    person = MODELS / "person_detect.tflite"
    text = _piped("validate", person, "-t", "host", "--inputs", "2")
    doc = json.loads(_piped("validate", person, "-t", "host", "--inputs", "2", "--json"))
    out = doc["outputs"][0]
    # (timing differs between two host runs: the metrics, shapes and names do not)
    values = [out["name"], f"{out['metrics']['nse']:.6f}", f"{out['metrics']['cos']:.6f}",
              "[" + ",".join(map(str, out["shape"])) + "]", f"{out['mismatches']}/{out['elements']}"]
    _whole(text, values)
    text = _piped("generate", person, "-t", "qemu-m7", "-o", tmp_path / "pd")
    _whole(text, ["52,432", "218,960"])  # params and weights flash, as estimate names them
    text = _piped("build", tmp_path / "pd")
    doc = json.loads(_piped("build", tmp_path / "pd", "--json"))
    _whole(text, [r["name"] for r in doc["regions"]] + [f"{r['used']:,}" for r in doc["regions"]]
           + [f"{r['size']:,}" for r in doc["regions"]] + ["firmware.hex"])
