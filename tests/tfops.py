"""Single-operator Keras models for the kernel tests (quantized and cached by tfmodels).

Each builder returns a small Keras model whose int8 TFLite conversion holds the
operator under test (plus, at most, the QUANTIZE/DEQUANTIZE edges a float input
or output adds). `CASES` lists (id, builder, kwargs, expected opcode) for the
parametrised tests; kwargs starting with q_ go to the quantizer.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _randomize_biases(model: Any, seed: int = 1) -> Any:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights and any(w.ndim == 1 for w in weights):
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) if w.ndim == 1 else w for w in weights])
    return model


def conv2d(input_shape=(12, 12, 3), filters=8, kernel=3, strides=1, padding="same", dilation=1,
           activation=None, use_bias=True, groups=1):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                 activation=activation, use_bias=use_bias, groups=groups)(inp)
    return _randomize_biases(tf.keras.Model(inp, x))


def depthwise(input_shape=(12, 12, 4), kernel=3, strides=1, padding="same", dilation=1, depth_multiplier=1,
              activation=None):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.DepthwiseConv2D(kernel, strides=strides, padding=padding, dilation_rate=dilation,
                          depth_multiplier=depth_multiplier, activation=activation)(inp)
    return _randomize_biases(tf.keras.Model(inp, x))


def dense(input_shape=(20,), units=10, activation=None, use_bias=True):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Dense(units, activation=activation, use_bias=use_bias)(inp)
    return _randomize_biases(tf.keras.Model(inp, x))


def pool(kind="avg", input_shape=(11, 11, 5), pool_size=3, strides=2, padding="valid"):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    layer = L.AveragePooling2D if kind == "avg" else L.MaxPooling2D
    x = layer(pool_size, strides=strides, padding=padding)(inp)
    return tf.keras.Model(inp, x)


def binary(kind="add", shape_a=(6, 6, 8), shape_b=(6, 6, 8), activation=None):
    """Two model inputs combined by ADD or MUL (numpy broadcasting allowed)."""
    import tensorflow as tf

    L = tf.keras.layers
    a = tf.keras.Input(shape=shape_a, batch_size=1)
    b = tf.keras.Input(shape=shape_b, batch_size=1)
    if kind == "add":
        x = L.Lambda(lambda t: t[0] + t[1])([a, b])
    else:
        x = L.Lambda(lambda t: t[0] * t[1])([a, b])
    if activation == "relu":
        x = L.ReLU()(x)
    elif activation == "relu6":
        x = L.ReLU(6.0)(x)
    return tf.keras.Model([a, b], x)


def se_block(input_shape=(8, 8, 16)):
    """Squeeze-and-excite: MEAN, two 1x1 convs (RELU, LOGISTIC), broadcasting MUL."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    s = L.GlobalAveragePooling2D(keepdims=True)(inp)
    s = L.Conv2D(4, 1, activation="relu")(s)
    s = L.Conv2D(input_shape[-1], 1, activation="sigmoid")(s)
    x = L.Multiply()([inp, s])
    return _randomize_biases(tf.keras.Model(inp, x))


def mean(input_shape=(7, 9, 6), keepdims=True):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.GlobalAveragePooling2D(keepdims=keepdims)(inp)
    return tf.keras.Model(inp, x)


def activation(kind="relu", input_shape=(5, 5, 7)):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    if kind == "relu":
        x = L.ReLU()(inp)
    elif kind == "relu6":
        x = L.ReLU(6.0)(inp)
    elif kind == "sigmoid":
        x = L.Activation("sigmoid")(inp)
    elif kind == "hard_swish":
        x = L.Activation(tf.keras.activations.hard_swish)(inp)
    elif kind == "softmax":
        x = L.Softmax()(inp)
    else:
        raise ValueError(kind)
    return tf.keras.Model(inp, x)


def pad(input_shape=(5, 6, 3), padding=((1, 2), (0, 3))):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.ZeroPadding2D(padding)(inp)
    return tf.keras.Model(inp, x)


