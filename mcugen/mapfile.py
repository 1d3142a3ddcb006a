"""Bytes per input file from a GNU ld map file: which object or library put what in the image.

The map lists, under each output section, the input sections the linker kept
(after --gc-sections), with their address, size and the object file or
`archive(member)` they came from. Summing them per file answers "how much code
do the kernels take" from the real link, not from a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# " .text.name  0x00000000080001a0  0x2c path/to/file.o" (name may stand on its own line)
_ENTRY = re.compile(r"^\s*(\.[^\s]+)?\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_OUTPUT = re.compile(r"^(\.[^\s]+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)")
CODE_SECTIONS = (".text", ".rodata", ".ARM", ".init", ".fini", ".isr_vector", ".vectors")
DATA_SECTIONS = (".data",)
BSS_SECTIONS = (".bss", "COMMON", ".noinit", ".nn_arena", ".stack", ".heap")


@dataclass(frozen=True)
class FileUsage:
    code: int  # .text/.rodata (flash)
    data: int  # initialised data (flash image and RAM)
    bss: int  # zeroed and no-load RAM
    weights: int  # .nn_weights


def _kind(section: str) -> str | None:
    if section.startswith(".nn_weights"):
        return "weights"
    if section.startswith(".nn_arena"):
        return "bss"
    if section.startswith(BSS_SECTIONS) or section == "COMMON":
        return "bss"
    if section.startswith(DATA_SECTIONS):
        return "data"
    if section.startswith(CODE_SECTIONS):
        return "code"
    return None


def usage_by_file(map_path: str | Path) -> dict[str, FileUsage]:
    """Input file -> bytes it contributes, per kind, as the linker kept them."""
    text = Path(map_path).read_text(encoding="utf-8", errors="replace")
    start = text.find("Linker script and memory map")
    lines = text[start:].splitlines() if start >= 0 else text.splitlines()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"code": 0, "data": 0, "bss": 0, "weights": 0})
    pending: str | None = None  # an input section name whose numbers are on the next line
    output_kind: str | None = None
    for line in lines:
        if not line.strip():
            continue
        out = _OUTPUT.match(line)
        if out and not line.startswith(" "):
            output_kind = _kind(out.group(1))
            pending = None
            continue
        stripped = line.strip()
        if re.fullmatch(r"\.[^\s]+", stripped) or stripped == "COMMON":
            pending = stripped
            continue
        m = _ENTRY.match(line)
        if not m:
            pending = None
            continue
        name = m.group(1) or pending
        pending = None
        size = int(m.group(3), 16)
        source = m.group(4).strip()
        if name is None or size == 0 or source.startswith(("*", "=")) or " " in source:
            continue
        kind = _kind(name) or output_kind
        if kind is None:
            continue
        totals[source][kind] += size
    return {k: FileUsage(**v) for k, v in totals.items()}


def group_usage(usage: dict[str, FileUsage], rules: list[tuple[str, str]]) -> dict[str, FileUsage]:
    """Sum per group: rules are (substring of the file path, group name), first match wins;
    everything else goes to 'other'."""
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"code": 0, "data": 0, "bss": 0, "weights": 0})
    for source, u in usage.items():
        group = next((g for pattern, g in rules if pattern in source), "other")
        for field in ("code", "data", "bss", "weights"):
            groups[group][field] += getattr(u, field)
    return {k: FileUsage(**v) for k, v in groups.items()}


# How a generated project's files group into what a firmware engineer asks about.
PROJECT_GROUPS = [
    ("/kernels/", "kernels"),
    ("mcugen_protocol", "protocol"),
    ("mcugen_crc32", "protocol"),
    ("firmware/boards/", "board support"),
    ("flexspi_fcb", "board support"),
    ("libtensorflow-microlite", "tflm library"),
    ("network_data", "weights and params"),
    ("model_data", "weights and params"),
    ("stai_runtime", "network runtime"),
    ("mcugen_model_impl", "network runtime"),
    ("network.o", "network runtime"),
    ("main.o", "application"),
    ("libc", "libc/libgcc"),
    ("libgcc", "libc/libgcc"),
    ("libnosys", "libc/libgcc"),
    ("libm", "libc/libgcc"),
    ("libstdc++", "libc/libgcc"),
    ("libsupc++", "libc/libgcc"),
    ("crt", "libc/libgcc"),
]
