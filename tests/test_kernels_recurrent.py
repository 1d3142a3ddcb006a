"""The integer UNIDIRECTIONAL_SEQUENCE_LSTM, bit for bit against the TFLM reference interpreter.

The model (tests/tfmodels.py int8_lstm: the LSTM, a STRIDED_SLICE of its last step and a
dense head) is generated in the cubeai style, compiled with the host cc and fed 20 samples
in sequence; TFLM runs the same sequence without a reset, so its variable tensors (hidden
and cell state) carry over from one invoke to the next, and so must mcugen's. Batch-major
and time-major, one and several batches, odd sizes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from tfmodels import cached_tflite, gru_from_ops, int8_lstm  # noqa: E402

from mcugen.inputs import make_samples  # noqa: E402
from mcugen.lower import unsupported_ops  # noqa: E402
from mcugen.lower.kernels import Kernels  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402
from mcugen.reference import reference_outputs  # noqa: E402

LSTM_CASES = {
    "batch_major": {},
    "time_major_batch3_odd": {"time_major": True, "batch": 3, "timesteps": 5, "features": 7, "units": 5, "seed": 1},
    "batch_major_batch2_odd": {"batch": 2, "timesteps": 3, "features": 5, "units": 11, "seed": 2},
}


# Whole keyword-spotting models: 49 frames of 10 features, 64 units, 12 classes.
KWS = {
    "kws_lstm": (int8_lstm, {"timesteps": 49, "features": 10, "units": 64, "classes": 12, "softmax": True}),
    "kws_gru": (gru_from_ops, {"timesteps": 49, "features": 10, "units": 64, "classes": 12}),
}


def kws_path(name: str):
    builder, kwargs = KWS[name]
    return cached_tflite(name, builder, **kwargs)


def lstm_path(**kwargs):
    name = "int8_lstm" if not kwargs else "int8_lstm_" + "_".join(f"{k}{v}" for k, v in sorted(kwargs.items()))
    return cached_tflite(name, int8_lstm, **kwargs)


def lstm_graph(**kwargs):
    return load_model(lstm_path(**kwargs))


@pytest.mark.parametrize("kwargs", list(LSTM_CASES.values()), ids=list(LSTM_CASES))
def test_lstm_bit_exact_with_state_carried(kwargs, tmp_path):
    graph = lstm_graph(**kwargs)
    lstm = [op for op in graph.operators if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert lstm, f"the converter produced {graph.opcodes}, no LSTM"
    assert bool(lstm[0].option("time_major")) == bool(kwargs.get("time_major", False))
    assert not unsupported_ops(graph)
    samples = make_samples(graph, (), random=20, seed=0)
    _, predicted, _ = check_bit_exact(graph, tmp_path / "lstm", samples=samples)
    # The state matters: most outputs differ from what the same sample gives on a fresh state.
    fresh = [reference_outputs(graph, [s])[0][0] for s in samples]
    assert sum(not np.array_equal(f, p[0]) for f, p in zip(fresh, predicted)) >= 10
    assert len(np.unique(np.concatenate([p[0].ravel() for p in predicted]))) > 10


@pytest.mark.slow
@pytest.mark.parametrize("case", ["batch_major", "time_major_batch3_odd"])
def test_lstm_bit_exact_on_qemu(case, tmp_path):
    """The LSTM on the Cortex-M7 (QEMU), 20 inputs in a row over the UART: the state the
    firmware carries from run to run gives TFLM's outputs over the same sequence."""
    import shutil

    from mcugen import project
    from mcugen.options import GenerateOptions

    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    _, _, rep = project.validate(lstm_path(**LSTM_CASES[case]), "qemu-m7", GenerateOptions(style="cubeai"), random=20, seed=3,
                                 output=tmp_path / "p", force=True)
    assert rep.inputs == 20
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0, \
        [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]


