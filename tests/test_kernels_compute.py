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


VARIANT_CASES = [c for c in CASES if c[0].startswith(("tconv", "gconv", "bmm"))]
VARIANT_NAMES = {"TRANSPOSE_CONV": "tconv", "CONV_2D": "gconv", "BATCH_MATMUL": "bmm"}


@pytest.mark.parametrize("case", VARIANT_CASES, ids=[c[0] for c in VARIANT_CASES])
def test_m7_variants_bit_exact(case, tmp_path):
    """The Cortex-M7 variants of TRANSPOSE_CONV, grouped CONV_2D and BATCH_MATMUL (SMLAD dot
    products, DSP instructions emulated on the host) on the same cases: they run wherever the
    dot products' depth (and, for BATCH_MATMUL, no adj_x) allows, and every output matches TFLM's."""
    from mcugen.boards import get_board
    from mcugen.lower import lower
    from mcugen.lower.arm import select_arm_variant
    from mcugen.lower.kernels import Kernels

    graph = _graph(case)
    kernels = Kernels(max_ram_growth=None, any_core=True)
    op = next(op for op in graph.operators if op.opcode == case[3])
    variant = select_arm_variant(graph, op)
    bmm = case[3] == "BATCH_MATMUL"
    depth = graph.tensors[op.inputs[0 if bmm else 1]].shape[-1]
    expected = depth >= 4 and not (bmm and op.option("adj_x"))
    assert (variant is not None) == expected, (case[0], depth, variant)
    if variant is not None:
        assert variant.name == VARIANT_NAMES[case[3]]
        assert lower(graph, get_board("host"), kernels).calls[op.index].variant == variant.name
    check_bit_exact(graph, tmp_path / case[0], n=20, kernels=kernels)


# ---------------------------------------------------------------------------------
# the whole model: a tiny U-Net (tests/tfops_compute.py tiny_unet)


def _unet():
    from tfops_compute import tiny_unet

    return cached_model("tiny_unet", tiny_unet)


def _tflm_available() -> bool:
    try:
        from mcugen.tflm.source import find_tflm_root

        find_tflm_root()
        return True
    except Exception:  # noqa: BLE001
        return False


needs_tflm = pytest.mark.skipif(not _tflm_available(), reason="no TFLM tree (../shared/third_party/tflm)")


def test_unet_estimates_in_both_styles():
    """Every op of the U-Net has a precise registry entry: both styles know its MACs, and
    both plans fit the QEMU board."""
    from mcugen.boards import get_board
    from mcugen.ops import total_macs
    from mcugen.options import GenerateOptions
    from mcugen.pipeline import estimate_model, load_checked

    graph = load_checked(_unet())
    assert {"TRANSPOSE_CONV", "CONV_2D", "DEPTHWISE_CONV_2D", "RESIZE_BILINEAR", "CONCATENATION"} <= set(graph.opcodes)
    macs = total_macs(graph)
    assert macs is not None and macs > 2_000_000
    for style in ("cubeai", "tflm"):
        fp = estimate_model(graph, get_board("qemu-m7"), GenerateOptions(style=style))
        assert fp.macs == macs and fp.fits, (style, fp.macs, fp.misfits())
        assert fp.activation_ram >= 32 * 32 * 32  # the 32x32x32 concatenation is live at once


@pytest.mark.parametrize("arm", [False, True], ids=["portable", "m7_variants"])
def test_unet_bit_exact_on_host(arm, tmp_path):
    from mcugen.lower.kernels import Kernels

    graph = load_model(_unet())
    kernels = Kernels(max_ram_growth=None, any_core=True) if arm else Kernels(simd=False)
    check_bit_exact(graph, tmp_path / "unet", n=20, kernels=kernels)


def _validate(path, target, style, tmp_path):
    import shutil

    from mcugen import project
    from mcugen.options import GenerateOptions

    if target != "host" and (shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    gen, _, rep = project.validate(path, target, GenerateOptions(style=style), random=20, seed=3,
                                   output=tmp_path / "p", force=True)
    assert rep.inputs == 20
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0, \
        [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    return gen, rep


@pytest.mark.slow
def test_unet_cubeai_on_qemu(tmp_path):
    """The Cortex-M7 build (transpose-conv and grouped-conv variants) over the UART, 20 inputs."""
    _validate(_unet(), "qemu-m7", "cubeai", tmp_path)


@pytest.mark.slow
@pytest.mark.tflm
@needs_tflm
@pytest.mark.parametrize("target", ["host", "qemu-m7"])
def test_unet_tflm(target, tmp_path):
    """TFLM runs the U-Net in an arena sized by mcugen's replay, which models TRANSPOSE_CONV's
    scratch (an int32 per output element for the reference kernel, CMSIS-NN's own buffers):
    before that model the guess left the host build's AllocateTensors short (status -3)."""
    gen, rep = _validate(_unet(), target, "tflm", tmp_path)
    used, arena = rep.extra_u32, rep.activation_bytes
    assert arena == gen.details["arena_size"] and 0 < used <= arena <= 1.1 * used, (used, arena)


@pytest.mark.slow
def test_batch_matmul_cubeai_on_qemu(tmp_path):
    """BATCH_MATMUL with both adjoints and broadcast batch dimensions, and with a constant
    operand, on the Cortex-M7 over the UART."""
    for cid in ("bmm_adj_xy_broadcast", "bmm_const_rhs"):
        case = next(c for c in CASES if c[0] == cid)
        _validate(cached_model(case[0], case[1], **case[2]), "qemu-m7", "cubeai", tmp_path / cid)
