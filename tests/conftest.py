"""Shared fixtures: the bundled real models and the synthetic TensorFlow ones."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "examples" / "models"
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REAL_MODELS = sorted(MODELS.glob("*.tflite"))


def _tflm_tree_found() -> bool:
    from mcugen.errors import McugenError
    from mcugen.tflm.source import find_tflm_root

    try:
        find_tflm_root()
    except McugenError:
        return False
    return True


def pytest_collection_modifyitems(config, items) -> None:
    """A test marked `tflm` needs the TFLM source tree: without one (a checkout with no
    ../shared and no MCUGEN_TFLM_ROOT) it is skipped with the reason, not failed."""
    marked = [item for item in items if item.get_closest_marker("tflm")]
    if marked and not _tflm_tree_found():
        skip = pytest.mark.skip(reason="no TFLM tree (../shared/third_party/tflm or MCUGEN_TFLM_ROOT)")
        for item in marked:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def person_detect() -> Path:
    return MODELS / "person_detect.tflite"


def read_person_bmp(path: Path):
    """The model's int8 input stored in a BMP (see examples/models/README.md)."""
    import numpy as np

    data = path.read_bytes()
    offset = int.from_bytes(data[10:14], "little")
    pixels = np.frombuffer(data[offset : offset + 96 * 96], dtype=np.uint8).reshape(96, 96)[::-1]
    return pixels.astype(np.int8).reshape(1, 96, 96, 1)


def _has_module(name: str) -> bool:
    try:
        __import__(name)
        return True
    except ImportError:
        return False


# Skip markers for what a test needs beyond the package itself (all installed by .ci/setup).
needs_reference = pytest.mark.skipif(not _has_module("tflite_micro"), reason="tflite-micro is not installed")
needs_tf = pytest.mark.skipif(not _has_module("tensorflow"), reason="tensorflow is not installed")
needs_arm = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")
needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm missing")
