"""The output directory: mcugen writes and removes only its own files, only inside it.

The rules, each enforced here and nowhere else:
- Every path mcugen writes, replaces or removes is a clean relative path (no `..`, not
  absolute) inside the directory, reached through real directories only: no symbolic
  link is ever followed, and a symbolic link found where mcugen writes a file is
  replaced as a link (its target is never opened).
- A file is mcugen's when the manifest (`mcugen.json`) lists it with a sha256 and the
  regular file there still has that content. A manifest entry that is not a clean
  path inside the directory is ignored and reported, never opened nor removed.
- Without `force`, a directory holding anything that is not mcugen's (a user file, a
  generated file edited since, a link) is refused before anything is written. With
  `force`, a user file at a path the new project writes is replaced (the user asked);
  nothing else of the user's is touched: an edited file of an older generation that
  the new one no longer has is kept, and reported.
- `build/` (compiler output) is never looked at.
- The new project is written into a staging directory next to the output directory,
  then moved in file by file, each old file moved aside into the staging directory,
  the manifest last, with signals held back; any failure moves everything back. So a
  failure at any point leaves the old project as it was, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator, Mapping

from mcugen.errors import McugenError, OutputDirError
from mcugen.interrupt import deferred_signals, temporary_directory

MANIFEST_FILE = "mcugen.json"
IGNORED_DIRS = ("build",)
MAX_LISTED = 12
MAX_FOREIGN = 10_000  # a survey stops counting user files there
MAX_MANIFEST_BYTES = 16 << 20  # a manifest lists a few hundred files; anything larger is not ours
_NAME_MAX = 255  # bytes per path component on Linux file systems


def sha256_text(content: str | bytes) -> str:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def clean_relpath(rel: object) -> str | None:
    """`rel` as a clean relative POSIX path ('a/b.c'), or None when it is not one: empty,
    absolute, with a drive, `..` or `.` parts, backslashes, NUL or over-long parts."""
    if not isinstance(rel, str) or not rel or "\0" in rel or "\\" in rel or rel.startswith("/"):
        return None
    if len(rel) > 1 and rel[1] == ":":  # C:... is a Windows drive
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") or len(p.encode("utf-8", "surrogateescape")) > _NAME_MAX for p in parts):
        return None
    return rel


def _ignored_dir(rel: str) -> bool:
    return rel.split("/", 1)[0] in IGNORED_DIRS


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _reachable(root: Path, rel: str) -> bool:
    """True when every parent of `rel` under `root` is a real directory (or absent):
    nothing on the way is a symbolic link or a file."""
    here = root
    for part in rel.split("/")[:-1]:
        here = here / part
        st = _lstat(here)
        if st is None:
            return True
        if not stat.S_ISDIR(st.st_mode):  # lstat: a link to a directory is not a directory
            return False
    return True


def _kind(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return "a directory"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return "a special file"


def _file_digest(path: Path) -> str | None:
    """sha256 of a regular file, opened without following a link; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        h = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
        return h.hexdigest()


# ---- what the directory holds ------------------------------------------------------------


@dataclass
class Survey:
    """The output directory as mcugen finds it."""

    ours: dict[str, str] = field(default_factory=dict)        # listed, unchanged regular files: rel -> sha256
    edited: list[str] = field(default_factory=list)           # listed regular files whose content changed
    foreign: dict[str, str] = field(default_factory=dict)     # not mcugen's: rel -> what it is
    ignored: list[str] = field(default_factory=list)          # manifest entries outside the directory (as listed)
    manifest: dict | None = None                              # the previous manifest, when it is valid
    more_foreign: bool = False                                # the walk stopped at MAX_FOREIGN foreign entries

    def problems(self) -> list[str]:
        """What refuses the directory without --force, for the message: links and special
        files first (the surprising ones), then edited files, then the user's files."""
        odd = [f"{rel} ({kind})" for rel, kind in sorted(self.foreign.items()) if kind != "a file"]
        edited = [f"{rel} (edited since mcugen wrote it)" for rel in sorted(self.edited)]
        return odd + edited + sorted(rel for rel, kind in self.foreign.items() if kind == "a file")

    def count(self) -> str:
        n = len(self.edited) + len(self.foreign)
        return f"more than {n:,}" if self.more_foreign else str(n)


