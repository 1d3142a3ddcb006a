"""Writing a generated project safely: mcugen's own files only.

A project directory holds a manifest (`mcugen.json`) listing every file mcugen
wrote with its sha256. Regenerating into the directory may replace those files
(and removes the ones the new output no longer has); any other file, or one of
mcugen's that was edited since, makes generation refuse unless forced. The
`build/` directory (compiler output) is never looked at.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping

from mcugen.errors import OutputDirError

MANIFEST_FILE = "mcugen.json"
IGNORED_DIRS = ("build",)
MAX_LISTED = 12


def sha256_text(content: str | bytes) -> str:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def _existing_files(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts and rel.parts[0] in IGNORED_DIRS:
            continue
        if path.is_file() or path.is_symlink():
            found.append(rel.as_posix())
    return found


def previous_manifest(root: Path) -> dict | None:
    try:
        raw = json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) and isinstance(raw.get("files"), dict) else None


def foreign_files(root: Path) -> list[str]:
    """Files in `root` mcugen did not write (or that changed since it wrote them)."""
    if not root.exists():
        return []
    manifest = previous_manifest(root)
    ours: Mapping[str, str] = manifest["files"] if manifest else {}
    problems = []
    for rel in _existing_files(root):
        if rel == MANIFEST_FILE and manifest is not None:
            continue
        if rel not in ours:
            problems.append(rel)
            continue
        try:
            digest = sha256_text((root / rel).read_bytes())
        except OSError:
            digest = ""
        if digest != ours[rel]:
            problems.append(f"{rel} (edited since mcugen wrote it)")
    return problems


def write_project(root: Path, files: Mapping[str, str | bytes], manifest: dict, *, force: bool = False) -> list[Path]:
    """Writes `files` (relative path -> content) and the manifest into `root`.

    Raises OutputDirError, before writing anything, when `root` holds files
    mcugen did not write and `force` is false.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputDirError(f"Output path '{root}' exists and is not a directory.",
                             hint="Choose another --output directory.")
    if not force:
        foreign = foreign_files(root)
        if foreign:
            shown = ", ".join(foreign[:MAX_LISTED])
            more = f" and {len(foreign) - MAX_LISTED} more" if len(foreign) > MAX_LISTED else ""
            raise OutputDirError(
                f"Output directory '{root}' holds {len(foreign)} file(s) mcugen did not write: {shown}{more}.",
                hint="Choose an empty directory, or pass --force to overwrite them.",
            )
    old = previous_manifest(root) if root.exists() else None
    root.mkdir(parents=True, exist_ok=True)
    from mcugen.firmware import write_files  # noqa: PLC0415

    written = write_files(root, files)
    # Files of the previous generation that this one no longer has.
    if old is not None:
        for rel in old["files"]:
            if rel not in files and rel != MANIFEST_FILE:
                stale = root / rel
                if stale.is_file():
                    stale.unlink()
    full = dict(manifest)
    full["files"] = {rel: sha256_text(content) for rel, content in sorted(files.items())}
    (root / MANIFEST_FILE).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    written.append(root / MANIFEST_FILE)
    return written
