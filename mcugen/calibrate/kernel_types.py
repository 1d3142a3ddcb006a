"""Measuring which tensor types each TFLM kernel handles (mcugen/data/tflm_kernel_types.json,
read by mcugen.tflm.kernel_types), for the coverage table (`mcugen ops`, docs/operators.md).

    python -m mcugen.calibrate.kernel_types --update [TFLM_ROOT]

For each operator the resolver registers, the reference kernel's source is the file that
defines its `Register_*` function (tensorflow/lite/micro/kernels, signal/micro/kernels),
with its `<stem>_common.cc` and `<stem>.h` companions; the types are the TfLiteType
enumerators those files name (kTfLiteInt8, kTfLiteUInt8, kTfLiteInt16, kTfLiteFloat32). A
kernel that names none moves bytes of any type (RESHAPE). Coarse where one file holds
several operators (activations.cc, elementwise.cc): the file's types are each op's.
tests/tflm/test_tflm_ops.py re-scans the tree in use and fails when the table is stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mcugen.tflm.kernel_types import TABLE_PATH, TYPE_TOKENS
from mcugen.tflm.ops import CUSTOM_RESOLVER_METHODS, REGISTRATIONS
from mcugen.tflm.source import find_tflm_root

KERNEL_DIRS = ("tensorflow/lite/micro/kernels", "signal/micro/kernels")
_REGISTER = re.compile(r"^\s*TFLMRegistration\*?\s+\*?\s*(?:tflite::)?(?:tflm_signal::)?(Register_\w+)\(\)\s*\{",
                       re.M)


def _sources(root: Path) -> dict[str, list[Path]]:
    """Register_* function -> the source files of its kernel."""
    found: dict[str, list[Path]] = {}
    for d in KERNEL_DIRS:
        for path in sorted((root / d).glob("*.cc")):
            if path.stem.endswith("_test"):
                continue
            for name in _REGISTER.findall(path.read_text(errors="replace")):
                stem = path.stem
                companions = [path.with_name(f"{stem}_common.cc"), path.with_name(f"{stem}.h")]
                found.setdefault(name, [path, *(p for p in companions if p.is_file())])
    return found


def _custom_registrations(root: Path) -> dict[str, str]:
    """Custom op name -> its Register_* function, from the resolver's Add* methods."""
    header = (root / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    out = {}
    for name, method in CUSTOM_RESOLVER_METHODS.items():
        m = re.search(rf"TfLiteStatus {method}\([^)]*\)\s*{{(.*?)\n  }}", header, re.S)
        reg = re.search(r"(Register_\w+)\(\)", m.group(1)) if m else None
        if reg:
            out[name] = reg.group(1)
    return out


def scan(root: Path) -> dict[str, list[str]]:
    """Operator (builtin opcode, or CUSTOM:<name>) -> the types its reference kernel handles."""
    sources = _sources(root)
    registrations = {op: reg for op, (reg, _) in REGISTRATIONS.items()}
    registrations.update({f"CUSTOM:{name}": reg for name, reg in _custom_registrations(root).items()})
    table: dict[str, list[str]] = {}
    for op, reg in sorted(registrations.items()):
        files = sources.get(reg)
        if not files:
            continue
        text = "".join(f.read_text(errors="replace") for f in files)
        types = [name for name, token in TYPE_TOKENS.items() if re.search(rf"\b{token}\b", text)]
        table[op] = types or ["any"]
    return table


def main(argv: list[str]) -> int:
    update = "--update" in argv
    args = [a for a in argv if a != "--update"]
    root = Path(args[0]) if args else find_tflm_root().root
    table = scan(root)
    text = json.dumps({"tree": str(root.name), "types": table}, indent=1, sort_keys=True) + "\n"
    if update:
        TABLE_PATH.write_text(text)
        print(f"wrote {TABLE_PATH} ({len(table)} operators)")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
