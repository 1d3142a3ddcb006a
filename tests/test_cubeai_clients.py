"""ST's client APIs as ST ships them: applications written in the style of each
generation of ST's templates (tests/fixtures/cubeai_clients/, written for these
tests from the facts of ../shared/CUBEAI_API.md and public generated projects),
compiled unchanged against `generate --c-api <the API a user of that generation
picks>` with -Wall -Wextra -Werror, and run bit-exact against the reference.

legacy_5_x   X-CUBE-AI 5.x app_x-cube-ai.c: AI_NETWORK_IN initialisers, create + init with
             the AI_NETWORK_DATA_WEIGHTS/ACTIVATIONS initialisers, n_batches (--c-api legacy-6)
legacy_6_0   X-CUBE-AI 6.0: ai_datatypes_defines.h, AI_NETWORK_PARAMS_INIT, get_info (legacy-6)
fpai_vision_interface  FP-AI-VISION1 ai_interface.c: ai_init/ai_run over positional params (legacy-6)
legacy_7_1   X-CUBE-AI 7.1 app_x-cube-ai.c: create_and_init, I/O from inputs_get
legacy_10_x  X-CUBE-AI 8-10 legacy: create, data_params_get, ARRAY_ITEM_SET_ADDRESS,
             init, report macros, `#if AI_NETWORK_INPUTS_IN_ACTIVATIONS`
stai_2_x     ST Edge AI Core 2.x: context macro, flags decide get_ or set_inputs
stai_3_x     X-CUBE-AI 10 / Edge AI Core 3.x st-ai template: own I/O buffers, info
stai_4_x     Edge AI Core 4.x: get_context_size(), array macros, init_format,
             callbacks, g_network_weights_array
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import needs_arm, needs_qemu, needs_reference
from test_cubeai_api import MODELS, MODELS_DIR, _qemu_argv, _samples, assert_exact, build_app_host, build_app_qemu
from test_cubeai_api import DRIVER, STRICT, generate, parse_defines, run_app

from mcugen.model.load import load_model

CLIENTS_DIR = Path(__file__).parent / "fixtures" / "cubeai_clients"
# client -> the --c-api its user picks
CLIENTS = {"legacy_5_x": "legacy-6", "legacy_6_0": "legacy-6", "fpai_vision_interface": "legacy-6",
           "legacy_7_1": "legacy", "legacy_10_x": "legacy", "stai_2_x": "st-ai", "stai_3_x": "st-ai",
           "stai_4_x": "st-ai"}


def client_files(client: str) -> list[Path]:
    return [CLIENTS_DIR / f"{client}.c", CLIENTS_DIR / "app_io.c", CLIENTS_DIR / "app_io.h"]


def run_client(client: str, model: str, tmp_path: Path, n: int = 3, **options) -> None:
    graph = load_model(MODELS_DIR / f"{model}.tflite")
    root = tmp_path / "p"
    generate(graph, "host", root, c_api=CLIENTS[client], **options)
    exe = build_app_host(root, client_files(client), tmp_path / "app")
    samples = _samples(graph, n)
    predicted = run_app([str(exe)], graph, samples, tmp_path / "run")
    assert_exact(graph, predicted, samples)
    if model == "person_detect":
        assert [p[0].reshape(-1).tolist() for p in predicted[:2]] == [[-113, 113], [57, -57]]


@needs_reference
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_client_of_each_generation_runs_bit_exact(client, model, tmp_path):
    run_client(client, model, tmp_path)


@needs_reference
@pytest.mark.parametrize("client, options", [
    ("legacy_7_1", {"inputs_allocation": False, "outputs_allocation": False}),
    ("legacy_10_x", {"pools": "fast:20K,slow"}),
    ("legacy_10_x", {"inputs_allocation": False}),
    ("stai_2_x", {"pools": "fast:20K,slow", "inputs_allocation": False, "outputs_allocation": False}),
    ("stai_3_x", {"pools": "fast:20K,slow"}),
    ("stai_4_x", {"inputs_allocation": False, "outputs_allocation": False}),
])
def test_clients_with_own_io_and_pools(client, options, tmp_path):
    """The same applications when the I/O are the application's buffers
    (--no-inputs-allocation: the macros say so) or the activations span two pools."""
    run_client(client, "person_detect", tmp_path, n=2, **options)


@needs_reference
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_clients_with_clang(client, tmp_path):
    """The same applications compiled by clang (-Wall -Wextra -Werror): no GCC-only spelling
    in the headers they include."""
    if shutil.which("clang") is None:
        pytest.skip("needs clang")
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    root = tmp_path / "p"
    generate(graph, "host", root, c_api=CLIENTS[client])
    exe = build_app_host(root, client_files(client), tmp_path / "app", cc="clang")
    samples = _samples(graph, 2)
    assert_exact(graph, run_app([str(exe)], graph, samples, tmp_path / "run"), samples)


@pytest.mark.slow
@needs_arm
@needs_qemu
@needs_reference
@pytest.mark.parametrize("client", ["legacy_10_x", "stai_3_x"])
def test_client_on_qemu(client, tmp_path):
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    root = tmp_path / "p"
    generate(graph, "qemu-m7", root, c_api=CLIENTS[client])
    elf = build_app_qemu(root, client_files(client), tmp_path / "fw")
    samples = _samples(graph, 2)
    assert_exact(graph, run_app(_qemu_argv(elf), graph, samples, tmp_path / "run"), samples)


def test_st_file_set_and_include_graph(tmp_path):
    """The files and includes of ST's generated sets: st-ai <name>.h includes stai.h
    and stai_debug.h; the legacy <name>.h includes <name>_config.h and ai_platform.h,
    <name>_data.h includes <name>_config.h and <name>_data_params.h."""
    graph = load_model(MODELS_DIR / "hello_world_int8.tflite")
    stai = generate(graph, "host", tmp_path / "s", c_api="st-ai").out_dir
    legacy = generate(graph, "host", tmp_path / "l", c_api="legacy").out_dir

    def includes(path: Path) -> list[str]:
        return re.findall(r'^#include "([^"]+)"', path.read_text(), re.M)

    assert {"stai.h", "stai_debug.h"} <= set(includes(stai / "network.h"))
    assert (stai / "network_details.h").is_file() and "stai.h" in includes(stai / "network_details.h")
    assert not (stai / "ai_platform.h").exists() and not (stai / "network_data_params.h").exists()
    for f in ("ai_platform.h", "ai_datatypes_defines.h", "network_config.h", "network_data_params.h",
              "network_data_params.c", "stai_debug.h"):
        assert (legacy / f).is_file(), f
    assert {"network_config.h", "ai_platform.h"} <= set(includes(legacy / "network.h"))
    assert {"network_config.h", "network_data_params.h"} <= set(includes(legacy / "network_data.h"))
    assert "ai_platform.h" in includes(legacy / "ai_datatypes_defines.h")


def test_macro_forms_as_st_writes_them(tmp_path):
    """The forms ST's headers give these macros: CONTEXT_SIZE a sizeof of the private
    struct, MODEL_SIGNATURE a number, every size with its _BYTES twin, the
    allocate-inputs macros with a value (usable in #if), AI_NETWORK_IN a call."""
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    root = generate(graph, "host", tmp_path / "p", c_api="both").out_dir
    h = parse_defines((root / "network.h").read_text() + (root / "network_legacy.h").read_text())
    assert h["STAI_NETWORK_CONTEXT_SIZE"] == "(sizeof(_stai_network_context))"
    assert re.fullmatch(r"\(0x[0-9a-f]{16}ULL\)", h["STAI_NETWORK_MODEL_SIGNATURE"])
    for name in ("IN_1_SIZE", "OUT_1_SIZE", "ACTIVATIONS_SIZE", "ACTIVATION_1_SIZE", "WEIGHTS_SIZE",
                 "WEIGHT_1_SIZE", "STATES_SIZE", "IN_SIZE"):
        assert f"STAI_NETWORK_{name}_BYTES" in h, name
    assert h["STAI_NETWORK_IN_FORMATS"] == "{ STAI_FORMAT_S8 }"
    assert "STAI_FLAG_PREALLOCATED" in h["STAI_NETWORK_IN_1_FLAGS"] and "STAI_FLAG_PREALLOCATED" in h[
        "STAI_NETWORK_WEIGHT_1_FLAGS"]
    assert h["AI_NETWORK_INPUTS_IN_ACTIVATIONS"] not in ("", "0")
    assert h["AI_NETWORK_IN"] == "ai_network_inputs_get(AI_HANDLE_NULL, NULL)"
    assert "stai_size stai_network_get_context_size(void);" in (root / "network.h").read_text()
    text = (root / "network_data.h").read_text() + (root / "network_legacy.h").read_text()
    assert "#define AI_NETWORK_DATA_WEIGHTS(ptr_) ai_network_data_weights_buffer_get(AI_HANDLE_PTR(ptr_))" in text
    assert "g_network_weights_array" in text


OWN_INIT = [Path(__file__).parent / "fixtures" / "cubeai_own_init" / f for f in ("ai_app.c", "ai_app.h")]


def _cc(*argv: str) -> None:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[:3000]


@needs_reference
@pytest.mark.parametrize("c_api", ["st-ai", "both"])
def test_stai_app_defining_its_own_ai_network_init(c_api, tmp_path):
    """An st-ai application that defines a global `ai_error_t ai_network_init(void)` (as public
    hand-written st-ai projects do) compiles and links unchanged with --c-api both: the st-ai
    headers hold no legacy name, and the legacy API's objects are a static library (as the
    project Makefile, CMake, Zephyr and PlatformIO build them), linked only when called."""
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    root = generate(graph, "host", tmp_path / "p", c_api=c_api).out_dir
    m = json.loads((root / "mcugen.json").read_text())
    legacy = m["legacy_sources"]
    assert bool(legacy) == (c_api == "both")
    assert not re.search(r"\bai_network_[a-z]", (root / "network.h").read_text())
    assert "ai_platform.h" not in (root / "network_data.h").read_text()
    includes = [f"-I{root / d}" for d in m["include_dirs"]] + [f"-I{DRIVER}", f"-I{CLIENTS_DIR}",
                                                               f"-I{OWN_INIT[0].parent}"]
    objs = tmp_path / "obj"
    objs.mkdir()
    sources = [root / s for s in m["host_sources"] if s != "host_main.c"]
    app = [OWN_INIT[0], CLIENTS_DIR / "app_io.c", DRIVER / "driver_io_host.c"]
    for src in [*sources, *app]:
        _cc("cc", *STRICT, *includes, "-c", str(src), "-o", str(objs / f"{src.parent.name}_{src.stem}.o"))
    archive = tmp_path / "liblegacy.a"
    members = [objs / f"{(root / s).parent.name}_{Path(s).stem}.o" for s in legacy]
    if members:
        _cc("ar", "rcs", str(archive), *map(str, members))
    plain = [p for p in objs.glob("*.o") if p not in members]
    exe = tmp_path / "app"
    _cc("cc", "-o", str(exe), *map(str, plain), *([str(archive)] if members else []), "-lm")
    samples = _samples(graph, 3)
    predicted = run_app([str(exe)], graph, samples, tmp_path / "run")
    assert_exact(graph, predicted, samples)
    assert [p[0].reshape(-1).tolist() for p in predicted[:2]] == [[-113, 113], [57, -57]]


@needs_reference
@pytest.mark.parametrize("model", ["person_detect", "micro_speech_quantized"])
def test_5_x_activations_aligned_to_4_only(model, tmp_path):
    """ST's 5.x template declares `AI_ALIGNED(4) ai_u8 activations[AI_NETWORK_DATA_ACTIVATIONS_SIZE]`
    (legacy_5_x.c keeps that line): the size macro holds the slack and ai_network_init rounds
    the base up to the kernels' 16. Here the buffer sits 4 bytes past a 16-byte boundary for
    sure: the arena used is aligned and inside it, the outputs bit-exact; 15 bytes shorter,
    init refuses it (INVALID_PARAM) rather than run misaligned or past the end."""
    graph = load_model(MODELS_DIR / f"{model}.tflite")
    root = generate(graph, "host", tmp_path / "p", c_api="legacy-6").out_dir
    arena = json.loads((root / "mcugen.json").read_text())["arena_size"]
    assert f"#define AI_NETWORK_DATA_ACTIVATIONS_SIZE ({arena + 15})" in (root / "network_data.h").read_text()
    files = [CLIENTS_DIR / "legacy_5_x_offset.c", CLIENTS_DIR / "app_io.c", CLIENTS_DIR / "app_io.h"]
    samples = _samples(graph, 3)
    exe = build_app_host(root, files, tmp_path / "app")
    assert_exact(graph, run_app([str(exe)], graph, samples, tmp_path / "run"), samples)
    short = build_app_host(root, files, tmp_path / "short", extra=("-DAPP_NO_SLACK",))
    assert run_app([str(short)], graph, [], tmp_path / "run_short") == []


@pytest.mark.slow
@needs_arm
@needs_qemu
@needs_reference
def test_5_x_activations_aligned_to_4_only_on_qemu(tmp_path):
    """The same on the Cortex-M7 (where the kernels' word loads need the alignment)."""
    graph = load_model(MODELS_DIR / "person_detect.tflite")
    root = generate(graph, "qemu-m7", tmp_path / "p", c_api="legacy-6").out_dir
    files = [CLIENTS_DIR / "legacy_5_x_offset.c", CLIENTS_DIR / "app_io.c", CLIENTS_DIR / "app_io.h"]
    elf = build_app_qemu(root, files, tmp_path / "fw")
    samples = _samples(graph, 2)
    assert_exact(graph, run_app(_qemu_argv(elf), graph, samples, tmp_path / "run"), samples)


WEIGHTS_ARRAY_CHECK = r"""
#include <stdint.h>
#include "network.h"
#include "network_data.h"
/* a real array object: sizeof is the blob's, not a pointer's (ST's <name>_data.h declares it so) */
typedef char weights_array_is_an_array[(sizeof(g_network_weights_array) == STAI_NETWORK_WEIGHTS_SIZE_BYTES) ? 1 : -1];
#ifdef LEGACY
typedef char legacy_name[(sizeof(s_network_weights_array_u64) == AI_NETWORK_DATA_WEIGHTS_SIZE) ? 1 : -1];
#endif
int main(void)
{
    /* its first word is the blob's signature, and the network runs from it by default */
    return (uint32_t)(g_network_weights_array[0] & 0xFFFFFFFFu) == NETWORK_WEIGHTS_SIGNATURE ? 0 : 1;
}
"""


@pytest.mark.parametrize("c_api", ["st-ai", "legacy"])
def test_weights_array_is_an_array_object(c_api, tmp_path):
    """`extern const uint64_t g_<name>_weights_array[N]` as ST's st-ai <name>_data.h declares
    it (and X-CUBE-AI 7.1+'s s_<name>_weights_array_u64): sizeof gives the blob's bytes."""
    graph = load_model(MODELS_DIR / "hello_world_int8.tflite")
    root = generate(graph, "host", tmp_path / "p", c_api=c_api).out_dir
    m = json.loads((root / "mcugen.json").read_text())
    src = tmp_path / "check.c"
    src.write_text(WEIGHTS_ARRAY_CHECK)
    exe = tmp_path / "check"
    includes = [f"-I{root / d}" for d in m["include_dirs"]]
    _cc("cc", *STRICT, *includes, *(["-DLEGACY"] if c_api == "legacy" else []), "-o", str(exe), str(src),
        str(root / "network_data.c"))
    assert subprocess.run([str(exe)], timeout=30).returncode == 0
