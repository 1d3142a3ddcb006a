"""Firmware bundles, linker scripts and real arm-none-eabi-gcc builds of the
echo fake model for every board (-Wall -Wextra -Werror), i.MX RT boot images."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _echo_project import make_echo_project
from mcugen.boards import get_board
from mcugen.bootimage import FCB_TAG, FCB_VERSION, IVT_HEADER, fcb_for, lut_seq
from mcugen.build import build_project
from mcugen.errors import BoardError, FitError
from mcugen.firmware import (
    FirmwareOptions,
    Manifest,
    ManifestError,
    board_config_header,
    firmware_bundle,
    read_manifest,
    render_makefile,
)

BOARDS = ["qemu-m7", "host", "nucleo-h743zi2", "stm32h747i-disco", "rt1050", "rt1170"]


def test_bundle_is_self_contained_and_has_the_board_flags():
    b = firmware_bundle("nucleo-h743zi2")
    assert b.toolchain == "arm-none-eabi"
    for flag in ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-O2", "-ffunction-sections",
                 "-fdata-sections", "-Wall", "-Wextra"):
        assert flag in b.cflags
    assert "-Wl,--gc-sections" in b.ldflags and f"-Wl,-T,{b.linker_script}" in b.ldflags
    assert all(not p.startswith("/") and ".." not in p for p in b.files)
    assert set(b.sources) <= set(b.files)
    assert "firmware/boards/stm32h7/board.c" in b.sources
    text = render_makefile(b, app_sources=["app/main.c"])
    assert "app/main.c" in text and "/work" not in text


def test_board_config_header_comes_from_boards_yaml():
    h = board_config_header(get_board("nucleo-h743zi2"))
    assert "#define MCUGEN_UART_BASE 0x40004800u" in h
    assert "#define MCUGEN_UART_TX_PORT 3" in h and "#define MCUGEN_UART_TX_PIN 8" in h
    assert "#define MCUGEN_SUPPLY_SMPS 0" in h and "#define MCUGEN_HSE_BYPASS 1" in h
    h = board_config_header(get_board("stm32h747i-disco"))
    assert "#define MCUGEN_SUPPLY_SMPS 1" in h and "#define MCUGEN_UART_BASE 0x40011000u" in h
    assert "#define MCUGEN_UART_BASE 0x4007C000u" in board_config_header(get_board("rt1170"))
    assert "#define MCUGEN_UART_BASE 0x40184000u" in board_config_header(get_board("rt1050"))


def test_linker_script_follows_placement_and_overrides():
    ld = firmware_bundle("nucleo-h743zi2").files["firmware/generated/linker.ld"]
    assert "} > flash" in ld and "(NOLOAD)" in ld and ".nn_arena (NOLOAD) : ALIGN(16)" in ld
    assert "KEEP(*(.nn_weights .nn_weights.*))" in ld
    assert "> axisram" in ld and "AT> flash" in ld
    ld2 = firmware_bundle("nucleo-h743zi2", FirmwareOptions(placement={"weights": "axisram", "arena": "sram123"})
                          ).files["firmware/generated/linker.ld"]
    assert "LONG(LOADADDR(.nn_weights))" in ld2  # weights in RAM are copied from flash at reset
    assert "} > sram123" in ld2


@pytest.mark.parametrize("placement, match", [
    ({"arena": "flash"}, "not ram"),
    ({"stack": "sdram"}, "set-up itself runs on the stack"),
    ({"stack": "nowhere"}, "no memory region"),
    ({"heap": "dtcm"}, "Unknown placement key"),
])
def test_bad_placement(placement, match):
    with pytest.raises(BoardError, match=match):
        firmware_bundle("stm32h747i-disco", FirmwareOptions(placement=placement))


def test_manifest_roundtrip_and_errors(tmp_path):
    m = Manifest("qemu-m7", "cubeai", "m", "a" * 64, FirmwareOptions(placement={"arena": "ssram23"}))
    (tmp_path / "mcugen.json").write_text(__import__("json").dumps(m.to_dict()))
    assert read_manifest(tmp_path) == m
    (tmp_path / "mcugen.json").write_text('{"board": "qemu-m7", "model": {"name": "m", "hash": "zz"}}')
    with pytest.raises(ManifestError, match="sha256"):
        read_manifest(tmp_path)
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "nope")


def test_fcb_layout():
    fcb = fcb_for("qspi_nor").to_bytes()
    assert len(fcb) == 512
    assert struct.unpack_from("<II", fcb, 0) == (FCB_TAG, FCB_VERSION)
    assert fcb[:4] == b"FCFB"
    assert struct.unpack_from("<I", fcb, 0x80)[0] == lut_seq(0x01, 0, 0xEB, 0x02, 2, 0x18)
    assert struct.unpack_from("<I", fcb, 0x50)[0] == 16 * 1024 * 1024
    hyper = fcb_for("hyperflash").to_bytes()
    assert hyper[0x45] == 8 and hyper[0x0F] == 3  # 8 pads, column address width 3
    with pytest.raises(BoardError):
        fcb_for("emmc")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("fw")
    results = {}
    for board in BOARDS:
        make_echo_project(root / board, board, n0=300)
        results[board] = build_project(root / board, jobs=2)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
def test_echo_builds_and_fits(built, board):
    r = built[board]
    assert r.elf.is_file()
    b = get_board(board)
    for region in r.usage.regions.values():
        assert 0 <= region.used <= region.size
    if not b.is_host:
        assert r.hex is not None
        code = r.usage.regions[b.placement.code]
        assert code.sections.get(".text", 0) > 500
        arena = r.usage.regions[b.placement.arena]
        assert arena.sections[".nn_arena"] >= 300 * 2
        assert r.usage.regions[b.placement.stack].sections[".stack"] == 8192
        weights = [s for s in r.usage.sections if s.name == ".nn_weights"][0]
        assert weights.address % 16 == 0 and weights.region == b.placement.weights


def _read(elf_path: Path, address: int, n: int) -> bytes:
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_paddr"] <= address < seg["p_paddr"] + seg["p_filesz"]:
                return seg.data()[address - seg["p_paddr"]: address - seg["p_paddr"] + n]
    raise AssertionError(f"0x{address:08X} not in the image")


def _symbol(elf_path: Path, name: str) -> int:
    with open(elf_path, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"]


@pytest.mark.slow
@pytest.mark.parametrize("board", ["rt1050", "rt1170"])
def test_rt_boot_image(built, board):
    r, b = built[board], get_board(board)
    base, fcb_off, ivt_off, vec_off = (b.extra[k] for k in ("flash_base", "fcb_offset", "ivt_offset", "vector_offset"))
    image = r.bin.read_bytes()
    # FCB tag at its offset, in the ELF and in the .bin that gets flashed
    assert _read(r.elf, base + fcb_off, 4) == b"FCFB" == image[fcb_off:fcb_off + 4]
    assert image[fcb_off + 4:fcb_off + 8] == struct.pack("<I", FCB_VERSION)
    # IVT: D1 00 20 41, entry = Reset_Handler (Thumb), boot data right after, self pointer
    ivt = image[ivt_off:ivt_off + 32]
    assert ivt[:4] == bytes([0xD1, 0x00, 0x20, 0x41]) == struct.pack("<I", IVT_HEADER)
    header, entry, _, dcd, boot_data, self_ptr, csf, _ = struct.unpack("<8I", ivt)
    assert entry == _symbol(r.elf, "Reset_Handler") | 1 and entry & 1
    assert self_ptr == base + ivt_off and boot_data == base + ivt_off + 0x20 and dcd == 0 and csf == 0
    start, size, plugin = struct.unpack_from("<3I", image, ivt_off + 0x20)
    assert start == base and plugin == 0 and size == len(image)
    # vector table at 0x2000: initial SP in RAM, reset vector = Reset_Handler
    sp, reset = struct.unpack_from("<II", image, vec_off)
    assert _symbol(r.elf, "mcugen_vector_table") == base + vec_off
    assert reset == entry and any(reg.base <= sp <= reg.end for reg in b.regions if reg.kind == "ram")


@pytest.mark.slow
def test_stm32_vectors_at_flash_start(built):
    r = built["nucleo-h743zi2"]
    sp, reset = struct.unpack_from("<II", r.bin.read_bytes(), 0)
    assert 0x20000000 <= sp <= 0x20020000 and reset == _symbol(r.elf, "Reset_Handler") | 1


@pytest.mark.slow
def test_overflow_is_a_fit_error_naming_the_region(tmp_path):
    make_echo_project(tmp_path, "nucleo-h743zi2", n0=200_000)  # 2 x 200 KB arena > 128 KiB DTCM
    m = read_manifest(tmp_path)
    make_echo_project(tmp_path, m.board, n0=200_000, placement={"arena": "dtcm"})
    with pytest.raises(FitError, match=r"region 'dtcm' of 131072 bytes \(128 KiB\) overflowed by \d+ bytes") as e:
        build_project(tmp_path, jobs=2)
    assert "placement" in e.value.hint
