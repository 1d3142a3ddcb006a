"""Code flash and runtime RAM from the sizes of really compiled objects.

`estimate` must answer in well under a second without a toolchain, so the
sizes of every firmware C file, compiled with arm-none-eabi-gcc exactly as a
generated project compiles it, are measured ahead of time and kept in
mcugen/data/code_sizes.json. `python -m mcugen.codesize --update` re-measures
them; a test fails when the table no longer matches the sources.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from mcugen.boards import Board
from mcugen.model.graph import Graph
from mcugen.resources import firmware_dir

TABLE_PATH = Path(__file__).resolve().parent / "data" / "code_sizes.json"
TABLE_FLAGS = [
    "-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard",
    "-O2", "-ffunction-sections", "-fdata-sections", "-std=c99",
]
# Per operator call in the generated network.c: the call, its argument set-up and
# the small constant parameter block. Measured on generated person_detect code.
GENERATED_BYTES_PER_OP = 64
# Fallback per kernel file when the table lacks it (a new kernel not measured yet).
UNMEASURED_KERNEL_BYTES = 1024
DEFAULT_STACK_BYTES = {"cubeai": 4096, "tflm": 8192}


@dataclass(frozen=True)
class CodeSize:
    by_part: Mapping[str, int]
    basis: str
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.by_part.values())


@dataclass(frozen=True)
class RuntimeRam:
    parts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.parts.values())


@lru_cache(maxsize=1)
def load_table() -> dict:
    try:
        return json.loads(TABLE_PATH.read_text())
    except (OSError, ValueError):
        return {"objects": {}, "sources_hash": "", "compiler": "", "extra": {}}


# Opcode -> kernel source files (relative to firmware/) the cubeai style compiles in.
KERNEL_FILES: dict[str, tuple[str, ...]] = {
    "CONV_2D": ("kernels/mcu_conv2d_s8.c",),
    "DEPTHWISE_CONV_2D": ("kernels/mcu_depthwise_conv2d_s8.c",),
    "FULLY_CONNECTED": ("kernels/mcu_fully_connected_s8.c",),
    "AVERAGE_POOL_2D": ("kernels/mcu_avgpool_s8.c",),
    "MAX_POOL_2D": ("kernels/mcu_maxpool_s8.c",),
    "ADD": ("kernels/mcu_add_s8.c",),
    "MUL": ("kernels/mcu_mul_s8.c",),
    "MEAN": ("kernels/mcu_mean_s8.c",),
    "SOFTMAX": ("kernels/mcu_softmax_s8.c",),
    "LOGISTIC": ("kernels/mcu_logistic_s8.c",),
    "HARD_SWISH": ("kernels/mcu_hard_swish_s8.c",),
    "RELU": ("kernels/mcu_relu_s8.c",),
    "RELU6": ("kernels/mcu_relu_s8.c",),
    "PAD": ("kernels/mcu_pad_s8.c",),
    "CONCATENATION": ("kernels/mcu_concat.c",),
    "TRANSPOSE": ("kernels/mcu_transpose.c",),
    "QUANTIZE": ("kernels/mcu_quantize.c",),
    "DEQUANTIZE": ("kernels/mcu_dequantize.c",),
}


def kernel_files_for(graph: Graph) -> dict[str, tuple[str, ...]]:
    """Opcode -> the kernel source files (relative to firmware/) it needs in cubeai."""
    return {op: KERNEL_FILES.get(op, ()) for op in graph.opcodes}


def _size_of(table: dict, rel: str) -> int | None:
    entry = table.get("objects", {}).get(rel)
    if entry is None:
        return None
    return int(entry["text"]) + int(entry["data"])


def _family_files(table: dict, prefix: str) -> dict[str, int]:
    return {
        rel: int(v["text"]) + int(v["data"])
        for rel, v in table.get("objects", {}).items()
        if rel.startswith(prefix)
    }


def cubeai_code_size(graph: Graph, board: Board) -> CodeSize:
    table = load_table()
    parts: dict[str, int] = {}
    notes: list[str] = []
    missing: list[str] = []
    seen: set[str] = set()
    for files in kernel_files_for(graph).values():
        for rel in files:
            if rel in seen:
                continue
            seen.add(rel)
            size = _size_of(table, rel)
            if size is None:
                missing.append(rel)
                size = UNMEASURED_KERNEL_BYTES
            parts[f"kernel {Path(rel).stem}"] = size
    parts["network (generated)"] = GENERATED_BYTES_PER_OP * len(graph.operators)
    runtime = _family_files(table, "runtime/")
    parts["runtime"] = sum(runtime.values())
    family = "host" if board.is_host else board.family
    parts[f"board {family}"] = sum(_family_files(table, f"boards/{family}/").values())
    parts["libc/libgcc"] = int(table.get("extra", {}).get("libc_bytes", 0))
    if missing:
        notes.append(f"not yet measured, counted as {UNMEASURED_KERNEL_BYTES} B each: {', '.join(missing)}")
    basis = (
        f"estimate from objects compiled with {table.get('compiler') or 'arm-none-eabi-gcc'} "
        f"{' '.join(table.get('flags', TABLE_FLAGS))}"
    )
    return CodeSize(parts, basis, tuple(notes))


def tflm_code_size(graph: Graph, board: Board) -> CodeSize:
    """TFLM library parts for the model's ops, from the cached library build when present."""
    try:
        from mcugen.tflm.library import cached_code_size  # noqa: PLC0415
    except ImportError:
        cached_code_size = None
    if cached_code_size is not None:
        size = cached_code_size(graph, board)
        if size is not None:
            return size
    table = load_table()
    tflm = table.get("extra", {}).get("tflm", {})
    parts = {"tflm framework": int(tflm.get("framework", 0))}
    for opcode in graph.opcodes:
        parts[f"tflm {opcode.lower()}"] = int(tflm.get("ops", {}).get(opcode, tflm.get("op_default", 0)))
    runtime = _family_files(table, "runtime/")
    parts["runtime"] = sum(runtime.values())
    notes = ("no cached TFLM library build yet: code flash from the reference table",)
    return CodeSize(parts, "estimate from a reference TFLM + CMSIS-NN build", notes)


