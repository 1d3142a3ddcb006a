"""The board database: boards.yaml validated into frozen dataclasses.

Every fact about a board (memory map, clock, UART, how to flash it) lives in
boards.yaml with the document it came from; code reads it from here and never
spells an address itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mcugen.errors import BoardError
from mcugen.resources import boards_file

REGION_KINDS = ("flash", "ram", "external")
PLACEMENT_KEYS = ("code", "weights", "arena", "data", "stack")
FPUS = {"fpv5-d16", "fpv5-sp-d16", "none"}
TIMINGS = ("cycles", "instructions", "nanoseconds")


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    base: int
    size: int
    kind: str  # flash | ram | external
    source: str = ""
    note: str = ""

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def writable(self) -> bool:
        """RAM at run time (external memory may be SDRAM or memory-mapped NOR)."""
        return self.kind == "ram"


@dataclass(frozen=True)
class Placement:
    """Region name for each kind of data the linker places."""

    code: str
    weights: str
    arena: str
    data: str
    stack: str

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in PLACEMENT_KEYS}


@dataclass(frozen=True)
class Uart:
    name: str
    base: int
    baud: int
    tx: str = ""
    rx: str = ""
    source: str = ""


@dataclass(frozen=True)
class FlashMethod:
    runners: tuple[str, ...]  # in order of preference: qemu, pyocd, openocd, host
    pyocd_target: str = ""
    cmsis_pack: str = ""
    openocd_config: str = ""
    qemu_machine: str = ""


@dataclass(frozen=True)
class Board:
    name: str
    aliases: tuple[str, ...]
    description: str
    family: str  # firmware/boards/<family>, or "host"
    core: str
    fpu: str
    clock_hz: int
    timing: str  # what the cycle counter reports: cycles (DWT) or instructions (QEMU -icount)
    regions: tuple[MemoryRegion, ...]
    placement: Placement | None
    uart: Uart | None
    flash: FlashMethod
    extra: dict[str, Any]  # family-specific facts (boot image layout, clock tree, ...)
    sources: tuple[str, ...] = ()

    @property
    def is_host(self) -> bool:
        return self.family == "host"

    def region(self, name: str) -> MemoryRegion:
        for r in self.regions:
            if r.name == name:
                return r
        known = ", ".join(r.name for r in self.regions) or "none"
        raise BoardError(
            f"Board '{self.name}' has no memory region '{name}'.",
            hint=f"Its regions are: {known}.",
        )

    def cpu_flags(self) -> list[str]:
        """Compiler flags that select this board's core and floating-point ABI."""
        if self.is_host:
            return []
        flags = [f"-mcpu={self.core}", "-mthumb"]
        if self.fpu == "none":
            flags.append("-mfloat-abi=soft")
        else:
            flags += [f"-mfpu={self.fpu}", "-mfloat-abi=hard"]
        return flags


def _fail(path: Path, where: str, problem: str) -> BoardError:
    return BoardError(
        f"{path}: {where}: {problem}",
        hint="Fix the entry in boards.yaml; every board needs core, fpu, clock_hz, regions, "
        "placement, uart and flash (see the existing entries).",
    )


def _int(path: Path, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, where, f"expected an integer, got {value!r}")
    if value < 0:
        raise _fail(path, where, f"must not be negative, got {value}")
    return value


