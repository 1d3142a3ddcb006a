"""Run a built project on its target and read back outputs and timing.

`measure(project_dir, runner, inputs, runs)` flashes or starts the firmware,
waits for its announcement, checks the model hash against mcugen.json, sends
each input set, runs the model `runs` times per set, and returns the outputs
and the counter values as plain data.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from mcugen.boards import get_board
from mcugen.errors import LinkError
from mcugen.firmware import BUILD_DIR, ELF_NAME, read_manifest
from mcugen.link.client import TargetLink
from mcugen.link.protocol import Announcement, TensorSpec
from mcugen.runners.base import Runner, choose_runner, make_runner

CONNECT_TIMEOUT = 15.0        # seconds for the first announcement (QEMU boot, board reset)
REQUEST_TIMEOUT = 3.0         # seconds for one request's answer
RUN_TIMEOUT = 30.0            # seconds one inference may take


@dataclass(frozen=True)
class CounterStats:
    min: int
    median: float
    max: int
    count: int

    @classmethod
    def of(cls, values: list[int]) -> CounterStats:
        if not values:
            return cls(0, 0.0, 0, 0)
        return cls(min(values), float(statistics.median(values)), max(values), len(values))


@dataclass(frozen=True)
class Measurement:
    board: str
    runner: str
    model_name: str
    model_hash: str
    timing_unit: str                     # cycles | instructions | nanoseconds
    clock_hz: int
    activation_bytes: int                # as the firmware reports it
    extra_u32: int
    outputs: list[list[np.ndarray]]      # per input set, per model output
    counts: list[list[int]]              # per input set, per run
    stats: CounterStats                  # over every run of every input set
    announcement: Announcement
    profile: tuple[int, ...] = ()        # per node, last run (firmware built with MCUGEN_PROFILE)

    def time_seconds(self) -> float | None:
        """Median time of one inference, where the unit allows it (cycles at clock_hz, ns)."""
        if self.timing_unit == "cycles" and self.clock_hz:
            return self.stats.median / self.clock_hz
        if self.timing_unit == "nanoseconds":
            return self.stats.median * 1e-9
        return None  # instructions are not time


def _to_bytes(array: np.ndarray, spec: TensorSpec, which: str) -> bytes:
    a = np.asarray(array)
    if a.dtype != spec.dtype:
        raise LinkError(f"{which} has dtype {a.dtype}, the firmware expects {spec.dtype_name}.",
                        hint="Quantize the input for the model's input type first.")
    if tuple(a.shape) != spec.shape and a.size * a.itemsize == spec.nbytes and a.size == int(np.prod(spec.shape)):
        a = a.reshape(spec.shape)
    if tuple(a.shape) != spec.shape:
        raise LinkError(f"{which} has shape {tuple(a.shape)}, the firmware expects {spec.shape}.")
    data = np.ascontiguousarray(a, dtype=spec.dtype).tobytes()
    if len(data) != spec.nbytes:
        raise LinkError(f"{which} is {len(data)} bytes, the firmware expects {spec.nbytes}.")
    return data


def measure_on_link(link: TargetLink, expected_hash: str | None, inputs: list[list[np.ndarray]], runs: int,
                    run_timeout: float = RUN_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT,
                    profile: list[int] | None = None, on_sample: Callable[[int, int], None] | None = None,
                    ) -> tuple[Announcement, list[list[np.ndarray]], list[list[int]]]:
    """The protocol part of measure(), on an already started target. When `profile` is a
    list, it receives the per-node counter values of the last run; on_sample(done, total)
    follows the input sets (a progress bar)."""
    if runs < 1:
        raise ValueError("runs must be >= 1")
    ann = link.connect(expected_hash=expected_hash, timeout=connect_timeout)
    all_outputs: list[list[np.ndarray]] = []
    all_counts: list[list[int]] = []
    for set_index, tensors in enumerate(inputs):
        if len(tensors) != len(ann.inputs):
            raise LinkError(f"Input set {set_index} has {len(tensors)} tensor(s); the model takes {len(ann.inputs)}.")
        payloads = [_to_bytes(array, spec, f"Input {spec.index} of set {set_index}")
                    for spec, array in zip(ann.inputs, tensors)]
        counts: list[int] = []
        for _ in range(runs):
            # The planner may let activations reuse the input's bytes (as X-CUBE-AI and TFLM
            # do), so every run gets the input afresh (infer() writes it): each count and the
            # outputs belong to this input, not to what an earlier run left behind.
            result = link.infer(payloads, run_timeout)
            if result.status != 0:
                raise LinkError(f"The model returned status {result.status} on the target (input set {set_index}).",
                                hint="The generated code reported an error; rebuild with debug output to see where.")
            counts.extend(result.counts)
        # Read back the last run's outputs: infer() bound them to its run id.
        outputs = []
        for spec in ann.outputs:
            raw = link.read_output(spec.index)
            outputs.append(np.frombuffer(raw, dtype=spec.dtype).reshape(spec.shape).copy())
        all_outputs.append(outputs)
        all_counts.append(counts)
        if profile is not None and set_index == len(inputs) - 1:
            profile[:] = link.read_profile()
        if on_sample is not None:
            on_sample(set_index + 1, len(inputs))
    return ann, all_outputs, all_counts


def measure(project_dir: str | Path, runner: Runner | str | None, inputs: list[list[np.ndarray]], runs: int = 10,
            timeout: float = REQUEST_TIMEOUT, run_timeout: float = RUN_TIMEOUT,
            connect_timeout: float = CONNECT_TIMEOUT, profile: bool = False,
            on_sample: Callable[[int, int], None] | None = None, **runner_options) -> Measurement:
    """Flash/start the project's firmware, run every input set `runs` times, return outputs and counters.

    runner: a Runner, a runner name (qemu, host, pyocd, jlink, ...), or None for the board's first
    runner that can write the image.
    runner_options: passed to the runner (port=, baud=, probe=, pack=, ...)."""
    project_dir = Path(project_dir)
    manifest = read_manifest(project_dir)
    board = manifest.firmware.board_for(get_board(manifest.board))  # the UART at the firmware's baud rate
    baud = runner_options.get("baud")
    if baud and board.uart is not None and baud != board.uart.baud:
        raise LinkError(f"The firmware in {project_dir} talks at {board.uart.baud} baud (its build); --baud {baud} "
                        "would not reach it.", hint=f"Regenerate the project with --baud {baud}, or drop --baud.")
    if not isinstance(runner, Runner):
        elf = project_dir / BUILD_DIR / ELF_NAME
        runner = make_runner(runner or choose_runner(board, elf, runner_options), board, elf, **runner_options)
    with runner:
        transport = runner.start()
        link = TargetLink(transport, timeout=max(timeout, runner.request_timeout))
        nodes: list[int] | None = [] if profile else None
        ann, outputs, counts = measure_on_link(link, manifest.model_hash, inputs, runs, run_timeout, connect_timeout,
                                               nodes, on_sample)
    flat = [c for per_set in counts for c in per_set]
    return Measurement(
        board=board.name, runner=runner.name, model_name=ann.model_name, model_hash=ann.model_hash,
        timing_unit=ann.timing_unit, clock_hz=ann.clock_hz, activation_bytes=ann.activation_bytes,
        extra_u32=ann.extra_u32, outputs=outputs, counts=counts, stats=CounterStats.of(flat), announcement=ann,
        profile=tuple(nodes or ()),
    )
