"""Sizes and alignments of the TFLM structures that land in the tensor arena.

The arena estimate (arena.py) replays TFLM's allocations; it needs sizeof and
alignof of TfLiteTensor, TfLiteEvalTensor, the allocator objects, every
builtin parameter struct and the kernels' op data, as the target compiler lays
them out (32-bit Cortex-M7 differs from the 64-bit host). They were measured
by compiling mcugen/calibrate/probe/layout_probe.cc with each target's compiler
and flags and reading the records back from the object file, and are packaged
as data (mcugen/data/tflm_layout.json) so that estimating needs no compiler.
`PARSE_PARAMS` (which builtin parameter struct each flatbuffer parser allocates)
was parsed from tensorflow/lite/core/api/flatbuffer_conversions.cc.

tests/tflm/test_tflm_layout.py re-measures both and fails when these tables
are stale; regenerate with `python -m mcugen.calibrate.layout --update [TFLM_ROOT]`.
"""

from __future__ import annotations

import json
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "tflm_layout.json"
LAYOUT_TARGETS = ("cortex-m7", "host")


def _load() -> tuple[dict[str, str], dict[str, dict[str, tuple[int, int]]]]:
    data = json.loads(TABLE_PATH.read_text())
    structs = {target: {name: (int(s), int(a)) for name, (s, a) in table.items()}
               for target, table in data["structs"].items()}
    return dict(data["parse_params"]), structs


PARSE_PARAMS, STRUCTS = _load()


def layout_for(target: str) -> dict[str, tuple[int, int]]:
    """(size, align) per structure for a library target (cortex-m7-nofp shares cortex-m7's)."""
    return STRUCTS["host" if target == "host" else "cortex-m7"]
