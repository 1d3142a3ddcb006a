"""Lowering as a stage (mcugen.lower): each op lowered once per generate and once per
estimate, the support check it makes, and the kernel policy that picks the variants."""

from __future__ import annotations

import collections

import pytest

from conftest import MODELS
from mcugen.boards import get_board
from mcugen.emit import generate
from mcugen.errors import McugenError, UnsupportedOpsError
from mcugen.lower import Kernels, lower, unsupported_ops
from mcugen.lower import portable
from mcugen.lower.arm.variant import ArmVariant
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model

PERSON = MODELS / "person_detect.tflite"


@pytest.fixture
def lowerings(monkeypatch):
    """Counts, per op of the model (known by its output tensors), the calls of its portable
    lowering and of a Cortex-M7 variant's preparation. Tiles of a patch-based stage write
    tile tensors of their own: they are not the model's ops."""
    counts: collections.Counter = collections.Counter()
    for opcode, fn in list(portable.LOWERINGS.items()):
        def counted(graph, op, fn=fn):
            counts["portable", op.outputs] += 1
            return fn(graph, op)

        monkeypatch.setitem(portable.LOWERINGS, opcode, counted)
    prepare = ArmVariant.prepare

    def counted_prepare(self, graph, op):
        counts["variant", op.outputs] += 1
        return prepare(self, graph, op)

    monkeypatch.setattr(ArmVariant, "prepare", counted_prepare)
    return counts


def _per_model_op(counts, graph, kind):
    return [counts[kind, op.outputs] for op in graph.operators]


@pytest.mark.parametrize("patch", [None, "auto"])
def test_each_op_is_lowered_once_per_generate(lowerings, patch, tmp_path):
    graph = load_model(PERSON)
    generate(graph, get_board("qemu-m7"), tmp_path / "p", GenerateOptions(patch=patch))
    assert _per_model_op(lowerings, graph, "portable") == [1] * len(graph.operators)
    variants = _per_model_op(lowerings, graph, "variant")
    assert max(variants) == 1 and sum(variants) == 29  # every op of person_detect but its softmax and reshape


@pytest.mark.parametrize("board, patch", [("qemu-m7", None), ("qemu-m7", "4x3"), ("stm32h7", None)])
def test_each_op_is_lowered_once_per_estimate(lowerings, board, patch):
    graph = load_model(PERSON)
    options = GenerateOptions(patch=patch, pools="dtcm,axisram" if board == "stm32h7" else None)
    estimate_model(graph, get_board(board), options)
    assert _per_model_op(lowerings, graph, "portable") == [1] * len(graph.operators)
    assert max(_per_model_op(lowerings, graph, "variant")) == 1


def test_portable_kernels_prepare_no_variant(lowerings):
    graph = load_model(PERSON)
    lowered = lower(graph, get_board("qemu-m7"), Kernels.named("portable"))
    assert not any(kind == "variant" for kind, _ in lowerings)
    assert all(c is p and c.variant == "" for c, p in zip(lowered.calls, lowered.portable))
    host = lower(graph, get_board("host"))  # no Cortex-M7 core: the portable kernels
    assert all(c.variant == "" for c in host.calls)


def test_lowering_is_the_support_check(models_dir):
    import dataclasses

    graph = load_model(models_dir / "hello_world_int8.tflite")
    ops = list(graph.operators)
    # an ARG_MAX on a FULLY_CONNECTED's operands: its lowering refuses the int8 output
    ops[1] = dataclasses.replace(ops[1], opcode="ARG_MAX")
    bad = dataclasses.replace(graph, operators=tuple(ops))
    found = unsupported_ops(bad)
    assert [(u.index, u.opcode) for u in found] == [(1, "ARG_MAX")] and found[0].reason
    with pytest.raises(UnsupportedOpsError) as err:
        lower(bad, get_board("qemu-m7"))
    assert "operator ARG_MAX at index 1" in err.value.message and "--style tflm" in err.value.hint


def test_kernel_policy():
    qemu, host = get_board("qemu-m7"), get_board("host")
    assert Kernels.named(None) == Kernels() and Kernels.named("simd").simd and not Kernels.named("portable").simd
    with pytest.raises(McugenError, match="Unknown kernel set 'cmsis_nn' for the cubeai style"):
        Kernels.named("cmsis_nn")
    assert Kernels().variants_on(qemu) and not Kernels().variants_on(host)
    assert Kernels(any_core=True).variants_on(host) and not Kernels(simd=False, any_core=True).variants_on(host)
    # int16 filters only up to wide_limit bytes of int8 filter
    graph = load_model(PERSON)
    narrow = lower(graph, qemu, Kernels(wide_limit=0))
    wide = lower(graph, qemu, Kernels(wide_limit=None))
    assert not any(c.variant.endswith("_w16") for c in narrow.calls)
    assert any(c.variant.endswith("_w16") for c in wide.calls)
