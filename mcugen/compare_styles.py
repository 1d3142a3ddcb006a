"""`validate --compare-tflm`: the same model, inputs and target run a second time through
TFLM's interpreter with its CMSIS-NN kernels (the tflm style), beside mcugen's own network.

The whole-inference counts are compared; with --profile both runs are profiled and their
layers lined up by the operator's index in mcugen's graph (a shape op mcugen folds at load
time and TFLM still runs gets its own row, with no mcugen count).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from rich.table import Table

from mcugen.errors import McugenError
from mcugen.estimate import Footprint
from mcugen.options import GenerateOptions
from mcugen.plot import plot_profile, plot_profile_pair
from mcugen.project import Built, MeasureReport, validate
from mcugen.report import console
from mcugen.tables import print_table
from mcugen.text import printable


def check_compare_request(compare: bool, style: str, farm: bool) -> None:
    """--compare-tflm puts TFLM beside mcugen's cubeai network, on one target."""
    if not compare:
        return
    if style != "cubeai":
        raise McugenError("--compare-tflm runs TFLM beside mcugen's own network: the run is already TFLM's.",
                          hint="Drop --style tflm (the cubeai style is compared with TFLM + CMSIS-NN).")
    if farm:
        raise McugenError("--compare-tflm runs on one target, not over a farm.", hint="Give one --place.")


def tflm_options(options: GenerateOptions) -> GenerateOptions:
    """The tflm style with what both styles share (placement, baud, the TFLM tree); the TFLM
    kernel set is the board's default (CMSIS-NN on Cortex-M, reference on the host)."""
    return GenerateOptions(style="tflm", placement=dict(options.placement), baud=options.baud,
                           tflm_root=options.tflm_root)


def tflm_beside(model: str | Path, target: str, options: GenerateOptions, **run: Any) -> MeasureReport:
    """The tflm style's run of `model` on `target` with the same inputs (run: project.validate's
    keyword arguments but output/force: the TFLM project is a temporary one)."""
    return validate(model, target, tflm_options(options), **run)[2]


def paired_layers(mine: list[dict[str, Any]], tflm: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per operator: op_index (None: a shape op only TFLM runs), op, and each side's
    count and kernel (None where that side runs nothing for it). Rows follow TFLM's order;
    mcugen's nodes of one operator (patch stages) add up in its row."""
    rows: dict[Any, dict[str, Any]] = {}
    for layer in tflm:
        key = layer.get("op_index")
        rows[key if key is not None else ("tflm", layer["index"])] = {
            "op_index": key, "op": layer["op"], "mcugen": None, "mcugen_kernel": "",
            "tflm": layer["count"], "tflm_kernel": layer.get("kernel", "")}
    for layer in mine:
        key = layer.get("op_index", layer["index"])
        row = rows.setdefault(key, {"op_index": key, "op": layer["op"], "mcugen": None, "mcugen_kernel": "",
                                    "tflm": None, "tflm_kernel": ""})
        row["mcugen"] = (row["mcugen"] or 0) + layer["count"]
        kernel = layer.get("kernel_variant") or layer.get("kernel") or ""
        if kernel and kernel not in row["mcugen_kernel"].split(", "):
            row["mcugen_kernel"] = ", ".join(k for k in (row["mcugen_kernel"], kernel) if k)
    return list(rows.values())


def _ratio(a: float | None, b: float | None) -> str:
    return f"{b / a:.2f}x" if a and b else "-"


def render_comparison(rep: MeasureReport, tflm: MeasureReport | None) -> None:
    """mcugen's run beside TFLM's: the whole inference and, when profiled, every layer."""
    if tflm is None:
        return
    unit = rep.timing_unit
    if rep.layers and tflm.layers:
        t = Table(title=f"Per layer beside TFLM ({unit}, last run)", title_justify="left")
        for col, justify in (("#", "right"), ("op", "left"), ("mcugen kernel", "left"), ("mcugen", "right"),
                             ("TFLM kernel", "left"), ("TFLM", "right"), ("TFLM/mcugen", "right")):
            t.add_column(col, justify=justify)
        for row in paired_layers(list(rep.layers), list(tflm.layers)):
            t.add_row("-" if row["op_index"] is None else str(row["op_index"]), printable(row["op"]),
                      printable(row["mcugen_kernel"] or "-"), "-" if row["mcugen"] is None else f"{row['mcugen']:,}",
                      printable(row["tflm_kernel"] or "-"), "-" if row["tflm"] is None else f"{row['tflm']:,}",
                      _ratio(row["mcugen"], row["tflm"]))
        print_table(console, t)
    mine, theirs = rep.counts["median"], tflm.counts["median"]
    console.print(f"whole inference (median): mcugen {mine:,.0f} {unit}, TFLM {theirs:,.0f} "
                  f"{tflm.timing_unit} (TFLM/mcugen {_ratio(mine, theirs)})")


def draw_profile(rep: MeasureReport, tflm: MeasureReport | None, plot_file: Path | None,
                 say: Callable[[str], None]) -> None:
    """--profile --plot: one bar per layer, or mcugen's and TFLM's side by side (--compare-tflm)."""
    if plot_file is None or not rep.layers:
        return
    title = f"{rep.model} on {rep.board}"
    if tflm is not None and tflm.layers:
        plot_profile_pair(paired_layers(list(rep.layers), list(tflm.layers)), rep.timing_unit, plot_file,
                          f"{title}: mcugen beside TFLM + CMSIS-NN")
    else:
        plot_profile(list(rep.layers), rep.timing_unit, plot_file, title)
    say(f"per-layer profile drawn: {plot_file}")


def validate_json(rep: MeasureReport, footprint: Footprint, built: Built, tflm: MeasureReport | None
                  ) -> dict[str, Any]:
    """validate's --json: the run, the estimate, the build and, with --compare-tflm, `tflm`: TFLM's run."""
    return {**rep.to_json(), "estimate": footprint.to_json(), "build": built.to_json(),
            **({} if tflm is None else {"tflm": tflm.to_json()})}


__all__ = ["check_compare_request", "draw_profile", "paired_layers", "render_comparison", "tflm_beside",
           "tflm_options", "validate_json"]
