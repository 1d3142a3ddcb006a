"""Every kernel, bit for bit against the TFLM reference interpreter.

One single-operator Keras model per operator and variant (tests/tfops.py),
quantized to int8, generated in the cubeai style, compiled with the host cc
(-Wall -Wextra -Werror) and run on 20 random inputs; every output element must
equal TFLM's."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from tfmodels import cached_model  # noqa: E402
from tfops import CASES  # noqa: E402

from mcugen.model.load import load_model  # noqa: E402

CHECKS = {
    "conv_dilation2": lambda g, op: op.option("dilation_h_factor") == 2 and op.option("dilation_w_factor") == 2,
    "dw_dilation2": lambda g, op: op.option("dilation_h_factor") == 2,
    "conv_per_tensor": lambda g, op: len(g.tensors[op.inputs[1]].quant.scale) == 1,
    "dw_per_tensor": lambda g, op: len(g.tensors[op.inputs[1]].quant.scale) == 1,
    "fc_per_tensor": lambda g, op: len(g.tensors[op.inputs[1]].quant.scale) == 1,
    "conv_s1_same": lambda g, op: len(g.tensors[op.inputs[1]].quant.scale) > 1,
    "dw_mult3": lambda g, op: g.tensors[op.outputs[0]].shape[-1] == 3 * g.tensors[op.inputs[0]].shape[-1],
    "conv_relu6": lambda g, op: op.option("fused_activation_function") == "RELU6",
    "conv_s1_valid_relu": lambda g, op: op.option("fused_activation_function") == "RELU"
    and op.option("padding") == "VALID",
    "add_relu": lambda g, op: op.option("fused_activation_function") == "RELU",
    "mean_no_keepdims": lambda g, op: not op.option("keep_dims"),
    "mean_keepdims": lambda g, op: bool(op.option("keep_dims")),
    "add_broadcast": lambda g, op: g.tensors[op.inputs[0]].shape != g.tensors[op.inputs[1]].shape,
    "mul_broadcast_se": lambda g, op: g.tensors[op.inputs[0]].shape != g.tensors[op.inputs[1]].shape,
    "uint8_input": lambda g, op: g.tensors[op.inputs[0]].dtype == "uint8",
    "float_input": lambda g, op: g.tensors[op.inputs[0]].dtype == "float32",
}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_single_op_bit_exact(case, tmp_path):
    cid, builder, kwargs, opcode = case
    graph = load_model(cached_model(cid, builder, **kwargs))
    ops = [op for op in graph.operators if op.opcode == opcode]
    assert ops, f"{cid}: the converter produced {graph.opcodes}, not {opcode}"
    if cid in CHECKS:
        assert any(CHECKS[cid](graph, op) for op in ops), f"{cid}: the {opcode} is not the intended variant"
    check_bit_exact(graph, tmp_path / cid, n=20)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"rank": 2, "state_dtype": "int16", "batches": 2, "memory": 4}, {"rank": 3, "units": 5, "input_size": 7}],
    ids=["rank1_int8_state", "rank2_int16_state_batch2", "rank3"],
)
def test_svdf_bit_exact_with_state(kwargs, tmp_path):
    """SVDF keeps its state from run to run: 20 samples in sequence match TFLM, and
    most outputs differ from what the same sample gives on a fresh state."""
    import numpy as np
    from tfops import svdf_model

    from mcugen.inputs import make_samples
    from mcugen.model.load import load_model_bytes
    from mcugen.reference import reference_outputs

    graph = load_model_bytes(svdf_model(**kwargs), "svdf")
    samples = make_samples(graph, (), random=20, seed=0)
    _, predicted, _ = check_bit_exact(graph, tmp_path / "svdf", samples=samples)
    fresh = [reference_outputs(graph, [s])[0][0] for s in samples]
    assert sum(not np.array_equal(f, p[0]) for f, p in zip(fresh, predicted)) >= 10
    assert len(np.unique(np.concatenate([p[0].ravel() for p in predicted]))) > 10


def test_fixedpoint_helpers_match_tflm_cpp(tmp_path):
    """mcu_fixedpoint.h against TFLM's own C++ (common.h, gemmlowp, hard-swish helpers),
    built from the pinned TFLM tree: millions of random and edge-case arguments, under
    UBSan so that neither side relies on undefined behaviour."""
    import shutil
    import subprocess

    from mcugen.resources import firmware_dir

    try:
        from mcugen.tflm.source import find_tflm_root

        root = find_tflm_root().root
    except Exception:
        pytest.skip("no TFLM source tree")
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    downloads = root / "tensorflow" / "lite" / "micro" / "tools" / "make" / "downloads"
    exe = tmp_path / "fixedpoint_diff"
    cmd = [cxx, "-std=c++17", "-O1", "-fsanitize=undefined", "-fno-sanitize-recover=undefined",
           "-I", str(root), "-I", str(downloads / "gemmlowp"), "-I", str(downloads / "flatbuffers" / "include"),
           "-I", str(downloads / "ruy"), "-I", str(firmware_dir() / "kernels"),
           str(Path(__file__).parent / "fixtures" / "fixedpoint_diff.cc"),
           str(root / "tensorflow" / "lite" / "kernels" / "internal" / "common.cc"), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:3000]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("ok "), run.stdout + run.stderr
    assert int(run.stdout.split()[1]) > 5_000_000
