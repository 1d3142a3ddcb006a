"""X-CUBE-AI drop-in: client applications written from CUBEAI_API.md only, against the
generated output of every model, on the host and on QEMU (qemu-m7); and the macros'
values against the model.

tests/fixtures/cubeai_stai_app.c uses the st-ai API, cubeai_legacy_app.c the legacy
one; both read inputs.bin, write outputs.bin (tests/kernel_driver/driver_io.h: stdio
on the host, semihosting on QEMU), and check the error paths on the way.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import read_person_bmp

from mcugen.boards import get_board
from mcugen.inputs import make_samples
from mcugen.model import Graph
from mcugen.model.load import load_model
from mcugen.model.graph import NUMPY_DTYPES
from mcugen.ops import total_macs
from mcugen.options import GenerateOptions
from conftest import needs_arm, needs_qemu, needs_reference, needs_tf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "examples" / "models"
MODELS = sorted(p.stem for p in MODELS_DIR.glob("*.tflite"))
FIXTURES = Path(__file__).parent / "fixtures"
DRIVER = Path(__file__).parent / "kernel_driver"
APPS = {"stai": FIXTURES / "cubeai_stai_app.c", "legacy": FIXTURES / "cubeai_legacy_app.c"}
STRICT = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


# ---------------------------------------------------------------------------------
# helpers


def generate(graph: Graph, target: str, out: Path, **kwargs):
    """The project as `mcugen generate` writes it (Cortex-M7 kernels on qemu-m7), both APIs."""
    from mcugen.emit import generate as pipeline_generate

    return pipeline_generate(graph, get_board(target), out, GenerateOptions(**{"c_api": "both", **kwargs}), force=True)


def _manifest(root: Path) -> dict:
    return json.loads((root / "mcugen.json").read_text())


def _app_files(app: str | list[Path]) -> list[Path]:
    """An application of APPS by name, or its source files (headers beside them)."""
    return [APPS[app]] if isinstance(app, str) else list(app)


def _legacy_include(m: dict, app: str | list[Path]) -> list[str]:
    """With --c-api both the legacy API is in <name>_legacy.h, out of the st-ai <name>.h: the
    legacy application (written for <name>.h as ST's legacy generation writes it) gets it first."""
    return ["-include", f"{m['name']}_legacy.h"] if app == "legacy" and m["c_api"] == "both" else []


def build_app_host(root: Path, app: str | list[Path], exe: Path, cc: str = "cc", extra: tuple[str, ...] = ()) -> Path:
    """The client application compiled with the generated network (host cc, -Werror; extra flags)."""
    m = _manifest(root)
    sources = [root / s for s in m["host_sources"] if s != "host_main.c"]
    app_files = _app_files(app)
    includes = [f"-I{root / d}" for d in m["include_dirs"]] + [f"-I{DRIVER}"] + sorted(
        {f"-I{p.parent}" for p in app_files})
    cmd = [cc, *STRICT, *extra, *includes, *_legacy_include(m, app), "-o", str(exe), *[str(p) for p in app_files if p.suffix == ".c"],
           str(DRIVER / "driver_io_host.c"), *map(str, sources), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[:3000]
    return exe


def build_app_qemu(root: Path, app: str | list[Path], out: Path) -> Path:
    """The client application as mps2-an500 firmware: the project's network sources,
    kernels and linker script (its activation pools included), the application instead
    of main.c, semihosting I/O instead of the UART runtime. -Werror."""
    import dataclasses

    from mcugen.build import build_project
    from mcugen.firmware import firmware_bundle, read_manifest, render_makefile, write_files, write_manifest

    m = _manifest(root)
    manifest = read_manifest(root)
    bundle = firmware_bundle("qemu-m7", manifest.firmware)
    bundle = dataclasses.replace(bundle, sources=tuple(s for s in bundle.sources if "/runtime/" not in s))
    files: dict[str, str | bytes] = dict(bundle.files)
    for rel in m["sources"]:
        if rel != "main.c":
            files[rel] = (root / rel).read_text()
    for header in [*root.glob("*.h"), *root.glob("kernels/**/*.h")]:
        files[str(header.relative_to(root))] = header.read_text()
    app_files = _app_files(app)
    for p in (*app_files, *{h for f in app_files for h in f.parent.glob("*.h")}, DRIVER / "driver_io_semihost.c",
              DRIVER / "driver_io.h"):
        files[f"app/{p.name}"] = p.read_text()
    app_sources = [s for s in m["sources"] if s != "main.c"] + [f"app/{p.name}" for p in app_files
                                                                if p.suffix == ".c"] + ["app/driver_io_semihost.c"]
    includes = [d for d in m["include_dirs"] if not d.startswith("firmware/")] + ["app"]
    files["Makefile"] = render_makefile(bundle, app_sources=app_sources, app_include_dirs=includes, libs=["-lm"],
                                        werror=True, extra_cflags=_legacy_include(m, app))
    write_files(out, files)
    write_manifest(out, manifest)
    result = build_project(out)
    return result.elf


def _samples_bytes(samples) -> bytes:
    return b"".join(np.ascontiguousarray(a).tobytes() for s in samples for a in s)


def parse_outputs(graph: Graph, data: bytes, n: int) -> list[list[np.ndarray]]:
    out, pos = [], 0
    for _ in range(n):
        row = []
        for t in graph.output_tensors:
            a = np.frombuffer(data[pos:pos + t.nbytes], dtype=NUMPY_DTYPES[t.dtype]).reshape(t.shape)
            row.append(a)
            pos += t.nbytes
        out.append(row)
    assert pos == len(data), f"{len(data)} output bytes, expected {pos}"
    return out


def run_app(argv: list[str], graph: Graph, samples, cwd: Path, timeout: float = 300) -> list[list[np.ndarray]]:
    cwd.mkdir(parents=True, exist_ok=True)
    for f in ("outputs.bin", "status.txt"):
        (cwd / f).unlink(missing_ok=True)
    (cwd / "inputs.bin").write_bytes(_samples_bytes(samples))
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    status = (cwd / "status.txt").read_text() if (cwd / "status.txt").exists() else ""
    assert proc.returncode == 0, f"exit {proc.returncode}: {status} {proc.stderr.decode()[-2000:]}"
    return parse_outputs(graph, (cwd / "outputs.bin").read_bytes(), len(samples))


def assert_exact(graph: Graph, predicted, samples) -> None:
    from mcugen.reference import reference_outputs

    reference = reference_outputs(graph, samples)
    for i, (p, r) in enumerate(zip(predicted, reference)):
        for k, (a, b) in enumerate(zip(p, r)):
            assert a.dtype == b.dtype and a.shape == b.shape, (i, k, a.dtype, b.dtype, a.shape, b.shape)
            assert np.array_equal(a, b), f"{graph.name} sample {i} output {k}: max diff " \
                f"{np.max(np.abs(a.astype(np.int64) - b.astype(np.int64)))}"


def _samples(graph: Graph, n: int, seed: int = 0):
    samples = make_samples(graph, (), random=n, seed=seed)
    if graph.name == "person_detect":
        samples = [[read_person_bmp(MODELS_DIR / "person.bmp")], [read_person_bmp(MODELS_DIR / "no_person.bmp")],
                   *samples]
    return samples


# ---------------------------------------------------------------------------------
# the two applications on the host


@needs_reference
@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("model", MODELS)
def test_client_app_host(model, app, tmp_path):
    graph = load_model(MODELS_DIR / f"{model}.tflite")
    root = tmp_path / "p"
    generate(graph, "host", root)
    exe = build_app_host(root, app, tmp_path / "app")
    samples = _samples(graph, 4)
    predicted = run_app([str(exe)], graph, samples, tmp_path / "run")
    assert_exact(graph, predicted, samples)
    if model == "person_detect":
        assert [p[0].reshape(-1).tolist() for p in predicted[:2]] == [[-113, 113], [57, -57]]


@needs_reference
@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("variant", ["own_io", "pools", "pools_own_io", "legacy_only"])
def test_client_app_host_variants(variant, app, tmp_path):
    """Inputs/outputs in the application's buffers, two activation pools, both; the
    legacy-only API. Same outputs."""
    model = "micro_speech_quantized" if variant == "own_io" else "person_detect"
    graph = load_model(MODELS_DIR / f"{model}.tflite")
    kwargs: dict = {}
    if variant in ("own_io", "pools_own_io"):
        kwargs.update(inputs_allocation=False, outputs_allocation=False)
    if variant.startswith("pools"):
        kwargs["pools"] = "fast:20K,slow"
    if variant == "legacy_only":
        if app == "stai":
            pytest.skip("the st-ai application needs c_api st-ai or both")
        kwargs["c_api"] = "legacy"
    root = tmp_path / "p"
    gen = generate(graph, "host", root, **kwargs)
    if variant.startswith("pools"):
        assert [p["region"] for p in gen.details["pools"]] == ["fast", "slow"]
    exe = build_app_host(root, app, tmp_path / "app")
    samples = _samples(graph, 3)
    assert_exact(graph, run_app([str(exe)], graph, samples, tmp_path / "run"), samples)


# ---------------------------------------------------------------------------------
# the two applications on QEMU (Cortex-M7 firmware, semihosting)


def _qemu_argv(elf: Path) -> list[str]:
    from arm_harness import qemu_command

    return qemu_command(elf)


@pytest.mark.slow
@needs_arm
@needs_qemu
@needs_reference
@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("model", MODELS)
def test_client_app_qemu(model, app, tmp_path):
    graph = load_model(MODELS_DIR / f"{model}.tflite")
    root = tmp_path / "p"
    generate(graph, "qemu-m7", root)
    elf = build_app_qemu(root, app, tmp_path / "fw")
    samples = _samples(graph, 2)
    predicted = run_app(_qemu_argv(elf), graph, samples, tmp_path / "run")
    assert_exact(graph, predicted, samples)


@pytest.mark.slow
@needs_arm
@needs_qemu
@needs_reference
@pytest.mark.parametrize("app", sorted(APPS))
def test_client_app_qemu_pools_own_io(app, tmp_path):
    """Two RAM regions of qemu-m7 (ssram23 capped, psram) and the application's I/O buffers."""
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    root = tmp_path / "p"
    gen = generate(graph, "qemu-m7", root, pools="ssram23:20K,psram", inputs_allocation=False,
                   outputs_allocation=False)
    assert [p["region"] for p in gen.details["pools"]] == ["ssram23", "psram"]
    elf = build_app_qemu(root, app, tmp_path / "fw")
    from mcugen.build import memory_usage

    usage = memory_usage(elf, "qemu-m7")
    for p in gen.details["pools"]:
        assert usage.regions[p["region"]].sections[p["section"]] == p["size"]
    samples = _samples(graph, 2)
    assert_exact(graph, run_app(_qemu_argv(elf), graph, samples, tmp_path / "run"), samples)


# ---------------------------------------------------------------------------------
# the macros against the model


def parse_defines(text: str) -> dict[str, str]:
    return {m.group(1): (m.group(2) or "").strip() for m in re.finditer(r"^#define (\w+)(?:[ \t]+(.*?))?\s*(?:/\*.*)?$",
                                                                 text, re.M)}


def _num(value: str) -> float:
    value = value.strip("() ").rstrip("ULlFfu")
    if value.lower().startswith(("0x", "-0x")) and "p" in value.lower():
        return float.fromhex(value)
    return float(value) if any(c in value for c in ".e") and not value.startswith("0x") else int(value, 0)


def _array(value: str) -> list[float]:
    return [_num(v) for v in value.strip("{} ").split(",") if v.strip()]


FORMATS = {"int8": 0x00840440, "uint8": 0x00040440, "int16": 0x00840840, "int32": 0x00841040,
           "float32": 0x00821040}


def _check_tensor_macros(d: dict, prefix: str, t, formats: dict[str, int]) -> None:
    assert _num(d[f"{prefix}_SIZE"]) == t.size
    assert _num(d[f"{prefix}_SIZE_BYTES"]) == t.nbytes
    assert formats[d[f"{prefix}_FORMAT"]] == FORMATS[t.dtype]
    assert _array(d[f"{prefix}_SHAPE"]) == list(t.shape)
    assert _num(d[f"{prefix}_RANK"]) == len(t.shape)
    if t.quant is not None and t.dtype != "float32":
        assert np.float32(_num(d[f"{prefix}_SCALE"])) == np.float32(t.quant.scale[0])
        assert _num(d[f"{prefix}_ZERO_POINT"]) == t.quant.zero_point[0]
    else:
        assert f"{prefix}_SCALE" not in d and f"{prefix}_ZERO_POINT" not in d


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("pools", [None, "a:12K,b"])
def test_macros_match_the_model(model, pools, tmp_path):
    graph = load_model(MODELS_DIR / f"{model}.tflite")
    gen = generate(graph, "host", tmp_path / "p", pools=pools)
    root = gen.out_dir
    # --c-api both: the legacy macros are in network_legacy.h, beside the st-ai network.h
    header = parse_defines((root / "network.h").read_text() + (root / "network_legacy.h").read_text())
    data = parse_defines((root / "network_data_params.h").read_text())
    stai = (root / "stai.h").read_text()
    formats = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"(STAI_FORMAT_\w+) = (0x[0-9A-Fa-f]+)", stai)}
    ai_formats = {m.group(1): int(m.group(2), 16)
                  for m in re.finditer(r"(AI_BUFFER_FORMAT_\w+) = (0x[0-9A-Fa-f]+)", (root / "ai_platform.h").read_text())}
    plan = gen.footprint.plan
    assert _num(header["STAI_NETWORK_MACC_NUM"]) == total_macs(graph)
    assert _num(header["STAI_NETWORK_NODES_NUM"]) == len(graph.operators)
    assert _num(header["STAI_NETWORK_IN_NUM"]) == len(graph.inputs)
    assert _num(header["STAI_NETWORK_OUT_NUM"]) == len(graph.outputs)
    assert _num(header["STAI_NETWORK_CONTEXT_ALIGNMENT"]) == 8
    for k, t in enumerate(graph.input_tensors, 1):
        _check_tensor_macros(header, f"STAI_NETWORK_IN_{k}", t, formats)
        assert _num(header[f"AI_NETWORK_IN_{k}_SIZE"]) == t.size
        assert _num(header[f"AI_NETWORK_IN_{k}_SIZE_BYTES"]) == t.nbytes
        assert ai_formats[header[f"AI_NETWORK_IN_{k}_FORMAT"]] == FORMATS[t.dtype]
    for k, t in enumerate(graph.output_tensors, 1):
        _check_tensor_macros(header, f"STAI_NETWORK_OUT_{k}", t, formats)
        assert _num(header[f"AI_NETWORK_OUT_{k}_SIZE"]) == t.size
    assert _array(header["STAI_NETWORK_IN_SIZES_BYTES"]) == [t.nbytes for t in graph.input_tensors]
    # activations: the plan's size, per pool
    sizes = [p.size for p in plan.pools] if plan.pools else [plan.arena_size]
    assert _num(header["STAI_NETWORK_ACTIVATIONS_SIZE"]) == plan.arena_size == sum(sizes)
    assert _num(header["STAI_NETWORK_ACTIVATIONS_NUM"]) == len(sizes)
    assert _array(header["STAI_NETWORK_ACTIVATIONS_SIZES"]) == sizes
    for k, size in enumerate(sizes, 1):
        assert _num(header[f"STAI_NETWORK_ACTIVATION_{k}_SIZE"]) == size
        assert _num(data[f"AI_NETWORK_DATA_ACTIVATION_{k}_SIZE"]) == size
    assert _num(data["AI_NETWORK_DATA_ACTIVATIONS_SIZE"]) == plan.arena_size
    assert _num(data["AI_NETWORK_DATA_ACTIVATIONS_COUNT"]) == len(sizes)
    assert _num(header["STAI_NETWORK_WEIGHTS_SIZE"]) == gen.details["weights_bytes"]
    assert _num(data["AI_NETWORK_DATA_WEIGHTS_SIZE"]) == gen.details["weights_bytes"]
    # I/O inside the activations by default: flags and the legacy macros say so
    flags = header["STAI_NETWORK_FLAGS"]
    assert "STAI_FLAG_INPUTS" in flags and "STAI_FLAG_OUTPUTS" in flags and "STAI_FLAG_ACTIVATIONS" in flags
    assert "AI_NETWORK_INPUTS_IN_ACTIVATIONS" in header and "AI_NETWORK_OUTPUTS_IN_ACTIVATIONS" in header


