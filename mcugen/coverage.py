"""Which operators each style runs, per type: the table `mcugen ops` prints and
docs/operators.md holds (issue 16 item 3), generated from mcugen's own tables.

- cubeai: an op runs when mcugen has a lowering for it (mcugen.lower.portable.LOWERINGS,
  int8); the other types where the lowering accepts them (CUBEAI_TYPES, from the lowerings'
  type checks: the lowering stays the authority on a given model).
- tflm: an op runs when TFLM's resolver registers it (mcugen.tflm.ops); the types its
  reference kernel handles (mcugen.tflm.kernel_types, scanned from the kernel sources).
- X-CUBE-AI: the operators ST's "TensorFlow Lite toolbox support" page lists for ST Edge AI
  Core (stedgeai-dc.st.com, supported_ops_tflite) as far as known here; "?" otherwise.
- model: "precise" (mcugen's registry: shapes checked, MACs, memory behaviour) or "generic"
  (mcugen.ops.generic: the model's shapes, MACs unknown, memory separate).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcugen.lower.portable import LOWERINGS
from mcugen.ops import REGISTRY
from mcugen.ops.base import PATCH_STAGE
from mcugen.tflm.kernel_types import kernel_types
from mcugen.tflm.ops import CUSTOM_RESOLVER_METHODS, RESOLVER_METHODS

TYPES = ("int8", "uint8 I/O", "16x8", "float I/O")
_TFLM_TYPE = {"int8": "int8", "uint8 I/O": "uint8", "16x8": "int16", "float I/O": "float32"}

# Types beyond int8 that a cubeai lowering accepts (mcugen/lower: quantize.py, movement.py, slicing.py,
# resize.py, elementwise.py's softmax with an int16 output, int16.py's 16x8 ops); every other lowered op is
# int8 only.
_ANY = frozenset(TYPES)
CUBEAI_TYPES: dict[str, frozenset[str]] = {
    "QUANTIZE": _ANY, "DEQUANTIZE": frozenset({"int8", "uint8 I/O", "16x8", "float I/O"}),
    "RESHAPE": _ANY, "SQUEEZE": _ANY, "EXPAND_DIMS": _ANY, "CONCATENATION": _ANY, "TRANSPOSE": _ANY,
    # The copying kernels (lower/movement.py COPY_TYPES, lower/slicing.py): int8, int16, float32.
    **{op: frozenset({"int8", "16x8", "float I/O"})
       for op in ("SPLIT", "SPLIT_V", "UNPACK", "PACK", "SLICE", "STRIDED_SLICE", "RESIZE_NEAREST_NEIGHBOR")},
    "GATHER": frozenset({"int8", "float I/O"}), "DEPTH_TO_SPACE": frozenset({"int8", "float I/O"}),
    "SPACE_TO_DEPTH": frozenset({"int8", "float I/O"}),
    # 16x8 (int16 activations, int8 weights): lower/int16.py.
    **{op: frozenset({"int8", "16x8"})
       for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "SOFTMAX", "LOGISTIC", "TANH",
                  "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN")},
    # Float in and out by definition (lower/detection.py), behind the DEQUANTIZE of an int8 or uint8 model.
    "CUSTOM:TFLite_Detection_PostProcess": frozenset({"int8", "uint8 I/O", "float I/O"}),
}

# Operators ST's TensorFlow Lite toolbox page lists as importable (int8 models). Not listed here: unknown ("?").
XCUBEAI_LISTED = frozenset("""
ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEQUANTIZE FULLY_CONNECTED HARD_SWISH LEAKY_RELU
LOGISTIC MAX_POOL_2D MAXIMUM MEAN MINIMUM MUL PAD QUANTIZE RELU RELU6 RESHAPE RESIZE_BILINEAR
RESIZE_NEAREST_NEIGHBOR SOFTMAX SPLIT SQUEEZE STRIDED_SLICE SUB TANH TRANSPOSE TRANSPOSE_CONV
UNIDIRECTIONAL_SEQUENCE_LSTM
""".split())


@dataclass(frozen=True)
class OpCoverage:
    op: str  # builtin opcode, or CUSTOM:<name>
    model: str  # "precise" | "generic"
    cubeai: tuple[str, ...]  # the types the cubeai style runs it with ("" tuple: none)
    tflm: tuple[str, ...]  # the types TFLM's kernel handles ("" tuple: TFLM cannot register it)
    xcubeai: str  # "yes" | "?"

    def to_json(self) -> dict:
        return {"op": self.op, "model": self.model, "cubeai": list(self.cubeai), "tflm": list(self.tflm),
                "x_cube_ai": self.xcubeai}


def _tflm_types(op: str, registered: bool) -> tuple[str, ...]:
    if not registered:
        return ()
    scanned = kernel_types(op)
    if scanned is None:
        return ("int8",)  # registered, types not scanned: TFLM's int8 path, the one every kernel has
    if "any" in scanned:
        return TYPES
    return tuple(t for t in TYPES if _TFLM_TYPE[t] in scanned)


def coverage() -> list[OpCoverage]:
    """One row per operator mcugen or TFLM knows, sorted by name (custom ops last)."""
    known = (set(REGISTRY) | set(RESOLVER_METHODS) | set(LOWERINGS)) - {PATCH_STAGE}
    custom = {n for n in known if n.startswith("CUSTOM:")} | {f"CUSTOM:{n}" for n in CUSTOM_RESOLVER_METHODS}
    names = sorted(known - custom) + sorted(custom)
    rows = []
    for op in names:
        registered = op in RESOLVER_METHODS or op.removeprefix("CUSTOM:") in CUSTOM_RESOLVER_METHODS
        cubeai = tuple(t for t in TYPES if t in CUBEAI_TYPES.get(op, {"int8"})) if op in LOWERINGS else ()
        rows.append(OpCoverage(op, "precise" if op in REGISTRY else "generic", cubeai,
                               _tflm_types(op, registered), "yes" if op in XCUBEAI_LISTED else "?"))
    return rows


def _cell(types: tuple[str, ...], t: str) -> str:
    return "yes" if t in types else "-"


def markdown() -> str:
    """docs/operators.md: the table, and what its columns mean."""
    rows = coverage()
    head = ["op", "mcugen model"] + [f"cubeai {t}" for t in TYPES] + [f"tflm {t}" for t in TYPES] + ["X-CUBE-AI"]
    lines = [
        "# Operators: which style runs what",
        "",
        "Generated by `mcugen ops --markdown` from mcugen's tables; `tests/test_coverage.py` fails when",
        "this file is stale (regenerate: `mcugen ops --markdown > docs/operators.md`).",
        "",
        "- **mcugen model**: `precise` (mcugen's operator registry: output shapes checked, MACs, memory",
        "  behaviour) or `generic` (the model's own shapes, MACs unknown, memory separate: the `tflm`",
        "  style runs it, `inspect`/`estimate` show its MACs as unknown).",
        "- **cubeai**: mcugen's own kernels (`--style cubeai`), bit-exact with TFLM's reference kernels.",
        "- **tflm**: TensorFlow Lite Micro (`--style tflm`): every operator its `MicroMutableOpResolver`",
        "  registers; the types are those the reference kernel's sources handle (scanned from the pinned",
        "  tree by `python -m mcugen.calibrate.kernel_types`; coarse where one source file holds several",
        "  operators). `16x8` stands for int16 activations.",
        "- **X-CUBE-AI**: `yes` where ST's TensorFlow Lite toolbox support page (ST Edge AI Core) lists",
        "  the operator, `?` where this table does not know.",
        "",
        "mcugen loads quantized models: float tensors only at a model's edges (a float input through",
        "QUANTIZE, a float output through DEQUANTIZE). The tflm float column is TFLM's kernel support;",
        "a float operator inside a model is refused by mcugen in both styles today.",
        "",
        f"{sum(1 for r in rows if r.cubeai)} operators run in the cubeai style, "
        f"{sum(1 for r in rows if r.tflm)} in the tflm style.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [f"`{r.op}`", r.model] + [_cell(r.cubeai, t) for t in TYPES] + [_cell(r.tflm, t) for t in TYPES]
        lines.append("| " + " | ".join(cells + [r.xcubeai]) + " |")
    return "\n".join(lines) + "\n"


__all__ = ["CUBEAI_TYPES", "TYPES", "XCUBEAI_LISTED", "OpCoverage", "coverage", "markdown"]
