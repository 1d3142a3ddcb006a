"""The farm's part of the command line: `mcugen farm describe`, and validate / flash-and-measure
on several places at once (cli.py hands over when --place names more than one place)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from mcugen import report
from mcugen.boards import get_board
from mcugen.errors import McugenError
from mcugen.farm.describe import describe_board
from mcugen.farm.parallel import PlaceOutcome, expand_places, measure_on_places, split_places, validate_on_places
from mcugen.farm.summary import render_places, summary_json
from mcugen.options import GenerateOptions

PLACE_HELP = ("labgrid: the farm's place(s) to run on: NAME, a,b,c (in parallel) or a pattern such as 'qemu-*' "
              "(implies --runner labgrid; docs/farm.md).")
COORDINATOR_HELP = "labgrid: the coordinator HOST:PORT (default: $LG_COORDINATOR)."
WAIT_HELP = "labgrid: wait while someone else holds the place instead of failing."

farm_app = typer.Typer(help="A board farm on labgrid (docs/farm.md).", no_args_is_help=True)


def farm_places(place: str | None, coordinator: str | None) -> list[str]:
    """The places --place names (a pattern expanded through the coordinator); [] without --place."""
    return expand_places(split_places(place), coordinator) if place is not None else []


def farm_options(places: list[str], coordinator: str | None, wait: bool) -> dict[str, Any]:
    """Runner options for one place (the runner refuses them unless it is labgrid)."""
    options: dict[str, Any] = {"place": places[0]} if places else {}
    if coordinator:
        options["coordinator"] = coordinator
    if wait:
        options["wait"] = True
    return options


def refuse_other_runners(runner: str | None, options: dict[str, Any]) -> None:
    """Several places run through labgrid only, with nothing a local runner would take."""
    if runner not in (None, "labgrid"):
        raise McugenError(f"--place with several places runs them through labgrid, not the {runner} runner.",
                          hint="Drop --runner (or pass --runner labgrid).")
    if options:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(options))
        raise McugenError(f"The labgrid runner does not take {flags}: each place brings its own.",
                          hint=f"Drop {flags}.")


def _finish(outcomes: list[PlaceOutcome], json_out: bool, extra: dict[str, Any] | None = None) -> None:
    if json_out:
        report.print_json({**summary_json(outcomes), **(extra or {})})
    else:
        render_places(outcomes)
    failed = [o.place for o in outcomes if not o.ok]
    if failed:
        raise McugenError(f"{len(failed)} of {len(outcomes)} places failed or differ from TFLM: {', '.join(failed)}.",
                          hint="Each place's table (or its JSON entry) says why.")


def measure_places(project_dir: Path, places: list[str], coordinator: str | None, wait: bool, json_out: bool,
                   **measure: Any) -> None:
    outcomes = measure_on_places(project_dir, places, coordinator=coordinator, wait=wait,
                                 say=report.say(json_out), **measure)
    _finish(outcomes, json_out)


def validate_places(model: Path, target: str, options: GenerateOptions, places: list[str], coordinator: str | None,
                    wait: bool, json_out: bool, **kwargs: Any) -> None:
    gen, built, outcomes = validate_on_places(model, target, options, places, coordinator=coordinator, wait=wait,
                                              say=report.say(json_out),
                                              library_progress=report.library_progress(json_out), **kwargs)
    _finish(outcomes, json_out, {"estimate": gen.footprint.to_json(), "build": built.to_json()})


@farm_app.command("describe")
def describe(
    board: str = typer.Argument(..., help="Board name or alias (mcugen boards)."),
    place: Optional[str] = typer.Option(None, "--place", help="The place's name (default: the board's name)."),
    exporter: str = typer.Option("bench", "--exporter", help="The exporter's name (labgrid-exporter --name)."),
    host: str = typer.Option("127.0.0.1", "--host", help="QEMU places: the address QEMU's UART is served on."),
    port: int = typer.Option(0, "--port", help="QEMU places: the TCP port of its UART (0: a free one now)."),
    serial: str = typer.Option("", "--serial", help="Boards: the debug probe's USB serial number (ID_SERIAL_SHORT)."),
    output: Path = typer.Option(Path("."), "--output", "-o", help="Directory to write the files to."),
) -> None:
    """Write the labgrid files for one place of BOARD: the exporter's resource group
    (exporter-PLACE.yaml), the commands creating the place (place-PLACE.sh) and a labgrid
    environment naming it (env-PLACE.yaml).

    Example: mcugen farm describe qemu-m7 --place qemu-1 --exporter bench1 -o farm/
    """
    files = describe_board(get_board(board), output, place=place, exporter=exporter, host=host, port=port,
                           serial=serial)
    for f in files:
        typer.echo(f"wrote {f}")