def test_io_allocation_flags_and_plan(tmp_path):
    """--no-inputs-allocation / --no-outputs-allocation: the flags and legacy macros drop
    them, and the plan gives them no bytes (the activations never grow)."""
    graph = load_model(MODELS_DIR / "keyword_scrambled_8bit.tflite")
    inside = generate(graph, "host", tmp_path / "a")
    outside = generate(graph, "host", tmp_path / "b", inputs_allocation=False, outputs_allocation=False)
    header = parse_defines((outside.out_dir / "network.h").read_text())
    flags = header["STAI_NETWORK_FLAGS"]
    assert "STAI_FLAG_INPUTS" not in flags and "STAI_FLAG_OUTPUTS" not in flags
    assert "STAI_FLAG_INPUTS" not in header["STAI_NETWORK_IN_1_FLAGS"]
    assert "AI_NETWORK_INPUTS_IN_ACTIVATIONS" not in header and "AI_NETWORK_OUTPUTS_IN_ACTIVATIONS" not in header
    plan = outside.footprint.plan
    assert graph.inputs[0] not in plan.offsets and graph.outputs[0] not in plan.offsets
    assert plan.arena_size <= inside.footprint.plan.arena_size
    assert sum(b.size for b in plan.buffers) < sum(b.size for b in inside.footprint.plan.buffers)
    io = sum(t.nbytes for t in graph.input_tensors) + sum(t.nbytes for t in graph.output_tensors)
    assert outside.footprint.runtime_ram_parts["io buffers"] == io
    manifest = _manifest(outside.out_dir)
    assert manifest["inputs"][0]["in_activations"] is False and manifest["inputs"][0]["offset"] == -1


