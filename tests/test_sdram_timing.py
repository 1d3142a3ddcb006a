"""The SDRAM set-up values against the parts' timings, the vendors' register descriptions and the
vendors' code.

i.MX RT (firmware/boards/imxrt/imxrt_semc.h): the header is compiled on the host with the board's
generated mcugen_board_config.h and its register values printed; every SEMC field is decoded with
the SVD's bit positions and checked against the part's ns (tests/fixtures/board_facts/imxrt.yaml)
at the SEMC clock, against the NXP SDK's own conversion (fsl_semc.c SEMC_ConvertTiming), and the
refresh timer against 64 ms / rows with the SVD's prescaler semantics. STM32H747I-DISCO
(stm32h7/stm32h7_extmem.h): the FMC cycles against the IS42S32800J-6's ns at SDCLK 100 MHz, the
FMC's own TWR rules, and the refresh count at every HCLK3 the firmware can run at.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

import _svd
import _svd_facts
from mcugen.boards import get_board
from mcugen.firmware import board_config_header

FACTS = Path(__file__).parent / "fixtures" / "board_facts"
HOST_CC = shutil.which("cc") or shutil.which("gcc")
needs_cc = pytest.mark.skipif(HOST_CC is None, reason="no host C compiler")

RT = {  # board -> (SVD device, fact prefix, part header)
    "rt1050": ("MIMXRT1052", "rt1050", "imxrt/imxrt1050_regs.h"),
    "rt1170": ("MIMXRT1176_cm7", "rt1170", "imxrt/imxrt1170_regs.h"),
}
SEMC_VALUES = ["SEMC_CLOCK_HZ", "SEMC_BR0_VALUE", "SEMC_SDRAMCR0_VALUE", "SEMC_SDRAMCR1_VALUE", "SEMC_SDRAMCR2_VALUE",
               "SEMC_SDRAMCR3_VALUE", "SEMC_MODE_VALUE", "SEMC_BMCR0_VALUE", "SEMC_BMCR1_VALUE"]
# (register, field, timing fact) for every SEMC timing field: the field holds cycles - 1
SEMC_TIMINGS = [
    ("SDRAMCR1", "PRE2ACT", "sdram_trp_ns"), ("SDRAMCR1", "ACT2RW", "sdram_trcd_ns"),
    ("SDRAMCR1", "RFRC", "sdram_trfc_ns"), ("SDRAMCR1", "WRC", "sdram_twr_ns"),
    ("SDRAMCR1", "CKEOFF", "sdram_tckeoff_ns"), ("SDRAMCR1", "ACT2PRE", "sdram_tras_ns"),
    ("SDRAMCR2", "SRRC", "sdram_txsr_ns"), ("SDRAMCR2", "REF2REF", "sdram_tref2ref_ns"),
    ("SDRAMCR2", "ACT2ACT", "sdram_tact2act_ns"),
]


def _facts(family: str) -> dict[str, int]:
    return {k: int(v["value"]) for k, v in yaml.safe_load((FACTS / f"{family}.yaml").read_text())["facts"].items()}


def _host_print(tmp: Path, includes: list[str], include_dirs: list[Path], prelude: str,
                exprs: dict[str, str]) -> dict[str, int]:
    """Compile a host program that includes the firmware headers and prints each expression."""
    src = ["#include <stdio.h>", prelude, *[f'#include "{h}"' for h in includes], "int main(void)", "{"]
    src += [f'    printf("{name} %llu\\n", (unsigned long long)({expr}));' for name, expr in exprs.items()]
    src += ["    return 0;", "}"]
    (tmp / "values.c").write_text("\n".join(src) + "\n")
    exe = tmp / "values"
    cmd = [HOST_CC, "-std=gnu11", "-Wall", "-Werror", *[f"-I{d}" for d in include_dirs], str(tmp / "values.c"),
           "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def _semc_values(tmp: Path, board: str) -> dict[str, int]:
    (tmp / "mcugen_board_config.h").write_text(board_config_header(get_board(board)))
    return _host_print(tmp, ["mcugen_board_config.h", "imxrt_regs.h", "imxrt_semc.h"],
                       [tmp, _svd.BOARDS_DIR / "imxrt", _svd.BOARDS_DIR / "common"], "",
                       {n: n for n in SEMC_VALUES})


def _field(svd: _svd.Svd, reg: str, name: str, value: int) -> int:
    f = svd.register("SEMC", reg).fields[name]
    return (value >> f.offset) & ((1 << f.width) - 1)


def _enum_text(svd: _svd.Svd, reg: str, name: str, raw: int) -> str:
    return next(desc for _, v, desc in svd.register("SEMC", reg).fields[name].enums if v == raw)


def semc_problems(board: str, values: dict[str, int], svd: _svd.Svd) -> list[str]:
    """What is wrong with the SEMC register values of a board (empty when all is right)."""
    _, prefix, _ = RT[board]
    facts = _facts("imxrt")
    problems = []
    clock = values["SEMC_CLOCK_HZ"]
    tck_ps = Fraction(10**12, clock)
    for reg, name, key in SEMC_TIMINGS:
        ns = facts[f"{prefix}_{key}"]
        cycles = _field(svd, reg, name, values[f"SEMC_{reg}_VALUE"]) + 1
        need = math.ceil(Fraction(ns * 1000) / tck_ps)
        if cycles < need:
            problems.append(f"{reg}.{name}: {cycles} cycles = {float(cycles * tck_ps) / 1000:.1f} ns < {key} {ns} ns")
        elif cycles > need:
            problems.append(f"{reg}.{name}: {cycles} cycles where {need} give {ns} ns ({key})")
        # the SDK's own conversion (clock truncated to MHz, ps period): the same cycles here
        mhz_ps = 1_000_000 // (clock // 1_000_000)
        if cycles != -(-ns * 1000 // mhz_ps):
            problems.append(f"{reg}.{name}: {cycles} cycles, the SDK's SEMC_ConvertTiming gives {-(-ns * 1000 // mhz_ps)}")
    # every bit written belongs to a field the SVD knows
    for reg in ("BR0", "SDRAMCR0", "SDRAMCR1", "SDRAMCR2", "SDRAMCR3", "BMCR0", "BMCR1"):
        known = sum(f.mask for f in svd.register("SEMC", reg).fields.values())
        value = values[f"SEMC_{reg}_VALUE"]
        if value & ~known:
            problems.append(f"{reg} = {value:#x} sets bits {value & ~known:#x} outside its fields")
    # refresh: one row's share of 64 ms, with the prescaler/timer semantics the SVD describes
    cr3 = values["SEMC_SDRAMCR3_VALUE"]
    prescale, rt, ut = (_field(svd, "SDRAMCR3", f, cr3) for f in ("PRESCALE", "RT", "UT"))
    rows_per_refresh = _field(svd, "SDRAMCR3", "REBL", cr3) + 1
    extra = 1 if "+1" in _enum_text(svd, "SDRAMCR3", "PRESCALE", 1).replace(" ", "") else 0
    if extra != facts[f"{prefix}_semc_prescale_extra_cycle"]:
        problems.append(f"{prefix}_semc_prescale_extra_cycle disagrees with the SVD's PRESCALE description")
    periods = rt + (1 if "(RT+1)" in _enum_text(svd, "SDRAMCR3", "RT", 1).replace(" ", "") else 0)
    interval_ps = periods * (prescale * 16 + extra) * tck_ps
    row_ps = Fraction(facts["sdram_refresh_ms"] * 10**9, facts[f"{prefix}_sdram_refresh_rows"]) * rows_per_refresh
    if not 0 < interval_ps <= row_ps:
        problems.append(f"refresh every {float(interval_ps) / 1000:.0f} ns, the part needs <= {float(row_ps) / 1000:.0f} ns")
    if not rt <= ut:
        problems.append(f"urgent refresh threshold {ut} below the refresh timer {rt}")
    # the window: base, size as the SVD names it, valid
    region = get_board(board).region("sdram")
    br0 = values["SEMC_BR0_VALUE"]
    if _field(svd, "BR0", "BA", br0) << 12 != region.base or not _field(svd, "BR0", "VLD", br0):
        problems.append(f"BR0 {br0:#x} does not decode {region.base:#x}")
    size = _enum_text(svd, "BR0", "MS", _field(svd, "BR0", "MS", br0))
    if size != f"{region.size >> 20}MB":
        problems.append(f"BR0.MS is {size}, the region is {region.size >> 20} MiB")
    # the mode register: burst length and CAS latency as SDRAMCR0 has them (JEDEC A2:A0, A6:A4)
    cr0 = values["SEMC_SDRAMCR0_VALUE"]
    mode = values["SEMC_MODE_VALUE"]
    if mode != _field(svd, "SDRAMCR0", "BL", cr0) | _field(svd, "SDRAMCR0", "CL", cr0) << facts["sdram_mode_cas_shift"]:
        problems.append(f"mode register {mode:#x} does not match SDRAMCR0 {cr0:#x}")
    return problems


@needs_cc
@pytest.mark.parametrize("board", sorted(RT))
def test_semc_sdram_values(tmp_path, board):
    device, prefix, _ = RT[board]
    svd = _svd.load_svd(device, frozenset({"SEMC"}))
    if svd is None:
        pytest.skip("pyOCD's SVD files are not installed")
    values = _semc_values(tmp_path, board)
    facts = _facts("imxrt")
    div = 2 if board == "rt1050" else facts["rt1170_semc_root_div"]
    pll = facts[f"{prefix}_sys_pll{'2' if board == 'rt1170' else ''}_hz"]
    frac = facts["rt1050_semc_pfd2_frac" if board == "rt1050" else "rt1170_semc_pfd1_frac"]
    assert values["SEMC_CLOCK_HZ"] == pll * facts["pfd_multiplier"] // frac // div
    note = get_board(board).region("sdram").note
    mhz = float(re.search(r"SEMC clock ([\d.]+) MHz", note).group(1))
    assert abs(mhz - values["SEMC_CLOCK_HZ"] / 1e6) < 0.1, f"boards.yaml says {mhz} MHz"
    assert semc_problems(board, values, svd) == []


@needs_cc
def test_semc_check_catches_a_short_timing(tmp_path):
    """tRAS one cycle short, a refresh timer one period too long and a wrong size each fail."""
    svd = _svd.load_svd("MIMXRT1176_cm7", frozenset({"SEMC"}))
    if svd is None:
        pytest.skip("pyOCD's SVD files are not installed")
    values = _semc_values(tmp_path, "rt1170")
    bad = dict(values, SEMC_SDRAMCR1_VALUE=values["SEMC_SDRAMCR1_VALUE"] - (1 << 20))
    assert any("ACT2PRE" in p and "sdram_tras_ns" in p for p in semc_problems("rt1170", bad, svd))
    bad = dict(values, SEMC_SDRAMCR3_VALUE=values["SEMC_SDRAMCR3_VALUE"] + (1 << 16) + (1 << 24))
    assert any(p.startswith("refresh every") for p in semc_problems("rt1170", bad, svd))
    bad = dict(values, SEMC_BR0_VALUE=values["SEMC_BR0_VALUE"] - (1 << 1))
    assert any("BR0.MS is 32MB" in p for p in semc_problems("rt1170", bad, svd))


@pytest.mark.parametrize("board", sorted(RT))
def test_semc_pins_are_the_semc_pads(board):
    """Every pad the set-up muxes is a SEMC pad at ALT0 in the SVD, the DQS one the DQS pad."""
    device, _, header = RT[board]
    defs = _svd.all_defines(header, device)
    svd = _svd.load_svd(device, frozenset({"IOMUXC"}))
    if svd is None:
        pytest.skip("pyOCD's SVD files are not installed")
    by_address = {r.address: (name, r) for (p, name), r in svd.registers.items() if p == "IOMUXC"}
    groups = [("IOMUXC_MUX_EMC", "IOMUXC_PAD_EMC", "SEMC_PIN_COUNT")]
    if "IOMUXC_MUX_EMC_B2" in defs:
        groups.append(("IOMUXC_MUX_EMC_B2", "IOMUXC_PAD_EMC_B2", "SEMC_PIN_COUNT_B2"))
    dqs = _svd.evaluate(defs, "SEMC_PIN_DQS")
    seen = []
    for mux, pad, count in groups:
        for n in range(_svd.evaluate(defs, count)):
            mux_name, mux_reg = by_address[_svd.evaluate(defs, defs[mux].body, {"n": n})]
            pad_name, _ = by_address[_svd.evaluate(defs, defs[pad].body, {"n": n})]
            pin = mux_name.removeprefix("SW_MUX_CTL_PAD_")
            assert pad_name == f"SW_PAD_CTL_PAD_{pin}", (mux_name, pad_name)
            alt0 = next(desc for _, v, desc in mux_reg.fields["MUX_MODE"].enums if v == 0)
            assert "SEMC" in alt0.upper(), f"{pin} ALT0 is {alt0}"
            assert ("SEMC_DQS " in alt0.upper() + " ") == (mux == groups[0][0] and n == dqs), f"{pin}: {alt0}"
            seen.append(pin)
    assert len(set(seen)) == len(seen)
    if board == "rt1170":  # the SDK's pad value is pull-down, high drive
        pad = (_svd.evaluate(defs, "EMC_PAD_PULL_DOWN") << _svd.evaluate(defs, "EMC_PAD_PULL_SHIFT")) | \
            _svd.evaluate(defs, "EMC_PAD_PDRV_HIGH")
        assert pad == _svd.evaluate(defs, "IOMUXC_SEMC_PAD")


# ---- STM32H747I-DISCO FMC ----------------------------------------------------------------

def _fmc() -> tuple[dict[str, int], dict[str, int]]:
    defs = _svd.all_defines("stm32h7/stm32h7_extmem.h", "STM32H747_CM7")
    names = ["SDRAM_TMRD", "SDRAM_TXSR", "SDRAM_TRAS", "SDRAM_TRC", "SDRAM_TWR", "SDRAM_TRP", "SDRAM_TRCD"]
    return {n: _svd.evaluate(defs, n) for n in names}, _facts("stm32h7")


def fmc_problems(cycles: dict[str, int], facts: dict[str, int], sdclk_hz: int = 100_000_000) -> list[str]:
    tck_ns = Fraction(10**9, sdclk_hz)
    problems = []
    for name, key in (("SDRAM_TRAS", "tras"), ("SDRAM_TRC", "trc"), ("SDRAM_TRP", "trp"), ("SDRAM_TRCD", "trcd"),
                      ("SDRAM_TXSR", "txsr")):
        ns = facts[f"is42s32800j_{key}_ns"]
        if cycles[name] * tck_ns < ns:
            problems.append(f"{name} = {cycles[name]} cycles = {float(cycles[name] * tck_ns)} ns < t{key[1:].upper()} {ns} ns")
    for name, key in (("SDRAM_TMRD", "tmrd"), ("SDRAM_TWR", "twr")):
        if cycles[name] < facts[f"is42s32800j_{key}_clk"]:
            problems.append(f"{name} = {cycles[name]} < {facts[f'is42s32800j_{key}_clk']} CLK")
    # ST's FMC_SDTRx TWR rules (RM0399; the SVD's TWR description)
    c = cycles
    if c["SDRAM_TWR"] < c["SDRAM_TRAS"] - c["SDRAM_TRCD"]:
        problems.append("TWR < TRAS - TRCD")
    if c["SDRAM_TWR"] < c["SDRAM_TRC"] - c["SDRAM_TRCD"] - c["SDRAM_TRP"]:
        problems.append("TWR < TRC - TRCD - TRP")
    return problems


def test_fmc_sdram_timings():
    cycles, facts = _fmc()
    assert fmc_problems(cycles, facts) == []
    # ST's BSP values fail: tRAS 4 is 40 ns, and TWR 2 breaks the TRC rule
    bsp = dict(cycles, SDRAM_TRAS=4, SDRAM_TWR=2)
    assert fmc_problems(bsp, facts) == ["SDRAM_TRAS = 4 cycles = 40.0 ns < tRAS 42 ns", "TWR < TRC - TRCD - TRP"]


@needs_cc
def test_fmc_refresh_count_for_the_clock_in_effect(tmp_path):
    """The refresh count is computed for the SDCLK in effect: 32 MHz when the board stays on HSI
    (HCLK3 64 MHz), 100 MHz after the clock switch; both refresh every row in time. The BSP's
    fixed 0x603 at 32 MHz would refresh about 3x too slowly."""
    facts = _facts("stm32h7")
    (tmp_path / "mcugen_board_config.h").write_text(board_config_header(get_board("stm32h747i-disco")))
    clocks = {"hsi": 64_000_000, "pll": 200_000_000}
    values = _host_print(tmp_path, ["mcugen_board_config.h", "stm32h7_extmem.h"],
                         [tmp_path, _svd.BOARDS_DIR / "stm32h7", _svd.BOARDS_DIR / "common"], "",
                         {k: f"sdram_refresh_count({hz // 2 // 1000}u)" for k, hz in clocks.items()})
    count_field = _svd_facts.load_facts("STM32H747_CM7").register("FMC", "SDRTR").fields["COUNT"]
    row_ns = Fraction(facts["is42s32800j_refresh_ms"] * 10**6, facts["is42s32800j_refresh_rows"])
    margin = facts["fmc_refresh_margin"]

    def interval_ns(count: int, hclk3: int) -> Fraction:
        return (count + margin) * Fraction(10**9, hclk3 // 2)

    for k, hclk3 in clocks.items():
        count = values[k]
        assert 41 <= count < 1 << count_field.width, (k, count)  # the SVD: at least 41
        assert interval_ns(count, hclk3) <= row_ns, (k, count)
        assert interval_ns(count, hclk3) > row_ns * Fraction(98, 100), (k, count)  # not needlessly often
    assert values["pll"] == facts["sdram_refresh_count"]
    assert interval_ns(facts["sdram_refresh_count"], clocks["hsi"]) > 3 * row_ns


def test_h747_sdram_set_up_after_the_clock_switch():
    """BSP order: SystemClock_Config, then BSP_SDRAM_Init. board_early_init() sets the clocks up
    first and hands the SDRAM set-up the HCLK3 it reads back."""
    body = re.search(r"void board_early_init\(void\)\n\{(.*?)\n\}", (_svd.BOARDS_DIR / "stm32h7" / "board.c").read_text(),
                     re.S).group(1)
    assert body.index("clock_init();") < body.index("stm32h7_sdram_init(hclk_hz())")
    assert body.index("power_init();") < body.index("clock_init();")
