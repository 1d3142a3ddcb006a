"""The command line's shared help texts and option declarations (mcugen.cli uses them).

Flags several commands take (generate, estimate and validate share mcugen.options.GenerateOptions'
flags) are declared once here, so they read the same in every command's --help.
"""

from __future__ import annotations

from pathlib import Path

import typer

from mcugen.boards import PLACEMENT_KEYS
from mcugen.errors import McugenError
from mcugen.options import GenerateOptions

KERNELS_HELP = ("cubeai: simd (Cortex-M7 DSP kernels where they pay, default) or portable; "
                "tflm: cmsis_nn (default on Cortex-M7) or reference.")
STYLE_HELP = "Code style: cubeai (generated network on mcugen's kernels) or tflm (TensorFlow Lite Micro)."
C_API_HELP = ("cubeai: the client API of the generated network: st-ai (ST Edge AI), legacy (X-CUBE-AI 7.1+ "
              "ai_<name>_*), legacy-6 (X-CUBE-AI 5.x-6.x shape) or both (st-ai and legacy).")
POOLS_HELP = ("cubeai: split the activations over these memory regions, most used tensors first, e.g. dtcm,axisram; "
              "REGION:SIZE caps a pool (96K).")
PATCH_HELP = ("cubeai: run the first layers patch by patch (MCUNetV2) to cut the activation peak, at some "
              "recomputation: auto (the smallest plan recomputing at most 10% of the MACs), a grid such as 4x3, "
              "or 4x3@7 to end the stage at op 7.")
NO_IN_HELP = "cubeai: give the inputs their own buffers instead of places in the activations."
NO_OUT_HELP = "cubeai: give the outputs their own buffers instead of places in the activations."
RUNNER_HELP = ("qemu, host, pyocd, openocd, jlink, linkserver, stm32cubeprogrammer or labgrid (default: the board's first "
               "that can write the image; `mcugen boards` lists them).")
PORT_HELP = "Serial port of the board (default: found from the debug probe's USB serial number)."
BAUD_HELP = "UART baud rate (default: the board's, boards.yaml)."
PROBE_HELP = "Debug probe serial number / unique id (default: the only one attached)."
PACK_HELP = "pyocd: the board's CMSIS pack file (or $MCUGEN_CMSIS_PACK; default: the pack cache)."
NO_DOWNLOAD_HELP = "pyocd: never download the CMSIS pack (cmsis-pack-manager); fail naming where to get it."

# The flags generate, estimate and validate share (mcugen.options.GenerateOptions), declared once.
STYLE_OPT = typer.Option("cubeai", "--style", "-s", help=STYLE_HELP)
NAME_OPT = typer.Option("network", "--name", help="C name of the network (cubeai).")
C_API_OPT = typer.Option("st-ai", "--c-api", help=C_API_HELP)
LAYOUT_OPT = typer.Option("firmware", "--layout", help="firmware (a complete project) or library: cubeai, the network "
                          "alone, with CMakeLists.txt, mcugen.mk, a Zephyr module, library.json and a linker snippet; "
                          "tflm, the model, model_ops.h and the TFLM library with its headers, with CMakeLists.txt "
                          "and mcugen.mk.")
NO_IN_OPT = typer.Option(False, "--no-inputs-allocation", help=NO_IN_HELP)
NO_OUT_OPT = typer.Option(False, "--no-outputs-allocation", help=NO_OUT_HELP)
POOLS_OPT = typer.Option(None, "--pools", help=POOLS_HELP)
PATCH_OPT = typer.Option(None, "--patch", help=PATCH_HELP)
KERNELS_OPT = typer.Option(None, "--kernels", help=KERNELS_HELP)
PLACE_OPT = typer.Option(None, "--place", help="Override a placement: KEY=REGION with KEY in code, weights, arena, "
                         "data, stack.")
TFLM_ROOT_OPT = typer.Option(None, "--tflm-root", help="tflm: TFLM source tree (or $MCUGEN_TFLM_ROOT).")
PLOT_OPT = typer.Option(None, "--plot", help="Draw the activation memory plan into this .svg/.png/.pdf: tensors as "
                        "boxes over operator time and offset, one lane per pool, the peak, patch stages, I/O "
                        "(needs matplotlib: pip install 'mcugen[plot]').")
PROFILE_HELP = ("Time every layer with the board's counter (cycles; instructions on QEMU): per-layer table "
                "with each layer's share and kernel (cubeai: mcugen's kernel and variant; tflm: cmsis_nn or "
                "reference, timed through TFLM's profiler interface).")
COMPARE_TFLM_OPT = typer.Option(False, "--compare-tflm", help="Also run the model through TFLM + CMSIS-NN (the "
                                "tflm style, same inputs and target) and put it beside mcugen's: the whole inference; "
                                "with --profile every layer (and --plot draws both bars); --json adds `tflm`.")
DATASET_HELP = ("Labelled data: an .npz with x (samples, float ones quantized with the input's parameters) and y "
                "(labels), or a folder per class of input files; prints top-1/top-5 of the device, the reference and "
                "the float model, the confusion matrix, disagreements.")
DETECTION_OPT = typer.Option(None, "--detection-postprocess", help="cubeai: append TFLite_Detection_PostProcess to "
                             "an SSD exported without it (raw boxes and scores), in mcugen's graph (validate: the "
                             "reference runs the file, then TFLM's op on its outputs): SPEC is `ssd` "
                             "(TF's SSD anchor generator and export defaults) or KEY=VALUE items, e.g. "
                             "anchors=anchors.npy,max_detections=20,score_threshold=0.3 (docs/detection.md).")
PROFILE_PLOT_OPT = typer.Option(None, "--plot", help="With --profile: draw one bar per layer into this "
                                ".svg/.png/.pdf (needs matplotlib: pip install 'mcugen[plot]').")


# --- turning the flags into the stages' choices ----------------------------------------------


def runner_options(port: str | None, baud: int | None, probe: str | None, pack: Path | None,
                   no_pack_download: bool) -> dict:
    """What the user chose for the runner; unset ones are left out (a runner refuses what it cannot take)."""
    options = {"port": port, "baud": baud, "probe": probe, "pack": str(pack) if pack else None,
               "download_pack": False if no_pack_download else None}
    return {k: v for k, v in options.items() if v is not None}


def parse_place(items: list[str] | None) -> dict[str, str]:
    """--place KEY=REGION items as a placement dict (checked: a malformed item is a clear error)."""
    result = {}
    for item in items or []:
        key, sep, region = item.partition("=")
        if not sep or key not in PLACEMENT_KEYS or not region:
            raise McugenError(
                f"--place '{item}' is not KEY=REGION.",
                hint=f"KEY is one of {', '.join(PLACEMENT_KEYS)}; REGION a memory region of the board "
                "(`mcugen boards` lists them), e.g. --place arena=dtcm.",
            )
        result[key] = region
    return result


def generate_options(style: str, place: list[str] | None, no_inputs_allocation: bool,
                     no_outputs_allocation: bool, **choices: object) -> GenerateOptions:
    """The GenerateOptions of a command's flags (checked: bad choices fail here)."""
    return GenerateOptions(style=style, placement=parse_place(place), inputs_allocation=not no_inputs_allocation,
                           outputs_allocation=not no_outputs_allocation, **choices).checked()


def split_inputs(inputs: list[str] | None, random: int | None) -> tuple[list[str], int]:
    """--inputs N (random count) or --inputs FILE..."""
    items = list(inputs or [])
    if len(items) == 1 and items[0].isdigit():
        return [], int(items[0])
    return items, random or 0
