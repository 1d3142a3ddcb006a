"""Whole networks on the Cortex-M7 kernels, through the cubeai generator's kernel policy (mcugen.lower.kernels).

Bit-exact with TFLM's reference interpreter on the host (the ACLE emulation) for the
bundled and synthetic models, and on QEMU (the real instructions) for person_detect,
where the whole inference is also counted: the goals are at most 0.6x the
instructions of TFLM + CMSIS-NN (22.7 M on the same QEMU) and 1.5 per MAC.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _cubeai import check_bit_exact
from conftest import read_person_bmp

from mcugen.codegen import generate_cubeai
from mcugen.lower import Kernels
from mcugen.lower.arm import select_arm_variant
from mcugen.model.load import load_model
from conftest import needs_reference, needs_tf  # noqa: E402

MODELS = Path(__file__).resolve().parent.parent / "examples" / "models"
TFLM_CMSIS_PERSON_DETECT = 22.7e6  # instructions per inference, TFLM + CMSIS-NN, QEMU mps2-an500


def arm_generate_kwargs(wide_limit: int | None = 4096) -> dict:
    """generate_cubeai arguments that put the Cortex-M7 kernels in, everywhere they apply
    (on the host too, where the kernels' ACLE emulation runs them), without the RAM rule."""
    return {"kernels": Kernels(wide_limit=wide_limit, max_ram_growth=None, any_core=True)}


@needs_reference
@pytest.mark.parametrize("name", ["person_detect", "hello_world_int8", "micro_speech_quantized",
                                  "keyword_scrambled_8bit"])
def test_bundled_models_bit_exact_with_arm_kernels(name, tmp_path):
    graph = load_model(MODELS / f"{name}.tflite")
    check_bit_exact(graph, tmp_path / name, n=8, **arm_generate_kwargs())


@needs_reference
@pytest.mark.parametrize("wide_limit", [0, None])
def test_person_detect_images_with_arm_kernels(wide_limit, tmp_path):
    graph = load_model(MODELS / "person_detect.tflite")
    samples = [[read_person_bmp(MODELS / "person.bmp")], [read_person_bmp(MODELS / "no_person.bmp")]]
    _, predicted, _ = check_bit_exact(graph, tmp_path / "pd", samples=samples,
                                      **arm_generate_kwargs(wide_limit))
    assert predicted[0][0].reshape(-1).tolist() == [-113, 113]
    assert predicted[1][0].reshape(-1).tolist() == [57, -57]


def _nets():
    import tfmodels as M
    import tfops

    return {
        "mobilenet_v1_96": (M.mobilenet_v1, {"input_shape": (96, 96, 1), "alpha": 0.25}),
        "mobilenet_v2_224": (tfops.mobilenet_v2_flat, {}),
        "mnasnet_like": (M.mnasnet_like, {}),
        "mobilenet_v3_block": (M.mobilenet_v3_block, {"q_rep_range": (-3.0, 3.0)}),
        "ssdlite_head": (M.ssdlite_head, {"q_output_type": "float32"}),
    }


@needs_tf
@needs_reference
@pytest.mark.parametrize("net", [
    "mobilenet_v1_96", "mnasnet_like", "mobilenet_v3_block", "ssdlite_head",
    pytest.param("mobilenet_v2_224", marks=pytest.mark.slow),
])
def test_synthetic_nets_bit_exact_with_arm_kernels(net, tmp_path):
    from tfmodels import cached_model

    builder, kwargs = _nets()[net]
    graph = load_model(cached_model(net, builder, **kwargs))
    assert any(select_arm_variant(graph, op) is not None for op in graph.operators)
    check_bit_exact(graph, tmp_path / net, n=6, **arm_generate_kwargs())


@pytest.mark.slow
def test_person_detect_on_qemu_meets_the_instruction_goals(tmp_path):
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} missing")
    from mcugen.build import build_project
    from mcugen.measure import measure

    graph = load_model(MODELS / "person_detect.tflite")
    images = [[read_person_bmp(MODELS / "person.bmp")], [read_person_bmp(MODELS / "no_person.bmp")]]
    results = {}
    for kind, kwargs in (("arm", arm_generate_kwargs()), ("portable", {"kernels": Kernels(simd=False)})):
        project = generate_cubeai(graph, "qemu-m7", tmp_path / kind, **kwargs)
        build_project(project.out_dir)
        results[kind] = measure(project.out_dir, "qemu", images, runs=1)
    arm, portable = results["arm"], results["portable"]
    for a, p in zip(arm.outputs, portable.outputs):
        assert a[0].tolist() == p[0].tolist()
    assert arm.outputs[0][0].reshape(-1).tolist() == [-113, 113]
    macs = 7_157_888
    assert arm.stats.median <= 0.6 * TFLM_CMSIS_PERSON_DETECT
    assert arm.stats.median <= 1.5 * macs
    assert arm.stats.median * 5 < portable.stats.median
