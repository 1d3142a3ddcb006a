"""build_project: toolchain checks, readable compiler errors, ELF usage per region, estimate comparison."""

from __future__ import annotations

import shutil

import pytest

from _echo_project import make_echo_project
from mcugen.build import MemoryUsage, RegionUsage, build_project, check_toolchain, compare_with_estimate
from mcugen.boards import get_board
from mcugen.errors import ToolchainError


def _usage(used: dict[str, int]) -> MemoryUsage:
    return MemoryUsage({k: RegionUsage(k, "ram", 0, 1 << 20, v) for k, v in used.items()}, ())


def test_compare_with_estimate():
    usage = _usage({"flash": 10_400, "axisram": 50_000})
    assert compare_with_estimate(usage, {"flash": 10_000, "axisram": 50_000}) == []
    w = compare_with_estimate(usage, {"flash": 9_000, "axisram": 60_000, "qspi": 5})
    assert any("flash" in x and "+1400" in x for x in w)
    assert any("axisram" in x and "-10000" in x for x in w)
    assert any("no such region" in x for x in w)


def test_missing_toolchain_names_the_package(monkeypatch, tmp_path):
    make = shutil.which("make")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolchainError, match="'make' is not installed") as e:
        check_toolchain(get_board("qemu-m7"))
    assert "apt-get install make" in e.value.hint
    # make is there, the Arm compiler is not: the real lookup names both Debian packages
    only_make = tmp_path / "bin"
    only_make.mkdir()
    (only_make / "make").symlink_to(make)
    monkeypatch.setenv("PATH", str(only_make))
    with pytest.raises(ToolchainError, match="'arm-none-eabi-gcc' is not installed") as e:
        check_toolchain(get_board("qemu-m7"))
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" in e.value.hint


@pytest.mark.slow
def test_compiler_error_is_readable(tmp_path):
    make_echo_project(tmp_path, "qemu-m7")
    (tmp_path / "app/main.c").write_text("int main(void) { return undefined_thing; }\n")
    with pytest.raises(ToolchainError, match="undefined_thing") as e:
        build_project(tmp_path, jobs=2)
    assert "Traceback" not in str(e.value) and (tmp_path / "build/build.log").is_file()


@pytest.mark.slow
def test_usage_per_region_and_section(tmp_path):
    make_echo_project(tmp_path, "nucleo-h743zi2", n0=1000, placement={"weights": "axisram"})
    r = build_project(tmp_path, jobs=2)
    flash, dtcm, axi = (r.usage.regions[n] for n in ("flash", "dtcm", "axisram"))
    # weights live in AXI SRAM at run time and are stored in flash (copied at reset)
    assert axi.sections[".nn_weights"] == 16 and flash.sections[".nn_weights (load)"] == 16
    assert axi.sections[".nn_arena"] >= 2 * 1000 + 96
    assert dtcm.sections[".stack"] == 8192 and ".bss" in dtcm.sections
    assert flash.used == sum(flash.sections.values()) and flash.used > 2000
    est = {"flash": flash.used, "axisram": axi.used, "dtcm": dtcm.used}
    assert compare_with_estimate(r.usage, est) == []
