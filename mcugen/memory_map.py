"""Where a firmware's sections go on a board: the placement of code, weights, arena,
data and stack in its memory regions (boards.yaml, with the user's --place overrides),
the activation pools' regions, the external memories the board support must set up
for them, the linker script and what the boot flash image (firmware.bin) holds."""

from __future__ import annotations

from mcugen.boards import PLACEMENT_KEYS, Board
from mcugen.errors import BoardError
from mcugen.resources import template_environment

# External-memory set-ups each family's board support implements (boards.yaml region init).
FAMILY_INITS = {"stm32h7": {"sdram", "qspi"}, "imxrt": {"sdram"}, "mps2": set(), "host": set()}


def effective_placement(board: Board, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The board's placement with overrides applied and checked."""
    if board.placement is None:
        if overrides:
            raise BoardError(f"Board '{board.name}' has no memory regions: placement cannot be overridden.")
        return {}
    placement = board.placement.as_dict()
    for key, region_name in (overrides or {}).items():
        if key not in PLACEMENT_KEYS:
            raise BoardError(f"Unknown placement key '{key}'.", hint=f"Use one of: {', '.join(PLACEMENT_KEYS)}.")
        region = board.region(region_name)
        if key in ("arena", "data", "stack") and region.kind != "ram":
            raise BoardError(f"Cannot place {key} in '{region_name}' on {board.name}: it is {region.kind}, not ram.",
                             hint="Activations, data and stack need RAM.")
        if key == "stack" and region.external:
            raise BoardError(f"Cannot place the stack in '{region_name}' on {board.name}: the external memory set-up "
                             "itself runs on the stack.", hint="Keep the stack in internal RAM (dtcm).")
        if region.needs_firmware_init and region.init not in FAMILY_INITS.get(board.family, set()):
            raise BoardError(f"Cannot place {key} in '{region_name}' on {board.name}: mcugen's {board.family} board "
                             f"support does not set up its {region.init} controller yet.",
                             hint="Choose a region that works at reset: " + ", ".join(
                                 r.name for r in board.regions if not r.needs_firmware_init) + ".")
        if key == "code" and region.needs_firmware_init:
            raise BoardError(f"Cannot place code in '{region_name}' on {board.name}: it is set up by the code itself.",
                             hint="Keep code in the boot flash or internal RAM.")
        placement[key] = region_name
    return placement


def init_defines(board: Board, placement: dict[str, str], pools: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """MCUGEN_INIT_<SDRAM|QSPI>=1 for each external memory a section is placed in: the board
    support sets those controllers up in board_early_init(), before .data/.bss, and only then
    (a build that does not use them does not depend on their set-up)."""
    used = {board.region(name) for name in (*placement.values(), *pools)}
    return {f"MCUGEN_INIT_{r.init.upper()}": "1" for r in sorted(used, key=lambda r: r.name) if r.needs_firmware_init}


def boot_region(board: Board, placement: dict[str, str]) -> str:
    """Where the vectors and reset code live: the first flash region the board
    boots from, or the code region on RAM-only targets (QEMU)."""
    flash = [r for r in board.regions if r.kind == "flash"]
    return flash[0].name if flash else placement["code"]


def check_pool_regions(board: Board, pools: tuple[str, ...] | list[str]) -> None:
    """Activation pools need RAM regions of the board that its board support can set up."""
    for name in pools:
        region = board.region(name)
        if region.needs_firmware_init and region.init not in FAMILY_INITS.get(board.family, set()):
            raise BoardError(f"Cannot place an activation pool in '{name}' on {board.name}: mcugen's {board.family} "
                             f"board support does not set up its {region.init} controller yet.")
        if region.kind != "ram":
            raise BoardError(f"Cannot place an activation pool in '{name}' on {board.name}: it is {region.kind}, "
                             "not ram.", hint="Choose internal RAM: "
                             + ", ".join(r.name for r in board.regions if r.kind == "ram") + ".")


def render_linker_script(board: Board, placement: dict[str, str], stack_size: int,
                         pools: tuple[str, ...] | list[str] = ()) -> str:
    boot = boot_region(board, placement)
    boot_kind = board.region(boot).kind
    load_region = boot if boot_kind == "flash" else None

    def needs_load(key: str) -> bool:
        return load_region is not None and board.region(placement[key]).kind == "ram"

    copy_sections = []
    code_load = needs_load("code")
    if code_load:
        copy_sections += [".text", ".ARM.extab", ".ARM.exidx", ".init_array"]
    weights_load = needs_load("weights")
    if weights_load:
        copy_sections.append(".nn_weights")
    data_load = load_region is not None
    if data_load:
        copy_sections.append(".data")

    boot_header = None
    if board.family == "imxrt":
        boot_header = {k: int(board.extra[k]) for k in ("fcb_offset", "ivt_offset", "vector_offset")}

    regions = [
        {"name": r.name, "base": r.base, "size": r.size,
         "attrs": "rx" if r.kind == "flash" else "rwx"}
        for r in board.regions
    ]
    cm4_park = board.extra.get("cm4_park_region")
    return template_environment().get_template("common/linker.ld.j2").render(
        board=board, regions=regions, placement=placement, boot_region=boot, load_region=load_region,
        copy_sections=copy_sections, code_load=code_load, weights_load=weights_load, data_load=data_load,
        boot_header=boot_header, stack_size=stack_size, pools=list(pools), cm4_park=cm4_park,
    )


def bin_flags(board: Board, placement: dict[str, str]) -> tuple[str, ...]:
    """firmware.bin is the boot flash image: weights in another (external) flash go to the .hex only."""
    boot = boot_region(board, placement)
    weights = board.region(placement["weights"])
    if weights.kind == "flash" and weights.name != boot:
        return ("--remove-section=.nn_weights",)
    return ()


__all__ = ["FAMILY_INITS", "bin_flags", "boot_region", "check_pool_regions", "effective_placement", "init_defines",
           "render_linker_script"]
