"""The registry's shape rules and MAC counts, checked against models built with TensorFlow."""

from __future__ import annotations

import pytest

from conftest import REAL_MODELS
from mcugen.errors import ModelError, UnsupportedOpsError
from mcugen.model.load import load_model
from mcugen.ops import REGISTRY, check_shapes, op_macs, require_known, total_macs
from mcugen.lower.portable import LOWERINGS
from mcugen.support import require_supported, unsupported_ops
from mcugen.tflm.ops import resolver_method

tf = pytest.importorskip("tensorflow")
L = tf.keras.layers

from tfmodels import cached_model  # noqa: E402


def _single(name, make_layer, in_shapes, **q):
    """A one-layer model; make_layer(inputs) -> output; cached by name and source."""

    def builder(shapes=tuple(map(tuple, in_shapes))):
        ins = [tf.keras.Input(shape=s, batch_size=1) for s in shapes]
        out = make_layer(ins if len(ins) > 1 else ins[0])
        return tf.keras.Model(ins, out)

    import inspect

    try:
        src = inspect.getsource(make_layer)
    except (OSError, TypeError):
        src = name
    return load_model(cached_model(f"op-{name}", builder, _src=src, **q))


# name, layer, input shapes, expected opcode, expected MACs (computed from the layer's definition)
CASES = [
    ("conv_same_s1", lambda x: L.Conv2D(8, 3, padding="same")(x), [(10, 12, 3)], "CONV_2D", 10 * 12 * 8 * 3 * 3 * 3),
    ("conv_valid_s2", lambda x: L.Conv2D(6, 3, strides=2, padding="valid")(x), [(11, 9, 4)], "CONV_2D",
     5 * 4 * 6 * 3 * 3 * 4),
    ("conv_same_s2", lambda x: L.Conv2D(4, 5, strides=2, padding="same")(x), [(9, 9, 2)], "CONV_2D",
     5 * 5 * 4 * 5 * 5 * 2),
    ("conv_dilated", lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="valid")(x), [(12, 12, 3)], "CONV_2D",
     8 * 8 * 4 * 3 * 3 * 3),
    ("conv_1x1", lambda x: L.Conv2D(16, 1)(x), [(7, 7, 8)], "CONV_2D", 7 * 7 * 16 * 8),
    ("dw_s1", lambda x: L.DepthwiseConv2D(3, padding="same")(x), [(8, 8, 6)], "DEPTHWISE_CONV_2D", 8 * 8 * 6 * 9),
    ("dw_s2_mult2", lambda x: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="valid")(x),
     [(9, 9, 4)], "DEPTHWISE_CONV_2D", 4 * 4 * 8 * 9),
    ("fc", lambda x: L.Dense(10)(x), [(24,)], "FULLY_CONNECTED", 24 * 10),
    ("avgpool", lambda x: L.AveragePooling2D(2)(x), [(8, 8, 4)], "AVERAGE_POOL_2D", 4 * 4 * 4 * 4),
    ("maxpool_same", lambda x: L.MaxPooling2D(3, strides=2, padding="same")(x), [(7, 7, 4)], "MAX_POOL_2D",
     4 * 4 * 4 * 9),
    ("add", lambda xs: L.Add()(xs), [(4, 4, 8), (4, 4, 8)], "ADD", 4 * 4 * 8),
    ("mul_broadcast", lambda xs: L.Multiply()(xs), [(4, 4, 8), (1, 1, 8)], "MUL", 4 * 4 * 8),
    ("mean", lambda x: L.GlobalAveragePooling2D(keepdims=True)(x), [(5, 5, 8)], "MEAN", 5 * 5 * 8),
    ("softmax", lambda x: L.Softmax()(x), [(10,)], "SOFTMAX", 10),
    ("logistic", lambda x: L.Activation("sigmoid")(x), [(4, 4, 3)], "LOGISTIC", 0),
    ("hard_swish", lambda x: L.Activation(tf.keras.activations.hard_swish)(x), [(4, 4, 3)], "HARD_SWISH", 0),
    ("relu", lambda x: L.ReLU()(x), [(4, 4, 3)], "RELU", 0),
    ("relu6", lambda x: L.ReLU(6.0)(x), [(4, 4, 3)], "RELU6", 0),
    ("reshape", lambda x: L.Reshape((12, 4))(x), [(4, 4, 3)], "RESHAPE", 0),
    ("pad", lambda x: L.ZeroPadding2D(((1, 2), (0, 1)))(x), [(4, 4, 3)], "PAD", 0),
    ("concat", lambda xs: L.Concatenate(axis=-1)(xs), [(4, 4, 3), (4, 4, 5)], "CONCATENATION", 0),
    ("transpose", lambda x: L.Permute((2, 1, 3))(x), [(4, 6, 3)], "TRANSPOSE", 0),
    ("sub_broadcast", lambda xs: L.Subtract()(xs), [(3, 1, 5), (1, 4, 5)], "SUB", 3 * 4 * 5),
    ("maximum_broadcast", lambda xs: L.Maximum()(xs), [(4, 1), (1, 6)], "MAXIMUM", 4 * 6),
    ("prelu", lambda x: L.PReLU(shared_axes=[1])(x), [(3, 4, 5)], "PRELU", 3 * 4 * 5),
    ("sum_neg_axis_keepdims", lambda x: L.Lambda(lambda t: tf.reduce_sum(t, axis=[-1, 1], keepdims=True))(x), [(3, 4, 5)], "SUM",
     3 * 4 * 5),
    ("reduce_max_neg_axis", lambda x: L.Lambda(lambda t: tf.reduce_max(t, axis=-2))(x), [(3, 4, 5)], "REDUCE_MAX", 3 * 4 * 5),
    ("arg_max_neg_axis", lambda x: L.Lambda(lambda t: tf.math.argmax(t, axis=-2, output_type=tf.int32))(x), [(3, 4, 5)], "ARG_MAX",
     3 * 4 * 5),
    ("tanh", lambda x: L.Activation("tanh")(x), [(4, 4, 3)], "TANH", 0),
]


