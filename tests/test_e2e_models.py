"""Every model, both styles, host and QEMU Cortex-M7: generate -> build -> run over the UART
protocol -> compare with the TFLM reference, bit for bit (max abs diff 0), 20 inputs each.

The 224x224 networks take 150 KB inputs that QEMU's emulated UART moves at about
20 KB/s: on QEMU they run 3 inputs here (20 on the host, and every kernel variant of
them is covered by the kernel tests); bench/models.py measures them.
"""

from __future__ import annotations


import pytest

from conftest import MODELS, REAL_MODELS, read_person_bmp
from mcugen import project
from mcugen.options import GenerateOptions
from mcugen.emit import generate
from mcugen.pipeline import load_checked
from mcugen.boards import get_board

pytestmark = pytest.mark.slow

tflm = pytest.mark.tflm


def _tflm_available() -> bool:
    try:
        from mcugen.tflm.source import find_tflm_root

        find_tflm_root()
        return True
    except Exception:  # noqa: BLE001
        return False


needs_tflm = pytest.mark.skipif(not _tflm_available(), reason="no TFLM tree (../shared/third_party/tflm or MCUGEN_TFLM_ROOT)")


def _synthetic(name: str):
    from test_codegen_cubeai import _nets
    from tfmodels import cached_model

    net = next(x for x in _nets() if x[0] == name)
    return cached_model(net[0], net[1], **net[2])


SMALL_NETS = ["mobilenet_v1_96", "mobilenet_v1_96_u8_f32", "mnasnet_like", "mobilenet_v3_block", "ssdlite_head"]
BIG_NETS = ["mobilenet_v1_224", "mobilenet_v1_224_u8_f32", "mobilenet_v2_224"]


