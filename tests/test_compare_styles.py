"""`validate --compare-tflm`: TFLM + CMSIS-NN beside mcugen's network, layer by layer, in the
table, the --json and the --plot picture."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import MODELS
from mcugen.compare_styles import paired_layers, tflm_options
from mcugen.errors import McugenError
from mcugen.options import GenerateOptions
from mcugen.plot import plot_profile_pair

PERSON = MODELS / "person_detect.tflite"


def mcugen(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL)


def svg_texts(path) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>.*?</text>", path.read_text(), re.S)]


def _layer(index, op, count, kernel="", variant="", op_index=None):
    return {"index": index, "op": op, "count": count, "kernel": kernel, "kernel_variant": variant,
            "op_index": index if op_index is None else op_index}


# TFLM runs the SHAPE op mcugen folded (no index in mcugen's graph); mcugen ran operator 0 as two
# patch stages and operator 1 as one node.
TFLM = [dict(_layer(0, "SHAPE", 30, "reference"), op_index=None), _layer(1, "CONV_2D", 900, "cmsis_nn", op_index=0),
        _layer(2, "RESHAPE", 20, "reference", op_index=1)]
MINE = [_layer(0, "CONV_2D", 200, "mcu_conv2d_s8", "conv3x3", op_index=0),
        _layer(1, "CONV_2D", 250, "mcu_conv2d_s8", "conv3x3", op_index=0),
        _layer(2, "RESHAPE", 0, "", "", op_index=1)]


def test_layers_pair_up_by_the_operator_in_tflms_order():
    rows = paired_layers(MINE, TFLM)
    assert [(r["op_index"], r["op"], r["mcugen"], r["tflm"]) for r in rows] == [
        (None, "SHAPE", None, 30), (0, "CONV_2D", 450, 900), (1, "RESHAPE", 0, 20)]
    assert rows[1]["mcugen_kernel"] == "conv3x3" and rows[1]["tflm_kernel"] == "cmsis_nn"
    assert sum(r["mcugen"] or 0 for r in rows) == sum(x["count"] for x in MINE)
    assert sum(r["tflm"] or 0 for r in rows) == sum(x["count"] for x in TFLM)


def test_an_operator_only_mcugen_timed_gets_a_row_of_its_own():
    rows = paired_layers(MINE + [_layer(3, "SOFTMAX", 7, "mcu_softmax_s8", op_index=2)], TFLM)
    assert rows[-1] == {"op_index": 2, "op": "SOFTMAX", "mcugen": 7, "mcugen_kernel": "mcu_softmax_s8",
                        "tflm": None, "tflm_kernel": ""}


def test_the_pair_plot_has_two_bars_and_both_kernels_per_operator(tmp_path):
    pytest.importorskip("matplotlib")
    svg = plot_profile_pair(paired_layers(MINE, TFLM), "instructions", tmp_path / "pair.svg")
    texts = svg_texts(svg)
    assert "0 conv_2d [conv3x3 | cmsis_nn]" in texts and "- shape [- | reference]" in texts
    assert "mcugen (cubeai)" in texts and "TFLM + CMSIS-NN (tflm)" in texts


def test_the_tflm_side_keeps_only_what_both_styles_share():
    mine = GenerateOptions(pools="dtcm,axisram", patch="auto", kernels="portable", placement={"weights": "qspi"},
                           baud=921600, name="net")
    theirs = tflm_options(mine).checked()
    assert (theirs.style, theirs.kernels, theirs.placement, theirs.baud) == ("tflm", None, {"weights": "qspi"}, 921600)


def test_compare_tflm_refuses_the_tflm_style_and_a_farm():
    from mcugen.compare_styles import check_compare_request

    check_compare_request(False, "tflm", True)
    with pytest.raises(McugenError, match="already TFLM"):
        check_compare_request(True, "tflm", False)
    with pytest.raises(McugenError, match="not over a farm"):
        check_compare_request(True, "cubeai", True)
    r = mcugen("validate", PERSON, "--style", "tflm", "--compare-tflm")
    assert r.returncode == 1 and "--style tflm" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.tflm
def test_validate_compare_tflm_profiles_both_styles_on_qemu(tmp_path):
    """person_detect on qemu-m7: both styles profiled, each adding up to its whole inference
    within 2 %, the table and --json carry TFLM's side, --plot draws both bars per layer."""
    svg = tmp_path / "both.svg"
    r = mcugen("validate", PERSON, "-t", "qemu-m7", "--inputs", "1", "--profile", "--compare-tflm", "--plot", svg,
               "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    for side in (rep, rep["tflm"]):
        total = sum(x["count"] for x in side["layers"])
        assert abs(total - side["timing"]["median"]) <= 0.02 * side["timing"]["median"], (side["style"], total)
    assert (rep["style"], rep["tflm"]["style"], rep["tflm"]["bit_exact"]) == ("cubeai", "tflm", True)
    assert len(rep["tflm"]["layers"]) == 31
    texts = svg_texts(svg)
    assert sum(1 for t in texts if re.fullmatch(r"\d+ [a-z_0-9]+ \[[^|\]]+ \| (cmsis_nn|reference)\]", t)) == 31
    r = mcugen("validate", PERSON, "-t", "qemu-m7", "--inputs", "1", "--compare-tflm")
    assert r.returncode == 0, r.stderr
    assert re.search(r"whole inference \(median\): mcugen [\d,]+ instructions, TFLM [\d,]+ instructions", r.stdout)

