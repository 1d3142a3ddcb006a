"""The compiler that builds the TFLM library for a target, found and checked."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mcugen import process
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
        if toolchain_root is None:
            tools[role] = Path(process.require(name))
            continue
        candidate = Path(toolchain_root) / name
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise ToolchainError(
                f"{name} not found in {toolchain_root}; it is needed to build the TFLM library for {target.name}.",
                hint=f"Install {target.package}.",
            )
        tools[role] = candidate
    try:
        ran = process.run([str(tools["cc"]), "--version"], text=True, timeout=30)
    except (ToolchainError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"{tools['cc']} does not run: {exc}", hint=f"Reinstall {target.package}.") from exc
    if ran.returncode != 0:
        raise ToolchainError(f"{tools['cc']} does not run: `--version` exited with {ran.returncode} "
                             f"{ran.stderr.strip()[:500]}".rstrip(), hint=f"Reinstall {target.package}.")
    out = ran.stdout
    version = out.splitlines()[0].strip() if out.strip() else "unknown"
    return Toolchain(cc=tools["cc"], cxx=tools["cxx"], ar=tools["ar"], version=version)
