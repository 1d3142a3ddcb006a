"""The cubeai generator: bit-exact networks, the project it writes, its API and its memory claims."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _cubeai import check_bit_exact
from conftest import read_person_bmp

from mcugen.boards import get_board
from mcugen.codegen import generate_cubeai
from mcugen.errors import McugenError, OutputDirError, UnsupportedOpsError
from mcugen.estimate import weights_blob_bytes
from mcugen.calibrate.hostrun import build_host, run_host_process, run_on_host
from mcugen.inputs import make_samples
from mcugen.lower import lower, unsupported_ops
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions
from conftest import needs_reference, needs_tf, needs_arm  # noqa: E402

SHARED_MODELS = Path("/work/shared/models")
MODELS_DIR = SHARED_MODELS if SHARED_MODELS.is_dir() else Path(__file__).resolve().parent.parent / "examples" / "models"
REAL = ["person_detect", "hello_world_int8", "micro_speech_quantized", "keyword_scrambled_8bit"]
FIXTURES = Path(__file__).parent / "fixtures"
ARM_FLAGS = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"]
STRICT = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


def model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.tflite"


def _tf_model(name: str, builder, **kwargs) -> Path:
    from tfmodels import cached_model

    return cached_model(name, builder, **kwargs)


# ---------------------------------------------------------------------------------
# bit-exact on the reference models


@needs_reference
@pytest.mark.parametrize("name", REAL)
def test_reference_models_bit_exact(name, tmp_path):
    check_bit_exact(model_path(name), tmp_path / name, n=20)


@needs_reference
def test_person_detect_images(tmp_path):
    graph = load_model(model_path("person_detect"))
    samples = [[read_person_bmp(MODELS_DIR / "person.bmp")], [read_person_bmp(MODELS_DIR / "no_person.bmp")]]
    _, predicted, _ = check_bit_exact(graph, tmp_path / "pd", samples=samples)
    assert predicted[0][0].reshape(-1).tolist() == [-113, 113]
    assert predicted[1][0].reshape(-1).tolist() == [57, -57]


# ---------------------------------------------------------------------------------
# bit-exact on the synthetic networks


def _nets():
    import tfmodels as M
    import tfops

    return [
        ("mobilenet_v1_96", M.mobilenet_v1, {"input_shape": (96, 96, 1), "alpha": 0.25}, 20, False),
        ("mobilenet_v1_96_u8_f32", M.mobilenet_v1, {"input_shape": (96, 96, 1), "alpha": 0.25,
                                                    "q_input_type": "uint8", "q_output_type": "float32"}, 20, False),
        ("mobilenet_v1_224", M.mobilenet_v1, {"input_shape": (224, 224, 3), "alpha": 0.25}, 20, True),
        ("mobilenet_v1_224_u8_f32", M.mobilenet_v1, {"input_shape": (224, 224, 3), "alpha": 0.25,
                                                     "q_input_type": "uint8", "q_output_type": "float32"}, 20, True),
        ("mobilenet_v2_224", tfops.mobilenet_v2_flat, {}, 20, True),
        ("mnasnet_like", M.mnasnet_like, {}, 20, False),
        ("mobilenet_v3_block", M.mobilenet_v3_block, {"q_rep_range": (-3.0, 3.0)}, 20, False),
        ("ssdlite_head", M.ssdlite_head, {"q_output_type": "float32"}, 20, False),
    ]


NET_IDS = ["mobilenet_v1_96", "mobilenet_v1_96_u8_f32", "mobilenet_v1_224", "mobilenet_v1_224_u8_f32",
           "mobilenet_v2_224", "mnasnet_like", "mobilenet_v3_block", "ssdlite_head"]
SLOW_NETS = {"mobilenet_v1_224", "mobilenet_v1_224_u8_f32", "mobilenet_v2_224"}


@needs_tf
@needs_reference
@pytest.mark.parametrize(
    "net", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_NETS else n for n in NET_IDS]
)
def test_synthetic_nets_bit_exact(net, tmp_path):
    name, builder, kwargs, n, _ = next(x for x in _nets() if x[0] == net)
    graph = load_model(_tf_model(name, builder, **kwargs))
    project, _, _ = check_bit_exact(graph, tmp_path / name, n=n)
    assert weights_blob_bytes(lower(graph, get_board("host")))[0] == project.weights_bytes


# ---------------------------------------------------------------------------------
# the project on disk


def test_files_headers_and_manifest(tmp_path):
    graph = load_model(model_path("person_detect"))
    project = generate_cubeai(graph, "host", tmp_path / "p")
    root = project.out_dir
    for rel in ("network.h", "network.c", "network_data.h", "network_data.c", "stai.h", "stai_runtime.c",
                "main.c", "host_main.c", "Makefile", "kernels/mcu_kernels.h",
                "kernels/mcu_fixedpoint.h", "kernels/mcu_conv2d_s8.c", "kernels/mcu_depthwise_conv2d_s8.c",
                "kernels/mcu_avgpool_s8.c", "kernels/mcu_softmax_s8.c"):
        assert (root / rel).is_file(), rel
    # Only the kernels the model uses are copied; the legacy API only when asked for.
    assert not (root / "kernels" / "mcu_add_s8.c").exists()
    assert not (root / "ai_platform.h").exists() and not (root / "mcugen_model_impl.c").exists()
    manifest = json.loads((root / "mcugen.json").read_text())
    assert manifest["board"] == "host" and manifest["style"] == "cubeai"
    assert manifest["model"] == {"name": "person_detect", "hash": graph.model_hash}
    assert manifest["arena_size"] == project.arena_size
    import hashlib

    from mcugen import __version__

    for rel, digest in manifest["files"].items():
        data = (root / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, rel
        head = data[:600].decode("utf-8", errors="replace")
        assert f"mcugen {__version__}" in head and graph.model_hash in head, f"{rel} lacks the mcugen header"
    # The firmware helper's manifest reader accepts it.
    from mcugen.firmware import read_manifest

    m = read_manifest(root)
    assert (m.board, m.style, m.model_hash) == ("host", "cubeai", graph.model_hash)


def test_weights_in_their_section_and_aligned(tmp_path):
    graph = load_model(model_path("micro_speech_quantized"))
    project = generate_cubeai(graph, "host", tmp_path / "p")
    data_c = (project.out_dir / "network_data.c").read_text()
    data_h = (project.out_dir / "network_data.h").read_text()
    # the blob is ST's array object, its layout network_weights_t
    words = project.weights_bytes // 8
    assert f'MCU_SECTION(".nn_weights") MCU_ALIGNED(16) const uint64_t g_network_weights_array[{words}]' in data_c
    assert f"extern const uint64_t g_network_weights_array[{words}];" in data_h
    assert data_h.count("uint8_t pad_before_op") >= 1  # members on 16-byte boundaries, in ISO C
    assert f"sizeof(network_weights_t) == {project.weights_bytes}u" in data_c
    assert "network_op2_multiplier" in data_h  # per-channel/per-unit tables precomputed
    assert (project.weights_bytes, project.params_bytes) == weights_blob_bytes(lower(graph, get_board("host")))


def test_regenerate_over_own_output_and_stale_files(tmp_path):
    out = tmp_path / "p"
    generate_cubeai(load_model(model_path("person_detect")), "host", out)
    assert (out / "kernels" / "mcu_conv2d_s8.c").is_file()
    generate_cubeai(load_model(model_path("hello_world_int8")), "host", out)
    assert (out / "kernels" / "mcu_fully_connected_s8.c").is_file()
    assert not (out / "kernels" / "mcu_conv2d_s8.c").exists()  # no longer needed: removed
    # build output is not a foreign file
    (out / "build" / "host").mkdir(parents=True)
    (out / "build" / "host" / "x.o").write_bytes(b"\0")
    generate_cubeai(load_model(model_path("hello_world_int8")), "host", out)


def test_refuses_foreign_files_before_writing(tmp_path):
    out = tmp_path / "p"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError) as err:
        generate_cubeai(load_model(model_path("hello_world_int8")), "host", out)
    assert "notes.txt" in err.value.message and err.value.hint
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    generate_cubeai(load_model(model_path("hello_world_int8")), "host", out, force=True)
    assert (out / "network.c").is_file() and (out / "notes.txt").is_file()


def test_refuses_edited_generated_file(tmp_path):
    out = tmp_path / "p"
    generate_cubeai(load_model(model_path("hello_world_int8")), "host", out)
    with open(out / "network.c", "a") as f:
        f.write("/* my change */\n")
    with pytest.raises(OutputDirError, match="network.c"):
        generate_cubeai(load_model(model_path("hello_world_int8")), "host", out)


@needs_tf
def test_unsupported_ops_listed_before_anything_is_written(tmp_path):
    import tfops

    graph = load_model(_tf_model("unsupported_mix", tfops.unsupported_mix, q_int16_activations=True,
                                 q_input_type="int16", q_output_type="int16"))
    found = unsupported_ops(graph)
    assert [(u.index, u.opcode) for u in found] == [
        (op.index, op.opcode) for op in graph.operators if op.opcode in ("SUB", "LEAKY_RELU")
    ]
    assert len(found) == 2 and all("int16" in u.reason for u in found)
    out = tmp_path / "p"
    with pytest.raises(UnsupportedOpsError) as err:
        generate_cubeai(graph, "host", out)
    assert "SUB" in err.value.message and "LEAKY_RELU" in err.value.message
    assert all(f"{u.opcode} at index {u.index}" in err.value.message for u in found) and "--style tflm" in err.value.hint
    assert not out.exists()


def test_bad_network_name(tmp_path):
    with pytest.raises(McugenError, match="C name"):
        generate_cubeai(load_model(model_path("hello_world_int8")), "host", tmp_path / "p",
                        GenerateOptions(name="my-net"))


@needs_reference
def test_custom_network_name(tmp_path):
    graph = load_model(model_path("hello_world_int8"))
    project, _, _ = check_bit_exact(graph, tmp_path / "p", n=5, options=GenerateOptions(name="sine"))
    assert (project.out_dir / "sine.h").is_file()
    assert "stai_sine_run" in (project.out_dir / "sine.h").read_text()


# ---------------------------------------------------------------------------------
# compilers


def _network_sources(root: Path) -> list[Path]:
    manifest = json.loads((root / "mcugen.json").read_text())
    return [root / s for s in manifest["sources"] if s != "main.c"]


@needs_arm
@needs_tf
def test_compiles_for_cortex_m7(tmp_path):
    """Every generated source of models covering every kernel, and every kernel file,
    compile warning-free with arm-none-eabi-gcc for the Cortex-M7 (hard float)."""
    import tfops
    from tfmodels import cached_model

    graphs = [load_model(model_path(m)) for m in REAL]
    for cid, builder, kwargs, _ in tfops.CASES:
        if cid in ("se_block", "pad", "transpose", "concat_rows", "float_in_out", "uint8_input", "hard_swish",
                   "add_broadcast", "mean_no_keepdims", "relu", "relu6", "maxpool_same"):
            graphs.append(load_model(cached_model(cid, builder, **kwargs)))
    for i, graph in enumerate(graphs):
        root = tmp_path / f"m{i}"
        generate_cubeai(graph, "qemu-m7", root)
        includes = ["-I", str(root), "-I", str(root / "kernels"), "-I", str(root / "firmware" / "runtime")]
        for src in _network_sources(root):
            cmd = ["arm-none-eabi-gcc", *ARM_FLAGS, *STRICT, *includes, "-c", str(src), "-o", str(tmp_path / "x.o")]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            assert proc.returncode == 0, f"{graph.name} {src.name}: {proc.stderr[:2000]}"
    from mcugen.resources import firmware_dir

    kernels = firmware_dir() / "kernels"
    for src in sorted(kernels.glob("*.c")):
        for cc, flags in (("arm-none-eabi-gcc", ARM_FLAGS), ("cc", [])):
            proc = subprocess.run([cc, *flags, *STRICT, "-I", str(kernels), "-c", str(src), "-o",
                                   str(tmp_path / "k.o")], capture_output=True, text=True)
            assert proc.returncode == 0, f"{cc} {src.name}: {proc.stderr[:2000]}"


# ---------------------------------------------------------------------------------
# the st-ai API


@needs_tf
@pytest.mark.parametrize("which", ["micro_speech_quantized", "keyword_scrambled_8bit", "conv_reshape_out",
                                   "float_in_out"])
def test_stai_api(which, tmp_path):
    """Error codes, get_info, and the application's own activation/input/output
    buffers (inputs or outputs that are RESHAPE aliases included)."""
    import tfops
    from tfmodels import cached_model

    if which == "conv_reshape_out":
        graph = load_model(cached_model("conv_reshape_out", tfops.conv_reshape_out))
        assert graph.operators[-1].opcode == "RESHAPE"
    elif which == "float_in_out":
        case = next(c for c in tfops.CASES if c[0] == which)
        graph = load_model(cached_model(case[0], case[1], **case[2]))
    else:
        graph = load_model(model_path(which))
    root = tmp_path / "p"
    generate_cubeai(graph, "host", root)
    exe = tmp_path / "api_check"
    cmd = ["cc", *STRICT, "-I", str(root), "-I", str(root / "kernels"), "-o", str(exe),
           str(FIXTURES / "cubeai_api_check.c"), *[str(s) for s in _network_sources(root)],
           "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:2000]
    sample = make_samples(graph, (), random=1, seed=1)[0]
    data = b"".join(np.ascontiguousarray(a).tobytes() for a in sample)
    run = subprocess.run([str(exe)], input=data, capture_output=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == b"ok", run.stderr.decode()


# ---------------------------------------------------------------------------------
# the activation buffer: exactly the plan's size


def _dump(root: Path, data: bytes, fill: int, tmp: Path) -> np.ndarray:
    dump = tmp / f"arena_{fill:02x}.bin"
    proc = run_host_process(root, data, ["-g", "-f", str(fill), "-d", str(dump)])
    assert proc.returncode == 0, proc.stderr
    return np.frombuffer(dump.read_bytes(), dtype=np.uint8)


@needs_reference
@pytest.mark.parametrize("name", ["person_detect", "micro_speech_quantized"])
def test_activation_buffer_is_the_plan(name, tmp_path):
    """The generated code touches exactly the planned bytes: with guard bytes around
    an external buffer nothing outside is written and outputs do not change; the
    highest byte written is the plan's highest tensor end; 16 bytes less breaks it."""
    check_touches_exactly_the_plan(load_model(model_path(name)), tmp_path)


