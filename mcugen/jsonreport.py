"""The shape of every `--json` output: a versioned document, machine keys, errors as objects.

Every command's JSON is one object with `schema_version` and `command` first; errors
are `{"schema_version", "command", "error", "hint"}` on stdout with a non-zero exit.
mcugen/data/report.schema.json describes them all (tests/test_jsonreport.py validates
every command's output against it). Bump SCHEMA_VERSION when a key changes meaning or
goes away; adding keys keeps it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

SCHEMA_VERSION = 2  # 1: the unversioned shape before (timing keys per unit, regions per command)
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "report.schema.json"


def document(command: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """`payload` as the JSON document of `command` (schema_version and command first)."""
    return {"schema_version": SCHEMA_VERSION, "command": command, **payload}


def error_document(command: str, message: str, hint: str | None) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "command": command, "error": message, "hint": hint or None}


def part_key(label: str) -> str:
    """A machine key for a human label: "kernel mcu_conv2d_s8_arm" -> "kernel_mcu_conv2d_s8_arm",
    "network (generated)" -> "network_generated", "libc/libgcc" -> "libc_libgcc"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "part"


def parts_json(parts: Mapping[str, int]) -> dict[str, int]:
    """A {label: bytes} breakdown under machine keys (labels that collide add up)."""
    out: dict[str, int] = {}
    for label, value in parts.items():
        key = part_key(label)
        out[key] = out.get(key, 0) + int(value)
    return out


def region_json(name: str, kind: str, base: int, size: int, used: int, **extra: Any) -> dict[str, Any]:
    """One memory region, the same core in `estimate` (extra: items) and `build` (extra: sections,
    estimate)."""
    return {"name": name, "kind": kind, "base": base, "size": size, "used": used, "free": size - used,
            "fits": used <= size, **extra}


def timing_json(unit: str, counts: Mapping[str, float], macs: int, clock_hz: int) -> dict[str, Any]:
    """Per-inference timing under fixed keys whatever the counter: `unit` says what min/median/max
    count (cycles on boards, instructions on QEMU, nanoseconds on host); `ms` is set when the
    counter converts to time (cycles at the board's clock, or nanoseconds)."""
    if unit == "cycles" and clock_hz:
        ms = {k: counts[k] / clock_hz * 1e3 for k in ("min", "median", "max")}
    elif unit == "nanoseconds":
        ms = {k: counts[k] * 1e-6 for k in ("min", "median", "max")}
    else:
        ms = None
    return {"unit": unit, "min": counts["min"], "median": counts["median"], "max": counts["max"],
            "per_macc": counts["median"] / macs if macs else None, "clock_hz": clock_hz or None, "ms": ms}


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of every --json output."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def json_command(argv: list[str]) -> str | None:
    """The command named on a command line that asks for --json (errors then print as JSON), else None."""
    if "--json" not in argv:
        return None
    words = [a for a in argv[: argv.index("--json")] if not a.startswith("-")]
    if words[:1] == ["cache"]:
        return " ".join(words[:2])
    return words[0] if words else ""
