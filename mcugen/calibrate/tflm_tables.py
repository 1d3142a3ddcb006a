"""Constant tables of TFLM's kernels that mcugen's kernels must reproduce bit for bit and that
no formula gives back exactly, extracted from the pinned tree and committed as data
(mcugen/data/tflm_tables.json, read by mcugen.lower.quant16), so generation needs no TFLM tree.

    python -m mcugen.calibrate.tflm_tables --update [TFLM_ROOT]

- sigmoid_table_uint16: sigmoid(i/24) in unsigned Q0.16, 256 entries
  (tensorflow/lite/kernels/internal/common.h), the int16 LOGISTIC and TANH kernels' table;
  within one unit of round(65536 * sigmoid(i / 24)), but not equal to any rounding of it.
tests/test_int16.py re-extracts from the tree in use and fails when the data is stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mcugen.lower.quant16 import TABLES_PATH
from mcugen.tflm.source import find_tflm_root

SOURCES = {"sigmoid_table_uint16": "tensorflow/lite/kernels/internal/common.h"}


def extract(root: Path) -> dict[str, list[int]]:
    """Each table's values as its source lists them."""
    tables = {}
    for name, rel in SOURCES.items():
        text = (root / rel).read_text()
        m = re.search(rf"\b{name}\s*\[\s*\d*\s*\]\s*=\s*\{{([^}}]*)\}}", text)
        if m is None:
            raise SystemExit(f"{name} not found in {root / rel}")
        tables[name] = [int(v) for v in re.findall(r"\d+", m.group(1))]
    return tables


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else find_tflm_root().root
    tables = extract(root)
    if argv and argv[0] == "--update":
        TABLES_PATH.write_text(json.dumps({"source": {k: v for k, v in SOURCES.items()}, "tables": tables},
                                          indent=1) + "\n")
        print(f"wrote {', '.join(tables)} -> {TABLES_PATH}")
    else:
        print(json.dumps(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
