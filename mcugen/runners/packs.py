"""CMSIS packs for pyOCD: the user's pack file, mcugen's pack cache, cmsis-pack-manager.

pyOCD supports the i.MX RT targets out of the box; the STM32H7 needs the vendor's
Device Family Pack (boards.yaml `flash.cmsis_pack`). The first of these wins:
1. the file the user names (`pack=`: --pack FILE, or $MCUGEN_CMSIS_PACK);
2. mcugen's pack cache, `<cache>/packs/<Vendor>.<Name>.<version>.pack` (the newest
   version), where a pack downloaded by hand goes (`<cache>`: $MCUGEN_CACHE_DIR, else
   the user cache folder, as for the TFLM libraries);
3. cmsis-pack-manager's cache (what `pyocd pack install` fills);
4. a download by cmsis-pack-manager into its cache, when allowed and online.
Offline, the error names the pack, where to download it and where to put it.

Every pack is read by pyOCD's own parser (pyocd.target.pack.cmsis_pack) before a
probe is touched, and must describe the board's device with a flash algorithm for
each on-chip flash region the board has: a malformed pack is a RunnerError naming
the file and what is wrong with it, never a pyOCD exception.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mcugen.boards import Board
from mcugen.errors import RunnerError
from mcugen.resources import cache_root

PACK_ENV = "MCUGEN_CMSIS_PACK"
CacheFactory = Callable[[], Any]


@dataclass(frozen=True)
class TargetSupport:
    target: str
    source: str                     # builtin | pack file | pack cache | managed pack | downloaded pack
    pack_paths: tuple[str, ...] = ()


def pack_dir() -> Path:
    """mcugen's pack cache folder."""
    return cache_root() / "packs"


def _normalise(name: str) -> str:
    from pyocd.target.pack.pack_target import normalise_target_type_name

    return normalise_target_type_name(name)


def _manual_hint(board: Board) -> str:
    pack = board.flash.cmsis_pack or "the vendor's CMSIS pack"
    where = f" from {board.flash.cmsis_pack_url}" if board.flash.cmsis_pack_url else ""
    return (f"Download {pack}.<version>.pack{where} and put it in {pack_dir()}/ (or pass it with --pack FILE or "
            f"${PACK_ENV}); when online, mcugen downloads it itself.")


def _read_devices(path: Path, board: Board) -> list[Any]:
    """The devices pyOCD's parser finds in the pack; RunnerError saying what is wrong otherwise."""
    from xml.etree.ElementTree import ParseError

    from pyocd.target.pack.cmsis_pack import CmsisPack, MalformedCmsisPackError

    try:
        return list(CmsisPack(str(path)).devices)
    except MalformedCmsisPackError as exc:
        problem = "it is not a zip archive" if "Failed to open" in str(exc) else "it holds no .pdsc description"
        detail = str(exc)
    except ParseError as exc:
        problem, detail = "its .pdsc is not valid XML", str(exc)
    except Exception as exc:  # noqa: BLE001  (a user's file: whatever breaks the parser is a bad pack)
        problem, detail = "its .pdsc does not describe devices the way the CMSIS-Pack format says", \
            f"{type(exc).__name__}: {exc}"
    raise RunnerError(f"{path} is not a usable CMSIS pack: {problem} ({detail}).",
                      hint="A .pack file is a zip archive holding a .pdsc. " + _manual_hint(board))


def check_pack(path: str | Path, board: Board) -> str:
    """Reads the pack with pyOCD's parser; returns its part number for the board's target.
    RunnerError unless it describes that device with flash algorithms for the board's flash."""
    path = Path(path)
    target = board.flash.pyocd_target
    if not path.is_file():
        raise RunnerError(f"CMSIS pack {path} does not exist.", hint=_manual_hint(board))
    devices = _read_devices(path, board)
    device = next((d for d in devices if _normalise(d.part_number) == _normalise(target)), None)
    if device is None:
        names = sorted(d.part_number for d in devices)
        listed = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "") or "none"
        raise RunnerError(f"The CMSIS pack {path} does not describe {target} (devices in it: {listed}).",
                          hint=f"{board.name} needs {board.flash.cmsis_pack or 'the vendor pack'}. " + _manual_hint(board))
    try:
        memory = device.memory_map
    except Exception as exc:  # noqa: BLE001  (broken flash algorithm files in a user's pack)
        raise RunnerError(f"The CMSIS pack {path} describes {device.part_number}, but pyOCD cannot read its memory "
                          f"and flash algorithms: {type(exc).__name__}: {exc}.", hint=_manual_hint(board)) from None
    for region in board.regions:
        if region.kind != "flash" or region.needs_firmware_init:
            continue  # memory-mapped QSPI needs an external loader: not pyOCD's (runner capabilities)
        found = memory.get_region_for_address(region.base)
        if found is None or not found.is_flash:
            raise RunnerError(f"The CMSIS pack {path} has no flash algorithm for {device.part_number}'s "
                              f"{region.name} at 0x{region.base:08X}: pyOCD could not program it.",
                              hint=_manual_hint(board))
    return device.part_number


