"""Helpers for the cubeai tests: generate, build and run on the host, compare with TFLM."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from mcugen.codegen import generate_cubeai
from mcugen.calibrate.hostrun import build_host, run_on_host
from mcugen.inputs import make_samples
from mcugen.model import Graph
from mcugen.model.load import load_model
from mcugen.reference import reference_outputs
from mcugen.validate import compare_outputs


def check_bit_exact(
    graph: Graph | str | Path,
    out_dir: Path,
    n: int = 20,
    seed: int = 0,
    samples: Sequence[Sequence[np.ndarray]] | None = None,
    **generate_kwargs,
):
    """Generates `graph` into out_dir, runs n random samples on the host and in TFLM,
    asserts max abs diff 0 on every output; returns (project, predicted, reference)."""
    if not isinstance(graph, Graph):
        graph = load_model(graph)
    project = generate_cubeai(graph, "host", out_dir, **generate_kwargs)
    build_host(out_dir)
    if samples is None:
        samples = make_samples(graph, (), random=n, seed=seed)
    predicted = run_on_host(out_dir, samples)
    reference = reference_outputs(graph, samples)
    comparisons = compare_outputs(graph, predicted, reference)
    bad = [c for c in comparisons if not c.bit_exact]
    assert not bad, (
        f"{graph.name}: not bit-exact: "
        + "; ".join(f"output {c.index} '{c.name}': max abs diff {c.max_abs_diff}, {c.mismatches}/{c.elements} differ"
                    for c in bad)
    )
    return project, predicted, reference
