"""The committed struct layouts and parser table are those of the tree and compilers in use."""

from __future__ import annotations

import shutil

import pytest

from mcugen.calibrate.layout import measure_all
from mcugen.tflm import layout


def test_tables_cover_what_the_estimate_uses():
    for target in layout.LAYOUT_TARGETS:
        table = layout.STRUCTS[target]
        for struct in ("TfLiteTensor", "TfLiteEvalTensor", "NodeAndRegistration", "AllocationInfo",
                       "ScratchBufferRequest", "OpDataConv", "CmsisConvOpData", *layout.PARSE_PARAMS.values()):
            assert struct in table, (target, struct)
    # 32-bit Cortex-M7 vs 64-bit host: pointers, and arm-none-eabi's short enums.
    assert layout.STRUCTS["cortex-m7"]["pointer"] == (4, 4)
    assert layout.STRUCTS["host"]["pointer"] == (8, 8)
    assert layout.STRUCTS["cortex-m7"]["TfLiteAddParams"][0] < layout.STRUCTS["host"]["TfLiteAddParams"][0]
    assert layout.layout_for("cortex-m7-nofp") is layout.STRUCTS["cortex-m7"]
    assert layout.PARSE_PARAMS["ParseConv2D"] == "TfLiteConvParams"


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.timeout(600)
def test_tables_are_current(tflm_tree):
    for tool in ("arm-none-eabi-g++", "g++", "make"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed")
    params, structs = measure_all(tflm_tree)
    assert params == layout.PARSE_PARAMS, "stale: run python -m mcugen.calibrate.layout --update"
    assert structs == layout.STRUCTS, "stale: run python -m mcugen.calibrate.layout --update"
