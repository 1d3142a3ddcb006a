"""A generated project builds anywhere with the toolchain alone (issue 17): copied to another
folder, with HOME and MCUGEN_CACHE_DIR pointing at an empty directory and a bare environment,
`make` builds it, every header the compiler opens lies inside the project, and the firmware
runs bit-exact with the reference (20 inputs). Both styles; the tflm project carries the
prebuilt TFLM library and only the headers its sources include (mcugen.codegen.tflm_vendor)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MODELS
from mcugen import project
from mcugen.boards import get_board
from mcugen.codegen.tflm_vendor import VENDOR_DIR, _dependencies
from mcugen.emit import generate
from mcugen.options import GenerateOptions
from mcugen.pipeline import load_checked

PERSON = MODELS / "person_detect.tflite"


def test_dependencies_read_make_rules():
    rules = "main.o: main.cc /t/a.h \\\n  /t/b\\ c.h rel/d.h\nmodel_data.o: model_data.cc rel/d.h\n"
    assert _dependencies(rules) == ["main.cc", "/t/a.h", "/t/b c.h", "rel/d.h", "model_data.cc", "rel/d.h"]


def _text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in ("", ".mk", ".txt", ".json", ".ld", ".yml", ".h", ".c", ".cc") \
                and VENDOR_DIR not in path.relative_to(root).parts[:1]:
            yield path


def _no_absolute_paths(root: Path, *needles: str) -> None:
    """No build file (Makefile, CMake, Make fragment, linker script, manifest) names the repo or the cache."""
    for path in _text_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for needle in needles:
            assert needle not in text, (path.relative_to(root), needle)


def _build_elsewhere(out: Path, tmp_path: Path) -> Path:
    """Copy the project away, then `make` it with nothing but PATH (the toolchain) and an empty HOME/cache."""
    moved = tmp_path / "elsewhere" / "project"
    shutil.copytree(out, moved)
    shutil.rmtree(out)  # nothing may point back at the original folder either
    empty = tmp_path / "empty-home"
    empty.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(empty), "MCUGEN_CACHE_DIR": str(empty)}
    r = subprocess.run(["make", "-j1"], cwd=moved, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (moved / "build" / "firmware.elf").is_file()
    assert not any(empty.iterdir()), "the build wrote into HOME or the cache"
    # Every header the compiler opened (the -MMD dependency files) lies inside the project.
    deps = list((moved / "build").rglob("*.d"))
    assert deps
    for d in deps:
        for dep in _dependencies(d.read_text()):
            assert not os.path.isabs(dep) or Path(dep).resolve().is_relative_to(moved.resolve()), (d.name, dep)
    return moved


def _bit_exact(moved: Path) -> None:
    rep = project.measure_project(moved, random=20, seed=5)
    assert rep.inputs == 20
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0


@pytest.mark.slow
@pytest.mark.parametrize("layout_target", ["qemu-m7", "host"])
def test_cubeai_project_builds_elsewhere(layout_target, tmp_path):
    out = tmp_path / "cubeai"
    generate(load_checked(PERSON), get_board(layout_target), out, GenerateOptions())
    repo = str(Path(__file__).resolve().parent.parent)
    _no_absolute_paths(out, repo, str(Path.home() / ".cache"), "/work/")
    _bit_exact(_build_elsewhere(out, tmp_path))


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.parametrize("target", ["qemu-m7", "host"])
def test_tflm_project_carries_its_library_and_headers(target, tmp_path):
    out = tmp_path / "tflm"
    gen = generate(load_checked(PERSON), get_board(target), out, GenerateOptions(style="tflm"))
    manifest = json.loads((out / "mcugen.json").read_text())
    tree = Path(manifest["tflm"]["library_entry"])  # provenance only: the cache entry's name
    assert not tree.is_absolute()
    assert manifest["tflm"]["library"] == f"{VENDOR_DIR}/lib/libtensorflow-microlite.a"
    assert (out / manifest["tflm"]["library"]).stat().st_size > 500_000
    _no_absolute_paths(out, str(Path(gen.details["library"]).parent.parent), "/third_party/tflm", "/work/")
    headers = [p for p in (out / VENDOR_DIR).rglob("*.h")]
    # Only what the sources include: the interpreter, resolver, schema, flatbuffers... not the tree.
    assert 40 <= len(headers) == manifest["tflm"]["headers"] <= 200
    assert (out / VENDOR_DIR / "tensorflow/lite/micro/micro_interpreter.h").is_file()
    assert not (out / VENDOR_DIR / "tensorflow/lite/micro/kernels/conv_test.h").exists()
    assert (out / VENDOR_DIR / "LICENSE").is_file()
    _bit_exact(_build_elsewhere(out, tmp_path))


@pytest.mark.slow
@pytest.mark.tflm
def test_tflm_library_layout_builds_elsewhere_with_cmake(tmp_path):
    """`--style tflm --layout library`: the model, model_ops.h (resolver, arena size), the TFLM
    library and headers, CMake and Make files; moved away and built with CMake and the host
    compiler into an application of the user's (empty HOME and cache): bit-exact (20 inputs)."""
    if shutil.which("cmake") is None:
        pytest.skip("needs cmake")
    from test_cubeai_api import _samples, assert_exact, run_app

    graph = load_checked(PERSON)
    out = tmp_path / "model"
    generate(graph, get_board("host"), out, GenerateOptions(style="tflm", layout="library"))
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"model_data.h", "model_data.cc", "model_ops.h", "CMakeLists.txt", "mcugen.mk", "README.md",
            f"{VENDOR_DIR}/lib/libtensorflow-microlite.a"} <= files
    assert not {"main.cc", "Makefile"} & files and not any(f.startswith("firmware/") for f in files)
    _no_absolute_paths(out, "/third_party/tflm", "/work/", str(Path.home() / ".cache"))
    moved = tmp_path / "elsewhere" / "model"
    shutil.copytree(out, moved)
    shutil.rmtree(out)
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "tflm_library_app.cc", app / "main.cc")
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(user_app CXX)\n"
        f"add_subdirectory({moved} model)\nadd_executable(app main.cc)\n"
        "target_link_libraries(app PRIVATE model)\n")
    empty = tmp_path / "empty-home"
    empty.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(empty), "MCUGEN_CACHE_DIR": str(empty)}
    for argv in (["cmake", "-S", str(app), "-B", str(app / "build"), "-DCMAKE_BUILD_TYPE=Release"],
                 ["cmake", "--build", str(app / "build"), "-j1"]):
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    samples = _samples(graph, 20)
    assert_exact(graph, run_app([str(app / "build" / "app")], graph, samples, tmp_path / "run"), samples)
