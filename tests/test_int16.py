"""16x8 quantization in the cubeai style (mcugen/lower/int16.py, firmware/kernels/*_s16.c):
single-op models with int16 activations, bit-exact against TFLM's reference int16 kernels
on the host over 20 random full-range int16 inputs."""

from __future__ import annotations

import numpy as np
import pytest

from mcugen.boards import get_board
from mcugen.lower import int16, lower
from mcugen.lower.quant16 import softmax_luts
from mcugen.model.load import load_model

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from tfmodels import cached_model  # noqa: E402
from tfops16 import CASES16  # noqa: E402


@pytest.mark.parametrize("case", CASES16, ids=[c[0] for c in CASES16])
def test_bit_exact(case, tmp_path):
    cid, builder, kwargs, opcode = case
    graph = load_model(cached_model(cid, builder, **kwargs))
    ops = [op for op in graph.operators if op.opcode == opcode]
    assert ops, f"{cid}: the converter produced {graph.opcodes}, not {opcode}"
    for op in ops:  # the 16x8 variant: int16 in and out, an int64 bias where there is one
        if op.opcode == "QUANTIZE":  # float -> int16 at the model's input
            assert graph.tensors[op.outputs[0]].dtype == "int16"
            continue
        if op.opcode == "DEQUANTIZE":  # int16 -> float at its output
            assert graph.tensors[op.inputs[0]].dtype == "int16"
            continue
        assert int16.handles(graph, op), f"{cid}: op {op.index} is not int16"
        assert graph.tensors[op.outputs[0]].dtype == "int16"
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 2 and op.inputs[2] >= 0:
            assert graph.tensors[op.inputs[2]].dtype == "int64"
    _, predicted, _ = check_bit_exact(graph, tmp_path / cid, n=20)
    assert len(np.unique(np.concatenate([p[0].ravel() for p in predicted]))) > 10, "outputs hardly vary"
    if opcode != "QUANTIZE":
        assert all(c.kernel.endswith("_s16") or c.opcode in ("QUANTIZE", "DEQUANTIZE", "RESHAPE")
                   for c in lower(graph, get_board("host")).calls)


QEMU_SAMPLE = ("s16_conv_groups", "s16_dw_mult3_dilation2", "s16_fc_batches", "s16_add_broadcast",
               "s16_mul_broadcast_rows", "s16_softmax_wide", "s16_avgpool_same", "s16_maxpool_same",
               "s16_logistic", "s16_tanh_wide")


@pytest.mark.slow
@pytest.mark.parametrize("cid", QEMU_SAMPLE)
def test_bit_exact_on_qemu(cid, tmp_path):
    """A sample of the cases on the Cortex-M7 (qemu-m7), 20 inputs each through the UART protocol."""
    from mcugen import project
    from mcugen.options import GenerateOptions

    _, builder, kwargs, _ = next(c for c in CASES16 if c[0] == cid)
    _, _, rep = project.validate(cached_model(cid, builder, **kwargs), "qemu-m7", GenerateOptions(style="cubeai"),
                                 random=20, seed=5, output=tmp_path / cid, force=True)
    assert rep.inputs == 20 and rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0


def test_softmax_tables_shape_and_ends():
    """exp(-10..0) rises to 1.0 (32767) at its end; 1/(1+x) falls from 1.0 to 0.5 (16384)."""
    exp_lut, recip_lut = softmax_luts()
    assert exp_lut.shape == recip_lut.shape == (513,)
    assert exp_lut[-1] == 32767 and 0 <= exp_lut[0] <= 3 and np.all(np.diff(exp_lut.astype(int)) >= 0)
    assert recip_lut[0] == 32767 and recip_lut[-1] == 16384 and np.all(np.diff(recip_lut.astype(int)) <= 0)


AUDIO_Q = {"q_int16_activations": True, "q_input_type": "int16", "q_output_type": "int16", "q_rep_range": (-2.0, 2.0)}


def _audio_cnn16(per_channel_dense: bool = True):
    from tfmodels import audio_cnn16

    kwargs = {**AUDIO_Q, **({} if per_channel_dense else {"q_per_channel_dense": False})}
    return cached_model("audio_cnn16" if per_channel_dense else "audio_cnn16_pt", audio_cnn16, **kwargs)


def _validate(path, target: str, style: str, tmp_path, n: int = 20):
    from mcugen import project
    from mcugen.options import GenerateOptions

    gen, built, rep = project.validate(path, target, GenerateOptions(style=style), random=n, seed=3,
                                       output=tmp_path / f"{style}-{target}", force=True)
    assert rep.inputs == n
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0, \
        [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]
    return gen, rep


