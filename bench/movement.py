"""The data-movement kernels on qemu-m7: mcugen cubeai vs TFLM (the board's default kernel set,
CMSIS-NN, which has none of these ops: TFLM runs its reference code for them), instructions
per inference of single-op models and two small nets.

Run: python bench/movement.py [--cases resize_bilinear_half,split_last,...] [--nets/--no-nets]
     [--inputs N] [--json FILE]

The single-op models are tests/tfops_move.py's cases (cached by tests/tfmodels.py), the
nets its yolo_head and shuffle_net. Each is generated in both styles, built, run on QEMU
(-icount: instructions, not cycles) and checked bit for bit against the TFLM reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import tfops_move  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from tfmodels import cached_model  # noqa: E402

from mcugen import project  # noqa: E402
from mcugen.options import GenerateOptions  # noqa: E402

DEFAULT_CASES = ("resize_bilinear_half", "resize_nearest_half", "concat_axis_neg3", "split_last", "strided_reverse",
                 "slice", "pack_axis2", "unpack_neg2", "gather_axis1", "depth_to_space", "space_to_depth")
NETS = ("yolo_head", "shuffle_net")


def _model(name: str) -> Path:
    case = next((c for c in tfops_move.CASES if c[0] == name), None)
    if case is not None:
        return cached_model(case[0], case[1], **case[2])
    return cached_model(name, getattr(tfops_move, name))


def measure(name: str, inputs: int) -> dict[str, float]:
    row: dict[str, float] = {}
    for style in ("cubeai", "tflm"):
        with tempfile.TemporaryDirectory() as tmp:
            _, _, rep = project.validate(_model(name), "qemu-m7", GenerateOptions(style=style), random=inputs,
                                         seed=3, output=Path(tmp) / "p", force=True)
        if not rep.comparison.bit_exact:
            raise SystemExit(f"{name} ({style}) is not bit-exact with TFLM")
        row[style] = float(rep.counts["median"])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES))
    ap.add_argument("--nets", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--inputs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    names = [n for n in args.cases.split(",") if n] + (list(NETS) if args.nets else [])
    table = Table("model", "cubeai", "TFLM", "cubeai / TFLM", title="instructions per inference, qemu-m7")
    results = {}
    for name in names:
        row = results[name] = measure(name, args.inputs)
        table.add_row(name, f"{row['cubeai']:,.0f}", f"{row['tflm']:,.0f}", f"{row['cubeai'] / row['tflm']:.2f}")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
