"""boards.yaml: the shipped database validates; bad files fail with the entry named."""

from __future__ import annotations

import copy
import re
import struct
import subprocess
from pathlib import Path

import pytest
import yaml

from _echo_project import make_echo_project
from mcugen.boards import all_boards, get_board, load_boards
from mcugen.build import build_project
from mcugen.errors import BoardError
from mcugen.resources import boards_file


def test_required_boards_and_aliases():
    names = {b.name for b in all_boards()}
    assert {"nucleo-h743zi2", "stm32h747i-disco", "mimxrt1050-evkb", "mimxrt1170-evk", "qemu-m7", "host"} <= names
    assert get_board("stm32h7").name == "nucleo-h743zi2"
    assert get_board("rt1050").name == "mimxrt1050-evkb"
    assert get_board("rt1170").name == "mimxrt1170-evk"


def test_board_facts():
    h7 = get_board("stm32h7")
    assert h7.region("flash").base == 0x08000000 and h7.region("flash").size == 2 * 1024 * 1024
    assert h7.region("axisram").base == 0x24000000 and h7.region("axisram").size == 512 * 1024
    assert h7.region("dtcm").size == 128 * 1024
    assert h7.uart.name == "USART3" and h7.uart.base == 0x40004800
    assert h7.flash.pyocd_target == "stm32h743zitx"
    rt1050 = get_board("rt1050")
    assert rt1050.region("flexspi").base == 0x60000000
    assert rt1050.extra["fcb_offset"] == 0 and rt1050.extra["ivt_offset"] == 0x1000
    rt1170 = get_board("rt1170")
    assert rt1170.region("flexspi").base == 0x30000000 and rt1170.extra["fcb_offset"] == 0x400
    qemu = get_board("qemu-m7")
    assert qemu.timing == "instructions" and qemu.flash.qemu_machine == "mps2-an500"
    assert qemu.uart.base == 0x40004000
    for b in all_boards():
        if not b.is_host:
            assert b.core == "cortex-m7" and b.fpu == "fpv5-d16"
            assert "-mcpu=cortex-m7" in b.cpu_flags()
            for r in b.regions:
                assert r.source, f"{b.name}.{r.name} needs its source document"


def test_unknown_target_lists_known():
    with pytest.raises(BoardError) as err:
        get_board("stm32f4")
    assert "stm32f4" in err.value.message
    assert "nucleo-h743zi2 (stm32h7)" in err.value.hint and "qemu-m7" in err.value.hint


def _write(tmp_path, doc):
    path = tmp_path / "boards.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return path


@pytest.fixture
def good_doc():
    return yaml.safe_load(boards_file().read_text())


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["boards"]["qemu-m7"].pop("core"), "qemu-m7.core"),
        (lambda d: d["boards"]["qemu-m7"]["regions"][0].update(kind="rom"), "not one of flash, ram"),
        (lambda d: d["boards"]["qemu-m7"]["regions"][0].pop("speed"), "speed"),
        (lambda d: d["boards"]["mimxrt1050-evkb"]["regions"][4].update(init="none"), "external memory needs an init"),
        (lambda d: d["boards"]["stm32h747i-disco"]["placement"].update(arena="sdram"), "needs init sdram"),
        (lambda d: d["boards"]["qemu-m7"]["regions"][0].update(size="big"), "expected an integer"),
        (lambda d: d["boards"]["qemu-m7"]["regions"][1].update(base=0x100), "overlap"),
        (lambda d: d["boards"]["qemu-m7"]["placement"].update(arena="nowhere"), "no region named 'nowhere'"),
        (lambda d: d["boards"]["stm32h7" if False else "nucleo-h743zi2"]["placement"].update(arena="flash"),
         "not ram"),
        (lambda d: d["boards"]["qemu-m7"].update(colour="red"), "unknown key"),
        (lambda d: d["boards"]["mimxrt1050-evkb"]["flash"].pop("pyocd_target"), "needs pyocd_target"),
        (lambda d: d["boards"]["qemu-m7"].update(aliases=["stm32h7"]), "also used by"),
        (lambda d: d.update(schema=2), "schema"),
        (lambda d: d["boards"]["qemu-m7"].update(fpu="fpv9"), "fpu"),
        (lambda d: d["boards"]["mimxrt1050-evkb"]["flash"].pop("jlink_device"), "runner jlink needs jlink_device"),
        (lambda d: d["boards"]["mimxrt1170-evk"]["flash"].pop("linkserver_device"),
         "runner linkserver needs linkserver_device"),
        (lambda d: d["boards"]["nucleo-h743zi2"].pop("probe"), "nucleo-h743zi2.probe: a board flashed through"),
        (lambda d: d["boards"]["nucleo-h743zi2"]["probe"].update(firmware=["stlink", "ulink"]),
         "probe.firmware: expected a non-empty list of stlink, daplink, mcu-link, jlink"),
        (lambda d: d["boards"]["nucleo-h743zi2"]["probe"].pop("source"), "probe.source"),
        (lambda d: d["boards"]["nucleo-h743zi2"]["flash"].update(external_loader="X.stldr"),
         "an external loader needs a region with init qspi"),
        (lambda d: d["boards"]["nucleo-h743zi2"]["flash"].update(cmsis_pack="STM32H7xx_DFP"), "expected Vendor.Name"),
        (lambda d: d["boards"]["nucleo-h743zi2"]["uart"].update(baud=0), "a baud rate must be greater than 0"),
    ],
)
def test_bad_board_files(tmp_path, good_doc, mutate, message):
    doc = copy.deepcopy(good_doc)
    mutate(doc)
    with pytest.raises(BoardError, match=message):
        load_boards(_write(tmp_path, doc))


