"""CMSIS packs for pyOCD (runners/packs.py): a real pack, built here and read by pyOCD's
own parser; malformed packs as clear errors; the pack cache; the download when online
(cmsis-pack-manager's cache replaced by a fake only where the network would answer)."""

from __future__ import annotations

import os
import shutil
import zipfile

import pytest

from _cmsis_pack import build_flm, build_pack, pdsc
from mcugen.boards import get_board
from mcugen.errors import RunnerError
from mcugen.runners.packs import PACK_ENV, cached_pack, check_pack, pack_dir, resolve_target

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")


@pytest.fixture(scope="module")
def flm(tmp_path_factory):
    return build_flm(tmp_path_factory.mktemp("flm") / "STM32H7x_2048.FLM")


@pytest.fixture
def good_pack(tmp_path, flm):
    return build_pack(tmp_path / "Keil.STM32H7xx_DFP.9.9.9.pack", flm)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """An empty mcugen cache and no pack from the environment."""
    monkeypatch.setenv("MCUGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(PACK_ENV, raising=False)


def test_a_real_pack_passes_pyocds_parser(good_pack):
    from pyocd.target import TARGET
    from pyocd.target.pack.pack_target import PackTargets

    board = get_board("nucleo-h743zi2")
    assert check_pack(good_pack, board) == "STM32H743ZITx"
    support = resolve_target(board, pack=str(good_pack))
    assert (support.source, support.pack_paths) == ("pack file", (str(good_pack),))
    # pyOCD builds a target class from it, with the pack's flash algorithm on the flash region
    assert "stm32h743zitx" not in TARGET
    try:
        PackTargets.populate_targets_from_pack([str(good_pack)])
        region = TARGET["stm32h743zitx"]._pack_device.memory_map.get_region_for_address(0x08000000)
        assert region.is_flash and region.flm.flash_start == 0x08000000 and region.flm.flash_size == 0x200000
    finally:
        TARGET.pop("stm32h743zitx", None)


@pytest.mark.parametrize("variant,message", [
    ("not a zip", r"is not a usable CMSIS pack: it is not a zip archive"),
    ("no pdsc", r"is not a usable CMSIS pack: it holds no \.pdsc description"),
    ("bad xml", r"is not a usable CMSIS pack: its \.pdsc is not valid XML"),
    ("no vendor", r"does not describe devices the way the CMSIS-Pack format says \(KeyError: 'Dvendor'\)"),
    ("other device", r"does not describe stm32h743zitx \(devices in it: STM32H750VBTx\)"),
    ("no algorithm", r"has no flash algorithm for STM32H743ZITx's flash at 0x08000000"),
    ("algorithm missing", r"cannot read its memory and flash algorithms: KeyError"),
    ("algorithm not an ELF", r"cannot read its memory and flash algorithms: ELFError"),
    ("flash too small", r"has no flash algorithm for STM32H747XIHx's flash_cm4 at 0x08100000"),
])
def test_malformed_packs_are_clear_errors(variant, message, tmp_path, flm):
    path = tmp_path / "bad.pack"
    if variant == "not a zip":
        path.write_text("<html>404 Not Found</html>")
    elif variant == "no pdsc":
        build_pack(path, flm, pdsc_name="")
    elif variant == "bad xml":
        build_pack(path, flm, pdsc_text=pdsc()[:300])
    elif variant == "no vendor":
        build_pack(path, flm, pdsc_text=pdsc().replace(' Dvendor="STMicroelectronics:13"', ""))
    elif variant == "other device":
        build_pack(path, flm, pdsc_text=pdsc(device="STM32H750VBTx"))
    elif variant == "no algorithm":
        build_pack(path, flm, pdsc_text=pdsc(algorithm=None))
    elif variant == "algorithm missing":
        build_pack(path, None)
    elif variant == "algorithm not an ELF":
        junk = tmp_path / "junk.FLM"
        junk.write_bytes(b"MZ" + bytes(200))
        build_pack(path, junk)
    elif variant == "flash too small":  # its flash and algorithm end before the H747's second bank (flash_cm4)
        build_pack(path, build_flm(tmp_path / "half.FLM", size=0x100000),
                   pdsc_text=pdsc(device="STM32H747XIHx", flash_size=0x100000))
    board = get_board("stm32h747i-disco" if variant == "flash too small" else "stm32h7")
    with pytest.raises(RunnerError, match=message) as e:
        resolve_target(board, pack=str(path))
    assert str(path) in e.value.message
    assert "Keil.STM32H7xx_DFP" in e.value.hint and "https://www.keil.arm.com/packs/stm32h7xx_dfp-keil/" in e.value.hint


def test_pack_file_from_the_environment(good_pack, monkeypatch):
    monkeypatch.setenv(PACK_ENV, str(good_pack))
    assert resolve_target(get_board("stm32h7")).pack_paths == (str(good_pack),)
    monkeypatch.setenv(PACK_ENV, str(good_pack.with_name("missing.pack")))
    with pytest.raises(RunnerError, match="missing.pack does not exist"):
        resolve_target(get_board("stm32h7"))
    # pyOCD's built-in i.MX RT targets never need a pack (one set for an H7 does not get in the way)
    assert resolve_target(get_board("rt1050")).source == "builtin"
    assert resolve_target(get_board("rt1170")).source == "builtin"


def test_the_pack_cache_holds_packs_downloaded_by_hand(good_pack, tmp_path):
    folder = pack_dir()
    assert folder == tmp_path / "cache" / "packs"
    folder.mkdir(parents=True)
    for version in ("2.9.0", "4.1.3", "4.0.0"):
        shutil.copy(good_pack, folder / f"Keil.STM32H7xx_DFP.{version}.pack")
    (folder / "Keil.STM32F7xx_DFP.9.0.0.pack").write_text("another family")
    board = get_board("stm32h7")
    assert cached_pack(board) == folder / "Keil.STM32H7xx_DFP.4.1.3.pack"
    support = resolve_target(board, cache_factory=EmptyCache)
    assert (support.source, support.pack_paths) == ("pack cache", (str(folder / "Keil.STM32H7xx_DFP.4.1.3.pack"),))
    (folder / "Keil.STM32H7xx_DFP.4.1.3.pack").write_bytes(b"truncated download")
    with pytest.raises(RunnerError, match=r"Keil.STM32H7xx_DFP.4.1.3.pack is not a usable CMSIS pack"):
        resolve_target(board, cache_factory=EmptyCache)


class PackRef:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_pack_name(self) -> str:
        return self.name


class EmptyCache:
    """cmsis-pack-manager's cache offline: the index stays empty after asking for it."""

    def __init__(self) -> None:
        self.index: dict = {}
        self.data_path = "/nonexistent"
        self.asked = 0

    def cache_descriptors(self) -> None:
        self.asked += 1

    def packs_for_devices(self, devices):
        return []


def test_offline_the_error_names_the_pack_its_url_and_where_to_put_it(tmp_path):
    with pytest.raises(RunnerError) as e:
        resolve_target(get_board("stm32h7"), download=True, cache_factory=EmptyCache)
    assert "needs the CMSIS pack Keil.STM32H7xx_DFP" in e.value.message
    assert "the pack index could not be fetched (offline?)" in e.value.message
    assert "from https://www.keil.arm.com/packs/stm32h7xx_dfp-keil/" in e.value.hint
    assert f"put it in {tmp_path / 'cache' / 'packs'}/" in e.value.hint and "--pack FILE" in e.value.hint

    class Unreachable(EmptyCache):
        def cache_descriptors(self):
            raise OSError("Network is unreachable")

    with pytest.raises(RunnerError, match="downloading it failed: OSError: Network is unreachable"):
        resolve_target(get_board("stm32h747i-disco"), download=True, cache_factory=Unreachable)
    with pytest.raises(RunnerError, match="its CMSIS pack \\(Keil.STM32H7xx_DFP\\) is not installed") as e:
        resolve_target(get_board("stm32h7"), download=False, cache_factory=EmptyCache)
    assert "https://www.keil.arm.com/packs/stm32h7xx_dfp-keil/" in e.value.hint


def test_online_cmsis_pack_manager_downloads_the_pack(good_pack, tmp_path):
    data = tmp_path / "cpm"

    class OnlineCache(EmptyCache):
        """What cmsis-pack-manager does online: fetch the index, then the packs."""

        def __init__(self) -> None:
            super().__init__()
            self.data_path = str(data)

        def cache_descriptors(self):
            self.index = {"STM32H743ZITx": {"name": "STM32H743ZITx", "pack_file": "Keil.STM32H7xx_DFP.pdsc"}}

        def packs_for_devices(self, devices):
            return [PackRef("Keil/STM32H7xx_DFP/9.9.9.pack")] if devices else []

        def download_pack_list(self, packs):
            for ref in packs:
                target = data / ref.get_pack_name()
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(good_pack, target)

    support = resolve_target(get_board("stm32h7"), download=True, cache_factory=OnlineCache)
    path = str(data / "Keil" / "STM32H7xx_DFP" / "9.9.9.pack")
    assert (support.source, support.pack_paths) == ("downloaded pack", (path,))
    # next time it is in cmsis-pack-manager's cache: no download
    cache = OnlineCache()
    cache.cache_descriptors()
    support = resolve_target(get_board("stm32h7"), download=False, cache_factory=lambda: cache)
    assert (support.source, support.pack_paths) == ("managed pack", (path,))
    with pytest.raises(RunnerError, match="no pack in the index describes stm32h747xihx"):
        resolve_target(get_board("stm32h747i-disco"), download=True, cache_factory=OnlineCache)


def test_a_pack_is_a_zip_with_a_pdsc(good_pack):
    with zipfile.ZipFile(good_pack) as z:
        assert sorted(z.namelist()) == ["CMSIS/Flash/STM32H7x_2048.FLM", "Keil.STM32H7xx_DFP.pdsc"]
    assert os.path.getsize(good_pack) < 4096


def test_cmsis_pack_manager_notes_stay_out_of_stdout(capfd):
    """Its Rust core prints on file descriptor 1, where `--json` puts mcugen's answer."""

    class Noisy(EmptyCache):
        def cache_descriptors(self):
            os.write(1, b'Could not open file "aliases.json"\n')

    with pytest.raises(RunnerError, match="offline"):
        resolve_target(get_board("stm32h7"), download=True, cache_factory=Noisy)
    out, err = capfd.readouterr()
    assert out == "" and "aliases.json" in err
