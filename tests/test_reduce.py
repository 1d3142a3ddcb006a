"""REDUCE_MAX, SUM and ARG_MAX (mcugen/lower/reduce.py) over negative, repeated and
several axes, with and without keep_dims: bit-exact against TFLM on the host."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _elem_cases import cases, check_case  # noqa: E402

from mcugen.lower.reduce import LOWERINGS  # noqa: E402

CASES = cases(LOWERINGS)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bit_exact(case, tmp_path):
    check_case(case, tmp_path)


def _with_tensor(graph, index, **changes):
    import dataclasses

    tensors = list(graph.tensors)
    tensors[index] = dataclasses.replace(tensors[index], **changes)
    return dataclasses.replace(graph, tensors=tuple(tensors))


def test_refusals_say_why():
    """What TFLM refuses or cubeai does not run is listed with its reason, not miscompiled:
    REDUCE_MAX across two quantizations (raw values compared), ARG_MAX writing int64."""
    import dataclasses

    from tfmodels import cached_model
    from tfops_elem import reduce_op

    from mcugen.model.load import load_model
    from mcugen.support import unsupported_ops

    g = load_model(cached_model("reduce_max", reduce_op, kind="max", q_rep_range=(-0.3, 1.1)))
    op = next(op for op in g.operators if op.opcode == "REDUCE_MAX")
    assert not unsupported_ops(g, "cubeai")
    out = g.tensors[op.outputs[0]]
    moved = dataclasses.replace(out.quant, zero_point=(out.quant.zero_point[0] + 1,))
    bad = unsupported_ops(_with_tensor(g, out.index, quant=moved), "cubeai")
    assert [(u.index, u.opcode) for u in bad] == [(op.index, "REDUCE_MAX")] and "quantization differ" in bad[0].reason

    g = load_model(cached_model("arg_max_last", reduce_op, kind="argmax", axis=(-1,), input_shape=(5, 9)))
    op = next(op for op in g.operators if op.opcode == "ARG_MAX")
    assert not unsupported_ops(g, "cubeai")
    bad = unsupported_ops(_with_tensor(g, op.outputs[0], dtype="int64"), "cubeai")
    assert [u.opcode for u in bad] == ["ARG_MAX"] and "int64" in bad[0].reason
