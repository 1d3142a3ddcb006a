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

from mcugen import (__version__, advice, compare_styles, emit, interrupt, jsonreport, pipeline, plot, process,
                    project, report, report_boards)
from mcugen.boards import all_boards, get_board
from mcugen.coverage import TYPES as COVERAGE_TYPES
from mcugen.coverage import coverage
from mcugen.coverage import markdown as coverage_markdown
from mcugen.cli_options import (BAUD_HELP, C_API_OPT, COMPARE_TFLM_OPT, DATASET_HELP, DETECTION_OPT, KERNELS_OPT,
                                LAYOUT_OPT, NAME_OPT, NO_DOWNLOAD_HELP, NO_IN_OPT, NO_OUT_OPT, PACK_HELP, PATCH_OPT,
                                PLACE_OPT, PLOT_OPT, POOLS_OPT, PORT_HELP, PROBE_HELP, PROFILE_HELP, PROFILE_PLOT_OPT,
                                RUNNER_HELP, STYLE_OPT, TFLM_ROOT_OPT)
from mcugen.cli_options import generate_options as _options
from mcugen.cli_options import runner_options as _runner_options
from mcugen.cli_options import split_inputs as _split_inputs
from mcugen.errors import McugenError
from mcugen.farm.commands import (COORDINATOR_HELP, PLACE_HELP, WAIT_HELP, farm_app, farm_options, farm_places,
                                  measure_places, refuse_other_runners, validate_places)
from mcugen.inspect import summarize
from mcugen.tflm.cache import clear_cache, list_entries, tflm_cache_dir

app = typer.Typer(
    name="mcugen",
    help="Deploy quantized TFLite models to Cortex-M7 microcontrollers: inspect, estimate, generate, "
    "build, flash and measure.\n\n\b\nExamples (from the repository's top folder):\n  mcugen inspect examples/models/person_detect.tflite\n  mcugen estimate examples/models/person_detect.tflite --target stm32h7",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False, "json_printed": False}


def _print_json(command: str, payload: dict) -> None:
    """A command's --json output: one versioned document (mcugen.jsonreport, the shipped schema)."""
    report.print_json(jsonreport.document(command, payload))
    _state["json_printed"] = True  # an error after it (does not fit, not bit-exact) goes to stderr only


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