def _read_manifest(root: Path) -> dict | None:
    path = root / MANIFEST_FILE
    st = _lstat(path)
    if st is None or not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MANIFEST_BYTES:
        return None
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) and isinstance(raw.get("files"), dict) else None


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under root that is not a directory (links included, never followed),
    and links to directories; build/ skipped."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        keep = []
        for d in dirnames:
            rel = prefix + d
            if _ignored_dir(rel):
                continue
            st = _lstat(Path(dirpath) / d)
            if st is not None and stat.S_ISLNK(st.st_mode):
                yield rel, st
            else:
                keep.append(d)
        dirnames[:] = sorted(keep)
        for f in sorted(filenames):
            rel = prefix + f
            if _ignored_dir(rel):
                continue
            st = _lstat(Path(dirpath) / f)
            if st is not None:
                yield rel, st


def survey(root: str | Path) -> Survey:
    """What `root` holds: mcugen's files, edited ones, foreign ones, bad manifest entries."""
    root = Path(root)
    result = Survey()
    if _lstat(root) is None:
        return result
    manifest = _read_manifest(root)
    listed: dict[str, str] = {}
    if manifest is not None:
        result.manifest = manifest
        for rel, digest in manifest["files"].items():
            clean = clean_relpath(rel)
            if clean is None or clean == MANIFEST_FILE or _ignored_dir(clean) or not _reachable(root, clean) \
                    or not isinstance(digest, str):
                result.ignored.append(rel if isinstance(rel, str) else repr(rel))
                continue
            listed[clean] = digest
    for rel, digest in sorted(listed.items()):  # looked up directly: a truncated walk cannot miss them
        st = _lstat(root / rel)
        if st is None:
            continue
        if not stat.S_ISREG(st.st_mode):
            result.foreign[rel] = _kind(st)
        elif _file_digest(root / rel) == digest:
            result.ours[rel] = digest
        else:
            result.edited.append(rel)
    for rel, st in _walk(root):  # the rest is not mcugen's; a home directory given by mistake stops early
        if rel in listed or (rel == MANIFEST_FILE and manifest is not None):
            continue
        if len(result.foreign) >= MAX_FOREIGN:
            result.more_foreign = True
            break
        result.foreign[rel] = _kind(st)
    return result


def _output_root(root: str | Path) -> Path:
    """The directory to write: a link to a directory given by the user is resolved once
    (the user chose it); anything but a directory is refused."""
    root = Path(root)
    st = _lstat(root)
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not root.is_dir():
            raise OutputDirError(f"Output path '{root}' is a symbolic link to no directory.",
                                 hint="Choose another --output directory.")
        root = root.resolve()
        st = _lstat(root)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise OutputDirError(f"Output path '{root}' exists and is not a directory.",
                             hint="Choose another --output directory.")
    return root


def _refusal(root: Path, found: Survey) -> OutputDirError:
    problems = found.problems()
    shown = ", ".join(_short(p) for p in problems[:MAX_LISTED])
    more = " and more" if len(problems) > MAX_LISTED else ""
    return OutputDirError(
        f"Output directory '{root}' holds {found.count()} file(s) mcugen did not write: {shown}{more}.",
        hint="Choose an empty directory, or pass --force: mcugen then replaces those at the paths it writes "
             "and leaves the others alone.",
    )


def check_output_dir(root: str | Path, force: bool = False) -> Survey:
    """OutputDirError unless mcugen may write into `root` (before any long work)."""
    root = _output_root(root)
    found = survey(root)
    if not force and found.problems():
        raise _refusal(root, found)
    return found


def foreign_files(root: str | Path) -> list[str]:
    """What in `root` is not mcugen's (user files, edited generated files, links)."""
    return survey(root).problems()


