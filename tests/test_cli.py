"""The command line, driven as a user drives it: a subprocess, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import shutil
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
    examples = r.stdout.split("Examples:")[1].splitlines()
    assert examples[1].strip().startswith("mcugen estimate") and examples[2].strip().startswith("mcugen estimate")


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
    # the error proposes what fits, computed: the weights back in the flash
    assert "What would fit (estimated): --place weights=flash: weights" in r.stderr and "; fits" in r.stderr


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
    boards = {b["name"]: b for b in json.loads(r.stdout)["boards"]}
    assert "qemu-m7" in boards and "nucleo-h743zi2" in boards
    h7 = boards["nucleo-h743zi2"]
    assert {k: h7["uart"][k] for k in ("name", "tx", "rx", "baud")} == {"name": "USART3", "tx": "PD8", "rx": "PD9",
                                                                       "baud": 115200}
    assert h7["probe"]["name"] == "ST-LINK/V3E" and h7["probe"]["firmware"] == ["stlink"]
    assert h7["runners"] == ["pyocd", "openocd", "stm32cubeprogrammer", "jlink"]
    assert h7["flash"]["jlink_device"] == "STM32H743ZI" and h7["flash"]["cmsis_pack"] == "Keil.STM32H7xx_DFP"
    rt = boards["mimxrt1050-evkb"]
    assert rt["uart"]["tx"] == "GPIO_AD_B0_12" and rt["probe"]["firmware"] == ["daplink", "jlink"]
    assert rt["flash"]["linkserver_device"] == "MIMXRT1052xxxxB:EVKB-IMXRT1050"
    assert boards["qemu-m7"]["probe"] is None


def test_boards_table_shows_uart_pins_baud_and_probe():
    import os

    r = subprocess.run([sys.executable, "-m", "mcugen", "boards"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0
    serial = r.stdout[r.stdout.index("Serial and probes"):]
    rows = {line.split("│")[1].strip(): line for line in serial.splitlines() if line.count("│") > 5}
    h747 = [c.strip() for c in rows["stm32h747i-disco"].split("│")[1:-1]]
    assert h747 == ["stm32h747i-disco", "USART1", "PA9/PA10", "115200", "ST-LINK/V3E: stlink",
                    "pyocd, openocd, stm32cubeprogrammer, jlink"]
    rt = [c.strip() for c in rows["mimxrt1050-evkb"].split("│")[1:-1]]
    assert rt[1:5] == ["LPUART1", "GPIO_AD_B0_12/GPIO_AD_B0_13", "115200", "OpenSDA: daplink (or jlink)"]


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

    monkeypatch.setattr("mcugen.cli.all_boards", broken)
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
    from mcugen.report import library_progress as _library_progress
    from mcugen.tflm.cache import BuildProgress

    assert _library_progress(True) is None
    report = _library_progress(False)
    for p in (BuildProgress("configure", 0, 0, "reading TFLM's Makefile"), BuildProgress("compile", 0, 315),
              BuildProgress("compile", 150, 315), BuildProgress("compile", 315, 315), BuildProgress("done", 315, 315, "212 s")):
        report(p)
    assert capsys.readouterr().err.splitlines() == [
        "mcugen: TFLM library: configure reading TFLM's Makefile", "mcugen: TFLM library: compile ",
        "mcugen: TFLM library: done 212 s"]


def test_runner_options_it_cannot_use_are_refused(tmp_path):
    out = tmp_path / "p"
    r = mcugen("generate", MODELS / "hello_world_int8.tflite", "-t", "qemu-m7", "-o", out)
    assert r.returncode == 0, r.stderr
    r = mcugen("flash-and-measure", out, "--probe", "0670FF")
    assert r.returncode == 1 and "The qemu runner does not take --probe" in r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


# ---------------------------------------------------------------------------------
# Hostile text in the model: rich markup and terminal escape sequences in its description, tensor
# names and file name print literally (escaped), never as markup, and never reach the terminal.

# each as long as the name it replaces in hello_world_int8
HOSTILE_DESCRIPTION = b"[bold][/x]\x1b[2J!"
HOSTILE_INPUT = b"[/x]in\x1b]0;pwn\x07[red]\r[b]inputs"
HOSTILE_OUTPUT = "[/]out\x1b[31m\u009b[x][i]output".encode()
HOSTILE_FILE = "[bold]m[red]\x1b[31m"  # a file name cannot hold the / of a closing tag


def _hostile_model(tmp_path, edit_more=None):
    import _tflite_edit as edit

    data = (MODELS / "hello_world_int8.tflite").read_bytes()
    assert (len(HOSTILE_DESCRIPTION), len(HOSTILE_INPUT), len(HOSTILE_OUTPUT)) == (15, 29, 25)
    data = edit.rename(data, b"MLIR Converted.", HOSTILE_DESCRIPTION)
    data = edit.rename(data, b"serving_default_dense_input:0", HOSTILE_INPUT)
    data = edit.rename(data, b"StatefulPartitionedCall:0", HOSTILE_OUTPUT)
    if edit_more:
        data = edit_more(data)
    path = tmp_path / f"{HOSTILE_FILE}.tflite"
    path.write_bytes(data)
    return path


def _wide(*args, timeout=120):
    import os

    env = {**os.environ, "COLUMNS": "250"}  # no wrapping inside the names
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _terminal_safe(r: subprocess.CompletedProcess) -> None:
    for stream in (r.stdout, r.stderr):
        bad = [c for c in stream if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F]
        assert not bad, f"control characters {bad!r} reached the terminal"
    assert "Traceback" not in r.stderr and "MarkupError" not in r.stderr and "internal error" not in r.stderr


def test_hostile_names_print_literally(tmp_path):
    model = _hostile_model(tmp_path)

    r = _wide("inspect", model)
    assert r.returncode == 0, r.stderr
    _terminal_safe(r)
    assert "description: [bold][/x]\\x1b[2J!" in r.stdout
    assert "[/x]in\\x1b]0;pwn\\x07[red]\\x0d[b]inputs" in r.stdout
    assert "[/]out\\x1b[31m\\x9b[x][i]output" in r.stdout
    assert "[bold]m[red]\\x1b[31m" in r.stdout

    r = _wide("inspect", model, "--json")  # JSON keeps the names exact (json escapes them)
    assert r.returncode == 0 and json.loads(r.stdout)["inputs"][0]["name"] == HOSTILE_INPUT.decode()
    _terminal_safe(r)

    r = _wide("estimate", model, "-t", "qemu-m7")
    assert r.returncode == 0, r.stderr
    _terminal_safe(r)
    assert "[bold]m[red]\\x1b[31m on " in r.stdout

    r = _wide("generate", model, "-t", "host", "-o", tmp_path / "out[/x]")
    assert r.returncode == 0, r.stderr
    _terminal_safe(r)
    assert "out[/x]" in r.stdout


def test_hostile_names_in_error_messages(tmp_path):
    import _tflite_edit as edit

    # the input tensor (named with markup and escapes) gets a zero dimension: refused, named
    model = _hostile_model(tmp_path, lambda data: edit.set_dim(data, 0, 1, 0))
    for command in (["inspect", model], ["estimate", model, "-t", "qemu-m7"],
                    ["generate", model, "-t", "host", "-o", tmp_path / "p"]):
        r = _wide(*command)
        assert r.returncode == 1, r.stderr
        _terminal_safe(r)
        assert "Tensor 0 '[/x]in\\x1b]0;pwn\\x07[red]\\x0d[b]inputs' (model input 1) has no elements" in r.stderr

    cut = tmp_path / "[bold]\x1b[2Jcut.tflite"  # the file name alone carries the markup
    cut.write_bytes(model.read_bytes()[:100])
    r = _wide("inspect", cut)
    assert r.returncode == 1 and "'[bold]\\x1b[2Jcut' is a corrupt or truncated TFLite file" in r.stderr
    _terminal_safe(r)


@pytest.mark.slow
def test_hostile_names_through_build_and_validate(tmp_path):
    model = _hostile_model(tmp_path)
    out = tmp_path / "p[/x]"
    r = _wide("generate", model, "-t", "host", "-o", out)
    assert r.returncode == 0, r.stderr
    r = _wide("build", out, timeout=600)
    assert r.returncode == 0, r.stderr
    _terminal_safe(r)
    assert "p[/x]" in r.stdout
    r = _wide("validate", model, "-t", "host", "--inputs", "2", timeout=600)
    assert r.returncode == 0, r.stderr
    _terminal_safe(r)
    assert "[/]out\\x1b[31m\\x9b[x][i]o" in r.stdout and "bit-exact" in r.stdout  # cut at 40 characters


def test_int8_lstm_is_inspected_with_the_style_of_each_op_not_refused():
    """issue 16: the LSTM (empty intermediates) is neither a dynamic shape nor refused: inspect says
    which style runs each op (both run the integer LSTM) and counts its MACs (4 gates x (input +
    recurrent) projections per step)."""
    pytest.importorskip("tensorflow")
    from tfmodels import cached_tflite, int8_lstm

    model = cached_tflite("int8_lstm", int8_lstm)
    r = mcugen("inspect", model, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    lstm = data["layers"][0]
    assert lstm["op"] == "UNIDIRECTIONAL_SEQUENCE_LSTM" and lstm["macs"] == 8 * 4 * 8 * (4 + 8)
    assert lstm["styles"]["tflm"] == {"runs": True, "reason": None}
    assert lstm["styles"]["cubeai"] == {"runs": True, "reason": None}
    assert data["macs"] is not None and not data["macs_unknown_ops"]
    assert data["styles"]["tflm"]["supported"] and data["styles"]["cubeai"]["supported"]
    r = _wide("inspect", model)
    assert r.returncode == 0, r.stderr
    assert "runs in" in r.stdout and "does not run" not in r.stdout
    assert "dynamic or empty" not in r.stderr and "Traceback" not in r.stderr


# Boards as people have them: the runner, its serial port, baud and CMSIS pack, through the CLI


@pytest.fixture
def h7_project(tmp_path, person_detect):
    from _images import make_project

    return make_project(tmp_path / "h7", "nucleo-h743zi2", person_detect, 0x08000000)


def test_openocd_finds_the_port_itself_then_stops_at_the_probe(h7_project):
    """issue 18: `--runner openocd` asked for --port although --help said it is found."""
    import os

    r = mcugen("flash-and-measure", h7_project, "--runner", "openocd", "--random", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "needs the board's serial port" not in r.stderr
    assert "No serial port of nucleo-h743zi2's probe ST-LINK/V3E (stlink 0483:374B" in r.stderr
    master, slave = os.openpty()
    try:  # the port given: the real OpenOCD runs and finds no ST-LINK
        r = mcugen("flash-and-measure", h7_project, "--runner", "openocd", "--port", os.ttyname(slave),
                   "--baud", "115200", "--random", "1")
    finally:
        os.close(master)
        os.close(slave)
    if shutil.which("openocd"):
        assert r.returncode == 1 and "OpenOCD failed" in r.stderr and "No probe found" in r.stderr


def test_vendor_tools_missing_say_where_to_get_them(h7_project):
    r = mcugen("flash-and-measure", h7_project, "--runner", "jlink", "--random", "1")
    if shutil.which("JLinkExe") is None:
        assert r.returncode == 1 and "'JLinkExe' is not installed" in r.stderr
        assert "https://www.segger.com/downloads/jlink/" in r.stderr and "Traceback" not in r.stderr
    r = mcugen("flash-and-measure", h7_project, "--runner", "linkserver")
    assert r.returncode == 1 and "Runner 'linkserver' cannot run nucleo-h743zi2" in r.stderr


def test_pyocd_pack_option(h7_project, tmp_path):
    """--pack exists; a real pack reaches pyOCD's probe search; a broken one is a clear error."""
    from _cmsis_pack import build_flm, build_pack

    good = build_pack(tmp_path / "Keil.STM32H7xx_DFP.9.9.9.pack", build_flm(tmp_path / "a.FLM"))
    r = mcugen("flash-and-measure", h7_project, "--runner", "pyocd", "--pack", good, "--random", "1")
    assert r.returncode == 1 and "No debug probe found for nucleo-h743zi2" in r.stderr, r.stderr
    bad = tmp_path / "broken.pack"
    bad.write_bytes(b"PK\x03\x04 truncated")
    r = mcugen("flash-and-measure", h7_project, "--runner", "pyocd", "--pack", bad, "--no-pack-download")
    assert r.returncode == 1 and "is not a usable CMSIS pack: it is not a zip archive" in r.stderr
    assert "internal error" not in r.stderr and "MalformedCmsisPackError" not in r.stderr