def check_touches_exactly_the_plan(graph, tmp_path: Path) -> None:
    """Generate `graph` for the host and prove it touches exactly its plan's bytes (also
    used for patched graphs, tests/test_patch.py)."""
    root = tmp_path / "p"
    project, reference_run, _ = check_bit_exact(graph, root, n=4)
    samples = make_samples(graph, (), random=4, seed=0)
    guarded = run_on_host(root, samples, args=["-g"])
    for a, b in zip(guarded, reference_run):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
    plan = project.plan
    ends = [plan.offsets[t] + graph.tensors[t].nbytes for t in plan.offsets]
    ends += [off + size for off, size in plan.scratch.values()]
    planned_end = max(ends)
    data = b"".join(np.ascontiguousarray(a).tobytes() for a in samples[0])
    low = _dump(root, data, 0x00, tmp_path)
    high = _dump(root, data, 0xFF, tmp_path)
    assert low.size == high.size == project.arena_size
    touched = np.nonzero((low != 0x00) | (high != 0xFF))[0]
    assert touched.max() + 1 == planned_end
    assert project.arena_size == (planned_end + plan.alignment - 1) // plan.alignment * plan.alignment
    shrunk = run_host_process(root, data, ["-s", "16"])
    assert shrunk.returncode == 3, "a buffer 16 bytes smaller than the plan should be overrun"


