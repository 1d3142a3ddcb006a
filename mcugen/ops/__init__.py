"""The operator registry: shapes, MACs, styles and memory behaviour per operator."""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.errors import ModelError, UnsupportedOpsError
from mcugen.model.graph import Graph, Operator
from mcugen.ops import detection, elementwise, layout, movement, nn
from mcugen.ops.base import ALIAS, INPLACE, SEPARATE, STYLES, OpSpec
from mcugen.ops.generic import generic_spec, op_name, tflm_registers
from mcugen.text import printable, quoted

REGISTRY: dict[str, OpSpec] = {spec.name: spec for module in (nn, elementwise, layout, movement, detection)
                               for spec in module.SPECS}


@dataclass(frozen=True)
class UnsupportedOp:
    index: int
    opcode: str
    reason: str


def spec_for(op: Operator) -> OpSpec | None:
    """The op's precise entry; else the generic one (mcugen.ops.generic) when TFLM runs it;
    None for an op neither mcugen nor TFLM knows."""
    spec = REGISTRY.get(op_name(op))
    if spec is None and tflm_registers(op):
        spec = generic_spec(op_name(op))
    return spec


def _unknown_reason(op: Operator) -> str:
    if op.opcode == "CUSTOM":
        return "custom operator that TFLM does not register"
    return "neither in mcugen's operator registry nor registered by TFLM"


def unknown_ops(graph: Graph) -> list[UnsupportedOp]:
    """Operators neither style can run: outside mcugen's registry and unknown to TFLM's
    resolver (a custom op TFLM does not register, a builtin TFLM lacks)."""
    found = [UnsupportedOp(op.index, printable(op_name(op), 60), _unknown_reason(op))
             for op in graph.operators if spec_for(op) is None]
    return found + _subgraph_unsupported(graph)


def _subgraph_unsupported(graph: Graph) -> list[UnsupportedOp]:
    """Operators of the other subgraphs (control-flow bodies) TFLM cannot register: neither style
    runs them (cubeai runs no control flow). Listed under their subgraph's own operator index."""
    found = []
    for k, i, opcode, custom in graph.subgraph_ops:
        op = Operator(index=i, opcode=opcode, inputs=(), outputs=(), custom_code=custom)
        if not tflm_registers(op):
            found.append(UnsupportedOp(i, printable(f"{op_name(op)} (subgraph {k})", 80), _unknown_reason(op)))
    return found


def tflm_unsupported(graph: Graph) -> list[UnsupportedOp]:
    """Every operator the tflm style cannot run: one TFLM's MicroMutableOpResolver cannot
    register (mcugen.tflm.ops, TFLM's own tables; mcugen's own MCU_PATCH_STAGE included).
    Which ops the cubeai style runs is for its lowering to say (mcugen.lower.unsupported_ops)."""
    found = unknown_ops(graph)
    skip = {u.index for u in found}
    for op in graph.operators:
        if op.index not in skip and not tflm_registers(op):
            found.append(UnsupportedOp(op.index, printable(op_name(op), 60), "TFLM cannot register it"))
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
    """UnsupportedOpsError naming every op (and its index) that neither style runs."""
    bad = unknown_ops(graph)
    if bad:
        raise UnsupportedOpsError(
            _refusal(graph, bad, "either style (cubeai or tflm)"),
            hint="Neither mcugen's kernels nor TFLM's resolver run these; replace them in the model "
            "(TFLM runs the custom operators its MicroMutableOpResolver registers: mcugen ops).",
        )


def check_shapes(graph: Graph) -> None:
    """Every known op's declared output shape must match what its inputs imply, and its
    shape and MAC rules must apply to its operands at all (a damaged file gives an op
    operands of the wrong rank or count: refused here, naming the op, not later as a crash)."""
    for op in graph.operators:
        spec = REGISTRY.get(op_name(op))  # a custom op's entry is CUSTOM:<name>
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


def op_macs(graph: Graph, op: Operator) -> int | None:
    """The op's multiply-accumulates; None when unknown (a generic entry, an unknown op)."""
    spec = spec_for(op)
    return spec.macs(graph, op) if spec else None


def total_macs(graph: Graph) -> int | None:
    """The model's MACs; None when any op's are unknown (a partial sum would read as exact)."""
    total = 0
    for op in graph.operators:
        macs = op_macs(graph, op)
        if macs is None:
            return None
        total += macs
    return total


def unknown_macs_ops(graph: Graph) -> list[int]:
    """Indices of the operators whose MACs mcugen does not know."""
    return [op.index for op in graph.operators if op_macs(graph, op) is None]


__all__ = [
    "ALIAS", "INPLACE", "SEPARATE", "REGISTRY", "STYLES", "OpSpec", "UnsupportedOp", "check_shapes",
    "format_unsupported", "op_macs", "require_known", "spec_for", "tflm_unsupported", "total_macs",
    "unknown_macs_ops", "unknown_ops", "unsupported_error",
]
