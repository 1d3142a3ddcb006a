"""Per model, side by side on qemu-m7: mcugen cubeai (Cortex-M7 kernels and portable C,
with and without --patch auto), TFLM + CMSIS-NN and TFLM reference kernels.

Run: python bench/models.py [--models person_detect,mbv1_96x96x3,...] [--configs cubeai,tflm-cmsis_nn,...]
     [--inputs N] [--layers] [--json FILE]
     python bench/models.py --configs cubeai,cubeai-patch          # what --patch costs and saves
     python bench/models.py --configs cubeai-noin,cubeai-patch-noin # the same, inputs outside the arena

For each model and configuration it generates, builds and runs the firmware on QEMU
(instructions are exact with -icount; QEMU counts instructions, not cycles), checks
the outputs against the TFLM reference bit for bit, and prints: instructions per
inference, instructions per MAC, the ratio to TFLM + CMSIS-NN, activation RAM as the
firmware reports it (TFLM: arena_used_bytes), weights flash and code flash from the
linker map (kernels + network runtime, the protocol and board support apart), and
with --layers the ten slowest layers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from mcugen import emit, pipeline, project  # noqa: E402
from mcugen.boards import get_board  # noqa: E402
from mcugen.mapfile import PROJECT_GROUPS, group_usage, usage_by_file  # noqa: E402
from mcugen.ops import total_macs  # noqa: E402
from mcugen.options import GenerateOptions  # noqa: E402

MODELS = ROOT / "examples" / "models"
CONFIGS = {
    "cubeai": {"style": "cubeai"},
    "cubeai-portable": {"style": "cubeai", "kernels": "portable"},
    "cubeai-patch": {"style": "cubeai", "patch": "auto"},
    "cubeai-noin": {"style": "cubeai", "inputs_allocation": False},
    "cubeai-patch-noin": {"style": "cubeai", "patch": "auto", "inputs_allocation": False},
    "tflm-cmsis_nn": {"style": "tflm", "kernels": "cmsis_nn"},
    "tflm-reference": {"style": "tflm", "kernels": "reference"},
}


AUDIO_CNN16_Q = {"q_int16_activations": True, "q_input_type": "int16", "q_output_type": "int16",
                 "q_rep_range": (-2.0, 2.0), "q_per_channel_dense": False}


def synthetic(name: str) -> Path:
    import _tflm_models  # noqa: PLC0415
    import tfmodels  # noqa: PLC0415
    import tfops  # noqa: PLC0415
    import tfops_compute  # noqa: PLC0415

    builders = {
        "mbv1_96x96x3": lambda: tfmodels.cached_model("mbv1_96x96x3", tfmodels.mobilenet_v1, input_shape=(96, 96, 3)),
        "mbv1_128x128x3": lambda: tfmodels.cached_model("mbv1_128x128x3", tfmodels.mobilenet_v1,
                                                        input_shape=(128, 128, 3)),
        "mbv1_224x224x3": lambda: tfmodels.cached_model("mbv1_224x224x3", tfmodels.mobilenet_v1,
                                                        input_shape=(224, 224, 3)),
        "mbv1_0.5_224x224x3": lambda: tfmodels.cached_model("mbv1_05_224x224x3", tfmodels.mobilenet_v1,
                                                            input_shape=(224, 224, 3), alpha=0.5),
        "mbv2_224": lambda: tfmodels.cached_model("mbv2_flat_224", tfops.mobilenet_v2_flat),
        "mnasnet_like": lambda: tfmodels.cached_model("mnas", tfmodels.mnasnet_like),
        "ssdlite_like": lambda: tfmodels.cached_model("ssd", tfmodels.ssdlite_head, q_output_type="float32"),
        "mbv3_block": lambda: tfmodels.cached_model("mbv3", tfmodels.mobilenet_v3_block),
        # issue 16: transpose convolutions, a grouped conv, a depth multiplier, resize, concat skips
        "unet_tiny": lambda: tfmodels.cached_model("tiny_unet", tfops_compute.tiny_unet),
        # issue 16: BATCH_MATMUL (Q K^T with adj_y, P V) in a two-head self-attention block
        "attention_block": lambda: tfmodels.cached_model("attention_block", tfops_compute.attention_block),
        # 16x8 (int16 activations); dense layers per tensor: TFLM's CMSIS-NN refuses per-channel int16 FC
        "audio_cnn16": lambda: tfmodels.cached_model("audio_cnn16_pt", tfmodels.audio_cnn16, **AUDIO_CNN16_Q),
        # SSD MobileNet's post-processing alone: 1917 anchors, 90 classes + background, fast NMS.
        "ssd_postprocess": lambda: tfmodels.cached_tflite("ssd_postprocess", _tflm_models.detection_postprocess,
                                                          anchors=1917, classes=90, max_detections=10,
                                                          score_threshold=0.5, iou_threshold=0.6),
        "ssd_postprocess_regular": lambda: tfmodels.cached_tflite(
            "ssd_postprocess_regular", _tflm_models.detection_postprocess, anchors=1917, classes=90,
            max_detections=10, regular_nms=True, score_threshold=0.995, iou_threshold=0.6),
        # Keyword spotting, 49 frames x 10 features, 64 units, 12 classes (tests/test_kernels_recurrent.py).
        # The LSTM keeps its state between invokes in mcugen and TFLM's reference kernels but not in
        # TFLM's CMSIS-NN LSTM: compare it with --inputs 1 (one invoke from the reset state).
        "kws_lstm": lambda: tfmodels.cached_tflite("kws_lstm", tfmodels.int8_lstm, timesteps=49, features=10,
                                                   units=64, classes=12, softmax=True),
        "kws_gru": lambda: tfmodels.cached_tflite("kws_gru", tfmodels.gru_from_ops, timesteps=49, features=10,
                                                  units=64, classes=12),
    }
    return builders[name]()


def model_path(name: str) -> Path:
    real = MODELS / f"{name}.tflite"
    return real if real.is_file() else synthetic(name)


def code_flash(project_dir: Path) -> dict[str, int]:
    groups = group_usage(usage_by_file(project_dir / "build" / "firmware.map"), PROJECT_GROUPS)
    return {name: u.code + u.data for name, u in groups.items()}


def run_one(model: str, config: str, inputs: int, layers: bool, workdir: Path) -> dict:
    cfg = CONFIGS[config]
    graph = pipeline.load_checked(model_path(model))
    board = get_board("qemu-m7")
    out = workdir / f"{model}-{config}"
    t0 = time.perf_counter()
    gen = emit.generate(graph, board, out, GenerateOptions(**cfg, profile=layers), force=True)
    project.build(out)
    rep = project.measure_project(out, runner="qemu", random=inputs, seed=1, profile=layers)
    code = code_flash(out)
    runtime_code = sum(v for k, v in code.items() if k in ("kernels", "network runtime", "tflm library", "application",
                                                            "libc/libgcc"))
    macs = total_macs(graph)  # the model's (a patched network computes more)
    patch = gen.footprint.patch
    result = {
        "model": model, "config": config, "macs": macs,
        "instructions": rep.counts["median"], "per_mac": rep.counts["median"] / macs,
        "patch": "; ".join(f"{st['grid']} ops {st['ops'][0]}..{st['ops'][1]}" for st in patch["stages"])
        if patch else "",
        "activation_bytes": rep.extra_u32 if cfg["style"] == "tflm" else rep.activation_bytes,
        "weights_flash": gen.footprint.weights_flash + gen.footprint.params_flash
        if cfg["style"] == "cubeai" else gen.footprint.weights_flash,
        "code_flash": runtime_code, "code_groups": code,
        "bit_exact": rep.comparison.bit_exact, "inputs": rep.inputs,
        "seconds": round(time.perf_counter() - t0, 1),
        "layers": rep.layers if layers else [],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="person_detect,micro_speech_quantized,mbv1_96x96x3,mbv1_128x128x3,"
                        "mnasnet_like,ssdlite_like,mbv2_224,audio_cnn16")
    parser.add_argument("--configs", default="cubeai,cubeai-portable,tflm-cmsis_nn")
    parser.add_argument("--inputs", type=int, default=2, help="random inputs per model (checked bit-exact)")
    parser.add_argument("--layers", action="store_true", help="per-layer instructions (ten slowest)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    opts = parser.parse_args()
    console = Console(width=140)
    results = []
    with tempfile.TemporaryDirectory(prefix="mcugen-bench-") as tmp:
        for model in opts.models.split(","):
            rows = []
            for config in opts.configs.split(","):
                console.print(f"[dim]{model} / {config} ...[/dim]")
                try:
                    rows.append(run_one(model, config, opts.inputs, opts.layers, Path(tmp)))
                except Exception as exc:  # noqa: BLE001  (one failing config must not hide the others)
                    console.print(f"[red]{model} / {config} failed: {exc}[/red]")
            results += rows
            base = next((r for r in rows if r["config"] == "tflm-cmsis_nn"), None)
            plain = {r["config"]: r for r in rows}
            t = Table(title=f"{model} on qemu-m7 ({rows[0]['macs']:,} MACs)" if rows else model, title_justify="left")
            for col in ("config", "instructions", "instr/MAC", "vs TFLM+CMSIS-NN", "activation RAM B",
                        "weights flash B", "code flash B", "bit-exact", "patch vs unpatched"):
                t.add_column(col, justify="right" if col not in ("config", "bit-exact", "patch vs unpatched")
                             else "left")
            for r in rows:
                ratio = f"{r['instructions'] / base['instructions']:.2f}x" if base else "-"
                # a --patch row against the same config without it: instructions, activation RAM
                other = plain.get(r["config"].replace("-patch", ""), None) if "-patch" in r["config"] else None
                versus = (f"{r['instructions'] / other['instructions'] - 1:+.1%} instr, "
                          f"{r['activation_bytes'] / other['activation_bytes']:.0%} RAM ({r['patch']})"
                          if other else r["patch"])
                t.add_row(r["config"], f"{r['instructions']:,.0f}", f"{r['per_mac']:.2f}", ratio,
                          f"{r['activation_bytes']:,}", f"{r['weights_flash']:,}", f"{r['code_flash']:,}",
                          "yes" if r["bit_exact"] else "NO", versus)
            console.print(t)
            for r in rows:
                if r["layers"]:
                    lt = Table(title=f"{model} / {r['config']}: ten slowest layers", title_justify="left")
                    for col in ("#", "op", "instructions", "share"):
                        lt.add_column(col)
                    total = sum(x["count"] for x in r["layers"]) or 1
                    for x in sorted(r["layers"], key=lambda x: -x["count"])[:10]:
                        lt.add_row(str(x["index"]), x["op"], f"{x['count']:,}", f"{100 * x['count'] / total:.1f}%")
                    console.print(lt)
    if opts.json:
        opts.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