# ---- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectWrite:
    """What write_project did."""

    root: Path
    written: tuple[str, ...]   # every file of the new project, manifest included
    removed: tuple[str, ...]   # mcugen's files of the previous generation the new one no longer has
    replaced: tuple[str, ...]  # not mcugen's, replaced under --force
    kept: tuple[str, ...]      # edited files of the previous generation, left in place
    ignored: tuple[str, ...]   # manifest entries outside the directory, left alone

    def notes(self) -> list[str]:
        out = []
        def listing(rels: tuple[str, ...]) -> str:
            return ", ".join(_short(r) for r in rels[:MAX_LISTED]) + (" ..." if len(rels) > MAX_LISTED else "")

        out = []
        if self.replaced:
            out.append(f"--force replaced {len(self.replaced)} file(s) mcugen did not write or that were edited "
                       f"since: {listing(self.replaced)}")
        if self.kept:
            out.append(f"kept {len(self.kept)} edited file(s) of the previous generation (no longer generated): "
                       f"{listing(self.kept)}")
        if self.ignored:
            out.append(f"ignored {len(self.ignored)} entr{'y' if len(self.ignored) == 1 else 'ies'} of the old "
                       f"{MANIFEST_FILE} outside the directory: {listing(self.ignored)}")
        return out


def _short(text: str, limit: int = 80) -> str:
    shown = ascii(text)[1:-1]
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _check_new_paths(files: Mapping[str, object]) -> list[str]:
    rels = []
    for rel in files:
        clean = clean_relpath(rel)
        if clean is None or clean == MANIFEST_FILE or _ignored_dir(clean):
            raise McugenError(f"mcugen tried to write '{_short(str(rel))}', which is not a plain path inside the "
                              "project.", hint="This is a bug in mcugen; please report it.")
        rels.append(clean)
    dirs = {"/".join(r.split("/")[:k]) for r in rels for k in range(1, r.count("/") + 1)}
    if dirs & set(rels):
        raise McugenError(f"mcugen tried to write {sorted(dirs & set(rels))} both as files and as directories.",
                          hint="This is a bug in mcugen; please report it.")
    return sorted(rels)


def _blocked_even_with_force(root: Path, rels: list[str]) -> list[str]:
    """Paths mcugen must write that it cannot without deleting something of the user's:
    a directory where a file goes, a file or link where a directory goes."""
    problems = []
    for rel in rels:
        if not _reachable(root, rel):
            problems.append(f"{rel} (a parent of it is a file or a symbolic link)")
            continue
        st = _lstat(root / rel)
        if st is not None and stat.S_ISDIR(st.st_mode):
            problems.append(f"{rel} (a directory where mcugen writes a file)")
    return problems


