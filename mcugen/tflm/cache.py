"""The cache of built TFLM libraries: keys, entries, lookup, listing, clearing and locks.

One cache entry per key: (tree revision, target, kernel set, compiler version,
make variables). An entry is a folder

    <cache>/tflm/<target>-<kernels>-<hash>/
        entry.json                    key fields, flags, include dirs, build time, sizes
        lib/libtensorflow-microlite.a
        objects.json                  section graph of the objects + newlib-nano (tflm/codesize.py)
        objects-newlib.json           the same with the full newlib
        build.log                     make's output

where <cache> is $MCUGEN_CACHE_DIR, else platformdirs' user_cache_dir("mcugen").

Headers are not copied: `include_dirs` are paths into the TFLM tree the entry
was built from (stored relative in entry.json, resolved against the tree the
caller passes in). The tree is read-only and its content hash is part of the
key, so an entry always matches the headers it is used with; copying the few
MB of TFLM, flatbuffers and CMSIS headers per entry would buy nothing.

Looking an entry up (`find_library`) never builds: the code-size estimate uses it.
Building one is mcugen.tflm.library's job, under this module's per-key lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from mcugen.errors import McugenError
from mcugen.resources import cache_root
from mcugen.tflm.source import TflmTree, find_tflm_root
from mcugen.tflm.targets import get_target
from mcugen.tflm.toolchain import Toolchain, find_toolchain

LIBRARY_NAME = "libtensorflow-microlite.a"
ENTRY_FILE = "entry.json"
ENTRY_FORMAT = 1  # bump when the entry layout changes; part of the key
LOCK_POLL_S = 0.5


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


def tflm_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    return cache_root(cache_dir) / "tflm"


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
    return load_entry(tflm_cache_dir(cache_dir) / key.dirname, tree)


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
        meta = read_json(folder / ENTRY_FILE)
        key = meta.get("key", {}) if meta else {}
        out.append(
            CacheEntryInfo(
                name=folder.name,
                path=folder,
                target=key.get("target", "?"),
                kernels=key.get("kernels", "?"),
                tree_revision=key.get("tree_revision", "?"),
                compiler=key.get("compiler", "?"),
                size_bytes=folder_size(folder),
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
        with file_lock(lock):
            # Rename first so that a half-removed entry is never visible under its name.
            doomed = base / f".trash-{e.name}-{os.getpid()}"
            os.replace(e.path, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        removed.append(e.name)
    if name is None and base.is_dir():
        # Leftovers of killed builds; a folder whose key lock is held is a build in progress.
        for leftover in base.glob(".tmp-*"):
            key_name = leftover.name[len(".tmp-"):].rsplit("-", 1)[0]
            if try_lock_and_remove(base / ".locks" / f"{key_name}.lock", leftover):
                removed.append(leftover.name)
    return removed


# --- loading entries -------------------------------------------------------------------------------


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def load_entry(folder: Path, tree: TflmTree) -> LibraryEntry | None:
    meta = read_json(folder / ENTRY_FILE)
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


def folder_size(folder: Path) -> int:
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
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
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
                    time.sleep(LOCK_POLL_S)
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


def try_lock_and_remove(lock: Path, folder: Path) -> bool:
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
def key_lock(base: Path, key: LibraryKey, progress: ProgressCallback | None) -> Iterator[None]:
    def waiting() -> None:
        if progress:
            progress(BuildProgress("waiting", 0, 0, "another process is building this library"))

    with file_lock(base / ".locks" / f"{key.dirname}.lock", waiting):
        yield


def sweep_stale_tmp(base: Path, key: LibraryKey) -> None:
    """Temporary folders of this key left by a killed build (we hold the key's lock)."""
    for leftover in base.glob(f".tmp-{key.dirname}-*"):
        shutil.rmtree(leftover, ignore_errors=True)
