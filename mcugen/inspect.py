"""What a model is: a summary and a per-layer table as plain data (rendered by report)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcugen.boards import Board, get_board
from mcugen.errors import McugenError
from mcugen.lower import lower
from mcugen.lower.call import KernelCall
from mcugen.model.graph import Graph, Operator, Tensor
from mcugen.ops import STYLES, op_macs, spec_for
from mcugen.ops.generic import GENERIC_NOTE, op_name
from mcugen.planner import MemoryPlan, plan_memory
from mcugen.support import unsupported_ops

# The kernels named per layer are those a Cortex-M7 runs (every M7 board lowers alike).
KERNEL_BOARD = "qemu-m7"


@dataclass(frozen=True)
class IoInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    scale: float | None
    zero_point: int | None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "bytes": self.bytes,
            "scale": self.scale,
            "zero_point": self.zero_point,
        }


@dataclass(frozen=True)
class LayerInfo:
    index: int
    opcode: str
    output_shape: tuple[int, ...]
    dtype: str
    macs: int | None  # None: unknown (an op mcugen has only a generic entry for)
    weight_bytes: int
    activation_bytes: int  # arena bytes in use while the op runs (live tensors and scratch, overlaps once)
    io_bytes: int = 0  # bytes of the op's non-constant inputs and outputs
    macs_percent: float = 0.0  # share of the model's MACs
    weights_percent: float = 0.0  # share of the model's constant bytes
    kernel: str = ""  # the cubeai C kernel running it on a Cortex-M7 ("" when cubeai cannot)
    variant: str = ""  # its Cortex-M7 variant ("" for the portable kernel)
    options: dict = field(default_factory=dict)
    unsupported_in: tuple[str, ...] = ()
    why_not: dict[str, str] = field(default_factory=dict)  # style -> why it cannot run the op
    generic: bool = False  # known to mcugen only through its generic entry (mcugen.ops.generic)

    @property
    def runs_in(self) -> tuple[str, ...]:
        return tuple(s for s in STYLES if s not in self.unsupported_in)

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "op": self.opcode,
            "output_shape": list(self.output_shape),
            "dtype": self.dtype,
            "macs": self.macs,
            "weight_bytes": self.weight_bytes,
            "activation_bytes": self.activation_bytes,
            "io_bytes": self.io_bytes,
            "macs_percent": round(self.macs_percent, 3),
            "weights_percent": round(self.weights_percent, 3),
            "kernel": self.kernel,
            "kernel_variant": self.variant,
            "options": self.options,
            "unsupported_in": list(self.unsupported_in),
            "styles": {s: {"runs": s not in self.why_not, "reason": self.why_not.get(s)} for s in STYLES},
            "model": GENERIC_NOTE if self.generic else "precise",
        }


@dataclass(frozen=True)
class ModelSummary:
    name: str
    sha256: str
    file_bytes: int
    description: str
    operators: int
    folded: tuple[str, ...]
    opcodes: tuple[str, ...]
    tensors: int
    macs: int | None  # None when any layer's MACs are unknown (macs_unknown lists them)
    weights_bytes: int  # ST's "weights (ro)"
    activations_bytes: int  # ST's "activations (rw)": the planned arena, I/O included
    io_outside_bytes: int  # I/O not in the arena (none: mcugen keeps I/O in the arena)
    inputs: tuple[IoInfo, ...]
    outputs: tuple[IoInfo, ...]
    layers: tuple[LayerInfo, ...]
    styles: dict[str, list[str]]  # style -> unsupported ops ("" list when fully supported)
    plan: MemoryPlan
    macs_unknown: tuple[int, ...] = ()  # indices of the operators whose MACs are unknown

    @property
    def ram_total(self) -> int:
        return self.activations_bytes + self.io_outside_bytes

    def to_json(self) -> dict:
        return {
            "model": self.name,
            "sha256": self.sha256,
            "file_bytes": self.file_bytes,
            "description": self.description,
            "operators": self.operators,
            "folded_ops": list(self.folded),
            "opcodes": list(self.opcodes),
            "tensors": self.tensors,
            "macs": self.macs,
            "macs_unknown_ops": list(self.macs_unknown),
            "weights_bytes": self.weights_bytes,
            "activations_bytes": self.activations_bytes,
            "ram_total": self.ram_total,
            "lower_bound_op": self.plan.bound_op,
            "lower_bound_tensor": self.plan.bound_tensor,
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": [o.to_json() for o in self.outputs],
            "layers": [layer.to_json() for layer in self.layers],
            "styles": {s: {"supported": not bad, "unsupported_ops": bad} for s, bad in self.styles.items()},
        }


def io_info(t: Tensor) -> IoInfo:
    q = t.quant
    return IoInfo(
        name=t.name,
        dtype=t.dtype,
        shape=t.shape,
        bytes=t.nbytes,
        scale=q.scale[0] if q and len(q.scale) == 1 else None,
        zero_point=q.zero_point[0] if q and len(q.zero_point) == 1 else None,
    )


def summarize(graph: Graph) -> ModelSummary:
    unsupported = {s: unsupported_ops(graph, s) for s in STYLES}  # each style checked once
    styles = {s: [f"#{u.index} {u.opcode}" for u in bad] for s, bad in unsupported.items()}
    bad_by_op: dict[int, list[str]] = {}
    why_not: dict[int, dict[str, str]] = {}
    for style, bad in unsupported.items():
        for u in bad:
            bad_by_op.setdefault(u.index, []).append(style)
            why_not.setdefault(u.index, {})[style] = u.reason
    plan = plan_memory(graph)
    live = live_bytes(plan, len(graph.operators))
    calls = cubeai_calls(graph, get_board(KERNEL_BOARD))
    known_macs = [op_macs(graph, op) for op in graph.operators]
    total_macs = sum(m for m in known_macs if m is not None)
    total_weights = graph.constant_bytes()
    layers = []
    for op in graph.operators:
        ins = [t for t in graph.op_inputs(op) if t is not None]
        outs = graph.op_outputs(op)
        macs = op_macs(graph, op)
        weights = sum(t.nbytes for t in ins if t.is_constant)
        call = calls.get(op.index)
        layers.append(
            LayerInfo(
                index=op.index,
                opcode=op_name(op),
                output_shape=outs[0].shape if outs else (),
                dtype=outs[0].dtype if outs else "",
                macs=macs,
                weight_bytes=weights,
                activation_bytes=live[op.index],
                io_bytes=sum(t.nbytes for t in ins if not t.is_constant) + sum(t.nbytes for t in outs),
                macs_percent=100.0 * macs / total_macs if macs is not None and total_macs else 0.0,
                weights_percent=100.0 * weights / total_weights if total_weights else 0.0,
                kernel=call.kernel if call else "",
                variant=call.variant if call else "",
                options={k: (list(v) if isinstance(v, tuple) else v) for k, v in op.options.items()},
                unsupported_in=tuple(bad_by_op.get(op.index, ())),
                why_not=why_not.get(op.index, {}),
                generic=_is_generic(op),
            )
        )
    unknown = [layer.index for layer in layers if layer.macs is None]
    return ModelSummary(
        name=graph.name,
        sha256=graph.model_hash,
        file_bytes=len(graph.model_bytes),
        description=graph.description,
        operators=len(graph.operators),
        folded=tuple(op.opcode for op in graph.folded),
        opcodes=tuple(graph.opcodes),
        tensors=len(graph.tensors),
        macs=None if unknown else total_macs,
        macs_unknown=tuple(unknown),
        weights_bytes=total_weights,
        activations_bytes=plan.arena_size,
        io_outside_bytes=0,
        inputs=tuple(io_info(t) for t in graph.input_tensors),
        outputs=tuple(io_info(t) for t in graph.output_tensors),
        layers=tuple(layers),
        styles=styles,
        plan=plan,
    )


def _is_generic(op: Operator) -> bool:
    spec = spec_for(op)
    return spec is not None and spec.note == GENERIC_NOTE


def live_bytes(plan: MemoryPlan, n_ops: int) -> list[int]:
    """Per op, the arena bytes in use while it runs: the union of the live buffers' byte
    ranges (tensors and scratch; buffers the plan lets overlap count once), per pool. Never
    more than the planned total, unlike the sum of an op's inputs and outputs."""
    used = []
    for i in range(n_ops):
        ranges = sorted((b.pool, b.offset, b.offset + b.size) for b in plan.buffers
                        if b.first <= i <= b.last and b.size > 0)
        total, pool, end = 0, None, 0
        for p, lo, hi in ranges:
            if p != pool:
                pool, end = p, 0
            if hi > end:
                total += hi - max(lo, end)
                end = hi
        used.append(total)
    return used


def cubeai_calls(graph: Graph, board: Board) -> dict[int, KernelCall]:
    """Per op index, the cubeai call running it on `board`; empty when cubeai cannot run the model."""
    try:
        return {c.op_index: c for c in lower(graph, board).calls}
    except McugenError:
        return {}