def _validate(path, target, style, n, tmp_path, **kw):
    gen, built, rep = project.validate(path, target, GenerateOptions(style=style, **kw), random=n, seed=3,
                                       output=tmp_path / "p", force=True)
    assert rep.inputs == n
    assert rep.comparison.bit_exact, [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    assert rep.comparison.max_abs_diff == 0
    return gen, built, rep


@pytest.mark.parametrize("target", ["host", "qemu-m7"])
@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_real_models_cubeai(path, target, tmp_path):
    gen, built, rep = _validate(path, target, "cubeai", 20, tmp_path)
    assert rep.activation_bytes == gen.footprint.activation_ram  # the firmware's arena is the plan
    if target == "qemu-m7":
        assert rep.timing_unit == "instructions" and rep.counts["min"] > 0


@needs_tflm
@tflm
@pytest.mark.parametrize("target", ["host", "qemu-m7"])
@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_real_models_tflm(path, target, tmp_path):
    gen, built, rep = _validate(path, target, "tflm", 20, tmp_path)
    _check_arena(rep, gen)


def _check_arena(rep, gen):
    """TFLM's real need (arena_used_bytes from the firmware) <= the estimate <= 1.1 x need,
    or the estimate is the smallest arena AllocateTensors accepts (checked by shrinking it)."""
    used, arena = rep.extra_u32, rep.activation_bytes
    assert arena == gen.details["arena_size"]
    assert 0 < used <= arena
    if arena > 1.1 * used:
        from mcugen.tflm.arena import estimate_tflm_arena

        est = estimate_tflm_arena(MODELS / f"{rep.model}.tflite" if (MODELS / f"{rep.model}.tflite").exists()
                                  else gen.out_dir / "model.tflite")
        assert est.minimum == est.total, "above 1.1 x need only when AllocateTensors needs the room"


@needs_tflm
@tflm
@pytest.mark.parametrize("kernels, expected", [("cmsis_nn", 22_717_939), ("reference", 524_000_000)])
def test_person_detect_tflm_on_qemu(kernels, expected, tmp_path):
    out = tmp_path / kernels
    graph = load_checked(MODELS / "person_detect.tflite")
    generate(graph, get_board("qemu-m7"), out, GenerateOptions(style="tflm", kernels=kernels))
    project.build(out)
    rep = project.measure_project(out, input_files=[MODELS / "person.bmp", MODELS / "no_person.bmp"])
    assert [o[0].reshape(-1).tolist() for o in rep.outputs] == [[-113, 113], [57, -57]]
    assert rep.comparison.bit_exact
    # An independent measurement of this TFLM tree on QEMU gave 22,717,939 (CMSIS-NN);
    # about 524 M with the reference kernels.
    assert abs(rep.counts["median"] - expected) <= 0.15 * expected


@pytest.mark.parametrize("net", SMALL_NETS)
def test_synthetic_nets_cubeai_on_qemu(net, tmp_path):
    _validate(_synthetic(net), "qemu-m7", "cubeai", 20, tmp_path)


@pytest.mark.parametrize("net", BIG_NETS)
def test_big_synthetic_nets_cubeai_on_qemu(net, tmp_path):
    _validate(_synthetic(net), "qemu-m7", "cubeai", 3, tmp_path)


@needs_tflm
@tflm
@pytest.mark.parametrize("net", SMALL_NETS + BIG_NETS)
def test_synthetic_nets_tflm_on_host(net, tmp_path):
    gen, _, rep = _validate(_synthetic(net), "host", "tflm", 20, tmp_path)
    _check_arena(rep, gen)


@needs_tflm
@tflm
@pytest.mark.parametrize("net", SMALL_NETS)
def test_synthetic_nets_tflm_on_qemu(net, tmp_path):
    gen, _, rep = _validate(_synthetic(net), "qemu-m7", "tflm", 20, tmp_path)
    _check_arena(rep, gen)


@needs_tflm
@tflm
def test_tflm_arena_estimate_is_tight(tmp_path):
    """One 16-byte step below the estimate, the real firmware's AllocateTensors fails."""
    from mcugen.codegen.tflm import generate_tflm
    from mcugen.errors import LinkError
    from mcugen.measure import measure

    graph = load_checked(MODELS / "person_detect.tflite")
    good = generate_tflm(graph, "host", tmp_path / "good")
    bad = generate_tflm(graph, "host", tmp_path / "bad", arena_size=good.arena_size - 16)
    for p in (good, bad):
        project.build(p.out_dir)
    x = [[read_person_bmp(MODELS / "person.bmp")]]
    assert measure(good.out_dir, "host", x, runs=1).outputs[0][0].reshape(-1).tolist() == [-113, 113]
    with pytest.raises(LinkError, match="init"):
        measure(bad.out_dir, "host", x, runs=1)


@pytest.mark.parametrize("board", ["stm32h7", "stm32h747i-disco", "rt1050", "rt1170"])
def test_person_detect_builds_and_fits_on_boards(board, tmp_path):
    graph = load_checked(MODELS / "person_detect.tflite")
    out = tmp_path / board
    gen = generate(graph, get_board(board), out)
    built = project.build(out)
    b = get_board(board)
    for name, r in built.regions.items():
        assert r["used"] <= r["size"], name
    assert built.warnings == (), built.warnings  # the estimate is within 5% per region
    if b.family == "imxrt":
        image = (out / "build" / "firmware.bin").read_bytes()
        fcb, ivt = b.extra["fcb_offset"], b.extra["ivt_offset"]
        assert image[fcb:fcb + 4] == b"FCFB"
        assert image[ivt:ivt + 4] == bytes([0xD1, 0x00, 0x20, 0x41])
    assert gen.footprint.fits


@needs_tflm
@tflm
@pytest.mark.parametrize("board", ["stm32h7", "rt1170"])
def test_person_detect_tflm_builds_and_fits(board, tmp_path):
    graph = load_checked(MODELS / "person_detect.tflite")
    out = tmp_path / board
    generate(graph, get_board(board), out, GenerateOptions(style="tflm"))
    built = project.build(out)
    for name, r in built.regions.items():
        assert r["used"] <= r["size"], name


def test_activation_ram_goals():
    """The planned activation RAM, input and output included (what the firmware allocates)."""
    from mcugen.estimate import estimate

    board = get_board("qemu-m7")
    import tfmodels

    goals = {
        MODELS / "person_detect.tflite": 38 * 1024,
        tfmodels.cached_model("mbv1_96x96x3", tfmodels.mobilenet_v1, input_shape=(96, 96, 3)): 39.5 * 1024,
        tfmodels.cached_model("mbv1_224x224x3", tfmodels.mobilenet_v1, input_shape=(224, 224, 3)): 202 * 1024,
        tfmodels.cached_model("mbv1_05_224x224x3", tfmodels.mobilenet_v1, input_shape=(224, 224, 3), alpha=0.5):
            404 * 1024,
    }
    for path, goal in goals.items():
        fp = estimate(load_checked(path), board)
        assert fp.activation_ram <= goal, (path.name, fp.activation_ram, goal)


def test_elementwise_and_reductions_cubeai_on_qemu(tmp_path):
    """A sample of each element-wise and reduction kernel family (broadcasting binary ops,
    unary activations, reductions with an int32 ARG_MAX output) on the Cortex-M7: 20 inputs
    bit-exact with TFLM."""
    from tfmodels import cached_model
    from tfops_elem import elem_mix

    from mcugen.model.load import load_model

    path = cached_model("elem_mix", elem_mix)
    assert {op.opcode for op in load_model(path).operators} == {
        "SUB", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "PRELU", "TANH", "ABS", "LEAKY_RELU",
        "REDUCE_MAX", "SUM", "ARG_MAX"}
    _, _, rep = _validate(path, "qemu-m7", "cubeai", 20, tmp_path)
    assert rep.counts["median"] > 0