def test_baud_reaches_the_firmware_and_is_checked(person_detect, h7_project, tmp_path):
    r = mcugen("flash-and-measure", h7_project, "--runner", "openocd", "--baud", "921600", "--random", "1")
    assert r.returncode == 1 and "talks at 115200 baud (its build); --baud 921600 would not reach it" in r.stderr
    r = mcugen("generate", person_detect, "-t", "stm32h7", "-o", tmp_path / "fast", "--baud", "921600", "--json")
    assert r.returncode == 0, r.stderr
    config = (tmp_path / "fast" / "firmware" / "generated" / "mcugen_board_config.h").read_text()
    assert "#define MCUGEN_UART_BAUD 921600u" in config
    assert json.loads((tmp_path / "fast" / "mcugen.json").read_text())["firmware"]["uart_baud"] == 921600
    r = mcugen("validate", person_detect, "-t", "qemu-m7", "--baud", "9600")
    assert r.returncode == 1 and "The qemu runner does not take --baud" in r.stderr  # before any build
    r = mcugen("flash-and-measure", h7_project, "--baud", "0")
    assert r.returncode == 2


HELP_ORDER = ((), ("inspect",), ("estimate",), ("boards",), ("generate",), ("build",), ("flash-and-measure",),
              ("validate",), ("cache", "list"), ("cache", "clear"))


