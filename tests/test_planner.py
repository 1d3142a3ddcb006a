"""The memory planner: no two live tensors share a byte (brute force), on every model."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import MODELS, REAL_MODELS

MODELS_PD = MODELS / "person_detect.tflite"
from mcugen.model.load import load_model
from mcugen.planner import ORDERS, check_plan, plan_memory


def _synthetic_models():
    tfmodels = pytest.importorskip("tfmodels")
    pytest.importorskip("tensorflow")
    return [
        tfmodels.cached_model("mbv1_96x96x1", tfmodels.mobilenet_v1),
        tfmodels.cached_model("mnas", tfmodels.mnasnet_like),
        tfmodels.cached_model("mbv3", tfmodels.mobilenet_v3_block),
        tfmodels.cached_model("ssd", tfmodels.ssdlite_head, q_output_type="float32"),
    ]


@pytest.fixture(scope="module")
def all_models():
    return REAL_MODELS + _synthetic_models()


def test_plans_are_sound_on_every_model(all_models):
    for path in all_models:
        g = load_model(path)
        for strategy in ORDERS:
            plan = plan_memory(g, strategies=[strategy])
            assert check_plan(g, plan) == [], (path.name, strategy)
            assert plan.bound_tensor <= plan.arena_size
        best = plan_memory(g)
        assert check_plan(g, best) == [], (path.name, best.strategy)
        # the beam search may beat every single first-fit order, never lose to one
        assert best.arena_size <= min(plan_memory(g, strategies=[s]).arena_size for s in ORDERS)


def test_person_detect_within_bounds(person_detect):
    plan = plan_memory(load_model(person_detect))
    assert plan.bound_tensor == 36_864  # the 48x48x16 activation
    assert 36_864 <= plan.arena_size <= 55_296  # TFLM's planner needs 55,296 B


def test_checker_finds_an_overlap(person_detect):
    g = load_model(person_detect)
    plan = plan_memory(g)
    # Move the second op's output onto its input: both are live during op 1.
    op = g.operators[1]
    bad_offsets = dict(plan.offsets)
    bad_offsets[op.outputs[0]] = plan.offsets[op.inputs[0]]
    buffers = tuple(
        dataclasses.replace(b, offset=plan.offsets[op.inputs[0]]) if op.outputs[0] in b.tensors else b
        for b in plan.buffers
    )
    broken = dataclasses.replace(plan, offsets=bad_offsets, buffers=buffers)
    problems = check_plan(g, broken)
    assert any(f"tensor {op.outputs[0]}" in p and "overlap" in p for p in problems)


def test_reshape_aliases_its_input(person_detect):
    g = load_model(person_detect)
    plan = plan_memory(g)
    (reshape,) = [op for op in g.operators if op.opcode == "RESHAPE"]
    assert plan.offsets[reshape.inputs[0]] == plan.offsets[reshape.outputs[0]]
    assert plan.buffer_of(reshape.inputs[0]) is plan.buffer_of(reshape.outputs[0])


def test_inplace_elementwise_reuses_a_dying_input():
    tfmodels = pytest.importorskip("tfmodels")
    g = load_model(tfmodels.cached_model("mbv3", tfmodels.mobilenet_v3_block))
    plan = plan_memory(g)
    inplace = [
        op for op in g.operators
        if op.opcode == "HARD_SWISH" and plan.offsets[op.inputs[0]] == plan.offsets[op.outputs[0]]
    ]
    assert inplace, "HARD_SWISH should write over its input when the input dies with it"
    assert check_plan(g, plan) == []
    separate = plan_memory(g, inplace=False)
    assert separate.arena_size >= plan.arena_size
    assert check_plan(g, separate) == []


def test_scratch_buffers_are_planned(person_detect):
    g = load_model(person_detect)
    scratch = {op.index: 1000 for op in g.operators if op.opcode == "CONV_2D"}
    plan = plan_memory(g, scratch)
    assert set(plan.scratch) == set(scratch)
    assert all(size >= 1000 for _, size in plan.scratch.values())
    assert check_plan(g, plan) == []
    assert plan.arena_size >= plan_memory(g).arena_size


def test_variable_state_lives_for_the_whole_run(models_dir):
    g = load_model(models_dir / "keyword_scrambled_8bit.tflite")
    plan = plan_memory(g)
    last = len(g.operators) - 1
    for t in g.tensors:
        if t.is_variable:
            b = plan.buffer_of(t.index)
            assert (b.first, b.last) == (0, last)
    assert check_plan(g, plan) == []


def test_overlap_plans_replay_safely_on_every_model(all_models):
    """Byte-level replay of each overlapping op's read/write order on the plan."""
    from mcugen.planner import simulate_plan

    for path in all_models:
        g = load_model(path)
        plan = plan_memory(g)
        assert simulate_plan(g, plan) == [], path.name