def _version_key(path: Path, prefix: str) -> tuple:
    version = path.name[len(prefix):-len(".pack")]
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.-]", version))


def cached_pack(board: Board, directory: Path | None = None) -> Path | None:
    """The newest <Vendor>.<Name>.<version>.pack of the board's pack in mcugen's pack cache."""
    if not board.flash.cmsis_pack:
        return None
    directory = directory or pack_dir()
    prefix = board.flash.cmsis_pack + "."
    found = [p for p in directory.glob(f"{board.flash.cmsis_pack}.*.pack") if p.is_file()]
    return max(found, key=lambda p: _version_key(p, prefix)) if found else None


def _cache(cache_factory: CacheFactory | None) -> Any:
    if cache_factory is not None:
        return cache_factory()
    import cmsis_pack_manager

    # silent, and with network timeouts (pyOCD passes no_timeouts=True: a dead network would hang)
    return cmsis_pack_manager.Cache(True, False)


@contextlib.contextmanager
def _stdout_to_stderr():
    """cmsis-pack-manager's Rust core prints notes on file descriptor 1: keep them out of
    stdout, which holds mcugen's --json answer."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _pack_files(cache: Any, target: str) -> list[str]:
    """Paths of the packs in cmsis-pack-manager's cache that describe `target` (present or not)."""
    devices = [d for d in cache.index.values() if _normalise(d["name"]) == _normalise(target)]
    if not devices:
        return []
    return [os.path.join(cache.data_path, ref.get_pack_name()) for ref in cache.packs_for_devices(devices)]


def managed_pack(board: Board, cache_factory: CacheFactory | None = None) -> str | None:
    """The board's pack from cmsis-pack-manager's cache, if it is there; never uses the network."""
    try:
        files = _pack_files(_cache(cache_factory), board.flash.pyocd_target)
    except Exception:  # noqa: BLE001  (an unreadable cache is the same as no pack)
        return None
    return next((f for f in files if os.path.isfile(f)), None)


def download_pack(board: Board, cache_factory: CacheFactory | None = None) -> str:
    """Downloads the board's pack with cmsis-pack-manager (the pack index first, when it has
    none); RunnerError naming the pack, its URL and where to put it when that fails."""
    target, pack = board.flash.pyocd_target, board.flash.cmsis_pack or "the vendor's CMSIS pack"

    def failed(reason: str) -> RunnerError:
        return RunnerError(f"pyOCD has no built-in support for {target}; it needs the CMSIS pack {pack}, which is "
                           f"not installed, and downloading it failed: {reason}.", hint=_manual_hint(board))

    try:
        with _stdout_to_stderr():
            cache = _cache(cache_factory)
            if not cache.index:
                cache.cache_descriptors()
        if not cache.index:
            raise failed("the pack index could not be fetched (offline?)")
        files = _pack_files(cache, target)
        if not files:
            raise failed(f"no pack in the index describes {target}")
        with _stdout_to_stderr():
            cache.download_pack_list(cache.packs_for_devices(
                [d for d in cache.index.values() if _normalise(d["name"]) == _normalise(target)]))
    except RunnerError:
        raise
    except Exception as exc:  # noqa: BLE001  (network and cache errors of a third-party library)
        raise failed(f"{type(exc).__name__}: {exc}") from None
    present = [f for f in files if os.path.isfile(f)]
    if not present:
        raise failed("cmsis-pack-manager reported no error but the pack file is not there (offline?)")
    return present[0]


def resolve_target(board: Board, pack: str | None = None, download: bool = False,
                   cache_factory: CacheFactory | None = None, directory: Path | None = None) -> TargetSupport:
    """Where pyOCD gets the board's target from (see the module docstring); RunnerError otherwise."""
    from pyocd.target import TARGET

    name = board.flash.pyocd_target
    if not name:
        raise RunnerError(f"boards.yaml gives no pyOCD target for {board.name}.")
    if name.lower() in TARGET:  # a pack would not be used: pyOCD prefers its built-in targets
        return TargetSupport(name, "builtin")
    pack = pack or os.environ.get(PACK_ENV)
    if pack:
        check_pack(pack, board)
        return TargetSupport(name, "pack file", (str(pack),))
    cached = cached_pack(board, directory)
    if cached is not None:
        check_pack(cached, board)
        return TargetSupport(name, "pack cache", (str(cached),))
    managed = managed_pack(board, cache_factory)
    if managed is not None:
        check_pack(managed, board)
        return TargetSupport(name, "managed pack", (managed,))
    if download and board.flash.cmsis_pack:
        downloaded = download_pack(board, cache_factory)
        check_pack(downloaded, board)
        return TargetSupport(name, "downloaded pack", (downloaded,))
    raise RunnerError(
        f"pyOCD has no built-in support for {name} and its CMSIS pack ({board.flash.cmsis_pack or 'unknown'}) "
        "is not installed.", hint=_manual_hint(board))
