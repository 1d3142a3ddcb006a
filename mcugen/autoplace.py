"""Weights and arena placed by speed when the board's defaults do not hold them.

boards.yaml names where code, weights, arena, data and stack go by default (internal
memory, where it exists). When the estimate finds the weights or the arena too large
for their default region, and the user did not place them (--place), they move to the
fastest region of the right kind with the room: internal before external, then by
speed class (fast, normal, slow), then the larger room. Seed-size networks then land
in the evaluation boards' external memory (weights in QSPI flash, the arena in SDRAM)
without any option, and every move is said in the estimate's notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from mcugen.boards import Board, MemoryRegion
from mcugen.estimate import Footprint
from mcugen.memory_map import FAMILY_INITS

# What may move, in the order it is placed: the arena first (it takes RAM only), then
# the weights (flash; RAM only on boards without flash, such as QEMU's).
MOVABLE = ("arena", "weights")


@dataclass(frozen=True)
class Move:
    """One item placed away from its default region, and why."""

    what: str
    size: int
    source: str  # the default region
    target: str

    def note(self, board: Board) -> str:
        src, dst = board.region(self.source), board.region(self.target)
        where = "external" if dst.external else "internal"
        return (f"{self.what} ({self.size:,} B) placed in {dst.name} ({where}, {dst.speed}): it does not fit "
                f"{src.name} ({src.size:,} B) beside the rest; --place {self.what}=REGION chooses another")


def usable(board: Board, region: MemoryRegion, what: str) -> bool:
    """Whether `what` (arena or weights) may go in `region` with mcugen's board support."""
    if region.needs_firmware_init and region.init not in FAMILY_INITS.get(board.family, set()):
        return False
    if region.name == board.extra.get("cm4_park_region"):
        return False  # the STM32H747's second bank: the Cortex-M4's parking image starts there
    if what == "arena":
        return region.kind == "ram"
    has_flash = any(r.kind == "flash" for r in board.regions)
    return region.kind == ("flash" if has_flash else "ram")


def candidates(board: Board, what: str) -> list[MemoryRegion]:
    """Regions for `what`, best first: internal, then faster, then larger."""
    regions = [r for r in board.regions if usable(board, r, what)]
    return sorted(regions, key=lambda r: (r.external, r.speed_rank, -r.size, r.name))


def place_by_speed(board: Board, footprint: Footprint, placement: Mapping[str, str],
                   overrides: Mapping[str, str]) -> list[Move]:
    """The moves that make the weights and the arena fit, given the footprint computed
    with `placement` (the effective one); items the user placed (`overrides`) stay, as
    does an arena split into pools. Empty when nothing needs to or can move."""
    if board.is_host or not placement:
        return []
    used = {r.name: dict(r.items) for r in footprint.regions}
    sizes: dict[str, int] = {}
    for items in used.values():
        for what in MOVABLE:
            sizes[what] = sizes.get(what, 0) + items.get(what, 0)
    moves: list[Move] = []
    for what in MOVABLE:
        if what in overrides or (what == "arena" and footprint.plan.pools) or not sizes.get(what):
            continue
        home = placement[what]
        if sum(used.get(home, {}).values()) <= board.region(home).size:
            continue
        for region in candidates(board, what):
            if region.name == home:
                continue
            if sum(used.get(region.name, {}).values()) + sizes[what] <= region.size:
                used[home].pop(what, None)
                used.setdefault(region.name, {})[what] = sizes[what]
                moves.append(Move(what, sizes[what], home, region.name))
                break
    return moves


__all__ = ["MOVABLE", "Move", "candidates", "place_by_speed", "usable"]
