"""boards.yaml: the shipped database validates; bad files fail with the entry named."""

from __future__ import annotations

import copy

import pytest
import yaml

from mcugen.boards import all_boards, get_board, load_boards
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
    with pytest.raises(BoardError, match="does not set up its sdram controller"):
        firmware_bundle("rt1170", FirmwareOptions(placement={"arena": "sdram"}))
    with pytest.raises(BoardError, match="code"):
        firmware_bundle("stm32h747i-disco", FirmwareOptions(placement={"code": "qspi"}))


@pytest.mark.slow
def test_h747_build_with_arena_in_sdram_and_weights_in_qspi(tmp_path):
    import struct
    import sys
    from pathlib import Path

    from elftools.elf.elffile import ELFFile

    sys.path.insert(0, str(Path(__file__).parent))
    from _echo_project import make_echo_project
    from mcugen.build import build_project

    make_echo_project(tmp_path, "stm32h747i-disco", n0=300, placement={"arena": "sdram", "weights": "qspi"})
    r = build_project(tmp_path, jobs=2)
    assert r.usage.regions["sdram"].sections[".nn_arena"] >= 600
    assert r.usage.regions["qspi"].sections[".nn_weights"] > 0
    assert r.bin.stat().st_size < (2 << 20)  # bank 1 + the CM4 parking image, no QSPI
    with open(r.elf, "rb") as f:
        elf = ELFFile(f)
        sec = elf.get_section_by_name(".cm4_park")
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name("mcugen_cm4_park")[0]["st_value"]
        sp, reset = struct.unpack_from("<II", sec.data(), 0)
    assert sec["sh_addr"] == 0x08100000 and sp == 0x38010000 and reset == sym | 1