def concat(shapes=((4, 4, 3), (4, 4, 5)), axis=-1):
    import tensorflow as tf

    L = tf.keras.layers
    ins = [tf.keras.Input(shape=s, batch_size=1) for s in shapes]
    x = L.Concatenate(axis=axis)(ins)
    return tf.keras.Model(ins, x)


def transpose(input_shape=(3, 5, 4), perm=(2, 1, 3)):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Permute(perm)(inp)
    return tf.keras.Model(inp, x)


def reshape_dense(input_shape=(4, 4, 3), units=6):
    """Flatten (RESHAPE) into a Dense layer, then a softmax."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Reshape((int(np.prod(input_shape)),))(inp)
    x = L.Dense(units)(x)
    x = L.Softmax()(x)
    return _randomize_biases(tf.keras.Model(inp, x))


def conv_chain(input_shape=(10, 10, 3)):
    """A small conv net for the float/uint8 input and float output variants."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu6")(inp)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = L.Conv2D(4, 1)(x)
    return _randomize_biases(tf.keras.Model(inp, x))


Case = tuple[str, Callable[..., Any], dict[str, Any], str]

CASES: list[Case] = [
    # CONV_2D
    ("conv_s1_same", conv2d, {}, "CONV_2D"),
    ("conv_s2_same", conv2d, {"strides": 2}, "CONV_2D"),
    ("conv_s2_valid", conv2d, {"strides": 2, "padding": "valid", "kernel": 5}, "CONV_2D"),
    ("conv_s1_valid_relu", conv2d, {"padding": "valid", "activation": "relu"}, "CONV_2D"),
    ("conv_relu6", conv2d, {"activation": "relu6"}, "CONV_2D"),
    ("conv_dilation2", conv2d, {"dilation": 2}, "CONV_2D"),
    ("conv_1x1_nobias", conv2d, {"kernel": 1, "use_bias": False, "filters": 16}, "CONV_2D"),
    ("conv_per_tensor", conv2d, {"q_per_channel": False, "activation": "relu"}, "CONV_2D"),
    ("conv_even_kernel_s2", conv2d, {"kernel": 4, "strides": 2, "input_shape": (13, 11, 2)}, "CONV_2D"),
    # DEPTHWISE_CONV_2D
    ("dw_s1_same", depthwise, {}, "DEPTHWISE_CONV_2D"),
    ("dw_s2_same_relu6", depthwise, {"strides": 2, "activation": "relu6"}, "DEPTHWISE_CONV_2D"),
    ("dw_s2_valid", depthwise, {"strides": 2, "padding": "valid", "kernel": 5}, "DEPTHWISE_CONV_2D"),
    ("dw_mult3", depthwise, {"depth_multiplier": 3, "activation": "relu"}, "DEPTHWISE_CONV_2D"),
    ("dw_dilation2", depthwise, {"dilation": 2}, "DEPTHWISE_CONV_2D"),
    ("dw_per_tensor", depthwise, {"q_per_channel": False, "depth_multiplier": 2}, "DEPTHWISE_CONV_2D"),
    # FULLY_CONNECTED
    ("fc", dense, {}, "FULLY_CONNECTED"),
    ("fc_relu", dense, {"activation": "relu", "units": 33}, "FULLY_CONNECTED"),
    ("fc_per_tensor", dense, {"q_per_channel": False, "units": 7}, "FULLY_CONNECTED"),
    ("fc_3d_input", dense, {"input_shape": (3, 8), "units": 5}, "FULLY_CONNECTED"),
    ("reshape_fc_softmax", reshape_dense, {}, "FULLY_CONNECTED"),
    # pooling
    ("avgpool_valid", pool, {"kind": "avg"}, "AVERAGE_POOL_2D"),
    ("avgpool_same", pool, {"kind": "avg", "padding": "same"}, "AVERAGE_POOL_2D"),
    ("maxpool_valid", pool, {"kind": "max", "pool_size": 2}, "MAX_POOL_2D"),
    ("maxpool_same", pool, {"kind": "max", "padding": "same", "strides": 1}, "MAX_POOL_2D"),
    # ADD / MUL
    ("add", binary, {"kind": "add"}, "ADD"),
    ("add_relu", binary, {"kind": "add", "activation": "relu"}, "ADD"),
    ("add_broadcast", binary, {"kind": "add", "shape_b": (1, 1, 8)}, "ADD"),
    ("mul", binary, {"kind": "mul"}, "MUL"),
    ("mul_broadcast_se", binary, {"kind": "mul", "shape_b": (1, 1, 8)}, "MUL"),
    ("mul_broadcast_rows", binary, {"kind": "mul", "shape_a": (6, 1, 8), "shape_b": (1, 6, 1)}, "MUL"),
    ("se_block", se_block, {}, "MUL"),
    # MEAN
    ("mean_keepdims", mean, {"keepdims": True}, "MEAN"),
    ("mean_no_keepdims", mean, {"keepdims": False}, "MEAN"),
    # activations
    ("relu", activation, {"kind": "relu"}, "RELU"),
    ("relu6", activation, {"kind": "relu6"}, "RELU6"),
    ("logistic", activation, {"kind": "sigmoid", "q_rep_range": (-6.0, 6.0)}, "LOGISTIC"),
    ("hard_swish", activation, {"kind": "hard_swish", "q_rep_range": (-5.0, 5.0)}, "HARD_SWISH"),
    ("softmax", activation, {"kind": "softmax", "q_rep_range": (-4.0, 4.0)}, "SOFTMAX"),
    # data movement
    ("pad", pad, {}, "PAD"),
    ("concat_channels", concat, {}, "CONCATENATION"),
    ("concat_rows", concat, {"shapes": ((2, 4, 3), (5, 4, 3)), "axis": 1}, "CONCATENATION"),
    ("transpose", transpose, {}, "TRANSPOSE"),
    # input and output types
    ("uint8_input", conv_chain, {"q_input_type": "uint8"}, "QUANTIZE"),
    ("float_input", conv_chain, {"q_input_type": "float32"}, "QUANTIZE"),
    ("float_output", conv_chain, {"q_output_type": "float32"}, "DEQUANTIZE"),
    ("float_in_out", conv_chain, {"q_input_type": "float32", "q_output_type": "float32"}, "DEQUANTIZE"),
]


