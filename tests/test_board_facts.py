"""Board facts proven against vendor data.

Every register address, bit field and field value in the register headers the firmware
compiles (firmware/boards/*/..._regs.h) is tagged and checked here against the vendor's
CMSIS SVD file (tests/_svd.py explains the tags and where the files come from); facts the
SVD does not hold (pin alternate functions, SDRAM timings from the vendors' board code,
revision IDs) are checked against tests/fixtures/board_facts/<family>.yaml, where each
names its source; boards.yaml's addresses (UART, memory windows) are checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import _svd
from mcugen.boards import get_board

FACTS_DIR = Path(__file__).parent / "fixtures" / "board_facts"

# header -> SVD devices it is compiled for (each tag is checked against each)
HEADERS = {
    "stm32h7/stm32h7_regs.h": ("STM32H743", "STM32H747_CM7"),
    "stm32h7/stm32h7_extmem.h": ("STM32H747_CM7",),
    "imxrt/imxrt1050_regs.h": ("MIMXRT1052",),
    "imxrt/imxrt1170_regs.h": ("MIMXRT1176_cm7",),
}
FAMILY_OF = {"stm32h7": "stm32h7", "imxrt": "imxrt"}


def _defines(header: str) -> dict[str, _svd.Define]:
    path = _svd.BOARDS_DIR / header
    defs = {}
    # the common header's REG32 etc. and the other headers a file includes
    for d in _svd.read_defines(path):
        defs[d.name] = d
    return defs


def _all_defines(header: str) -> dict[str, _svd.Define]:
    """The header's defines plus those of the headers it includes from the same family."""
    defs = {}
    text = (_svd.BOARDS_DIR / header).read_text()
    for inc in __import__("re").findall(r'#include "(\w+_regs\.h)"', text):
        p = _svd.BOARDS_DIR / Path(header).parent / inc
        if p.is_file():
            defs.update({d.name: d for d in _svd.read_defines(p)})
    defs.update(_defines(header))
    return defs


def _facts(family: str) -> dict:
    return yaml.safe_load((FACTS_DIR / f"{family}.yaml").read_text())["facts"]


def _device_tags(d: _svd.Define, device: str) -> str | None:
    """The svd spec of a tag that applies to `device` (svd: all, svd(DEVICE): one)."""
    import re

    m = re.search(r"\bsvd(?:\((\w+)\))?:\s*(.+?)\s*$", d.comment or "")
    if not m:
        return None
    if m.group(1) and m.group(1) != device:
        return None
    return m.group(2)


IGNORED = {"REG32", "REG16"}  # helpers, not facts
GUARD_SUFFIX = "_H"


@pytest.mark.parametrize("header", sorted(HEADERS))
def test_every_define_is_tagged(header):
    """No register fact escapes the check: each define carries svd:, fact: or derived:."""
    untagged = [f"{d.file}:{d.line} {d.name}" for d in _defines(header).values()
                if d.name not in IGNORED and not d.name.endswith(GUARD_SUFFIX) and d.tag is None]
    assert not untagged, "untagged defines (add svd:/fact:/derived:): " + ", ".join(untagged)


def _peripherals(defs: dict[str, _svd.Define], device: str) -> frozenset[str]:
    names = set()
    for d in defs.values():
        spec = _device_tags(d, device)
        if spec:
            for one in spec.split(";"):
                names.add(one.strip().split(".")[0].split("=")[0].split("<")[0].split()[0])
    return frozenset(names)


CASES = [(h, dev) for h, devs in sorted(HEADERS.items()) for dev in devs]


