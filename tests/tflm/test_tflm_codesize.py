"""Code flash per operator from the compiled objects, against a real --gc-sections link."""

from __future__ import annotations

import shutil
import subprocess
import textwrap

import pytest
from tflm_helpers import real_model_paths

from mcugen.tflm import codesize
from mcugen.tflm.codesize import _Archive, _mangled_function, analyse_objects
from mcugen.calibrate.tflm_probes import parse_link_map
from mcugen.pipeline import load_checked


def test_mangled_function_names():
    assert _mangled_function("_ZN6tflite16Register_CONV_2DEv") == "Register_CONV_2D"
    assert _mangled_function("_ZN6tflite3ops5micro12Register_ADDEv") == "Register_ADD"
    assert _mangled_function(
        "_ZN6tflite11ParseConv2DEPKNS_8OperatorEPNS_13ErrorReporterEPNS_20BuiltinDataAllocatorEPPv"
    ) == "ParseConv2D"
    assert _mangled_function("_Z12Register_ADDv") == "Register_ADD"
    assert _mangled_function("memcpy") is None


def test_parse_link_map():
    text = textwrap.dedent(
        """\
        Discarded input sections

         .text.unused   0x00000000       0x40 /x/libtensorflow-microlite.a(conv.o)

        Linker script and memory map

        .text           0x00000000     0x1000
         *(.isr_vector)
         .isr_vector    0x00000000       0x40 startup.o
         .text._ZN6tflite16Register_CONV_2DEv
                        0x00000040       0x20 /x/libtensorflow-microlite.a(conv.o)
         *fill*         0x00000060        0x4
         .text          0x00000064       0x30 /usr/lib/libc_nano.a(lib_a-memcpy.o)
                        0x00000064                memcpy
        .data           0x20000000       0x10
         .data.g        0x20000000       0x10 /x/libtensorflow-microlite.a(conv.o)
        .bss            0x20000010      0x100
         .bss.arena     0x20000010      0x100 main.o
        """
    )
    assert parse_link_map(text) == {
        "startup.o": 0x40,
        "/x/libtensorflow-microlite.a(conv.o)": 0x30,
        "/usr/lib/libc_nano.a(lib_a-memcpy.o)": 0x30,
    }


