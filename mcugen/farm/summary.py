"""Rendering the outcomes of a run on several places: a table per place, then the merged summary."""

from __future__ import annotations

from typing import Any, Sequence

from rich.table import Table

from mcugen import report
from mcugen.farm.parallel import PlaceOutcome


def summary_json(outcomes: Sequence[PlaceOutcome]) -> dict[str, Any]:
    """One JSON object: per place its full report (or its error), and the merged summary."""
    return {"places": [o.to_json() for o in outcomes],
            "summary": {"places": len(outcomes), "ok": sum(o.ok for o in outcomes),
                        "failed": [o.place for o in outcomes if not o.ok],
                        "bit_exact": all(o.ok for o in outcomes)}}


def render_places(outcomes: Sequence[PlaceOutcome]) -> None:
    for o in outcomes:
        report.console.rule(f"place {report.safe_text(o.place)}")
        if o.report is not None:
            report.render_measure(o.report)
        else:
            assert o.error is not None
            report.console.print(f"[bold red]error:[/bold red] {report.safe_text(o.error.message, keep=chr(10))}")
            if o.error.hint:
                report.console.print(f"[yellow]hint:[/yellow] {report.safe_text(o.error.hint)}")
    table = Table(title="Summary over the places")
    for col in ("place", "board", "runner", "result", "median count", "seconds"):
        table.add_column(col, justify="right" if col in ("median count", "seconds") else "left")
    for o in outcomes:
        rep = o.report
        if rep is not None:
            cmp = rep.comparison
            result = "run" if cmp is None else ("bit-exact" if cmp.bit_exact else f"differs (max {cmp.max_abs_diff:g})")
            table.add_row(report.safe_text(o.place), rep.board, rep.runner, result,
                          f"{rep.counts['median']:,.0f} {rep.timing_unit}", f"{o.seconds:.1f}")
        else:
            table.add_row(report.safe_text(o.place), "", "", "[red]failed[/red]", "", f"{o.seconds:.1f}")
    report.console.print(table)