def test_not_yaml(tmp_path):
    with pytest.raises(BoardError, match="not valid YAML"):
        load_boards(_write(tmp_path, "boards: [unclosed"))
    with pytest.raises(BoardError, match="Cannot read"):
        load_boards(tmp_path / "missing.yaml")


def test_regions_have_speed_classes_and_external_memory():
    h747 = get_board("stm32h747i-disco")
    sdram, qspi = h747.region("sdram"), h747.region("qspi")
    assert (sdram.kind, sdram.external, sdram.init, sdram.speed) == ("ram", True, "sdram", "slow")
    assert (qspi.kind, qspi.init, qspi.base, qspi.size) == ("flash", "qspi", 0x90000000, 128 << 20)
    assert h747.region("dtcm").speed_rank < h747.region("axisram").speed_rank < sdram.speed_rank
    assert h747.clock_hz == 400_000_000 and h747.extra["cm4_park_region"] == "flash_cm4"
    assert get_board("rt1170").region("sdram").size == 64 << 20 and get_board("rt1050").region("sdram").size == 32 << 20
    assert get_board("rt1170").region("flexspi").init == "boot_rom"


def test_external_memory_placement_and_init_defines():
    from mcugen.firmware import FirmwareOptions, firmware_bundle

    b = firmware_bundle("stm32h747i-disco", FirmwareOptions(placement={"arena": "sdram", "weights": "qspi"}))
    assert b.defines["MCUGEN_INIT_SDRAM"] == "1" and b.defines["MCUGEN_INIT_QSPI"] == "1"
    assert "--remove-section=.nn_weights" in b.bin_flags  # QSPI at 0x90000000 stays out of the .bin
    ld = b.files["firmware/generated/linker.ld"]
    assert "} > sdram" in ld and "} > qspi" in ld and "KEEP(*(.cm4_park.vectors))" in ld
    plain = firmware_bundle("stm32h747i-disco")
    assert not any(k.startswith("MCUGEN_INIT_") for k in plain.defines) and plain.bin_flags == ()
    with pytest.raises(BoardError, match="code"):
        firmware_bundle("stm32h747i-disco", FirmwareOptions(placement={"code": "qspi"}))


@pytest.mark.parametrize("board, size_log2", [("rt1050", 25), ("rt1170", 26)])
def test_rt_sdram_placement_sets_up_the_semc(board, size_log2):
    from mcugen.firmware import FirmwareOptions, firmware_bundle

    b = firmware_bundle(board, FirmwareOptions(placement={"arena": "sdram", "weights": "sdram"}))
    assert b.defines["MCUGEN_INIT_SDRAM"] == "1"
    assert "firmware/boards/imxrt/imxrt_semc.h" in b.files
    config = b.files["firmware/generated/mcugen_board_config.h"]
    assert "#define MCUGEN_SDRAM_BASE 0x80000000u" in config and f"#define MCUGEN_SDRAM_SIZE_LOG2 {size_log2}u" in config
    ld = b.files["firmware/generated/linker.ld"]
    assert "LONG(LOADADDR(.nn_weights))" in ld and "} > sdram AT> flexspi" in ld  # weights copied at reset
    assert not any(k.startswith("MCUGEN_INIT_") for k in firmware_bundle(board).defines)