def test_reachability_on_real_objects(tmp_path):
    """Two tiny objects in an archive: only what a root reaches counts, weak refs pull nothing."""
    for tool in ("gcc", "ar"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed")
    (tmp_path / "a.c").write_text(
        "__attribute__((noinline)) int helper(int x) { return x * 3; }\n"
        "int unused(int x) { return x + 1000; }\n"
        "extern int weak_thing(int) __attribute__((weak));\n"
        "int root(int x) { return helper(x) + (weak_thing ? weak_thing(x) : 0); }\n"
    )
    (tmp_path / "b.c").write_text("int weak_thing(int x) { return x * x * x + 77; }\n")
    for name in ("a", "b"):
        subprocess.run(["gcc", "-O1", "-ffunction-sections", "-c", f"{name}.c", "-o", f"{name}.o"],
                       cwd=tmp_path, check=True)
    subprocess.run(["ar", "rcs", "libt.a", "a.o", "b.o"], cwd=tmp_path, check=True)
    assert [m for m, _ in _Archive(tmp_path / "libt.a").members()] == ["a.o", "b.o"]
    graph = analyse_objects(tmp_path / "libt.a")
    reached = graph.closure([graph.symbols["root"]])
    names = {graph.sections[s][1] for s in reached}
    assert {".text.root", ".text.helper"} <= names
    assert ".text.unused" not in names
    # b.o is in the same archive (loaded), so the weak reference binds to it, as ld would
    # if b.o were linked for another reason; from a toolchain archive it would pull nothing.
    assert graph.object_sizes()["a.o"][0] > 0


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("kernels", ["cmsis_nn", "reference"])
def test_estimate_against_a_real_link(tflm_library, kernels):
    """The estimate is within 10 % of what a firmware-like link really takes (measured: ~1 %)."""
    from mcugen.tflm.flatbuffer import read_model as _read_model
    from mcugen.calibrate.tflm_probes import measure_code_size

    entry = tflm_library("cortex-m7", kernels)
    op_sets = [["FULLY_CONNECTED"], ["CONV_2D", "ADD", "MUL", "CONCATENATION", "LOGISTIC", "MEAN",
                                     "MAX_POOL_2D", "QUANTIZE", "DEQUANTIZE"]]
    for path in real_model_paths().values():
        op_sets.append(sorted({op.opcode for op in _read_model(path.read_bytes()).subgraphs[0].ops}))
    analysis = codesize.load_analysis(entry)
    for ops in op_sets:
        est = codesize.code_size_estimate(entry, ops, analysis)
        real = measure_code_size(entry, ops)
        assert abs(est.total - real.tflm) <= 0.10 * real.tflm, (ops, est, real)
        assert sum(est.by_part.values()) == est.total
        assert est.by_part[codesize.FRAMEWORK] > 10_000 and not est.unknown_ops
        assert all(est.by_part[op] > 0 for op in ops), est.by_part


def test_cached_code_size_is_none_without_an_entry(tmp_path, monkeypatch):
    from mcugen.boards import get_board
    from mcugen.codesize import cached_tflm_code_size as cached_code_size

    class G:
        opcodes = ["CONV_2D"]

    monkeypatch.setenv("MCUGEN_CACHE_DIR", str(tmp_path))
    assert cached_code_size(G(), get_board("host")) is None
    monkeypatch.setenv("MCUGEN_TFLM_ROOT", str(tmp_path / "no-tree"))
    assert cached_code_size(G(), get_board("stm32h7")) is None  # no tree: no key, no entry


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.timeout(3600)
def test_cached_code_size_for_the_estimate_stage(tflm_library):
    from mcugen.boards import get_board
    from mcugen.codesize import cached_tflm_code_size as cached_code_size

    entry = tflm_library("cortex-m7", "cmsis_nn")

    graph = load_checked(real_model_paths()["person_detect"])
    opcodes = list(dict.fromkeys(op.opcode for op in graph.operators))
    assert set(opcodes) == {"DEPTHWISE_CONV_2D", "CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"}
    size = cached_code_size(graph, get_board("stm32h7"))
    assert size is not None and entry.path.name in size.basis
    assert set(size.by_part) == {"tflm framework", "tflm depthwise_conv_2d", "tflm conv_2d",
                                 "tflm average_pool_2d", "tflm reshape", "tflm softmax", "tflm toolchain libs"}
    assert size.total == codesize.code_size_estimate(entry, opcodes).total
    from mcugen.calibrate.codesize import tflm_reference_table

    table = tflm_reference_table(entry)
    assert table["framework"] > 20_000 and table["ops"]["CONV_2D"] > table["ops"]["RESHAPE"] > 0


# ---------------------------------------------------------------------------------
# the packaged fallback (mcugen/data/code_sizes.json "extra.tflm"): right on a fresh machine


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.timeout(3600)
def test_packaged_tflm_table_is_current(tflm_library):
    """The fallback must be re-measured (python -m mcugen.calibrate.codesize --update) when the
    TFLM tree, the compiler or the measuring changes: it must equal a fresh measurement."""
    from mcugen.calibrate.codesize import TFLM_TABLE_TARGET, tflm_library_key, tflm_reference_table
    from mcugen.codesize import load_table

    entry = tflm_library(*TFLM_TABLE_TARGET)
    table = load_table().get("extra", {}).get("tflm")
    assert table, "no tflm table: run python -m mcugen.calibrate.codesize --update"
    assert table["key"] == tflm_library_key(entry), "TFLM tree or compiler changed: run ... codesize --update"
    assert {**tflm_reference_table(entry), "key": table["key"]} == table


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.timeout(3600)
def test_empty_cache_estimate_is_within_5_percent_of_the_real_build(tflm_library, tmp_path):
    """`estimate --style tflm` with no library cached (a fresh machine) against what `build`
    reports for the same model and board: code flash = flash used - the model's bytes."""
    import json
    import os
    import sys

    tflm_library("cortex-m7", "cmsis_nn")
    model = real_model_paths()["person_detect"]

    def cli(*args, env=None):
        r = subprocess.run([sys.executable, "-m", "mcugen", *map(str, args), "--json"], capture_output=True,
                           text=True, timeout=1800, env={**os.environ, **(env or {})})
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout)

    est = cli("estimate", model, "-t", "stm32h7", "-s", "tflm", env={"MCUGEN_CACHE_DIR": str(tmp_path / "empty")})
    assert any("no cached TFLM library" in n for n in est["notes"])
    assert all(v > 0 for v in est["code_flash_parts"].values()), est["code_flash_parts"]
    cli("generate", model, "-t", "stm32h7", "-s", "tflm", "-o", tmp_path / "p")
    built = cli("build", tmp_path / "p")
    flash = next(r for r in built["regions"] if r["name"] == "flash")
    real_code = flash["used"] - flash["sections"][".nn_weights"]
    assert abs(est["code_flash"] - real_code) <= 0.05 * real_code, (est["code_flash"], real_code)