@app.command()
def inspect(
    model: Path = typer.Argument(..., help="A quantized .tflite model."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    layers: bool = typer.Option(True, "--layers/--no-layers", help="Show the per-layer table."),
    plot_file: Optional[Path] = PLOT_OPT,
) -> None:
    """What a model is: inputs/outputs, operators, MACs, weights, activations, per-layer table.

    \b
    Example:
      mcugen inspect examples/models/person_detect.tflite
    """
    if plot_file is not None:
        plot.check_plot_path(plot_file)
    graph = pipeline.load_checked(model)
    summary = summarize(graph)
    if plot_file is not None:
        plot.plot_memory_plan(graph, summary.plan, plot_file)
        report.say(json_out)(f"memory plan drawn: {plot_file}")
    if json_out:
        _print_json("inspect", summary.to_json())
    else:
        report.render_summary(summary, layers=layers)


@app.command()
def estimate(
    model: Path = typer.Argument(..., help="A quantized .tflite model."),
    target: str = typer.Option(..., "--target", "-t", help="Board name or alias (see `mcugen boards`)."),
    style: str = STYLE_OPT,
    place: Optional[List[str]] = PLACE_OPT,
    pools: Optional[str] = POOLS_OPT,
    patch: Optional[str] = PATCH_OPT,
    no_inputs_allocation: bool = NO_IN_OPT,
    no_outputs_allocation: bool = NO_OUT_OPT,
    c_api: str = C_API_OPT,
    kernels: Optional[str] = KERNELS_OPT,
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    plot_file: Optional[Path] = PLOT_OPT,
    detection_postprocess: Optional[str] = DETECTION_OPT,
) -> None:
    """Will the model fit the board? Activation RAM, runtime RAM, weights and code flash, per region.

    Exits non-zero when it does not fit.

    \b
    Examples:
      mcugen estimate examples/models/person_detect.tflite --target stm32h7 --json
      mcugen estimate examples/models/person_detect.tflite --target qemu-m7 --patch auto
      mcugen estimate examples/models/person_detect.tflite --target stm32h7 --pools dtcm,axisram --plot plan.svg
    """
    board = get_board(target)
    options = _options(style, place, no_inputs_allocation, no_outputs_allocation, pools=pools, patch=patch,
                       c_api=c_api, kernels=kernels, detection_postprocess=detection_postprocess)
    graph = pipeline.load_checked(model, options)
    if patch:  # the search takes seconds: say what is going on
        report.say(json_out)(f"choosing the patch stages (--patch {patch}) ...")
    if plot_file is not None:
        plot.check_plot_path(plot_file)
        if options.style != "cubeai":
            raise McugenError("--plot draws mcugen's activation plan (the cubeai style).",
                              hint="TFLM plans its arena at run time; drop --style tflm to see mcugen's plan.")
    planned = pipeline.plan_model(graph, board, options)
    fp = planned.footprint
    if plot_file is not None and isinstance(planned, pipeline.CubeaiPlanned):
        plot.plot_memory_plan(planned.lowered.graph, planned.plan, plot_file,
                              f"{graph.name} on {board.name}: activation memory plan ({planned.plan.strategy}, "
                              f"{fp.activation_ram:,} B)")
        report.say(json_out)(f"memory plan drawn: {plot_file}")
    if json_out:
        _print_json("estimate", fp.to_json())
    else:
        report.render_footprint(fp)
    advice.require_fit_or_propose(graph, board, options, fp)


@app.command()
def boards(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List the known targets: memory regions, UART (instance, pins, baud), debug probe and runners.

    \b
    Example:
      mcugen boards
    """
    if json_out:
        _print_json("boards", {"boards": report_boards.boards_json(all_boards())})
    else:
        report_boards.render_boards(all_boards())


@app.command()
def ops(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        markdown: bool = typer.Option(False, "--markdown", help="Print docs/operators.md.")) -> None:
    """Which operators each style runs, per type (int8, uint8 I/O, 16x8, float I/O), beside TFLM's and
    X-CUBE-AI's support.

    Example: mcugen ops
    """
    rows = coverage()
    if json_out:
        report.print_json({"types": list(COVERAGE_TYPES), "operators": [r.to_json() for r in rows]})
    elif markdown:
        sys.stdout.write(coverage_markdown())
    else:
        report.render_coverage(rows, COVERAGE_TYPES)


@app.command()
def generate(
    model: Path = typer.Argument(..., help="A quantized .tflite model."),
    target: str = typer.Option(..., "--target", "-t", help="Board name or alias (see `mcugen boards`)."),
    output: Path = typer.Option(..., "--output", "-o", help="Project directory to write."),
    style: str = STYLE_OPT,
    name: str = NAME_OPT,
    c_api: str = C_API_OPT,
    layout: str = LAYOUT_OPT,
    no_inputs_allocation: bool = NO_IN_OPT,
    no_outputs_allocation: bool = NO_OUT_OPT,
    pools: Optional[str] = POOLS_OPT,
    patch: Optional[str] = PATCH_OPT,
    force: bool = typer.Option(False, "--force", help="Overwrite files in OUTPUT that mcugen did not write."),
    place: Optional[List[str]] = PLACE_OPT,
    kernels: Optional[str] = KERNELS_OPT,
    tflm_root: Optional[Path] = TFLM_ROOT_OPT,
    baud: Optional[int] = typer.Option(None, "--baud", min=1, help=BAUD_HELP),
    profile: bool = typer.Option(False, "--profile", help="Build in per-layer counters (flash-and-measure --profile)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    detection_postprocess: Optional[str] = DETECTION_OPT,
) -> None:
    """Write a complete firmware project: network code and weights, board support, Makefile.

    \b
    Example:
      mcugen generate examples/models/person_detect.tflite --target qemu-m7 -o out/pd
    """
    board = get_board(target)
    options = _options(style, place, no_inputs_allocation, no_outputs_allocation, name=name, c_api=c_api,
                       pools=pools, patch=patch, kernels=kernels, tflm_root=tflm_root, baud=baud, layout=layout,
                       profile=profile, detection_postprocess=detection_postprocess)
    graph = pipeline.load_checked(model, options)
    if patch:  # the search takes seconds: say what is going on
        report.say(json_out)(f"choosing the patch stages (--patch {patch}) ...")
    gen = emit.generate(graph, board, output, options, force=force, progress=report.library_progress(json_out))
    if json_out:
        _print_json("generate", gen.to_json())
    else:
        report.render_generated(gen)


@app.command()
def build(
    project_dir: Path = typer.Argument(..., help="A project written by `mcugen generate`."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Parallel compile jobs (default: all cores)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Compile the project (arm-none-eabi-gcc, or cc for host) and report real sizes per memory region.

    \b
    Example:
      mcugen build out/pd
    """
    built = project.build(project_dir, jobs=jobs)
    if json_out:
        _print_json("build", built.to_json())
    else:
        report.render_built(built)


@app.command("flash-and-measure")
def flash_and_measure(
    project_dir: Path = typer.Argument(..., help="A built project."),
    runner: Optional[str] = typer.Option(None, "--runner", help=RUNNER_HELP),
    inputs: Optional[List[str]] = typer.Option(None, "--inputs", help="Input files (.npy/.npz/.bin/.bmp), repeatable."),
    random: Optional[int] = typer.Option(None, "--random", help="Seeded random inputs to add."),
    seed: int = typer.Option(0, "--seed", help="Seed for the random inputs."),
    runs: int = typer.Option(1, "--runs", min=1, help="Runs per input (timing statistics)."),
    port: Optional[str] = typer.Option(None, "--port", help=PORT_HELP),
    baud: Optional[int] = typer.Option(None, "--baud", min=1, help="UART baud rate (default: the firmware's)."),
    probe: Optional[str] = typer.Option(None, "--probe", help=PROBE_HELP),
    pack: Optional[Path] = typer.Option(None, "--pack", help=PACK_HELP),
    no_pack_download: bool = typer.Option(False, "--no-pack-download", help=NO_DOWNLOAD_HELP),
    profile: bool = typer.Option(False, "--profile", help=PROFILE_HELP + " Needs a project generated with --profile."),
    plot_file: Optional[Path] = PROFILE_PLOT_OPT,
    farm_place: Optional[str] = typer.Option(None, "--place", help=PLACE_HELP),
    coordinator: Optional[str] = typer.Option(None, "--coordinator", help=COORDINATOR_HELP),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Flash (or start QEMU), send inputs over UART, read outputs and timing, compare with TFLM.

    \b
    Example:
      mcugen flash-and-measure out/pd --inputs examples/models/person.bmp

    \b
    With a board attached (not run by the tests):
      mcugen flash-and-measure out/h7 --runner pyocd --pack Keil.STM32H7xx_DFP.4.1.3.pack --random 5
    """
    files, count = _split_inputs(inputs, random)
    options = _runner_options(port, baud, probe, pack, no_pack_download)
    plot.check_profile_request(profile, plot_file)
    places = farm_places(farm_place, coordinator)
    if len(places) > 1:  # a farm run: every place at once, a table each and the summary
        refuse_other_runners(runner, options)
        measure_places(project_dir, places, coordinator, wait, json_out, input_files=files, random=count, seed=seed,
                       runs=runs)
        return
    options.update(farm_options(places, coordinator, wait))
    runner = runner or ("labgrid" if places else None)
    rep = project.measure_project(project_dir, runner=runner, input_files=files, random=count, seed=seed,
                                  runs=runs, runner_options=options, profile=profile)
    compare_styles.draw_profile(rep, None, plot_file, report.say(json_out))
    (Path(project_dir) / "build").mkdir(exist_ok=True)
    (Path(project_dir) / "build" / "measure.json").write_text(report.json_text(rep.to_json()))
    if json_out:
        _print_json("flash-and-measure", rep.to_json())
    else:
        report.render_measure(rep)
    _exit_if_not_exact(rep.comparison)


def _exit_if_not_exact(comparison) -> None:
    # Outputs reach a comparison only when the link bound them to a run of their own input
    # (mcugen.link: CRC-checked frames, run ids, inputs written before every run); any
    # doubt on the link is a LinkError before this point, so a difference is the code's.
    if comparison is not None and not comparison.bit_exact:
        raise McugenError(
            f"The target's outputs differ from the TFLM reference (max abs diff {comparison.max_abs_diff:g}).",
            hint="The link checked that these outputs come from a run of this input (CRC-checked frames, run "
                 "ids), so this is a bug in mcugen's generated code or kernels; please report it with the model.",
        )


@app.command()
def validate(
    model: Path = typer.Argument(..., help="A quantized .tflite model."),
    target: str = typer.Option("host", "--target", "-t", help="Board name or alias; host runs natively."),
    style: str = STYLE_OPT,
    inputs: Optional[List[str]] = typer.Option(None, "--inputs", help="N random inputs, or input files (repeatable)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the random inputs."),
    runs: int = typer.Option(1, "--runs", min=1, help="Runs per input."),
    float_model: Optional[Path] = typer.Option(
        None, "--float-model", help="The float .tflite the model came from: also compare every output with it."),
    pools: Optional[str] = POOLS_OPT,
    patch: Optional[str] = PATCH_OPT,
    name: str = NAME_OPT,
    c_api: str = C_API_OPT,
    no_inputs_allocation: bool = NO_IN_OPT,
    no_outputs_allocation: bool = NO_OUT_OPT,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Keep the project here (default: temporary)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files in OUTPUT that mcugen did not write."),
    kernels: Optional[str] = KERNELS_OPT,
    tflm_root: Optional[Path] = TFLM_ROOT_OPT,
    runner: Optional[str] = typer.Option(None, "--runner", help=RUNNER_HELP),
    port: Optional[str] = typer.Option(None, "--port", help=PORT_HELP),
    baud: Optional[int] = typer.Option(None, "--baud", min=1, help=BAUD_HELP + " The firmware is built for it."),
    probe: Optional[str] = typer.Option(None, "--probe", help=PROBE_HELP),
    pack: Optional[Path] = typer.Option(None, "--pack", help=PACK_HELP),
    no_pack_download: bool = typer.Option(False, "--no-pack-download", help=NO_DOWNLOAD_HELP),
    profile: bool = typer.Option(False, "--profile", help=PROFILE_HELP),
    plot_file: Optional[Path] = PROFILE_PLOT_OPT,
    compare_tflm: bool = COMPARE_TFLM_OPT,
    farm_place: Optional[str] = typer.Option(None, "--place", help=PLACE_HELP),
    coordinator: Optional[str] = typer.Option(None, "--coordinator", help=COORDINATOR_HELP),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
    dataset: Optional[Path] = typer.Option(None, "--dataset", help=DATASET_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    detection_postprocess: Optional[str] = DETECTION_OPT,
) -> None:
    """Generate, build, run on the target and compare with the TFLM reference, in one go.

    Without --inputs, 20 seeded random inputs. Exits non-zero unless bit-exact. Per output,
    ST's figures (acc, rmse, mae, l2r, mean, std, nse, cos) against the reference and, with
    --float-model, against the float model; on targets, duration and cycles per MACC.

    \b
    Example:
      mcugen validate examples/models/person_detect.tflite --target qemu-m7 --inputs examples/models/person.bmp
      mcugen validate examples/models/person_detect.tflite --target qemu-m7 --inputs 1 --profile --plot layers.svg

    \b
    Beside TFLM + CMSIS-NN, layer by layer (the first use builds the TFLM library: minutes):
      mcugen validate examples/models/person_detect.tflite -t qemu-m7 --inputs 1 --profile --compare-tflm --plot both.svg
    """
    files, count = _split_inputs(inputs, None)
    if not files and not inputs:
        count = 20
    options = _options(style, None, no_inputs_allocation, no_outputs_allocation, name=name, c_api=c_api,
                       pools=pools, patch=patch, kernels=kernels, tflm_root=tflm_root,
                       detection_postprocess=detection_postprocess)
    runner_options = _runner_options(port, baud, probe, pack, no_pack_download)
    plot.check_profile_request(profile, plot_file)
    places = farm_places(farm_place, coordinator)
    compare_styles.check_compare_request(compare_tflm, style, len(places) > 1)
    if len(places) > 1:  # a farm run: build once, every place at once, a table each and the summary
        refuse_other_runners(runner, runner_options)
        validate_places(model, target, options, places, coordinator, wait, json_out, input_files=files,
                        random=count, seed=seed, runs=runs, output=output, force=force, float_model=float_model)
        return
    runner_options.update(farm_options(places, coordinator, wait))
    runner = runner or ("labgrid" if places else None)
    run = dict(input_files=files, random=count, seed=seed, runs=runs, runner=runner, runner_options=runner_options,
               progress=report.say(json_out), library_progress=report.library_progress(json_out), dataset=dataset,
               float_model=float_model, profile=profile, sample_progress=report.sample_progress(json_out))
    gen, built, rep = project.validate(model, target, options, output=output, force=force, **run)
    tflm = compare_styles.tflm_beside(model, target, options, **run) if compare_tflm else None
    compare_styles.draw_profile(rep, tflm, plot_file, report.say(json_out))
    if json_out:
        _print_json("validate", compare_styles.validate_json(rep, gen.footprint, built, tflm))
    else:
        report.render_measure(rep, built=built, footprint=gen.footprint)
        compare_styles.render_comparison(rep, tflm)
    _exit_if_not_exact(rep.comparison)


cache_app = typer.Typer(help="The cache of built TFLM libraries.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
app.add_typer(farm_app, name="farm")


@cache_app.command("list")
def cache_list(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the cached TFLM library builds.

    \b
    Example:
      mcugen cache list
    """
    entries = list_entries()
    if json_out:
        _print_json("cache list", {"entries": [
            {**{k: getattr(e, k) for k in ("name", "target", "kernels", "tree_revision", "compiler", "size_bytes",
                                           "created", "build_seconds", "valid")}, "path": str(e.path)}
            for e in entries]})
    else:
        report.render_cache(entries, tflm_cache_dir())


@cache_app.command("clear")
def cache_clear(name: Optional[str] = typer.Argument(None, help="One entry (from `cache list`); all by default.")) -> None:
    """Remove cached TFLM library builds.

    \b
    Example:
      mcugen cache clear
    """
    removed = clear_cache(name)
    typer.echo(f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}" + (": " + ", ".join(removed) if removed else ""))


def main() -> None:
    """Entry point: run the app, turn errors, interrupts and exit codes into what a shell expects."""
    previous = interrupt.install()  # Ctrl-C / SIGTERM / SIGHUP unwind as Interrupted, cleaning up on the way
    try:
        _run_app()
    finally:
        interrupt.restore(previous)


def _run_app() -> None:
    json_command = jsonreport.json_command(sys.argv[1:])
    _state["json_printed"] = False
    try:
        code = app(standalone_mode=False)
    except interrupt.Interrupted as exc:
        _stop_everything(exc.message)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # raised by hand somewhere; the handler raises Interrupted
        _stop_everything("interrupted")
        sys.exit(130)
    except McugenError as exc:
        if json_command is not None and not _state["json_printed"]:  # a program reads stdout: the error there too
            report.print_json(jsonreport.error_document(json_command, exc.message, exc.hint))
        _report_error(exc)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("mcugen: aborted\n")
        sys.exit(1)
    except Exception as exc:  # usage errors (typer's click) and anything unexpected
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            if json_command is not None:
                report.print_json(jsonreport.error_document(
                    json_command, getattr(exc, "format_message", lambda: str(exc))(),
                    f"mcugen {json_command} --help lists the options.".replace("  ", " ")))
            exc.show()  # a usage error: the message click formats for the user
            sys.exit(exc.exit_code)
        if _state["debug"]:
            traceback.print_exc()
        error, hint = f"internal error: {type(exc).__name__}: {exc}", BUG_HINT
        if json_command is not None:
            report.print_json(jsonreport.error_document(json_command, error, hint))
        sys.stderr.write(f"mcugen: {error}\n{hint}\n")
        sys.exit(70)
    # typer hands back the code of a typer.Exit raised in a command instead of exiting with it
    sys.exit(code if isinstance(code, int) else 0)


def _stop_everything(message: str) -> None:
    """After an interrupt: what the unwinding did not already stop or remove, then one line."""
    process.stop_all()
    interrupt.remove_temporaries()
    try:
        report.err_console.show_cursor(True)  # a progress bar hides the cursor while it runs
        sys.stderr.write(f"mcugen: {message}\n")
        sys.stderr.flush()
    except OSError:  # SIGHUP: the terminal is gone
        pass


# The messages are bounded where they are made; this only keeps a runaway one (a tool's
# output, say) from flooding the terminal.
PRINTED_MESSAGE_LIMIT = 8000
BUG_HINT = "This is a bug in mcugen; run again with --debug for the traceback and report it."


def _report_error(exc: McugenError) -> None:
    if _state["debug"]:
        traceback.print_exc()
    # mcugen's own messages may span lines (a compiler's output); anything else a terminal
    # would act on is escaped, and markup from names in the message prints literally
    message = report.safe_text(exc.message, PRINTED_MESSAGE_LIMIT, keep="\n\t")
    report.err_console.print(f"[bold red]error:[/bold red] {message}", soft_wrap=True)
    if exc.hint:
        hint = report.safe_text(exc.hint, PRINTED_MESSAGE_LIMIT, keep="\n\t")
        report.err_console.print(f"[yellow]hint:[/yellow] {hint}", soft_wrap=True)


if __name__ == "__main__":
    main()