@pytest.mark.parametrize("kwargs", list(LSTM_CASES.values()), ids=list(LSTM_CASES))
def test_lstm_cortex_m7_variant_bit_exact_on_host(kwargs, tmp_path):
    """The Cortex-M7 variant (SMLAD projections, zero points folded into the biases) with the
    DSP instructions emulated on the host: the same 20-input sequence as TFLM."""
    graph = lstm_graph(**kwargs)
    samples = make_samples(graph, (), random=20, seed=0)
    check_bit_exact(graph, tmp_path / "lstm", samples=samples, kernels=Kernels(any_core=True, max_ram_growth=None))
    assert "mcu_lstm_s8_arm(" in (tmp_path / "lstm" / "network.c").read_text()


@pytest.mark.parametrize("name", sorted(KWS))
def test_keyword_spotting_models_bit_exact_on_host(name, tmp_path):
    """The KWS LSTM (its state carried from run to run) and the GRU written with FC, LOGISTIC,
    TANH, MUL, SUB and ADD: 20 inputs in a row, bit-exact, every op in cubeai."""
    graph = load_model(kws_path(name))
    assert not unsupported_ops(graph)
    if name == "kws_gru":
        assert {"FULLY_CONNECTED", "LOGISTIC", "TANH", "MUL", "SUB", "ADD"} <= set(graph.opcodes)
        assert not any(t.is_variable for t in graph.tensors)
    check_bit_exact(graph, tmp_path / name, n=20)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KWS))
def test_keyword_spotting_models_bit_exact_on_qemu(name, tmp_path):
    import shutil

    from mcugen import project
    from mcugen.options import GenerateOptions

    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    _, _, rep = project.validate(kws_path(name), "qemu-m7", GenerateOptions(style="cubeai"), random=20, seed=4,
                                 output=tmp_path / "p", force=True)
    assert rep.inputs == 20
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0, \
        [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]


def test_unrolled_gru_keeps_one_copy_of_its_matrices_on_cortex_m7():
    """The GRU's 49 steps read the same weight matrices: the Cortex-M7 FC variant would store a
    stream per step (1.9 MB for the KWS GRU), so the ops sharing a filter keep the portable
    kernel and the weights blob holds each matrix once (mcugen.lower.kernels.shared_filter_rule)."""
    from mcugen.boards import get_board
    from mcugen.estimate import weights_blob_bytes
    from mcugen.lower import lower

    graph = load_model(kws_path("kws_gru"))
    lowered = lower(graph, get_board("qemu-m7"))
    blob, params = weights_blob_bytes(lowered)
    used = {t for op in graph.operators for t in op.inputs if t >= 0 and graph.tensors[t].is_constant}
    # the constants once, and the streams of the variants that still run (the dense head)
    streams = sum(c.weights_bytes for c in lowered.calls if c.variant)
    assert blob <= 16 + sum((graph.tensors[t].nbytes + 15) // 16 * 16 for t in used) + streams
    assert blob + params < 400_000  # 1.9 MB with a stream per step; the ADD variant tables remain (~330 KB)
    shared = [c for c, op in zip(lowered.calls, graph.operators)
              if op.opcode == "FULLY_CONNECTED" and sum(op.inputs[1] in o.inputs for o in graph.operators) > 1]
    assert shared and all(not c.variant for c in shared)
    # the dense head reads its own matrix: it keeps the Cortex-M7 variant
    head = [c for c, op in zip(lowered.calls, graph.operators) if op.opcode == "FULLY_CONNECTED"][-1]
    assert head.variant


@pytest.mark.slow
def test_converter_cannot_yet_quantize_a_16x8_lstm():
    """Why the cubeai style has no 16x8 LSTM yet: TFLM runs one (int16 activations and
    cell, int8 weights, int64 bias), but TF's quantizer refuses to produce it
    (tensorflow/lite/tools/optimize/operator_property.cc sets quantizable_int16 = false for
    every LSTM variant). When this test fails, TF can build the model: write mcu_lstm_s16.c."""
    with pytest.raises(RuntimeError, match="16x8-bit not yet supported for op: 'UNIDIRECTIONAL_SEQUENCE_LSTM'"):
        int8_lstm(int16_activations=True)
