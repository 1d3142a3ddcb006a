"""Finding the TFLM tree: argument, environment, project default; clear errors; revision id."""

from __future__ import annotations


import pytest

from mcugen.tflm import source
from mcugen.tflm.source import TflmTreeError, find_tflm_root, tree_revision
from tflm_helpers import make_fake_tree


def test_argument_wins_over_env(tmp_path, monkeypatch):
    a = make_fake_tree(tmp_path / "a")
    b = make_fake_tree(tmp_path / "b")
    monkeypatch.setenv("MCUGEN_TFLM_ROOT", str(b))
    tree = find_tflm_root(a)
    assert (tree.root, tree.source) == (a.resolve(), "argument")
    tree = find_tflm_root()
    assert (tree.root, tree.source) == (b.resolve(), "env")


def test_project_default(monkeypatch, tmp_path):
    monkeypatch.delenv("MCUGEN_TFLM_ROOT", raising=False)
    fake = make_fake_tree(tmp_path / "shared" / "third_party" / "tflm")
    monkeypatch.setattr(source, "default_tflm_root", lambda: fake)
    tree = find_tflm_root()
    assert (tree.root, tree.source) == (fake.resolve(), "project")


def test_nothing_found_names_both_options(monkeypatch, tmp_path):
    monkeypatch.delenv("MCUGEN_TFLM_ROOT", raising=False)
    monkeypatch.setattr(source, "default_tflm_root", lambda: tmp_path / "missing")
    with pytest.raises(TflmTreeError) as err:
        find_tflm_root()
    assert "No TensorFlow Lite Micro source tree" in err.value.message
    assert "--tflm-root" in err.value.hint and "MCUGEN_TFLM_ROOT" in err.value.hint


@pytest.mark.parametrize("via_env", [False, True])
def test_bad_explicit_paths_are_errors(tmp_path, monkeypatch, via_env):
    not_tflm = tmp_path / "not_tflm"
    not_tflm.mkdir()
    for path, text in ((tmp_path / "nope", "is not a folder"), (not_tflm, "is not a TensorFlow Lite Micro tree")):
        if via_env:
            monkeypatch.setenv("MCUGEN_TFLM_ROOT", str(path))
            call = lambda: find_tflm_root()  # noqa: E731
        else:
            call = lambda: find_tflm_root(path)  # noqa: E731
        with pytest.raises(TflmTreeError, match=text):
            call()


def test_cmsis_nn_check(tmp_path):
    with_nn = find_tflm_root(make_fake_tree(tmp_path / "a", cmsis_nn=True))
    without = find_tflm_root(make_fake_tree(tmp_path / "b", cmsis_nn=False))
    with_nn.require_kernels("cmsis_nn")
    without.require_kernels("reference")
    with pytest.raises(TflmTreeError, match="TFLM tree without CMSIS-NN"):
        without.require_kernels("cmsis_nn")
    with pytest.raises(TflmTreeError, match="Unknown kernel set"):
        with_nn.require_kernels("ethos_u")


def test_revision_is_content_based(tmp_path):
    a = make_fake_tree(tmp_path / "a")
    b = make_fake_tree(tmp_path / "b")
    assert tree_revision(a) == tree_revision(b)  # copies share the id
    (a / "gen").mkdir()
    (a / "gen" / "out.o").write_bytes(b"build output is not source")
    assert tree_revision(a) == tree_revision(b)
    (a / "src" / "part1.c").write_text("int changed;\n")
    assert tree_revision(a) != tree_revision(b)


@pytest.mark.tflm
def test_real_tree_revision_is_memoised(tflm_tree):
    # How long it takes is a figure for bench/, not a test; here: stable and memoised.
    source._REVISION_MEMO.clear()
    first = tflm_tree.revision()
    assert source._REVISION_MEMO
    assert tflm_tree.revision() == first and len(first) == 16
    assert tflm_tree.has_cmsis_nn
