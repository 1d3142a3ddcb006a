"""Vendor SVD data and the C facts tagged against it (tests/test_board_facts.py).

Every register address, bit field and field value that firmware/boards/*_regs.h
defines carries a tag in a trailing comment, and this module checks each tag
against the vendor's CMSIS SVD description, parsed with the `cmsis-svd` parser:

    #define RCC_BASE 0x58024400u                  /* svd: RCC */              peripheral base
    #define RCC_CR REG32(RCC_BASE + 0x00u)        /* svd: RCC.CR */           register address
    #define RCC_CR_HSEON (1u << 16)               /* svd: RCC.CR.HSEON */     field mask
    #define PWR_D3CR_VOS_SHIFT 14u                /* svd: PWR.D3CR.VOS */     bit offset (name ends _SHIFT)
    #define PWR_VOS1 3u                           /* svd: PWR.D3CR.VOS= */    a value of the field (unshifted)
    #define RCC_D1CFGR_HPRE_DIV2 (8u << 0)        /* svd: RCC.D1CFGR.HPRE<< */ a value placed in the field
    #define GPIO_MODER(port) REG32(...)           /* svd: GPIOD.MODER port=3 */ function-like: the arguments
    #define IOMUXC_UART_ALT 2u                    /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12.MUX_MODE=LPUART1_TX */

A value check also requires the value to be one of the field's enumerated values when the
SVD lists them, and `=TEXT` requires that enumerated value's name or description to name
TEXT (the IOMUXC ALT functions). Facts the SVD does not hold carry `fact: KEY` instead and
are checked against tests/fixtures/board_facts/<family>.yaml, where every fact names its
source; `derived: WHY` marks a value computed from other facts (and checked by its own test).

Where the SVD files come from (nothing vendor-made is committed here):
- NXP MIMXRT1052 and MIMXRT1176 (CM7): the copies pyOCD ships in its wheel
  (pyocd/debug/svd/svd_data.zip, BSD-3-Clause, NXP), a dev dependency.
- ST STM32H743 and STM32H747 (CM7): $MCUGEN_SVD_DIR, else ../shared/third_party/svd
  beside the project (ST's SVD v2.8 as archived in github.com/modm-io/cmsis-svd-stm32,
  Apache-2.0), else a cached Keil.STM32H7xx_DFP pack (CMSIS/SVD/). Absent, those checks skip
  and say where to put the files.
The full files are large (the RT1176's is 24 MB, 60 s to parse), so each is first reduced
(lxml) to the peripherals the tags name, then parsed; the result is cached per process.
"""

from __future__ import annotations

import glob
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOARDS_DIR = ROOT / "firmware" / "boards"

# device -> (file name, where to look). "pyocd": pyOCD's bundled svd_data.zip.
DEVICES = {
    "MIMXRT1052": ("MIMXRT1052.xml", "pyocd"),
    "MIMXRT1176_cm7": ("MIMXRT1176_cm7.xml", "pyocd"),
    "STM32H743": ("STM32H743.svd", "st"),
    "STM32H747_CM7": ("STM32H747_CM7.svd", "st"),
}
# Keil.STM32H7xx_DFP names its files STM32H743x.svd / STM32H747x_CM7.svd.
PACK_NAMES = {"STM32H743": "STM32H743x.svd", "STM32H747_CM7": "STM32H747x_CM7.svd"}


def svd_source(device: str) -> tuple[bytes, str] | None:
    """The vendor SVD of a device and a description of where it came from, or None."""
    name, where = DEVICES[device]
    if where == "pyocd":
        try:
            import pyocd  # noqa: PLC0415
        except ImportError:
            return None
        zpath = Path(pyocd.__file__).parent / "debug" / "svd" / "svd_data.zip"
        with zipfile.ZipFile(zpath) as z:
            return z.read(name), f"pyocd {pyocd.__version__} {zpath.name}:{name}"
    dirs = [os.environ.get("MCUGEN_SVD_DIR", ""), str(ROOT.parent / "shared" / "third_party" / "svd")]
    for d in dirs:
        if d and (Path(d) / name).is_file():
            return (Path(d) / name).read_bytes(), str(Path(d) / name)
    home = Path.home()
    for pattern in (f"{home}/.local/share/cmsis-pack-manager/Keil/STM32H7xx_DFP/*/CMSIS/SVD/{PACK_NAMES[device]}",
                    f"{home}/.cache/cmsis-pack-manager/Keil/STM32H7xx_DFP/*/CMSIS/SVD/{PACK_NAMES[device]}"):
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[-1]).read_bytes(), found[-1]
    return None