@pytest.mark.parametrize("name, layer, shapes, opcode, macs", CASES, ids=[c[0] for c in CASES])
def test_single_op_shapes_and_macs(name, layer, shapes, opcode, macs):
    g = _single(name, layer, shapes)
    ops = [op for op in g.operators if op.opcode == opcode]
    assert len(ops) == 1, [op.opcode for op in g.operators]
    check_shapes(g)  # the inferred shapes equal what TensorFlow wrote
    assert op_macs(g, ops[0]) == macs
    assert not unsupported_ops(g, "cubeai") and not unsupported_ops(g, "tflm")


def test_squeeze_shape():
    g = _single("squeeze", lambda x: tf.keras.ops.squeeze(x, axis=1), [(1, 6, 3)])
    (op,) = [op for op in g.operators if op.opcode in ("SQUEEZE", "RESHAPE")]
    check_shapes(g)
    assert g.tensors[op.outputs[0]].shape == (1, 6, 3)


def test_float_io_has_quantize_and_dequantize():
    g = _single("float_io", lambda x: L.Conv2D(4, 3)(x), [(6, 6, 2)], q_input_type="float32", q_output_type="float32")
    assert g.operators[0].opcode == "QUANTIZE" and g.operators[-1].opcode == "DEQUANTIZE"
    assert g.input_tensors[0].dtype == "float32" and g.output_tensors[0].dtype == "float32"
    assert not unsupported_ops(g, "cubeai")


def test_uint8_input_goes_through_quantize():
    g = _single("uint8_in", lambda x: L.Conv2D(4, 3)(x), [(6, 6, 2)], q_input_type="uint8")
    assert g.input_tensors[0].dtype == "uint8" and g.operators[0].opcode == "QUANTIZE"
    assert not unsupported_ops(g, "cubeai")


def test_person_detect_macs(person_detect):
    assert total_macs(load_model(person_detect)) == 7_160_194  # 7.16 M, as the model card says


@pytest.mark.parametrize("path", REAL_MODELS, ids=lambda p: p.stem)
def test_real_models_shapes_consistent(path):
    g = load_model(path)
    require_known(g)
    check_shapes(g)


def _leaky16_model():
    """Two LEAKY_RELU with int16 activations (16x8): the tflm style runs them, cubeai (16x8 for
    conv, dense, ADD, MUL, SOFTMAX, LOGISTIC, TANH, pools and MEAN only) not."""
    def twice_leaky(x):
        return L.LeakyReLU(0.2)(L.LeakyReLU(0.2)(x))

    return _single("leaky_twice_16x8", twice_leaky, [(8, 8, 3)], q_int16_activations=True, q_input_type="int16",
                   q_output_type="int16")


