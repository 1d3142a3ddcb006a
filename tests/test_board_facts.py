"""Board facts proven against vendor data.

Every register address, bit field and field value in the register headers the firmware
compiles (firmware/boards/*/..._regs.h, imxrt_semc.h, stm32h7_extmem.h) is tagged and checked
here against the vendor's CMSIS SVD data (tests/_svd.py explains the tags): NXP's SVD files from
pyOCD's package directly, ST's through the committed facts files reduced from ST's SVD
(tests/_svd_facts.py), which are in turn checked against the SVD whenever it is present. Facts
the SVD does not hold (pin alternate functions, SDRAM timings from the vendors' board code,
revision IDs) are checked against tests/fixtures/board_facts/<family>.yaml, where each names
its source; boards.yaml's addresses (UART, memory windows) are checked too.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml

import _svd
import _svd_facts
from mcugen.boards import get_board

FACTS_DIR = Path(__file__).parent / "fixtures" / "board_facts"
HEADERS = _svd.HEADERS
IGNORED = {"REG32", "REG16"}  # helpers, not facts
GUARD_SUFFIX = "_H"


def _facts(family: str) -> dict:
    return yaml.safe_load((FACTS_DIR / f"{family}.yaml").read_text())["facts"]


def _register_data(device: str, peripherals: frozenset[str]) -> _svd.Svd | None:
    """NXP: the SVD from pyOCD's package; ST: the committed facts (always here)."""
    if device in _svd_facts.FACT_FILES:
        return _svd_facts.load_facts(device)
    return _svd.load_svd(device, peripherals)


def _skip_reason(device: str) -> str:
    return "pyOCD's SVD files are not installed" if device not in _svd_facts.FACT_FILES else _svd.missing_hint(device)


@pytest.mark.parametrize("header", sorted(HEADERS))
def test_every_define_is_tagged(header):
    """No register fact escapes the check: each define carries svd:, fact: or derived:."""
    untagged = [f"{d.file}:{d.line} {d.name}" for d in _svd.header_defines(header).values()
                if d.name not in IGNORED and not d.name.endswith(GUARD_SUFFIX) and d.tag is None]
    assert not untagged, "untagged defines (add svd:/fact:/derived:): " + ", ".join(untagged)


CASES = [(h, dev) for h, devs in sorted(HEADERS.items()) for dev in devs]


@pytest.mark.parametrize("header, device", CASES, ids=[f"{h}-{d}" for h, d in CASES])
def test_register_facts_match_the_svd(header, device):
    defs = _svd.all_defines(header, device)
    svd = _register_data(device, _svd.tag_peripherals(defs, device))
    if svd is None:
        pytest.skip(_skip_reason(device))
    problems = []
    checked = 0
    for d in _svd.header_defines(header).values():
        spec = _svd.device_tag(d, device)
        if spec:
            problems += _svd.check_svd_tag(svd, defs, d, spec)
            checked += 1
    if not checked:
        pytest.skip(f"{header} holds no svd: tags (its facts are checked by test_written_down_facts_match)")
    hint = ""
    if device in _svd_facts.FACT_FILES and any("no register" in p or "no field" in p or "no peripheral" in p
                                               for p in problems):
        hint = f"\n(a new tag? regenerate the facts: python {_svd_facts.GENERATOR} --svd-dir DIR --commit SHA)"
    assert not problems, "\n".join(problems) + hint


@pytest.mark.parametrize("header", sorted(HEADERS))
def test_written_down_facts_match(header):
    """`fact: KEY` defines equal the value in the facts file, which names its source."""
    family = header.split("/")[0]
    facts = _facts(family)
    problems = []
    for device in HEADERS[header]:
        defs = _svd.all_defines(header, device)
        for d in _svd.header_defines(header).values():
            if d.tag and d.tag[0] == "fact":
                key = d.tag[1].split()[0]
                if key not in facts:
                    problems.append(f"{d.file}:{d.line} {d.name}: no fact '{key}' in {family}.yaml")
                    continue
                value = _svd.evaluate(defs, d.body)
                if value != int(facts[key]["value"]):
                    problems.append(f"{d.file}:{d.line} {d.name} = {value:#x}, {family}.yaml {key} = "
                                    f"{int(facts[key]['value']):#x} ({facts[key]['source']})")
    assert not problems, "\n".join(sorted(set(problems)))


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


def _check_source(svd: _svd.Svd, device: str, lines: list[str]) -> list[str]:
    tmp = Path(tempfile.mkdtemp()) / "x_regs.h"
    tmp.write_text("\n".join(lines) + "\n")
    defs = {d.name: d for d in _svd.read_defines(tmp)}
    return [p for d in defs.values() for p in _svd.check_svd_tag(svd, defs, d, _svd.device_tag(d, device))]


def test_the_checker_catches_a_wrong_fact():
    """A deliberately wrong address, bit and value each fail (the checker is not a no-op)."""
    svd = _svd.load_svd("MIMXRT1052", frozenset({"IOMUXC", "LPUART1"}))
    if svd is None:
        pytest.skip("pyOCD's SVD files are not installed")
    problems = _check_source(svd, "MIMXRT1052", [
        "#define IOMUXC_BASE 0x401F8000u /* svd: IOMUXC */",
        "#define MUX_TX REG32(IOMUXC_BASE + 0x110u) /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12 */",
        "#define STAT_TDRE (1u << 22) /* svd: LPUART1.STAT.TDRE */",
        "#define UART_ALT 3u /* svd: IOMUXC.SW_MUX_CTL_PAD_GPIO_AD_B0_12.MUX_MODE=LPUART1_TX */",
    ])
    assert len(problems) == 3, problems
    assert any("0x401F8110" in p and "0x401F80EC" in p for p in problems)
    assert any("TDRE" in p and "0x800000" in p for p in problems)
    assert any("WDOG2_WDOG_B" in p for p in problems)


