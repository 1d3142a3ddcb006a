"""The output directory safety matrix, attacked as a hostile user or a bad day would:
user files, edited generated files, manifests pointing outside, links, names that
collide, a failure in the middle of writing. Driven through the CLI where the user
sees it; the rollback of a failure while files are being moved in through the library."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODELS
from mcugen import outdir
from mcugen.errors import OutputDirError
from mcugen.outdir import MANIFEST_FILE, clean_relpath, survey, write_project

MODEL = MODELS / "hello_world_int8.tflite"


def mcugen(*args, timeout=180, preexec_fn=None):
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)


def generate(out, *extra, **kw):
    return mcugen("generate", MODEL, "-t", "host", "-o", out, *extra, **kw)


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry under root (links not followed): kind and content or link target."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                found[rel] = ("file", p.read_bytes())
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", b"")
            else:
                found[rel] = ("special", b"")
    return found


def manifest(root: Path) -> dict:
    return json.loads((root / MANIFEST_FILE).read_text())


@pytest.fixture()
def project(tmp_path) -> Path:
    """A generated project with a build/ output and a victim file next to it."""
    out = tmp_path / "proj"
    r = generate(out)
    assert r.returncode == 0, r.stderr
    (out / "build").mkdir()
    (out / "build" / "firmware.elf").write_bytes(b"\x7fELF old build")
    (tmp_path / "victim.txt").write_text("the user's file outside the project")
    return out


def _listed(root: Path, *entries: str) -> None:
    """Adds manifest entries (with the hash of what mcugen would write there)."""
    m = manifest(root)
    for e in entries:
        m["files"][e] = outdir.sha256_text(b"x")
    (root / MANIFEST_FILE).write_text(json.dumps(m))


def _no_staging_left(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if ".mcugen-" in p.name]


# ---- user files and edited generated files --------------------------------------------------


def test_user_files_refused_without_force_and_never_touched_with_it(project):
    (project / "notes.txt").write_text("mine")
    (project / "docs").mkdir()
    (project / "docs" / "plan.md").write_text("mine too")
    before = snapshot(project)
    r = generate(project)
    assert r.returncode == 1 and "notes.txt" in r.stderr and "docs/plan.md" in r.stderr
    assert "Traceback" not in r.stderr and snapshot(project) == before
    r = generate(project, "--force")
    assert r.returncode == 0, r.stderr
    after = snapshot(project)
    assert after["notes.txt"] == before["notes.txt"] and after["docs/plan.md"] == before["docs/plan.md"]
    assert after["build/firmware.elf"] == before["build/firmware.elf"]  # build/ kept across regenerations
    _no_staging_left(project.parent)


def test_edited_generated_file(project):
    with open(project / "main.c", "a") as f:
        f.write("/* my change */\n")
    before = snapshot(project)
    r = generate(project)
    assert r.returncode == 1 and "main.c (edited since mcugen wrote it)" in r.stderr
    assert snapshot(project) == before
    r = generate(project, "--force")  # the user asked: the edited file at a generated path is replaced
    assert r.returncode == 0, r.stderr
    assert "my change" not in (project / "main.c").read_text()
    assert "replaced 1 file(s) mcugen did not write or that were edited since: main.c" in r.stderr


def test_regenerating_with_another_name_keeps_the_edited_old_file(project):
    with open(project / "network.c", "a") as f:
        f.write("/* tuned by hand */\n")
    edited = (project / "network.c").read_bytes()
    r = generate(project, "--name", "kws")
    assert r.returncode == 1 and "network.c (edited" in r.stderr
    r = generate(project, "--name", "kws", "--force")
    assert r.returncode == 0, r.stderr
    assert (project / "network.c").read_bytes() == edited  # kept, and said so
    assert "kept 1 edited file(s)" in r.stderr and "network.c" in r.stderr
    assert not (project / "network.h").exists() and not (project / "network_data.c").exists()  # unedited: removed
    assert (project / "kws.c").is_file() and "network.c" not in manifest(project)["files"]
    # from now on network.c is the user's: refused without --force, never removed with it
    assert generate(project, "--name", "kws").returncode == 1
    assert generate(project, "--force").returncode == 0 and (project / "network.c").is_file()


# ---- manifests pointing outside -------------------------------------------------------------------


@pytest.mark.parametrize("force", [False, True])
def test_manifest_entries_outside_are_ignored(project, tmp_path, force):
    victim = tmp_path / "victim.txt"
    _listed(project, "../victim.txt", str(victim), "a/../../victim.txt", "C:/x", "")
    r = generate(project, *(["--force"] if force else []))
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "the user's file outside the project"
    assert "ignored 5 entries of the old mcugen.json outside the directory: ../victim.txt" in r.stderr
    assert all(clean_relpath(k) for k in manifest(project)["files"])


def test_manifest_entries_through_a_link_are_ignored(project, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "data.bin").write_bytes(b"precious")
    (project / "through").symlink_to(other)  # a link inside the project to a folder outside
    _listed(project, "through/data.bin")
    r = generate(project)
    assert r.returncode == 1 and "through (a symbolic link)" in r.stderr  # the link is not mcugen's
    r = generate(project, "--force")
    assert r.returncode == 0, r.stderr
    assert (other / "data.bin").read_bytes() == b"precious" and (project / "through").is_symlink()
    assert "ignored 1 entry of the old mcugen.json outside the directory: through/data.bin" in r.stderr


def test_generated_path_that_is_a_link_is_replaced_not_written_through(project, tmp_path):
    victim = tmp_path / "victim.txt"
    (project / "stai.h").unlink()
    (project / "stai.h").symlink_to(victim)
    r = generate(project)
    assert r.returncode == 1 and "stai.h (a symbolic link)" in r.stderr
    r = generate(project, "--force")
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "the user's file outside the project"
    assert not (project / "stai.h").is_symlink() and "STAI" in (project / "stai.h").read_text()


def test_a_manifest_that_is_a_link_is_not_read_nor_written_through(project, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text(json.dumps({"files": {"../victim.txt": outdir.sha256_text(victim.read_bytes())}}))
    before = victim.read_bytes()
    (project / MANIFEST_FILE).unlink()
    (project / MANIFEST_FILE).symlink_to(victim)
    r = generate(project)  # no manifest of its own: every file is the user's
    assert r.returncode == 1 and "mcugen.json (a symbolic link)" in r.stderr and victim.read_bytes() == before
    r = generate(project, "--force")
    assert r.returncode == 0, r.stderr
    assert victim.read_bytes() == before and not (project / MANIFEST_FILE).is_symlink()
    assert "ignored" not in r.stderr  # the link's content was never taken for a manifest


def test_a_link_where_a_folder_goes_is_refused_even_with_force(project, tmp_path):
    elsewhere = tmp_path / "kernels-elsewhere"
    os.rename(project / "kernels", elsewhere)
    (project / "kernels").symlink_to(elsewhere)  # writing kernels/x.c would write outside
    before = snapshot(elsewhere)
    r = generate(project, "--force")
    assert r.returncode == 1 and "a parent of it is a file or a symbolic link" in r.stderr
    assert "Traceback" not in r.stderr and snapshot(elsewhere) == before


def test_special_files_do_not_hang_the_survey(project):
    os.mkfifo(project / "main.c.fifo")
    os.unlink(project / "main.c")
    os.mkfifo(project / "main.c")  # listed in the manifest, now a FIFO: reading it would block
    r = generate(project, timeout=60)
    assert r.returncode == 1 and "main.c (a special file)" in r.stderr and "main.c.fifo (a special file)" in r.stderr
    r = generate(project, "--force", timeout=60)
    assert r.returncode == 0 and (project / "main.c").is_file()
    assert stat.S_ISFIFO(os.lstat(project / "main.c.fifo").st_mode)  # not mcugen's, not at a path it writes


# ---- names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["main", "stai", "stai_runtime", "host_main", "Main"])
def test_names_that_collide_with_generated_files(tmp_path, name):
    r = generate(tmp_path / "p", "--name", name)
    assert r.returncode == 1 and "clashes with mcugen's own" in r.stderr and "Traceback" not in r.stderr
    assert ("these are taken: ai_datatypes_defines, ai_platform, host_main, main, stai, stai_debug, stai_runtime") in r.stderr
    assert not (tmp_path / "p").exists()


def test_a_500_character_name_is_refused_before_anything_is_written(tmp_path):
    r = generate(tmp_path / "p", "--name", "n" * 500)
    assert r.returncode == 1 and "longer than 64 characters" in r.stderr and "(500 characters)" in r.stderr
    assert not (tmp_path / "p").exists() and list(tmp_path.iterdir()) == []
    assert len(r.stderr) < 400


def test_tflm_style_refuses_a_name(tmp_path):
    r = mcugen("generate", MODEL, "-t", "host", "-s", "tflm", "--name", "kws", "-o", tmp_path / "p")
    assert r.returncode == 1 and "--name: cubeai style only" in r.stderr


@pytest.mark.slow
def test_an_unusual_valid_name_builds(tmp_path):
    out = tmp_path / "p"
    r = generate(out, "--name", "_x__y_")
    assert r.returncode == 0, r.stderr
    assert (out / "_x__y_.c").is_file() and (out / "_x__y__data.h").is_file()
    r = mcugen("build", out, "-j2")
    assert r.returncode == 0, r.stderr


# ---- failures while writing ----------------------------------------------------------------------------


def _small_files_only():
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # EFBIG for any larger file (as root too)


def test_a_failure_while_writing_leaves_the_old_project_as_it_was(project):
    (project / "notes.txt").write_text("mine")
    before = snapshot(project)
    r = generate(project, "--name", "other", "--force", preexec_fn=_small_files_only)
    assert r.returncode == 1 and "Nothing in it was changed" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(project) == before
    _no_staging_left(project.parent)
    r = generate(tmp := project.parent / "fresh", preexec_fn=_small_files_only)
    assert r.returncode == 1 and not tmp.exists()  # a new directory appears whole or not at all
    _no_staging_left(project.parent)


def _old_and_new(tmp_path):
    from mcugen.boards import get_board
    from mcugen.codegen.cubeai import render_project
    from mcugen.lower import lower
    from mcugen.model.load import load_model

    board = get_board("host")
    files, mf, _ = render_project(lower(load_model(MODEL), board), board)
    root = tmp_path / "p"
    write_project(root, files, mf)
    (root / "build").mkdir()
    (root / "build" / "x.o").write_bytes(b"obj")
    (root / "stale_user.txt").write_text("user")
    changed = {k: (v + "\n/* v2 */\n" if isinstance(v, str) else v) for k, v in files.items()
               if not k.startswith("kernels/")}
    changed["extra/new.c"] = "int x;\n"
    return root, changed, mf


@pytest.mark.parametrize("fail_at", [1, 5, 17, 40])
def test_a_failure_while_moving_files_in_is_rolled_back(tmp_path, monkeypatch, fail_at):
    root, changed, mf = _old_and_new(tmp_path)
    before = snapshot(root)
    calls = {"n": 0}
    real_replace = os.replace

    def failing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(28, "No space left on device (injected)")
        return real_replace(src, dst)

    monkeypatch.setattr(outdir.os, "replace", failing_replace)
    with pytest.raises(OutputDirError, match="injected.*Nothing in it was changed"):
        write_project(root, changed, mf, force=True)
    assert calls["n"] >= fail_at
    monkeypatch.undo()
    assert snapshot(root) == before
    _no_staging_left(tmp_path)
    write_project(root, changed, mf, force=True)  # and the same write then goes through
    assert (root / "extra" / "new.c").is_file() and not (root / "kernels").exists()
    assert (root / "build" / "x.o").read_bytes() == b"obj" and (root / "stale_user.txt").is_file()


# ---- the rules, unit by unit -------------------------------------------------------------------------------


def test_clean_relpath():
    for good in ("a.c", "kernels/arm/x.c", "_x__y_.h"):
        assert clean_relpath(good) == good
    for bad in ("", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "C:x", "a\\b", "a\0b", "x" * 256, 3, None):
        assert clean_relpath(bad) is None


def test_survey_sorts_what_it_finds(tmp_path):
    root = tmp_path / "p"
    write_project(root, {"a.c": "A", "sub/b.c": "B", "c.c": "C"}, {"generator": "test"})
    (root / "c.c").write_text("changed")
    (root / "mine.txt").write_text("user")
    (root / "build").mkdir()
    (root / "build" / "ignored.o").write_text("")
    (root / "link").symlink_to("/etc/hostname")
    s = survey(root)
    assert s.ours == {"a.c": outdir.sha256_text("A"), "sub/b.c": outdir.sha256_text("B")}
    assert s.edited == ["c.c"] and s.foreign == {"link": "a symbolic link", "mine.txt": "a file"}
    assert s.problems() == ["link (a symbolic link)", "c.c (edited since mcugen wrote it)", "mine.txt"]


def test_output_path_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = generate(f)
    assert r.returncode == 1 and "exists and is not a directory" in r.stderr and f.read_text() == "x"


def test_a_huge_directory_given_by_mistake_is_not_walked_to_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(outdir, "MAX_FOREIGN", 20)
    for k in range(50):
        (tmp_path / f"f{k:02d}").write_text("")
    with pytest.raises(OutputDirError, match="holds more than 20 file\\(s\\) mcugen did not write: f00, .* and more"):
        outdir.check_output_dir(tmp_path)
