"""The operator registry: shapes, MACs, styles and memory behaviour per operator."""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.errors import ModelError, UnsupportedOpsError
from mcugen.model.graph import Graph, Operator
from mcugen.ops import elementwise, layout, movement, nn
from mcugen.ops.base import ALIAS, INPLACE, SEPARATE, STYLES, OpSpec
from mcugen.tflm.ops import resolver_method
from mcugen.text import printable, quoted

REGISTRY: dict[str, OpSpec] = {spec.name: spec for module in (nn, elementwise, layout, movement) for spec in module.SPECS}


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
            found.append(UnsupportedOp(op.index, f"CUSTOM:{printable(op.custom_code or '', 40)}", "custom operator"))
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


MAX_LISTED = 8  # operator indices (and kinds of problem) a message lists before "and N more"


def _indices(indices: list[int]) -> str:
    shown = ", ".join(str(i) for i in indices[:MAX_LISTED])
    more = f" and {len(indices) - MAX_LISTED} more" if len(indices) > MAX_LISTED else ""
    return f"index {shown}" if len(indices) == 1 else f"indices {shown}{more}"


MAX_LIST_CHARS = 360  # of a list of unsupported operators in a message


def format_unsupported(ops: list[UnsupportedOp]) -> str:
    """'TANH at indices 3, 7 (reason); CUSTOM:MyOp at index 5 (custom operator)': every
    problem once, with the operators it concerns; bounded however many there are."""
    groups: dict[tuple[str, str], list[int]] = {}
    for u in ops:
        groups.setdefault((u.opcode, u.reason), []).append(u.index)
    parts: list[str] = []
    used = 0
    for n, ((opcode, reason), indices) in enumerate(groups.items()):
        part = f"{printable(opcode, 60)} at {_indices(indices)} ({printable(reason, 120)})"
        if parts and (n >= MAX_LISTED or used + len(part) > MAX_LIST_CHARS):
            rest = sum(len(v) for v in list(groups.values())[n:])
            parts.append(f"and {rest} more operator{'s' if rest > 1 else ''}")
            break
        parts.append(part)
        used += len(part) + 2
    return "; ".join(parts)


def _refusal(graph: Graph, bad: list[UnsupportedOp], by: str) -> str:
    if len(bad) == 1:
        u = bad[0]
        return (f"Model {quoted(graph.name)}: operator {printable(u.opcode, 60)} at index {u.index} is not supported "
                f"by {by} ({printable(u.reason, 160)}).")
    return f"Model {quoted(graph.name)} uses {len(bad)} operators not supported by {by}: {format_unsupported(bad)}."


def unsupported_error(graph: Graph, style: str, bad: list[UnsupportedOp], other_style_runs_all: bool
                      ) -> UnsupportedOpsError:
    """The error listing every operator `style` cannot run, with the other style as the hint
    when it runs them all."""
    other = next(s for s in STYLES if s != style)
    hint = (f"The {other} style supports every operator of this model: use --style {other}."
            if other_style_runs_all else
            "Replace these operators in the model, or run the model on a host with full TFLite.")
    return UnsupportedOpsError(_refusal(graph, bad, f"the {style} style"), hint=hint)


def require_known(graph: Graph) -> None:
    bad = unknown_ops(graph)
    if bad:
        raise UnsupportedOpsError(
            _refusal(graph, bad, "mcugen"),
            hint="mcugen cannot analyse or run these; replace them in the model.",
        )


def check_shapes(graph: Graph) -> None:
    """Every known op's declared output shape must match what its inputs imply, and its
    shape and MAC rules must apply to its operands at all (a damaged file gives an op
    operands of the wrong rank or count: refused here, naming the op, not later as a crash)."""
    for op in graph.operators:
        spec = REGISTRY.get(op.opcode)
        if spec is None:
            continue
        try:
            expected = spec.infer(graph, op)
            spec.macs(graph, op)
        except ModelError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError, AttributeError) as exc:
            raise ModelError(f"Operator {op.index} ({op.opcode}) is malformed: {printable(str(exc), 120)} "
                             f"({_operands(graph, op)}).",
                             hint="The model file is inconsistent; re-export it.") from exc
        declared = [graph.tensors[i].shape for i in op.outputs]
        if [tuple(s) for s in expected] != [tuple(s) for s in declared[: len(expected)]]:
            raise ModelError(
                f"Operator {op.index} ({op.opcode}) declares output shape(s) {_shapes(declared)} "
                f"but its inputs give {_shapes(expected)}.",
                hint="The model file is inconsistent; re-export it.",
            )
        _check_bias(graph, op)


# Operators whose bias (this input) holds one value per output channel (the output's last dimension).
_BIAS_INPUT = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "TRANSPOSE_CONV": 3}


def _check_bias(graph: Graph, op: Operator) -> None:
    k = _BIAS_INPUT.get(op.opcode)
    if k is None or len(op.inputs) <= k or op.inputs[k] < 0 or not op.outputs:
        return
    bias, out = graph.tensors[op.inputs[k]], graph.tensors[op.outputs[0]]
    channels = out.shape[-1] if out.shape else 1
    if bias.size != channels:
        raise ModelError(
            f"Operator {op.index} ({op.opcode}) has a bias of {bias.size} values (tensor {bias.index} "
            f"{list(bias.shape)}) for {channels} output channels (tensor {out.index} {list(out.shape)}).",
            hint="The model file is inconsistent; re-export it.")


def _operands(graph: Graph, op: Operator) -> str:
    def shape(i: int) -> str:
        return "-" if i < 0 else f"tensor {i} {list(graph.tensors[i].shape)}"

    ins = ", ".join(shape(i) for i in op.inputs[:MAX_LISTED])
    outs = ", ".join(shape(i) for i in op.outputs[:MAX_LISTED])
    return printable(f"inputs {ins}; outputs {outs}", 240)


def _shapes(shapes: list) -> str:
    text = str([list(s) for s in shapes[:MAX_LISTED]])
    return printable(text, 160) + (f" and {len(shapes) - MAX_LISTED} more" if len(shapes) > MAX_LISTED else "")


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