def test_the_st_facts_catch_a_wrong_fact():
    """Against the committed ST facts: a wrong base, register offset, bit, width and an unknown
    register each fail, so the CI check of the ST headers is not a no-op either."""
    facts = _svd_facts.load_facts("STM32H747_CM7")
    problems = _check_source(facts, "STM32H747_CM7", [
        "#define RCC_BASE 0x58024000u /* svd: RCC */",
        "#define RCC_CFGR REG32(0x58024400u + 0x14u) /* svd: RCC.CFGR */",
        "#define RCC_CR_HSEON (1u << 15) /* svd: RCC.CR.HSEON */",
        "#define FMC_SDRTR_COUNT_SHIFT 2u /* svd: FMC.SDRTR.COUNT */",
        "#define RCC_FOO REG32(0x58024400u) /* svd: RCC.FOO */",
        "#define RCC_CR_HSEBYP (1u << 18) /* svd: RCC.CR.HSEBYP */",  # right: no problem
    ])
    assert len(problems) == 5, problems
    assert any("0x58024000" in p for p in problems) and any("0x58024414" in p for p in problems)
    assert any("HSEON" in p for p in problems) and any("COUNT starts at bit 1" in p for p in problems)
    assert any("no register RCC.FOO" in p for p in problems)


# ---- the ST facts files ------------------------------------------------------------------

@pytest.mark.parametrize("device", sorted(_svd_facts.FACT_FILES))
def test_st_facts_files_have_provenance(device):
    prov = _svd_facts.provenance(device)
    assert prov["repository"] == _svd_facts.SOURCE_REPOSITORY
    assert re.fullmatch(r"[0-9a-f]{40}", prov["commit"]) and re.fullmatch(r"[0-9a-f]{64}", prov["sha256"])
    assert prov["file"] == _svd_facts.SOURCE_PATHS[device]
    facts = _svd_facts.load_facts(device)
    w = _svd_facts.wanted(device)
    missing = [f"{p}.{r}" for p, regs in w.peripherals.items() for r in regs if (p, r) not in facts.registers]
    missing += [p for p in w.peripherals if p not in facts.bases]
    assert not missing, f"facts file lacks {missing}: regenerate with {_svd_facts.GENERATOR}"


@pytest.mark.parametrize("device", sorted(_svd_facts.FACT_FILES))
def test_st_facts_files_match_the_svd(device):
    """With ST's SVD present, regenerating the facts from it gives the committed file exactly."""
    src = _svd.svd_source(device)
    if src is None:
        pytest.skip(_svd.missing_hint(device) + " (the committed facts are checked against it then)")
    data, where = src
    committed = _svd_facts.facts_path(device).read_text()
    prov = _svd_facts.provenance(device)
    svd = _svd.parse_svd(device, data, frozenset(_svd_facts.wanted(device).peripherals))
    regenerated = _svd_facts.facts_document(device, svd, prov)
    assert regenerated == committed, (f"{_svd_facts.facts_path(device).name} differs from what {where} gives: "
                                      f"regenerate with {_svd_facts.GENERATOR}")
    if _svd_facts.sha256(data) != prov["sha256"]:
        pytest.xfail(f"{where} is not the file the facts name (sha256 differs) although its facts agree")


# ---- derived values ---------------------------------------------------------------------

def _st_defs() -> dict[str, _svd.Define]:
    return _svd.header_defines("stm32h7/stm32h7_regs.h")


@pytest.mark.parametrize("device", sorted(_svd_facts.FACT_FILES))
def test_gpio_port_stride(device):
    facts = _svd_facts.load_facts(device)
    defs = _st_defs()
    base, stride = _svd.evaluate(defs, "GPIOA_BASE"), _svd.evaluate(defs, "GPIO_STRIDE")
    for i, c in enumerate("ABCDEFGHIJK"):
        assert facts.bases[f"GPIO{c}"] == base + i * stride, f"GPIO{c}"


@pytest.mark.parametrize("device", sorted(_svd_facts.FACT_FILES))
def test_sram123_clock_bits(device):
    fields = _svd_facts.load_facts(device).register("RCC", "AHB2ENR").fields
    want = sum(fields[f"SRAM{i}EN"].mask for i in (1, 2, 3))
    assert _svd.evaluate(_st_defs(), "RCC_AHB2ENR_SRAM123") == want


@pytest.mark.parametrize("device", sorted(_svd_facts.FACT_FILES))
def test_usart_error_clear_bits(device):
    fields = _svd_facts.load_facts(device).register("USART1", "ICR").fields
    want = sum(fields[f].mask for f in ("PECF", "FECF", "NCF", "ORECF"))
    assert _svd.evaluate(_st_defs(), "USART_ICR_ERRORS") == want


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
    svd = _register_data(device, frozenset({periph}))
    if svd is None:
        pytest.skip(_skip_reason(device))
    b = get_board(board)
    assert b.uart.name == periph
    assert b.uart.base == svd.bases[periph], f"{board}: boards.yaml {b.uart.base:#x}, SVD {svd.bases[periph]:#x}"
