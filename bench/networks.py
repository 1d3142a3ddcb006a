"""Whole networks on QEMU: TFLM + CMSIS-NN vs mcugen cubeai (portable kernels) vs mcugen
cubeai on the Cortex-M7 kernels, instructions per inference.

Run: python bench/networks.py [--nets NAME ...] [--wide-limit N|all|none] [--json FILE]

For each model: the tflm style project (CMSIS-NN kernels, the TFLM tree of
MCUGEN_TFLM_ROOT or the shared one), the cubeai project, and the cubeai project
with mcugen.lower.arm's kernels (every variant that applies, no RAM rule), each built with
arm-none-eabi-gcc -O2 and run on QEMU mps2-an500 (-icount shift=0: the timer
counts instructions) on one seeded random input; every output is compared with
TFLM's reference interpreter. Models: person_detect (bundled) and the synthetic
networks of the tests (tests/tfmodels.py, built once with TensorFlow and cached).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mcugen.build import build_project  # noqa: E402
from mcugen.codegen import generate_cubeai  # noqa: E402
from mcugen.lower import Kernels  # noqa: E402
from mcugen.lower.arm import DEFAULT_WIDE_LIMIT  # noqa: E402
from mcugen.inputs import make_samples  # noqa: E402
from mcugen.measure import measure  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.ops import total_macs  # noqa: E402


def synthetic(name: str) -> Path:
    import tfmodels as M
    import tfops

    nets = {
        "mobilenet_v1_96": (M.mobilenet_v1, {"input_shape": (96, 96, 1), "alpha": 0.25}),
        "mobilenet_v1_224": (M.mobilenet_v1, {"input_shape": (224, 224, 3), "alpha": 0.25}),
        "mobilenet_v2_224": (tfops.mobilenet_v2_flat, {}),
        "mnasnet_like": (M.mnasnet_like, {}),
        "ssdlite_head": (M.ssdlite_head, {"q_output_type": "float32"}),
    }
    builder, kwargs = nets[name]
    return M.cached_model(name, builder, **kwargs)


NETS = ["person_detect", "mobilenet_v1_96", "mobilenet_v1_224", "mobilenet_v2_224", "mnasnet_like", "ssdlite_head"]


def model_path(name: str) -> Path:
    return ROOT / "examples" / "models" / "person_detect.tflite" if name == "person_detect" else synthetic(name)


def run_tflm(model: Path, out: Path) -> dict:
    """tflm style, CMSIS-NN kernels, through the CLI (generate, build, flash-and-measure)."""
    cli = [sys.executable, "-m", "mcugen"]
    subprocess.run([*cli, "generate", str(model), "-t", "qemu-m7", "-o", str(out), "-s", "tflm", "--force"],
                   check=True, capture_output=True, text=True)
    subprocess.run([*cli, "build", str(out)], check=True, capture_output=True, text=True)
    proc = subprocess.run([*cli, "flash-and-measure", str(out), "--random", "1", "--json"], check=True,
                          capture_output=True, text=True)
    d = json.loads(proc.stdout)
    return {"instructions": int(d["timing"]["median"]), "bit_exact": bool(d["bit_exact"])}


def run_cubeai(model: Path, out: Path, wide_limit: int | None, arm: bool) -> dict:
    from mcugen.reference import reference_outputs
    from mcugen.validate import compare_outputs

    graph = load_model(model)
    kernels = Kernels(simd=arm, wide_limit=wide_limit, max_ram_growth=None)
    project = generate_cubeai(graph, "qemu-m7", out, kernels=kernels, force=True)
    build_project(project.out_dir)
    samples = make_samples(graph, (), random=1, seed=0)
    m = measure(project.out_dir, "qemu", samples, runs=1)
    comparisons = compare_outputs(graph, m.outputs, reference_outputs(graph, samples))
    return {"instructions": int(m.stats.median), "bit_exact": all(c.bit_exact for c in comparisons),
            "weights_bytes": project.weights_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", nargs="*", default=NETS, choices=NETS)
    parser.add_argument("--wide-limit", default=str(DEFAULT_WIDE_LIMIT))
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args()
    wide_limit = {"all": None, "none": 0}.get(opts.wide_limit)
    if opts.wide_limit not in ("all", "none"):
        wide_limit = int(opts.wide_limit)

    table = Table(title="Whole inference on QEMU mps2-an500 (instructions; arm-none-eabi-gcc -O2)")
    for col in ("model", "MACs", "TFLM+CMSIS-NN", "cubeai portable", "cubeai arm", "arm/MAC", "arm/TFLM",
                "weights (portable -> arm)", "bit-exact"):
        table.add_column(col, justify="left" if col == "model" else "right")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mcugen-nets-") as tmp:
        for name in opts.nets:
            model = model_path(name)
            macs = total_macs(load_model(model))
            tflm = run_tflm(model, Path(tmp, name, "tflm"))
            port = run_cubeai(model, Path(tmp, name, "portable"), wide_limit, arm=False)
            arm = run_cubeai(model, Path(tmp, name, "arm"), wide_limit, arm=True)
            row = {"model": name, "macs": macs, "tflm_cmsis_nn": tflm["instructions"],
                   "cubeai_portable": port["instructions"], "cubeai_arm": arm["instructions"],
                   "weights_portable": port["weights_bytes"], "weights_arm": arm["weights_bytes"],
                   "bit_exact": tflm["bit_exact"] and port["bit_exact"] and arm["bit_exact"]}
            rows.append(row)
            table.add_row(name, f"{macs:,}", f"{row['tflm_cmsis_nn']:,}", f"{row['cubeai_portable']:,}",
                          f"{row['cubeai_arm']:,}", f"{row['cubeai_arm'] / macs:.2f}",
                          f"{row['cubeai_arm'] / row['tflm_cmsis_nn']:.2f}",
                          f"{row['weights_portable']:,} -> {row['weights_arm']:,}",
                          "yes" if row["bit_exact"] else "NO")
    Console(width=160).print(table)
    print(f"int16 filters up to {opts.wide_limit} bytes per layer")
    if opts.json:
        opts.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
