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
from mcugen.firmware import DEFAULT_STACK_SIZE
from mcugen.lower import LoweredGraph
from mcugen.lower.arm.config import mat_mult_variants
from mcugen.model.graph import Graph
from mcugen.resources import firmware_dir

TABLE_PATH = Path(__file__).resolve().parent / "data" / "code_sizes.json"
TABLE_FLAGS = [
    "-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard",
    "-O2", "-ffunction-sections", "-fdata-sections", "-std=c99",
]
# The generated network.c per operator call (argument set-up, the small constant
# parameter structs) and the fixed part (stai runtime, mcugen_model glue, main):
# measured from the linker map of person_detect on qemu-m7 (5,878 B for 31 ops;
# 54 + 344 + 66 B), gcc 12.2 -O2.
GENERATED_BYTES_PER_OP = 190
GENERATED_FIXED_BYTES = 464
# One tile of a patch-based stage (--patch): its row in the stage's table and its share
# of the tiles' dims structs; network.o of person_detect --patch auto (8 + 16 patches,
# 112 tiles, 2 stage nodes in place of 9 ops) measured 7,634 B against 5,070 B unpatched
# (linker map, gcc 12.2 -O2): about 36 B per tile.
GENERATED_BYTES_PER_TILE_CALL = 40
# Fallback per kernel file when the table lacks it (a new kernel not measured yet).
UNMEASURED_KERNEL_BYTES = 1024


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


def kernel_files_for(lowered: LoweredGraph) -> list[str]:
    """The kernel source files (relative to firmware/) the cubeai project compiles in:
    those of the kernel each op lowers to (a Cortex-M7 variant when selected)."""
    return [f"kernels/{rel}" for rel in lowered.sources if rel.endswith(".c")]


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


def cubeai_code_size(lowered: LoweredGraph, board: Board) -> CodeSize:
    """Code flash of the cubeai project for `lowered` (mcugen.lower's result)."""
    graph = lowered.graph
    table = load_table()
    parts: dict[str, int] = {}
    notes: list[str] = []
    missing: list[str] = []
    mask = mat_mult_variants(lowered.calls)
    for rel in kernel_files_for(lowered):
        size = _size_of(table, rel)
        if rel == MAT_MULT_FILE and _size_of(table, f"{rel}#base") is not None:
            size = _size_of(table, f"{rel}#base") + sum(
                _size_of(table, f"{rel}#{bit}") or 0 for bit in range(MAT_MULT_VARIANTS) if mask >> bit & 1)
        if size is None:
            missing.append(rel)
            size = UNMEASURED_KERNEL_BYTES
        parts[f"kernel {Path(rel).stem}"] = size
    parts["network (generated)"] = (GENERATED_FIXED_BYTES + GENERATED_BYTES_PER_OP * len(graph.operators)
                                    + GENERATED_BYTES_PER_TILE_CALL * sum(len(c.parts) for c in lowered.calls))
    runtime = _family_files(table, "runtime/")
    parts["runtime"] = sum(runtime.values())
    family = "host" if board.is_host else board.family
    parts[f"board {family}"] = sum(_family_files(table, f"boards/{family}/").values())
    libc = table.get("extra", {}).get("libc_bytes", {})
    parts["libc/libgcc"] = int(libc.get(family, 0)) if isinstance(libc, dict) else 0
    if missing:
        notes.append(f"not yet measured, counted as {UNMEASURED_KERNEL_BYTES} B each: {', '.join(missing)}")
    basis = (
        f"estimate from objects compiled with {table.get('compiler') or 'arm-none-eabi-gcc'} "
        f"{' '.join(table.get('flags', TABLE_FLAGS))}"
    )
    return CodeSize(parts, basis, tuple(notes))


def tflm_code_size(graph: Graph, board: Board, kernels: str | None = None) -> CodeSize:
    """TFLM library parts for the model's ops, from the cached library build when present."""
    try:
        from mcugen.tflm.codesize import cached_code_size  # noqa: PLC0415
    except ImportError:
        cached_code_size = None
    table = load_table()
    runtime = sum(_family_files(table, "runtime/").values())
    if cached_code_size is not None:
        size = cached_code_size(graph, board, kernels)
        if size is not None:
            family = "host" if board.is_host else board.family
            parts = {**dict(size.by_part), "runtime": runtime,
                     f"board {family}": sum(_family_files(table, f"boards/{family}/").values())}
            return CodeSize(parts, "estimate from the objects of the cached TFLM library build",
                            tuple(getattr(size, "notes", ())))
    tflm = table.get("extra", {}).get("tflm", {})
    parts = {"tflm framework": int(tflm.get("framework", 0))}
    for opcode in graph.opcodes:
        parts[f"tflm {opcode.lower()}"] = int(tflm.get("ops", {}).get(opcode, tflm.get("op_default", 0)))
    parts["runtime"] = runtime
    notes = ("no cached TFLM library build yet: code flash from the reference table",)
    return CodeSize(parts, "estimate from a reference TFLM + CMSIS-NN build", notes)


def runtime_ram(board: Board, style: str) -> RuntimeRam:
    table = load_table()
    bss = sum(
        int(v.get("bss", 0)) + int(v.get("data", 0))
        for rel, v in table.get("objects", {}).items()
        if rel.startswith("runtime/") or rel.startswith(f"boards/{board.family}/")
    )
    return RuntimeRam({"stack": DEFAULT_STACK_SIZE, "data": bss})


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


MAT_MULT_FILE = "kernels/arm/mcu_arm_mat_mult_s8.c"
MAT_MULT_VARIANTS = 14  # bits of MCU_ARM_MM_VARIANTS

