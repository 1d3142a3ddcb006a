"""Building libtensorflow-microlite.a with TFLM's own Makefile, into the cache
(mcugen.tflm.cache: keys, entries, lookup and locks).

Safety: a build runs in a private temporary folder inside the cache folder
and becomes visible only by an atomic rename, under a per-key file lock. Two
builds of the same key at once: the second waits and then reuses the first's
entry. An interrupted or failed build leaves no entry behind (its temporary
folder is removed, or, after a hard kill, swept by the next build of that key).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from mcugen import process
from mcugen.errors import ToolchainError
from mcugen.tflm import codesize
from mcugen.tflm.cache import ENTRY_FILE, LIBRARY_NAME, BuildProgress, LibraryEntry, LibraryKey, ProgressCallback
from mcugen.tflm.cache import key_lock, library_key, load_entry, sweep_stale_tmp, tflm_cache_dir
from mcugen.tflm.source import TflmTree, find_tflm_root
from mcugen.tflm.targets import TargetSpec, get_target
from mcugen.tflm.toolchain import Toolchain, find_toolchain

# Generous: the full library takes ~5 min on 2 cores; a hung make must still end.
DEFAULT_BUILD_TIMEOUT_S = 3600.0
_POLL_S = 0.5


# --- toolchain ---------------------------------------------------------------------------


def _find_make() -> str:
    return process.require("make")


def _check_makefile_python() -> None:
    """TFLM's Makefile runs python3 scripts that import numpy and PIL at parse time."""
    missing = []
    for module, package in (("numpy", "numpy"), ("PIL", "Pillow")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise ToolchainError(
            f"TFLM's Makefile needs the Python packages {', '.join(missing)} (it runs "
            "generate_cc_arrays.py while parsing).",
            hint=f"pip install {' '.join(missing)}",
        )


# --- the public entry points -------------------------------------------------------------------


def get_library(
    tflm_root: str | os.PathLike[str] | TflmTree | None = None,
    target: str = "cortex-m7",
    kernels: str = "cmsis_nn",
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    toolchain_root: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    make_vars: tuple[str, ...] = (),
    timeout_s: float = DEFAULT_BUILD_TIMEOUT_S,
) -> LibraryEntry:
    """The library for (tree, target, kernels): from the cache, else built once and cached.

    `progress` receives BuildProgress updates while building (None: silent).
    Raises TflmTreeError for a bad tree, ToolchainError for a missing or
    failing compiler or make.
    """
    tree = tflm_root if isinstance(tflm_root, TflmTree) else find_tflm_root(tflm_root)
    spec = get_target(target)
    tree.require_kernels(kernels)
    toolchain = find_toolchain(spec, toolchain_root)
    key = library_key(tree, target, kernels, toolchain=toolchain, make_vars=make_vars)
    base = tflm_cache_dir(cache_dir)
    final = base / key.dirname
    entry = load_entry(final, tree)
    if entry is not None:
        return entry

    base.mkdir(parents=True, exist_ok=True)
    with key_lock(base, key, progress):
        entry = load_entry(final, tree)  # built by someone else while we waited
        if entry is not None:
            return entry
        sweep_stale_tmp(base, key)
        if final.exists():  # a broken entry (no entry.json): replace it
            shutil.rmtree(final, ignore_errors=True)
        _build_entry(tree, spec, kernels, toolchain, key, base, final, jobs, progress, timeout_s)
    entry = load_entry(final, tree)
    assert entry is not None
    return entry


# --- building --------------------------------------------------------------------------------------


def make_command(
    tree: TflmTree,
    spec: TargetSpec,
    kernels: str,
    toolchain: Toolchain,
    gen_dir: Path,
    jobs: int,
    make_vars: tuple[str, ...] = (),
    goals: tuple[str, ...] = ("microlite",),
    make: str = "make",
) -> list[str]:
    """The exact make argv for one library build (run with cwd = the tree root)."""
    argv = [make, "-f", str(tree.makefile), f"TARGET={spec.make_target}", f"TARGET_ARCH={spec.make_arch}"]
    if kernels == "cmsis_nn":
        argv.append("OPTIMIZED_KERNEL_DIR=cmsis_nn")
    if spec.cross:
        argv.append(f"TARGET_TOOLCHAIN_ROOT={toolchain.root}")
    argv.append(f"BASE_GENDIR={gen_dir}")
    argv += list(make_vars)
    argv.append(f"-j{jobs}")
    argv += list(goals)
    return argv


# Printed by a rule injected with --eval: every flag an application needs, read
# from the Makefile itself rather than copied from its README.
_FLAGS_RULE = (
    "mcugen_flags: ; @printf '%s\\n' "
    "'CXX=$(CXX)' 'CC=$(CC)' 'AR=$(AR)' 'CXXFLAGS=$(CXXFLAGS)' 'CCFLAGS=$(CCFLAGS)' "
    "'INCLUDES=$(INCLUDES)' 'LDFLAGS=$(LDFLAGS)' 'MICROLITE_LIBS=$(MICROLITE_LIBS)' "
    "'GENDIR=$(GENDIR)' "
    "'NOBJS=$(words $(sort $(MICROLITE_LIB_OBJS) $(MICROLITE_KERNEL_OBJS) "
    "$(MICROLITE_THIRD_PARTY_OBJS) $(MICROLITE_THIRD_PARTY_KERNEL_OBJS)))'"
)


@dataclass(frozen=True)
class MakeFlags:
    cxx: str
    cc: str
    ar: str
    cxxflags: tuple[str, ...]
    ccflags: tuple[str, ...]
    includes: tuple[str, ...]
    ldflags: tuple[str, ...]
    libs: tuple[str, ...]
    gendir: Path
    object_count: int


def _parse_flags_output(text: str) -> MakeFlags:
    values: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^(CXX|CC|AR|CXXFLAGS|CCFLAGS|INCLUDES|LDFLAGS|MICROLITE_LIBS|GENDIR|NOBJS)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    missing = {"CXXFLAGS", "INCLUDES", "GENDIR", "NOBJS"} - set(values)
    if missing:
        raise ToolchainError(
            "TFLM's Makefile did not report its flags (" + ", ".join(sorted(missing)) + ").",
            hint="Is the tree a tflite-micro checkout with tools/make/Makefile? See build.log.",
        )
    split = lambda key: tuple(shlex.split(values.get(key, "")))  # noqa: E731
    return MakeFlags(
        cxx=values.get("CXX", ""),
        cc=values.get("CC", ""),
        ar=values.get("AR", ""),
        cxxflags=split("CXXFLAGS"),
        ccflags=split("CCFLAGS"),
        includes=split("INCLUDES"),
        ldflags=split("LDFLAGS"),
        libs=split("MICROLITE_LIBS"),
        gendir=Path(values["GENDIR"]),
        object_count=int(values["NOBJS"] or 0),
    )


def query_make_flags(
    tree: TflmTree, spec: TargetSpec, kernels: str, toolchain: Toolchain, gen_dir: Path,
    make_vars: tuple[str, ...] = (), *, make: str | None = None, env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> MakeFlags:
    """Ask TFLM's Makefile for its compiler, flags, include dirs and object count (~3 s).

    Writes only into `gen_dir` (the Makefile generates a few sources while parsing).
    """
    make = make or _find_make()
    if env is None:
        shim_dir = gen_dir.parent / "bin"
        shim_dir.mkdir(parents=True, exist_ok=True)
        env = _makefile_env(shim_dir)
    argv = make_command(tree, spec, kernels, toolchain, gen_dir, 1, make_vars,
                        goals=("-s", "mcugen_flags"), make=make)
    argv[1:1] = [f"--eval={_FLAGS_RULE}"]
    try:
        out = process.run(argv, cwd=tree.root, env=env, text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError("TFLM's Makefile did not answer within 600 s.") from exc
    text = "$ " + shlex.join(argv) + "\n" + out.stdout + out.stderr
    if log_path is not None:
        log_path.write_text(text)
    if out.returncode != 0:
        raise ToolchainError(
            f"TFLM's Makefile failed while configuring the {spec.name} build:\n"
            + "\n".join(text.splitlines()[-25:]),
            hint="Check the tree and the toolchain; the output is above.",
        )
    return _parse_flags_output(out.stdout)


def application_flags(
    tflm_root: str | os.PathLike[str] | TflmTree | None = None,
    target: str = "cortex-m7",
    kernels: str = "cmsis_nn",
    *,
    toolchain_root: str | os.PathLike[str] | None = None,
) -> dict:
    """What an application needs to compile against the library, without building it.

    The same dict entry.json records: defines, cpu_flags, cxxflags, cflags,
    include_dirs (relative to the tree), ldflags, libs; plus cc and cxx.
    """
    tree = tflm_root if isinstance(tflm_root, TflmTree) else find_tflm_root(tflm_root)
    spec = get_target(target)
    tree.require_kernels(kernels)
    toolchain = find_toolchain(spec, toolchain_root)
    _check_makefile_python()
    with tempfile.TemporaryDirectory(prefix="mcugen-tflm-flags-") as tmp:
        flags = query_make_flags(tree, spec, kernels, toolchain, Path(tmp) / "gen")
    return {**app_flags(flags, tree.root), "cc": str(toolchain.cc), "cxx": str(toolchain.cxx)}


_CPU_FLAG = re.compile(r"^-(mcpu|mfpu|mfloat-abi|mthumb|marm|mlittle-endian|mbig-endian|march)\b")
_DROP_FLAG = re.compile(r"^-(W|MD$|MMD$|MP$|fmessage-length)")


def app_flags(flags: MakeFlags, tree_root: Path) -> dict:
    """Split the Makefile's flags into what entry.json records for applications."""
    defines: list[str] = []
    cpu: list[str] = []
    cxx: list[str] = []
    for f in flags.cxxflags:
        if f.startswith("-D"):
            if f[2:] not in defines:
                defines.append(f[2:])
        elif _CPU_FLAG.match(f):
            if f not in cpu:
                cpu.append(f)
        elif not _DROP_FLAG.match(f):
            cxx.append(f)
    cflags = [
        f for f in flags.ccflags if not (f.startswith("-D") or _CPU_FLAG.match(f) or _DROP_FLAG.match(f))
    ]
    includes: list[str] = []
    for f in flags.includes:
        if not f.startswith("-I"):
            continue
        path = Path(f[2:])
        absolute = path if path.is_absolute() else tree_root / path
        try:
            rel = os.path.relpath(absolute.resolve(), tree_root.resolve())
        except ValueError:  # another drive (Windows)
            continue
        if rel.startswith(".."):  # the build's own genfiles/ folder: not needed by applications
            continue
        rel = rel.replace(os.sep, "/")
        if rel not in includes:
            includes.append(rel)
    return {
        "defines": defines,
        "cpu_flags": cpu,
        "cxxflags": cxx,
        "cflags": cflags,
        "include_dirs": includes,
        "ldflags": list(flags.ldflags),
        "libs": list(flags.libs),
    }


def _makefile_env(shim_dir: Path) -> dict[str, str]:
    """PATH with a `python3` that is this interpreter (it has numpy and Pillow).

    A script, not a symlink: a symlinked venv python outside its venv loses the
    venv's site-packages.
    """
    env = dict(os.environ)
    shim = shim_dir / "python3"
    if not shim.exists():
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        shim.chmod(0o755)
    env["PATH"] = str(shim_dir) + os.pathsep + env.get("PATH", "")
    env.pop("MAKEFLAGS", None)  # a parent make's -j/-s must not leak in
    env.pop("MFLAGS", None)
    return env


def _count_objects(obj_dir: Path) -> int:
    n = 0
    for _, _, files in os.walk(obj_dir):
        n += sum(1 for f in files if f.endswith(".o"))
    return n


def _run_make(
    argv: list[str], cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float,
    on_tick: Callable[[], None] | None = None,
) -> int:
    """Run make in its own process group (mcugen.process); stops the whole group when
    it ends, times out or is interrupted."""
    with open(log_path, "ab") as log:
        log.write(("$ " + shlex.join(argv) + "\n").encode())
        log.flush()
        proc = process.spawn(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    return proc.wait(timeout=_POLL_S)
                except subprocess.TimeoutExpired:
                    pass
                if on_tick is not None:
                    on_tick()
                if time.monotonic() > deadline:
                    raise ToolchainError(
                        f"The TFLM library build did not finish within {timeout_s:.0f} s.",
                        hint=f"See {log_path}.",
                    )
        finally:
            process.stop(proc, grace=10)  # the whole group: make and its compilers


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _build_entry(
    tree: TflmTree, spec: TargetSpec, kernels: str, toolchain: Toolchain, key: LibraryKey,
    base: Path, final: Path, jobs: int | None, progress: ProgressCallback | None, timeout_s: float,
) -> None:
    make = _find_make()
    _check_makefile_python()
    jobs = jobs or os.cpu_count() or 1
    report = progress or (lambda p: None)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key.dirname}-", dir=base))
    started = time.monotonic()
    try:
        gen_dir = tmp / "gen"
        shim_dir = tmp / "bin"
        shim_dir.mkdir()
        env = _makefile_env(shim_dir)
        entry_dir = tmp / "entry"
        (entry_dir / "lib").mkdir(parents=True)
        log_path = entry_dir / "build.log"

        report(BuildProgress("configure", 0, 0, "reading TFLM's Makefile"))
        flags = query_make_flags(tree, spec, kernels, toolchain, gen_dir, key.make_vars,
                                 make=make, env=env, log_path=log_path)
        total = flags.object_count
        obj_dir = flags.gendir / "obj"

        last = [-1]

        def tick() -> None:
            done = _count_objects(obj_dir)
            if done != last[0]:
                last[0] = done
                report(BuildProgress("compile", min(done, total), total))

        argv = make_command(tree, spec, kernels, toolchain, gen_dir, jobs, key.make_vars, make=make)
        report(BuildProgress("compile", 0, total, f"make -j{jobs} microlite"))
        rc = _run_make(argv, tree.root, env, log_path, timeout_s, tick)
        built = flags.gendir / "lib" / LIBRARY_NAME
        if rc != 0 or not built.is_file():
            raise ToolchainError(
                f"Building the TFLM library for {spec.name} ({kernels}) failed (make exit {rc}):\n"
                + _tail(log_path),
                hint=f"The compiler is {toolchain.cc} ({toolchain.version}); "
                f"if it is broken, reinstall {spec.package}.",
            )
        report(BuildProgress("analyse", total, total, "measuring object sizes"))
        shutil.copy2(built, entry_dir / "lib" / LIBRARY_NAME)
        recorded = app_flags(flags, tree.root)
        for libc, filename in codesize.ANALYSIS_FILES.items():
            archives = (codesize.toolchain_archives(str(toolchain.cc), recorded["cpu_flags"], libc)
                        if spec.cross else [])
            analysis = codesize.analyse_objects(obj_dir, archives)
            analysis.libc = libc if spec.cross else ""
            (entry_dir / filename).write_text(json.dumps(analysis.to_json(), separators=(",", ":")))
        meta = {
            "key": key.to_json(),
            "name": key.dirname,
            "tflm_root_at_build": str(tree.root),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - started, 1),
            "jobs": jobs,
            "object_count": total,
            "library_bytes": built.stat().st_size,
            "cc": str(toolchain.cc),
            "cxx": str(toolchain.cxx),
            "make_argv": argv,
            "objects": {name: list(sizes) for name, sizes in analysis.object_sizes().items()},
            **recorded,
        }
        (entry_dir / ENTRY_FILE).write_text(json.dumps(meta, indent=1))
        os.replace(entry_dir, final)  # atomic: the entry appears complete or not at all
        report(BuildProgress("done", total, total, f"{meta['build_seconds']:.0f} s"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


