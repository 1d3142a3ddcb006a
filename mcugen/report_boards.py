"""`mcugen boards`: the targets, their memory, serial link and probes, as tables and as JSON."""

from __future__ import annotations

from rich.table import Table

from mcugen.boards import Board
from mcugen.report import _joined, console, safe_text
from mcugen.tables import print_table


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def _probe_text(b: Board) -> str:
    if b.probe is None:
        return "-"
    default, *others = b.probe.firmware
    return f"{b.probe.name}: {default}" + (f" (or {', '.join(others)})" if others else "")


def render_boards(boards: list[Board]) -> None:
    t = Table(title="Targets", title_justify="left", show_lines=True)
    for col in ("name", "aliases", "core", "clock", "memory regions", "code/weights/arena"):
        t.add_column(col)
    for b in boards:
        regions = "\n".join(f"{safe_text(r.name)} {_size(r.size)} {safe_text(r.kind)}" for r in b.regions) or "-"
        place = (safe_text(f"{b.placement.code}/{b.placement.weights}/{b.placement.arena}") if b.placement
                 else "-")
        clock = f"{b.clock_hz / 1e6:g} MHz" if b.clock_hz else "-"
        t.add_row(safe_text(b.name), _joined(b.aliases) or "-",
                  safe_text(f"{b.core} {b.fpu if b.fpu != 'none' else ''}".strip()), clock, regions, place)
    print_table(console, t)
    # The serial link and how to flash, in a table of its own (the first is wide already).
    s = Table(title="Serial and probes", title_justify="left")
    for col in ("name", "UART", "TX/RX", "baud", "probe: firmware", "runners"):
        s.add_column(col)
    for b in boards:
        u = b.uart
        s.add_row(safe_text(b.name), safe_text(u.name) if u else "-",
                  safe_text(f"{u.tx}/{u.rx}") if u and (u.tx or u.rx) else "-",
                  str(u.baud) if u else "-", safe_text(_probe_text(b)), _joined(b.flash.runners))
    print_table(console, s)


_FLASH_SETTINGS = ("pyocd_target", "cmsis_pack", "cmsis_pack_url", "openocd_config", "qemu_machine", "jlink_device",
                   "linkserver_device", "external_loader")


def boards_json(boards: list[Board]) -> list[dict]:
    return [
        {
            "name": b.name,
            "aliases": list(b.aliases),
            "description": b.description,
            "family": b.family,
            "core": b.core,
            "fpu": b.fpu,
            "clock_hz": b.clock_hz,
            "timing": b.timing,
            "regions": [
                {"name": r.name, "base": r.base, "size": r.size, "kind": r.kind, "source": r.source}
                for r in b.regions
            ],
            "placement": b.placement.as_dict() if b.placement else None,
            "uart": {"name": b.uart.name, "base": b.uart.base, "baud": b.uart.baud, "tx": b.uart.tx or None,
                     "rx": b.uart.rx or None, "source": b.uart.source} if b.uart else None,
            "probe": {"name": b.probe.name, "firmware": list(b.probe.firmware), "source": b.probe.source,
                      "note": b.probe.note} if b.probe else None,
            "runners": list(b.flash.runners),
            "flash": {k: getattr(b.flash, k) for k in _FLASH_SETTINGS if getattr(b.flash, k)},
        }
        for b in boards
    ]
