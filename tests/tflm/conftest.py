"""Fixtures for the tflm groundwork: the real TFLM tree and library builds, a fake tree.

The real library takes about 6 minutes per configuration on 2 cores, so it is
built at most once per machine: the session fixtures use the real cache
(MCUGEN_CACHE_DIR or the user cache folder) and later runs reuse it. Cache
logic itself (keys, locking, atomic rename, interrupts) is tested against a
fake TFLM tree whose Makefile compiles a handful of tiny C files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tflm_helpers import make_fake_tree

from mcugen.errors import McugenError


@pytest.fixture(scope="session")
def tflm_tree():
    from mcugen.tflm.source import find_tflm_root

    try:
        return find_tflm_root()
    except McugenError as exc:
        pytest.skip(f"no TFLM tree: {exc.message}")


def _need(tool: str) -> None:
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed")


@pytest.fixture(scope="session")
def tflm_library(tflm_tree):
    """Factory: the real cached library for (target, kernels), built on first use."""
    from mcugen.tflm.library import get_library

    built = {}

    def get(target: str = "cortex-m7", kernels: str = "cmsis_nn"):
        _need("arm-none-eabi-gcc" if target != "host" else "g++")
        if (target, kernels) not in built:
            built[(target, kernels)] = get_library(tflm_tree, target, kernels)
        return built[(target, kernels)]

    return get


@pytest.fixture(scope="session")
def synthetic_models() -> dict[str, Path]:
    pytest.importorskip("tensorflow")
    from tflm_synthetic import build_synthetic_models

    return build_synthetic_models()


@pytest.fixture
def fake_tree(tmp_path):
    _need("gcc")
    _need("make")
    from mcugen.tflm.source import TflmTree

    root = make_fake_tree(tmp_path / "tflm")
    return TflmTree(root=root.resolve(), source="argument")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MCUGEN_CACHE_DIR", str(folder))
    return folder