def test_bad_c_api_and_name(tmp_path):
    from mcugen.errors import McugenError

    graph = load_model(MODELS_DIR / "hello_world_int8.tflite")
    with pytest.raises(McugenError, match="client API"):
        generate(graph, "host", tmp_path / "p", c_api="cube")
    with pytest.raises(McugenError, match="C name"):
        generate(graph, "host", tmp_path / "p", name="9lives")
    assert not (tmp_path / "p").exists()


@needs_arm
def test_both_apis_compile_for_cortex_m7_with_another_name(tmp_path):
    """--name sine --c-api both: the headers and sources compile warning-free with
    arm-none-eabi-gcc; every symbol carries the name."""
    graph = load_model(MODELS_DIR / "hello_world_int8.tflite")
    gen = generate(graph, "qemu-m7", tmp_path / "p", name="sine", pools="ssram23,psram")
    root = gen.out_dir
    text = (root / "sine.h").read_text()
    legacy = (root / "sine_legacy.h").read_text()
    for symbol in ("stai_sine_init", "STAI_SINE_ACTIVATIONS_NUM"):
        assert symbol in text
    for symbol in ("ai_sine_create_and_init", "AI_SINE_IN_NUM", "ai_sine_get_report"):
        # both: the st-ai header holds no legacy name
        assert symbol in legacy and not re.search(rf"\b{symbol}\b", text), symbol
    assert "AI_SINE_DATA_ACTIVATIONS_COUNT" in (root / "sine_data_params.h").read_text()
    m = _manifest(root)
    flags = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard", *STRICT]
    for src in m["sources"]:
        includes = [f"-I{root / d}" for d in m["include_dirs"]] + [f"-I{root / 'firmware/boards'}",
                                                                   f"-I{root / 'firmware/generated'}",
                                                                   f"-I{root / 'firmware/boards/common'}",
                                                                   f"-I{root / 'firmware/boards/mps2'}"]
        proc = subprocess.run(["arm-none-eabi-gcc", *flags, *includes, "-c", str(root / src), "-o",
                               str(tmp_path / "x.o")], capture_output=True, text=True)
        assert proc.returncode == 0, f"{src}: {proc.stderr[:2000]}"


