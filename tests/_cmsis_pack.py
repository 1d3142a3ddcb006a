"""A small but valid CMSIS Device Family Pack, built for tests: a .pdsc written here
for one device, a flash algorithm (.FLM: an Arm ELF with PrgCode/DevDscr sections,
the FlashDevice description and the Init/UnInit/EraseSector/ProgramPage entry points)
compiled with arm-none-eabi-gcc, zipped as a .pack. pyOCD's real pack parser reads
it; the algorithm's functions do nothing (no flash is ever programmed with it).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

FLM_SOURCE = r"""
struct FlashSectors { unsigned long szSector; unsigned long AddrSector; };
struct FlashDevice {
    unsigned short Vers; char DevName[128]; unsigned short DevType; unsigned long DevAdr; unsigned long szDev;
    unsigned long szPage; unsigned long Res; unsigned char valEmpty; unsigned long toProg; unsigned long toErase;
    struct FlashSectors sectors[2];
};
__attribute__((section("DevDscr"), used)) const struct FlashDevice FlashDevice = {
    0x0101, "mcugen test algorithm", 1 /* on-chip */, FLASH_START, FLASH_SIZE, 1024, 0, 0xFF, 100, 6000,
    {{SECTOR_SIZE, 0x0}, {0xFFFFFFFF, 0xFFFFFFFF}}};
int Init(unsigned long adr, unsigned long clk, unsigned long fnc) { (void)adr; (void)clk; (void)fnc; return 0; }
int UnInit(unsigned long fnc) { (void)fnc; return 0; }
int EraseSector(unsigned long adr) { (void)adr; return 0; }
int ProgramPage(unsigned long adr, unsigned long sz, unsigned char *buf) { (void)adr; (void)sz; (void)buf; return 0; }
"""

FLM_LINKER_SCRIPT = """
SECTIONS {
  PrgCode 0x0 : { *(.text .text.*) *(.rodata .rodata.*) }
  PrgData : { *(.data .data.*) *(.bss .bss.*) }
  DevDscr : { KEEP(*(DevDscr)) }
}
"""

ALGO_PATH = "CMSIS/Flash/STM32H7x_2048.FLM"


def build_flm(out: Path, start: int = 0x08000000, size: int = 0x00200000, sector: int = 0x20000) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    src, script = out.with_suffix(".c"), out.with_suffix(".ld")
    src.write_text(FLM_SOURCE)
    script.write_text(FLM_LINKER_SCRIPT)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb", "-Os", "-ffreestanding", "-nostdlib",
                    f"-DFLASH_START={start:#x}", f"-DFLASH_SIZE={size:#x}", f"-DSECTOR_SIZE={sector:#x}",
                    f"-Wl,-T,{script}", "-o", str(out), str(src)], check=True, capture_output=True)
    return out


def pdsc(device: str = "STM32H743ZITx", algorithm: str | None = ALGO_PATH, flash_size: int = 0x00200000) -> str:
    algo = (f'<algorithm name="{algorithm}" start="0x08000000" size="{flash_size:#010x}" RAMstart="0x20000000" '
            'RAMsize="0x00020000" default="1"/>') if algorithm else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<package schemaVersion="1.7.7" xmlns:xs="http://www.w3.org/2001/XMLSchema-instance" xs:noNamespaceSchemaLocation="PACK.xsd">
  <vendor>Keil</vendor>
  <name>STM32H7xx_DFP</name>
  <description>mcugen test pack: one device</description>
  <url>https://www.keil.com/pack/</url>
  <releases><release version="9.9.9">test</release></releases>
  <devices>
    <family Dfamily="STM32H7 Series" Dvendor="STMicroelectronics:13">
      <processor Dcore="Cortex-M7" DcoreVersion="r1p1" Dfpu="DP_FPU" Dmpu="MPU" Ddsp="DSP" Dendian="Little-endian" Dclock="480000000"/>
      <subFamily DsubFamily="STM32H743">
        <device Dname="{device}">
          <memory name="Flash" access="rx" start="0x08000000" size="{flash_size:#010x}" startup="1" default="1"/>
          <memory name="DTCM" access="rwx" start="0x20000000" size="0x00020000" default="1"/>
          <memory name="AXI-SRAM" access="rwx" start="0x24000000" size="0x00080000"/>
          {algo}
        </device>
      </subFamily>
    </family>
  </devices>
</package>
"""


def build_pack(out: Path, flm: Path | None, pdsc_text: str | None = None, pdsc_name: str = "Keil.STM32H7xx_DFP.pdsc") -> Path:
    """Zips a .pdsc (default: pdsc()) and the flash algorithm into `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if pdsc_name:
            z.writestr(pdsc_name, pdsc_text if pdsc_text is not None else pdsc())
        if flm is not None:
            z.write(flm, ALGO_PATH)
    return out
