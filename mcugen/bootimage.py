"""i.MX RT FlexSPI boot header: the FlexSPI configuration block (FCB).

The boot ROM reads the FCB from the start of the FlexSPI NOR (offset 0x0 on the
RT1050, 0x400 on the RT1170; boards.yaml `extra.fcb_offset`) to learn how to
read the flash, then the image vector table (IVT) at 0x1000. The IVT and boot
data are C (firmware/boards/imxrt/boot_header.c) so the linker fills in the
entry point; the FCB is plain data and is built here.

Layout of the 512-byte serial NOR configuration block: IMXRT1050RM Rev 5
section 8.6.3 "FlexSPI NOR configuration block" (tables 8-18/8-19);
IMXRT1170RM Rev 2 section 10.5.1.5; the field offsets match NXP's public SDK
header `flexspi_nor_config.h` (FlexSPIConfig 448 bytes + NOR fields to 512).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from mcugen.errors import BoardError

FCB_SIZE = 512
FCB_TAG = 0x42464346          # "FCFB" read as a little-endian u32 (bytes 46 43 46 42)
FCB_VERSION = 0x56010400      # 'V' 1.4.0
IVT_HEADER = 0x412000D1       # tag 0xD1, length 0x0020 (big-endian), version 0x41 -> bytes D1 00 20 41
IVT_SIZE = 0x20
BOOT_DATA_SIZE = 0x10

# LUT instruction opcodes and pad counts (IMXRT1050RM 27.7.8 "Programmable Sequence Engine")
LUT_STOP = 0x00
LUT_CMD_SDR, LUT_CMD_DDR = 0x01, 0x21
LUT_RADDR_SDR, LUT_RADDR_DDR = 0x02, 0x22
LUT_CADDR_SDR, LUT_CADDR_DDR = 0x03, 0x23
LUT_WRITE_SDR = 0x08
LUT_READ_SDR, LUT_READ_DDR = 0x09, 0x29
LUT_DUMMY_SDR, LUT_DUMMY_DDR = 0x0C, 0x2C
PADS_1, PADS_2, PADS_4, PADS_8 = 0, 1, 2, 3

# controllerMiscOption bits
MISC_DIFF_CLK = 1 << 0
MISC_WORD_ADDRESSABLE = 1 << 3
MISC_SAFE_CONFIG_FREQ = 1 << 4
MISC_DDR_MODE = 1 << 6

READ_SAMPLE_LOOPBACK_DQS = 1
READ_SAMPLE_EXTERNAL_DQS = 3
DEVICE_TYPE_SERIAL_NOR = 1


def lut_seq(op0: int, pads0: int, arg0: int, op1: int = LUT_STOP, pads1: int = PADS_1, arg1: int = 0) -> int:
    """Two LUT instructions packed in one 32-bit word (opcode[15:10] pads[9:8] operand[7:0])."""
    first = (arg0 & 0xFF) | (pads0 & 0x3) << 8 | (op0 & 0x3F) << 10
    second = (arg1 & 0xFF) | (pads1 & 0x3) << 8 | (op1 & 0x3F) << 10
    return first | second << 16


@dataclass(frozen=True)
class FlexspiNorConfig:
    """The fields of the FCB that mcugen sets; everything else is zero."""

    read_sample_clk_src: int
    cs_hold_time: int
    cs_setup_time: int
    column_address_width: int
    controller_misc_option: int
    pad_type: int                # 1, 2, 4 or 8 data lines
    serial_clk_freq: int         # ROM frequency code (family specific table)
    flash_size: int              # sflashA1Size
    lookup_table: dict[int, int] = field(default_factory=dict)  # LUT word index -> word
    data_valid_time: tuple[int, int] = (0, 0)
    page_size: int = 256
    sector_size: int = 4096
    block_size: int = 65536
    ipcmd_serial_clk_freq: int = 0
    uniform_block_size: bool = False

    def to_bytes(self) -> bytes:
        b = bytearray(FCB_SIZE)
        struct.pack_into("<II", b, 0x000, FCB_TAG, FCB_VERSION)
        struct.pack_into("<BBBB", b, 0x00C, self.read_sample_clk_src, self.cs_hold_time,
                         self.cs_setup_time, self.column_address_width)
        struct.pack_into("<I", b, 0x040, self.controller_misc_option)
        struct.pack_into("<BBB", b, 0x044, DEVICE_TYPE_SERIAL_NOR, self.pad_type, self.serial_clk_freq)
        struct.pack_into("<I", b, 0x050, self.flash_size)
        struct.pack_into("<HH", b, 0x078, *self.data_valid_time)
        for index, word in self.lookup_table.items():
            if not 0 <= index < 64:
                raise ValueError(f"LUT index {index} out of range")
            struct.pack_into("<I", b, 0x080 + 4 * index, word)
        struct.pack_into("<II", b, 0x1C0, self.page_size, self.sector_size)
        struct.pack_into("<BB", b, 0x1C8, self.ipcmd_serial_clk_freq, int(self.uniform_block_size))
        struct.pack_into("<I", b, 0x1D0, self.block_size)
        return bytes(b)


def _hyperflash_rt1050() -> FlexspiNorConfig:
    """MIMXRT1050-EVKB: S26KS512S HyperFlash, 64 MiB, 1.8 V, DDR x8 with DQS.
    Read sequence: CMD 0xA0 (read, memory space), 24-bit row address, 16-bit
    column address, 6 dummy clocks (RWDS latency), read."""
    return FlexspiNorConfig(
        read_sample_clk_src=READ_SAMPLE_EXTERNAL_DQS,
        cs_hold_time=3,
        cs_setup_time=3,
        column_address_width=3,          # HyperBus: fixed to 3
        controller_misc_option=MISC_DDR_MODE | MISC_WORD_ADDRESSABLE | MISC_SAFE_CONFIG_FREQ | MISC_DIFF_CLK,
        pad_type=8,
        serial_clk_freq=7,               # RT1050 ROM code 7 = 133 MHz
        flash_size=64 * 1024 * 1024,
        data_valid_time=(16, 16),        # 1.6 ns, in units of 0.1 ns
        lookup_table={
            0: lut_seq(LUT_CMD_DDR, PADS_8, 0xA0, LUT_RADDR_DDR, PADS_8, 0x18),
            1: lut_seq(LUT_CADDR_DDR, PADS_8, 0x10, LUT_DUMMY_DDR, PADS_8, 0x06),
            2: lut_seq(LUT_READ_DDR, PADS_8, 0x04, LUT_STOP, PADS_1, 0x00),
        },
        page_size=512,
        sector_size=256 * 1024,
        block_size=256 * 1024,
        uniform_block_size=True,
    )


def _qspi_nor_rt1170() -> FlexspiNorConfig:
    """MIMXRT1170-EVK: IS25WP128 Quad-SPI NOR, 16 MiB. Fast read quad I/O
    (0xEB): 24-bit address on 4 lines, 6 dummy cycles, read on 4 lines."""
    return FlexspiNorConfig(
        read_sample_clk_src=READ_SAMPLE_LOOPBACK_DQS,
        cs_hold_time=3,
        cs_setup_time=3,
        column_address_width=0,
        controller_misc_option=MISC_SAFE_CONFIG_FREQ,
        pad_type=4,
        serial_clk_freq=7,               # RT1170 ROM code 7 = 133 MHz
        flash_size=16 * 1024 * 1024,
        lookup_table={
            0: lut_seq(LUT_CMD_SDR, PADS_1, 0xEB, LUT_RADDR_SDR, PADS_4, 0x18),
            1: lut_seq(LUT_DUMMY_SDR, PADS_4, 0x06, LUT_READ_SDR, PADS_4, 0x04),
            4 * 1: lut_seq(LUT_CMD_SDR, PADS_1, 0x05, LUT_READ_SDR, PADS_1, 0x04),   # read status
            4 * 3: lut_seq(LUT_CMD_SDR, PADS_1, 0x06),                              # write enable
        },
        page_size=256,
        sector_size=4 * 1024,
        block_size=64 * 1024,
        ipcmd_serial_clk_freq=1,
        uniform_block_size=False,
    )


FLASH_DEVICES = {"hyperflash": _hyperflash_rt1050, "qspi_nor": _qspi_nor_rt1170}


def fcb_for(flash_device: str) -> FlexspiNorConfig:
    try:
        return FLASH_DEVICES[flash_device]()
    except KeyError:
        raise BoardError(
            f"No FlexSPI configuration block for flash device '{flash_device}'.",
            hint=f"boards.yaml extra.flash_device must be one of: {', '.join(sorted(FLASH_DEVICES))}.",
        ) from None


def fcb_c_source(flash_device: str) -> str:
    """C source placing the FCB in section .boot_hdr.conf."""
    data = fcb_for(flash_device).to_bytes()
    rows = []
    for i in range(0, len(data), 16):
        rows.append("    " + ", ".join(f"0x{x:02X}" for x in data[i:i + 16]) + ",")
    body = "\n".join(rows)
    return (
        "/* FlexSPI NOR configuration block for the boot ROM ("
        f"{flash_device}); generated by mcugen.bootimage. */\n"
        "#include <stdint.h>\n\n"
        '__attribute__((section(".boot_hdr.conf"), used))\n'
        f"const uint8_t mcugen_flexspi_fcb[{len(data)}] = {{\n{body}\n}};\n"
    )
