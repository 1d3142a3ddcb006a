"""End to end through the CLI: generate -> build -> run (host, QEMU) -> compare, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODELS, REAL_MODELS

pytestmark = pytest.mark.slow


def mcugen(*args, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_person_detect_on_qemu_step_by_step(tmp_path):
    out = tmp_path / "pd"
    r = mcugen("generate", MODELS / "person_detect.tflite", "--target", "qemu-m7", "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    gen = json.loads(r.stdout)
    assert gen["style"] == "cubeai" and (out / "Makefile").is_file() and (out / "model.tflite").is_file()

    r = mcugen("build", out, "--json")
    assert r.returncode == 0, r.stderr
    built = json.loads(r.stdout)
    regions = {x["name"]: x for x in built["regions"]}
    assert regions["ssram23"]["sections"][".nn_arena"] == gen["arena_size"]
    assert "firmware.hex" in [Path(p).name for p in built["images"]]

    r = mcugen("flash-and-measure", out, "--inputs", MODELS / "person.bmp", "--inputs", MODELS / "no_person.bmp",
               "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert [x["outputs"] for x in rep["results"]] == [[[[-113, 113]]], [[[57, -57]]]]
    assert rep["bit_exact"] is True and rep["max_abs_diff"] == 0
    assert rep["timing"]["unit"] == "instructions" and rep["timing"]["median"] > 1_000_000
    assert rep["timing"]["ms"] is None  # QEMU counts instructions, not time
    assert rep["activation_bytes"] == gen["arena_size"]
    assert (out / "build" / "measure.json").is_file()


@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_validate_every_real_model_on_qemu(path):
    r = mcugen("validate", path, "--target", "qemu-m7", "--inputs", "20", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bit_exact"] is True and rep["inputs"] == 20 and rep["max_abs_diff"] == 0
    assert rep["timing"]["unit"] == "instructions" and rep["timing"]["min"] > 0


@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_validate_every_real_model_on_host(path):
    r = mcugen("validate", path, "--target", "host", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bit_exact"] is True and rep["inputs"] == 20


def test_generate_refuses_foreign_files_and_unsupported_ops(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own file")
    r = mcugen("generate", MODELS / "person_detect.tflite", "-t", "qemu-m7", "-o", out)
    assert r.returncode == 1 and "notes.txt" in r.stderr and "--force" in r.stderr
    assert (out / "notes.txt").read_text() == "my own file" and len(list(out.iterdir())) == 1


def test_generate_refuses_a_model_too_big_for_the_board(tmp_path):
    out = tmp_path / "big"
    r = mcugen("generate", MODELS / "person_detect.tflite", "-t", "stm32h7", "--place", "weights=dtcm", "-o", out)
    assert r.returncode == 1 and "region 'dtcm'" in r.stderr and "too many" in r.stderr
    assert not out.exists()


def test_tflm_without_a_tree_names_both_options(tmp_path):
    import os

    env = {**os.environ, "MCUGEN_TFLM_ROOT": str(tmp_path / "no-tflm-here")}
    r = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(MODELS / "person_detect.tflite"), "-t",
                        "qemu-m7", "--style", "tflm", "-o", str(tmp_path / "out")], capture_output=True, text=True,
                       env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "MCUGEN_TFLM_ROOT" in r.stderr + r.stdout and "--tflm-root" in r.stderr + r.stdout
    assert not (tmp_path / "out").exists()


def test_unsupported_op_lists_it_before_writing(tmp_path):
    from test_ops import _leaky16_model

    graph = _leaky16_model()
    model = tmp_path / "leaky16.tflite"
    model.write_bytes(graph.model_bytes)
    r = mcugen("generate", model, "-t", "qemu-m7", "-o", tmp_path / "out")
    assert r.returncode == 1 and "LEAKY_RELU" in r.stderr and "--style tflm" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_profile_per_layer_on_qemu_adds_up_and_draws_one_bar_per_layer(tmp_path):
    """validate --profile: per-layer instructions that add up to the whole inference within 2 %,
    each with its kernel; --plot draws one bar per layer; flash-and-measure --profile needs a
    project generated with --profile."""
    import re

    import jsonschema

    from mcugen.jsonreport import load_schema

    model = MODELS / "person_detect.tflite"
    svg = tmp_path / "layers.svg"
    r = mcugen("validate", model, "--target", "qemu-m7", "--inputs", "1", "--profile", "--plot", svg, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    jsonschema.validate(rep, load_schema())
    layers = rep["layers"]
    assert len(layers) == 31 and [x["op"] for x in layers][:3] == ["DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"]
    total = sum(x["count"] for x in layers)
    assert abs(total - rep["timing"]["median"]) <= 0.02 * rep["timing"]["median"], (total, rep["timing"])
    assert all(x["kernel"] for x in layers if x["op"] != "RESHAPE")
    assert abs(sum(x["share_percent"] for x in layers) - 100.0) < 0.1
    ticks = re.findall(r"<text[^>]*>\s*(\d+ [a-z_0-9]+(?: \[[^\]]*\])?)\s*</text>", svg.read_text())
    assert len(ticks) == 31

    out = tmp_path / "plain"
    assert mcugen("generate", model, "--target", "qemu-m7", "-o", out).returncode == 0
    assert mcugen("build", out).returncode == 0
    r = mcugen("flash-and-measure", out, "--profile")
    assert r.returncode == 1 and "--profile" in r.stderr and "Traceback" not in r.stderr
    r = mcugen("flash-and-measure", out, "--plot", tmp_path / "x.svg")
    assert r.returncode == 1 and "needs --profile" in r.stderr


@pytest.mark.slow
@pytest.mark.tflm
def test_tflm_profile_per_operator_on_qemu_adds_up(tmp_path):
    """--style tflm --profile: TFLM's interpreter reports every operator's invoke to mcugen's
    profiler; generate -> build -> flash-and-measure --profile gives one count per operator,
    named with the kernel TFLM linked, adding up to the whole inference within 2 %."""
    import jsonschema

    from mcugen.jsonreport import load_schema

    model = MODELS / "person_detect.tflite"
    out = tmp_path / "pd"
    r = mcugen("generate", model, "--target", "qemu-m7", "--style", "tflm", "--profile", "-o", out)
    assert r.returncode == 0, r.stderr
    assert mcugen("build", out).returncode == 0
    svg = tmp_path / "tflm.svg"
    r = mcugen("flash-and-measure", out, "--inputs", MODELS / "person.bmp", "--profile", "--plot", svg, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    jsonschema.validate(rep, load_schema())
    layers = rep["layers"]
    assert rep["style"] == "tflm" and len(layers) == 31 and rep["bit_exact"] is True
    assert [x["op"] for x in layers][-3:] == ["CONV_2D", "RESHAPE", "SOFTMAX"]
    assert [x["kernel"] for x in layers][-3:] == ["cmsis_nn", "reference", "cmsis_nn"]
    assert all(x["count"] > 0 for x in layers)
    total = sum(x["count"] for x in layers)
    assert abs(total - rep["timing"]["median"]) <= 0.02 * rep["timing"]["median"], (total, rep["timing"])
    assert svg.read_text().count("conv_2d [cmsis_nn]") >= 14