def test_a_family_without_the_controller_still_refuses(monkeypatch):
    from mcugen import firmware, memory_map

    monkeypatch.setitem(memory_map.FAMILY_INITS, "imxrt", set())
    with pytest.raises(BoardError, match="does not set up its sdram controller"):
        firmware.firmware_bundle("rt1170", firmware.FirmwareOptions(placement={"arena": "sdram"}))


def _early_calls(elf: Path, root: str = "board_early_init") -> dict[str, int]:
    """The functions board_early_init() reaches through branches (arm-none-eabi-objdump), with
    their addresses: all of them run before the copy tables, so none may live in RAM."""
    out = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    funcs: dict[str, tuple[int, list[int]]] = {}
    current = None
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]{8}) <([^>]+)>:$", line)
        if m:
            current = m.group(2)
            funcs[current] = (int(m.group(1), 16), [])
            continue
        m = re.match(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{4} ?){1,2}\s+(?:b[a-z]*(?:\.[nw])?|cbn?z)\s+(?:r\d+, )?([0-9a-f]+) <", line)
        if m and current:
            funcs[current][1].append(int(m.group(1), 16))
    starts = sorted((addr, name) for name, (addr, _) in funcs.items())

    def owner(addr: int) -> str:
        return [name for start, name in starts if start <= addr][-1]

    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [owner(t) for t in funcs[name][1]]
    return {name: funcs[name][0] for name in seen}


def _check_early_code_in_boot_region(elf: Path, board: str, boot_region: str) -> dict[str, int]:
    region = get_board(board).region(boot_region)
    calls = _early_calls(elf)
    # a linker veneer (__x_veneer) means x is out of branch range: in another region
    outside = {n: hex(a) for n, a in calls.items() if not region.base <= a < region.end or n.endswith("_veneer")}
    assert not outside, f"board_early_init() reaches code outside {boot_region}: {outside}"
    return calls


@pytest.mark.slow
def test_h747_build_with_arena_in_sdram_and_weights_in_qspi(tmp_path):
    from elftools.elf.elffile import ELFFile

    make_echo_project(tmp_path, "stm32h747i-disco", n0=300, placement={"arena": "sdram", "weights": "qspi"})
    r = build_project(tmp_path, jobs=2)
    _check_early_code_in_boot_region(r.elf, "stm32h747i-disco", "flash")
    assert r.usage.regions["sdram"].sections[".nn_arena"] >= 600
    assert r.usage.regions["qspi"].sections[".nn_weights"] > 0
    assert r.bin.stat().st_size < (2 << 20)  # bank 1 + the CM4 parking image, no QSPI
    with open(r.elf, "rb") as f:
        elf = ELFFile(f)
        sec = elf.get_section_by_name(".cm4_park")
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name("mcugen_cm4_park")[0]["st_value"]
        sp, reset = struct.unpack_from("<II", sec.data(), 0)
    assert sec["sh_addr"] == 0x08100000 and sp == 0x38010000 and reset == sym | 1


@pytest.mark.slow
def test_h747_build_with_code_in_itcm_keeps_the_sdram_set_up_in_flash(tmp_path):
    """Code in ITCM is copied there after board_early_init(): the clock, FMC and QUADSPI set-up
    it calls must stay in flash. At -O0 nothing is inlined, so every helper is checked."""
    make_echo_project(tmp_path, "stm32h747i-disco", n0=300, opt_level="-O0",
                      placement={"arena": "sdram", "weights": "qspi", "code": "itcm"})
    r = build_project(tmp_path, jobs=2)
    assert r.usage.regions["itcm"].sections[".text"] > 500
    calls = _check_early_code_in_boot_region(r.elf, "stm32h747i-disco", "flash")
    assert {"clock_init", "stm32h7_sdram_init", "stm32h7_qspi_init", "sdram_refresh_count"} <= set(calls)