def mobilenet_v2_flat(input_shape=(224, 224, 3), alpha=1.0, classes=1000):
    """Keras MobileNetV2 built on a batch-1 input directly (not nested in another Model),
    so that tfmodels._randomize sees every BatchNormalization layer (nested, its
    moving variances get random signs and the converter falls back to float)."""
    import tensorflow as tf

    from tfmodels import _randomize

    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    model = tf.keras.applications.MobileNetV2(input_tensor=inp, alpha=alpha, weights=None, classes=classes)
    return _randomize(model)


def conv_reshape_out(input_shape=(6, 6, 2)):
    """The graph output is a RESHAPE of a conv: an alias whose output the application may move."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(3, 3, padding="same")(inp)
    x = L.Reshape((input_shape[0] * input_shape[1] * 3,))(x)
    return _randomize_biases(tf.keras.Model(inp, x))


def unsupported_mix(input_shape=(6, 6, 4)):
    """SUB and LEAKY_RELU around a conv; quantized 16x8 (q_int16_activations) cubeai runs
    neither of them (its 16x8 ops: mcugen/lower/int16.py)."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Subtract()([inp, L.Conv2D(input_shape[-1], 1)(inp)])
    x = L.Conv2D(4, 1)(x)
    x = L.LeakyReLU(0.1)(x)
    return tf.keras.Model(inp, x)


