"""The operator coverage table (mcugen/coverage.py): `mcugen ops`, docs/operators.md (issue 16 item 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcugen.coverage import TYPES, coverage, markdown
from mcugen.lower import int16
from mcugen.lower.portable import LOWERINGS
from mcugen.ops import REGISTRY
from mcugen.tflm.ops import CUSTOM_RESOLVER_METHODS, RESOLVER_METHODS

DOC = Path(__file__).resolve().parent.parent / "docs" / "operators.md"


def test_docs_operators_md_is_current():
    assert DOC.read_text() == markdown(), "stale: run `mcugen ops --markdown > docs/operators.md`"


def test_every_op_either_style_knows_has_a_row_with_its_styles():
    rows = {r.op: r for r in coverage()}
    assert set(RESOLVER_METHODS) <= set(rows) and set(LOWERINGS) <= set(rows)
    assert {f"CUSTOM:{n}" for n in CUSTOM_RESOLVER_METHODS} <= set(rows)
    for op, r in rows.items():
        assert bool(r.cubeai) == (op in LOWERINGS), op
        assert bool(r.tflm) == (op in RESOLVER_METHODS or op.removeprefix("CUSTOM:") in CUSTOM_RESOLVER_METHODS)
        assert r.model == ("precise" if op in REGISTRY else "generic"), op
        assert set(r.cubeai) <= set(TYPES) and set(r.tflm) <= set(TYPES)
    assert rows["CONV_2D"].cubeai == ("int8", "16x8") and {"int8", "16x8"} <= set(rows["CONV_2D"].tflm)
    for op in int16.LOWERINGS:  # the 16x8 lowerings (mcugen/lower/int16.py) show in the table
        assert "16x8" in rows[op].cubeai, op
    lstm = rows["UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert lstm.model == "precise" and lstm.cubeai == ("int8",) and "int8" in lstm.tflm
    mirror = rows["MIRROR_PAD"]
    assert mirror.model == "generic" and not mirror.cubeai and "int8" in mirror.tflm
    assert rows["CUSTOM:TFLite_Detection_PostProcess"].tflm
    assert {"uint8 I/O", "float I/O"} <= set(rows["QUANTIZE"].cubeai)


def test_mcugen_ops_json_and_table():
    r = subprocess.run([sys.executable, "-m", "mcugen", "ops", "--json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["types"] == list(TYPES)
    by_op = {row["op"]: row for row in data["operators"]}
    assert by_op["MIRROR_PAD"]["cubeai"] == [] and by_op["ADD"]["x_cube_ai"] == "yes"
    r = subprocess.run([sys.executable, "-m", "mcugen", "ops"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0 and "MIRROR_PAD" in r.stdout and "generic" in r.stdout
