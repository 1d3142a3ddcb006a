"""The cached TFLM library build: keys, atomic entries, locking, interrupts, listing.

Cache logic runs against a fake TFLM tree (tiny C files, real make and gcc);
the real library is built once per machine by the `tflm_library` fixture.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mcugen.errors import ToolchainError
from mcugen.tflm import cache, targets, toolchain
from mcugen.tflm.cache import BuildProgress, clear_cache, find_library, library_key, list_entries
from mcugen.tflm.library import get_library, make_command

ROOT = Path(__file__).resolve().parents[2]


def _entries(cache_dir: Path) -> list[Path]:
    base = cache_dir / "tflm"
    return sorted(p for p in base.iterdir() if not p.name.startswith(".")) if base.is_dir() else []


def _leftovers(cache_dir: Path) -> list[Path]:
    base = cache_dir / "tflm"
    return sorted(p for p in base.glob(".tmp-*")) if base.is_dir() else []


def test_make_command_exact_argv(fake_tree, tmp_path):
    spec = targets.get_target("cortex-m7")
    tc = toolchain.Toolchain(Path("/opt/arm/bin/arm-none-eabi-gcc"), Path("/opt/arm/bin/arm-none-eabi-g++"),
                       Path("/opt/arm/bin/arm-none-eabi-ar"), "arm-none-eabi-gcc 12.2")
    argv = make_command(fake_tree, spec, "cmsis_nn", tc, tmp_path / "gen", 4)
    assert argv == [
        "make", "-f", str(fake_tree.root / "tensorflow/lite/micro/tools/make/Makefile"),
        "TARGET=cortex_m_generic", "TARGET_ARCH=cortex-m7+fp", "OPTIMIZED_KERNEL_DIR=cmsis_nn",
        "TARGET_TOOLCHAIN_ROOT=/opt/arm/bin/", f"BASE_GENDIR={tmp_path / 'gen'}", "-j4", "microlite",
    ]
    host = make_command(fake_tree, targets.get_target("host"), "reference", tc, tmp_path / "gen", 2)
    assert host[3:5] == ["TARGET=linux", "TARGET_ARCH=x86_64"]
    assert not any(a.startswith(("OPTIMIZED_KERNEL_DIR", "TARGET_TOOLCHAIN_ROOT")) for a in host)


def test_build_then_reuse(fake_tree, cache_dir):
    seen: list[BuildProgress] = []
    entry = get_library(fake_tree, "host", "reference", progress=seen.append)
    assert entry.library.is_file()
    assert entry.path.parent == cache_dir / "tflm"
    assert entry.path.name.startswith("host-reference-")
    # Progress: configure, compile counts up to the object total, then done.
    phases = [p.phase for p in seen]
    assert phases[0] == "configure" and phases[-1] == "done"
    compile_updates = [p for p in seen if p.phase == "compile"]
    assert compile_updates[-1].total == 6
    assert max(p.done for p in compile_updates) <= 6
    # What applications need, read from the Makefile: no -W/-MD, no out-of-tree genfiles.
    assert entry.defines == ("TF_LITE_STATIC_MEMORY",)
    assert entry.include_dirs_rel == (".", "fake/include")
    assert entry.include_dirs == (fake_tree.root, fake_tree.root / "fake/include")
    assert "-Wall" not in entry.cxxflags and "-MD" not in entry.cxxflags
    assert entry.libs == ("-lm",) and entry.ldflags == ("-Wl,--gc-sections",)
    # Per-object sizes of the really compiled objects.
    assert set(entry.objects) == {f"core/src/part{i}.o" for i in range(6)}
    assert entry.objects["core/src/part5.o"].data == 48 * 4  # int table5[48], initialised
    meta = json.loads((entry.path / "entry.json").read_text())
    assert meta["key"]["tree_revision"] == fake_tree.revision()
    assert meta["build_seconds"] > 0
    # Second call: the cached entry, no build.
    seen.clear()
    again = get_library(fake_tree, "host", "reference", progress=seen.append)
    assert again.path == entry.path and seen == []
    assert find_library(fake_tree, "host", "reference") == again
    assert _leftovers(cache_dir) == []


def test_key_follows_tree_content_and_config(fake_tree, cache_dir):
    k1 = library_key(fake_tree, "host", "reference")
    assert library_key(fake_tree, "host", "reference") == k1
    assert library_key(fake_tree, "host", "cmsis_nn").dirname != k1.dirname
    assert library_key(fake_tree, "host", "reference", make_vars=("BUILD_TYPE=release",)).digest != k1.digest
    source = fake_tree.root / "src/part0.c"
    os.utime(source, (1, 1))  # touching keeps the content hash
    assert library_key(fake_tree, "host", "reference") == k1
    source.write_text(source.read_text() + "/* changed */\n")
    assert library_key(fake_tree, "host", "reference").tree_revision != k1.tree_revision


def test_make_failure_is_a_toolchain_error_and_leaves_nothing(fake_tree, cache_dir, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "1")
    with pytest.raises(ToolchainError) as err:
        get_library(fake_tree, "host", "reference")
    assert "fake failure" in err.value.message
    assert _entries(cache_dir) == [] and _leftovers(cache_dir) == []


def test_missing_compiler_names_the_package(fake_tree, cache_dir, tmp_path):
    empty = tmp_path / "no-toolchain"
    empty.mkdir()
    with pytest.raises(ToolchainError) as err:
        get_library(fake_tree, "cortex-m7", "cmsis_nn", toolchain_root=empty)
    assert "arm-none-eabi-gcc not found" in err.value.message
    assert "gcc-arm-none-eabi" in err.value.hint


def test_broken_compiler_is_a_toolchain_error(fake_tree, cache_dir, tmp_path):
    bad = tmp_path / "bad-toolchain"
    bad.mkdir()
    for tool in ("gcc", "g++", "ar"):
        script = bad / f"arm-none-eabi-{tool}"
        script.write_text("#!/bin/sh\nexit 3\n")
        script.chmod(0o755)
    with pytest.raises(ToolchainError) as err:
        get_library(fake_tree, "cortex-m7", "cmsis_nn", toolchain_root=bad)
    assert "does not run" in err.value.message


def test_unknown_target_and_kernels(fake_tree, cache_dir):
    from mcugen.errors import McugenError

    with pytest.raises(McugenError, match="Unknown TFLM library target"):
        get_library(fake_tree, "cortex-m4", "reference")
    with pytest.raises(McugenError, match="Unknown kernel set"):
        get_library(fake_tree, "host", "ethos_u")


_BUILD_SCRIPT = textwrap.dedent(
    """\
    import sys
    from mcugen.tflm.library import get_library
    from mcugen.tflm.source import TflmTree
    from pathlib import Path
    entry = get_library(TflmTree(Path(sys.argv[1]), "argument"), "host", "reference", jobs=1)
    print("ENTRY", entry.path, flush=True)
    """
)


def _spawn(tree_root: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _BUILD_SCRIPT, str(tree_root)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_two_builds_at_once_build_once(fake_tree, cache_dir, tmp_path):
    count = tmp_path / "count"
    env = dict(os.environ, MCUGEN_CACHE_DIR=str(cache_dir), FAKE_SLEEP="0.3", FAKE_COUNT=str(count))
    env.pop("MAKEFLAGS", None)
    procs = [_spawn(fake_tree.root, env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    paths = {line.split(" ", 1)[1] for out, _ in outs for line in out.splitlines() if line.startswith("ENTRY")}
    assert len(paths) == 1
    assert count.read_text().count("built") == 1  # the second waited for the lock, then reused
    assert len(_entries(cache_dir)) == 1 and _leftovers(cache_dir) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_build_leaves_no_entry(fake_tree, cache_dir, sig):
    env = dict(os.environ, MCUGEN_CACHE_DIR=str(cache_dir), FAKE_SLEEP="1")
    env.pop("MAKEFLAGS", None)
    proc = _spawn(fake_tree.root, env)
    deadline = time.monotonic() + 60
    while not _leftovers(cache_dir) or not list(_leftovers(cache_dir)[0].rglob("*.o")):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert _entries(cache_dir) == []
    if sig == signal.SIGINT:
        # Python's KeyboardInterrupt: make's process group is killed, the temp folder removed.
        assert _leftovers(cache_dir) == []
    # A hard kill leaves the temporary folder; the next build of the key sweeps it
    # (and so does `cache clear`, unless a build holds the key's lock).
    if sig == signal.SIGKILL:
        leftover = _leftovers(cache_dir)
        assert len(leftover) == 1
        with cache.key_lock(cache_dir / "tflm", library_key(fake_tree, "host", "reference"), None):
            assert clear_cache() == []  # locked: looks like a build in progress
        assert _leftovers(cache_dir) == leftover
    entry = get_library(fake_tree, "host", "reference")
    assert entry.library.is_file()
    assert _leftovers(cache_dir) == []


def test_list_and_clear(fake_tree, cache_dir):
    assert list_entries() == []
    a = get_library(fake_tree, "host", "reference")
    b = get_library(fake_tree, "host", "cmsis_nn")
    listed = {e.name: e for e in list_entries()}
    assert set(listed) == {a.path.name, b.path.name}
    info = listed[a.path.name]
    assert (info.target, info.kernels, info.valid) == ("host", "reference", True)
    assert info.size_bytes > a.library_bytes and info.created
    with pytest.raises(Exception, match="No TFLM cache entry"):
        clear_cache("nonexistent")
    with pytest.raises(Exception, match="matches 2 cache entries"):
        clear_cache("host-")
    assert clear_cache(a.path.name[:20]) == [a.path.name]
    assert [e.name for e in list_entries()] == [b.path.name]
    assert clear_cache() == [b.path.name]
    assert list_entries() == [] and not any((cache_dir / "tflm").glob(".trash-*"))


def test_cache_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("MCUGEN_CACHE_DIR", raising=False)
    from platformdirs import user_cache_dir

    assert cache.tflm_cache_dir() == Path(user_cache_dir("mcugen")) / "tflm"
    monkeypatch.setenv("MCUGEN_CACHE_DIR", str(tmp_path))
    assert cache.tflm_cache_dir() == tmp_path / "tflm"
    assert cache.tflm_cache_dir(tmp_path / "x") == tmp_path / "x" / "tflm"


def test_target_for_board():
    from mcugen.boards import get_board

    assert targets.target_for_board(get_board("stm32h7")) == "cortex-m7"
    assert targets.target_for_board(get_board("qemu-m7")) == "cortex-m7"
    assert targets.target_for_board(get_board("host")) == "host"


# --- the real library (built once per machine, then cached) ----------------------------------------


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("target,kernels", [("cortex-m7", "cmsis_nn"), ("cortex-m7", "reference"),
                                            ("host", "reference")])
def test_real_library_entry(tflm_library, target, kernels):
    entry = tflm_library(target, kernels)
    assert entry.library.stat().st_size > 500_000
    assert "TF_LITE_STATIC_MEMORY" in entry.defines
    assert ("CMSIS_NN" in entry.defines) == (kernels == "cmsis_nn")
    if target == "cortex-m7":
        assert {"-mcpu=cortex-m7", "-mfloat-abi=hard", "-mthumb"} <= set(entry.cpu_flags)
        assert "ARMCM7" in entry.defines
    if kernels == "cmsis_nn":
        assert "tensorflow/lite/micro/tools/make/downloads/cmsis_nn/Include" in entry.include_dirs_rel
    for d in entry.include_dirs:
        assert d.is_dir(), d
    # Every object of the build is measured; kernels and framework are there.
    names = set(entry.objects)
    assert any(n.endswith("micro_interpreter.o") for n in names)
    conv = [n for n in names if n.endswith("/conv.o")]
    assert conv and all(entry.objects[n].text > 0 for n in conv)
    if kernels == "cmsis_nn":
        assert any("arm_convolve_s8.o" in n for n in names)
