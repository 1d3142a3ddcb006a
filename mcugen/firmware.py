"""The firmware side of a generated project, as plain data.

`firmware_bundle(board, options)` returns what a project needs from mcugen's
firmware tree for one board: the files to copy (board support, runtime,
rendered linker script, generated headers), the C sources to compile, include
directories, defines and compiler/linker flags. `render_makefile()` turns a
bundle plus the code generator's own sources into the project's Makefile.
Projects are self-contained: every file is copied, nothing points back here.

The project manifest `mcugen.json` (written by the code generator, read by
build.py and measure) is described by `Manifest`:

    {
      "board": "qemu-m7",                      # board name or alias (boards.yaml)
      "style": "cubeai" | "tflm",
      "model": {"name": "...", "hash": "<sha256 hex of the .tflite>"},
      "firmware": {                            # FirmwareOptions, every key optional
        "placement": {"weights": "axisram"},   # overrides of the board's placement
        "stack_size": 16384,
        "opt_level": "-O2",
        "defines": {"NAME": "value"},
        "pools": ["dtcm", "axisram"]          # activation pools: section .nn_arena.<region> in each
      }
    }
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcugen.bootimage import fcb_c_source
from mcugen.boards import Board, get_board
from mcugen.errors import BoardError, McugenError
from mcugen.memory_map import bin_flags, check_pool_regions, effective_placement, init_defines, render_linker_script
from mcugen.outdir import clean_relpath
from mcugen.resources import firmware_dir, template_environment

MANIFEST_FILE = "mcugen.json"
FIRMWARE_SUBDIR = "firmware"            # where bundle files go inside a project
BUILD_DIR = "build"
ELF_NAME = "firmware.elf"
DEFAULT_STACK_SIZE = 16 * 1024
DEFAULT_OPT_LEVEL = "-O2"
# QEMU -icount shift: each instruction takes 2^shift ns of virtual time. The
# qemu runner passes the same value (mcugen/runners/qemu.py).
QEMU_ICOUNT_SHIFT = 0
ARM_TOOLCHAIN_PREFIX = "arm-none-eabi-"

RUNTIME_FILES = ("mcugen_protocol.c", "mcugen_protocol.h", "mcugen_crc32.c", "mcugen_crc32.h", "mcugen_model.h")
CORTEX_M7_FILES = ("cortex_m7.c", "cortex_m7.h", "startup_cm7.c")
FAMILY_FILES = {
    "mps2": ("board.c",),
    "stm32h7": ("board.c", "stm32h7_regs.h", "stm32h7_extmem.h"),
    "imxrt": ("board.c", "boot_header.c", "imxrt_regs.h", "imxrt1050_regs.h", "imxrt1170_regs.h", "imxrt_semc.h"),
    "host": ("board.c",),
}
TIMING_CODES = {"cycles": 0, "instructions": 1, "nanoseconds": 2}
_TIMING_NAMES = {v: k for k, v in TIMING_CODES.items()}


class ManifestError(McugenError):
    """mcugen.json is missing or malformed."""


@dataclass(frozen=True)
class FirmwareOptions:
    """Per-build choices on top of the board's defaults."""

    placement: dict[str, str] = field(default_factory=dict)   # overrides: code/weights/arena/data/stack -> region
    stack_size: int = DEFAULT_STACK_SIZE
    opt_level: str = DEFAULT_OPT_LEVEL
    defines: dict[str, str] = field(default_factory=dict)
    # Activation pools (cubeai --pools): one NOLOAD section .nn_arena.<region> placed in each region.
    pools: tuple[str, ...] = ()
    uart_baud: int = 0  # the UART's baud rate (--baud); 0: boards.yaml uart.baud

    def board_for(self, board: Board) -> Board:
        """The board as this firmware sees it (its UART at uart_baud)."""
        if not self.uart_baud or board.uart is None:
            return board
        return dataclasses.replace(board, uart=dataclasses.replace(board.uart, baud=self.uart_baud))

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> FirmwareOptions:
        raw = dict(raw or {})
        unknown = sorted(set(raw) - {"placement", "stack_size", "opt_level", "defines", "pools", "uart_baud"})
        if unknown:
            raise ManifestError(f"{MANIFEST_FILE}: unknown firmware option(s): {', '.join(unknown)}.",
                                hint="Allowed: placement, stack_size, opt_level, defines, pools, uart_baud.")
        baud = raw.get("uart_baud", 0)
        if isinstance(baud, bool) or not isinstance(baud, int) or baud < 0:
            raise ManifestError(f"{MANIFEST_FILE}: firmware.uart_baud must be a positive baud rate, got {baud!r}.")
        pools = raw.get("pools") or []
        if not isinstance(pools, list) or not all(isinstance(p, str) and re.fullmatch(r"[A-Za-z_]\w*", p)
                                                  for p in pools):
            raise ManifestError(f"{MANIFEST_FILE}: firmware.pools must be a list of memory region names.")
        placement = raw.get("placement") or {}
        if not isinstance(placement, dict):
            raise ManifestError(f"{MANIFEST_FILE}: firmware.placement must be a mapping.")
        stack = raw.get("stack_size", DEFAULT_STACK_SIZE)
        if not isinstance(stack, int) or stack <= 0 or stack % 8:
            raise ManifestError(f"{MANIFEST_FILE}: firmware.stack_size must be a positive multiple of 8, got {stack!r}.")
        return cls(
            placement={str(k): str(v) for k, v in placement.items()},
            stack_size=stack,
            opt_level=str(raw.get("opt_level", DEFAULT_OPT_LEVEL)),
            defines={str(k): str(v) for k, v in (raw.get("defines") or {}).items()},
            pools=tuple(pools),
            uart_baud=baud,
        )

    def to_dict(self) -> dict[str, Any]:
        d = {"placement": dict(self.placement), "stack_size": self.stack_size,
             "opt_level": self.opt_level, "defines": dict(self.defines)}
        if self.pools:
            d["pools"] = list(self.pools)
        if self.uart_baud:
            d["uart_baud"] = self.uart_baud
        return d


