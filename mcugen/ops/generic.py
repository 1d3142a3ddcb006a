"""The registry entry of an operator TFLM runs but mcugen has no precise model of.

The tflm style runs every operator TFLM's resolver registers (mcugen.tflm.ops). For
those outside the precise registry, mcugen still knows what the later stages need:
the output shapes are the model's own (the flatbuffer's, not inferred), the memory
behaviour is SEPARATE (never shared with an input: nothing proves otherwise), and the
MACs are unknown: None, which reports show as "unknown", never as 0. TFLM's own
allocator replay (mcugen.tflm.arena) sizes the arena such an op needs.
"""

from __future__ import annotations

from mcugen.model.graph import Graph, Operator
from mcugen.ops.base import SEPARATE, OpSpec, Shape
from mcugen.tflm.ops import CUSTOM_RESOLVER_METHODS, RESOLVER_METHODS

GENERIC_NOTE = "generic entry: output shapes from the model, MACs unknown, memory separate"


def model_shapes(graph: Graph, op: Operator) -> list[Shape]:
    """The output shapes the model declares (nothing to infer them from)."""
    return [graph.tensors[i].shape for i in op.outputs]


def unknown_macs(graph: Graph, op: Operator) -> int | None:
    return None


def tflm_registers(op: Operator) -> bool:
    """True when TFLM's MicroMutableOpResolver can register the op (builtin or custom)."""
    if op.opcode == "CUSTOM":
        return (op.custom_code or "") in CUSTOM_RESOLVER_METHODS
    return op.opcode in RESOLVER_METHODS


def op_name(op: Operator) -> str:
    """The name reports use: the opcode, or CUSTOM:<custom code> for a custom operator."""
    return f"CUSTOM:{op.custom_code or ''}" if op.opcode == "CUSTOM" else op.opcode


_GENERIC: dict[str, OpSpec] = {}


def generic_spec(name: str) -> OpSpec:
    """The (cached) generic entry for the operator called `name`."""
    spec = _GENERIC.get(name)
    if spec is None:
        spec = _GENERIC[name] = OpSpec(name, model_shapes, unknown_macs, SEPARATE, note=GENERIC_NOTE)
    return spec
