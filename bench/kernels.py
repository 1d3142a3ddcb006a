"""Cortex-M7 kernels vs the portable kernels and CMSIS-NN on QEMU: instructions per layer.

Run: python bench/kernels.py [--model PATH] [--synthetic/--no-synthetic] [--wide-limit N|all|none]
                             [--cmsis/--no-cmsis] [--json FILE]

Every CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / AVERAGE_POOL_2D / ADD of
person_detect (its real weights and quantization, random int8 inputs), then
typical MobileNet V1 / V2, MnasNet and SSDLite layer shapes (synthetic weights),
each run with the portable kernel, the Cortex-M7 variant mcugen.lower.arm
selects and (when its sources are found, MCUGEN_CMSIS_NN) the CMSIS-NN kernel
TFLM's cmsis_nn kernels call, in one QEMU mps2-an500 run (-icount shift=0: the
board timer counts instructions; tests/kernel_driver). Outputs are compared
(the variant with the portable kernel: must be equal; CMSIS-NN: reported).

The person_detect total is the projected whole-model figure for mcugen's kernels
(its RESHAPE and SOFTMAX are not included: a few hundred instructions). The
CMSIS-NN total of the same layers is 22.7 M, the figure measured for the whole
TFLM + CMSIS-NN inference on the same QEMU: TFLM's own overhead is negligible,
so the per-net CMSIS-NN totals stand for TFLM + CMSIS-NN.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import arm_harness as H  # noqa: E402
from mcugen.lower.arm import DEFAULT_WIDE_LIMIT, select_arm_variant  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.model.graph import Graph, Operator  # noqa: E402

TFLM_CMSIS_PERSON_DETECT = 22.7e6
OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "ADD")


def macs(graph: Graph, op: Operator) -> int:
    out = graph.tensors[op.outputs[0]]
    if op.opcode == "CONV_2D":
        _, kh, kw, ic = graph.tensors[op.inputs[1]].shape
        return out.size * kh * kw * ic
    if op.opcode == "DEPTHWISE_CONV_2D":
        _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
        return out.size * kh * kw
    if op.opcode == "FULLY_CONNECTED":
        return out.size * graph.tensors[op.inputs[1]].shape[1]
    return 0


def describe(graph: Graph, op: Operator) -> str:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    shape = "x".join(str(d) for d in x.shape[1:])
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
        kind = "dw" if op.opcode == "DEPTHWISE_CONV_2D" else "conv"
        return f"{kind}{kh}x{kw}/s{op.option('stride_h', 1)} {shape}->{y.shape[3]}"
    if op.opcode == "AVERAGE_POOL_2D":
        return f"avgpool {shape}->{'x'.join(str(d) for d in y.shape[1:])}"
    return f"{op.opcode.lower()} {shape}"


def model_cases(path: Path, seed: int = 0, wide_limit: int | None = 0) -> list[H.Case]:
    graph = load_model(path)
    rng = np.random.default_rng(seed)
    cases = []
    for op in graph.operators:
        if op.opcode not in OPS or select_arm_variant(graph, op, wide_limit) is None:
            continue
        x = graph.tensors[op.inputs[0]]
        object.__setattr__(graph, "_input_data", rng.integers(-128, 128, size=x.shape).astype(np.int8))
        if op.opcode == "ADD":
            b = graph.tensors[op.inputs[1]]
            object.__setattr__(graph, "_input2_data", rng.integers(-128, 128, size=b.shape).astype(np.int8))
        cases.append(H.prepare(graph, op, f"{path.stem} op{op.index} {describe(graph, op)}", wide_limit=wide_limit))
    return cases


# (kind, h, w, in_c, out_c or multiplier, kernel, stride): typical layers of MobileNet V1 0.5
# and V2 1.0 (96x96 inputs, as used on MCUs), MnasNet-A1-like blocks and SSDLite heads.
SYNTHETIC = {
    "mobilenet_v1": [
        ("conv", 96, 96, 3, 16, 3, 2), ("dw", 48, 48, 16, 1, 3, 1), ("pw", 48, 48, 16, 32, 1, 1),
        ("dw", 48, 48, 32, 1, 3, 2), ("pw", 24, 24, 32, 64, 1, 1), ("dw", 24, 24, 64, 1, 3, 1),
        ("pw", 24, 24, 64, 64, 1, 1), ("dw", 24, 24, 64, 1, 3, 2), ("pw", 12, 12, 64, 128, 1, 1),
        ("dw", 12, 12, 128, 1, 3, 1), ("pw", 12, 12, 128, 128, 1, 1), ("dw", 12, 12, 128, 1, 3, 2),
        ("pw", 6, 6, 128, 256, 1, 1), ("dw", 6, 6, 256, 1, 3, 1), ("pw", 6, 6, 256, 256, 1, 1),
        ("dw", 6, 6, 256, 1, 3, 2), ("pw", 3, 3, 256, 512, 1, 1), ("dw", 3, 3, 512, 1, 3, 1),
        ("pw", 3, 3, 512, 512, 1, 1), ("avgpool", 3, 3, 512, 1, 3, 1), ("fc", 1, 1, 512, 1000, 1, 1),
    ],
    "mobilenet_v2": [
        ("conv", 96, 96, 3, 32, 3, 2), ("dw", 48, 48, 32, 1, 3, 1), ("pw", 48, 48, 32, 16, 1, 1),
        ("pw", 48, 48, 16, 96, 1, 1), ("dw", 48, 48, 96, 1, 3, 2), ("pw", 24, 24, 96, 24, 1, 1),
        ("pw", 24, 24, 24, 144, 1, 1), ("dw", 24, 24, 144, 1, 3, 1), ("pw", 24, 24, 144, 24, 1, 1),
        ("add", 24, 24, 24, 24, 1, 1), ("dw", 24, 24, 144, 1, 3, 2), ("pw", 12, 12, 144, 32, 1, 1),
        ("pw", 12, 12, 32, 192, 1, 1), ("dw", 12, 12, 192, 1, 3, 1), ("pw", 6, 6, 192, 64, 1, 1),
        ("pw", 6, 6, 64, 384, 1, 1), ("dw", 6, 6, 384, 1, 3, 1), ("pw", 6, 6, 384, 96, 1, 1),
        ("pw", 3, 3, 160, 960, 1, 1), ("dw", 3, 3, 960, 1, 3, 1), ("pw", 3, 3, 960, 320, 1, 1),
        ("pw", 3, 3, 320, 1280, 1, 1), ("avgpool", 3, 3, 1280, 1, 3, 1), ("fc", 1, 1, 1280, 1000, 1, 1),
    ],
    "mnasnet": [
        ("dw", 48, 48, 32, 1, 3, 1), ("pw", 24, 24, 24, 72, 1, 1), ("dw", 24, 24, 72, 1, 5, 2),
        ("pw", 12, 12, 72, 40, 1, 1), ("dw", 12, 12, 120, 1, 5, 1), ("dw", 6, 6, 480, 1, 5, 1),
        ("dw", 6, 6, 576, 1, 5, 2), ("pw", 3, 3, 576, 160, 1, 1),
    ],
    "ssdlite": [
        ("dw", 6, 6, 576, 1, 3, 1), ("pw", 6, 6, 576, 24, 1, 1), ("pw", 3, 3, 1280, 256, 1, 1),
        ("dw", 3, 3, 256, 1, 3, 2), ("pw", 2, 2, 256, 512, 1, 1),
    ],
}


def synthetic_cases(seed: int = 1, wide_limit: int | None = 0) -> list[H.Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for net, layers in SYNTHETIC.items():
        for kind, h, w, in_c, out_c, k, s in layers:
            if kind == "pw":
                g, op = H.conv_case(rng, h=h, w=w, in_c=in_c, out_c=out_c, k_h=1, k_w=1, act="RELU6", in_zp=-128)
            elif kind == "conv":
                g, op = H.conv_case(rng, h=h, w=w, in_c=in_c, out_c=out_c, k_h=k, k_w=k, stride=(s, s),
                                    act="RELU6")
            elif kind == "dw":
                g, op = H.conv_case(rng, h=h, w=w, in_c=in_c, out_c=0, k_h=k, k_w=k, stride=(s, s),
                                    depthwise=True, mult=out_c, act="RELU6", in_zp=-128)
            elif kind == "add":
                g, op = H.add_case(rng, shape=(1, h, w, in_c))
            elif kind == "avgpool":
                g, op = H.pool_case(rng, h=h, w=w, c=in_c, f_h=k, f_w=k)
            else:
                g, op = H.fc_case(rng, batches=1, depth=in_c, units=out_c)
            label = f"{net} {describe(g, op)}"
            if select_arm_variant(g, op, wide_limit) is None:
                print(f"(no Cortex-M7 variant: {label})")
                continue
            cases.append(H.prepare(g, op, label, wide_limit=wide_limit))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "examples" / "models" / "person_detect.tflite")
    parser.add_argument("--synthetic", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--cmsis", action=argparse.BooleanOptionalAction, default=None,
                        help="also run CMSIS-NN (default: when its sources are found)")
    parser.add_argument("--wide-limit", default=str(DEFAULT_WIDE_LIMIT),
                        help="int16-filter variants for filters up to this many bytes ('all', 'none' or a number; "
                             f"default {DEFAULT_WIDE_LIMIT}, as select_arm_variant)")
    opts = parser.parse_args()

    wide_limit = {"all": None, "none": 0}.get(opts.wide_limit)
    if opts.wide_limit not in ("all", "none"):
        wide_limit = int(opts.wide_limit)
    cases = model_cases(opts.model, wide_limit=wide_limit)
    n_model = len(cases)
    if opts.synthetic:
        cases += synthetic_cases(wide_limit=wide_limit)
    cmsis = bool(H.cmsis_nn_sources()) if opts.cmsis is None else opts.cmsis
    results = H.run_qemu(cases, cmsis=cmsis)

    table = Table(title="Cortex-M7 kernels vs portable and CMSIS-NN (QEMU mps2-an500, arm-none-eabi-gcc -O2, "
                        "instructions)")
    cols = ["layer", "variant", "MACs", "portable", "CMSIS-NN", "arm", "arm/MAC", "vs portable", "vs CMSIS-NN",
            "exact"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("layer", "variant") else "right")
    rows = []
    nets: dict[str, dict[str, int]] = {}
    for k, r in enumerate(results):
        c = r.case
        m = macs(c.graph, c.op)
        net = opts.model.stem if k < n_model else c.label.split()[0]
        row = {"net": net, "layer": c.label, "variant": c.variant.name, "macs": m, "portable": r.count_portable,
               "cmsis_nn": r.count_cmsis if cmsis else None, "arm": r.count_arm, "bit_exact": r.ok}
        rows.append(row)
        t = nets.setdefault(net, {"macs": 0, "portable": 0, "cmsis_nn": 0, "arm": 0})
        for key in ("macs", "portable", "arm"):
            t[key] += row[key]
        t["cmsis_nn"] += r.count_cmsis if cmsis else 0
        last_of_net = k == len(results) - 1 or (results[k + 1].case.label.split()[0] != net if k + 1 >= n_model
                                                 else False)
        table.add_row(c.label, c.variant.name, f"{m:,}", f"{r.count_portable:,}",
                      f"{r.count_cmsis:,}" if cmsis else "-", f"{r.count_arm:,}",
                      f"{r.count_arm / m:.2f}" if m else "-", f"{r.count_portable / max(r.count_arm, 1):.1f}x",
                      f"{r.count_arm / r.count_cmsis:.2f}" if cmsis and r.count_cmsis else "-",
                      "yes" if r.ok else "NO")
        if last_of_net:
            table.add_row(f"[b]{net} total[/b]", "", f"{t['macs']:,}", f"{t['portable']:,}",
                          f"{t['cmsis_nn']:,}" if cmsis else "-", f"{t['arm']:,}",
                          f"{t['arm'] / t['macs']:.2f}", f"{t['portable'] / t['arm']:.1f}x",
                          f"{t['arm'] / t['cmsis_nn']:.2f}" if cmsis else "-", "", end_section=True)
    Console(width=170).print(table)
    arm = nets[opts.model.stem]["arm"]
    extra = sum(c.graph.tensors[c.op.inputs[1]].nbytes for c in cases[:n_model]
                if c.variant is not None and c.variant.wide)
    print(f"int16-filter variants: filters up to {opts.wide_limit} bytes; {extra:,} bytes of extra flash on "
          f"{opts.model.stem}")
    for net, t in nets.items():
        ratio = f", {t['arm'] / t['cmsis_nn']:.2f}x CMSIS-NN ({t['cmsis_nn'] / 1e6:.2f} M)" if cmsis else ""
        print(f"{net}: {t['arm']:,} instructions ({t['arm'] / t['macs']:.2f} per MAC){ratio}")
    print(f"{opts.model.stem} vs the measured TFLM + CMSIS-NN inference ({TFLM_CMSIS_PERSON_DETECT / 1e6:.1f} M): "
          f"{arm / TFLM_CMSIS_PERSON_DETECT:.2f}x")
    if not all(r.ok for r in results):
        print("NOT BIT-EXACT:", ", ".join(r.case.label for r in results if not r.ok))
    if opts.json:
        opts.json.write_text(json.dumps({"rows": rows, "totals": nets, "wide_limit": opts.wide_limit}, indent=2))


if __name__ == "__main__":
    main()