def runtime_ram(board: Board, style: str) -> RuntimeRam:
    table = load_table()
    bss = sum(
        int(v.get("bss", 0)) + int(v.get("data", 0))
        for rel, v in table.get("objects", {}).items()
        if rel.startswith("runtime/") or rel.startswith(f"boards/{board.family}/")
    )
    return RuntimeRam({"stack": DEFAULT_STACK_BYTES.get(style, 4096), "data": bss})


# ---------------------------------------------------------------------------------
# Measuring the table


def sources_hash(root: Path | None = None) -> str:
    root = root or firmware_dir()
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".c", ".h", ".cc") and path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def measure_objects(root: Path | None = None, compiler: str = "arm-none-eabi-gcc") -> dict:
    """Compile every firmware C file for Cortex-M7 and record text/data/bss per file."""
    from elftools.elf.elffile import ELFFile  # noqa: PLC0415

    root = root or firmware_dir()
    cc = shutil.which(compiler)
    if cc is None:
        raise RuntimeError(f"{compiler} not found (Debian package gcc-arm-none-eabi)")
    version = subprocess.run([cc, "-dumpversion"], capture_output=True, text=True, check=True).stdout.strip()
    includes = sorted({str(p.parent) for p in root.rglob("*.h")})
    objects: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for src in sorted(root.rglob("*.c")):
            rel = str(src.relative_to(root))
            if "/host/" in f"/{rel}":
                continue  # the host family is not compiled for Cortex-M
            obj = Path(tmp) / (rel.replace("/", "_") + ".o")
            cmd = [cc, *TABLE_FLAGS, *(f"-I{i}" for i in includes), "-c", str(src), "-o", str(obj)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"compiling {rel} failed:\n{proc.stderr}")
            sizes = {"text": 0, "data": 0, "bss": 0}
            with obj.open("rb") as f:
                for section in ELFFile(f).iter_sections():
                    name = section.name
                    if name.startswith((".text", ".rodata")):
                        sizes["text"] += section["sh_size"]
                    elif name.startswith(".data"):
                        sizes["data"] += section["sh_size"]
                    elif name.startswith(".bss") or name == "COMMON":
                        sizes["bss"] += section["sh_size"]
            objects[rel] = sizes
    return {"compiler": f"arm-none-eabi-gcc {version}", "flags": TABLE_FLAGS, "objects": objects}


def update_table() -> dict:
    old = load_table()
    fresh = measure_objects()
    fresh["sources_hash"] = sources_hash()
    fresh["extra"] = old.get("extra", {})
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    TABLE_PATH.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n")
    load_table.cache_clear()
    return fresh


if __name__ == "__main__":
    if "--update" in sys.argv:
        table = update_table()
        print(f"measured {len(table['objects'])} objects -> {TABLE_PATH}")
    else:
        print(json.dumps(load_table(), indent=1))
