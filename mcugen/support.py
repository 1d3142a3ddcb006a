"""Which operators each style runs: the check between loading and generating.

The cubeai style runs an op when its lowering succeeds (mcugen.lower: the lowering
is the authority, with the reason it refuses); the tflm style when TFLM's resolver
can register it (mcugen.ops.tflm_unsupported, from TFLM's own tables)."""

from __future__ import annotations

from mcugen import lower
from mcugen.model.graph import Graph
from mcugen.ops import STYLES, UnsupportedOp, tflm_unsupported, unsupported_error


def unsupported_ops(graph: Graph, style: str) -> list[UnsupportedOp]:
    """Every operator the given style cannot run, with the reason; empty when all run."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style}")
    return lower.unsupported_ops(graph) if style == "cubeai" else tflm_unsupported(graph)


def require_supported(graph: Graph, style: str) -> None:
    """UnsupportedOpsError listing every operator `style` cannot run (the other style as the
    hint when it runs them all)."""
    bad = unsupported_ops(graph, style)
    if bad:
        other = next(s for s in STYLES if s != style)
        raise unsupported_error(graph, style, bad, not unsupported_ops(graph, other))


def supported_styles(graph: Graph) -> list[str]:
    return [s for s in STYLES if not unsupported_ops(graph, s)]


__all__ = ["require_supported", "supported_styles", "unsupported_ops"]
