"""The memory plan drawn: why the activation RAM is what it is, in one picture.

Each buffer of the plan (a tensor, its aliases, or an op's scratch) is a box spanning the
operators during which it lives (x) and the bytes it takes in its pool (y); one lane per
pool (memory region), the pool's size and the peak marked, patch-based stages shaded,
the model's inputs and outputs labelled. TFLM users print their planner's map and
X-CUBE-AI users read a memory report; a firmware engineer sees at a glance which tensors
make the peak.

matplotlib is an optional extra (`pip install 'mcugen[plot]'`): imported when a picture
is asked for, with a clear error when it is missing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from mcugen.errors import McugenError
from mcugen.model.graph import Graph
from mcugen.ops.base import PATCH_STAGE
from mcugen.planner import MemoryPlan

FORMATS = (".svg", ".png", ".pdf")
IO_COLOURS = {"input": "#2b8cbe", "output": "#e6550d", "input/output": "#756bb1"}
TENSOR_COLOUR, SCRATCH_COLOUR, STAGE_COLOUR = "#bdbdbd", "#fdd49e", "#c7e9c0"


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, or a McugenError saying how to get it."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        raise McugenError("Drawing needs matplotlib, which is not installed.",
                          hint="pip install 'mcugen[plot]' (or pip install matplotlib).") from None
    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: searchable, selectable
    return importlib.import_module("matplotlib.pyplot")


def check_plot_path(path: str | Path) -> Path:
    """The picture's path, refused early (before any work) when matplotlib cannot write that format."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise McugenError(f"--plot {path}: cannot draw a '{path.suffix or 'suffixless'}' file.",
                          hint=f"Name the picture with one of {', '.join(FORMATS)}, e.g. --plot plan.svg.")
    if not path.parent.is_dir():
        raise McugenError(f"--plot {path}: folder {path.parent} does not exist.", hint="Create it first.")
    pyplot()  # missing matplotlib fails here, not after the estimate
    return path


def _io_kind(graph: Graph, tensors: tuple[int, ...]) -> str:
    inp = any(t in graph.inputs for t in tensors)
    out = any(t in graph.outputs for t in tensors)
    return "input/output" if inp and out else "input" if inp else "output" if out else ""


def live_per_op(plan: MemoryPlan, pool: int, n_ops: int) -> list[int]:
    """Per op, the bytes of `pool` in use while it runs: the union of the live buffers' ranges
    (buffers the plan lets overlap count once)."""
    used = []
    for i in range(n_ops):
        ranges = sorted((b.offset, b.offset + b.size) for b in plan.buffers
                        if b.pool == pool and b.size > 0 and b.first <= i <= b.last)
        total, end = 0, 0
        for lo, hi in ranges:
            if hi > end:
                total += hi - max(lo, end)
                end = hi
        used.append(total)
    return used


