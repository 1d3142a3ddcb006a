"""Portable C: the kernels, the generated cubeai files, the runtime and the board support
compile with arm-none-eabi-gcc and with clang at -std=c99 -Wall -Wextra -Wpedantic
-Wconversion -Wsign-conversion -Werror; the GNU extensions the Cortex-M7 kernels use for
speed sit behind feature tests (firmware/kernels/mcu_compiler.h) whose ISO C path
(MCU_PORTABLE_C=1, and what IAR or Keil 5 compile) gives the same bytes on QEMU.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import arm_harness as H
from conftest import MODELS
from mcugen.codegen import cubeai
from mcugen.calibrate.hostrun import host_build_command, read_project_manifest

KERNEL_SOURCES = sorted([*H.KERNELS.glob("*.c"), *(H.KERNELS / "arm").glob("*.c")])
PEDANTIC = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Werror")
STRICT = ("-O2", *PEDANTIC)
CORTEX_M7 = ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard")
ISO_PATH = "-DMCU_PORTABLE_C=1"
# What a C99 compiler that is neither gcc nor clang sees (IAR, Arm Compiler 5...), as far as
# gcc's and clang's front ends can play it: no __GNUC__, and the project's own spellings.
NOT_GNU = ("-U__GNUC__", "-U__clang__", "-DMCU_ALIGNED(n)=", "-DMCU_SECTION(name)=")


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")


def arm_cc(compiler: str, cpu: tuple[str, ...] = CORTEX_M7) -> list[str]:
    if compiler == "gcc":
        _need("arm-none-eabi-gcc")
        return ["arm-none-eabi-gcc", *cpu]
    _need("clang", "arm-none-eabi-gcc")
    return ["clang", "--target=arm-none-eabi", f"--sysroot={H.arm_sysroot()}", *cpu]


def diagnostics(argv: list[str], cwd: Path | None = None) -> str:
    """'' when argv compiles with no diagnostic at all, else what the compiler said."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if proc.returncode == 0 and not proc.stderr.strip():
        return ""
    return f"$ {' '.join(argv[-3:])}\n{proc.stderr.strip() or proc.stdout.strip()}"


def compile_kernels(cc: list[str], flags: tuple[str, ...], tmp: Path) -> list[str]:
    def one(src: Path) -> str:
        return diagnostics([*cc, *flags, f"-I{H.KERNELS}", f"-I{H.KERNELS / 'arm'}", "-c", str(src),
                            "-o", str(tmp / f"{src.parent.name}_{src.stem}.o")])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [d for d in pool.map(one, KERNEL_SOURCES) if d]


# ---------------------------------------------------------------------------------
# the kernels


@pytest.mark.parametrize("path", ["gnu", pytest.param("iso", marks=pytest.mark.slow)])
@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_kernels_compile_clean_for_cortex_m7(tmp_path, compiler: str, path: str) -> None:
    """Every portable and Cortex-M7 kernel, on the GNU path and on the ISO C path."""
    flags = STRICT + ((ISO_PATH,) if path == "iso" else ())
    bad = compile_kernels(arm_cc(compiler), flags, tmp_path)
    assert not bad, "\n\n".join(bad[:10])


@pytest.mark.slow
@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_kernels_compile_clean_for_a_compiler_without_gnu_c(tmp_path, compiler: str) -> None:
    bad = compile_kernels(arm_cc(compiler), STRICT + NOT_GNU, tmp_path)
    assert not bad, "\n\n".join(bad[:10])


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cortex-m3", "host-gcc", "host-clang"])
def test_kernels_compile_clean_without_the_dsp_extension(tmp_path, target: str) -> None:
    """The ACLE emulation (Cortex-M3, and the host builds the fast tests run)."""
    if target == "cortex-m3":
        cc = arm_cc("gcc", ("-mcpu=cortex-m3", "-mthumb"))
    else:
        _need(target[5:])
        cc = [target[5:]]
    bad = compile_kernels(cc, STRICT, tmp_path) + compile_kernels(cc, STRICT + (ISO_PATH,), tmp_path)
    assert not bad, "\n\n".join(bad[:10])


