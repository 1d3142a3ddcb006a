"""The memory plan drawn (`estimate --plot`, `inspect --plot`): one box per buffer, one lane per
pool, the peak, patch stages and I/O labelled; a clear error without matplotlib."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import MODELS
from mcugen.model.load import load_model
from mcugen.plot import live_per_op
from mcugen.planner import plan_memory

PERSON = MODELS / "person_detect.tflite"


def mcugen(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def svg_texts(path) -> list[str]:
    """The text elements of a matplotlib SVG (written with svg.fonttype none: text stays text)."""
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>.*?</text>", path.read_text(), re.S)]


def test_the_peak_is_the_most_bytes_in_use_and_never_above_the_plan():
    g = load_model(PERSON)
    plan = plan_memory(g)
    used = live_per_op(plan, 0, len(g.operators))
    assert max(used) <= plan.arena_size and max(used) >= plan.bound_tensor


def test_estimate_plot_draws_person_detect_plain_and_patched(tmp_path):
    plain = tmp_path / "plain.svg"
    r = mcugen("estimate", PERSON, "-t", "stm32h7", "--plot", plain)
    assert r.returncode == 0, r.stderr
    texts = svg_texts(plain)
    assert any(t.startswith("peak: ") and "in use at op" in t for t in texts), texts
    assert "input: input" in texts and "output: MobilenetV1/Predictions/Reshape_1" in texts
    assert any("arena 37,328 B" in t for t in texts) and not any("patch-based" in t for t in texts)
    ops = load_model(PERSON).operators
    assert [t for t in texts if re.fullmatch(r"\d+ [a-z_0-9]+", t)] == [f"{op.index} {op.opcode.lower()}" for op in ops]
    patched = tmp_path / "patched.png"
    r = mcugen("estimate", PERSON, "-t", "qemu-m7", "--patch", "auto", "--plot", patched)
    assert r.returncode == 0, r.stderr
    assert patched.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = mcugen("estimate", PERSON, "-t", "qemu-m7", "--patch", "auto", "--plot", tmp_path / "patched.svg")
    assert "patch-based stage" in svg_texts(tmp_path / "patched.svg")


def test_inspect_plot_and_the_errors(tmp_path):
    r = mcugen("inspect", PERSON, "--plot", tmp_path / "plan.svg", "--no-layers")
    assert r.returncode == 0, r.stderr and (tmp_path / "plan.svg").is_file()
    r = mcugen("estimate", PERSON, "-t", "stm32h7", "--plot", tmp_path / "plan.gif")
    assert r.returncode == 1 and "cannot draw a '.gif'" in r.stderr and "Traceback" not in r.stderr
    r = mcugen("estimate", PERSON, "-t", "stm32h7", "-s", "tflm", "--plot", tmp_path / "t.svg")
    assert r.returncode == 1 and "cubeai" in r.stderr
    # without matplotlib (an interpreter that cannot import it): the way to get it, no traceback
    blocker = tmp_path / "no_mpl"
    (blocker / "matplotlib").mkdir(parents=True)
    (blocker / "matplotlib" / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    r = mcugen("estimate", PERSON, "-t", "stm32h7", "--plot", tmp_path / "x.svg",
               env={"PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])})
    assert r.returncode == 1 and "matplotlib" in r.stderr and "mcugen[plot]" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "x.svg").exists()


@pytest.mark.slow
def test_estimate_plot_draws_mobilenet_v2_over_pools(tmp_path):
    import tfops
    from tfmodels import cached_model

    model = cached_model("mobilenet_v2_224", tfops.mobilenet_v2_flat)
    out = tmp_path / "mbv2.svg"
    r = mcugen("estimate", model, "-t", "rt1170", "--pools", "dtcm,ocram1,ocram2,sdram", "--plot", out,
               timeout=1200)
    assert r.returncode == 0, r.stderr
    texts = svg_texts(out)
    lanes = [t for t in texts if t.endswith("offset (B)")]
    assert len(lanes) >= 2 and "dtcm offset (B)" in lanes  # one lane per pool used
    assert sum(t.startswith("peak: ") for t in texts) == len(lanes)
