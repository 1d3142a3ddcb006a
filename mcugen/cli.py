"""The mcugen command line. Thin: parse, call the library, render.

Every McugenError ends here as a message and a hint on stderr and a non-zero
exit; `--debug` shows the traceback as well.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import List, Optional

import typer

from mcugen import __version__
from mcugen.errors import McugenError

app = typer.Typer(
    name="mcugen",
    help="Deploy quantized TFLite models to Cortex-M7 microcontrollers: inspect, estimate, generate, "
    "build, flash and measure.\n\nExample: mcugen estimate examples/person_detect/person_detect.tflite --target stm32h7",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}

STYLE_HELP = "Code style: cubeai (generated network on mcugen's kernels) or tflm (TensorFlow Lite Micro)."


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mcugen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show the Python traceback on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    _state["debug"] = debug or bool(os.environ.get("MCUGEN_DEBUG"))


def _parse_place(items: list[str] | None) -> dict[str, str]:
    from mcugen.boards import PLACEMENT_KEYS

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


def _check_style(style: str) -> str:
    if style not in ("cubeai", "tflm"):
        raise McugenError(f"Unknown style '{style}'.", hint="Use --style cubeai or --style tflm.")
    return style


@app.command()
def inspect(
    model: Path = typer.Argument(..., help="A quantized .tflite model."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    layers: bool = typer.Option(True, "--layers/--no-layers", help="Show the per-layer table."),
) -> None:
    """What a model is: inputs/outputs, operators, MACs, weights, activations, per-layer table.

    Example: mcugen inspect examples/person_detect/person_detect.tflite
    """
    from mcugen.inspect import summarize
    from mcugen.model import load_model
    from mcugen.ops import check_shapes, require_known
    from mcugen import report

    graph = load_model(model)
    require_known(graph)
    check_shapes(graph)
    summary = summarize(graph)
    if json_out:
        report.print_json(summary.to_json())
    else:
        report.render_summary(summary, layers=layers)


@app.command()
def estimate(
    model: Path = typer.Argument(..., help="A quantized .tflite model."),
    target: str = typer.Option(..., "--target", "-t", help="Board name or alias (see `mcugen boards`)."),
    style: str = typer.Option("cubeai", "--style", "-s", help=STYLE_HELP),
    place: Optional[List[str]] = typer.Option(
        None, "--place", help="Override a placement: KEY=REGION with KEY in code, weights, arena, data, stack."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Will the model fit the board? Activation RAM, runtime RAM, weights and code flash, per region.

    Exits non-zero when it does not fit.

    Example: mcugen estimate examples/person_detect/person_detect.tflite --target stm32h7 --json
    """
    from mcugen import report
    from mcugen.boards import get_board
    from mcugen.estimate import estimate as do_estimate
    from mcugen.estimate import require_fit
    from mcugen.model import load_model
    from mcugen.ops import check_shapes, require_known

    board = get_board(target)
    graph = load_model(model)
    require_known(graph)
    check_shapes(graph)
    fp = do_estimate(graph, board, _check_style(style), placement=_parse_place(place))
    if json_out:
        report.print_json(fp.to_json())
    else:
        report.render_footprint(fp)
    require_fit(fp)


@app.command()
def boards(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List the known targets with their memory regions.

    Example: mcugen boards
    """
    from mcugen import report
    from mcugen.boards import all_boards

    if json_out:
        report.print_json(report.boards_json(all_boards()))
    else:
        report.render_boards(all_boards())


def main() -> None:
    """Entry point: run the app, turn errors into messages and exit codes."""
    try:
        app(standalone_mode=False)
    except McugenError as exc:
        _report_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("mcugen: interrupted\n")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("mcugen: aborted\n")
        sys.exit(1)
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if _state["debug"]:
            traceback.print_exc()
        sys.stderr.write(
            f"mcugen: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in mcugen; run again with --debug for the traceback and report it.\n"
        )
        sys.exit(70)


def _report_error(exc: McugenError) -> None:
    if _state["debug"]:
        traceback.print_exc()
    from rich.markup import escape

    from mcugen.report import err_console

    err_console.print(f"[bold red]error:[/bold red] {escape(exc.message)}", soft_wrap=True)
    if exc.hint:
        err_console.print(f"[yellow]hint:[/yellow] {escape(exc.hint)}", soft_wrap=True)


if __name__ == "__main__":
    main()