def missing_hint(device: str) -> str:
    name, _ = DEVICES[device]
    return (f"{name} not found: put ST's SVD files (e.g. from github.com/modm-io/cmsis-svd-stm32, stm32h7/) "
            "in $MCUGEN_SVD_DIR or ../shared/third_party/svd to run this check")


@dataclass(frozen=True)
class Field:
    offset: int
    width: int
    enums: tuple[tuple[str, int, str], ...]  # (name, value, description)

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.offset


@dataclass(frozen=True)
class Register:
    address: int
    fields: dict[str, Field]


class Svd:
    """The peripherals of one device: base addresses, registers (absolute address) and fields."""

    def __init__(self, device: str, bases: dict[str, int], registers: dict[tuple[str, str], Register]):
        self.device, self.bases, self.registers = device, bases, registers

    def register(self, periph: str, reg: str) -> Register:
        try:
            return self.registers[(periph, reg)]
        except KeyError:
            raise KeyError(f"{self.device}: no register {periph}.{reg} in the SVD") from None


def _reduce(xml: bytes, keep: set[str]) -> bytes:
    """The SVD with only the peripherals in `keep` (and those they derive from)."""
    from lxml import etree  # noqa: PLC0415 (a dependency of cmsis-svd)

    tree = etree.parse(io.BytesIO(xml), etree.XMLParser(huge_tree=True, remove_comments=True))
    periphs = tree.getroot().find("peripherals")
    by_name = {p.findtext("name"): p for p in periphs.findall("peripheral")}
    wanted = set(keep)
    for name in list(keep):
        p = by_name.get(name)
        if p is not None and p.get("derivedFrom"):
            wanted.add(p.get("derivedFrom"))
    for name, p in by_name.items():
        if name not in wanted:
            periphs.remove(p)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


@lru_cache(maxsize=8)
def load_svd(device: str, peripherals: frozenset[str]) -> Svd | None:
    from cmsis_svd.parser import SVDParser  # noqa: PLC0415

    src = svd_source(device)
    if src is None:
        return None
    data, _ = src
    with tempfile.NamedTemporaryFile(suffix=".svd") as f:
        f.write(_reduce(data, set(peripherals)))
        f.flush()
        dev = SVDParser.for_xml_file(f.name).get_device()
    bases: dict[str, int] = {}
    regs: dict[tuple[str, str], Register] = {}
    for p in dev.peripherals:
        bases[p.name] = p.base_address
        prefix = p.prepend_to_name or ""
        for name, offset, r in _walk(p.registers or [], "", 0):
            name = name[len(prefix):] if prefix and name.startswith(prefix) else name
            regs[(p.name, name)] = Register(p.base_address + offset, _fields(r))
    return Svd(device, bases, regs)


def _walk(items, prefix: str, base: int):
    """(name, offset, register) for registers, register arrays and clusters; "[n]" in a
    name becomes "n" (CLOCK_ROOT[4]_CLOCK_ROOT_CONTROL -> CLOCK_ROOT4_CLOCK_ROOT_CONTROL)."""
    for item in items:
        kind = type(item).__name__
        if kind == "SVDRegister":
            yield re.sub(r"\[(\d+)\]", r"\1", item.name), base + item.address_offset, item
        elif kind == "SVDRegisterArray":
            yield from _walk(item.registers, prefix, base)
        elif kind == "SVDRegisterClusterArray":
            yield from _walk(item.clusters, prefix, base)
        elif kind == "SVDRegisterCluster":
            # cmsis-svd expands a cluster array into clusters whose registers already carry
            # the cluster's offset and name (CLOCK_ROOT[25]_CLOCK_ROOT_CONTROL -> CLOCK_ROOT25_...)
            yield from _walk(item.registers or [], prefix, base)


def _fields(r) -> dict[str, Field]:
    fields = {}
    for fl in r.fields or []:
        enums = []
        for group in fl.enumerated_values or []:
            for v in group.enumerated_values or []:
                if v.value is not None:
                    enums.append((v.name or "", int(v.value), v.description or ""))
        fields[fl.name] = Field(fl.bit_offset, fl.bit_width, tuple(enums))
    return fields


# ---- the C side -------------------------------------------------------------------------

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)(\([\w\s,]*\))?\s+(.*?)\s*(?:/\*(.*?)\*/)?\s*$")


@dataclass(frozen=True)
class Define:
    name: str
    params: tuple[str, ...]
    body: str
    comment: str
    file: str
    line: int

    @property
    def tag(self) -> tuple[str, str] | None:
        m = re.search(r"\b(svd|fact|derived)(?:\(\w+\))?:\s*(.+?)\s*$", self.comment or "")
        return (m.group(1), m.group(2)) if m else None


def read_defines(path: Path) -> list[Define]:
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = _DEFINE.match(line)
        if m:
            params = tuple(p.strip() for p in (m.group(2) or "").strip("()").split(",") if p.strip())
            out.append(Define(m.group(1), params, m.group(3), (m.group(4) or "").strip(), path.name, i))
    return out