@pytest.mark.parametrize("header, device", CASES, ids=[f"{h}-{d}" for h, d in CASES])
def test_register_facts_match_the_svd(header, device):
    defs = _all_defines(header)
    svd = _svd.load_svd(device, _peripherals(defs, device))
    if svd is None:
        pytest.skip(_svd.missing_hint(device))
    problems = []
    checked = 0
    for d in _defines(header).values():
        spec = _device_tags(d, device)
        if spec:
            problems += _svd.check_svd_tag(svd, defs, d, spec)
            checked += 1
    if not checked:
        pytest.skip(f"{header} holds no svd: tags (its facts are checked by test_written_down_facts_match)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("header", sorted(HEADERS))
def test_written_down_facts_match(header):
    """`fact: KEY` defines equal the value in the facts file, which names its source."""
    family = header.split("/")[0]
    facts = _facts(FAMILY_OF[family])
    defs = _all_defines(header)
    problems = []
    for d in _defines(header).values():
        if d.tag and d.tag[0] == "fact":
            key = d.tag[1].split()[0]
            if key not in facts:
                problems.append(f"{d.file}:{d.line} {d.name}: no fact '{key}' in {family}.yaml")
                continue
            value = _svd.evaluate(defs, d.body)
            if value != int(facts[key]["value"]):
                problems.append(f"{d.file}:{d.line} {d.name} = {value:#x}, {family}.yaml {key} = "
                                f"{int(facts[key]['value']):#x} ({facts[key]['source']})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family", ["stm32h7", "imxrt"])
def test_every_fact_names_its_source(family):
    for key, fact in _facts(family).items():
        assert str(fact.get("source", "")).strip(), f"{family}.yaml {key} has no source"
        assert "UNVERIFIED" not in str(fact).upper()


def test_no_unverified_marks_left():
    for path in sorted(_svd.BOARDS_DIR.rglob("*")):
        if path.suffix in (".c", ".h"):
            assert "UNVERIFIED" not in path.read_text(), path
    assert "UNVERIFIED" not in (_svd.ROOT / "boards.yaml").read_text()


def test_the_checker_catches_a_wrong_fact():
    """A deliberately wrong address, bit and value each fail (the checker is not a no-op)."""
    svd = _svd.load_svd("MIMXRT1052", frozenset({"IOMUXC", "LPUART1"}))
    if svd is None:
        pytest.skip("pyOCD's SVD files are not installed")
    src = [
        "#define IOMUXC_BASE 0x401F8000u /* svd: IOMUXC */",
        "#define MUX_TX REG32(IOMUXC_BASE + 0x110u) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12 */",
        "#define STAT_TDRE (1u << 22) /* svd: LPUART1.STAT.TDRE */",
        "#define UART_ALT 3u /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12.MUX_MODE=LPUART1_TX */",
    ]
    tmp = Path(__import__("tempfile").mkdtemp()) / "x_regs.h"
    tmp.write_text("\n".join(src) + "\n")
    defs = {d.name: d for d in _svd.read_defines(tmp)}
    problems = [p for d in defs.values() for p in _svd.check_svd_tag(svd, defs, d, _device_tags(d, "MIMXRT1052"))]
    assert len(problems) == 3, problems
    assert any("0x401F8110" in p and "0x401F80EC" in p for p in problems)
    assert any("TDRE" in p and "0x800000" in p for p in problems)
    assert any("WDOG2_WDOG_B" in p for p in problems)


# ---- boards.yaml against the SVD ------------------------------------------------------

UART_SVD = {
    "nucleo-h743zi2": ("STM32H743", "USART3"),
    "stm32h747i-disco": ("STM32H747_CM7", "USART1"),
    "mimxrt1050-evkb": ("MIMXRT1052", "LPUART1"),
    "mimxrt1170-evk": ("MIMXRT1176_cm7", "LPUART1"),
}


@pytest.mark.parametrize("board", sorted(UART_SVD))
def test_boards_yaml_uart_base_matches_the_svd(board):
    device, periph = UART_SVD[board]
    svd = _svd.load_svd(device, frozenset({periph}))
    if svd is None:
        pytest.skip(_svd.missing_hint(device))
    b = get_board(board)
    assert b.uart.name == periph
    assert b.uart.base == svd.bases[periph], f"{board}: boards.yaml {b.uart.base:#x}, SVD {svd.bases[periph]:#x}"