def test_audio_cnn16_runs_every_op_in_16x8_and_estimates_in_both_styles():
    from mcugen.boards import get_board
    from mcugen.lower import lower
    from mcugen.options import GenerateOptions
    from mcugen.pipeline import estimate_model

    graph = load_model(_audio_cnn16())
    assert graph.tensors[graph.inputs[0]].dtype == graph.tensors[graph.outputs[0]].dtype == "int16"
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "FULLY_CONNECTED", "SOFTMAX"} <= set(graph.opcodes)
    lowered = lower(graph, get_board("qemu-m7"))
    assert all(c.kernel.endswith("_s16") or c.opcode == "RESHAPE" for c in lowered.calls), \
        [c.kernel for c in lowered.calls]
    board = get_board("stm32h7")
    for style in ("cubeai", "tflm"):
        fp = estimate_model(graph, board, GenerateOptions(style=style))
        assert fp.activation_ram > 2 * 49 * 40  # int16 input at least
    cube = estimate_model(graph, board, GenerateOptions(style="cubeai"))
    assert cube.weights_flash >= sum(graph.tensors[op.inputs[1]].nbytes for op in graph.operators
                                     if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"))


def test_audio_cnn16_cubeai_host(tmp_path):
    _validate(_audio_cnn16(), "host", "cubeai", tmp_path)


@pytest.mark.slow
def test_audio_cnn16_cubeai_qemu(tmp_path):
    _, rep = _validate(_audio_cnn16(), "qemu-m7", "cubeai", tmp_path)
    assert rep.timing_unit == "instructions" and rep.counts["min"] > 0


@pytest.mark.slow
@pytest.mark.tflm
@pytest.mark.parametrize("target", ["host", "qemu-m7"])
def test_audio_cnn16_tflm(target, tmp_path):
    """TFLM runs the per-tensor-dense variant with CMSIS-NN on qemu-m7 (its CMSIS-NN
    FULLY_CONNECTED refuses per-channel int16 weights)."""
    _validate(_audio_cnn16(per_channel_dense=False), target, "tflm", tmp_path)


@pytest.mark.tflm
def test_tflm_tables_data_is_current():
    """mcugen/data/tflm_tables.json equals the tables of the TFLM tree in use (re-extracted)."""
    from mcugen.calibrate.tflm_tables import extract
    from mcugen.lower.quant16 import sigmoid_table
    from mcugen.tflm.source import find_tflm_root

    tables = extract(find_tflm_root().root)
    assert tables["sigmoid_table_uint16"] == sigmoid_table().tolist(), \
        "stale: run `python -m mcugen.calibrate.tflm_tables --update`"
    assert len(tables["sigmoid_table_uint16"]) == 256


def _with_input_scale(path, scale: float) -> bytes:
    """The model's bytes with the first op's input scale overwritten (its quantization table's
    scale vector, slot 2 of the tensor's field 4)."""
    from _tflite_edit import field, put, tensor, vector

    from mcugen.model.load import load_model as _load

    data = path.read_bytes()
    index = _load(path).operators[0].inputs[0]
    quant = field(data, tensor(data, index), 12)
    first, count = vector(data, quant + int.from_bytes(data[quant:quant + 4], "little"), 8)
    assert count == 1
    return put(data, first, "f", scale)


@pytest.mark.parametrize("cid, scale", [("s16_logistic", 2.0 ** -12), ("s16_tanh", 2.0 ** -12),
                                        ("s16_tanh", 2.0 ** -11)])
def test_sigmoid_power_of_two_input_scales(cid, scale, tmp_path):
    """LOGISTIC and TANH take TFLM's power-of-two path (input_multiplier 0) for an input scale
    of 2^-12 (TANH: 2^-11 too), as LSTM gates have: bit-exact there as well."""
    from mcugen.lower.quant16 import sigmoid16_params

    _, builder, kwargs, _ = next(c for c in CASES16 if c[0] == cid)
    model = tmp_path / f"{cid}_pot.tflite"
    model.write_bytes(_with_input_scale(cached_model(cid, builder, **kwargs), scale))
    graph = load_model(model)
    x = graph.tensors[graph.operators[0].inputs[0]]
    assert float(x.quant.scale[0]) == scale
    assert sigmoid16_params(scale, 2.0 ** -15, tanh=cid == "s16_tanh")[0] == 0  # the power-of-two path
    check_bit_exact(graph, tmp_path / cid, n=20)


def test_tflm_synthetic_16x8_model_runs_in_cubeai(tmp_path):
    """tests/tflm's 16x8 model (conv, depthwise, average pool, 1x1 conv, MEAN, softmax),
    written for the tflm style, runs bit-exact in cubeai too."""
    from tflm.tflm_synthetic import _QUANTIZATION, int16_activations

    path = cached_model("tflm-int16_activations", int16_activations, **_QUANTIZATION["int16_activations"])
    graph = load_model(path)
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MEAN", "SOFTMAX"} <= set(graph.opcodes)
    check_bit_exact(graph, tmp_path / "synthetic16", n=20)


def test_validate_cli_with_an_int16_npy_input(tmp_path):
    """`mcugen validate --inputs x.npy` with the int16 input of a 16x8 model, through the CLI
    on the host: the file read as int16, the int16 outputs compared bit for bit (--json)."""
    import json
    import subprocess
    import sys

    path = _audio_cnn16()
    x = np.random.default_rng(9).integers(-32768, 32767, size=(1, 49, 40, 1), endpoint=True).astype(np.int16)
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run([sys.executable, "-m", "mcugen", "validate", str(path), "--target", "host", "--inputs",
                        str(tmp_path / "x.npy"), "--json"], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bit_exact"] and rep["max_abs_diff"] == 0 and rep["inputs"] == 1, rep["outputs"]
    np.save(tmp_path / "bad.npy", x.astype(np.int32) * 2)  # outside int16: refused by name, no traceback
    r = subprocess.run([sys.executable, "-m", "mcugen", "validate", str(path), "--target", "host", "--inputs",
                        str(tmp_path / "bad.npy")], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert r.returncode != 0 and "int16" in r.stderr and "Traceback" not in r.stderr