def evaluate(defs: dict[str, Define], expr: str, args: dict[str, int] | None = None, depth: int = 0) -> int:
    """Integer value of a C macro expression built from literals, other macros, REG32/REG16
    (the address), + - * << >> | & ~ and parentheses."""
    if depth > 20:
        raise ValueError(f"macro recursion in {expr!r}")
    args = args or {}

    # REG32(x)/REG16(x) stand for the address x; function-like macros in tagged bodies are
    # only those (the arguments of a tagged function-like macro come from the tag).
    text = re.sub(r"\bREG(?:32|16)\s*\(", "(", expr)

    def ident(m: re.Match) -> str:
        name = m.group(0)
        if name in args:
            return str(args[name])
        if name in defs and not defs[name].params:
            return f"({evaluate(defs, defs[name].body, args, depth + 1)})"
        raise ValueError(f"cannot evaluate {name!r} in {expr!r}")

    text = re.sub(r"\b(0[xX][0-9A-Fa-f]+|\d+)[uUlL]*\b", r"\1", text)
    text = re.sub(r"\b[A-Za-z_]\w*\b", ident, text)
    if not re.fullmatch(r"[\s0-9a-fA-FxX()+\-*<>|&~]*", text):
        raise ValueError(f"unsupported expression {expr!r} -> {text!r}")
    return eval(text) & 0xFFFFFFFF  # noqa: S307 (digits and operators only, checked above)


def check_svd_tag(svd: Svd, defs: dict[str, Define], d: Define, spec: str) -> list[str]:
    """Problems with one `svd:` tag (empty when the C value matches the SVD)."""
    problems = []
    for one in spec.split(";"):
        one = one.strip()
        m = re.fullmatch(r"([\w]+)(?:\.(\w+))?(?:\.(\w+))?(<<|=)?([\w .+-]*?)((?:\s+\w+=\w+)*)", one)
        if not m:
            return [f"{d.file}:{d.line} {d.name}: cannot read tag 'svd: {one}'"]
        periph, reg, fld, op, want, argtext = m.groups()
        args = {k: int(v, 0) for k, v in re.findall(r"(\w+)=(\w+)", argtext or "")}
        where = f"{d.file}:{d.line} {d.name} (svd: {one})"
        try:
            value = evaluate(defs, d.body, args)
        except (ValueError, KeyError) as exc:
            return [f"{where}: {exc}"]
        if reg is None:
            expect = svd.bases.get(periph)
            if expect is None:
                problems.append(f"{where}: no peripheral {periph} in {svd.device}")
            elif value != expect:
                problems.append(f"{where}: C says 0x{value:08X}, {svd.device} SVD says 0x{expect:08X}")
            continue
        try:
            r = svd.register(periph, reg)
        except KeyError as exc:
            problems.append(f"{where}: {exc.args[0]}")
            continue
        if fld is None:
            if value != r.address:
                problems.append(f"{where}: C says 0x{value:08X}, {svd.device} SVD says 0x{r.address:08X}")
            continue
        f = r.fields.get(fld)
        if f is None:
            problems.append(f"{where}: {periph}.{reg} has no field {fld} (fields: {', '.join(sorted(r.fields))})")
            continue
        if op is None:
            if d.name.endswith(("_SHIFT", "_POS")):
                if value != f.offset:
                    problems.append(f"{where}: C says bit {value}, SVD says {fld} starts at bit {f.offset}")
            elif value != f.mask:
                problems.append(f"{where}: C says mask 0x{value:X}, SVD says {fld} is bits "
                                f"[{f.offset + f.width - 1}:{f.offset}] = 0x{f.mask:X}")
            continue
        raw = value
        if op == "<<":
            if value & ~f.mask:
                problems.append(f"{where}: C value 0x{value:X} spills out of {fld} (mask 0x{f.mask:X})")
                continue
            raw = value >> f.offset
        elif raw >> f.width:
            problems.append(f"{where}: C value {raw} does not fit the {f.width}-bit field {fld}")
            continue
        if f.enums:
            match = [e for e in f.enums if e[1] == raw]
            if not match:
                problems.append(f"{where}: {raw} is not one of {fld}'s values "
                                f"({', '.join(f'{n}={v}' for n, v, _ in f.enums)})")
            elif want and not any(want.lower() in (n + " " + desc).lower() for n, _, desc in match):
                problems.append(f"{where}: SVD says {fld}={raw} is {match[0][0]} ({match[0][2]}), not {want}")
        elif want:
            problems.append(f"{where}: {fld} has no enumerated values in the SVD to check '{want}' against")
    return problems
