"""The compute kernels of issue 16 (TRANSPOSE_CONV, grouped CONV_2D, DEPTHWISE_CONV_2D with a
depth multiplier, BATCH_MATMUL), bit for bit against the TFLM reference interpreter.

One single-operator Keras model per operator and awkward variant (tests/tfops_compute.py:
odd sizes, both paddings, strides 1/2/3, no bias, per-tensor filters, fused activations),
quantized to int8, generated in the cubeai style, compiled with the host cc and run on 20
random inputs; every output element must equal TFLM's. A sample runs on qemu-m7."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from tfmodels import cached_model  # noqa: E402
from tfops_compute import CASES, CHECKS  # noqa: E402

from mcugen.lower import unsupported_ops  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.ops import check_shapes  # noqa: E402


def _graph(case):
    cid, builder, kwargs, opcode = case
    graph = load_model(cached_model(cid, builder, **kwargs))
    ops = [op for op in graph.operators if op.opcode == opcode]
    assert ops, f"{cid}: the converter produced {graph.opcodes}, not {opcode}"
    if cid in CHECKS:
        assert any(CHECKS[cid](graph, op) for op in ops), f"{cid}: the {opcode} is not the intended variant"
    return graph


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_compute_op_bit_exact(case, tmp_path):
    graph = _graph(case)
    check_shapes(graph)
    assert not unsupported_ops(graph), unsupported_ops(graph)
    check_bit_exact(graph, tmp_path / case[0], n=20)


VARIANT_CASES = [c for c in CASES if c[0].startswith(("tconv", "gconv"))]


@pytest.mark.parametrize("case", VARIANT_CASES, ids=[c[0] for c in VARIANT_CASES])
def test_m7_variants_bit_exact(case, tmp_path):
    """The Cortex-M7 variants of TRANSPOSE_CONV and grouped CONV_2D (SMLAD dot products,
    DSP instructions emulated on the host) on the same cases: they run wherever the
    filter depth allows, and every output matches TFLM's."""
    from mcugen.boards import get_board
    from mcugen.lower import lower
    from mcugen.lower.arm import select_arm_variant
    from mcugen.lower.kernels import Kernels

    graph = _graph(case)
    kernels = Kernels(max_ram_growth=None, any_core=True)
    op = next(op for op in graph.operators if op.opcode == case[3])
    variant = select_arm_variant(graph, op)
    depth = graph.tensors[op.inputs[1]].shape[-1]
    assert (variant is not None) == (depth >= 4), (case[0], depth, variant)
    if variant is not None:
        assert variant.name == ("tconv" if case[3] == "TRANSPOSE_CONV" else "gconv")
        assert lower(graph, get_board("host"), kernels).calls[op.index].variant == variant.name
    check_bit_exact(graph, tmp_path / case[0], n=20, kernels=kernels)