@needs_reference
def test_application_owned_activations(tmp_path):
    graph = load_model(model_path("person_detect"))
    project, _, _ = check_bit_exact(graph, tmp_path / "p", n=3, own_activations=False)
    text = (project.out_dir / "network.c").read_text()
    assert ".nn_arena" not in text
    assert "STAI_FLAG_ACTIVATIONS" not in (project.out_dir / "network.h").read_text().split("_FLAGS (")[1].split(")")[0]


# ---------------------------------------------------------------------------------
# the firmware build and QEMU


@pytest.mark.slow
@needs_arm
def test_qemu_firmware_sections_and_outputs(tmp_path):
    """The full firmware (mcugen's runtime, qemu-m7 board): its .nn_weights and
    .nn_arena sections are the generated sizes, and on the emulated Cortex-M7 the
    person images give TFLM's numbers."""
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm missing")
    from mcugen.build import build_project
    from mcugen.measure import measure

    graph = load_model(model_path("person_detect"))
    project = generate_cubeai(graph, "qemu-m7", tmp_path / "p")
    result = build_project(project.out_dir)
    sizes = {s.name: s.size for s in result.usage.sections}
    assert sizes[".nn_weights"] == project.weights_bytes
    assert sizes[".nn_arena"] == project.arena_size
    images = [[read_person_bmp(MODELS_DIR / "person.bmp")], [read_person_bmp(MODELS_DIR / "no_person.bmp")]]
    m = measure(project.out_dir, "qemu", images, runs=1)
    assert m.outputs[0][0].reshape(-1).tolist() == [-113, 113]
    assert m.outputs[1][0].reshape(-1).tolist() == [57, -57]


