"""The `host` target of the cubeai style: build the generated network with the host
C compiler and run it on arrays.

`build_host(project_dir)` compiles the project's network sources and its small
stdin/stdout harness (`host_main.c`) with -Wall -Wextra -Werror -O2 into
build/host/<name>_host. `run_on_host(project_dir, samples)` feeds it the
samples (each input's bytes in order) and parses its outputs. The manifest
(`mcugen.json`) says which sources, inputs and outputs the project has.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np

from mcugen.errors import McugenError, RunnerError, ToolchainError
from mcugen.model.graph import NUMPY_DTYPES
from mcugen.process import require, run

HOST_BUILD_DIR = "build/host"
CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror")
BUILD_TIMEOUT = 600.0
RUN_TIMEOUT = 600.0


def read_project_manifest(project_dir: str | Path) -> dict:
    path = Path(project_dir) / "mcugen.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise McugenError(f"{path} not found: not a generated mcugen project.",
                          hint="Run `mcugen generate` first.") from None
    except ValueError as exc:
        raise McugenError(f"{path} is not valid JSON: {exc}.") from None
    if manifest.get("style") != "cubeai" or "host_sources" not in manifest:
        raise McugenError(f"{path}: not a cubeai project; the host target runs cubeai projects only.")
    return manifest


def host_compiler() -> str:
    return require(os.environ.get("CC", "cc"))


def host_executable(project_dir: str | Path, manifest: dict | None = None) -> Path:
    manifest = manifest or read_project_manifest(project_dir)
    return Path(project_dir) / HOST_BUILD_DIR / f"{manifest['name']}_host"


def host_build_command(manifest: dict, cc: str, output: str, extra_cflags: Sequence[str] = ()) -> list[str]:
    """The compiler argv (relative to the project directory)."""
    includes = [f"-I{d}" for d in manifest["include_dirs"]]
    return [cc, *CFLAGS, *extra_cflags, *includes, "-o", output, *manifest["host_sources"], "-lm"]


def build_host(project_dir: str | Path, *, extra_cflags: Sequence[str] = (), force: bool = False) -> Path:
    """Compile the host harness; returns the executable. Skipped when it is newer than its sources."""
    root = Path(project_dir)
    manifest = read_project_manifest(root)
    exe = host_executable(root, manifest)
    sources = [root / s for s in manifest["host_sources"]] + [root / "mcugen.json"]
    if not force and not extra_cflags and exe.is_file():
        built = exe.stat().st_mtime
        if all(s.stat().st_mtime <= built for s in sources if s.exists()):
            return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    argv = host_build_command(manifest, host_compiler(), str(exe.relative_to(root)), extra_cflags)
    try:
        proc = run(argv, cwd=root, text=True, errors="replace", timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"Compiling {root} for the host took longer than {BUILD_TIMEOUT:.0f} s.") from exc
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        shown = "\n".join(lines[:30])
        raise ToolchainError(f"Compiling {root} for the host failed:\n{shown}",
                             hint="The generated code should always compile; please report this with the model.")
    return exe


def encode_samples(manifest: dict, samples: Sequence[Sequence[np.ndarray]]) -> bytes:
    parts = []
    specs = manifest["inputs"]
    for n, sample in enumerate(samples):
        if len(sample) != len(specs):
            raise McugenError(f"Sample {n} has {len(sample)} arrays; the model has {len(specs)} inputs.")
        for spec, array in zip(specs, sample):
            a = np.asarray(array)
            dtype = np.dtype(NUMPY_DTYPES[spec["dtype"]])
            if a.size * dtype.itemsize != spec["bytes"]:
                raise McugenError(
                    f"Sample {n}: {a.size} values for input '{spec['name']}', which takes {spec['shape']}."
                )
            parts.append(np.ascontiguousarray(a.astype(dtype, copy=False)).tobytes())
    return b"".join(parts)


def decode_outputs(manifest: dict, data: bytes, count: int) -> list[list[np.ndarray]]:
    specs = manifest["outputs"]
    per_run = sum(s["bytes"] for s in specs)
    if len(data) != per_run * count:
        raise RunnerError(f"The host run wrote {len(data)} bytes; {count} runs should give {per_run * count}.")
    results, pos = [], 0
    for _ in range(count):
        outs = []
        for s in specs:
            dtype = np.dtype(NUMPY_DTYPES[s["dtype"]])
            outs.append(np.frombuffer(data[pos : pos + s["bytes"]], dtype=dtype).reshape(s["shape"]).copy())
            pos += s["bytes"]
        results.append(outs)
    return results


def run_host_process(project_dir: str | Path, data: bytes, args: Sequence[str] = (),
                     timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """Runs the built harness on raw input bytes (no output parsing, no exit-code check)."""
    exe = build_host(project_dir)
    try:
        return run([str(exe), *args], input=data, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RunnerError(f"{exe.name} did not finish within {timeout:.0f} s.") from exc


def run_on_host(project_dir: str | Path, inputs: Sequence[Sequence[np.ndarray]], *,
                args: Sequence[str] = (), timeout: float = RUN_TIMEOUT) -> list[list[np.ndarray]]:
    """Run the generated network on the host: one list of output arrays per sample.

    Samples run in order in one process, so recurrent state carries over as on
    the target."""
    manifest = read_project_manifest(project_dir)
    data = encode_samples(manifest, inputs)
    proc = run_host_process(project_dir, data, args, timeout)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", errors="replace").strip()
        raise RunnerError(f"The host build of {Path(project_dir)} failed with exit code {proc.returncode}: {err}")
    return decode_outputs(manifest, proc.stdout, len(inputs))
