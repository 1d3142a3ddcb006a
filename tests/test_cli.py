"""The command line, driven as a user drives it: a subprocess, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import MODELS


def mcugen(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def test_help_shows_commands_and_an_example():
    r = mcugen("--help")
    assert r.returncode == 0
    for cmd in ("inspect", "estimate", "boards"):
        assert cmd in r.stdout
    r = mcugen("estimate", "--help")
    assert "Example: mcugen estimate" in r.stdout


def test_inspect_json(person_detect):
    r = mcugen("inspect", person_detect, "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["macs"] == 7_160_194 and j["weights_bytes"] == 218_928
    assert j["inputs"][0]["shape"] == [1, 96, 96, 1] and j["inputs"][0]["zero_point"] == -1
    assert len(j["layers"]) == 31
    assert j["styles"]["cubeai"]["supported"] and j["styles"]["tflm"]["supported"]


def test_inspect_table(person_detect):
    r = mcugen("inspect", person_detect)
    assert r.returncode == 0
    assert "MACC" in r.stdout and "DEPTHWISE_CONV_2D" in r.stdout and "activations (rw)" in r.stdout


def test_estimate_json(person_detect):
    r = mcugen("estimate", person_detect, "--target", "stm32h7", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["fits"] is True and j["board"] == "nucleo-h743zi2"
    assert {r["name"] for r in j["regions"]} >= {"flash", "axisram"}


def test_estimate_does_not_fit_exits_nonzero(person_detect):
    r = mcugen("estimate", person_detect, "-t", "stm32h7", "--place", "weights=dtcm")
    assert r.returncode == 1
    assert "does not fit" in r.stderr and "dtcm" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["inspect", "nope.tflite"], "does not exist"),
        (["inspect", __file__], "not a TFLite model"),
        (["estimate", str(MODELS / "person_detect.tflite"), "-t", "esp32"], "Unknown target 'esp32'"),
        (["estimate", str(MODELS / "person_detect.tflite"), "-t", "qemu-m7", "--style", "x"], "Unknown style"),
        (["estimate", str(MODELS / "person_detect.tflite"), "-t", "qemu-m7", "--place", "arena"], "KEY=REGION"),
        (["estimate", str(MODELS / "person_detect.tflite"), "-t", "qemu-m7", "--place", "arena=dtcm"],
         "no memory region 'dtcm'"),
        (["estimate", str(MODELS / "person_detect.tflite"), "-t", "qemu-m7", "--style", "tflm", "--kernels", "simd"],
         "Unknown kernel set 'simd' for the tflm style"),
        (["estimate", str(MODELS / "person_detect.tflite"), "-t", "qemu-m7", "--kernels", "cmsis_nn"],
         "Unknown kernel set 'cmsis_nn' for the cubeai style"),
        (["flash-and-measure", str(MODELS)], "not a generated mcugen project"),
        (["build", str(MODELS)], "not a generated mcugen project"),
    ],
)
def test_errors_are_one_message_no_traceback(args, message):
    r = mcugen(*args)
    assert r.returncode != 0
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_truncated_model_is_a_clean_error(tmp_path, person_detect):
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(person_detect.read_bytes()[:5000])
    r = mcugen("inspect", bad)
    assert r.returncode == 1 and "corrupt or truncated" in r.stderr and "Traceback" not in r.stderr


def test_boards_json():
    r = mcugen("boards", "--json")
    assert r.returncode == 0
    names = [b["name"] for b in json.loads(r.stdout)]
    assert "qemu-m7" in names and "nucleo-h743zi2" in names


def test_inspect_and_estimate_do_not_import_tensorflow(person_detect):
    code = (
        "import sys, mcugen.cli as c; sys.argv=['mcugen','estimate',%r,'-t','stm32h7','--json'];"
        "\ntry:\n  c.main()\nexcept SystemExit: pass\n"
        "assert 'tensorflow' not in sys.modules and 'tflite_micro' not in sys.modules, 'heavy import'"
    ) % str(person_detect)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_internal_errors_are_reported_without_traceback(monkeypatch, capsys):
    import mcugen.cli as cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("mcugen.boards.all_boards", broken)
    monkeypatch.setattr(sys, "argv", ["mcugen", "boards"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


def test_usage_errors_exit_2():
    r = mcugen("estimate", "x.tflite", "--bogus")
    assert r.returncode == 2 and "No such option" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------
# cubeai drop-in options: --pools, --c-api, --no-inputs-allocation / --no-outputs-allocation


def test_estimate_pools_shows_activations_per_region(person_detect):
    r = mcugen("estimate", person_detect, "-t", "stm32h7", "--pools", "dtcm:20K,axisram", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    regions = {x["name"]: x for x in j["regions"]}
    pools = j["activation_plan"]["pools"]
    assert [p["region"] for p in pools] == ["dtcm", "axisram"]
    assert regions["dtcm"]["items"]["arena"] == pools[0]["size"] <= 20 * 1024
    assert regions["axisram"]["items"]["arena"] == pools[1]["size"]
    assert j["activation_ram"] == pools[0]["size"] + pools[1]["size"]
    r = mcugen("estimate", person_detect, "-t", "stm32h7", "--pools", "dtcm,axisram")
    assert r.returncode == 0 and "pools dtcm" in r.stdout


def test_pools_refused_with_figures(person_detect, tmp_path):
    r = mcugen("estimate", person_detect, "-t", "stm32h7", "--pools", "dtcm:16K,sram4:16K")
    assert r.returncode == 1 and "36,864" in r.stderr and "no pool can hold it" in r.stderr
    r = mcugen("generate", person_detect, "-t", "stm32h7", "-o", tmp_path / "p", "--pools", "flash")
    assert r.returncode == 1 and "not ram" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "p").exists()
    r = mcugen("generate", person_detect, "-t", "stm32h7", "-o", tmp_path / "p", "--style", "tflm", "--pools", "dtcm")
    assert r.returncode == 1 and "cubeai style only" in r.stderr


def test_generate_legacy_api_own_io_json(person_detect, tmp_path):
    r = mcugen("generate", person_detect, "-t", "host", "-o", tmp_path / "p", "--c-api", "legacy", "--name", "pd",
               "--no-inputs-allocation", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["c_api"] == "legacy" and j["name"] == "pd" and j["inputs_in_activations"] is False
    assert "ai_platform.h" in j["files"] and "pd.h" in j["files"]
    main = (tmp_path / "p" / "main.c").read_text()
    assert "ai_pd_create_and_init" in main and "ai_pd_run" in main
    r = mcugen("generate", person_detect, "-t", "host", "-o", tmp_path / "q", "--c-api", "cube")
    assert r.returncode == 1 and "client API" in r.stderr


def test_library_progress_is_one_line_per_phase_off_a_terminal(capsys):
    """The TFLM library build's progress (first tflm build): silent with --json, one line
    per phase on a pipe (CI logs), never one per object."""
    from mcugen.cli import _library_progress
    from mcugen.tflm.cache import BuildProgress

    assert _library_progress(True) is None
    report = _library_progress(False)
    for p in (BuildProgress("configure", 0, 0, "reading TFLM's Makefile"), BuildProgress("compile", 0, 315),
              BuildProgress("compile", 150, 315), BuildProgress("compile", 315, 315), BuildProgress("done", 315, 315, "212 s")):
        report(p)
    assert capsys.readouterr().err.splitlines() == [
        "mcugen: TFLM library: configure reading TFLM's Makefile", "mcugen: TFLM library: compile ",
        "mcugen: TFLM library: done 212 s"]