# ---------------------------------------------------------------------------------
# validate and imports


@needs_reference
def test_validate_host_json(tmp_path):
    from mcugen.project import validate_host

    result = validate_host(model_path("person_detect"), n_random=3,
                           input_files=[MODELS_DIR / "person.bmp"])
    data = result.to_json()
    assert data["bit_exact"] is True and data["max_abs_diff"] == 0 and data["inputs"] == 4
    assert data["outputs"][0]["mismatches"] == 0 and data["outputs"][0]["elements"] == 8


def test_no_reference_or_tensorflow_imports():
    code = (
        "import sys, mcugen.codegen, mcugen.calibrate.hostrun, mcugen.validate, mcugen.reference;"
        "from mcugen.model.load import load_model; import mcugen.lower as c;"
        f"c.unsupported_ops(load_model({str(model_path('person_detect'))!r}));"
        "bad=[m for m in ('tflite_micro','tensorflow') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_host_build_errors_are_toolchain_errors(tmp_path, monkeypatch):
    from mcugen.errors import ToolchainError

    root = tmp_path / "p"
    generate_cubeai(load_model(model_path("hello_world_int8")), "host", root)
    monkeypatch.setenv("CC", "definitely-not-a-compiler")
    with pytest.raises(ToolchainError, match="not installed"):
        build_host(root, force=True)


@needs_reference
def test_hostile_tensor_and_model_names(tmp_path):
    """Names from the model end up in comments and string literals: they must not end a
    comment, a string, or form trigraphs (-Wall -Werror would reject them)."""
    import dataclasses

    graph = load_model(model_path("hello_world_int8"))
    evil = ['in*/put "x" \\', "w??/ ??= ?? /* \n é", "out\t\r*/\"", "b*/**/"]
    tensors = tuple(dataclasses.replace(t, name=evil[i % len(evil)] + str(i)) for i, t in enumerate(graph.tensors))
    graph = dataclasses.replace(graph, tensors=tensors, name='model*/ "??="')
    check_bit_exact(graph, tmp_path / "p", n=3)


@needs_tf
def test_arrays_of_equal_content_are_emitted_once(tmp_path):
    """An unrolled GRU (tests/tfmodels.py gru_from_ops) reads the same weight matrices at every
    step: the weights blob holds each once (not once per step), the estimate says so too, and
    the network still runs bit-exact."""
    from tfmodels import cached_tflite, gru_from_ops

    graph = load_model(cached_tflite("gru_small", gru_from_ops, timesteps=6, features=5, units=8, classes=3))
    used = {t for op in graph.operators for t in op.inputs if t >= 0 and graph.tensors[t].is_constant}
    lowered = lower(graph, get_board("host"))
    blob, _ = weights_blob_bytes(lowered)
    assert sum(op.opcode == "FULLY_CONNECTED" for op in graph.operators) >= 6 * 5
    # at most every constant the ops read, each 16-byte aligned, and the signature word (without sharing: ~6x)
    assert blob <= 16 + sum((graph.tensors[t].nbytes + 15) // 16 * 16 for t in used)
    project, _, _ = check_bit_exact(graph, tmp_path / "gru", n=4)
    header = (tmp_path / "gru" / "network.h").read_text()
    assert f"#define STAI_NETWORK_WEIGHTS_SIZE ({blob})" in header