@dataclass(frozen=True)
class Manifest:
    board: str
    style: str
    model_name: str
    model_hash: str                    # sha256 hex of the .tflite
    firmware: FirmwareOptions = field(default_factory=FirmwareOptions)

    def to_dict(self) -> dict[str, Any]:
        return {"board": self.board, "style": self.style,
                "model": {"name": self.model_name, "hash": self.model_hash},
                "firmware": self.firmware.to_dict()}

    @classmethod
    def from_dict(cls, raw: Any) -> Manifest:
        if not isinstance(raw, dict):
            raise ManifestError(f"{MANIFEST_FILE} must hold a JSON object.")
        model = raw.get("model") or {}
        try:
            board, style = str(raw["board"]), str(raw.get("style", "cubeai"))
            name, digest = str(model["name"]), str(model["hash"]).lower()
        except (KeyError, TypeError) as exc:
            raise ManifestError(f"{MANIFEST_FILE} lacks the field {exc}.",
                                hint='It needs {"board", "style", "model": {"name", "hash"}}.') from None
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ManifestError(f"{MANIFEST_FILE}: model.hash must be 64 hex digits (sha256), got {digest!r}.")
        return cls(board=board, style=style, model_name=name, model_hash=digest,
                   firmware=FirmwareOptions.from_dict(raw.get("firmware")))


def read_manifest(project_dir: str | Path) -> Manifest:
    path = Path(project_dir) / MANIFEST_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path} not found: this is not a generated mcugen project.",
                            hint="Run `mcugen generate` first, or point to the project directory.") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path} is not valid JSON: {exc}.") from None
    return Manifest.from_dict(raw)


