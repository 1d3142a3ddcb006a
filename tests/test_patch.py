"""Patch-based inference (--patch): tile geometry, the stage's overlap proof, sound plans,
the RAM figures, the options' errors, and bit-exact runs on the host and on QEMU."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import tfmodels
from conftest import MODELS
from mcugen.boards import get_board
from mcugen.cli import app
from mcugen.errors import McugenError
from mcugen.lower import Kernels, lower
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model, load_checked
from mcugen.ops.access import _field_rows_cols, geometry
from mcugen.ops.base import PATCH_STAGE
from mcugen.patch.search import PatchSpec, StageSpec, make_stage, patch_model, stage_chains
from mcugen.patch.tiling import PatchError, simulate_stage
from mcugen.planner import check_plan, plan_memory, simulate_plan

PERSON = MODELS / "person_detect.tflite"
QEMU = get_board("qemu-m7")
FAST = Kernels(max_ram_growth=None)  # every Cortex-M7 variant that applies, as the tiles take them


def _odd():
    return tfmodels.cached_model("odd_stage", tfmodels.odd_stage)


def _graph(path):
    return load_checked(path)


STAGES = [
    (PERSON, 4, (2, 2)), (PERSON, 4, (6, 1)), (PERSON, 8, (4, 3)), (PERSON, 8, (5, 5)), (PERSON, 2, (3, 1)),
    ("odd", 3, (2, 2)), ("odd", 4, (3, 2)), ("odd", 7, (2, 3)), ("odd", 5, (4, 1)), ("odd", 2, (5, 3)),
]


def _stage(which, length, grid):
    g = _graph(_odd() if which == "odd" else which)
    chain = stage_chains(g)[0]
    return g, make_stage(g, chain[:length], grid)


@pytest.mark.parametrize("which,length,grid", STAGES, ids=lambda v: str(getattr(v, "stem", v)))
def test_tiles_partition_the_output_and_chain_up(which, length, grid):
    g, stage = _stage(which, length, grid)
    y = g.tensors[stage.output]
    covered = np.zeros(y.shape[1:3], dtype=int)
    for tiles in stage.patches:
        (r0, r1), (c0, c1) = tiles[-1].out_rows, tiles[-1].out_cols
        covered[r0:r1, c0:c1] += 1
        for before, after in zip(tiles, tiles[1:]):
            assert after.in_rows == before.out_rows and after.in_cols == before.out_cols
    assert (covered == 1).all()  # every output pixel computed by exactly one patch
    assert len(stage.patches) == grid[0] * grid[1]


@pytest.mark.parametrize("which,length,grid", STAGES, ids=lambda v: str(getattr(v, "stem", v)))
def test_tiles_read_exactly_the_receptive_field(which, length, grid):
    """Each tile's input span is the union of its outputs' receptive fields (brute force
    over the layer's taps), and its leading padding is what that span leaves out."""
    g, stage = _stage(which, length, grid)
    for j, i in enumerate(stage.ops):
        geo = geometry(g, g.operators[i])
        first_r, last_r, first_c, last_c = _field_rows_cols(geo)
        for tiles in stage.patches:
            t = tiles[j]
            (r0, r1), (c0, c1) = t.out_rows, t.out_cols
            assert t.in_rows == (int(first_r[r0:r1].min()), int(last_r[r0:r1].max()) + 1)
            assert t.in_cols == (int(first_c[c0:c1].min()), int(last_c[c0:c1].max()) + 1)
            assert t.pad_top == max(0, geo.pad_top - r0 * geo.stride_h)
            assert t.pad_left == max(0, geo.pad_left - c0 * geo.stride_w)


@pytest.mark.parametrize("which,length,grid", STAGES, ids=lambda v: str(getattr(v, "stem", v)))
def test_stage_overlap_distance_is_safe_and_the_replay_catches_less(which, length, grid):
    g, stage = _stage(which, length, grid)
    d = stage.min_distance(g)
    assert simulate_stage(g, stage, in_offset=max(d, 0), out_offset=max(-d, 0)) == []
    # The output right on top of the input (d > 0 here) overwrites bytes a later patch reads.
    if d > 0:
        assert simulate_stage(g, stage, in_offset=0, out_offset=0)


@pytest.mark.parametrize("spec", ["auto", "4x3@7", "6x1@3,4x1@7", "2x2", "3x1"])
def test_patched_plans_are_sound(spec):
    g = _graph(PERSON)
    result = patch_model(lower(g, QEMU, FAST), QEMU, spec)
    choice, patched = result.choice, result.lowered.graph
    plan = plan_memory(patched, result.lowered.scratch_bytes)
    assert check_plan(patched, plan) == [] and simulate_plan(patched, plan) == []
    assert plan.arena_size == choice.arena
    # lowered from scratch, the patched graph gives the same calls
    def shape(calls):
        return [(c.op_index, c.kernel, c.scratch_bytes, c.setup, c.declarations, c.call) for c in calls]

    assert shape(lower(patched, QEMU, FAST).calls) == shape(result.lowered.calls)
    stage_ops = [op for op in patched.operators if op.opcode == PATCH_STAGE]
    assert len(stage_ops) == len(choice.stages) == len(choice.lowerings) >= 1
    for op, lowering in zip(stage_ops, choice.lowerings):
        assert op.option("stage") is lowering.stage
        assert plan.scratch[op.index][1] >= lowering.workspace
        for pg, sub in zip(lowering.graphs, lowering.plans):
            assert check_plan(pg.graph, sub) == [] and simulate_plan(pg.graph, sub) == []
            assert sub.arena_size <= lowering.workspace
    # the weights are still the model's
    assert patched.constant_bytes() == g.constant_bytes()


def test_auto_halves_person_detect_within_the_mac_budget():
    fp = estimate_model(_graph(PERSON), get_board("qemu-m7"), GenerateOptions(patch="auto"))
    p = fp.patch
    assert fp.activation_ram == p["activation_ram_patched"]
    assert p["activation_ram_patched"] * 2 <= p["activation_ram_unpatched"]
    assert 0 < p["extra_macs_percent"] <= 10.0
    assert p["macs"] == fp.macs > p["macs_unpatched"]


def test_patch_without_inputs_in_the_arena_compares_like_with_like():
    board = get_board("qemu-m7")
    g = _graph(PERSON)
    fp = estimate_model(g, board, GenerateOptions(patch="auto", inputs_allocation=False))
    plain = estimate_model(g, board, GenerateOptions(inputs_allocation=False))
    assert fp.patch["activation_ram_unpatched"] == plain.activation_ram
    assert fp.activation_ram < plain.activation_ram


def test_spec_parsing():
    assert PatchSpec.parse("auto").auto
    assert PatchSpec.parse("4x3").stages == (StageSpec((4, 3), None),)
    assert PatchSpec.parse("3").stages == (StageSpec((3, 3), None),)
    assert PatchSpec.parse(" 6x1@3, 4x1@7 ").stages == (StageSpec((6, 1), 3), StageSpec((4, 1), 7))
    for bad in ("4y3", "x", "4x3@op", "2x2@"):
        if bad == "2x2@":
            assert PatchSpec.parse(bad).stages == (StageSpec((2, 2), None),)
            continue
        with pytest.raises(PatchError, match="not a patch grid"):
            PatchSpec.parse(bad)


def test_bad_stages_are_refused_clearly():
    g = _graph(PERSON)
    board = get_board("qemu-m7")
    with pytest.raises(PatchError, match="does not split"):
        estimate_model(g, board, GenerateOptions(patch="100x100@3"))
    with pytest.raises(PatchError, match="ends at op 40"):
        estimate_model(g, board, GenerateOptions(patch="2x2@40"))
    with pytest.raises(McugenError, match="cubeai style only"):
        estimate_model(g, board, GenerateOptions(style="tflm", patch="auto"))


@pytest.mark.parametrize("which", [MODELS / "hello_world_int8.tflite", "odd"], ids=["no-conv", "input-bound"])
def test_auto_says_when_patches_cannot_help(which):
    """hello_world has no convolutions at all; the odd stage's peak is its input and first output."""
    g = _graph(_odd() if which == "odd" else which)
    with pytest.raises(PatchError, match="finds no patch stage") as exc:
        estimate_model(g, get_board("qemu-m7"), GenerateOptions(patch="auto"))
    assert exc.value.hint and "grid does not split" not in exc.value.message


def test_cli_estimate_shows_both_figures():
    result = CliRunner().invoke(app, ["estimate", str(PERSON), "-t", "qemu-m7", "--patch", "auto", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    p = data["patch"]
    assert data["activation_ram"] == p["activation_ram_patched"] < p["activation_ram_unpatched"]
    assert p["stages"] and all(s["workspace"] > 0 for s in p["stages"])
    text = CliRunner().invoke(app, ["estimate", str(PERSON), "-t", "qemu-m7", "--patch", "6x1@3,4x1@7"])
    assert text.exit_code == 0 and "instead of 37,328 B" in text.output


def test_cli_patch_error_is_a_message_not_a_traceback():
    from test_cli import mcugen

    r = mcugen("estimate", PERSON, "-t", "qemu-m7", "--patch", "4y4")
    assert r.returncode == 1
    assert "not a patch grid" in r.stderr and "--patch auto" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------
# bit-exact runs


def _validate(path, target, n, tmp_path, **kw):
    from mcugen import project

    gen, built, rep = project.validate(path, target, GenerateOptions(**kw), random=n, seed=5, output=tmp_path / "p",
                                       force=True)
    assert rep.inputs == n
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0, \
        [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    assert rep.activation_bytes == gen.footprint.activation_ram  # the firmware's arena is the plan
    assert gen.footprint.patch is not None
    return gen, rep


HOST_CASES = [
    (PERSON, "auto"), (PERSON, "3x3@7"), (PERSON, "2x2"), (PERSON, "6x1@3,4x1@7"), (PERSON, "5x3@7"),
    ("odd", "3x3@2"), ("odd", "2x3@6"), ("odd", "3x2,2x1"),
    ("mobilenet_v1_96_u8_f32", "auto"), ("ssdlite_head", "2x2"), ("mnasnet_like", "3x3"),
]


def _path(which):
    if which == "odd":
        return _odd()
    if isinstance(which, str):
        from test_e2e_models import _synthetic

        return _synthetic(which)
    return which


@pytest.mark.slow
@pytest.mark.parametrize("which,spec", HOST_CASES, ids=lambda v: str(getattr(v, "stem", v)))
def test_patched_networks_are_bit_exact_on_the_host(which, spec, tmp_path):
    from mcugen.ops import total_macs

    path = _path(which)
    gen, rep = _validate(path, "host", 20, tmp_path, patch=spec)
    # the API's MACC is the model's, without the recomputation
    manifest = json.loads((tmp_path / "p" / "mcugen.json").read_text())
    assert manifest["macs"] == total_macs(_graph(path)) < gen.footprint.macs


QEMU_CASES = [
    (PERSON, "auto", {}), (PERSON, "4x3@7", {}), ("odd", "2x3@6", {}), ("odd", "3x2,2x1", {}),
    (PERSON, "auto", {"inputs_allocation": False}), (PERSON, "auto", {"pools": "ssram23:12K,ssram1"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("which,spec,kw", QEMU_CASES, ids=lambda v: str(getattr(v, "stem", v)))
def test_patched_networks_are_bit_exact_on_qemu(which, spec, kw, tmp_path):
    """The Cortex-M7 SIMD kernels on tiles (the host runs the portable ones)."""
    gen, rep = _validate(_path(which), "qemu-m7", 20, tmp_path, patch=spec, **kw)
    assert any(k.startswith("arm/") for k in gen.details["kernels"])


@pytest.mark.slow
def test_patched_person_detect_classifies_the_images_on_qemu(tmp_path):
    from mcugen import project

    gen, built, rep = project.validate(PERSON, "qemu-m7", GenerateOptions(patch="auto"),
                                       input_files=[MODELS / "person.bmp", MODELS / "no_person.bmp"],
                                       random=0, output=tmp_path / "p", force=True)
    assert rep.comparison.bit_exact
    outs = [np.asarray(o[0]).reshape(-1).tolist() for o in rep.outputs]
    assert outs == [[-113, 113], [57, -57]]


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["6x1@3,4x1@7", "3x3@7"])
def test_patched_code_touches_exactly_the_plan(spec, tmp_path):
    """As test_codegen_cubeai.test_activation_buffer_is_the_plan, for a patched network
    (portable kernels on the host): guard bytes around the arena stay untouched, the
    highest byte written is the plan's end, and 16 bytes less is overrun."""
    from test_codegen_cubeai import check_touches_exactly_the_plan

    patched = patch_model(lower(_graph(PERSON), QEMU, Kernels(simd=False)), QEMU, spec).lowered.graph
    check_touches_exactly_the_plan(patched, tmp_path)


def test_cached_tile_lowerings_do_not_leak_between_stages():
    """The search shares one cache over many candidate stages: a layer sitting at another
    place in another stage must not get the lowering made for the first one."""
    from mcugen.lower.patch_stage import lower_patch_stage

    g = _graph(PERSON)
    cache: dict = {}
    lower_patch_stage(g, make_stage(g, (0, 1, 2, 3), (6, 1)), None, cache=cache)
    shared = lower_patch_stage(g, make_stage(g, (1, 2, 3), (6, 1)), None, cache=cache)
    fresh = lower_patch_stage(g, make_stage(g, (1, 2, 3), (6, 1)), None)
    assert shared.call.setup == fresh.call.setup
    assert shared.call.declarations == fresh.call.declarations
    assert shared.workspace == fresh.workspace


def test_patched_plan_over_two_pools_is_sound():
    from mcugen.planner.pools import plan_activations
    lowered = patch_model(lower(_graph(PERSON), QEMU, FAST), QEMU, "8x1@3,4x4@8").lowered
    patched = lowered.graph
    # Neither pool holds the 15,600 B arena, so the joint planner must cut it (with a large slow
    # pool it keeps the one arena there: a cut would cost more than its 2 % slack).
    plan = plan_activations(patched, lowered.scratch_bytes, pools=[("fast", 12 * 1024), ("slow", 12 * 1024)])
    assert len(plan.pools) == 2
    assert check_plan(patched, plan) == [] and simulate_plan(patched, plan) == []
