"""ABS, TANH, LEAKY_RELU and RSQRT (mcugen/lower/unary.py): bit-exact against TFLM on the host."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _elem_cases import cases, check_case  # noqa: E402

from mcugen.lower.unary import LOWERINGS  # noqa: E402

CASES = cases(LOWERINGS)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bit_exact(case, tmp_path):
    check_case(case, tmp_path)


def test_rsqrt_bit_exact_on_non_negative_inputs(tmp_path):
    """RSQRT is defined (and TFLM runs it) only at or above the input's zero point: 20
    samples drawn there, the zero point itself (TFLM's largest output) and 1 above it
    included; the outputs span many values."""
    import numpy as np
    from _cubeai import check_bit_exact
    from tfmodels import cached_model
    from tfops_elem import unary_op

    from mcugen.model.load import load_model

    graph = load_model(cached_model("rsqrt", unary_op, kind="rsqrt", input_shape=(7, 9), q_rep_range=(0.02, 5.0)))
    assert [op.opcode for op in graph.operators] == ["RSQRT"]
    x = graph.tensors[graph.inputs[0]]
    zp = int(x.quant.zero_point[0])
    rng = np.random.default_rng(5)
    samples = []
    for _ in range(20):
        s = rng.integers(zp, 128, size=x.shape).astype(np.int8)
        s.flat[0], s.flat[1] = zp, zp + 1
        samples.append([s])
    _, predicted, _ = check_bit_exact(graph, tmp_path / "rsqrt", samples=samples)
    assert len(np.unique(np.concatenate([p[0].ravel() for p in predicted]))) > 20
