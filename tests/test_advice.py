"""The "does not fit" error proposes what would fit (mcugen.advice), each figure computed
by the pipeline with that option, not guessed."""

from __future__ import annotations

import pytest

from conftest import needs_tf
from mcugen.advice import proposals, require_fit_or_propose
from mcugen.boards import get_board
from mcugen.errors import FitError
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model


def test_a_model_that_fits_gets_no_proposal(person_detect):
    graph = load_model(person_detect)
    board = get_board("stm32h7")
    fp = estimate_model(graph, board)
    assert fp.fits and proposals(graph, board, GenerateOptions(), fp) == []
    require_fit_or_propose(graph, board, GenerateOptions(), fp)


@needs_tf
def test_mobilenet_v2_arena_forced_into_axisram_gets_patch_and_sdram():
    """MobileNet V2 1.0 224 on the H747-DISCO with --place arena=axisram (1.2 MB of
    activations in 512 KiB): the error names the region, and proposes --patch auto
    (its activation figure, as `estimate --patch auto` computes it) and the SDRAM."""
    import tfops
    from tfmodels import cached_model

    graph = load_model(cached_model("mobilenet_v2_224", tfops.mobilenet_v2_flat))
    board = get_board("stm32h747i-disco")
    options = GenerateOptions(placement={"arena": "axisram"})
    fp = estimate_model(graph, board, options)
    assert not fp.fits
    with pytest.raises(FitError) as err:
        require_fit_or_propose(graph, board, options, fp)
    assert "region 'axisram'" in err.value.message and f"{fp.activation_ram:,} B" in err.value.message
    hint = err.value.hint
    patched = estimate_model(graph, board, GenerateOptions(placement={"arena": "axisram"}, patch="auto"))
    assert patched.fits and patched.activation_ram < 512 * 1024
    assert hint.startswith("What would fit (estimated): ")
    assert f"--patch auto: activations {patched.activation_ram:,} B instead of {fp.activation_ram:,} B" in hint
    assert f"--place arena=sdram: arena {fp.activation_ram:,} B in sdram (external, slow" in hint
    assert "still does not fit" not in hint
