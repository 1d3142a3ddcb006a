"""SUB, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE and PRELU (mcugen/lower/binary.py), with
broadcasting up to 5-D and constant operands: bit-exact against TFLM on the host."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _elem_cases import cases, check_case  # noqa: E402

from mcugen.lower.binary import LOWERINGS  # noqa: E402

CASES = cases(LOWERINGS)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bit_exact(case, tmp_path):
    check_case(case, tmp_path)
