"""Weights and arena placed by speed (mcugen.autoplace), through the pipeline's estimate:
internal first, external only when needed, the user's --place kept."""

from __future__ import annotations

import subprocess

import pytest

from conftest import needs_arm, needs_tf
from mcugen.autoplace import candidates, usable
from mcugen.boards import get_board
from mcugen.model.load import load_model
from mcugen.options import GenerateOptions
from mcugen.pipeline import estimate_model, plan_model


@pytest.fixture(scope="module")
def mobilenet_v2():
    """MobileNet V2 1.0 224: 3.86 MB of weights, 1.2 MB of activations."""
    import tfops
    from tfmodels import cached_model

    return load_model(cached_model("mobilenet_v2_224", tfops.mobilenet_v2_flat))


def _where(fp, what):
    return [r.name for r in fp.regions if r.items.get(what)]


def test_candidates_internal_first_then_by_speed():
    h747 = get_board("stm32h747i-disco")
    assert [r.name for r in candidates(h747, "arena")] == ["dtcm", "itcm", "axisram", "sram123", "sram4", "sdram"]
    # flash_cm4 holds the Cortex-M4's parking image: never the weights'
    assert [r.name for r in candidates(h747, "weights")] == ["flash", "qspi"]
    assert [r.name for r in candidates(get_board("rt1170"), "arena")][-1] == "sdram"
    # the NUCLEO has no external memory; QEMU's weights go to RAM (it has no flash)
    assert not any(r.external for r in candidates(get_board("stm32h7"), "arena"))
    qemu = get_board("qemu-m7")
    assert all(usable(qemu, r, "weights") for r in qemu.regions)


def test_person_detect_stays_where_the_board_puts_it(person_detect):
    """A model that fits is not moved: the placement is boards.yaml's."""
    graph = load_model(person_detect)
    for name in ("stm32h747i-disco", "rt1170"):
        board = get_board(name)
        planned = plan_model(graph, board)
        assert planned.options.placement == {}
        assert _where(planned.footprint, "arena") == [board.placement.arena]
        assert not any("placed in" in n for n in planned.footprint.notes)


@needs_tf
def test_mobilenet_v2_goes_to_external_memory_where_needed(mobilenet_v2):
    h747 = plan_model(mobilenet_v2, get_board("stm32h747i-disco"))
    assert h747.footprint.fits
    assert h747.options.placement == {"arena": "sdram", "weights": "qspi"}
    assert _where(h747.footprint, "arena") == ["sdram"] and _where(h747.footprint, "weights") == ["qspi"]
    assert _where(h747.footprint, "code") == ["flash"]  # code never moves
    notes = [n for n in h747.footprint.notes if "placed in" in n]
    assert len(notes) == 2 and any("weights (3,8" in n and "qspi (external, slow)" in n for n in notes)
    # the RT1170's boot flash holds the weights already: only the arena moves
    rt = plan_model(mobilenet_v2, get_board("rt1170"))
    assert rt.footprint.fits and rt.options.placement == {"arena": "sdram"}
    # the user's --place is kept, even when it does not fit
    kept = estimate_model(mobilenet_v2, get_board("stm32h747i-disco"), GenerateOptions(placement={"arena": "axisram"}))
    assert _where(kept, "arena") == ["axisram"] and not kept.fits and _where(kept, "weights") == ["qspi"]
    # patched into internal RAM: the arena stays in the AXI SRAM
    patched = plan_model(mobilenet_v2, get_board("stm32h747i-disco"), GenerateOptions(patch="auto"))
    assert patched.footprint.fits and patched.options.placement == {"weights": "qspi"}
    assert _where(patched.footprint, "arena") == ["axisram"]


SEED_NETS = ("mobilenet_v2_224", "mnasnet_a1_075_224", "ssdlite_mobilenet_v2_300")


def _seed_graph(net: str):
    import seednets
    import tfops
    from tfmodels import cached_model

    builder = {"mobilenet_v2_224": tfops.mobilenet_v2_flat, "mnasnet_a1_075_224": seednets.mnasnet_a1,
               "ssdlite_mobilenet_v2_300": seednets.ssdlite_mobilenet_v2}[net]
    return load_model(cached_model(net, builder))


NOT_LOADED = (".debug", ".comment", ".ARM.attributes")  # no memory on the target (address 0)


def _size_sections(elf) -> dict[str, tuple[int, int]]:
    """section -> (size, address) of what occupies the target, as arm-none-eabi-size -A prints them."""
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sections = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit() and \
                not parts[0].startswith(NOT_LOADED):
            sections[parts[0]] = (int(parts[1]), int(parts[2]))
    return sections


def _check_build(gen, board, weights_region: str, arena_region: str, inits: set[str]) -> None:
    """The build links; arm-none-eabi-size's sections, summed per region, fit each region; the
    weights blob and the arena are where the estimate put them, at its sizes; the external
    memory set-ups are compiled in."""
    from mcugen import project

    fp = gen.footprint
    built = project.build(gen.out_dir)
    sections = _size_sections(built.elf)
    per_region: dict[str, int] = {}
    where = {}
    for name, (size, addr) in sections.items():
        region = next((r for r in board.regions if r.base <= addr < r.base + r.size), None)
        if region is not None and size:
            per_region[region.name] = per_region.get(region.name, 0) + size
            where[name] = region.name
    for name, used in per_region.items():
        assert used <= board.region(name).size, (board.name, name, used)
    assert where[".nn_weights"] == weights_region and where[".nn_arena"] == arena_region
    regions = {r.name: r for r in fp.regions}
    assert sections[".nn_weights"][0] == regions[weights_region].items["weights"]
    assert sections[".nn_arena"][0] == regions[arena_region].items["arena"] == fp.activation_ram
    makefile = (gen.out_dir / "Makefile").read_text()
    assert {f"-DMCUGEN_INIT_{i}=1" for i in ("SDRAM", "QSPI") if f"-DMCUGEN_INIT_{i}=1" in makefile} == \
        {f"-DMCUGEN_INIT_{i}=1" for i in inits}


@pytest.mark.slow
@needs_tf
@needs_arm
@pytest.mark.parametrize("net", SEED_NETS)
def test_seed_net_estimates_and_builds_with_external_memory(net, tmp_path):
    """The seed-size networks on the RT1170-EVK (weights in its FlexSPI boot flash, the arena
    moved to SDRAM) and the H747-DISCO (weights moved to QSPI flash, the arena to SDRAM):
    estimate fits, the builds link and fit, the SDRAM/QSPI set-up compiled in. MobileNet V2
    also with --patch auto, whose arena fits the H747's AXI SRAM."""
    from mcugen.emit import generate

    graph = _seed_graph(net)
    rt1170, h747 = get_board("rt1170"), get_board("stm32h747i-disco")
    gen = generate(graph, rt1170, tmp_path / "rt1170")
    assert gen.footprint.fits and gen.details["pools"][0]["region"] == "sdram"
    _check_build(gen, rt1170, "flexspi", "sdram", {"SDRAM"})
    gen = generate(graph, h747, tmp_path / "h747")
    assert gen.footprint.fits and gen.details["pools"][0]["region"] == "sdram"
    _check_build(gen, h747, "qspi", "sdram", {"SDRAM", "QSPI"})
    if net == "mobilenet_v2_224":
        gen = generate(graph, h747, tmp_path / "h747-patch", GenerateOptions(patch="auto"))
        assert gen.footprint.fits and gen.footprint.activation_ram <= h747.region("axisram").size
        _check_build(gen, h747, "qspi", "axisram", {"QSPI"})