def plot_memory_plan(graph: Graph, plan: MemoryPlan, path: str | Path, title: str = "") -> Path:
    """Draw `plan` (of `graph`, whose ops index its lifetimes) into `path` (.svg, .png or .pdf)."""
    path = check_plot_path(path)
    plt = pyplot()
    n_ops = max(len(graph.operators), 1)
    pools = list(plan.pools) or [None]
    fig, axes = plt.subplots(len(pools), 1, squeeze=False, sharex=True,
                             figsize=(max(8.0, min(0.32 * n_ops + 3, 40.0)), 3.6 * len(pools) + 0.8))
    stages = [op.index for op in graph.operators if op.opcode == PATCH_STAGE]
    for lane, (ax, pool) in enumerate(zip(axes[:, 0], pools)):
        size = pool.size if pool is not None else plan.arena_size
        for i in stages:
            ax.axvspan(i - 0.5, i + 0.5, color=STAGE_COLOUR, alpha=0.6, zorder=0,
                       label="patch-based stage" if i == stages[0] else None)
        for b in plan.buffers:
            if b.pool != lane or b.size <= 0:
                continue
            kind = "scratch" if b.scratch_of is not None else _io_kind(graph, b.tensors)
            colour = SCRATCH_COLOUR if kind == "scratch" else IO_COLOURS.get(kind, TENSOR_COLOUR)
            ax.add_patch(plt.Rectangle((b.first - 0.45, b.offset), b.last - b.first + 0.9, b.size,
                                       facecolor=colour, edgecolor="#404040", linewidth=0.5,
                                       hatch="//" if kind == "scratch" else None, zorder=2))
            if kind in IO_COLOURS:  # inputs start the run, outputs end it: label inwards
                name = graph.tensors[b.tensors[0]].name
                at_end = kind == "output"
                ax.annotate(f"{kind}: {name[:40]}", (b.last + 0.4 if at_end else b.first - 0.4,
                                                     b.offset + b.size / 2),
                            ha="right" if at_end else "left", fontsize=7, va="center", zorder=4)
        used = live_per_op(plan, lane, n_ops)
        peak_op = max(range(n_ops), key=lambda i: used[i])
        ax.axhline(size, color="#cb181d", linestyle="--", linewidth=1, zorder=3)
        ax.annotate(f"{'pool ' + pool.region + ': ' if pool is not None else 'arena '}{size:,} B",
                    (n_ops - 0.5, size), ha="right", va="bottom", fontsize=8, color="#cb181d")
        ax.axvline(peak_op, color="#cb181d", linestyle=":", linewidth=1, zorder=3,
                   label=f"peak: {used[peak_op]:,} B in use at op {peak_op}")
        for name, colour in (("tensor", TENSOR_COLOUR), ("scratch", SCRATCH_COLOUR), *IO_COLOURS.items()):
            ax.add_patch(plt.Rectangle((0, 0), 0, 0, facecolor=colour, edgecolor="#404040", label=name,
                                       hatch="//" if name == "scratch" else None))
        ax.set_xlim(-0.7, n_ops - 0.3)
        ax.set_ylim(0, max(size, 1) * 1.08)
        ax.set_ylabel(f"{pool.region if pool is not None else 'arena'} offset (B)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, framealpha=0.8)
    bottom = axes[-1, 0]
    bottom.set_xticks(range(len(graph.operators)))
    bottom.set_xticklabels([f"{op.index} {op.opcode.lower()}" for op in graph.operators], rotation=90, fontsize=6)
    bottom.set_xlabel("operator (execution order)")
    fig.suptitle(title or f"{graph.name}: activation memory plan ({plan.strategy}, {plan.arena_size:,} B)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_profile(layers: list[dict[str, Any]], unit: str, path: str | Path, title: str = "") -> Path:
    """One bar per layer of a profiled run (`--profile --plot`): its count in `unit`, labelled
    with the op and the kernel (variant) running it, the share of the whole over each bar."""
    path = check_plot_path(path)
    plt = pyplot()
    counts = [layer["count"] for layer in layers]
    fig, ax = plt.subplots(figsize=(max(8.0, min(0.32 * len(layers) + 3, 40.0)), 5.5))
    ax.bar(range(len(layers)), counts, color="#3182bd", edgecolor="#404040", linewidth=0.5)
    for i, layer in enumerate(layers):
        if layer.get("share_percent", 0) >= 1.0:
            ax.annotate(f"{layer['share_percent']:.0f}%", (i, counts[i]), ha="center", va="bottom", fontsize=6)
    labels = [f"{layer['index']} {layer['op'].lower()}"
              + (f" [{layer['kernel_variant'] or layer['kernel']}]" if layer.get("kernel") else "") for layer in layers]
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(labels, rotation=90, fontsize=6)
    ax.set_xlim(-0.7, len(layers) - 0.3)
    ax.set_ylabel(f"{unit} per layer")
    ax.set_xlabel("layer (execution order) [kernel variant]")
    ax.set_title(title or f"{unit} per layer (sum {sum(counts):,})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_profile_pair(rows: list[dict[str, Any]], unit: str, path: str | Path, title: str = "") -> Path:
    """`validate --profile --compare-tflm --plot`: per operator, mcugen's bar beside TFLM's
    (rows: mcugen.compare_styles.paired_layers), labelled with the op and both kernels."""
    path = check_plot_path(path)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(8.0, min(0.45 * len(rows) + 3, 48.0)), 5.5))
    xs = range(len(rows))
    for side, colour, shift, label in (("mcugen", "#3182bd", -0.2, "mcugen (cubeai)"),
                                       ("tflm", "#fd8d3c", 0.2, "TFLM + CMSIS-NN (tflm)")):
        ax.bar([x + shift for x in xs], [row[side] or 0 for row in rows], width=0.4, color=colour,
               edgecolor="#404040", linewidth=0.5, label=label)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{'-' if row['op_index'] is None else row['op_index']} {row['op'].lower()} "
                        f"[{row['mcugen_kernel'] or '-'} | {row['tflm_kernel'] or '-'}]" for row in rows],
                       rotation=90, fontsize=6)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    ax.set_ylabel(f"{unit} per layer")
    ax.set_xlabel("operator (execution order) [mcugen kernel | TFLM kernel]")
    ax.legend(fontsize=8)
    mine = sum(row["mcugen"] or 0 for row in rows)
    theirs = sum(row["tflm"] or 0 for row in rows)
    ax.set_title(title or f"{unit} per layer: mcugen {mine:,}, TFLM {theirs:,}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def check_profile_request(profile: bool, plot_file: Path | None) -> None:
    """--plot needs --profile and a format matplotlib writes."""
    if plot_file is not None and not profile:
        raise McugenError("--plot draws the per-layer profile: it needs --profile.", hint="Add --profile.")
    if plot_file is not None:
        check_plot_path(plot_file)
