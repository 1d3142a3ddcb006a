"""Emission: the planned model written as a complete firmware project.

`generate` runs the pipeline's style branch (mcugen.pipeline.plan_model), refuses a
model that does not fit, and writes the project: the cubeai network on mcugen's
kernels (mcugen.codegen.cubeai) or the TFLM application on the cached library
(mcugen.codegen.tflm). A generated project keeps a copy of its model (model.tflite)
and the footprint estimate in its manifest, so `build` can set real sizes beside the
estimate and `flash-and-measure` can compare the target's outputs with the reference
without being told the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mcugen.boards import Board
from mcugen.codegen.cubeai import generate_cubeai
from mcugen.codegen.tflm import generate_tflm
from mcugen.advice import require_fit_or_propose
from mcugen.estimate import Footprint
from mcugen.model.detection_append import spec_for_project
from mcugen.model import Graph
from mcugen.options import GenerateOptions
from mcugen.outdir import check_output_dir
from mcugen.pipeline import CubeaiPlanned, plan_model
from mcugen.tflm.cache import BuildProgress

MODEL_COPY = "model.tflite"


@dataclass(frozen=True)
class Generated:
    """What `generate` wrote, with the footprint it checked and the style's own details."""

    out_dir: Path
    board: str
    style: str
    files: tuple[str, ...]  # relative paths written
    footprint: Footprint
    details: dict[str, Any] = field(default_factory=dict)  # arena, data and kernel figures; the patch stages

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "board": self.board,
            "style": self.style,
            "files": list(self.files),
            "estimate": self.footprint.to_json(),
            **self.details,
        }


def generate(
    graph: Graph,
    board: Board,
    out_dir: str | Path,
    options: GenerateOptions = GenerateOptions(),
    *,
    force: bool = False,
    progress: Callable[[BuildProgress], None] | None = None,
) -> Generated:
    """Write a complete firmware project for `graph` on `board` (see GenerateOptions).

    Refuses (before writing anything) unsupported operators, a model that does not
    fit the board, and an output directory holding files mcugen did not write.
    progress: the TFLM library build's progress (tflm style, first build only)."""
    options = options.checked()
    check_output_dir(out_dir, force)  # every option and the directory checked before any long work
    planned = plan_model(graph, board, options)
    options = planned.options  # with the weights/arena placed by speed where the defaults overflow
    footprint = planned.footprint
    require_fit_or_propose(graph, board, options, footprint)
    extra_files = {MODEL_COPY: graph.model_bytes}
    extra_manifest = {"model_file": MODEL_COPY, "estimate": estimate_json(footprint)}
    if options.detection_postprocess:  # appended to the graph, not in the model file (model/detection_append.py)
        spec, files = spec_for_project(options.detection_postprocess)
        extra_manifest["detection_postprocess"] = spec
        extra_files.update(files)
    if isinstance(planned, CubeaiPlanned):
        project = generate_cubeai(planned.lowered, board, out_dir, options, plan=planned.plan, force=force,
                                  extra_files=extra_files, extra_manifest=extra_manifest)
        details = {"arena_size": project.arena_size, "weights_bytes": project.weights_bytes,
                   "params_bytes": project.params_bytes, "kernels": list(project.kernels), "name": project.name,
                   "c_api": project.c_api, "pools": list(project.pools),
                   "inputs_in_activations": options.inputs_allocation,
                   "outputs_in_activations": options.outputs_allocation, "patch": footprint.patch,
                   "layout": options.layout,
                   "notes": list(project.notes)}
        files = project.files
    else:
        tflm = generate_tflm(graph, board, out_dir, kernels=planned.kernels, tflm_root=options.tflm_root,
                             force=force, firmware_options=options.firmware(), arena_size=planned.arena,
                             progress=progress, extra_files=extra_files, extra_manifest=extra_manifest,
                             layout=options.layout)
        details = {"arena_size": tflm.arena_size, "kernels": tflm.kernels, "library": str(tflm.library),
                   "library_copy": tflm.library_copy, "headers": tflm.headers, "layout": options.layout,
                   "ops": list(tflm.ops), "notes": list(tflm.notes)}
        files = tflm.files
    return Generated(Path(out_dir), board.name, options.style, tuple(files), footprint, details)


def estimate_json(fp: Footprint) -> dict[str, Any]:
    """The estimate a project's manifest keeps (`build` compares the ELF with it)."""
    return {
        "activation_ram": fp.activation_ram,
        "weights_flash": fp.weights_flash,
        "params_flash": fp.params_flash,
        "code_flash": fp.code_flash,
        "runtime_ram": fp.runtime_ram,
        "regions": {r.name: r.used for r in fp.regions},
        "patch": dict(fp.patch) if fp.patch else None,
    }


__all__ = ["Generated", "MODEL_COPY", "estimate_json", "generate"]
