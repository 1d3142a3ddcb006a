"""The loader: real models load into the Graph; bad files end in a ModelError."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import threading
import time

import numpy as np
import pytest

import _tflite_edit as edit
from conftest import MODELS, REAL_MODELS, needs_tf
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


# --- what the loader says about bad files ----------------------------------------------------

HELLO = MODELS / "hello_world_int8.tflite"
MESSAGE_LIMIT = 600


def _refusal(data: bytes, name: str = "m") -> str:
    with pytest.raises(ModelError) as err:
        load_model_bytes(data, name)
    message = err.value.message
    assert len(message) < MESSAGE_LIMIT and (err.value.hint or "") and len(err.value.hint) < MESSAGE_LIMIT
    return message


def test_operator_input_out_of_range_names_the_operator_and_the_byte():
    data = HELLO.read_bytes()
    at = edit.op_input_position(data, 1, 0)
    message = _refusal(edit.put(data, at, "i", 77))
    assert "Operator 1 (FULLY_CONNECTED, subgraph 0)" in message
    assert "tensor index 77, out of range (the subgraph has 10 tensors)" in message
    assert f"byte offset 0x{at:x}" in message


def test_bad_buffer_index_names_the_tensor():
    message = _refusal(edit.set_buffer(HELLO.read_bytes(), 1, 99))
    assert "Tensor 1 'sequential/dense_2/BiasAdd/ReadVariableOp': buffer index 99 out of range" in message
    assert "(the model has 13 buffers)" in message


@pytest.mark.parametrize("cut", [9, 16, 100, 1000, 2000, 2703])
def test_truncated_file_names_what_is_cut(cut):
    message = _refusal(HELLO.read_bytes()[:cut])
    assert "while reading it" not in message
    assert "byte offset 0x" in message or "the file is only" in message, message


def test_zero_size_tensor_is_refused_with_its_name(person_detect):
    """Before, a zero dimension reached the planner and ended in an IndexError (ops/access.py)."""
    g = load_model(person_detect)
    conv = next(op for op in g.operators if op.opcode == "CONV_2D")
    out = conv.outputs[0]
    message = _refusal(edit.set_dim(person_detect.read_bytes(), out, 1, 0))
    name = g.tensors[out].name
    assert f"Tensor {out} '{name}' (output 0 of operator {conv.index} (CONV_2D)) has no elements" in message


def test_negative_dimension_is_refused():
    message = _refusal(edit.set_dim(HELLO.read_bytes(), 7, 1, -5))
    assert "Tensor 7 " in message and "negative dimension" in message and "[1, -5]" in message


def test_absurd_rank_is_refused():
    data = HELLO.read_bytes()
    # a tensor whose shape vector is followed by enough bytes to be read as 12 dimensions
    index = next(i for i in range(10) if edit.vector(data, edit.tensor(data, i), edit.TENSOR_SHAPE)[0] + 48 < len(data))
    first, _ = edit.vector(data, edit.tensor(data, index), edit.TENSOR_SHAPE)
    message = _refusal(edit.put(data, first - 4, "I", 12))
    assert f"Tensor {index} " in message and "has 12 dimensions; TFLite tensors have at most 8" in message


def test_element_count_overflow_is_refused():
    data = edit.set_dim(edit.set_dim(HELLO.read_bytes(), 7, 0, 65536), 7, 1, 65536)
    message = _refusal(data)
    assert "Tensor 7 " in message and "4,294,967,296 elements" in message and "32-bit" in message


def test_long_and_hostile_names_are_escaped_and_shortened_in_messages():
    old = b"sequential/dense_1/MatMul;sequential/dense_1/Relu;sequential/dense_1/BiasAdd"
    hostile = b"[/x][bold]\x1b[2J\x1b]0;owned\x07\r\n" + b"z" * 80
    data = edit.set_dim(edit.rename(HELLO.read_bytes(), old, hostile), 8, 1, 0)
    message = _refusal(data)
    assert "Tensor 8 '[/x][bold]\\x1b[2J\\x1b]0;owned\\x07\\x0d" in message
    assert "…zzz" in message and "zzz' (output 0" in message
    assert not any(ord(c) < 32 for c in message)


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "pipe.tflite"
    os.mkfifo(fifo)
    result: dict = {}

    def load():
        try:
            load_model(fifo)
        except ModelError as exc:
            result["message"] = exc.message

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # blocked in open(): unblock it by opening the other end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("loading a FIFO blocked")
    assert "is a named pipe (FIFO), not a .tflite file" in result["message"]

    with pytest.raises(ModelError, match="is a directory, not a .tflite file"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="is a character device, not a .tflite file"):
        load_model("/dev/zero")
    sock_path = tmp_path / "s.tflite"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(sock_path))
        with pytest.raises(ModelError, match="is a socket, not a .tflite file"):
            load_model(sock_path)
    finally:
        sock.close()
    link = tmp_path / "link.tflite"
    link.symlink_to(HELLO)
    assert load_model(link).name == "link"


def test_file_size_is_capped(tmp_path):
    big = tmp_path / "big.tflite"
    with open(big, "wb") as f:
        f.truncate((64 << 20) + 1)  # sparse: no disk, no memory
    with pytest.raises(ModelError, match=r"is 67,108,865 bytes; mcugen reads models up to 64 MiB"):
        load_model(big)


def test_options_match_the_generated_accessors():
    """The options reader takes its field layout from the flatc-generated classes: same values."""
    import tflite

    from mcugen.model.options import OPTION_TYPE_NAMES, option_fields

    checked = 0
    for path in REAL_MODELS:
        data = path.read_bytes()
        sg = tflite.Model.GetRootAs(data, 0).Subgraphs(0)
        for i, op in enumerate(parse_model(data, "m").operators):
            raw = sg.Operators(i)
            if not raw.BuiltinOptionsType():
                continue
            type_name = OPTION_TYPE_NAMES[raw.BuiltinOptionsType()]
            opts = getattr(tflite, type_name)()
            opts.Init(raw.BuiltinOptions().Bytes, raw.BuiltinOptions().Pos)
            fields = option_fields(type_name)
            assert fields and set(op.options) == {f.name for f in fields}
            for f in fields:
                if f.vector:
                    expected = tuple(getattr(opts, f.accessor + "AsNumpy")().tolist()) \
                        if getattr(opts, f.accessor + "Length")() else ()
                else:
                    expected = getattr(opts, f.accessor)()
                value = op.options[f.name]
                if isinstance(value, str):  # an enum decoded to its name
                    value = {"SAME": 0, "VALID": 1, "NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3,
                             "TANH": 4}[value]
                assert value == expected, (path.stem, i, f.name)
                checked += 1
    assert checked > 100


@needs_tf
def test_int8_lstm_loads_with_its_empty_intermediates_and_is_known():
    """Its five intermediates have shape [0] by design: not a degenerate tensor, not a dynamic shape;
    mcugen's registry knows the op (its shapes and MACs: 4 gates x 2 projections per step)."""
    from tfmodels import cached_tflite, int8_lstm

    from mcugen.ops import op_macs, require_known

    g = load_model(cached_tflite("int8_lstm", int8_lstm))
    lstm = g.operators[0]
    assert lstm.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM" and len(lstm.intermediates) == 5
    assert all(g.tensors[i].shape == (0,) for i in lstm.intermediates)
    require_known(g)
    assert op_macs(g, lstm) == 8 * 4 * 8 * (4 + 8)