@pytest.mark.slow
@pytest.mark.parametrize("board, placement, opt", [
    ("rt1050", {"arena": "sdram"}, "-O2"),                                     # weights in HyperFlash (XIP)
    ("rt1050", {"arena": "sdram", "weights": "sdram", "code": "itcm"}, "-O0"),
    ("rt1170", {"arena": "sdram", "weights": "sdram"}, "-O2"),                 # weights copied from QSPI NOR
    ("rt1170", {"arena": "sdram", "code": "itcm"}, "-O0"),
], ids=["rt1050-arena", "rt1050-weights-itcm-O0", "rt1170-arena-weights", "rt1170-arena-itcm-O0"])
def test_rt_build_with_sdram(tmp_path, board, placement, opt):
    """--place arena=sdram (and weights=sdram) link on the RT boards, with the SEMC set-up in the
    boot flash, reached from board_early_init() (at -O0 every helper), and a boot image the ROM
    accepts."""
    make_echo_project(tmp_path, board, n0=300, placement=placement, opt_level=opt)
    r = build_project(tmp_path, jobs=2)
    b = get_board(board)
    assert r.usage.regions["sdram"].sections[".nn_arena"] >= 600
    if placement.get("weights") == "sdram":
        assert r.usage.regions["sdram"].sections[".nn_weights"] > 0
        assert r.usage.regions["flexspi"].sections[".nn_weights (load)"] > 0
    else:
        assert r.usage.regions["flexspi"].sections[".nn_weights"] > 0
    calls = _check_early_code_in_boot_region(r.elf, board, "flexspi")
    assert "imxrt_sdram_init" in calls
    if opt == "-O0":
        assert {"clock_init", "semc_clock_init", "semc_pins_init", "semc_command"} <= set(calls)
    image = r.bin.read_bytes()
    ivt = b.extra["ivt_offset"]
    assert image[ivt:ivt + 4] == bytes([0xD1, 0x00, 0x20, 0x41])
    start, size, _ = struct.unpack_from("<3I", image, ivt + 0x20)
    assert start == b.extra["flash_base"] and size == len(image) < b.region("flexspi").size


@pytest.mark.slow
@pytest.mark.parametrize("board, places", [
    ("rt1050", ["arena=sdram"]),                       # weights stay in HyperFlash
    ("rt1170", ["arena=sdram", "weights=sdram"]),
])
def test_cli_generate_and_build_with_the_arena_in_sdram(tmp_path, models_dir, board, places):
    """As a user runs it: `mcugen generate --place arena=sdram` then `mcugen build` on the RT boards."""
    import json
    import sys

    def mcugen(*args):
        return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                              timeout=900, stdin=subprocess.DEVNULL)

    out = tmp_path / "pd"
    place = [a for p in places for a in ("--place", p)]
    r = mcugen("generate", models_dir / "person_detect.tflite", "-t", board, *place, "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    gen = json.loads(r.stdout)
    r = mcugen("build", out, "--json")
    assert r.returncode == 0, r.stderr
    regions = {x["name"]: x for x in json.loads(r.stdout)["regions"]}
    assert regions["sdram"]["sections"][".nn_arena"] == gen["arena_size"] > 0
    weights = "sdram" if "weights=sdram" in places else "flexspi"
    assert regions[weights]["sections"][".nn_weights"] > 250_000
    assert "-DMCUGEN_INIT_SDRAM=1" in (out / "Makefile").read_text()


def test_probes_and_flash_tool_names():
    """The probe each board carries and the names each vendor tool knows its chip by
    (SEGGER's device list, NXP's LinkServer device:board names, ST's external loader)."""
    expected = {
        "nucleo-h743zi2": ("ST-LINK/V3E", ("stlink",), "STM32H743ZI", "", ""),
        "stm32h747i-disco": ("ST-LINK/V3E", ("stlink",), "STM32H747XI_M7", "", "MT25TL01G_STM32H747I-DISCO.stldr"),
        "mimxrt1050-evkb": ("OpenSDA", ("daplink", "jlink"), "MIMXRT1052xxxxB", "MIMXRT1052xxxxB:EVKB-IMXRT1050", ""),
        "mimxrt1170-evk": ("OpenSDA (EVK) or MCU-Link (EVKB)", ("daplink", "mcu-link", "jlink"), "MIMXRT1176xxxA_M7",
                           "MIMXRT1176xxxxx:MIMXRT1170-EVK", ""),
    }
    for name, (probe, firmware, jlink, linkserver, loader) in expected.items():
        b = get_board(name)
        assert (b.probe.name, b.probe.firmware) == (probe, firmware) and b.probe.source
        assert (b.flash.jlink_device, b.flash.linkserver_device, b.flash.external_loader) == (jlink, linkserver, loader)
        assert b.flash.source and "jlink" in b.flash.runners
        assert ("linkserver" in b.flash.runners) == bool(linkserver)
        assert ("stm32cubeprogrammer" in b.flash.runners) == (b.family == "stm32h7")
        assert b.uart.tx and b.uart.rx and b.uart.baud == 115200
    assert get_board("qemu-m7").probe is None and get_board("host").probe is None
    assert get_board("stm32h7").flash.cmsis_pack_url == "https://www.keil.arm.com/packs/stm32h7xx_dfp-keil/"
