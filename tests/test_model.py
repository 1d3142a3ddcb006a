"""The loader: real models load into the Graph; bad files end in a ModelError."""

from __future__ import annotations

import hashlib
import random
import time

import numpy as np
import pytest

from conftest import MODELS, REAL_MODELS
from mcugen.errors import ModelError
from mcugen.model.load import load_model, load_model_bytes
from mcugen.model.graph import c_identifier
from mcugen.model.loader import parse_model


def test_person_detect_graph(person_detect):
    g = load_model(person_detect)
    assert g.name == "person_detect"
    assert g.model_hash == hashlib.sha256(person_detect.read_bytes()).hexdigest()
    assert [t.shape for t in g.input_tensors] == [(1, 96, 96, 1)]
    assert [t.dtype for t in g.output_tensors] == ["int8"]
    q = g.input_tensors[0].quant
    assert q.zero_point == (-1,) and abs(q.scale[0] - 1 / 127.5) < 1e-7
    assert g.constant_bytes() == 218928  # 213.8 KiB, as the model card says
    first = g.operators[0]
    assert first.opcode == "DEPTHWISE_CONV_2D"
    assert first.options["padding"] == "SAME" and first.options["stride_h"] == 2
    assert first.options["dilation_h_factor"] == 1
    assert first.options["fused_activation_function"] == "RELU6"
    weights = g.tensors[first.inputs[1]]
    assert weights.is_constant and weights.data.dtype == np.int8 and weights.quant.per_channel
    assert not weights.data.flags.writeable  # a view into the file, never copied or changed
    assert g.opcodes == ["DEPTHWISE_CONV_2D", "CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"]


@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_every_real_model_loads(path):
    g = load_model(path)
    assert g.operators and g.inputs and g.outputs
    for op in g.operators:
        assert all(-1 <= i < len(g.tensors) for i in op.inputs)


def test_int16_model_has_variable_state():
    g = load_model(MODELS / "keyword_scrambled_8bit.tflite")
    assert g.input_tensors[0].dtype == "int16" and g.output_tensors[0].dtype == "int32"
    assert sum(t.is_variable for t in g.tensors) == sum(op.opcode == "SVDF" for op in g.operators) == 7


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "only 0 bytes"),
        (b"hello world, not a model", "no 'TFL3' identifier"),
        (b"\x00" * 4 + b"TFL3", "corrupt or truncated"),
    ],
)
def test_not_a_model(data, message):
    with pytest.raises(ModelError, match=message):
        parse_model(data, "x")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nope.tflite")
    with pytest.raises(ModelError, match="is a directory"):
        load_model(tmp_path)


def test_truncated_file(person_detect):
    data = person_detect.read_bytes()
    for cut in (16, 1000, len(data) // 2, len(data) - 1):
        with pytest.raises(ModelError):
            load_model_bytes(data[:cut], "cut")


def _mutations(data: bytes, count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        b = bytearray(data)
        kind = rng.randrange(4)
        if kind == 0:  # flip a few bits
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # overwrite a word with a random value (offsets, lengths)
            i = rng.randrange(0, len(b) - 4) & ~3
            b[i : i + 4] = rng.getrandbits(32).to_bytes(4, "little")
        elif kind == 2:  # truncate
            b = b[: rng.randrange(8, len(b))]
        else:  # corrupt the header region where the root tables live
            i = rng.randrange(0, min(512, len(b)))
            b[i] = rng.randrange(256)
        yield bytes(b)


@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_mutated_models_load_cleanly_or_fail_cleanly(path):
    """A few hundred damaged copies: each loads (and plans) or raises ModelError; none crashes or hangs."""
    from mcugen.ops import check_shapes, require_known
    from mcugen.planner import plan_memory

    data = path.read_bytes()
    outcomes = {"ok": 0, "error": 0}
    for i, mutated in enumerate(_mutations(data, 100, seed=hash(path.name) & 0xFFFF)):
        start = time.monotonic()
        try:
            g = load_model_bytes(mutated, f"mutant{i}")
            require_known(g)
            check_shapes(g)
            plan_memory(g)
            outcomes["ok"] += 1
        except ModelError:
            outcomes["error"] += 1
        assert time.monotonic() - start < 5, "loading a damaged model must not hang"
    assert outcomes["ok"] + outcomes["error"] == 100
    assert outcomes["error"] > 0  # the mutations do damage


def test_float_model_is_refused(tmp_path):
    tf = pytest.importorskip("tensorflow")
    inp = tf.keras.Input(shape=(8,), batch_size=1)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(4)(inp))
    data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    with pytest.raises(ModelError, match="not fully quantized"):
        load_model_bytes(data, "float_model")


def test_dynamic_shape_is_refused():
    tf = pytest.importorskip("tensorflow")

    @tf.function(input_signature=[tf.TensorSpec([1, None, 4], tf.float32)])
    def f(x):
        return tf.nn.relu(x)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], None)
    data = converter.convert()
    with pytest.raises(ModelError, match="unknown dimension|dynamic"):
        load_model_bytes(data, "dynamic")


def test_shape_ops_are_folded():
    """SHAPE -> STRIDED_SLICE -> PACK feeding a RESHAPE becomes a constant shape."""
    tf = pytest.importorskip("tensorflow")
    from tfmodels import quantize

    inp = tf.keras.Input(shape=(4, 4, 3))  # batch left open: the converter keeps the shape ops
    x = tf.keras.layers.Conv2D(8, 3)(inp)

    class DynReshape(tf.keras.layers.Layer):
        def call(self, t):
            return tf.reshape(t, tf.stack([tf.shape(t)[0], -1]))

    out = DynReshape()(x)
    data = quantize(tf.keras.Model(inp, out))
    raw = parse_model(data, "m")
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= {op.opcode for op in raw.operators}
    g = load_model_bytes(data, "m")
    assert {op.opcode for op in g.folded} >= {"SHAPE", "STRIDED_SLICE", "PACK"}
    assert [op.opcode for op in g.operators] == ["CONV_2D", "RESHAPE"]
    reshape = g.operators[1]
    shape_input = g.tensors[reshape.inputs[1]]
    assert shape_input.is_constant and list(shape_input.data) == [1, -1]
    assert g.tensors[reshape.outputs[0]].shape == (1, 2 * 2 * 8)
    assert [op.index for op in g.operators] == [0, 1]


def test_c_identifier():
    assert c_identifier("MobilenetV1/Conv2d_0/Relu6") == "MobilenetV1_Conv2d_0_Relu6"
    assert c_identifier("0abc") == "_0abc"
    assert c_identifier("int") == "int_"
    assert c_identifier("///", fallback="t3") == "t3"