def help_examples(command: tuple[str, ...]) -> list[str]:
    """The command lines under "Example:"/"Examples ...:" in `mcugen COMMAND --help` (not those
    under "With a board attached")."""
    import os

    r = subprocess.run([sys.executable, "-m", "mcugen", *command, "--help"], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    found, inside = [], False
    for line in r.stdout.splitlines():
        if line.strip().startswith("Example"):
            inside = True
        elif inside and line.strip().startswith("mcugen "):
            found.append(line.strip())
        else:
            inside = False
    return found


@pytest.mark.slow
def test_every_help_example_runs_as_written(tmp_path):
    """Each example in the help, run from a folder holding the repository's examples/ (as from
    the repository's top folder), in the order a user follows (generate before build ...)."""
    import os
    import shlex

    (tmp_path / "examples").symlink_to(MODELS.parent)
    env = {**os.environ, "MCUGEN_CACHE_DIR": str(tmp_path / "cache")}  # `cache clear` clears this one
    ran = []
    for command in HELP_ORDER:
        examples = help_examples(command)
        assert examples, f"mcugen {' '.join(command)} --help has no example"
        for example in examples:
            r = subprocess.run([sys.executable, "-m", *shlex.split(example)], capture_output=True, text=True,
                               timeout=900, cwd=tmp_path, env=env)
            assert r.returncode == 0, f"{example}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
            ran.append(example)
    assert len(ran) >= len(HELP_ORDER) + 2
