"""Footprint estimates: figures, regions and the fit check."""

from __future__ import annotations

import pytest

from conftest import REAL_MODELS
from mcugen.boards import all_boards, get_board
from mcugen.errors import FitError
from mcugen.estimate import WEIGHTS_ALIGNMENT, estimate, require_fit
from mcugen.lower import Kernels, lower
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model
from mcugen.support import unsupported_ops
from mcugen.tflm.arena import estimate_tflm_arena
from mcugen.tflm.targets import target_for_board


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
    """Each figure is what its source says: the activation plan (cubeai) or TFLM's arena
    replay (tflm), the aligned flatbuffer (tflm), code as the sum of its parts; and the
    regions hold exactly the figures, where the board places them."""
    g = load_model(path)
    for style in ("cubeai", "tflm"):
        if unsupported_ops(g, style):
            continue
        for board in all_boards():
            fp = estimate(g, board, style)
            if style == "cubeai":
                assert fp.activation_ram == fp.plan.arena_size >= fp.plan.bound_tensor > 0
            else:
                kernels = "reference" if board.is_host else "cmsis_nn"
                assert fp.activation_ram == estimate_tflm_arena(g, kernels, target_for_board(board)).total
                aligned = -(-len(g.model_bytes) // WEIGHTS_ALIGNMENT) * WEIGHTS_ALIGNMENT
                assert (fp.weights_flash, fp.params_flash) == (aligned, 0)
            assert fp.code_flash == sum(fp.code_flash_parts.values())
            assert fp.runtime_ram == sum(fp.runtime_ram_parts.values())
            if board.is_host:
                assert fp.regions == ()
                continue
            placed = {k: sum(r.items.get(k, 0) for r in fp.regions) for k in ("code", "weights", "params", "arena")}
            assert placed == {"code": fp.code_flash, "weights": fp.weights_flash + fp.params_flash - placed["params"],
                              "params": placed["params"], "arena": fp.activation_ram}, (board.name, style)
            code_region = next(r for r in fp.regions if "code" in r.items)
            assert code_region.name == board.placement.code
            # the tables computed at generation time are .rodata: they go with the code
            assert all(r is code_region for r in fp.regions if "params" in r.items)
            assert fp.fits == all(r.used <= r.size for r in fp.regions)


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
    """mcugen/data/code_sizes.json must be re-measured (python -m mcugen.calibrate.codesize --update)
    whenever a firmware C file changes, and must match a fresh measurement."""
    from mcugen import codesize
    from mcugen.calibrate.codesize import measure_objects, sources_hash

    table = codesize.load_table()
    assert table.get("sources_hash") == sources_hash(), \
        "firmware changed: run python -m mcugen.calibrate.codesize --update"
    fresh = measure_objects()
    assert fresh["objects"] == table["objects"]
    assert fresh["libc_bytes"] == table["extra"]["libc_bytes"]


def test_tflm_code_flash_without_a_cached_library_comes_from_the_packaged_table(person_detect, tmp_path,
                                                                                monkeypatch):
    """A fresh machine (no TFLM library built yet) gets the figures of the table measured on the
    real Cortex-M7 CMSIS-NN library, not zeros (issue 19: 2,496 B instead of ~99 KB)."""
    from mcugen import codesize

    monkeypatch.setenv("MCUGEN_CACHE_DIR", str(tmp_path / "empty"))
    tflm = codesize.load_table()["extra"]["tflm"]
    assert tflm["framework"] > 10_000 and tflm["groups"] and tflm["library"].startswith("cortex-m7-cmsis_nn")
    g = load_model(person_detect)
    size = codesize.tflm_code_size(g, get_board("stm32h7"))
    assert "no cached TFLM library" in size.notes[0]
    assert all(size.by_part[f"tflm {op.lower()}"] > 0 for op in g.opcodes), size.by_part
    # a helper two kernels share (CONV_2D and DEPTHWISE_CONV_2D both use CMSIS-NN's) counts once
    alone = sum(tflm["ops"][op] for op in g.opcodes)
    assert sum(size.by_part[f"tflm {op.lower()}"] for op in g.opcodes) < alone
    assert 90_000 < size.total < 110_000  # the real link: 99,480 B (stm32h7, gcc 12.2)


def test_cubeai_legacy_api_and_own_io_figures():
    """--c-api legacy adds the legacy layer's code and data; I/O outside the activations
    counts with the data (mcugen.pipeline.estimate_model, what `mcugen estimate` shows)."""
    from mcugen.estimate import LEGACY_API_CODE_BYTES, LEGACY_API_DATA_BYTES

    g = load_model(REAL_MODELS[0].parent / "micro_speech_quantized.tflite")
    board = get_board("qemu-m7")
    base = estimate_model(g, board)
    legacy = estimate_model(g, board, GenerateOptions(c_api="legacy", inputs_allocation=False))
    assert legacy.code_flash == base.code_flash + LEGACY_API_CODE_BYTES
    assert legacy.code_flash_parts["legacy API"] == LEGACY_API_CODE_BYTES
    io = g.input_tensors[0].nbytes
    assert legacy.runtime_ram == base.runtime_ram + LEGACY_API_DATA_BYTES + io
    assert legacy.activation_ram <= base.activation_ram


def test_simd_variants_cost_at_most_two_percent_or_1k_of_activation_ram(models_dir):
    """A variant whose scratch would grow the plan (micro_speech's 4000-deep FULLY_CONNECTED
    expands its input into 16 KB) is left to the portable kernel."""
    from mcugen.planner import plan_memory

    board = get_board("qemu-m7")
    for name in ("micro_speech_quantized", "person_detect"):
        g = load_model(models_dir / f"{name}.tflite")
        portable = plan_memory(g).arena_size
        fp = estimate(g, board)
        assert fp.activation_ram <= max(portable * 1.02, portable + 1024), name
    g = load_model(models_dir / "micro_speech_quantized.tflite")
    fc = next(op for op in g.operators if op.opcode == "FULLY_CONNECTED").index
    lowered = lower(g, board)
    assert lowered.variants[fc] is not None and lowered.variants[fc].variant.startswith("fc")  # a variant exists ...
    assert lowered.calls[fc] is lowered.portable[fc]  # ... but costs too much RAM
    unbounded = lower(g, board, Kernels(max_ram_growth=None))
    assert unbounded.calls[fc].variant.startswith("fc")
    assert plan_memory(g, unbounded.scratch_bytes).arena_size > plan_memory(g, lowered.scratch_bytes).arena_size + 1024
