"""Where mcugen's data lives: templates/, firmware/ and boards.yaml; and its cache folder.

From a source checkout or an editable install they sit at the top of the
repository; a wheel carries them in mcugen/_data (see pyproject.toml).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import jinja2

_PACKAGE_DIR = Path(__file__).resolve().parent
CACHE_ENV_VAR = "MCUGEN_CACHE_DIR"


@lru_cache(maxsize=None)
def data_root() -> Path:
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "boards.yaml").is_file():
        return bundled
    return _PACKAGE_DIR.parent


def templates_dir() -> Path:
    return data_root() / "templates"


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """The jinja2 environment every generator renders templates/ with (strict: an
    undefined name is an error, not an empty string)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def firmware_dir() -> Path:
    return data_root() / "firmware"


def boards_file() -> Path:
    return data_root() / "boards.yaml"


def project_root() -> Path | None:
    """The source checkout, when mcugen runs from one (examples/, ../shared)."""
    root = _PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The mcugen cache folder (TFLM libraries, CMSIS packs): argument, $MCUGEN_CACHE_DIR,
    or the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(CACHE_ENV_VAR, "")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir  # noqa: PLC0415  (only when a cache is used)

    return Path(user_cache_dir("mcugen"))