GNU_ONLY = {
    "inline asm": re.compile(r"\b(__asm__|__asm|asm)\s*(volatile\s*)?\("),
    "register variable": re.compile(r"\bregister\b[^;]*__asm__"),
    "label address": re.compile(r"&&\s*mm\d"),
    "computed goto": re.compile(r"\bgoto\s*\*"),
    "__extension__": re.compile(r"\b__extension__\b"),
    "optimize attribute": re.compile(r"\boptimize\s*\("),
    "noclone": re.compile(r"\bnoclone\b"),
}


def _own_lines(preprocessed: str) -> str:
    """The lines of preprocessed C that come from mcugen's own files (not the toolchain's)."""
    keep, out = True, []
    for line in preprocessed.splitlines():
        m = re.match(r'# \d+ "([^"]+)"', line)
        if m:
            keep = str(H.KERNELS) in m.group(1)
        elif keep:
            out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_iso_path_leaves_no_gnu_extension_in_the_kernels(compiler: str) -> None:
    """MCU_PORTABLE_C=1 takes every GNU construct out of the Cortex-M7 kernels; without it
    the fast path keeps them (so the check is not vacuous)."""
    cc = arm_cc(compiler)
    src = H.KERNELS / "arm" / "mcu_arm_mat_mult_s8.c"
    found: dict[str, set[str]] = {}
    for path, flags in (("gnu", ()), ("iso", (ISO_PATH,))):
        found[path] = set()
        for s in sorted((H.KERNELS / "arm").glob("*.c")):
            pre = subprocess.run([*cc, "-E", "-O2", *flags, f"-I{H.KERNELS}", f"-I{src.parent}", str(s)],
                                 capture_output=True, text=True, check=True).stdout
            own = _own_lines(pre)
            found[path] |= {name for name, rx in GNU_ONLY.items() if rx.search(own)}
    assert found["iso"] == set()
    expected = {"inline asm", "label address", "computed goto", "__extension__"}
    if compiler == "gcc":
        expected |= {"register variable", "optimize attribute", "noclone"}
    assert expected <= found["gnu"], sorted(found["gnu"])


@pytest.mark.slow
def test_iso_path_and_clang_builds_give_the_same_bytes_on_qemu() -> None:
    """The same random cases (every variant, clamps, exact-path layers, odd shapes) and the
    DSP operations on edge operands: the gcc build's fast path, its ISO C path, and clang's
    builds of both give identical outputs, all bit-exact with the portable kernels."""
    _need("arm-none-eabi-gcc", "clang", "qemu-system-arm", "make")
    from test_kernels_arm import random_cases

    cases = random_cases(400, 80) + [H.acle_case(np.random.default_rng(17), 3000)]
    reference = H.run_qemu(cases)
    assert all(r.ok for r in reference[:-1])
    for kw in ({"defines": ("MCU_PORTABLE_C=1",)}, {"compiler": "clang"},
               {"compiler": "clang", "defines": ("MCU_PORTABLE_C=1",)}):
        results = H.run_qemu(cases, **kw)
        differ = [r.case.label for r, ref in zip(results, reference)
                  if r.status_arm != ref.status_arm or not np.array_equal(r.out_arm, ref.out_arm)
                  or not np.array_equal(r.out_portable, ref.out_portable)]
        assert not differ, f"{kw}: {differ[:10]}"


# ---------------------------------------------------------------------------------
# generated projects


def mcugen(*args: object, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def make(project: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(project), "-j2", "--no-print-directory", *overrides],
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)


