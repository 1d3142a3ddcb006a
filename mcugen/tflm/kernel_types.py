"""Which tensor types each TFLM reference kernel handles, as scanned from the kernel sources
of the pinned tree by mcugen.calibrate.kernel_types and committed as data
(mcugen/data/tflm_kernel_types.json), so `mcugen ops` needs no TFLM tree. "any": the kernel
names no type (it moves bytes). tests/tflm/test_tflm_ops.py re-scans and fails when stale."""

from __future__ import annotations

import json
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "tflm_kernel_types.json"
TYPE_TOKENS = {"int8": "kTfLiteInt8", "uint8": "kTfLiteUInt8", "int16": "kTfLiteInt16", "float32": "kTfLiteFloat32"}


def _load() -> dict[str, tuple[str, ...]]:
    if not TABLE_PATH.is_file():
        return {}
    return {op: tuple(types) for op, types in json.loads(TABLE_PATH.read_text())["types"].items()}


KERNEL_TYPES = _load()


def kernel_types(op: str) -> tuple[str, ...] | None:
    """The types TFLM's kernel for `op` (opcode or CUSTOM:<name>) handles; None when not scanned."""
    return KERNEL_TYPES.get(op)
