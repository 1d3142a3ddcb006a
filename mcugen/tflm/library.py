"""A cached build of libtensorflow-microlite.a, made by TFLM's own Makefile.

One cache entry per key: (tree revision, target, kernel set, compiler version,
make variables). An entry is a folder

    <cache>/tflm/<target>-<kernels>-<hash>/
        entry.json                    key fields, flags, include dirs, build time, sizes
        lib/libtensorflow-microlite.a
        objects.json                  section graph of the objects + newlib-nano (codesize.py)
        objects-newlib.json           the same with the full newlib
        build.log                     make's output

where <cache> is $MCUGEN_CACHE_DIR, else platformdirs' user_cache_dir("mcugen").

Headers are not copied: `include_dirs` are paths into the TFLM tree the entry
was built from (stored relative in entry.json, resolved against the tree the
caller passes in). The tree is read-only and its content hash is part of the
key, so an entry always matches the headers it is used with; copying the few
MB of TFLM, flatbuffers and CMSIS headers per entry would buy nothing.

Safety: a build runs in a private temporary folder inside the cache folder
and becomes visible only by an atomic rename, under a per-key file lock. Two
builds of the same key at once: the second waits and then reuses the first's
entry. An interrupted or failed build leaves no entry behind (its temporary
folder is removed, or, after a hard kill, swept by the next build of that key).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from mcugen.errors import McugenError, ToolchainError
from mcugen.tflm.source import TflmTree, find_tflm_root
from mcugen.tflm.targets import TargetSpec, get_target

CACHE_ENV_VAR = "MCUGEN_CACHE_DIR"
LIBRARY_NAME = "libtensorflow-microlite.a"
ENTRY_FILE = "entry.json"
ENTRY_FORMAT = 1  # bump when the entry layout changes; part of the key

# Generous: the full library takes ~5 min on 2 cores; a hung make must still end.
DEFAULT_BUILD_TIMEOUT_S = 3600.0
_POLL_S = 0.5



# --- toolchain ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Toolchain:
    cc: Path
    cxx: Path
    ar: Path
    version: str  # first line of `cc --version`

    @property
    def root(self) -> str:
        """TFLM's TARGET_TOOLCHAIN_ROOT: the compiler's folder with a trailing slash."""
        return str(self.cc.parent) + os.sep


def find_toolchain(target: TargetSpec, toolchain_root: str | os.PathLike[str] | None = None) -> Toolchain:
    """Find and check the compiler for `target`; a ToolchainError names the package to install."""
    tools = {}
    for role, tool in (("cc", "gcc"), ("cxx", "g++"), ("ar", "ar")):
        name = target.tool_prefix + tool
        if toolchain_root is not None:
            candidate = Path(toolchain_root) / name
            found = str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
        else:
            found = shutil.which(name)
        if not found:
            where = f" in {toolchain_root}" if toolchain_root is not None else " on PATH"
            raise ToolchainError(
                f"{name} not found{where}; it is needed to build the TFLM library for {target.name}.",
                hint=f"Install {target.package}.",
            )
        tools[role] = Path(found)
    try:
        out = subprocess.run(
            [str(tools["cc"]), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(
            f"{tools['cc']} does not run: {exc}", hint=f"Reinstall {target.package}."
        ) from exc
    version = out.splitlines()[0].strip() if out.strip() else "unknown"
    return Toolchain(cc=tools["cc"], cxx=tools["cxx"], ar=tools["ar"], version=version)


def _find_make() -> str:
    make = shutil.which("make")
    if not make:
        raise ToolchainError(
            "GNU make not found; TFLM's library is built by its own Makefile.",
            hint="Install make (Debian/Ubuntu: apt install make).",
        )
    return make


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


# --- keys and entries ----------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryKey:
    tree_revision: str
    target: str
    make_target: str
    make_arch: str
    kernels: str  # cmsis_nn | reference
    compiler: str  # compiler version line
    make_vars: tuple[str, ...]  # the variables passed to make besides the fixed ones
    entry_format: int = ENTRY_FORMAT

    def to_json(self) -> dict:
        return {
            "tree_revision": self.tree_revision,
            "target": self.target,
            "make_target": self.make_target,
            "make_arch": self.make_arch,
            "kernels": self.kernels,
            "compiler": self.compiler,
            "make_vars": list(self.make_vars),
            "entry_format": self.entry_format,
        }

    @classmethod
    def from_json(cls, data: dict) -> "LibraryKey":
        return cls(
            tree_revision=data["tree_revision"],
            target=data["target"],
            make_target=data["make_target"],
            make_arch=data["make_arch"],
            kernels=data["kernels"],
            compiler=data["compiler"],
            make_vars=tuple(data["make_vars"]),
            entry_format=data.get("entry_format", 0),
        )

    @property
    def digest(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    @property
    def dirname(self) -> str:
        return f"{self.target}-{self.kernels}-{self.digest}"


@dataclass(frozen=True)
class ObjectSize:
    text: int  # code + read-only data (arm-none-eabi-size's "text")
    data: int
    bss: int


@dataclass(frozen=True)
class LibraryEntry:
    """A built library and everything needed to compile and link an application against it."""

    path: Path  # the entry folder
    key: LibraryKey
    tflm_root: Path  # the tree the include dirs point into
    include_dirs_rel: tuple[str, ...]
    defines: tuple[str, ...]  # without -D; values keep their quotes: X="ARMCM7.h"
    cpu_flags: tuple[str, ...]
    cxxflags: tuple[str, ...]  # code-generation flags the library was built with (no -D/-I/-W)
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    libs: tuple[str, ...]
    cc: str
    cxx: str
    build_seconds: float
    created: str  # ISO 8601, UTC
    library_bytes: int
    objects: dict[str, ObjectSize] = field(default_factory=dict, repr=False)

    @property
    def library(self) -> Path:
        return self.path / "lib" / LIBRARY_NAME

    @property
    def include_dirs(self) -> tuple[Path, ...]:
        return tuple((self.tflm_root / rel).resolve() for rel in self.include_dirs_rel)

    def compile_flags(self, cxx: bool = True) -> list[str]:
        """Flags to compile an application source against this library (includes and defines)."""
        flags = list(self.cpu_flags) + list(self.cxxflags if cxx else self.cflags)
        flags += [f"-D{d}" for d in self.defines]
        flags += [f"-I{p}" for p in self.include_dirs]
        return flags

    def link_inputs(self) -> list[str]:
        """What goes at the end of the link line: the library and its system libraries."""
        return [str(self.library), *self.libs]


@dataclass(frozen=True)
class BuildProgress:
    phase: str  # "configure" | "compile" | "archive" | "analyse" | "done" | "waiting"
    done: int  # compiled objects so far
    total: int  # objects the library has
    message: str = ""


ProgressCallback = Callable[[BuildProgress], None]


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The mcugen cache folder: argument, $MCUGEN_CACHE_DIR, or the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(CACHE_ENV_VAR, "")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mcugen"))


def tflm_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    return cache_root(cache_dir) / "tflm"


# --- the public entry points -------------------------------------------------------------------


def library_key(
    tree: TflmTree,
    target: str = "cortex-m7",
    kernels: str = "cmsis_nn",
    *,
    toolchain: Toolchain | None = None,
    toolchain_root: str | os.PathLike[str] | None = None,
    make_vars: tuple[str, ...] = (),
) -> LibraryKey:
    spec = get_target(target)
    tree.require_kernels(kernels)
    if toolchain is None:
        toolchain = find_toolchain(spec, toolchain_root)
    return LibraryKey(
        tree_revision=tree.revision(),
        target=spec.name,
        make_target=spec.make_target,
        make_arch=spec.make_arch,
        kernels=kernels,
        compiler=toolchain.version,
        make_vars=tuple(make_vars),
    )


def find_library(
    tflm_root: str | os.PathLike[str] | TflmTree | None = None,
    target: str = "cortex-m7",
    kernels: str = "cmsis_nn",
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    toolchain_root: str | os.PathLike[str] | None = None,
    make_vars: tuple[str, ...] = (),
) -> LibraryEntry | None:
    """The cached entry for this configuration, or None (never builds)."""
    tree = tflm_root if isinstance(tflm_root, TflmTree) else find_tflm_root(tflm_root)
    key = library_key(tree, target, kernels, toolchain_root=toolchain_root, make_vars=make_vars)
    return _load_entry(tflm_cache_dir(cache_dir) / key.dirname, tree)


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
    entry = _load_entry(final, tree)
    if entry is not None:
        return entry

    base.mkdir(parents=True, exist_ok=True)
    with _key_lock(base, key, progress):
        entry = _load_entry(final, tree)  # built by someone else while we waited
        if entry is not None:
            return entry
        _sweep_stale_tmp(base, key)
        if final.exists():  # a broken entry (no entry.json): replace it
            shutil.rmtree(final, ignore_errors=True)
        _build_entry(tree, spec, kernels, toolchain, key, base, final, jobs, progress, timeout_s)
    entry = _load_entry(final, tree)
    assert entry is not None
    return entry


# --- cache listing and clearing ------------------------------------------------------------------


@dataclass(frozen=True)
class CacheEntryInfo:
    name: str  # folder name, the id `cache clear` takes
    path: Path
    target: str
    kernels: str
    tree_revision: str
    compiler: str
    size_bytes: int  # whole folder
    created: str
    build_seconds: float
    valid: bool  # entry.json and library present


def list_entries(cache_dir: str | os.PathLike[str] | None = None) -> list[CacheEntryInfo]:
    """Every entry in the TFLM cache, newest first (backend of `mcugen cache list`)."""
    base = tflm_cache_dir(cache_dir)
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(base.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        meta = _read_json(folder / ENTRY_FILE)
        key = meta.get("key", {}) if meta else {}
        out.append(
            CacheEntryInfo(
                name=folder.name,
                path=folder,
                target=key.get("target", "?"),
                kernels=key.get("kernels", "?"),
                tree_revision=key.get("tree_revision", "?"),
                compiler=key.get("compiler", "?"),
                size_bytes=_folder_size(folder),
                created=meta.get("created", "") if meta else "",
                build_seconds=float(meta.get("build_seconds", 0.0)) if meta else 0.0,
                valid=bool(meta) and (folder / "lib" / LIBRARY_NAME).is_file(),
            )
        )
    out.sort(key=lambda e: e.created, reverse=True)
    return out


def clear_cache(name: str | None = None, cache_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Remove one entry (by folder name, or a unique prefix of it) or all; returns what was removed.

    Backend of `mcugen cache clear [NAME]`. Each removal takes the entry's
    lock, so an entry is never removed under a build that is writing it.
    """
    base = tflm_cache_dir(cache_dir)
    entries = list_entries(cache_dir)
    if name is not None:
        matches = [e for e in entries if e.name == name] or [
            e for e in entries if e.name.startswith(name)
        ]
        if not matches:
            raise McugenError(
                f"No TFLM cache entry {name!r} in {base}.",
                hint="`mcugen cache list` shows the entries.",
            )
        if len(matches) > 1:
            raise McugenError(
                f"{name!r} matches {len(matches)} cache entries: "
                + ", ".join(e.name for e in matches),
                hint="Give more of the name.",
            )
        entries = matches
    removed = []
    for e in entries:
        lock = base / ".locks" / f"{e.name}.lock"
        with _file_lock(lock):
            # Rename first so that a half-removed entry is never visible under its name.
            doomed = base / f".trash-{e.name}-{os.getpid()}"
            os.replace(e.path, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        removed.append(e.name)
    if name is None and base.is_dir():
        # Leftovers of killed builds; a folder whose key lock is held is a build in progress.
        for leftover in base.glob(".tmp-*"):
            key_name = leftover.name[len(".tmp-"):].rsplit("-", 1)[0]
            if _try_lock_and_remove(base / ".locks" / f"{key_name}.lock", leftover):
                removed.append(leftover.name)
    return removed


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
        out = subprocess.run(argv, cwd=tree.root, env=env, capture_output=True, text=True,
                             timeout=600, stdin=subprocess.DEVNULL)
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
    """Run make in its own process group; kill the whole group on timeout or interrupt."""
    with open(log_path, "ab") as log:
        log.write(("$ " + shlex.join(argv) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
        )
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
            if proc.poll() is None:
                _kill_group(proc)


def _die_with_parent() -> None:
    """In the make child (Linux): SIGTERM when mcugen dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            proc.kill()
        proc.wait(timeout=10)


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
    from mcugen.tflm import codesize  # analysis of the built objects

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


# --- loading entries -------------------------------------------------------------------------------


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _load_entry(folder: Path, tree: TflmTree) -> LibraryEntry | None:
    meta = _read_json(folder / ENTRY_FILE)
    if not meta or not (folder / "lib" / LIBRARY_NAME).is_file():
        return None
    try:
        return LibraryEntry(
            path=folder,
            key=LibraryKey.from_json(meta["key"]),
            tflm_root=tree.root,
            include_dirs_rel=tuple(meta["include_dirs"]),
            defines=tuple(meta["defines"]),
            cpu_flags=tuple(meta["cpu_flags"]),
            cxxflags=tuple(meta["cxxflags"]),
            cflags=tuple(meta["cflags"]),
            ldflags=tuple(meta["ldflags"]),
            libs=tuple(meta["libs"]),
            cc=meta["cc"],
            cxx=meta["cxx"],
            build_seconds=float(meta["build_seconds"]),
            created=meta["created"],
            library_bytes=int(meta["library_bytes"]),
            objects={k: ObjectSize(*v) for k, v in meta.get("objects", {}).items()},
        )
    except (KeyError, TypeError, ValueError):
        return None


def _folder_size(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


# --- locking ---------------------------------------------------------------------------------------


@contextmanager
def _file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """An exclusive advisory lock on `path` (created if needed), held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        if os.name == "nt":  # pragma: no cover - mcugen is developed on Linux
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if on_wait:
                        on_wait()
                        on_wait = None
                    time.sleep(_POLL_S)
            try:
                yield
            finally:
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _try_lock_and_remove(lock: Path, folder: Path) -> bool:
    """Remove `folder` if `lock` can be taken right now (POSIX; elsewhere: leave it)."""
    if os.name == "nt":  # pragma: no cover
        return False
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return True


@contextmanager
def _key_lock(base: Path, key: LibraryKey, progress: ProgressCallback | None) -> Iterator[None]:
    def waiting() -> None:
        if progress:
            progress(BuildProgress("waiting", 0, 0, "another process is building this library"))

    with _file_lock(base / ".locks" / f"{key.dirname}.lock", waiting):
        yield


def _sweep_stale_tmp(base: Path, key: LibraryKey) -> None:
    """Temporary folders of this key left by a killed build (we hold the key's lock)."""
    for leftover in base.glob(f".tmp-{key.dirname}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


# --- rendering helper for the CLI -----------------------------------------------------------------


@contextmanager
def rich_progress(console=None, quiet: bool = False) -> Iterator[ProgressCallback | None]:
    """A ProgressCallback that draws a rich progress bar; yields None when quiet (--json, CI)."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]TFLM library[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("configuring", total=None)

        def update(p: BuildProgress) -> None:
            desc = {"compile": "compiling", "configure": "configuring", "analyse": "measuring",
                    "done": "done", "waiting": "waiting for another build"}.get(p.phase, p.phase)
            bar.update(task, description=desc, completed=p.done, total=p.total or None)

        yield update