PROJECTS = {
    "person_detect-both-patch": ("person_detect", "qemu-m7", ["--c-api", "both", "--patch", "auto"]),
    "person_detect-legacy-pools-own-io": ("person_detect", "stm32h7", [
        "--c-api", "legacy", "--pools", "dtcm,axisram", "--no-inputs-allocation", "--no-outputs-allocation"]),
    "micro_speech-both-imxrt": ("micro_speech_quantized", "rt1170", ["--c-api", "both"]),
    "keyword_scrambled-st-ai": ("keyword_scrambled_8bit", "qemu-m7", []),
    "hello_world-legacy-imxrt": ("hello_world_int8", "rt1050", ["--c-api", "legacy", "--no-inputs-allocation"]),
    "micro_speech-legacy-6": ("micro_speech_quantized", "qemu-m7", ["--c-api", "legacy-6"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("config", sorted(PROJECTS))
def test_generated_project_builds_clean_with_both_compilers(tmp_path, config: str) -> None:
    """Every C file of the project (network, data, st-ai/legacy API, main, kernels,
    runtime, board support) through the project's own Makefile: with arm-none-eabi-gcc,
    and with clang (linked by arm-none-eabi-gcc), at the strict flags; the host harness
    with the host's gcc and clang."""
    _need("arm-none-eabi-gcc", "clang", "make")
    model, target, options = PROJECTS[config]
    out = tmp_path / config
    r = mcugen("generate", MODELS / f"{model}.tflite", "--target", target, "-o", out, *options)
    assert r.returncode == 0, r.stderr
    strict = "EXTRA_CFLAGS=" + " ".join(PEDANTIC)
    built = make(out, strict)
    assert built.returncode == 0 and "warning:" not in built.stdout + built.stderr, built.stderr[-4000:]
    elf = out / "build" / "firmware.elf"
    gcc_image = elf.read_bytes()
    shutil.rmtree(out / "build")
    overrides = H.clang_make_overrides()
    overrides[-1] += " " + " ".join(PEDANTIC)
    built = make(out, *overrides)
    compiled = built.stdout + built.stderr
    assert built.returncode == 0, compiled[-4000:]
    assert "clang --target=arm-none-eabi" in compiled and "warning:" not in compiled.replace(
        "ld: warning: ", ""), compiled[-4000:]  # the linker's notes on newlib's own objects are not ours
    assert elf.is_file() and elf.read_bytes() != gcc_image
    manifest = read_project_manifest(out)
    for cc in ("gcc", "clang"):
        argv = host_build_command(manifest, cc, "/dev/null", PEDANTIC)
        assert diagnostics(argv, cwd=out) == ""


@pytest.mark.slow
def test_person_detect_compiled_by_clang_is_bit_exact_on_qemu(tmp_path) -> None:
    _need("arm-none-eabi-gcc", "clang", "qemu-system-arm", "make")
    out = tmp_path / "pd"
    r = mcugen("generate", MODELS / "person_detect.tflite", "--target", "qemu-m7", "-o", out)
    assert r.returncode == 0, r.stderr
    built = make(out, *H.clang_make_overrides())
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    r = mcugen("flash-and-measure", out, "--inputs", MODELS / "person.bmp", "--inputs", MODELS / "no_person.bmp",
               "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bit_exact"] is True and rep["max_abs_diff"] == 0
    assert [x["outputs"] for x in rep["results"]] == [[[[-113, 113]]], [[[57, -57]]]]


def test_8bit_arrays_longer_than_c99_strings_are_numbers() -> None:
    """C99 compilers need take string literals of 4095 characters only (5.2.4.1):
    longer 8-bit arrays are written as numbers."""
    rng = np.random.default_rng(0)
    short = rng.integers(-128, 128, size=4095).astype(np.int8)
    long = rng.integers(-128, 128, size=4096).astype(np.int8)
    assert cubeai.c_array_init(short, "int8_t").startswith('"')
    text = cubeai.c_array_init(long, "int8_t")
    assert text.startswith("{") and '"' not in text
    assert [int(v) for v in re.findall(r"-?\d+", text)] == long.tolist()
