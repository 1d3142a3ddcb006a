"""The board database: boards.yaml validated into frozen dataclasses.

Every fact about a board (memory map, clock, UART, how to flash it) lives in
boards.yaml with the document it came from; code reads it from here and never
spells an address itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mcugen.errors import BoardError
from mcugen.resources import boards_file

REGION_KINDS = ("flash", "ram")
# Speed classes, fastest first: where placement looks first (TCM: fast; on-chip SRAM and
# flash behind the caches: normal; off-chip SDRAM and NOR: slow).
SPEED_CLASSES = ("fast", "normal", "slow")
# What makes a region usable: nothing (on-chip), the boot ROM (XIP NOR it boots from), or a
# board-support routine in firmware/boards/<family> run by board_early_init() before the
# .data/.bss set-up, compiled in only when a section is placed there (MCUGEN_INIT_<NAME>).
REGION_INITS = ("none", "boot_rom", "sdram", "qspi")
PLACEMENT_KEYS = ("code", "weights", "arena", "data", "stack")
FPUS = {"fpv5-d16", "fpv5-sp-d16", "none"}
TIMINGS = ("cycles", "instructions", "nanoseconds")
# Firmware an on-board probe can run, each a USB identity (VID:PID) of its own:
# mcugen/runners/probes.py maps them to the IDs that find the board's serial port.
PROBE_FIRMWARES = ("stlink", "daplink", "mcu-link", "jlink")
# Runner -> the flash setting it cannot do without.
RUNNER_SETTINGS = {"pyocd": "pyocd_target", "openocd": "openocd_config", "qemu": "qemu_machine",
                   "jlink": "jlink_device", "linkserver": "linkserver_device"}


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    base: int
    size: int
    kind: str  # flash (read-only at run time) | ram
    source: str = ""
    note: str = ""
    speed: str = "normal"  # SPEED_CLASSES
    external: bool = False  # off-chip memory behind a controller (SEMC, FMC, QUADSPI, FlexSPI)
    init: str = "none"  # REGION_INITS

    @property
    def speed_rank(self) -> int:
        """0 for the fastest class; placement fills lower ranks first."""
        return SPEED_CLASSES.index(self.speed)

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def writable(self) -> bool:
        """RAM at run time (internal SRAM or initialised SDRAM)."""
        return self.kind == "ram"

    @property
    def needs_firmware_init(self) -> bool:
        """Its controller is set up by the board support (SDRAM, memory-mapped QSPI)."""
        return self.init in ("sdram", "qspi")


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
class Probe:
    """The debug probe on the board: it flashes the target and carries its UART (virtual COM port)."""

    name: str
    firmware: tuple[str, ...]  # PROBE_FIRMWARES it may run, the factory firmware first
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class FlashMethod:
    runners: tuple[str, ...]  # in order of preference: qemu, pyocd, openocd, jlink, linkserver, ...
    pyocd_target: str = ""
    cmsis_pack: str = ""          # Vendor.Name of the CMSIS pack pyOCD needs when it has no built-in target
    cmsis_pack_url: str = ""      # where a person downloads that pack
    openocd_config: str = ""
    qemu_machine: str = ""
    jlink_device: str = ""        # SEGGER J-Link device name
    linkserver_device: str = ""   # NXP LinkServer device:board name
    external_loader: str = ""     # STM32CubeProgrammer external loader (.stldr) for the board's QSPI flash
    source: str = ""


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
    probe: Probe | None = None

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


def _baud(path: Path, where: str, value: Any) -> int:
    baud = _int(path, where, value)
    if baud == 0:
        raise _fail(path, where, "a baud rate must be greater than 0")
    return baud


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
    _check_keys(path, where, raw, {"name", "base", "size", "kind", "source", "note", "speed", "external", "init"})
    kind = _str(path, f"{where}.kind", raw.get("kind"))
    if kind not in REGION_KINDS:
        raise _fail(path, f"{where}.kind", f"'{kind}' is not one of {', '.join(REGION_KINDS)}")
    speed = _str(path, f"{where}.speed", raw.get("speed"))
    if speed not in SPEED_CLASSES:
        raise _fail(path, f"{where}.speed", f"'{speed}' is not one of {', '.join(SPEED_CLASSES)}")
    external = raw.get("external", False)
    if not isinstance(external, bool):
        raise _fail(path, f"{where}.external", f"expected true or false, got {external!r}")
    init = _str(path, f"{where}.init", raw.get("init", "none"))
    if init not in REGION_INITS:
        raise _fail(path, f"{where}.init", f"'{init}' is not one of {', '.join(REGION_INITS)}")
    if external and init == "none":
        raise _fail(path, f"{where}.init", "external memory needs an init (boot_rom, sdram or qspi)")
    if init == "sdram" and kind != "ram" or init == "qspi" and kind != "flash":
        raise _fail(path, f"{where}.init", f"init {init} does not fit a {kind} region")
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
        speed=speed,
        external=external,
        init=init,
    )


def _parse_board(path: Path, name: str, raw: Any) -> Board:
    where = f"boards.{name}"
    raw = _mapping(path, where, raw)
    _check_keys(
        path,
        where,
        raw,
        {"aliases", "description", "family", "core", "fpu", "clock_hz", "timing", "regions",
         "placement", "uart", "flash", "extra", "sources", "probe"},
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
        for key in PLACEMENT_KEYS:  # defaults stay on memory that works without extra set-up
            region = next(r for r in regions if r.name == values[key])
            if region.needs_firmware_init:
                raise _fail(path, f"{where}.placement.{key}", f"region '{region.name}' needs init {region.init}; "
                            "default placements use memory that works at reset (`--place` opts in)")
        placement = Placement(**values)

    uart = None
    if raw.get("uart") is not None:
        uraw = _mapping(path, f"{where}.uart", raw["uart"])
        _check_keys(path, f"{where}.uart", uraw, {"name", "base", "baud", "tx", "rx", "source"})
        uart = Uart(
            name=_str(path, f"{where}.uart.name", uraw.get("name")),
            base=_int(path, f"{where}.uart.base", uraw.get("base")),
            baud=_baud(path, f"{where}.uart.baud", uraw.get("baud", 115200)),
            tx=_str(path, f"{where}.uart.tx", uraw.get("tx"), required=False),
            rx=_str(path, f"{where}.uart.rx", uraw.get("rx"), required=False),
            source=_str(path, f"{where}.uart.source", uraw.get("source"), required=False),
        )
    elif not is_host:
        raise _fail(path, f"{where}.uart", "a hardware board needs the UART that reaches the host")

    flash = _parse_flash(path, f"{where}.flash", raw.get("flash", {}), regions)
    probe = _parse_probe(path, f"{where}.probe", raw.get("probe")) if raw.get("probe") is not None else None
    if probe is None and any(r not in ("qemu", "host") for r in flash.runners):
        raise _fail(path, f"{where}.probe", "a board flashed through a debug probe needs its probe "
                    "(name, firmware, source)")

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
        probe=probe,
    )


def _parse_flash(path: Path, where: str, raw: Any, regions: tuple[MemoryRegion, ...]) -> FlashMethod:
    fraw = _mapping(path, where, raw)
    settings = ("pyocd_target", "cmsis_pack", "cmsis_pack_url", "openocd_config", "qemu_machine", "jlink_device",
                "linkserver_device", "external_loader", "source")
    _check_keys(path, where, fraw, {"runners", *settings})
    runners = fraw.get("runners", [])
    if not isinstance(runners, list) or not runners or not all(isinstance(r, str) for r in runners):
        raise _fail(path, f"{where}.runners", "expected a non-empty list of runner names")
    flash = FlashMethod(runners=tuple(runners),
                        **{k: _str(path, f"{where}.{k}", fraw.get(k), required=False) for k in settings})
    for runner, setting in RUNNER_SETTINGS.items():
        if runner in flash.runners and not getattr(flash, setting):
            raise _fail(path, where, f"runner {runner} needs {setting}")
    if flash.cmsis_pack and not re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", flash.cmsis_pack):
        raise _fail(path, f"{where}.cmsis_pack", f"expected Vendor.Name (as Keil.STM32H7xx_DFP), got {flash.cmsis_pack!r}")
    if flash.external_loader and not any(r.init == "qspi" for r in regions):
        raise _fail(path, f"{where}.external_loader", "an external loader needs a region with init qspi")
    return flash


def _parse_probe(path: Path, where: str, raw: Any) -> Probe:
    praw = _mapping(path, where, raw)
    _check_keys(path, where, praw, {"name", "firmware", "source", "note"})
    firmware = praw.get("firmware")
    if not isinstance(firmware, list) or not firmware or not all(f in PROBE_FIRMWARES for f in firmware):
        raise _fail(path, f"{where}.firmware", f"expected a non-empty list of {', '.join(PROBE_FIRMWARES)}, "
                    f"got {firmware!r}")
    return Probe(name=_str(path, f"{where}.name", praw.get("name")), firmware=tuple(firmware),
                 source=_str(path, f"{where}.source", praw.get("source")),
                 note=_str(path, f"{where}.note", praw.get("note"), required=False))


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
