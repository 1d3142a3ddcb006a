"""Where the TensorFlow Lite Micro source tree is, and which revision it holds.

The `tflm` style builds against a TFLM tree the user points to. The lookup
order is fixed: an explicit `--tflm-root DIR`, then the environment variable
`MCUGEN_TFLM_ROOT`, then `../shared/third_party/tflm` next to the project
checkout (the pinned, offline-buildable tree the project develops against).

The tree is treated as read-only: nothing here (or in the library build) ever
writes into it. Builds put their outputs in a temporary folder outside the
tree (TFLM's `BASE_GENDIR`).

The tree has no .git folder, so its revision id for cache keys is a content
hash of every file in it (path, size and bytes): about 0.1 s for the pinned
24 MB tree, memoised per process while no file's size or mtime changes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from mcugen.errors import McugenError
from mcugen.resources import project_root

ENV_VAR = "MCUGEN_TFLM_ROOT"

# Relative to the tree root.
MAKEFILE = Path("tensorflow/lite/micro/tools/make/Makefile")
DOWNLOADS = Path("tensorflow/lite/micro/tools/make/downloads")
CMSIS_NN_DIR = DOWNLOADS / "cmsis_nn"
# A file every CMSIS-NN checkout has; an empty cmsis_nn/ folder does not count.
CMSIS_NN_MARKER = CMSIS_NN_DIR / "Include" / "arm_nnfunctions.h"
RESOLVER_HEADER = Path("tensorflow/lite/micro/micro_mutable_op_resolver.h")

KERNEL_SETS = ("cmsis_nn", "reference")

# Folders under the root that are build outputs, not sources: TFLM's default
# BASE_GENDIR is gen/ (upstream .gitignore), plus hidden folders.
_IGNORED_TOP_DIRS = {"gen"}


class TflmTreeError(McugenError):
    """The TFLM source tree is missing, is not a TFLM tree, or lacks a dependency."""


@dataclass(frozen=True)
class TflmTree:
    """A checked TFLM source tree."""

    root: Path
    source: str  # how it was found: "argument" | "env" | "project"

    @property
    def makefile(self) -> Path:
        return self.root / MAKEFILE

    @property
    def downloads(self) -> Path:
        return self.root / DOWNLOADS

    @property
    def has_cmsis_nn(self) -> bool:
        return (self.root / CMSIS_NN_MARKER).is_file()

    def require_kernels(self, kernels: str) -> None:
        """Raise a clear error unless the tree can build `kernels` (cmsis_nn | reference)."""
        if kernels not in KERNEL_SETS:
            raise TflmTreeError(
                f"Unknown kernel set {kernels!r}.",
                hint=f"Use one of: {', '.join(KERNEL_SETS)}.",
            )
        if kernels == "cmsis_nn" and not self.has_cmsis_nn:
            raise TflmTreeError(
                f"TFLM tree without CMSIS-NN: {self.root / CMSIS_NN_DIR} is missing or empty.",
                hint=(
                    "Use a tree whose tools/make/downloads/ holds cmsis_nn (TFLM's "
                    "ext_libs/cmsis_nn_download.sh puts it there), or build with the "
                    "reference kernels."
                ),
            )

    def revision(self) -> str:
        """A content hash of the tree (hex, 16 characters), stable across copies."""
        return tree_revision(self.root)


def find_tflm_root(tflm_root: str | os.PathLike[str] | None = None) -> TflmTree:
    """Locate and check the TFLM tree: argument, then $MCUGEN_TFLM_ROOT, then ../shared.

    An explicit argument or environment value that does not point at a TFLM
    tree is an error (it is never silently skipped for the next candidate).
    """
    if tflm_root is not None and str(tflm_root) != "":
        return _checked(Path(tflm_root), "argument", "--tflm-root")
    env = os.environ.get(ENV_VAR, "")
    if env:
        return _checked(Path(env), "env", ENV_VAR)
    default = default_tflm_root()
    if default is not None and (default / MAKEFILE).is_file():
        return _checked(default, "project", "the project default")
    raise TflmTreeError(
        "No TensorFlow Lite Micro source tree found.",
        hint=(
            f"Pass --tflm-root DIR or set {ENV_VAR}=DIR, where DIR is a TFLM checkout "
            f"(it holds {MAKEFILE.as_posix()})."
            + (f" The project default {default} does not exist." if default else "")
        ),
    )


def default_tflm_root() -> Path | None:
    """../shared/third_party/tflm next to the project checkout, when running from one."""
    root = project_root()
    if root is None:
        return None
    return (root.parent / "shared" / "third_party" / "tflm").resolve()


def _checked(path: Path, source: str, origin: str) -> TflmTree:
    path = path.expanduser()
    if not path.is_dir():
        raise TflmTreeError(
            f"TFLM root from {origin} is not a folder: {path}",
            hint=f"Point --tflm-root or {ENV_VAR} at a TensorFlow Lite Micro checkout.",
        )
    if not (path / MAKEFILE).is_file():
        raise TflmTreeError(
            f"{path} (from {origin}) is not a TensorFlow Lite Micro tree: "
            f"{MAKEFILE.as_posix()} is missing.",
            hint=(
                "Point --tflm-root or MCUGEN_TFLM_ROOT at the top of a tflite-micro checkout "
                "(the folder that holds tensorflow/)."
            ),
        )
    return TflmTree(root=path.resolve(), source=source)


# --- revision --------------------------------------------------------------------------

_REVISION_MEMO: dict[tuple[str, str], str] = {}


def _tree_files(root: Path) -> list[str]:
    """Sorted relative paths of every regular file (outputs and hidden folders skipped)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and not (rel_dir == "." and d in _IGNORED_TOP_DIRS)
        )
        for name in filenames:
            if name.startswith("."):
                continue
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            out.append(rel.replace(os.sep, "/"))
    out.sort()
    return out


def tree_revision(root: str | os.PathLike[str]) -> str:
    """Content hash of a source tree: sha256 over (path, size, sha256 of bytes) per file.

    Copying or touching the tree keeps the id; editing any file changes it.
    Memoised in-process on a cheap signature (paths, sizes, mtimes).
    """
    root = Path(root)
    files = _tree_files(root)
    signature = hashlib.sha256()
    stats = []
    for rel in files:
        st = os.stat(root / rel)
        stats.append(st.st_size)
        signature.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    memo_key = (str(root.resolve()), signature.hexdigest())
    cached = _REVISION_MEMO.get(memo_key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for rel, size in zip(files, stats):
        data = (root / rel).read_bytes()
        digest.update(f"{rel}\0{size}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    revision = digest.hexdigest()[:16]
    _REVISION_MEMO[memo_key] = revision
    return revision