def test_unsupported_lists_every_op_with_its_index():
    g = _leaky16_model()
    leaky = [op.index for op in g.operators if op.opcode == "LEAKY_RELU"]
    assert len(leaky) == 2
    bad = unsupported_ops(g, "cubeai")
    assert [u.index for u in bad] == leaky
    with pytest.raises(UnsupportedOpsError) as err:
        require_supported(g, "cubeai")
    assert f"LEAKY_RELU at indices {leaky[0]}, {leaky[1]} (" in err.value.message
    assert "--style tflm" in err.value.hint
    require_supported(g, "tflm")


def test_keyword_model_runs_in_both_styles(models_dir):
    g = load_model(models_dir / "keyword_scrambled_8bit.tflite")
    assert not unsupported_ops(g, "cubeai") and not unsupported_ops(g, "tflm")


def test_inconsistent_shape_is_reported(person_detect):
    import dataclasses

    g = load_model(person_detect)
    op = g.operators[2]
    out = g.tensors[op.outputs[0]]
    tensors = list(g.tensors)
    tensors[out.index] = dataclasses.replace(out, shape=(1, 5, 5, 5))
    with pytest.raises(ModelError, match="Operator 2 .* declares output shape"):
        check_shapes(dataclasses.replace(g, tensors=tuple(tensors)))


def test_unknown_and_custom_ops_are_listed(person_detect):
    import dataclasses

    g = load_model(person_detect)
    ops = list(g.operators)
    ops[3] = dataclasses.replace(ops[3], opcode="CUSTOM", custom_code="MyOp")
    ops[5] = dataclasses.replace(ops[5], opcode="SCATTER_ND")  # a builtin TFLM does not register
    g2 = dataclasses.replace(g, operators=tuple(ops))
    with pytest.raises(UnsupportedOpsError) as err:
        require_known(g2)
    assert "not supported by either style (cubeai or tflm)" in err.value.message
    assert "CUSTOM:MyOp at index 3 (custom operator that TFLM does not register)" in err.value.message
    assert "SCATTER_ND at index 5 (neither in mcugen's operator registry nor registered by TFLM)" in err.value.message


def test_ops_tflm_registers_get_a_generic_entry_and_run_in_tflm_only(person_detect):
    """issue 16: an op TFLM runs but mcugen has no precise model of is known (generic entry:
    the model's shapes, MACs unknown, memory separate): the tflm style runs it, cubeai says why not."""
    import dataclasses

    from mcugen.ops import SEPARATE, op_macs, spec_for, total_macs, unknown_macs_ops
    from mcugen.ops.generic import GENERIC_NOTE

    g = load_model(person_detect)
    ops = list(g.operators)
    ops[5] = dataclasses.replace(ops[5], opcode="CUMSUM")  # an op only TFLM runs (BATCH_MATMUL was, before cubeai ran it)
    ops[6] = dataclasses.replace(ops[6], opcode="CUSTOM", custom_code="SignalWindow")
    g2 = dataclasses.replace(g, operators=tuple(ops))
    require_known(g2)
    check_shapes(g2)
    for i in (5, 6):
        spec = spec_for(g2.operators[i])
        assert spec is not None and spec.note == GENERIC_NOTE and spec.memory == SEPARATE
        assert op_macs(g2, g2.operators[i]) is None
        assert spec.infer(g2, g2.operators[i]) == [g2.tensors[o].shape for o in g2.operators[i].outputs]
    assert total_macs(g2) is None and unknown_macs_ops(g2) == [5, 6]
    assert total_macs(g) is not None and total_macs(g) > 0
    assert not unsupported_ops(g2, "tflm")
    bad = {u.index: u for u in unsupported_ops(g2, "cubeai")}
    assert set(bad) == {5, 6} and bad[6].opcode == "CUSTOM:SignalWindow"
    with pytest.raises(UnsupportedOpsError) as err:
        require_supported(g2, "cubeai")
    assert "--style tflm" in err.value.hint


def test_registry_covers_the_required_ops():
    required = """CONV_2D DEPTHWISE_CONV_2D FULLY_CONNECTED AVERAGE_POOL_2D MAX_POOL_2D ADD MUL MEAN SOFTMAX
    LOGISTIC HARD_SWISH RELU RELU6 RESHAPE SQUEEZE PAD CONCATENATION QUANTIZE DEQUANTIZE TRANSPOSE""".split()
    for name in required:  # known to the registry, lowered by cubeai, registered by TFLM
        assert name in REGISTRY and name in LOWERINGS and resolver_method(name), name
    for name in ("SHAPE", "STRIDED_SLICE", "PACK"):
        assert REGISTRY[name].folded