def svdf_model(batches=1, input_size=16, units=8, rank=1, memory=5, state_dtype="int8", seed=0) -> bytes:
    """A single int8 SVDF operator as a .tflite (Keras has no SVDF layer), written with
    TensorFlow's schema object API: random int8 feature weights, int8 or int16 time
    weights and state, int32 bias, quantization chosen so that activations spread."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as s

    rng = np.random.default_rng(seed)
    filters = units * rank
    st_np = np.int8 if state_dtype == "int8" else np.int16
    st_type = s.TensorType.INT8 if state_dtype == "int8" else s.TensorType.INT16
    in_scale, in_zp = 0.05, 3
    wf_scale = 0.02
    st_scale, st_zp = (0.08, -5) if state_dtype == "int8" else (0.0004, 0)
    wt_scale = 0.01 if state_dtype == "int8" else 0.0001
    out_scale, out_zp = 0.04, -10
    data = {
        "wf": rng.integers(-127, 128, size=(filters, input_size)).astype(np.int8),
        "wt": rng.integers(-127, 128, size=(filters, memory)).astype(st_np)
        if state_dtype == "int8" else rng.integers(-20000, 20000, size=(filters, memory)).astype(np.int16),
        "bias": rng.integers(-3000, 3000, size=(units,)).astype(np.int32),
    }

    model = s.ModelT()
    model.version = 3
    code = s.OperatorCodeT()
    code.builtinCode = s.BuiltinOperator.SVDF
    code.deprecatedBuiltinCode = s.BuiltinOperator.SVDF
    code.version = 3
    model.operatorCodes = [code]
    buffers = [s.BufferT()]  # buffer 0: the empty sentinel

    def buffer(arr: np.ndarray | None) -> int:
        b = s.BufferT()
        if arr is not None:
            b.data = np.frombuffer(np.ascontiguousarray(arr).tobytes(), dtype=np.uint8)
        buffers.append(b)
        return len(buffers) - 1

    def tensor(name, shape, ttype, scale, zp, arr=None, variable=False):
        t = s.TensorT()
        t.name = name
        t.shape = np.array(shape, dtype=np.int32)
        t.type = ttype
        t.buffer = buffer(arr)
        q = s.QuantizationParametersT()
        q.scale = np.array([scale], dtype=np.float32)
        q.zeroPoint = np.array([zp], dtype=np.int64)
        t.quantization = q
        t.isVariable = variable
        return t

    tensors = [
        tensor("input", [batches, input_size], s.TensorType.INT8, in_scale, in_zp),
        tensor("weights_feature", [filters, input_size], s.TensorType.INT8, wf_scale, 0, data["wf"]),
        tensor("weights_time", [filters, memory], st_type, wt_scale, 0, data["wt"]),
        tensor("bias", [units], s.TensorType.INT32, float(np.float32(st_scale) * np.float32(wt_scale)), 0,
               data["bias"]),
        tensor("state", [batches, filters * memory], st_type, st_scale, st_zp, None, True),
        tensor("output", [batches, units], s.TensorType.INT8, out_scale, out_zp),
    ]
    op = s.OperatorT()
    op.opcodeIndex = 0
    op.inputs = np.array([0, 1, 2, 3, 4], dtype=np.int32)
    op.outputs = np.array([5], dtype=np.int32)
    op.builtinOptionsType = s.BuiltinOptions.SVDFOptions
    opts = s.SVDFOptionsT()
    opts.rank = rank
    opts.fusedActivationFunction = s.ActivationFunctionType.RELU
    op.builtinOptions = opts
    sg = s.SubGraphT()
    sg.tensors = tensors
    sg.inputs = np.array([0], dtype=np.int32)
    sg.outputs = np.array([5], dtype=np.int32)
    sg.operators = [op]
    sg.name = "main"
    model.subgraphs = [sg]
    model.buffers = buffers
    model.description = f"mcugen test: SVDF rank {rank}, {state_dtype} state"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())