def write_manifest(project_dir: str | Path, manifest: Manifest) -> Path:
    path = Path(project_dir) / MANIFEST_FILE
    path.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class FirmwareBundle:
    """Everything a project takes from the firmware side, as plain data.
    Paths are relative to the project directory."""

    board: str
    family: str
    toolchain: str                      # "arm-none-eabi" or "host"
    files: dict[str, str | bytes]       # relative path -> content to write
    sources: tuple[str, ...]            # C sources to compile (subset of files)
    include_dirs: tuple[str, ...]
    defines: dict[str, str]
    cflags: tuple[str, ...]             # C compiler flags (without -I/-D)
    cxxflags: tuple[str, ...]           # C++ flags for styles with C++ sources (tflm)
    ldflags: tuple[str, ...]
    linker_script: str | None
    placement: dict[str, str]           # effective placement (board default + overrides)
    bin_flags: tuple[str, ...] = ()     # objcopy flags for firmware.bin (sections kept out of it)
    outputs: tuple[str, ...] = ("elf",)  # build/firmware.<ext> the Makefile makes
    elf: str = f"{BUILD_DIR}/{ELF_NAME}"


def _c_ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _pin(pin: str) -> tuple[int, int]:
    """'PD8' -> (3, 8): GPIO port index (A=0) and pin number."""
    m = re.fullmatch(r"P([A-K])(\d{1,2})", pin)
    if not m:
        raise BoardError(f"UART pin '{pin}' is not of the form P<port><number>.")
    return ord(m.group(1)) - ord("A"), int(m.group(2))


