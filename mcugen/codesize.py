"""Code flash and runtime RAM from the sizes of really compiled objects.

`estimate` must answer in well under a second without a toolchain, so the
sizes of every firmware C file, compiled with arm-none-eabi-gcc exactly as a
generated project compiles it, are measured ahead of time and kept in
mcugen/data/code_sizes.json. `python -m mcugen.calibrate.codesize --update`
re-measures them (mcugen.calibrate holds the tools that measure); a test fails
when the table no longer matches the sources. The tflm style's code comes from
the cached TFLM library's objects when there is one (mcugen.tflm.codesize).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from mcugen.boards import Board
from mcugen.errors import McugenError
from mcugen.firmware import DEFAULT_STACK_SIZE
from mcugen.lower import LoweredGraph
from mcugen.lower.arm.config import mat_mult_variants
from mcugen.model.graph import Graph
from mcugen.ops.generic import op_name
from mcugen.tflm.cache import find_library
from mcugen.tflm.codesize import FRAMEWORK, TOOLCHAIN, code_size_estimate
from mcugen.tflm.targets import target_for_board

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
# The matrix kernels' file, measured per MCU_ARM_MM_VARIANTS bit (mcugen.lower.arm.config).
# What a kernel pulls from the C library beyond the stub's libc (newlib-nano, arm-none-eabi-gcc 12.2,
# Cortex-M7 hard float, from the linker map): the detection kernel's double exp() brings libm's
# exp, its 2 KB exp_data table, math_err, errno, impure and memset.
LIBRARY_BYTES = {"kernels/mcu_detection_postprocess_f32.c": 486 + 2210 + 290 + 62 + 150 + 214}
MAT_MULT_FILE = "kernels/arm/mcu_arm_mat_mult_s8.c"
MAT_MULT_VARIANTS = 14


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
    parts["libc/libgcc"] += sum(LIBRARY_BYTES.get(rel, 0) for rel in kernel_files_for(lowered))
    if missing:
        notes.append(f"not yet measured, counted as {UNMEASURED_KERNEL_BYTES} B each: {', '.join(missing)}")
    basis = (
        f"estimate from objects compiled with {table.get('compiler') or 'arm-none-eabi-gcc'} "
        f"{' '.join(table.get('flags', TABLE_FLAGS))}"
    )
    return CodeSize(parts, basis, tuple(notes))


def cached_tflm_code_size(graph: Graph, board: Board, kernels: str | None = None,
                          tflm_root: str | None = None) -> CodeSize | None:
    """TFLM's code flash for `graph` on `board` from a cached library entry, or None.

    Never builds: without a cached entry for the board's target (or without the
    tree or compiler to key it), returns None and the caller falls back to its
    reference table. The parts: "tflm framework", "tflm <opcode>" (lower case) and
    "tflm toolchain libs"; the application's own code (main, startup, the firmware
    runtime) is not in it."""
    try:
        target = target_for_board(board)
        if target == "host":
            return None  # host builds link glibc dynamically: no flash figure
        entry = find_library(tflm_root, target, kernels or "cmsis_nn")
    except McugenError:
        return None
    if entry is None:
        return None
    names = [op_name(op) for op in graph.operators]
    names += [f"CUSTOM:{custom or ''}" if opcode == "CUSTOM" else opcode for _, _, opcode, custom in graph.subgraph_ops]
    size = code_size_estimate(entry, list(dict.fromkeys(names)))
    parts = {"tflm framework": size.by_part[FRAMEWORK]}
    parts.update({f"tflm {op.lower()}": n for op, n in size.by_part.items() if op not in (FRAMEWORK, TOOLCHAIN)})
    parts["tflm toolchain libs"] = size.by_part[TOOLCHAIN]
    notes = [f"unknown to the library, not counted: {', '.join(size.unknown_ops)}"] if size.unknown_ops else []
    basis = (f"sections reachable in the cached TFLM library {entry.path.name} "
             "(--gc-sections, newlib-nano; within ~1 % of a real link)")
    return CodeSize(parts, basis, tuple(notes))


def tflm_code_size(graph: Graph, board: Board, kernels: str | None = None) -> CodeSize:
    """TFLM library parts for the model's ops, from the cached library build when present."""
    table = load_table()
    runtime = sum(_family_files(table, "runtime/").values())
    size = cached_tflm_code_size(graph, board, kernels)
    if size is not None:
        family = "host" if board.is_host else board.family
        parts = {**dict(size.by_part), "runtime": runtime,
                 f"board {family}": sum(_family_files(table, f"boards/{family}/").values())}
        return CodeSize(parts, "estimate from the objects of the cached TFLM library build", size.notes)
    tflm = table.get("extra", {}).get("tflm", {})
    if not tflm.get("framework"):
        raise McugenError("mcugen's code-size table has no TFLM figures (mcugen/data/code_sizes.json, extra.tflm).",
                          hint="Reinstall mcugen, or run `python -m mcugen.calibrate.codesize --update` in a "
                               "checkout with the TFLM tree.")
    family = "host" if board.is_host else board.family
    parts = {"tflm framework": int(tflm["framework"])}
    parts.update(tflm_parts_from_groups(tflm, list(graph.opcodes)))
    parts["runtime"] = runtime
    parts[f"board {family}"] = sum(_family_files(table, f"boards/{family}/").values())
    notes = (f"no cached TFLM library build yet: code flash from the table measured on {tflm.get('library', '?')} "
             "(the Cortex-M7 CMSIS-NN library); after the first tflm build it comes from that build",)
    return CodeSize(parts, "estimate from the objects of a reference TFLM + CMSIS-NN build", notes)


def tflm_parts_from_groups(tflm: Mapping, opcodes: list[str]) -> dict[str, int]:
    """Per operator, the code it adds to the TFLM framework, from the table's section groups
    (mcugen.calibrate.codesize.tflm_reference_table): each group counts once, in the first of
    the model's operators that reaches it, as the linker keeps a shared helper once. An operator
    the table does not know counts as the median operator."""
    parts = {f"tflm {op.lower()}": 0 for op in opcodes}
    known = tflm.get("ops", {})
    for op in opcodes:
        if op not in known:
            parts[f"tflm {op.lower()}"] = int(tflm.get("op_default", 0))
    for group in tflm.get("groups", ()):
        members = set(group["ops"].split())
        first = next((op for op in opcodes if op in members), None)
        if first is not None:
            parts[f"tflm {first.lower()}"] += int(group["bytes"])
    return parts


def runtime_ram(board: Board, style: str) -> RuntimeRam:
    table = load_table()
    bss = sum(
        int(v.get("bss", 0)) + int(v.get("data", 0))
        for rel, v in table.get("objects", {}).items()
        if rel.startswith("runtime/") or rel.startswith(f"boards/{board.family}/")
    )
    return RuntimeRam({"stack": DEFAULT_STACK_SIZE, "data": bss})
