"""The compiler that builds the TFLM library for a target, found and checked."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mcugen.errors import ToolchainError
from mcugen.tflm.targets import TargetSpec


@dataclass(frozen=True)
class Toolchain:
    cc: Path
    cxx: Path
    ar: Path
    version: str  # first line of `cc --version`

    @property
    def root(self) -> str:
        """TFLM's TARGET_TOOLCHAIN_ROOT: the compiler's folder with a trailing slash."""
        return str(self.cc.parent) + os.sep


def find_toolchain(target: TargetSpec, toolchain_root: str | os.PathLike[str] | None = None) -> Toolchain:
    """Find and check the compiler for `target`; a ToolchainError names the package to install."""
    tools = {}
    for role, tool in (("cc", "gcc"), ("cxx", "g++"), ("ar", "ar")):
        name = target.tool_prefix + tool
        if toolchain_root is not None:
            candidate = Path(toolchain_root) / name
            found = str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
        else:
            found = shutil.which(name)
        if not found:
            where = f" in {toolchain_root}" if toolchain_root is not None else " on PATH"
            raise ToolchainError(
                f"{name} not found{where}; it is needed to build the TFLM library for {target.name}.",
                hint=f"Install {target.package}.",
            )
        tools[role] = Path(found)
    try:
        out = subprocess.run(
            [str(tools["cc"]), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(
            f"{tools['cc']} does not run: {exc}", hint=f"Reinstall {target.package}."
        ) from exc
    version = out.splitlines()[0].strip() if out.strip() else "unknown"
    return Toolchain(cc=tools["cc"], cxx=tools["cxx"], ar=tools["ar"], version=version)
