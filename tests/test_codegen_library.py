"""`generate --layout library` (mcugen.codegen.library): the network alone, taken into
projects that already exist. person_detect, built three ways: with CMake and the host
compiler (a client application, run bit-exact), with the Make fragment (the same),
and with CMake and arm-none-eabi-gcc into a small CubeIDE-like project of its own
start-up and linker script with the snippet pasted in (the arena NOLOAD: not in the
flash image)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import needs_arm, needs_reference
from test_cubeai_api import MODELS_DIR, _samples, assert_exact, run_app

from mcugen.boards import get_board
from mcugen.codegen.library import LIBRARY_FILES
from mcugen.emit import generate
from mcugen.errors import McugenError
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions

TESTS = Path(__file__).parent
PROJECT = TESTS / "fixtures" / "library_project"
CLIENT = [TESTS / "fixtures" / "cubeai_clients" / f for f in ("stai_2_x.c", "app_io.c")] + [
    TESTS / "kernel_driver" / "driver_io_host.c"]
INCLUDES = [TESTS / "fixtures" / "cubeai_clients", TESTS / "kernel_driver"]


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def _run(argv: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (argv, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout + proc.stderr


def library(tmp_path: Path, target: str = "qemu-m7", **options) -> tuple[Path, object]:
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    out = tmp_path / "person_detect_lib"
    generate(graph, get_board(target), out, GenerateOptions(layout="library", **options))
    return out, graph


def test_library_layout_files(tmp_path):
    """The network, its kernels and headers, and the build files; no start-up code,
    board support, main.c or Makefile; the sources in every build file."""
    out, _ = library(tmp_path, c_api="both")
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    for rel in LIBRARY_FILES:
        assert rel in files, rel
    assert not {"main.c", "host_main.c", "Makefile"} & files
    assert not any(f.startswith("firmware/") for f in files)
    manifest = json.loads((out / "mcugen.json").read_text())
    assert manifest["layout"] == "library" and "main.c" not in manifest["sources"]
    assert "network_data_params.c" in manifest["sources"]
    for build_file in ("CMakeLists.txt", "mcugen.mk", "zephyr/CMakeLists.txt", "library.json"):
        text = (out / build_file).read_text()
        for src in manifest["sources"]:
            assert src in text, (build_file, src)
    json.loads((out / "library.json").read_text())  # valid JSON
    snippet = (out / "mcugen_sections.ld").read_text()
    assert re.search(r"\.nn_arena \(NOLOAD\)", snippet) and "KEEP(*(.nn_weights))" in snippet
    assert "CONFIG_MCUGEN_NETWORK" in (out / "zephyr/CMakeLists.txt").read_text()
    assert "config MCUGEN_NETWORK" in (out / "zephyr/Kconfig").read_text()


def test_library_layout_options(tmp_path):
    # both styles have it (tflm: tests/test_codegen_tflm_vendor.py); an unknown layout is refused in both
    assert GenerateOptions(style="tflm", layout="library").checked().layout == "library"
    for style in ("cubeai", "tflm"):
        with pytest.raises(McugenError, match="layout"):
            GenerateOptions(style=style, layout="zip").checked()


@needs_reference
def test_library_with_cmake_and_the_host_compiler(tmp_path):
    _need("cmake", "cc")
    out, graph = library(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(host_app C)\n"
        f"add_subdirectory({out} mcugen)\n"
        f"add_executable(app {' '.join(str(p) for p in CLIENT)})\n"
        f"target_include_directories(app PRIVATE {' '.join(str(p) for p in INCLUDES)})\n"
        "target_compile_options(app PRIVATE -Wall -Wextra -Werror)\n"
        "target_link_libraries(app PRIVATE network)\n")
    _run(["cmake", "-S", str(app), "-B", str(app / "build"), "-DCMAKE_BUILD_TYPE=Release"])
    _run(["cmake", "--build", str(app / "build"), "-j1"])
    samples = _samples(graph, 2)
    assert_exact(graph, run_app([str(app / "build" / "app")], graph, samples, tmp_path / "run"), samples)


@needs_reference
def test_library_with_the_make_fragment(tmp_path):
    _need("make", "cc")
    out, graph = library(tmp_path, c_api="legacy")
    app = tmp_path / "app"
    app.mkdir()
    (app / "Makefile").write_text(
        f"include {out}/mcugen.mk\n"
        f"APP_SRCS := {' '.join(str(p) for p in CLIENT)}\n"
        "CFLAGS := -O2 -Wall -Wextra -Werror $(MCUGEN_NETWORK_CFLAGS) "
        + " ".join(f"-I{p}" for p in INCLUDES) + "\n"
        "app: $(APP_SRCS) $(MCUGEN_NETWORK_SRCS)\n"
        "\t$(CC) $(CFLAGS) -o $@ $^ $(MCUGEN_NETWORK_LIBS)\n")
    _run(["make", "-C", str(app), "app"])
    samples = _samples(graph, 2)
    assert_exact(graph, run_app([str(app / "app")], graph, samples, tmp_path / "run"), samples)


@needs_arm
def test_library_with_cmake_and_arm_into_a_cubeide_like_project(tmp_path):
    """The project's own start-up and linker script, the snippet pasted in: the arena
    is NOLOAD (bss-like: `arm-none-eabi-size` counts it outside text and data) and the
    weights are in flash."""
    _need("cmake", "arm-none-eabi-size", "arm-none-eabi-readelf")
    out, _ = library(tmp_path)
    manifest = json.loads((out / "mcugen.json").read_text())
    project = tmp_path / "cubeide"
    shutil.copytree(PROJECT, project)
    script = (PROJECT / "STM32_FLASH.ld.in").read_text().replace(
        "@MCUGEN_SECTIONS@", (out / "mcugen_sections.ld").read_text())
    (project / "STM32_FLASH.ld").write_text(script)
    build = project / "build"
    _run(["cmake", "-S", str(project), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={project / 'arm-none-eabi.cmake'}",
          f"-DMCUGEN_DIR={out}", f"-DLINKER_SCRIPT={project / 'STM32_FLASH.ld'}", "-DCMAKE_BUILD_TYPE=Release"])
    _run(["cmake", "--build", str(build), "-j1"])
    elf = build / "firmware.elf"
    text, data, bss = (int(v) for v in _run(["arm-none-eabi-size", str(elf)]).splitlines()[1].split()[:3])
    arena, weights = manifest["arena_size"], manifest["weights_bytes"]
    assert bss >= arena and data < arena, (text, data, bss, arena)
    assert text >= weights
    sections = _run(["arm-none-eabi-readelf", "-SW", str(elf)])
    found = re.search(r"\.nn_arena\s+(\w+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", sections)
    assert found and found.group(1) == "NOBITS" and int(found.group(4), 16) == arena, sections
    assert re.search(r" \.nn_weights +PROGBITS +0*8", sections), sections


def test_cli_layout_library(tmp_path):
    """`mcugen generate --layout library` writes the layout and points to its README, not to `mcugen build`."""
    out = tmp_path / "lib"
    proc = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(MODELS_DIR / "hello_world_int8.tflite"),
                           "--target", "qemu-m7", "-o", str(out), "--layout", "library"], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "CMakeLists.txt").is_file() and not (out / "Makefile").exists()
    assert "README.md" in proc.stdout and "mcugen build" not in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(MODELS_DIR / "hello_world_int8.tflite"),
                          "--target", "qemu-m7", "-o", str(tmp_path / "x"), "--layout", "zip"], capture_output=True,
                         text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "layout" in bad.stdout + bad.stderr


def test_build_of_a_library_layout_says_what_it_is(tmp_path):
    out, _ = library(tmp_path)
    r = subprocess.run([sys.executable, "-m", "mcugen", "build", str(out)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1 and "library layout" in r.stderr + r.stdout and "README.md" in r.stderr + r.stdout
