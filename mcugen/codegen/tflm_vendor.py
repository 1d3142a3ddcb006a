"""The tflm style's project carries its TFLM: the prebuilt library and the headers it includes.

A generated project builds on a machine that has only the toolchain: no mcugen, no cache,
no TFLM tree (issue 17). `vendor_tflm` copies the cache entry's libtensorflow-microlite.a
into `tflm/lib/` and every header of the TFLM tree (TFLM, flatbuffers, gemmlowp, CMSIS,
CMSIS-NN) that the project's C++ sources really include into `tflm/`, at its path in the
tree: a quoted include relative to a header then resolves as it does in the tree, and the
include directories are the library's own, under `tflm/`. The list of headers is the
compiler's (`-MM` with the project's own flags and defines), not a scan of `#include`
lines: preprocessor branches the build never takes pull nothing in (person_detect: about
90 headers, 2 MB, against 40 MB of tree). The licence file of each third-party tree the
headers come from goes beside them, as their licences ask.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from mcugen.errors import ToolchainError
from mcugen.interrupt import temporary_directory
from mcugen.process import require, run
from mcugen.tflm.cache import LIBRARY_NAME, LibraryEntry

VENDOR_DIR = "tflm"  # inside the project: the copied headers at their tree paths, and lib/
LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING")
SCAN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class VendoredTflm:
    """What the project gets: files to write, include directories and the library, all relative."""

    files: dict[str, bytes]  # project-relative path -> content (headers, licences, the library)
    include_dirs: tuple[str, ...]  # the library's include directories under VENDOR_DIR that hold a copied header
    library: str  # the library's project-relative path
    headers: int  # how many headers were copied


def _dependencies(make_rules: str) -> list[str]:
    """The prerequisites of `cc -MM` rules (targets and line continuations dropped)."""
    words = shlex.split(make_rules.replace("\\\n", " "), posix=True)
    return [w for w in words if not w.endswith(":")]


def included_headers(compiler: str, flags: Sequence[str], sources: Sequence[str], cwd: Path) -> list[Path]:
    """Every non-system header the compiler opens for `sources` (paths relative to cwd), resolved."""
    argv = [compiler, *flags, "-MM", *sources]
    try:
        done = run(argv, timeout=SCAN_TIMEOUT_S, cwd=str(cwd))
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"Listing the TFLM headers the project includes took over {SCAN_TIMEOUT_S:.0f} s.",
                             hint=f"Run `{compiler} -MM` on the project's main.cc to see where it stalls.") from None
    if done.returncode != 0:
        tail = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-15:]
        raise ToolchainError("The compiler could not list the TFLM headers the project includes:\n" + "\n".join(tail),
                             hint="The TFLM tree may be incomplete: check MCUGEN_TFLM_ROOT or --tflm-root.")
    rules = done.stdout.decode("utf-8", "replace")
    return [(cwd / dep).resolve() for dep in _dependencies(rules) if not dep.endswith(tuple(sources))]


def _licence_of(path: Path, root: Path) -> Path | None:
    """The nearest licence file above `path` inside `root` (each third-party tree has its own)."""
    for folder in path.parents:
        for name in LICENSE_NAMES:
            if (folder / name).is_file():
                return folder / name
        if folder == root:
            return None
    return None


def vendor_tflm(library: LibraryEntry, project_files: Mapping[str, str | bytes], sources: Sequence[str],
                project_include_dirs: Sequence[str], defines: Mapping[str, str], cxxflags: Sequence[str]) -> VendoredTflm:
    """The library and the headers `sources` (C++ files among project_files) include, for the project.

    project_include_dirs, defines, cxxflags: the project's own compile settings (the
    Makefile's), which decide which headers a build opens; the library's include
    directories are added after project_include_dirs, as in the Makefile."""
    compiler = require(library.cxx)
    root = library.tflm_root.resolve()
    with temporary_directory("mcugen-tflm-scan-") as scratch:
        for rel, content in project_files.items():
            if rel.endswith((".h", ".hpp", ".cc", ".cpp", ".c")):
                path = scratch / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        flags = [*cxxflags, *(f"-D{k}={v}" for k, v in defines.items()),
                 *(f"-I{d}" for d in project_include_dirs), *(f"-I{d}" for d in library.include_dirs)]
        headers = included_headers(compiler, flags, sources, scratch)
    files: dict[str, bytes] = {}
    for header in headers:
        if not header.is_relative_to(root):
            continue  # the project's own headers
        files[f"{VENDOR_DIR}/{header.relative_to(root).as_posix()}"] = header.read_bytes()
        licence = _licence_of(header, root)
        if licence is not None:
            files.setdefault(f"{VENDOR_DIR}/{licence.relative_to(root).as_posix()}", licence.read_bytes())
    count = sum(1 for rel in files if not rel.endswith(LICENSE_NAMES))
    include_dirs = []
    for rel in library.include_dirs_rel:
        folder = VENDOR_DIR if rel in (".", "") else f"{VENDOR_DIR}/{Path(rel).as_posix()}"
        if any(f.startswith(folder + "/") for f in files) and folder not in include_dirs:
            include_dirs.append(folder)
    lib_rel = f"{VENDOR_DIR}/lib/{LIBRARY_NAME}"
    files[lib_rel] = library.library.read_bytes()
    return VendoredTflm(files=files, include_dirs=tuple(include_dirs), library=lib_rel, headers=count)


__all__ = ["VENDOR_DIR", "VendoredTflm", "included_headers", "vendor_tflm"]
