"""Weights and arena placed by speed (mcugen.autoplace), through the pipeline's estimate:
internal first, external only when needed, the user's --place kept."""

from __future__ import annotations

import pytest

from conftest import needs_tf
from mcugen.autoplace import candidates, usable
from mcugen.boards import get_board
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model, plan_model


@pytest.fixture(scope="module")
def mobilenet_v2():
    """MobileNet V2 1.0 224: 3.86 MB of weights, 1.2 MB of activations."""
    import tfops
    from tfmodels import cached_model

    return load_model(cached_model("mobilenet_v2_224", tfops.mobilenet_v2_flat))


def _where(fp, what):
    return [r.name for r in fp.regions if r.items.get(what)]


def test_candidates_internal_first_then_by_speed():
    h747 = get_board("stm32h747i-disco")
    assert [r.name for r in candidates(h747, "arena")] == ["dtcm", "itcm", "axisram", "sram123", "sram4", "sdram"]
    # flash_cm4 holds the Cortex-M4's parking image: never the weights'
    assert [r.name for r in candidates(h747, "weights")] == ["flash", "qspi"]
    assert [r.name for r in candidates(get_board("rt1170"), "arena")][-1] == "sdram"
    # the NUCLEO has no external memory; QEMU's weights go to RAM (it has no flash)
    assert not any(r.external for r in candidates(get_board("stm32h7"), "arena"))
    qemu = get_board("qemu-m7")
    assert all(usable(qemu, r, "weights") for r in qemu.regions)


def test_person_detect_stays_where_the_board_puts_it(person_detect):
    """A model that fits is not moved: the placement is boards.yaml's."""
    graph = load_model(person_detect)
    for name in ("stm32h747i-disco", "rt1170"):
        board = get_board(name)
        planned = plan_model(graph, board)
        assert planned.options.placement == {}
        assert _where(planned.footprint, "arena") == [board.placement.arena]
        assert not any("placed in" in n for n in planned.footprint.notes)


@needs_tf
def test_mobilenet_v2_goes_to_external_memory_where_needed(mobilenet_v2):
    h747 = plan_model(mobilenet_v2, get_board("stm32h747i-disco"))
    assert h747.footprint.fits
    assert h747.options.placement == {"arena": "sdram", "weights": "qspi"}
    assert _where(h747.footprint, "arena") == ["sdram"] and _where(h747.footprint, "weights") == ["qspi"]
    assert _where(h747.footprint, "code") == ["flash"]  # code never moves
    notes = [n for n in h747.footprint.notes if "placed in" in n]
    assert len(notes) == 2 and any("weights (3,8" in n and "qspi (external, slow)" in n for n in notes)
    # the RT1170's boot flash holds the weights already: only the arena moves
    rt = plan_model(mobilenet_v2, get_board("rt1170"))
    assert rt.footprint.fits and rt.options.placement == {"arena": "sdram"}
    # the user's --place is kept, even when it does not fit
    kept = estimate_model(mobilenet_v2, get_board("stm32h747i-disco"), GenerateOptions(placement={"arena": "axisram"}))
    assert _where(kept, "arena") == ["axisram"] and not kept.fits and _where(kept, "weights") == ["qspi"]
    # patched into internal RAM: the arena stays in the AXI SRAM
    patched = plan_model(mobilenet_v2, get_board("stm32h747i-disco"), GenerateOptions(patch="auto"))
    assert patched.footprint.fits and patched.options.placement == {"weights": "qspi"}
    assert _where(patched.footprint, "arena") == ["axisram"]
