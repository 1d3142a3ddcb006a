"""Builds a generated project and measures what it really uses.

`build_project(dir)` runs the project's Makefile (checking first that the
compiler and make exist), turns compiler and linker failures into a readable
ToolchainError (a region overflow into a FitError naming the region), then
reads the ELF with pyelftools: bytes per memory region of the board and per
section. `compare_with_estimate()` checks an estimate against that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from mcugen.boards import Board, get_board
from mcugen.errors import FitError, ToolchainError
from mcugen.firmware import BUILD_DIR, ELF_NAME, read_manifest
from mcugen.process import require, run

DEFAULT_BUILD_TIMEOUT = 900.0     # seconds for one make run (a TFLM build is long)
ESTIMATE_TOLERANCE = 0.05         # compare_with_estimate warns beyond 5 %
MAX_ERROR_LINES = 25

NEWLIB_PACKAGE = "libnewlib-arm-none-eabi"


@dataclass(frozen=True)
class SectionUsage:
    name: str
    address: int
    load_address: int
    size: int
    region: str | None           # where it lives at run time
    load_region: str | None      # where its bytes are stored (differs for copied sections)
    loaded: bool                 # has content in the image (PROGBITS), not NOBITS/NOLOAD


@dataclass(frozen=True)
class RegionUsage:
    name: str
    kind: str
    base: int
    size: int
    used: int
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def free(self) -> int:
        return self.size - self.used

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.size if self.size else 0.0


@dataclass(frozen=True)
class MemoryUsage:
    regions: dict[str, RegionUsage]
    sections: tuple[SectionUsage, ...]

    def used(self, region: str) -> int:
        return self.regions[region].used if region in self.regions else 0


@dataclass(frozen=True)
class BuildResult:
    project_dir: Path
    board: str
    elf: Path
    bin: Path | None
    hex: Path | None
    map: Path | None
    usage: MemoryUsage
    log: str


def check_toolchain(board: Board) -> None:
    """ToolchainError naming the Debian package when a tool is missing."""
    require("make")
    if board.is_host:
        require(os.environ.get("CC", "cc"))
        return
    gcc = require("arm-none-eabi-gcc")
    try:
        out = run([gcc, "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16",
                   "--specs=nano.specs", "-print-file-name=libc_nano.a"], text=True, timeout=30)
        libc = out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        libc = ""
    if not libc or not os.path.isabs(libc):
        raise ToolchainError("arm-none-eabi-gcc has no newlib C library (libc_nano.a).",
                             hint=f"Install it: apt-get install {NEWLIB_PACKAGE}.")


_OVERFLOW = re.compile(r"region [`'](?P<region>[\w.-]+)' overflowed by (?P<bytes>\d+) bytes")
_NOFIT = re.compile(r"section [`'](?P<section>[\w.]+)' will not fit in region [`'](?P<region>[\w.-]+)'")
_ASSERT = re.compile(r"(?:error: )?(?P<msg>[^:\n]*(?:overlaps|does not fit)[^\n]*)")


def _fit_error(board: Board, log: str) -> FitError | None:
    overflows = {m["region"]: int(m["bytes"]) for m in _OVERFLOW.finditer(log)}
    if not overflows:
        return None
    sections: dict[str, list[str]] = {}
    for m in _NOFIT.finditer(log):
        sections.setdefault(m["region"], []).append(m["section"])
    parts = []
    for region, over in overflows.items():
        size = next((r.size for r in board.regions if r.name == region), None)
        what = f" ({', '.join(sorted(set(sections.get(region, []))))})" if sections.get(region) else ""
        room = f" of {size} bytes ({size // 1024} KiB)" if size else ""
        parts.append(f"region '{region}'{room} overflowed by {over} bytes{what}")
    return FitError(
        f"The firmware does not fit {board.name}: " + "; ".join(parts) + ".",
        hint="Move weights or the arena to another region (firmware.placement in mcugen.json, or "
             "--placement), reduce the stack size, or choose a larger board.",
    )


def _compiler_error(log: str, returncode: int) -> ToolchainError:
    lines = log.splitlines()
    interesting = [ln for ln in lines if re.search(r"\b(error|undefined reference|fatal|No rule|multiple definition)\b", ln)]
    shown = interesting[:MAX_ERROR_LINES] or lines[-MAX_ERROR_LINES:]
    more = len(interesting) - len(shown)
    text = "\n".join(shown) + (f"\n... and {more} more" if more > 0 else "")
    return ToolchainError(f"The firmware build failed (make exited with {returncode}):\n{text}",
                          hint="The full log is in build/build.log in the project directory.")


def build_project(project_dir: str | Path, jobs: int | None = None, timeout: float = DEFAULT_BUILD_TIMEOUT,
                  make: str = "make", clean: bool = False) -> BuildResult:
    """Builds build/firmware.elf (plus .bin/.hex on Arm) and measures it."""
    project_dir = Path(project_dir).resolve()
    manifest = read_manifest(project_dir)
    board = get_board(manifest.board)
    check_toolchain(board)
    if not (project_dir / "Makefile").is_file():
        raise ToolchainError(f"{project_dir} has no Makefile.", hint="Regenerate the project with `mcugen generate`.")
    build_dir = project_dir / BUILD_DIR
    if clean and build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1
    cmd = [make, "-C", str(project_dir), f"-j{jobs}", "--no-print-directory"]
    try:
        # its own process group: a timeout or an interrupt stops the compilers with make
        proc = run(cmd, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"The firmware build did not finish within {timeout:.0f} s.",
                             hint="Run `make` in the project directory to see where it stalls.") from None
    log = proc.stdout + proc.stderr
    (build_dir / "build.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        fit = _fit_error(board, log)
        if fit is not None:
            raise fit
        raise _compiler_error(log, proc.returncode)
    elf = build_dir / ELF_NAME
    if not elf.is_file():
        raise ToolchainError(f"make succeeded but {elf} is missing.", hint="Check the project's Makefile.")
    usage = memory_usage(elf, board)

    def opt(name: str) -> Path | None:
        p = build_dir / name
        return p if p.is_file() else None

    return BuildResult(project_dir=project_dir, board=board.name, elf=elf, bin=opt("firmware.bin"),
                       hex=opt("firmware.hex"), map=opt("firmware.map"), usage=usage, log=log)


def _region_of(board: Board, address: int, size: int) -> str | None:
    for r in board.regions:
        if r.base <= address < r.end or (size == 0 and address == r.end):
            return r.name
    return None


def memory_usage(elf_path: str | Path, board: Board | str) -> MemoryUsage:
    """Bytes per memory region and per section. A flash region counts the load
    image (code, rodata, weights, initial values of data); a RAM region counts
    what occupies it at run time (data, bss, arena, stack, copied code)."""
    if isinstance(board, str):
        board = get_board(board)
    sections: list[SectionUsage] = []
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        segments = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            addr, size = sec["sh_addr"], sec["sh_size"]
            loaded = sec["sh_type"] != "SHT_NOBITS"
            lma = addr
            for seg in segments:
                if seg["p_vaddr"] <= addr < seg["p_vaddr"] + max(seg["p_memsz"], 1):
                    lma = addr - seg["p_vaddr"] + seg["p_paddr"]
                    break
            region = _region_of(board, addr, size) if board.regions else None
            load_region = _region_of(board, lma, size) if (board.regions and loaded) else None
            sections.append(SectionUsage(sec.name, addr, lma, size, region, load_region, loaded))
    per_region: dict[str, dict[str, int]] = {r.name: {} for r in board.regions}
    for s in sections:
        if s.region is not None:
            per_region[s.region][s.name] = per_region[s.region].get(s.name, 0) + s.size
        if s.loaded and s.load_region is not None and s.load_region != s.region:
            key = f"{s.name} (load)"
            per_region[s.load_region][key] = per_region[s.load_region].get(key, 0) + s.size
    regions = {
        r.name: RegionUsage(r.name, r.kind, r.base, r.size, sum(per_region[r.name].values()), per_region[r.name])
        for r in board.regions
    }
    return MemoryUsage(regions=regions, sections=tuple(sections))


def compare_with_estimate(usage: MemoryUsage, estimate_by_region: dict[str, int],
                          tolerance: float = ESTIMATE_TOLERANCE) -> list[str]:
    """Warnings where the build and the estimate differ by more than `tolerance`
    (relative to the estimate), per region."""
    warnings = []
    for region, estimate in sorted(estimate_by_region.items()):
        if region not in usage.regions:
            warnings.append(f"region '{region}': estimated {estimate} bytes, but the board has no such region")
            continue
        real = usage.regions[region].used
        if estimate == 0 and real == 0:
            continue
        diff = real - estimate
        rel = abs(diff) / estimate if estimate else float("inf")
        if rel > tolerance:
            pct = f"{100 * rel:.1f} %" if estimate else "no estimate"
            warnings.append(f"region '{region}': built {real} bytes, estimated {estimate} bytes "
                            f"({'+' if diff > 0 else ''}{diff} bytes, {pct})")
    return warnings
