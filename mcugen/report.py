"""Rendering: rich tables for people, one JSON object for machines."""

from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcugen.coverage import OpCoverage
from mcugen.estimate import Footprint
from mcugen.inspect import LayerInfo, ModelSummary
from mcugen.metrics import OutputMetrics
from mcugen.tables import print_table
from mcugen.text import printable
from mcugen.tflm.cache import BuildProgress, CacheEntryInfo

if TYPE_CHECKING:  # types only: `mcugen estimate` renders without loading the code generators and runners
    from mcugen.emit import Generated
    from mcugen.project import Built, MeasureReport

console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


TEXT_LIMIT = 200  # characters of one model-derived text (a name, a description) in a report


def safe_text(value: Any, limit: int | None = TEXT_LIMIT, keep: str = "") -> str:
    """Any text that did not come from this module (model names and descriptions, file paths,
    error messages) made safe to embed in rich markup: control characters and escape sequences
    written as escapes (but those in `keep`), long text shortened, markup such as [bold] or [/x]
    printed literally."""
    return escape(printable(str(value), limit, keep))


def _joined(values: Iterable[Any], limit: int | None = TEXT_LIMIT) -> str:
    return ", ".join(safe_text(v, limit) for v in values)


def kib(n: int) -> str:
    return f"{n:,} B ({n / 1024:.1f} KiB)"


