"""The operator registry: shapes, MACs, styles and memory behaviour per operator."""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.errors import ModelError, UnsupportedOpsError
from mcugen.model.graph import Graph, Operator
from mcugen.ops import elementwise, layout, nn
from mcugen.ops.base import ALIAS, INPLACE, SEPARATE, STYLES, OpSpec

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


def _dtype_problem(graph: Graph, op: Operator, style: str) -> str | None:
    """cubeai runs int8 activations; float and uint8 only at the QUANTIZE/DEQUANTIZE edges."""
    if style != "cubeai":
        return None
    ins = [t for t in graph.op_inputs(op) if t is not None and not t.is_constant]
    outs = graph.op_outputs(op)
    if op.opcode == "QUANTIZE":
        ok_in = {"int8", "uint8", "float32", "int16"}
        if ins and ins[0].dtype in ok_in and outs[0].dtype in {"int8", "uint8", "int16"}:
            if "int16" in (ins[0].dtype, outs[0].dtype) and {ins[0].dtype, outs[0].dtype} != {"int16", "int8"}:
                return f"QUANTIZE {ins[0].dtype} -> {outs[0].dtype}"
            return None
        return f"QUANTIZE {ins[0].dtype if ins else '?'} -> {outs[0].dtype}"
    if op.opcode == "DEQUANTIZE":
        if ins and ins[0].dtype in {"int8", "uint8", "int16"} and outs[0].dtype == "float32":
            return None
        return f"DEQUANTIZE {ins[0].dtype if ins else '?'} -> {outs[0].dtype}"
    spec = REGISTRY.get(op.opcode)
    if spec is not None and spec.memory == ALIAS:
        return None  # no arithmetic: any type
    if op.opcode in ("CONCATENATION", "PAD", "TRANSPOSE"):
        allowed = {"int8", "uint8", "int16", "int32", "float32"}
    else:
        allowed = {"int8"}
    bad = sorted({t.dtype for t in ins + outs if t.dtype not in allowed})
    return f"{'/'.join(bad)} activations" if bad else None


def unsupported_ops(graph: Graph, style: str) -> list[UnsupportedOp]:
    """Every operator the given style cannot run, with the reason; empty when all run."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style}")
    found = unknown_ops(graph)
    known_bad = {u.index for u in found}
    for op in graph.operators:
        if op.index in known_bad:
            continue
        spec = REGISTRY[op.opcode]
        if style not in spec.styles:
            found.append(UnsupportedOp(op.index, op.opcode, spec.note or f"no {style} implementation"))
            continue
        problem = _dtype_problem(graph, op, style)
        if problem:
            found.append(UnsupportedOp(op.index, op.opcode, f"{problem} not supported in {style}"))
    return sorted(found, key=lambda u: u.index)


def format_unsupported(ops: list[UnsupportedOp]) -> str:
    return "; ".join(f"#{u.index} {u.opcode} ({u.reason})" for u in ops)


def require_supported(graph: Graph, style: str) -> None:
    bad = unsupported_ops(graph, style)
    if bad:
        other = [s for s in STYLES if s != style and not unsupported_ops(graph, s)]
        hint = f"The {other[0]} style supports every operator of this model: use --style {other[0]}." if other else (
            "Replace these operators in the model, or run the model on a host with full TFLite.")
        raise UnsupportedOpsError(
            f"Model '{graph.name}' uses {len(bad)} operator(s) the {style} style cannot run: "
            f"{format_unsupported(bad)}.",
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
    "format_unsupported", "op_macs", "require_known", "require_supported", "spec_for", "total_macs",
    "unknown_ops", "unsupported_ops",
]
