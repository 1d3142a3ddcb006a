"""How fast `mcugen inspect` and `mcugen estimate` answer, per bundled model.

Run: python bench/startup.py [--repeat N]
Wall time of the whole command (interpreter start included), best and median of N runs.
The goal: under 1 s on every bundled model (no TensorFlow on this path).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "examples" / "models").glob("*.tflite"))


def timed(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mcugen", *args], capture_output=True)
    return time.perf_counter() - start, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    table = Table(title=f"mcugen start-up (wall time, {opts.repeat} runs)")
    for col in ("model", "command", "best s", "median s", "exit", "under 1 s"):
        table.add_column(col)
    worst = 0.0
    for model in MODELS:
        for cmd in (["inspect", str(model), "--json"], ["estimate", str(model), "-t", "stm32h7", "--json"]):
            runs = [timed(cmd) for _ in range(opts.repeat)]
            times = [t for t, _ in runs]
            rc = runs[-1][1]
            med = statistics.median(times)
            worst = max(worst, med)
            table.add_row(model.stem, cmd[0], f"{min(times):.3f}", f"{med:.3f}", str(rc), "yes" if med < 1 else "NO")
    Console().print(table)
    print(f"worst median: {worst:.3f} s")


if __name__ == "__main__":
    main()