def _str(path: Path, where: str, value: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _fail(path, where, f"expected a non-empty string, got {value!r}")
    return value


def _mapping(path: Path, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, where, f"expected a mapping, got {type(value).__name__}")
    return value


def _check_keys(path: Path, where: str, entry: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _fail(path, where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _parse_region(path: Path, where: str, raw: Any) -> MemoryRegion:
    raw = _mapping(path, where, raw)
    _check_keys(path, where, raw, {"name", "base", "size", "kind", "source", "note"})
    kind = _str(path, f"{where}.kind", raw.get("kind"))
    if kind not in REGION_KINDS:
        raise _fail(path, f"{where}.kind", f"'{kind}' is not one of {', '.join(REGION_KINDS)}")
    size = _int(path, f"{where}.size", raw.get("size"))
    if size == 0:
        raise _fail(path, f"{where}.size", "must be greater than 0")
    base = _int(path, f"{where}.base", raw.get("base"))
    if base + size > 1 << 32:
        raise _fail(path, where, "region ends beyond the 32-bit address space")
    return MemoryRegion(
        name=_str(path, f"{where}.name", raw.get("name")),
        base=base,
        size=size,
        kind=kind,
        source=_str(path, f"{where}.source", raw.get("source"), required=False),
        note=_str(path, f"{where}.note", raw.get("note"), required=False),
    )


def _parse_board(path: Path, name: str, raw: Any) -> Board:
    where = f"boards.{name}"
    raw = _mapping(path, where, raw)
    _check_keys(
        path,
        where,
        raw,
        {"aliases", "description", "family", "core", "fpu", "clock_hz", "timing", "regions",
         "placement", "uart", "flash", "extra", "sources"},
    )
    family = _str(path, f"{where}.family", raw.get("family"))
    is_host = family == "host"
    fpu = _str(path, f"{where}.fpu", raw.get("fpu", "none"))
    if fpu not in FPUS:
        raise _fail(path, f"{where}.fpu", f"'{fpu}' is not one of {', '.join(sorted(FPUS))}")
    timing = _str(path, f"{where}.timing", raw.get("timing", "cycles"))
    if timing not in TIMINGS:
        raise _fail(path, f"{where}.timing", f"'{timing}' is not one of {', '.join(TIMINGS)}")

    regions_raw = raw.get("regions", [])
    if not isinstance(regions_raw, list):
        raise _fail(path, f"{where}.regions", "expected a list of regions")
    regions = tuple(_parse_region(path, f"{where}.regions[{i}]", r) for i, r in enumerate(regions_raw))
    names = [r.name for r in regions]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(path, f"{where}.regions", f"duplicate region name(s): {', '.join(dupes)}")
    ordered = sorted(regions, key=lambda r: r.base)
    for a, b in zip(ordered, ordered[1:]):
        if b.base < a.end:
            raise _fail(path, f"{where}.regions", f"regions '{a.name}' and '{b.name}' overlap")

    placement = None
    if not is_host:
        if not regions:
            raise _fail(path, f"{where}.regions", "a hardware board needs at least one region")
        praw = _mapping(path, f"{where}.placement", raw.get("placement"))
        _check_keys(path, f"{where}.placement", praw, set(PLACEMENT_KEYS))
        values = {}
        for key in PLACEMENT_KEYS:
            region_name = _str(path, f"{where}.placement.{key}", praw.get(key))
            if region_name not in names:
                raise _fail(path, f"{where}.placement.{key}", f"no region named '{region_name}' (regions: {', '.join(names)})")
            values[key] = region_name
        for key in ("arena", "data", "stack"):
            region = next(r for r in regions if r.name == values[key])
            if region.kind != "ram":
                raise _fail(path, f"{where}.placement.{key}", f"region '{region.name}' is {region.kind}, not ram")
        placement = Placement(**values)

    uart = None
    if raw.get("uart") is not None:
        uraw = _mapping(path, f"{where}.uart", raw["uart"])
        _check_keys(path, f"{where}.uart", uraw, {"name", "base", "baud", "tx", "rx", "source"})
        uart = Uart(
            name=_str(path, f"{where}.uart.name", uraw.get("name")),
            base=_int(path, f"{where}.uart.base", uraw.get("base")),
            baud=_int(path, f"{where}.uart.baud", uraw.get("baud", 115200)),
            tx=_str(path, f"{where}.uart.tx", uraw.get("tx"), required=False),
            rx=_str(path, f"{where}.uart.rx", uraw.get("rx"), required=False),
            source=_str(path, f"{where}.uart.source", uraw.get("source"), required=False),
        )
    elif not is_host:
        raise _fail(path, f"{where}.uart", "a hardware board needs the UART that reaches the host")

    fraw = _mapping(path, f"{where}.flash", raw.get("flash", {}))
    _check_keys(path, f"{where}.flash", fraw, {"runners", "pyocd_target", "cmsis_pack", "openocd_config", "qemu_machine"})
    runners = fraw.get("runners", [])
    if not isinstance(runners, list) or not runners or not all(isinstance(r, str) for r in runners):
        raise _fail(path, f"{where}.flash.runners", "expected a non-empty list of runner names")
    flash = FlashMethod(
        runners=tuple(runners),
        pyocd_target=_str(path, f"{where}.flash.pyocd_target", fraw.get("pyocd_target"), required=False),
        cmsis_pack=_str(path, f"{where}.flash.cmsis_pack", fraw.get("cmsis_pack"), required=False),
        openocd_config=_str(path, f"{where}.flash.openocd_config", fraw.get("openocd_config"), required=False),
        qemu_machine=_str(path, f"{where}.flash.qemu_machine", fraw.get("qemu_machine"), required=False),
    )
    if "pyocd" in flash.runners and not flash.pyocd_target:
        raise _fail(path, f"{where}.flash", "runner pyocd needs pyocd_target")
    if "openocd" in flash.runners and not flash.openocd_config:
        raise _fail(path, f"{where}.flash", "runner openocd needs openocd_config")
    if "qemu" in flash.runners and not flash.qemu_machine:
        raise _fail(path, f"{where}.flash", "runner qemu needs qemu_machine")

    aliases = raw.get("aliases", []) or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise _fail(path, f"{where}.aliases", "expected a list of names")
    sources = raw.get("sources", []) or []
    if not isinstance(sources, list):
        raise _fail(path, f"{where}.sources", "expected a list of documents")
    extra = raw.get("extra", {}) or {}
    _mapping(path, f"{where}.extra", extra)

    return Board(
        name=name, aliases=tuple(aliases),
        description=_str(path, f"{where}.description", raw.get("description", ""), required=False),
        family=family, core=_str(path, f"{where}.core", raw.get("core")), fpu=fpu,
        clock_hz=_int(path, f"{where}.clock_hz", raw.get("clock_hz")), timing=timing, regions=regions,
        placement=placement, uart=uart, flash=flash, extra=extra, sources=tuple(str(s) for s in sources),
    )


def load_boards(path: Path | None = None) -> dict[str, Board]:
    """Parse and validate a boards file; raises BoardError naming the bad entry."""
    path = Path(path) if path else boards_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BoardError(f"Cannot read the board database {path}: {exc.strerror}.") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BoardError(f"{path} is not valid YAML: {exc}") from exc
    doc = _mapping(path, "top level", doc)
    if doc.get("schema") != 1:
        raise _fail(path, "schema", f"expected 'schema: 1', got {doc.get('schema')!r}")
    boards_raw = _mapping(path, "boards", doc.get("boards"))
    boards = {str(name): _parse_board(path, str(name), raw) for name, raw in boards_raw.items()}
    seen: dict[str, str] = {}
    for board in boards.values():
        for alias in (board.name, *board.aliases):
            if alias in seen and seen[alias] != board.name:
                raise _fail(path, f"boards.{board.name}.aliases", f"'{alias}' is also used by '{seen[alias]}'")
            seen[alias] = board.name
    return boards


@lru_cache(maxsize=4)
def _default_boards() -> dict[str, Board]:
    return load_boards()


def get_board(name: str, path: Path | None = None) -> Board:
    """A board by name or alias; BoardError listing the known ones otherwise."""
    boards = load_boards(path) if path else _default_boards()
    for board in boards.values():
        if name == board.name or name in board.aliases:
            return board
    known = ", ".join(
        f"{b.name} ({', '.join(b.aliases)})" if b.aliases else b.name for b in boards.values()
    )
    raise BoardError(f"Unknown target '{name}'.", hint=f"Known targets: {known}. `mcugen boards` lists them.")


def all_boards(path: Path | None = None) -> list[Board]:
    return list((load_boards(path) if path else _default_boards()).values())
