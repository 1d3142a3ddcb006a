"""Footprint estimates: figures, regions and the fit check."""

from __future__ import annotations

import pytest

from conftest import REAL_MODELS
from mcugen.boards import all_boards, get_board
from mcugen.errors import FitError
from mcugen.estimate import estimate, require_fit
from mcugen.model import load_model
from mcugen.ops import unsupported_ops


def test_person_detect_on_stm32h7(person_detect):
    g = load_model(person_detect)
    fp = estimate(g, get_board("stm32h7"))
    assert abs(fp.weights_flash - 218_928) / 218_928 < 0.01  # 213.8 KiB of constants
    assert 36_864 <= fp.activation_ram <= 55_296
    assert fp.total_flash == fp.weights_flash + fp.params_flash + fp.code_flash
    assert fp.total_ram == fp.activation_ram + fp.runtime_ram
    assert fp.fits
    regions = {r.name: r for r in fp.regions}
    assert regions["flash"].items["weights"] == fp.weights_flash + fp.params_flash
    assert regions["axisram"].items["arena"] == fp.activation_ram
    j = fp.to_json()
    for key in ("activation_ram", "runtime_ram", "weights_flash", "code_flash", "total_ram", "total_flash"):
        assert isinstance(j[key], int)
    assert j["fits"] is True and j["regions"]


@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_every_real_model_estimates_on_every_board(path):
    g = load_model(path)
    for style in ("cubeai", "tflm"):
        if unsupported_ops(g, style):
            continue
        for board in all_boards():
            if style == "tflm":
                pytest.importorskip("mcugen.tflm.arena")
            fp = estimate(g, board, style)
            assert fp.activation_ram > 0 and fp.weights_flash > 0


def test_too_big_names_region_need_and_room(person_detect):
    g = load_model(person_detect)
    fp = estimate(g, get_board("stm32h7"), placement={"arena": "itcm", "weights": "dtcm"})
    assert not fp.fits
    with pytest.raises(FitError) as err:
        require_fit(fp)
    msg = err.value.message
    assert "region 'dtcm'" in msg and "131,072 B" in msg and "too many" in msg
    assert "region 'itcm'" not in msg  # the arena fits ITCM's 64 KiB


def test_placement_override_moves_the_arena(person_detect):
    g = load_model(person_detect)
    fp = estimate(g, get_board("stm32h7"), placement={"arena": "dtcm"})
    regions = {r.name: r for r in fp.regions}
    assert regions["dtcm"].items["arena"] == fp.activation_ram
    assert "axisram" not in regions


@pytest.mark.slow
def test_code_size_table_is_current():
    """mcugen/data/code_sizes.json must be re-measured (python -m mcugen.codesize --update)
    whenever a firmware C file changes, and must match a fresh measurement."""
    from mcugen import codesize

    table = codesize.load_table()
    assert table.get("sources_hash") == codesize.sources_hash(), "firmware changed: run python -m mcugen.codesize --update"
    fresh = codesize.measure_objects()
    assert fresh["objects"] == table["objects"]
    assert fresh["libc_bytes"] == table["extra"]["libc_bytes"]


def test_cubeai_legacy_api_and_own_io_figures():
    """--c-api legacy adds the legacy layer's code and data; I/O outside the activations
    counts with the data (mcugen.project.estimate_model, what `mcugen estimate` shows)."""
    from mcugen import project
    from mcugen.estimate import LEGACY_API_CODE_BYTES, LEGACY_API_DATA_BYTES

    g = load_model(REAL_MODELS[0].parent / "micro_speech_quantized.tflite")
    board = get_board("qemu-m7")
    base = project.estimate_model(g, board)
    legacy = project.estimate_model(g, board, c_api="legacy", inputs_allocation=False)
    assert legacy.code_flash == base.code_flash + LEGACY_API_CODE_BYTES
    assert legacy.code_flash_parts["legacy API"] == LEGACY_API_CODE_BYTES
    io = g.input_tensors[0].nbytes
    assert legacy.runtime_ram == base.runtime_ram + LEGACY_API_DATA_BYTES + io
    assert legacy.activation_ram <= base.activation_ram


def test_simd_variants_cost_at_most_two_percent_or_1k_of_activation_ram(models_dir):
    """A variant whose scratch would grow the plan (micro_speech's 4000-deep FULLY_CONNECTED
    expands its input into 16 KB) is left to the portable kernel."""
    from mcugen.codegen.arm.select import arm_kernel_selector, ram_bounded
    from mcugen.planner import plan_memory

    board = get_board("qemu-m7")
    for name in ("micro_speech_quantized", "person_detect"):
        g = load_model(models_dir / f"{name}.tflite")
        portable = plan_memory(g).arena_size
        fp = estimate(g, board)
        assert fp.activation_ram <= max(portable * 1.02, portable + 1024), name
    g = load_model(models_dir / "micro_speech_quantized.tflite")
    fc = next(op for op in g.operators if op.opcode == "FULLY_CONNECTED")
    assert arm_kernel_selector()(g, fc) is not None  # a variant exists ...
    assert ram_bounded(g, arm_kernel_selector())(g, fc) is None  # ... but costs too much RAM