def shape_str(shape: Iterable[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(o: Any) -> Any:
    if hasattr(o, "to_json"):
        return o.to_json()
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")


def _quant(scale: float | None, zp: int | None) -> str:
    if scale is None:
        return "-"
    return f"({scale:.6g}, {zp})"


def render_summary(s: ModelSummary, layers: bool = True) -> None:
    console.print(f"[bold]{safe_text(s.name)}[/bold]  sha256 {s.sha256[:16]}…  {s.file_bytes:,} B file")
    if s.description:
        console.print(f"description: {safe_text(s.description)}")
    folded = f" (+{len(s.folded)} shape ops folded at load time)" if s.folded else ""
    console.print(f"{s.operators} operators{folded}, {s.tensors} tensors: {_joined(s.opcodes)}")

    io = Table(title="Inputs and outputs", title_justify="left")
    for col in ("", "name", "type", "shape", "bytes", "(scale, zero point)"):
        io.add_column(col)
    for kind, items in (("input", s.inputs), ("output", s.outputs)):
        for i, t in enumerate(items, 1):
            io.add_row(f"{kind} {i}", safe_text(t.name), t.dtype, shape_str(t.shape), f"{t.bytes:,}",
                       _quant(t.scale, t.zero_point))
    print_table(console, io)

    totals = Table(show_header=False, title="Totals", title_justify="left")
    totals.add_column()
    totals.add_column(justify="right")
    totals.add_row("MACC", macs_text(s.macs, len(s.macs_unknown)))
    totals.add_row("weights (ro)", kib(s.weights_bytes))
    totals.add_row("activations (rw)", kib(s.activations_bytes) + "  I/O included, planned")
    totals.add_row("ram (total)", kib(s.ram_total))
    totals.add_row("lower bounds", f"largest op {s.plan.bound_op:,} B, largest tensor {s.plan.bound_tensor:,} B")
    for style, bad in s.styles.items():
        totals.add_row(f"style {style}", "supported" if not bad else "unsupported: " + _joined(bad))
    print_table(console, totals)

    if not layers:
        return
    table = Table(title="Layers", title_justify="left")
    for col, justify in LAYER_COLUMNS:
        table.add_column(col, justify=justify)
    for layer in s.layers:
        table.add_row(*layer_cells(layer))
    print_table(console, table)
    console.print("activations B: arena bytes in use while the layer runs (live tensors and scratch); "
                  "kernel: the cubeai kernel (Cortex-M7 variant) running it", style="dim")
    for layer in s.layers:
        if layer.why_not:
            why = "; ".join(f"{style}: {reason}" for style, reason in layer.why_not.items())
            console.print(safe_text(f"#{layer.index} {layer.opcode} does not run in {why}"))


LAYER_COLUMNS = (("#", "right"), ("op", "left"), ("output shape", "left"), ("type", "left"), ("MACs", "right"),
                 ("% MACs", "right"), ("weights B", "right"), ("% weights", "right"), ("activations B", "right"),
                 ("kernel (variant)", "left"), ("runs in", "left"))


def layer_cells(layer: LayerInfo) -> tuple[str, ...]:
    """One row of inspect's per-layer table (LAYER_COLUMNS)."""
    kernel = layer.kernel + (f" ({layer.variant})" if layer.variant else "") if layer.kernel else "-"
    macs_share = f"{layer.macs_percent:.1f}" if layer.macs is not None else "?"
    return (str(layer.index), safe_text(layer.opcode), shape_str(layer.output_shape), layer.dtype,
            macs_text(layer.macs), macs_share, f"{layer.weight_bytes:,}", f"{layer.weights_percent:.1f}",
            f"{layer.activation_bytes:,}", safe_text(kernel), ", ".join(layer.runs_in) or "neither")


def macs_text(macs: int | None, unknown_ops: int = 0) -> str:
    """MACs for a table: "unknown" (with how many ops lack them) rather than a partial sum."""
    if macs is not None:
        return f"{macs:,}"
    return f"unknown ({unknown_ops} op{'s' if unknown_ops != 1 else ''} without a MAC model)" if unknown_ops \
        else "unknown"


def render_patch(pt: Mapping[str, Any]) -> None:
    """One line on what --patch did: the stages, and the figures with and without it."""
    before, after = pt["activation_ram_unpatched"], pt["activation_ram_patched"]
    stages = "; ".join(f"ops {st['ops'][0]}..{st['ops'][1]} in {safe_text(st['grid'])} patches "
                       f"({st['workspace']:,} B workspace)" for st in pt["stages"])
    console.print(
        f"patch-based: {stages}. Activation RAM {after:,} B instead of {before:,} B "
        f"({100.0 * after / max(before, 1):.0f}%), {pt['macs']:,} MACs instead of {pt['macs_unpatched']:,} "
        f"({pt['extra_macs_percent']:+.1f}%)")


def render_footprint(fp: Footprint) -> None:
    console.print(f"[bold]{safe_text(fp.model)}[/bold] on [bold]{safe_text(fp.board)}[/bold], style "
                  f"{safe_text(fp.style)}: {macs_text(fp.macs)} MACs")
    t = Table(show_header=True, title="Footprint", title_justify="left")
    t.add_column("")
    t.add_column("bytes", justify="right")
    t.add_column("KiB", justify="right")
    t.add_column("")
    plan = fp.plan
    pools = ("; pools " + ", ".join(f"{safe_text(p.region)} {p.size:,} of {p.capacity:,}" for p in plan.pools)
             if plan.pools else "")
    rows = [
        ("activation RAM", fp.activation_ram,
         f"planned ({safe_text(plan.strategy)}); lower bounds {plan.bound_op:,} (op) / {plan.bound_tensor:,} "
         f"(tensor){pools}"),
        ("runtime RAM", fp.runtime_ram, ", ".join(f"{safe_text(k)} {v:,}" for k, v in fp.runtime_ram_parts.items())),
        ("weights flash", fp.weights_flash, "model constants"),
        ("params flash", fp.params_flash, "requantization tables" if fp.params_flash else ""),
        ("code flash", fp.code_flash, "estimate (see below)"),
        ("total RAM", fp.total_ram, ""),
        ("total flash", fp.total_flash, ""),
    ]
    for name, value, note in rows:
        t.add_row(name, f"{value:,}", f"{value / 1024:.1f}", note)
    print_table(console, t)
    if fp.patch:
        render_patch(fp.patch)

    if fp.regions:
        r = Table(title="Per memory region", title_justify="left")
        for col, justify in (("region", "left"), ("kind", "left"), ("base", "left"), ("size", "right"),
                             ("used", "right"), ("free", "right"), ("", "left"), ("contents", "left")):
            r.add_column(col, justify=justify)
        for reg in fp.regions:
            status = "[green]fits[/green]" if reg.fits else "[red]DOES NOT FIT[/red]"
            r.add_row(safe_text(reg.name), safe_text(reg.kind), f"0x{reg.base:08X}", f"{reg.size:,}", f"{reg.used:,}",
                      f"{reg.free:,}", status, ", ".join(f"{safe_text(k)} {v:,}" for k, v in reg.items.items()))
        print_table(console, r)
    console.print(f"code flash is an estimate: {safe_text(fp.code_flash_basis, None)}")
    parts = ", ".join(f"{safe_text(k)} {v:,}" for k, v in fp.code_flash_parts.items())
    console.print(f"  {parts}", style="dim")
    for note in fp.notes:
        console.print(f"note: {safe_text(note, None)}", style="dim")
    console.print("[green]fits[/green]" if fp.fits else "[red]does not fit[/red]")


def render_coverage(rows: Iterable[OpCoverage], types: tuple[str, ...]) -> None:
    """`mcugen ops`: per operator, the types each style runs it with, and X-CUBE-AI's support."""
    t = Table(title="Operators (docs/operators.md)", title_justify="left")
    for col in ("op", "model", "cubeai", "tflm", "X-CUBE-AI"):
        t.add_column(col)
    for r in rows:
        t.add_row(safe_text(r.op), r.model, ", ".join(x for x in types if x in r.cubeai) or "-",
                  ", ".join(x for x in types if x in r.tflm) or "-", r.xcubeai)
    console.print(t)


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def render_generated(gen: Generated) -> None:
    fp = gen.footprint
    console.print(f"[bold]{safe_text(gen.style)}[/bold] project for [bold]{safe_text(gen.board)}[/bold] written "
                  f"to {safe_text(gen.out_dir, None)} ({len(gen.files)} files)")
    details = gen.details
    if gen.style == "cubeai":
        # The names and figures of `estimate`: weights (the model's constants) and params
        # (what generation computes: requantization tables, re-laid-out filters), whichever
        # section the generator puts them in.
        blob = details["weights_bytes"] + details["params_bytes"]
        console.print(f"  activation RAM {details['arena_size']:,} B, weights flash {fp.weights_flash:,} B, "
                      f"params flash {fp.params_flash:,} B ({blob:,} B of arrays written); "
                      f"kernels: {_joined(details['kernels'])}")
        pools = details.get("pools") or []
        io = [w for w, inside in (("inputs", details.get("inputs_in_activations", True)),
                                  ("outputs", details.get("outputs_in_activations", True))) if inside]
        api, name = safe_text(details.get("c_api", "st-ai")), safe_text(details.get("name", "network"))
        console.print(f"  API {api} ({name}.h); "
                      "activations in " + ", ".join(f"{safe_text(p['region'])} {p['size']:,} B" for p in pools)
                      + (f"; {' and '.join(io)} inside them" if io else "; inputs and outputs in their own buffers"))
    else:
        console.print(f"  arena {details['arena_size']:,} B (estimated TFLM need), kernels "
                      f"{safe_text(details['kernels'])}, ops: {_joined(details['ops'])}")
        copy = details.get("library_copy")
        console.print(f"  library {safe_text(copy, None)} and {details.get('headers', 0)} TFLM headers, copied into the "
                      f"project from {safe_text(details['library'], None)}" if copy else
                      f"  library {safe_text(details['library'], None)}", style="dim")
    if details.get("layout") == "library":  # no firmware to build: the folder goes into the user's project
        console.print(f"  estimate: RAM {fp.total_ram:,} B, flash {fp.total_flash:,} B; next: add "
                      f"{safe_text(gen.out_dir, None)} to your project (see its README.md)")
    else:
        console.print(f"  estimate: RAM {fp.total_ram:,} B, flash {fp.total_flash:,} B; next: mcugen build "
                      f"{safe_text(gen.out_dir, None)}")
    for note in details.get("notes") or ():  # what the output directory kept, replaced or ignored
        err_console.print(f"[yellow]note:[/yellow] {safe_text(note, None)}", soft_wrap=True)


def render_built(built: Built) -> None:
    t = Table(title=f"Build of {safe_text(built.project_dir, None)} for {safe_text(built.board)} "
                    f"({built.seconds:.1f} s)", title_justify="left")
    for col, justify in (("region", "left"), ("kind", "left"), ("size", "right"), ("used", "right"),
                         ("estimate", "right"), ("%", "right"), ("sections", "left")):
        t.add_column(col, justify=justify)
    for name, r in built.regions.items():
        est = built.estimate.get(name)
        biggest = sorted(r["sections"].items(), key=lambda kv: -kv[1])[:5]
        sections = ", ".join(f"{safe_text(k)} {v:,}" for k, v in biggest)
        t.add_row(safe_text(name), safe_text(r["kind"]), f"{r['size']:,}", f"{r['used']:,}",
                  f"{est:,}" if est is not None else "-",
                  f"{100 * r['used'] / r['size']:.1f}" if r["size"] else "-", sections)
    print_table(console, t)
    # paths whole on one line (a narrow terminal would fold them mid-name)
    console.print(f"ELF: {safe_text(built.elf, None)}", soft_wrap=True)
    for image in built.images:  # what a flasher or a drag-and-drop probe takes
        console.print(f"{image.suffix[1:]}: {safe_text(image, None)}", soft_wrap=True)
    for w in built.warnings:
        console.print(f"[yellow]warning:[/yellow] {safe_text(w, None)} (estimate and build differ by more than 5%)")


def _count(v: float) -> str:
    return f"{v:,.0f}"


def render_measure(rep: MeasureReport, built: Built | None = None, footprint: Footprint | None = None) -> None:
    unit = rep.timing_unit
    console.print(f"[bold]{safe_text(rep.model)}[/bold] on [bold]{safe_text(rep.board)}[/bold] "
                  f"({safe_text(rep.style)}, "
                  f"runner {safe_text(rep.runner)}): "
                  f"{rep.inputs} input(s) x {rep.runs} run(s)")
    t = Table(title="Timing per inference", title_justify="left")
    for col in ("", "min", "median", "max"):
        t.add_column(col, justify="right" if col else "left")
    c = rep.counts
    t.add_row(unit, _count(c["min"]), _count(c["median"]), _count(c["max"]))
    if unit == "cycles" and rep.clock_hz:
        t.add_row(f"ms at {rep.clock_hz / 1e6:g} MHz", *(f"{c[k] / rep.clock_hz * 1e3:.3f}" for k in ("min", "median", "max")))
    if unit == "nanoseconds":
        t.add_row("ms (host)", *(f"{c[k] * 1e-6:.3f}" for k in ("min", "median", "max")))
    if rep.macs:
        t.add_row(f"{unit} per MACC", *(f"{c[k] / rep.macs:.3f}" for k in ("min", "median", "max")))
    print_table(console, t)
    if unit == "instructions":
        console.print("QEMU counts instructions (-icount), not cycles: no milliseconds on this target.", style="dim")
    if rep.layers:
        render_profile(rep)
    mem = Table(title="Memory", title_justify="left")
    mem.add_column("")
    mem.add_column("bytes", justify="right")
    mem.add_row("activations (reported by the firmware)", f"{rep.activation_bytes:,}")
    if rep.style == "tflm" and rep.extra_u32:
        mem.add_row("TFLM arena_used_bytes()", f"{rep.extra_u32:,}")
    for name, r in rep.memory.items():
        mem.add_row(f"region {safe_text(name)}", f"{r['used']:,} of {r['size']:,}")
    print_table(console, mem)
    if footprint is not None and getattr(footprint, "patch", None):
        render_patch(footprint.patch)
    cmp = rep.comparison
    if cmp is not None:
        o = Table(title="Outputs vs the TFLM reference", title_justify="left")
        for col in ("output", "shape", "max abs diff", "mismatches", *METRIC_COLUMNS):
            o.add_column(col, justify="left" if col in ("output", "shape") else "right")
        for out in cmp.outputs:
            o.add_row(safe_text(out.name, 40), shape_str(out.shape), f"{out.max_abs_diff:g}",
                      f"{out.mismatches}/{out.elements}",
                      *metric_cells(out.metrics))
        print_table(console, o)
        if any(getattr(out, "float_metrics", None) is not None for out in cmp.outputs):
            f = Table(title=f"Outputs vs the float model ({safe_text(getattr(rep, 'float_model', None) or 'float')})",
                      title_justify="left")
            for col in ("output", "shape", *METRIC_COLUMNS):
                f.add_column(col, justify="left" if col in ("output", "shape") else "right")
            for out in cmp.outputs:
                f.add_row(safe_text(out.name, 40), shape_str(out.shape), *metric_cells(out.float_metrics))
            print_table(console, f)
        verdict = "[green]bit-exact[/green]" if cmp.bit_exact else "[red]NOT bit-exact[/red]"
        console.print(f"{verdict}: max abs diff {cmp.max_abs_diff:g} over {cmp.inputs} input(s)")
    if rep.dataset:
        render_dataset(rep.dataset)
    if rep.outputs and len(rep.outputs) <= 8:
        for name, outs in zip(rep.input_names, rep.outputs):
            console.print(f"  {safe_text(name)}: {safe_text(render_outputs(list(outs)), None)}")
    for note in rep.notes:
        console.print(f"note: {safe_text(note, None)}", style="dim")


def render_dataset(d: Mapping[str, Any]) -> None:
    """validate --dataset: accuracy of the device, the reference and the float model; the device's
    confusion matrix; where device and reference disagree."""
    t = Table(title=f"Accuracy on {d['samples']:,} labelled samples", title_justify="left")
    for col in ("", "top-1", "top-5"):
        t.add_column(col, justify="right" if col else "left")
    for name in ("device", "reference", "float_model"):
        if d.get(name):
            t.add_row(name.replace("_", " "), f"{100 * d[name]['top1']:.2f}%", f"{100 * d[name]['top5']:.2f}%")
    print_table(console, t)
    confusion = d["confusion"]
    if len(confusion) <= 20:
        c = Table(title="Confusion (rows: label, columns: the device's answer)", title_justify="left")
        c.add_column("")
        for k in range(len(confusion)):
            c.add_column(str(k), justify="right")
        for k, row in enumerate(confusion):
            c.add_row(str(k), *(str(v) for v in row))
        print_table(console, c)
    dis = d["disagreements"]
    console.print(f"device and reference disagree on {len(dis)} sample(s)"
                  + (": " + ", ".join(safe_text(x["sample"]) for x in dis[:10]) + (" ..." if len(dis) > 10 else "")
                     if dis else ""))


def render_profile(rep: MeasureReport) -> None:
    """--profile: per layer, its count in the run's unit, share of their sum and the kernel running it."""
    unit = rep.timing_unit
    t = Table(title=f"Per layer ({unit}, last run)", title_justify="left")
    for col, justify in (("#", "right"), ("op", "left"), ("kernel (variant)", "left"), (unit, "right"),
                         ("%", "right"), ("per MACC", "right")):
        t.add_column(col, justify=justify)
    for layer in rep.layers:
        kernel = layer.get("kernel") or "-"
        if layer.get("kernel_variant"):
            kernel += f" ({layer['kernel_variant']})"
        macs = layer.get("macs")
        t.add_row(str(layer["index"]), safe_text(layer["op"]), safe_text(kernel), f"{layer['count']:,}",
                  f"{layer.get('share_percent', 0):.1f}", f"{layer['count'] / macs:.2f}" if macs else "-")
    print_table(console, t)
    total = sum(layer["count"] for layer in rep.layers)
    whole = rep.counts["median"]
    console.print(f"layers sum to {total:,} {unit}, {100.0 * total / whole:.1f}% of the whole inference's "
                  f"median {whole:,.0f} (the rest: the code between layers)" if whole else "", style="dim")


METRIC_COLUMNS = ("acc", "rmse", "mae", "l2r", "mean", "std", "nse", "cos")


def metric_cells(m: OutputMetrics | None) -> tuple[str, ...]:
    """ST's validation figures of one output (mcugen.metrics.OutputMetrics), as table cells."""
    if m is None:
        return ("-",) * len(METRIC_COLUMNS)
    return ("-" if m.acc is None else f"{m.acc:.3f}", f"{m.rmse:.3g}", f"{m.mae:.3g}", f"{m.l2r:.3g}",
            f"{m.mean:.3g}", f"{m.std:.3g}", f"{m.nse:.6f}", f"{m.cos:.6f}")


def render_outputs(values: list) -> str:
    parts = []
    for v in values:
        flat = v.reshape(-1).tolist()
        parts.append(str(flat) if len(flat) <= 16 else f"[{', '.join(map(str, flat[:16]))}, ...] ({len(flat)} values)")
    return "; ".join(parts)


def render_cache(entries: list[CacheEntryInfo], root: Path) -> None:
    t = Table(title=f"TFLM library cache ({safe_text(root, None)})", title_justify="left")
    for col in ("name", "target", "kernels", "compiler", "size", "built", "build time", "ok"):
        t.add_column(col)
    for e in entries:
        t.add_row(safe_text(e.name), safe_text(e.target), safe_text(e.kernels), safe_text(e.compiler.split(" ")[0]),
                  f"{e.size_bytes / 1e6:.1f} MB", safe_text(e.created), f"{e.build_seconds:.0f} s",
                  "yes" if e.valid else "broken")
    print_table(console, t)
    if not entries:
        console.print("empty: the first tflm build fills it (about 5 minutes per configuration)")


# ---------------------------------------------------------------------------------
# progress while a command works


def say(json_out: bool) -> Callable[[str], None]:
    """What a command says while it works, dimmed on stderr (nothing with --json)."""
    return (lambda msg: None) if json_out else (
        lambda msg: err_console.print(f"[dim]mcugen: {safe_text(msg, None)}[/dim]"))


def library_progress(json_out: bool) -> Callable[[BuildProgress], None] | None:
    """The one-off TFLM library build's progress: a rich progress bar on a terminal, one
    line per phase on a pipe (CI logs), nothing with --json."""
    if json_out:
        return None
    if not sys.stderr.isatty():
        last: list[str] = []

        def plain(p: BuildProgress) -> None:
            if p.phase not in last[-1:]:
                last.append(p.phase)
                sys.stderr.write(f"mcugen: TFLM library: {p.phase} {p.message}\n")
        return plain
    progress = Progress(TextColumn("[bold]TFLM library[/bold] {task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True)
    task: dict[str, Any] = {"id": None}

    def update(p: BuildProgress) -> None:
        if task["id"] is None:
            progress.start()
            task["id"] = progress.add_task(p.phase, total=p.total or None)
        progress.update(task["id"], description=p.phase, completed=p.done, total=p.total or None)
        if p.phase == "done":
            progress.stop()

    return update


def sample_progress(json_out: bool) -> Callable[[int, int], None] | None:
    """A labelled dataset's samples going through the target (`validate --dataset`): a rich bar
    on stderr when it is a terminal; nothing on a pipe (a CI log wants no redraws) or with --json."""
    if json_out or not err_console.is_terminal:
        return None
    state: dict[str, Any] = {"progress": None, "task": None}

    def update(done: int, total: int) -> None:
        if state["progress"] is None:  # each run (validate --compare-tflm makes two) gets its bar
            state["progress"] = Progress(TextColumn("[bold]samples[/bold]"), BarColumn(), MofNCompleteColumn(),
                                         TimeElapsedColumn(), console=err_console, transient=True)
            state["progress"].start()
            atexit.register(state["progress"].stop)  # an error mid-run still gives the terminal its cursor back
            state["task"] = state["progress"].add_task("samples", total=total)
        state["progress"].update(state["task"], completed=done)
        if done >= total:
            state["progress"].stop()
            state["progress"] = None

    return update
