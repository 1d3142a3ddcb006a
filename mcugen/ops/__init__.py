"""The operator registry: shapes, MACs, styles and memory behaviour per operator."""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.errors import ModelError, UnsupportedOpsError
from mcugen.model.graph import Graph, Operator
from mcugen.ops import elementwise, layout, nn
from mcugen.ops.base import ALIAS, INPLACE, SEPARATE, STYLES, OpSpec
from mcugen.tflm.ops import resolver_method

REGISTRY: dict[str, OpSpec] = {spec.name: spec for module in (nn, elementwise, layout) for spec in module.SPECS}


@dataclass(frozen=True)
class UnsupportedOp:
    index: int
    opcode: str
    reason: str


def spec_for(op: Operator) -> OpSpec | None:
    return REGISTRY.get(op.opcode)


def unknown_ops(graph: Graph) -> list[UnsupportedOp]:
    """Operators mcugen knows nothing about (custom ops, ops outside the registry)."""
    found = []
    for op in graph.operators:
        if op.opcode == "CUSTOM":
            found.append(UnsupportedOp(op.index, f"CUSTOM:{op.custom_code}", "custom operator"))
        elif op.opcode not in REGISTRY:
            found.append(UnsupportedOp(op.index, op.opcode, "not in mcugen's operator registry"))
    return found


def tflm_unsupported(graph: Graph) -> list[UnsupportedOp]:
    """Every operator the tflm style cannot run: unknown to mcugen, or without a
    MicroMutableOpResolver method (mcugen.tflm.ops, TFLM's own tables). Which ops the
    cubeai style runs is for its lowering to say (mcugen.lower.unsupported_ops)."""
    found = unknown_ops(graph)
    skip = {u.index for u in found}
    for op in graph.operators:
        if op.index not in skip and resolver_method(op.opcode) is None:
            found.append(UnsupportedOp(op.index, op.opcode, "TFLM cannot register it"))
    return sorted(found, key=lambda u: u.index)


def format_unsupported(ops: list[UnsupportedOp]) -> str:
    return "; ".join(f"#{u.index} {u.opcode} ({u.reason})" for u in ops)


def unsupported_error(graph: Graph, style: str, bad: list[UnsupportedOp], other_style_runs_all: bool
                      ) -> UnsupportedOpsError:
    """The error listing every operator `style` cannot run, with the other style as the hint
    when it runs them all."""
    other = next(s for s in STYLES if s != style)
    hint = (f"The {other} style supports every operator of this model: use --style {other}."
            if other_style_runs_all else
            "Replace these operators in the model, or run the model on a host with full TFLite.")
    return UnsupportedOpsError(
        f"Model '{graph.name}' uses {len(bad)} operator(s) the {style} style cannot run: {format_unsupported(bad)}.",
        hint=hint,
    )


def require_known(graph: Graph) -> None:
    bad = unknown_ops(graph)
    if bad:
        raise UnsupportedOpsError(
            f"Model '{graph.name}' uses {len(bad)} operator(s) mcugen does not know: {format_unsupported(bad)}.",
            hint="mcugen cannot analyse or run these; replace them in the model.",
        )


def check_shapes(graph: Graph) -> None:
    """Every known op's declared output shape must match what its inputs imply."""
    for op in graph.operators:
        spec = REGISTRY.get(op.opcode)
        if spec is None:
            continue
        try:
            expected = spec.infer(graph, op)
        except ModelError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError) as exc:
            raise ModelError(f"Operator {op.index} ({op.opcode}) is malformed: {exc}.") from exc
        declared = [graph.tensors[i].shape for i in op.outputs]
        if [tuple(s) for s in expected] != [tuple(s) for s in declared[: len(expected)]]:
            raise ModelError(
                f"Operator {op.index} ({op.opcode}) declares output shape(s) {[list(s) for s in declared]} "
                f"but its inputs give {[list(s) for s in expected]}.",
                hint="The model file is inconsistent; re-export it.",
            )


def op_macs(graph: Graph, op: Operator) -> int:
    spec = REGISTRY.get(op.opcode)
    return spec.macs(graph, op) if spec else 0


def total_macs(graph: Graph) -> int:
    return sum(op_macs(graph, op) for op in graph.operators)


__all__ = [
    "ALIAS", "INPLACE", "SEPARATE", "REGISTRY", "STYLES", "OpSpec", "UnsupportedOp", "check_shapes",
    "format_unsupported", "op_macs", "require_known", "spec_for", "tflm_unsupported", "total_macs",
    "unknown_ops", "unsupported_error",
]
