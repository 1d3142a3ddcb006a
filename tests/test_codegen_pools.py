"""Activation pools and I/O allocation of the cubeai style (mcugen.planner.pools and
mcugen.pipeline.cubeai_plan): the split, its fit, no tensor across two pools, the
linker sections, and bit-exact runs with the pools guarded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcugen.boards import get_board
from mcugen.planner.pools import (
    compact_pools,
    parse_pools,
    parse_size,
    plan_activations,
    planning_graph,
    pool_capacities,
)
from mcugen.errors import BoardError, FitError, McugenError
from mcugen.lower import lower
from mcugen.options import GenerateOptions
from mcugen.emit import generate
from mcugen.pipeline import cubeai_plan, plan_model
from mcugen.model.load import load_model
from mcugen.planner import check_plan, plan_pools
from conftest import needs_reference, needs_tf, needs_arm, needs_qemu  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "examples" / "models"
MODELS = sorted(p.stem for p in MODELS_DIR.glob("*.tflite"))


def _graph(name: str):
    return load_model(MODELS_DIR / f"{name}.tflite")


def _scratch(graph):
    """Scratch bytes per op of the portable kernels (the host's)."""
    return lower(graph, get_board("host")).scratch_bytes


# ---------------------------------------------------------------------------------
# parsing


def test_parse_pools_and_sizes():
    assert [(s.region, s.limit) for s in parse_pools("dtcm,axisram")] == [("dtcm", None), ("axisram", None)]
    assert [(s.region, s.limit) for s in parse_pools(["ssram23:96K", "psram:1M"])] == [
        ("ssram23", 96 * 1024), ("psram", 1 << 20)]
    assert parse_pools(None) == [] and parse_pools("") == []
    assert parse_size("4096") == 4096 and parse_size("2KiB") == 2048 and parse_size("3kb") == 3072
    with pytest.raises(McugenError, match="more than once"):
        parse_pools("dtcm,dtcm")
    with pytest.raises(McugenError, match="REGION"):
        parse_pools("dtcm;axisram")
    with pytest.raises(McugenError, match="not a size"):
        parse_pools("dtcm:lots")


def test_capacities_and_region_checks():
    board = get_board("stm32h7")
    caps = pool_capacities(board, parse_pools("dtcm,axisram:100K"), {"dtcm": 20000})
    assert caps == [("dtcm", 128 * 1024 - 20000), ("axisram", 100 * 1024)]
    with pytest.raises(McugenError, match="flash, not ram"):
        pool_capacities(board, parse_pools("flash"))
    with pytest.raises(BoardError, match="dtcm"):
        pool_capacities(board, parse_pools("nosuchram"))
    host = get_board("host")
    assert pool_capacities(host, parse_pools("a:1K,b"))[0] == ("a", 1024)


# ---------------------------------------------------------------------------------
# the plan


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("io", [(True, True), (False, False)])
def test_no_tensor_straddles_two_pools(model, io):
    """Whatever the split, every tensor (and scratch buffer) lies whole inside its pool,
    the pools do not exceed their capacities, and the plan is sound."""
    graph = _graph(model)
    scratch = _scratch(graph)
    single = plan_activations(graph, scratch, inputs=io[0], outputs=io[1])
    largest = max(b.size for b in single.buffers)
    for first in (largest, max(largest, single.arena_size // 2), single.arena_size // 3 * 2):
        caps = [("a", first), ("b", 1 << 20), ("c", 1 << 20)]
        if all(b.size > first for b in single.buffers) and len(single.buffers) > 0:
            continue
        plan = plan_activations(graph, scratch, inputs=io[0], outputs=io[1], pools=caps)
        g = planning_graph(graph, *io)
        assert check_plan(g, plan) == []
        assert plan.pools and all(p.size <= p.capacity for p in plan.pools)
        assert sorted({b.pool for b in plan.buffers}) == list(range(len(plan.pools)))  # unused pools dropped
        for b in plan.buffers:
            pool = plan.pools[b.pool]
            assert 0 <= b.offset and b.offset + b.size <= pool.size, (b, pool)
            for t in b.tensors:
                assert plan.offsets[t] + graph.tensors[t].nbytes <= pool.size
        assert plan.arena_size == sum(p.size for p in plan.pools)
        if not io[0]:
            assert not any(t in plan.offsets for t in graph.inputs)


def test_most_used_first_and_compaction():
    graph = _graph("person_detect")
    plan = plan_activations(graph, pools=[("fast", 20 * 1024), ("slow", 1 << 20)])
    assert [p.region for p in plan.pools] == ["fast", "slow"]
    assert plan.pools[0].size <= 20 * 1024
    # a middle pool too small for anything is dropped, the rest renumbered
    raw = plan_pools(planning_graph(graph), [("tiny", 8), ("big", 1 << 20)])
    compact = compact_pools(raw)
    assert [p.region for p in compact.pools] == ["big"] and {b.pool for b in compact.buffers} == {0}


def test_largest_tensor_fitting_no_pool_is_refused_with_the_figures():
    graph = _graph("person_detect")
    with pytest.raises(FitError) as err:
        plan_activations(graph, pools=[("dtcm", 16 * 1024), ("sram4", 16 * 1024)])
    message = err.value.message
    assert "36,864" in message and "dtcm (16,384 B)" in message and "sram4" in message
    board = get_board("stm32h7")
    with pytest.raises(FitError, match="no pool can hold it"):
        cubeai_plan(lower(graph, board), board, GenerateOptions(pools="dtcm:16K,sram4:16K"))


def test_stm32h7_dtcm_axisram_plan_fits_the_regions():
    """person_detect with --pools dtcm,axisram on stm32h7: everything fits the DTCM that the
    stack and data leave free (the AXI SRAM pool is not needed, so dropped)."""
    board = get_board("stm32h7")
    graph = _graph("person_detect")
    plan, fp = cubeai_plan(lower(graph, board), board, GenerateOptions(pools="dtcm,axisram"))
    assert [p.region for p in plan.pools] == ["dtcm"]
    dtcm = board.region("dtcm")
    assert plan.pools[0].size <= plan.pools[0].capacity <= dtcm.size - 16 * 1024
    regions = {r.name: r for r in fp.regions}
    assert regions["dtcm"].items["arena"] == plan.pools[0].size and "axisram" not in regions
    assert fp.fits


@needs_tf
def test_mobilenet_v1_pools_are_planned_together():
    """MobileNet V1 0.25 224 over dtcm,axisram on stm32h7: planned pool by pool it took
    303 KB against 201 KB in one arena; planned together, at most 1.02x the one arena,
    both pools used, both plan checkers pass, and the fast pool holds the busiest bytes
    a 1.02x budget allows (more traffic per byte than the slow one)."""
    import tfmodels as M
    from tfmodels import cached_model

    from mcugen.planner import buffer_traffic, simulate_plan

    graph = load_model(cached_model("mobilenet_v1_224", M.mobilenet_v1, input_shape=(224, 224, 3), alpha=0.25))
    board = get_board("stm32h7")
    lowered = lower(graph, board)
    single, _ = cubeai_plan(lowered, board, GenerateOptions())
    plan, fp = cubeai_plan(lowered, board, GenerateOptions(pools="dtcm,axisram"))
    assert [p.region for p in plan.pools] == ["dtcm", "axisram"]
    assert plan.arena_size == sum(p.size for p in plan.pools) <= single.arena_size * 1.02
    assert check_plan(lowered.graph, plan) == [] and simulate_plan(lowered.graph, plan) == []
    assert fp.fits
    traffic = buffer_traffic(lowered.graph, list(plan.buffers))
    assert sum(traffic[b.id] for b in plan.buffers if b.pool == 0) > 0


@needs_tf
def test_mobilenet_v2_pools_axisram_sdram_are_planned_together():
    """MobileNet V2 1.0 224 over axisram,sdram on the H747-DISCO: at most 1.02x the one
    arena (planned pool by pool: 1.38x), both checkers pass, the estimate fits (the
    weights moved to the QSPI flash)."""
    import tfops
    from tfmodels import cached_model

    from mcugen.planner import simulate_plan

    graph = load_model(cached_model("mobilenet_v2_224", tfops.mobilenet_v2_flat))
    board = get_board("stm32h747i-disco")
    lowered = lower(graph, board)
    single, _ = cubeai_plan(lowered, board, GenerateOptions())
    planned = plan_model(graph, board, GenerateOptions(pools="axisram,sdram"))
    plan, fp = planned.plan, planned.footprint
    assert [p.region for p in plan.pools] == ["axisram", "sdram"]
    assert plan.arena_size <= single.arena_size * 1.02
    assert check_plan(lowered.graph, plan) == [] and simulate_plan(lowered.graph, plan) == []
    assert fp.fits
    regions = {r.name: r.items for r in fp.regions}
    assert "weights" in regions["qspi"] and regions["axisram"]["arena"] == plan.pools[0].size and regions["sdram"]["arena"] == plan.pools[1].size


# ---------------------------------------------------------------------------------
# generated code: guarded pools on the host, the linker on the boards


@needs_reference
@pytest.mark.parametrize("model", ["person_detect", "keyword_scrambled_8bit"])
def test_pools_touch_only_their_plan(model, tmp_path):
    """Two pools in buffers of the harness's with guard bytes: bit-exact, nothing outside
    the pools written; a last pool 16 bytes short is overrun."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _cubeai import check_bit_exact

    from mcugen.calibrate.hostrun import run_host_process, run_on_host
    from mcugen.inputs import make_samples

    graph = _graph(model)
    scratch = _scratch(graph)
    single = plan_activations(graph, scratch)
    plan = plan_activations(graph, scratch, pools=[("a", max(b.size for b in single.buffers)), ("b", 1 << 20)])
    assert len(plan.pools) == 2
    root = tmp_path / "p"
    project, expected, _ = check_bit_exact(graph, root, n=3, plan=plan, options=GenerateOptions(c_api="both"))
    assert [p["section"] for p in project.pools] == [".nn_arena.a", ".nn_arena.b"]
    samples = make_samples(graph, (), random=3, seed=0)
    guarded = run_on_host(root, samples, args=["-g", "-f", "0xEE"])
    for a, b in zip(guarded, expected):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
    data = b"".join(np.ascontiguousarray(a).tobytes() for a in samples[0])
    assert run_host_process(root, data, ["-s", "16"]).returncode == 3


@needs_arm
def test_linker_script_places_each_pool_in_its_region(tmp_path):
    """stm32h7 person_detect, pools dtcm,axisram: the build links and fits; .nn_arena.dtcm
    is the planned size, inside the DTCM."""
    from mcugen import project
    from mcugen.build import memory_usage

    board = get_board("stm32h7")
    gen = generate(_graph("person_detect"), board, tmp_path / "p", GenerateOptions(pools="dtcm,axisram", c_api="both"))
    script = (tmp_path / "p" / "firmware" / "generated" / "linker.ld").read_text()
    assert ".nn_arena.dtcm (NOLOAD)" in script and "} > dtcm" in script
    built = project.build(tmp_path / "p")
    usage = memory_usage(built.elf, board)
    pool = gen.details["pools"][0]
    assert usage.regions["dtcm"].sections[".nn_arena.dtcm"] == pool["size"]
    assert ".nn_arena" not in usage.regions["axisram"].sections
    for r in usage.regions.values():
        assert r.used <= r.size


@pytest.mark.slow
@needs_tf
@needs_arm
@needs_qemu
@needs_reference
def test_mobilenet_split_on_stm32h7_and_the_same_split_on_qemu(tmp_path):
    """MobileNet V1 0.25 224 (activations larger than the DTCM): --pools dtcm,axisram on
    stm32h7 splits it, links and fits; the same capacities over two RAM regions of
    qemu-m7 give the same plan, which runs bit-exact there."""
    import tfmodels as M
    from tfmodels import cached_model

    from mcugen import project
    from mcugen.build import memory_usage
    from mcugen.inputs import make_samples
    from mcugen.measure import measure
    from mcugen.reference import reference_outputs

    graph = load_model(cached_model("mobilenet_v1_224", M.mobilenet_v1, input_shape=(224, 224, 3), alpha=0.25))
    h7 = get_board("stm32h7")
    gen = generate(graph, h7, tmp_path / "h7", GenerateOptions(pools="dtcm,axisram"))
    pools = gen.details["pools"]
    assert [p["region"] for p in pools] == ["dtcm", "axisram"]
    plan_h7 = gen.footprint.plan
    for p in plan_h7.pools:
        assert p.size <= p.capacity <= h7.region(p.region).size
    built = project.build(tmp_path / "h7")
    usage = memory_usage(built.elf, h7)
    for p in pools:
        assert usage.regions[p["region"]].sections[p["section"]] == p["size"]
    for r in usage.regions.values():
        assert r.used <= r.size

    spec = ",".join(f"{region}:{p.capacity}" for region, p in zip(("ssram23", "psram"), plan_h7.pools))
    q = generate(graph, get_board("qemu-m7"), tmp_path / "q", GenerateOptions(pools=spec))
    plan_q = q.footprint.plan
    assert [(b.pool, b.offset, b.tensors) for b in plan_q.buffers] == \
        [(b.pool, b.offset, b.tensors) for b in plan_h7.buffers]
    assert [p.size for p in plan_q.pools] == [p.size for p in plan_h7.pools]
    project.build(tmp_path / "q")
    samples = make_samples(graph, (), random=2, seed=0)
    m = measure(tmp_path / "q", "qemu", samples, runs=1)
    for got, want in zip(m.outputs, reference_outputs(graph, samples)):
        for a, b in zip(got, want):
            assert np.array_equal(np.asarray(a).reshape(b.shape), b)
