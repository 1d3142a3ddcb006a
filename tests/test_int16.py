"""16x8 quantization in the cubeai style (mcugen/lower/int16.py, firmware/kernels/*_s16.c):
single-op models with int16 activations, bit-exact against TFLM's reference int16 kernels
on the host over 20 random full-range int16 inputs."""

from __future__ import annotations

import numpy as np
import pytest

from mcugen.lower import int16
from mcugen.lower.quant16 import softmax_luts
from mcugen.model.load import load_model

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from tfmodels import cached_model  # noqa: E402
from tfops16 import CASES16  # noqa: E402


@pytest.mark.parametrize("case", CASES16, ids=[c[0] for c in CASES16])
def test_bit_exact(case, tmp_path):
    cid, builder, kwargs, opcode = case
    graph = load_model(cached_model(cid, builder, **kwargs))
    ops = [op for op in graph.operators if op.opcode == opcode]
    assert ops, f"{cid}: the converter produced {graph.opcodes}, not {opcode}"
    for op in ops:  # the 16x8 variant: int16 in and out, an int64 bias where there is one
        assert int16.handles(graph, op), f"{cid}: op {op.index} is not int16"
        assert graph.tensors[op.outputs[0]].dtype == "int16"
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 2 and op.inputs[2] >= 0:
            assert graph.tensors[op.inputs[2]].dtype == "int64"
    _, predicted, _ = check_bit_exact(graph, tmp_path / cid, n=20)
    assert len(np.unique(np.concatenate([p[0].ravel() for p in predicted]))) > 10, "outputs hardly vary"


def test_softmax_tables_shape_and_ends():
    """exp(-10..0) rises to 1.0 (32767) at its end; 1/(1+x) falls from 1.0 to 0.5 (16384)."""
    exp_lut, recip_lut = softmax_luts()
    assert exp_lut.shape == recip_lut.shape == (513,)
    assert exp_lut[-1] == 32767 and 0 <= exp_lut[0] <= 3 and np.all(np.diff(exp_lut.astype(int)) >= 0)
    assert recip_lut[0] == 32767 and recip_lut[-1] == 16384 and np.all(np.diff(recip_lut.astype(int)) <= 0)