def test_person_detect_overlap_plan_is_small(person_detect):
    g = load_model(person_detect)
    plan = plan_memory(g)
    assert plan.arena_size <= 38 * 1024  # the performance goal, input and output included
    assert plan.arena_size < plan_memory(g, overlap=False).arena_size
    assert plan.overlaps


def test_replay_catches_an_unsafe_overlap(person_detect):
    """Move a pointwise conv's input one alignment step too low: the replay must object."""
    from mcugen.ops.access import min_distance, simulate_op

    g = load_model(person_detect)
    op = next(op for op in g.operators if op.opcode == "CONV_2D")
    d = min_distance(g, op)
    out_off = 0
    assert simulate_op(g, op, in_offset=out_off + d, out_offset=out_off) == []
    assert simulate_op(g, op, in_offset=out_off + d - 16, out_offset=out_off) != []


def test_min_distance_matches_the_raster_order():
    """1x1 conv, 8 -> 16 channels, 48x48: writes run ahead of reads by 8 B a pixel."""
    from mcugen.ops.access import min_distance

    g = load_model(MODELS_PD)
    op = next(op for op in g.operators if op.opcode == "CONV_2D")
    assert g.tensors[op.inputs[0]].shape == (1, 48, 48, 8)
    pixels = 48 * 48
    # step k writes (k+1)*16 bytes; with two pixels in flight, reads start at (k-1)*8
    assert min_distance(g, op) == max((k + 1) * 16 - max(k - 1, 0) * 8 for k in range(pixels))


def test_pools_split_without_straddling(all_models):
    from mcugen.planner import plan_pools, simulate_plan

    for path in all_models:
        g = load_model(path)
        single = plan_memory(g).arena_size
        plan = plan_pools(g, [("fast", single // 3), ("big", 10 * single)])
        assert check_plan(g, plan) == [] and simulate_plan(g, plan) == []
        # planned together, the pools cost at most 2 % more than one arena
        assert plan.arena_size <= single * 1.02, (path, plan.arena_size, single)
        for pool in plan.pools:
            assert pool.size <= pool.capacity
        for b in plan.buffers:  # every buffer lies wholly inside its own pool
            assert 0 <= b.offset and b.offset + b.size <= plan.pools[b.pool].size


def test_three_pools_are_planned_together(all_models):
    """Over three pools (the first two small), the pools still total at most 1.02x the one
    arena, every buffer inside its pool, both checkers pass."""
    from mcugen.planner import plan_pools, simulate_plan

    for path in all_models:
        g = load_model(path)
        single = plan_memory(g).arena_size
        plan = plan_pools(g, [("a", single // 4), ("b", single // 3), ("c", 10 * single)])
        assert check_plan(g, plan) == [] and simulate_plan(g, plan) == []
        assert plan.arena_size <= single * 1.02, (path, plan.arena_size, single)
        for b in plan.buffers:
            assert 0 <= b.offset and b.offset + b.size <= plan.pools[b.pool].size <= plan.pools[b.pool].capacity


def test_pools_prefer_the_first_region_and_refuse_what_fits_nowhere(person_detect):
    from mcugen.errors import FitError
    from mcugen.planner import plan_pools

    g = load_model(person_detect)
    roomy = plan_pools(g, [("dtcm", 128 * 1024), ("axisram", 512 * 1024)])
    assert roomy.pools[0].size > 0 and all(b.pool == 0 for b in roomy.buffers)
    with pytest.raises(FitError, match="needs 36,864 B; no pool can hold it"):
        plan_pools(g, [("a", 20_000), ("b", 30_000)])
    with pytest.raises(FitError, match="do not fit the pools"):
        plan_pools(g, [("a", 36_864), ("b", 1_000)])