@needs_tf
@needs_reference
@pytest.mark.parametrize("case", ["concat_rows", "uint8_input", "float_in_out", "conv_reshape_out", "se_block"])
def test_client_apps_on_edge_models(case, tmp_path):
    """Two inputs, uint8 and float I/O, a RESHAPE at the output: both applications,
    with the I/O inside the activations, in the application's buffers, and over two pools."""
    import tfops
    from tfmodels import cached_model

    if case == "conv_reshape_out":
        graph = load_model(cached_model(case, tfops.conv_reshape_out))
    else:
        c = next(c for c in tfops.CASES if c[0] == case)
        graph = load_model(cached_model(c[0], c[1], **c[2]))
    samples = _samples(graph, 3)
    for i, kwargs in enumerate((dict(), dict(inputs_allocation=False, outputs_allocation=False),
                                dict(pools="a:2K,b"))):
        root = tmp_path / f"p{i}"
        generate(graph, "host", root, **kwargs)
        for app in sorted(APPS):
            exe = build_app_host(root, app, tmp_path / f"{app}{i}")
            assert_exact(graph, run_app([str(exe)], graph, samples, tmp_path / "run"), samples)


@needs_reference
@pytest.mark.parametrize("target", ["host", pytest.param("qemu-m7", marks=[pytest.mark.slow, needs_arm, needs_qemu])])
@pytest.mark.parametrize("c_api", ["st-ai", "legacy"])
def test_generated_main_runs_the_api(target, c_api, tmp_path):
    """The firmware's own main.c uses the chosen API (legacy: ai_network_run), with the
    I/O in its own buffers and the activations over two pools: validate is bit-exact."""
    from mcugen import project

    model = MODELS_DIR / "micro_speech_quantized.tflite"
    pools = "fast:2K,slow" if target == "host" else "ssram23:2K,psram"
    options = GenerateOptions(c_api=c_api, inputs_allocation=False, outputs_allocation=False, pools=pools)
    gen, built, rep = project.validate(model, target, options, random=3, output=tmp_path / "p", force=True)
    main = (tmp_path / "p" / "main.c").read_text()
    assert bool(re.search(r"\bai_network_run\(", main)) == (c_api == "legacy")
    assert bool(re.search(r"\bstai_network_run\(", main)) == (c_api == "st-ai")
    assert "set_inputs" in main or "s_input_1" in main
    assert len(gen.details["pools"]) == 2
    assert rep.comparison.bit_exact and rep.activation_bytes == gen.details["arena_size"]