# One board per firmware family: its bundle gives the runtime and board objects.
FAMILY_BOARDS = {"mps2": "qemu-m7", "stm32h7": "nucleo-h743zi2", "imxrt": "mimxrt1170-evk"}
_STUB_MODEL = """
#include "mcugen_model.h"
static const mcugen_model_info info = {"stub", {0}, 0u, 0u, 0, 0, 0u, 0u};
const mcugen_model_info *mcugen_model_get_info(void) { return &info; }
int mcugen_model_init(void) { return 0; }
uint8_t *mcugen_model_input(uint32_t index) { (void)index; return 0; }
const uint8_t *mcugen_model_output(uint32_t index) { (void)index; return 0; }
int mcugen_model_run(void) { return 0; }
int main(void) { board_init(); return mcugen_serve(); }
"""


def _object_sizes(obj: Path) -> dict[str, int]:
    """Allocated bytes of an object: read-only (text), initialised writable (data), zeroed (bss)."""
    from elftools.elf.constants import SH_FLAGS  # noqa: PLC0415
    from elftools.elf.elffile import ELFFile  # noqa: PLC0415

    sizes = {"text": 0, "data": 0, "bss": 0}
    with obj.open("rb") as f:
        for section in ELFFile(f).iter_sections():
            flags = section["sh_flags"]
            if not flags & SH_FLAGS.SHF_ALLOC:
                continue
            if section["sh_type"] == "SHT_NOBITS":
                sizes["bss"] += section["sh_size"]
            elif flags & SH_FLAGS.SHF_WRITE:
                sizes["data"] += section["sh_size"]
            else:
                sizes["text"] += section["sh_size"]
    return sizes


def _compile(cc: str, flags: list[str], src: Path, obj: Path, rel: str) -> dict[str, int]:
    proc = subprocess.run([cc, *flags, "-c", str(src), "-o", str(obj)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"compiling {rel} failed:\n{proc.stderr}")
    return _object_sizes(obj)


def measure_objects(compiler: str = "arm-none-eabi-gcc") -> dict:
    """Compile every kernel, and each family's runtime and board files exactly as a
    generated project does, for Cortex-M7; record text/data/bss per file. Also link a
    stub application per family to measure what libc/libgcc add."""
    from mcugen.firmware import firmware_bundle, write_files  # noqa: PLC0415

    root = firmware_dir()
    cc = shutil.which(compiler)
    if cc is None:
        raise RuntimeError(f"{compiler} not found (Debian package gcc-arm-none-eabi)")
    version = subprocess.run([cc, "-dumpversion"], capture_output=True, text=True, check=True).stdout.strip()
    objects: dict[str, dict[str, int]] = {}
    libc: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        kernel_includes = sorted({str(p.parent) for p in (root / "kernels").rglob("*.h")})
        for src in sorted((root / "kernels").rglob("*.c")):
            rel = str(src.relative_to(root))
            flags = [*TABLE_FLAGS, *(f"-I{i}" for i in kernel_includes)]
            objects[rel] = _compile(cc, flags, src, tmpdir / (rel.replace("/", "_") + ".o"), rel)
            if rel == MAT_MULT_FILE:
                # Generated projects compile in only the variants they use: measure the
                # dispatch alone (mask 0), then what each variant adds.
                obj = tmpdir / "mm.o"
                base = _compile(cc, [*flags, "-DMCU_ARM_MM_VARIANTS=0u"], src, obj, rel)
                objects[f"{rel}#base"] = base
                for bit in range(MAT_MULT_VARIANTS):
                    one = _compile(cc, [*flags, f"-DMCU_ARM_MM_VARIANTS={1 << bit}u"], src, obj, rel)
                    objects[f"{rel}#{bit}"] = {k: one[k] - base[k] for k in one}
        for family, board_name in FAMILY_BOARDS.items():
            bundle = firmware_bundle(board_name)
            proj = tmpdir / family
            write_files(proj, bundle.files)
            (proj / "stub.c").write_text('#include "board.h"\n#include "mcugen_protocol.h"\n' + _STUB_MODEL)
            flags = [*bundle.cflags, *(f"-D{k}={v}" for k, v in bundle.defines.items()),
                     *(f"-I{proj / d}" for d in bundle.include_dirs)]
            objs = []
            for src_rel in [*bundle.sources, "stub.c"]:
                name = Path(src_rel).name
                rel = f"runtime/{name}" if "/runtime/" in f"/{src_rel}" else f"boards/{family}/{name}"
                obj = proj / (src_rel.replace("/", "_") + ".o")
                sizes = _compile(cc, flags, proj / src_rel, obj, rel)
                objs.append(obj)
                if src_rel != "stub.c":
                    objects[rel] = sizes
            elf = proj / "stub.elf"
            ldflags = [f.replace("build/firmware.map", str(proj / "stub.map")) for f in bundle.ldflags]
            proc = subprocess.run([cc, *map(str, objs), *ldflags, "-o", str(elf)], capture_output=True,
                                  text=True, cwd=proj)
            if proc.returncode != 0:
                raise RuntimeError(f"linking the {family} stub failed:\n{proc.stderr}")
            from mcugen.mapfile import usage_by_file  # noqa: PLC0415

            libc[family] = sum(u.code + u.data for src, u in usage_by_file(proj / "stub.map").items()
                               if ".a(" in src)
    return {"compiler": f"arm-none-eabi-gcc {version}", "flags": TABLE_FLAGS, "objects": objects,
            "libc_bytes": libc}


def update_table() -> dict:
    old = load_table()
    fresh = measure_objects()
    fresh["sources_hash"] = sources_hash()
    fresh["extra"] = {**old.get("extra", {}), "libc_bytes": fresh.pop("libc_bytes")}
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