def _write_file(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    # O_EXCL: the staging directory is new; anything already there is not ours to write through
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_project(root: str | Path, files: Mapping[str, str | bytes], manifest: dict, *,
                  force: bool = False) -> ProjectWrite:
    """Writes `files` (relative path -> content) and the manifest (with their hashes)
    into `root` under the rules of this module; returns what it did.

    OutputDirError before anything is written when `root` holds what is not mcugen's
    (without force) or what even force may not delete; OutputDirError, with the old
    project restored, when writing fails."""
    root = _output_root(root)
    rels = _check_new_paths(files)
    found = survey(root)
    if not force and found.problems():
        raise _refusal(root, found)
    blocked = _blocked_even_with_force(root, rels)
    if blocked:
        raise OutputDirError(f"Output directory '{root}' holds what mcugen would have to delete to write its "
                             f"project: {', '.join(blocked[:MAX_LISTED])}.",
                             hint="Move these away, or choose another --output directory.")
    new = set(rels)
    full = dict(manifest)
    full["files"] = {rel: sha256_text(files[rel]) for rel in rels}
    stale = sorted(rel for rel in found.ours if rel not in new)
    kept = sorted(rel for rel in found.edited if rel not in new)
    replaced = sorted(rel for rel in [*rels, MANIFEST_FILE] if rel not in found.ours and _lstat(root / rel) is not None
                      and not (rel == MANIFEST_FILE and found.manifest is not None))  # a user's or edited file
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        with temporary_directory(f".{root.name[:40]}.mcugen-", dir=_staging_parent(root)) as stage:
            for rel in rels:
                _write_file(stage / "new" / rel, files[rel])
            _write_file(stage / "new" / MANIFEST_FILE, json.dumps(full, indent=2) + "\n")
            if _lstat(root) is None:
                _move_in_whole(stage / "new", root)
            else:
                _commit(root, stage, [*rels, MANIFEST_FILE], stale)
    except OSError as exc:
        raise OutputDirError(f"Writing the project into '{root}' failed: {exc}. Nothing in it was changed.",
                             hint="Check the free space and the permissions of the directory and its parent.") \
            from None
    return ProjectWrite(root, tuple([*rels, MANIFEST_FILE]), tuple(stale), tuple(replaced), tuple(kept),
                        tuple(found.ignored))


def _staging_parent(root: Path) -> Path:
    """Next to root, on root's file system (renames across file systems fail); inside
    root when root is a mount point."""
    parent = root.parent
    st = _lstat(root)
    if st is not None and os.stat(parent).st_dev != st.st_dev:
        return root
    return parent


def _move_in_whole(new: Path, root: Path) -> None:
    """A new output directory appears complete or not at all (`new` was made by mkdir,
    with the usual permissions; only its mkdtemp parent is private)."""
    with deferred_signals():
        os.rename(new, root)


def _commit(root: Path, stage: Path, rels: list[str], stale: list[str]) -> None:
    """Moves the staged files into root (old ones aside into stage/old), then the stale
    files aside; the manifest is last in `rels`. Undone on any failure."""
    new, old = stage / "new", stage / "old"
    done: list[tuple[str, str]] = []  # ("dir" | "aside" | "placed", rel), in order
    with deferred_signals():
        try:
            for rel in rels:
                _make_parents(root, rel, done)
                if _lstat(root / rel) is not None:
                    _move_aside(root, old, rel)
                    done.append(("aside", rel))
                os.replace(new / rel, root / rel)
                done.append(("placed", rel))
            for rel in stale:
                _move_aside(root, old, rel)
                done.append(("aside", rel))
        except BaseException as exc:
            lost = _undo(root, new, old, done)
            if lost:  # cannot happen short of a disk failing mid-way: keep what could not go back
                rescue = root.parent / f".{root.name}.mcugen-rescued-{os.getpid()}"
                os.replace(old, rescue)
                raise OutputDirError(f"Writing '{root}' failed ({exc}) and {len(lost)} file(s) could not be put "
                                     f"back: {', '.join(lost[:MAX_LISTED])}.",
                                     hint=f"The previous versions are in {rescue}.") from exc
            raise
    for rel in stale:  # folders only stale files lived in (kernels/arm after a --kernels portable run)
        _remove_empty_parents(root, rel)


def _make_parents(root: Path, rel: str, done: list[tuple[str, str]]) -> None:
    here = root
    parts = rel.split("/")[:-1]
    for k, part in enumerate(parts):
        here = here / part
        st = _lstat(here)
        if st is None:
            os.mkdir(here)
            done.append(("dir", "/".join(parts[: k + 1])))
        elif not stat.S_ISDIR(st.st_mode):  # appeared since the survey: never write through it
            raise NotADirectoryError(f"'{here}' is not a directory")


def _move_aside(root: Path, old: Path, rel: str) -> None:
    (old / rel).parent.mkdir(parents=True, exist_ok=True)
    os.replace(root / rel, old / rel)


def _undo(root: Path, new: Path, old: Path, done: list[tuple[str, str]]) -> list[str]:
    """Reverses _commit's steps, last first; keeps going past a step that fails and
    returns the old files it could not put back."""
    lost = []
    for kind, rel in reversed(done):
        try:
            if kind == "placed":
                os.replace(root / rel, new / rel)
            elif kind == "aside":
                os.replace(old / rel, root / rel)
            else:
                os.rmdir(root / rel)
        except OSError:
            if kind == "aside":
                lost.append(rel)
    return lost


def _remove_empty_parents(root: Path, rel: str) -> None:
    parts = rel.split("/")[:-1]
    while parts:
        try:
            os.rmdir(root.joinpath(*parts))
        except OSError:  # not empty (or gone): stop
            return
        parts.pop()