def board_config_header(board: Board) -> str:
    """mcugen_board_config.h: the board facts the C code needs, from boards.yaml."""
    d: list[tuple[str, str, str]] = [
        ("MCUGEN_BOARD_NAME", f'"{board.name}"', "boards.yaml key"),
        (f"MCUGEN_BOARD_{_c_ident(board.name)}", "1", ""),
        (f"MCUGEN_FAMILY_{_c_ident(board.family)}", "1", ""),
        ("MCUGEN_CLOCK_HZ", f"{board.clock_hz}u", "clock_hz"),
        ("MCUGEN_TIMING_UNIT", str(TIMING_CODES[board.timing]), f"timing: {board.timing}"),
    ]
    if board.uart is not None:
        d += [
            ("MCUGEN_UART_BASE", f"0x{board.uart.base:08X}u", f"{board.uart.name}: {board.uart.source}"),
            ("MCUGEN_UART_BAUD", f"{board.uart.baud}u", "uart.baud"),
            (f"MCUGEN_UART_{_c_ident(board.uart.name)}", "1", "which UART instance"),
        ]
    x = board.extra
    if board.family == "mps2":
        d += [
            ("MCUGEN_SYSCLK_HZ", f"{int(x['sysclk_hz'])}u", "extra.sysclk_hz (QEMU mps2.c SYSCLK_FRQ)"),
            ("MCUGEN_TIMER_BASE", f"0x{int(x['timers'][0]):08X}u", "extra.timers[0]: CMSDK APB timer 0"),
            ("MCUGEN_KICK_TIMER_BASE", f"0x{int(x['timers'][1]):08X}u", "extra.timers[1]: CMSDK APB timer 1"),
            ("MCUGEN_ICOUNT_SHIFT", f"{QEMU_ICOUNT_SHIFT}u", "qemu -icount shift (runners/qemu.py)"),
        ]
    elif board.family == "stm32h7":
        tx_port, tx_pin = _pin(board.uart.tx)
        rx_port, rx_pin = _pin(board.uart.rx)
        d += [
            ("MCUGEN_HSE_HZ", f"{int(x['hse_hz'])}u", "extra.hse_hz"),
            ("MCUGEN_HSE_BYPASS", "1" if x.get("hse_bypass") else "0", "extra.hse_bypass (external clock, no crystal)"),
            ("MCUGEN_VOS", str(int(x["vos"])), "extra.vos"),
            ("MCUGEN_SUPPLY_SMPS", "1" if x.get("supply") == "direct_smps" else "0", f"extra.supply: {x.get('supply', 'ldo')}"),
            ("MCUGEN_UART_AF", str(int(x["uart_af"])), "extra.uart_af"),
            ("MCUGEN_UART_TX_PORT", str(tx_port), f"uart.tx {board.uart.tx}"),
            ("MCUGEN_UART_TX_PIN", str(tx_pin), ""),
            ("MCUGEN_UART_RX_PORT", str(rx_port), f"uart.rx {board.uart.rx}"),
            ("MCUGEN_UART_RX_PIN", str(rx_pin), ""),
        ]
    elif board.family == "imxrt":
        d += [
            ("MCUGEN_FLASH_BASE", f"0x{int(x['flash_base']):08X}u", "extra.flash_base (FlexSPI XIP window)"),
        ]
        sdram = [r for r in board.regions if r.init == "sdram"]
        if sdram:
            r = sdram[0]
            if r.size & (r.size - 1) or r.base % r.size:
                raise BoardError(f"{board.name}: SDRAM region '{r.name}' must be a power-of-two size at a base aligned "
                                 "to it (the SEMC and the MPU decode it so).")
            d += [
                ("MCUGEN_SDRAM_BASE", f"0x{r.base:08X}u", f"region {r.name} (SEMC CS0 window)"),
                ("MCUGEN_SDRAM_SIZE_LOG2", f"{r.size.bit_length() - 1}u", f"region {r.name}: {r.size >> 20} MiB"),
            ]
    lines = [
        "/* Board facts from boards.yaml; generated by mcugen.firmware. Do not edit. */",
        "#ifndef MCUGEN_BOARD_CONFIG_H",
        "#define MCUGEN_BOARD_CONFIG_H",
        "",
    ]
    for name, value, source in d:
        lines.append(f"#define {name} {value}" + (f"  /* {source} */" if source else ""))
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def firmware_bundle(board: Board | str, options: FirmwareOptions | None = None) -> FirmwareBundle:
    """Files, sources and flags the firmware side contributes to a project."""
    if isinstance(board, str):
        board = get_board(board)
    options = options or FirmwareOptions()
    board = options.board_for(board)
    if board.family not in FAMILY_FILES:
        raise BoardError(f"Board '{board.name}' has family '{board.family}', which has no firmware support.",
                         hint=f"Supported families: {', '.join(sorted(FAMILY_FILES))}.")
    src_root = firmware_dir()
    sub = FIRMWARE_SUBDIR
    files: dict[str, str | bytes] = {}
    sources: list[str] = []

    def copy(rel_src: str, rel_dst: str) -> None:
        path = src_root / rel_src
        files[f"{sub}/{rel_dst}"] = path.read_text(encoding="utf-8")
        if rel_dst.endswith(".c"):
            sources.append(f"{sub}/{rel_dst}")

    for name in RUNTIME_FILES:
        copy(f"runtime/{name}", f"runtime/{name}")
    copy("boards/board.h", "boards/board.h")
    for name in FAMILY_FILES[board.family]:
        copy(f"boards/{board.family}/{name}", f"boards/{board.family}/{name}")
    include_dirs = [f"{sub}/runtime", f"{sub}/boards", f"{sub}/boards/{board.family}", f"{sub}/generated"]
    files[f"{sub}/generated/mcugen_board_config.h"] = board_config_header(board)

    placement = effective_placement(board, options.placement)
    defines = {"MCUGEN_BOARD_FAMILY": board.family}
    if not board.is_host:
        defines.update(init_defines(board, placement, options.pools))
    defines.update(options.defines)
    warnings = ["-Wall", "-Wextra"]
    common = [options.opt_level, "-g", "-ffunction-sections", "-fdata-sections", "-fno-common", *warnings]

    if board.is_host:
        defines["MCUGEN_HOST"] = "1"
        return FirmwareBundle(
            board=board.name, family=board.family, toolchain="host", files=files, sources=tuple(sources),
            include_dirs=tuple(include_dirs), defines=defines,
            cflags=tuple(common + ["-std=gnu11"]),
            cxxflags=tuple(common + ["-std=gnu++17"]),
            ldflags=("-Wl,--gc-sections", f"-Wl,-Map={BUILD_DIR}/firmware.map"),
            linker_script=None, placement=placement,
        )

    for name in CORTEX_M7_FILES:
        copy(f"boards/common/{name}", f"boards/common/{name}")
    include_dirs.insert(2, f"{sub}/boards/common")
    if board.family == "imxrt":
        fcb_path = f"{sub}/generated/flexspi_fcb.c"
        files[fcb_path] = fcb_c_source(str(board.extra["flash_device"]))
        sources.append(fcb_path)
    linker_script = f"{sub}/generated/linker.ld"
    check_pool_regions(board, options.pools)
    files[linker_script] = render_linker_script(board, placement, options.stack_size, options.pools)
    cpu = board.cpu_flags()
    return FirmwareBundle(
        board=board.name, family=board.family, toolchain="arm-none-eabi", files=files, sources=tuple(sources),
        include_dirs=tuple(include_dirs), defines=defines,
        cflags=tuple(cpu + common + ["-std=gnu11"]),
        cxxflags=tuple(cpu + common + ["-std=gnu++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]),
        ldflags=tuple(cpu + [
            "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
            "-Wl,--gc-sections", f"-Wl,-T,{linker_script}", f"-Wl,-Map={BUILD_DIR}/firmware.map",
            "-Wl,--no-warn-rwx-segments",
        ]),
        linker_script=linker_script, placement=placement,
        outputs=("elf", "hex", "bin") if any(r.kind == "flash" for r in board.regions) else ("elf", "hex"),
        bin_flags=bin_flags(board, placement),
    )


def write_files(project_dir: str | Path, files: dict[str, str | bytes]) -> list[Path]:
    """Writes bundle files (or any relative path -> content map) under project_dir, a
    scratch directory (generated projects are written by mcugen.outdir.write_project).
    Refuses a path that is not plain and relative, or a link where a file goes."""
    root = Path(project_dir)
    written = []
    for rel, content in files.items():
        path = root / rel
        if clean_relpath(rel) is None or path.is_symlink():
            raise ValueError(f"write_files: '{rel}' is not a plain path inside {root}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def render_makefile(
    bundle: FirmwareBundle,
    app_sources: list[str] | tuple[str, ...] = (),
    app_include_dirs: list[str] | tuple[str, ...] = (),
    app_defines: dict[str, str] | None = None,
    extra_cflags: list[str] | tuple[str, ...] = (),
    extra_cxxflags: list[str] | tuple[str, ...] = (),
    extra_ldflags: list[str] | tuple[str, ...] = (),
    libs: list[str] | tuple[str, ...] = (),
    werror: bool = False,
    archive: tuple[str, list[str] | tuple[str, ...]] = ("", ()),
) -> str:
    """The project's Makefile: bundle sources + the style's own sources
    (.c/.cc/.cpp relative to the project) into build/firmware.elf (.bin/.hex on
    Arm; a native executable for the host target). archive: (name, C sources) built
    into build/lib<name>.a and linked as a library (its objects only when referenced)."""
    defines = dict(bundle.defines)
    defines.update(app_defines or {})
    archive_name, archive_sources = archive
    all_sources = list(bundle.sources) + list(app_sources) + list(archive_sources)
    c_sources = [s for s in all_sources if s.endswith(".c")]
    cxx_sources = [s for s in all_sources if s.endswith((".cc", ".cpp"))]
    unknown = [s for s in all_sources if s not in c_sources and s not in cxx_sources]
    if unknown:
        raise McugenError(f"Cannot compile {', '.join(unknown)}: only .c, .cc and .cpp sources are supported.")
    for s in all_sources:
        if s.startswith("/") or ".." in Path(s).parts:
            raise McugenError(f"Source '{s}' is outside the project: generated projects must be self-contained.")
    werr = ["-Werror"] if werror else []
    return template_environment().get_template("common/Makefile.j2").render(
        bundle=bundle,
        prefix=ARM_TOOLCHAIN_PREFIX if bundle.toolchain == "arm-none-eabi" else "",
        host=bundle.toolchain == "host",
        c_sources=[c for c in c_sources if c not in archive_sources], cxx_sources=cxx_sources,
        archive_name=archive_name, archive_sources=[c for c in c_sources if c in archive_sources],
        include_dirs=list(bundle.include_dirs) + list(app_include_dirs),
        defines=defines,
        cflags=list(bundle.cflags) + werr + list(extra_cflags),
        cxxflags=list(bundle.cxxflags) + werr + list(extra_cxxflags),
        ldflags=list(bundle.ldflags) + list(extra_ldflags),
        libs=list(libs),
        build_dir=BUILD_DIR,
    )


def timing_name(code: int) -> str:
    return _TIMING_NAMES.get(code, f"unknown({code})")
