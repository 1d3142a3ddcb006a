"""Where mcugen's data lives: templates/, firmware/ and boards.yaml.

From a source checkout or an editable install they sit at the top of the
repository; a wheel carries them in mcugen/_data (see pyproject.toml).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_root() -> Path:
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "boards.yaml").is_file():
        return bundled
    return _PACKAGE_DIR.parent


def templates_dir() -> Path:
    return data_root() / "templates"


def firmware_dir() -> Path:
    return data_root() / "firmware"


def boards_file() -> Path:
    return data_root() / "boards.yaml"


def project_root() -> Path | None:
    """The source checkout, when mcugen runs from one (examples/, ../shared)."""
    root = _PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None
