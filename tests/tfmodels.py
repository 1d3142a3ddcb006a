"""Synthetic int8 models for the tests, built with TensorFlow and cached on disk.

Building and converting a Keras model takes seconds, so each model is built once
per cache key (its name, the builder's source and its arguments) into
$MCUGEN_TEST_CACHE (default: ~/.cache/mcugen-tests) and reused afterwards.
TensorFlow is imported only when a model has to be built.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

CACHE_VERSION = 3


def cache_dir() -> Path:
    root = Path(os.environ.get("MCUGEN_TEST_CACHE", Path.home() / ".cache" / "mcugen-tests"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _silence_tf() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def quantize(
    keras_model: Any,
    *,
    input_type: str = "int8",
    output_type: str = "int8",
    per_channel: bool = True,
    seed: int = 0,
    samples: int = 16,
    rep_range: tuple[float, float] = (-1.0, 1.0),
    int16_activations: bool = False,
    per_channel_dense: bool = True,
) -> bytes:
    """Full-integer quantization of a Keras model with a random representative dataset."""
    _silence_tf()
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    shapes = [tuple(int(d) if d is not None else 1 for d in t.shape) for t in keras_model.inputs]

    def representative():
        for _ in range(samples):
            yield [rng.uniform(*rep_range, size=s).astype(np.float32) for s in shapes]

    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    if int16_activations:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    types = {"int8": tf.int8, "uint8": tf.uint8, "float32": tf.float32, "int16": tf.int16}
    converter.inference_input_type = types[input_type]
    converter.inference_output_type = types[output_type]
    if not per_channel:
        converter._experimental_disable_per_channel = True
    if not per_channel_dense:  # TFLM's CMSIS-NN FULLY_CONNECTED refuses per-channel int16 weights
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return converter.convert()


def cached_model(name: str, builder: Callable[..., Any], **kwargs: Any) -> Path:
    """Path of the .tflite for builder(**kwargs) quantized with `quantize` options in kwargs.

    Keys starting with q_ go to `quantize` (q_input_type, q_output_type, ...), keys
    starting with _ only enter the cache key (e.g. the source of a layer lambda); the
    rest go to the builder, which returns a Keras model.
    """
    qargs = {k[2:]: v for k, v in kwargs.items() if k.startswith("q_")}
    bargs = {k: v for k, v in kwargs.items() if not k.startswith(("q_", "_"))}
    extra = {k: v for k, v in kwargs.items() if k.startswith("_")}  # cache key only
    key_src = json.dumps(
        {"v": CACHE_VERSION, "name": name, "src": inspect.getsource(builder), "b": bargs, "q": qargs, "x": extra},
        sort_keys=True,
        default=str,
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{key}.tflite"
    if path.is_file():
        return path
    _silence_tf()
    import tensorflow as tf

    tf.keras.utils.set_random_seed(qargs.get("seed", 0))
    model = builder(**bargs)
    data = quantize(model, **qargs)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------
# Model builders. Each returns an (untrained, randomly initialised) Keras model; biases
# and batch-norm statistics are randomised so that quantization ranges are non-trivial.


def _randomize(model: Any, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        new = []
        for w in weights:
            if w.ndim == 1:
                name = layer.__class__.__name__
                if name == "BatchNormalization":
                    new.append(w)  # randomised below as a whole
                else:
                    new.append(rng.normal(0, 0.2, size=w.shape).astype(np.float32))
            else:
                new.append(w)
        if layer.__class__.__name__ == "BatchNormalization" and len(weights) == 4:
            c = weights[0].shape
            new = [
                rng.uniform(0.5, 1.5, c).astype(np.float32),
                rng.normal(0, 0.2, c).astype(np.float32),
                rng.normal(0, 0.2, c).astype(np.float32),
                rng.uniform(0.5, 1.5, c).astype(np.float32),
            ]
        layer.set_weights(new)
    return model


def mobilenet_v1(input_shape=(96, 96, 1), alpha=0.25, classes=2, dropout=False):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)

    def block(x, filters, stride):
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU(6.0)(x)
        x = L.Conv2D(int(filters * alpha), 1, use_bias=False)(x)
        x = L.BatchNormalization()(x)
        return L.ReLU(6.0)(x)

    x = L.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)
    for filters, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]:
        x = block(x, filters, stride)
    x = L.GlobalAveragePooling2D(keepdims=True)(x)
    x = L.Conv2D(classes, 1)(x)
    x = L.Reshape((classes,))(x)
    x = L.Softmax()(x)
    return _randomize(tf.keras.Model(inp, x))


def mobilenet_v2(input_shape=(224, 224, 3), alpha=1.0, classes=1000):
    import tensorflow as tf

    model = tf.keras.applications.MobileNetV2(
        input_shape=input_shape, alpha=alpha, weights=None, classes=classes
    )
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    return _randomize(tf.keras.Model(inp, model(inp)))


def mnasnet_like(input_shape=(64, 64, 3), classes=10):
    """Inverted residuals with squeeze-and-excitation (MEAN, LOGISTIC, MUL), residual ADD."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)

    def se(x, ch):
        s = L.GlobalAveragePooling2D(keepdims=True)(x)
        s = L.Conv2D(max(4, ch // 4), 1, activation="relu")(s)
        s = L.Conv2D(ch, 1, activation="sigmoid")(s)
        return L.Multiply()([x, s])

    def mbconv(x, out_ch, expand, stride, kernel=3, use_se=True):
        in_ch = x.shape[-1]
        y = L.Conv2D(in_ch * expand, 1, use_bias=False)(x)
        y = L.BatchNormalization()(y)
        y = L.ReLU()(y)
        y = L.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False)(y)
        y = L.BatchNormalization()(y)
        y = L.ReLU()(y)
        if use_se:
            y = se(y, in_ch * expand)
        y = L.Conv2D(out_ch, 1, use_bias=False)(y)
        y = L.BatchNormalization()(y)
        if stride == 1 and in_ch == out_ch:
            y = L.Add()([x, y])
        return y

    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    x = mbconv(x, 16, 3, 1)
    x = mbconv(x, 24, 3, 2, kernel=5)
    x = mbconv(x, 24, 3, 1)
    x = mbconv(x, 40, 6, 2, kernel=5)
    x = mbconv(x, 40, 6, 1)
    x = L.Conv2D(128, 1, activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(classes)(x)
    x = L.Softmax()(x)
    return _randomize(tf.keras.Model(inp, x))


def mobilenet_v3_block(input_shape=(32, 32, 16)):
    """A MobileNet V3 bottleneck: HARD_SWISH activations, SE with hard-sigmoid, residual."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    hs = tf.keras.activations.hard_swish if hasattr(tf.keras.activations, "hard_swish") else None

    def hard_swish(x):
        return L.Activation(hs)(x) if hs else L.Multiply()([x, L.ReLU(6.0)(x + 3.0) / 6.0])

    y = L.Conv2D(64, 1, use_bias=False)(inp)
    y = L.BatchNormalization()(y)
    y = hard_swish(y)
    y = L.DepthwiseConv2D(5, padding="same", use_bias=False)(y)
    y = L.BatchNormalization()(y)
    y = hard_swish(y)
    y = L.Conv2D(16, 1, use_bias=False)(y)
    y = L.BatchNormalization()(y)
    y = L.Add()([inp, y])
    y = L.Conv2D(32, 3, strides=2, padding="valid")(y)
    y = hard_swish(y)
    return _randomize(tf.keras.Model(inp, y))


def ssdlite_head(input_shape=(64, 64, 3), anchors=3, classes=4):
    """Backbone features at two scales, box and class heads, CONCATENATION + RESHAPE + LOGISTIC."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu6")(inp)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    f1 = L.Conv2D(32, 1, activation="relu6")(x)
    f1 = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(f1)  # 16x16
    f2 = L.Conv2D(48, 1, activation="relu6")(f1)
    f2 = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(f2)  # 8x8

    boxes, scores = [], []
    for f in (f1, f2):
        h, w = f.shape[1], f.shape[2]
        d = L.DepthwiseConv2D(3, padding="same", activation="relu6")(f)
        b = L.Conv2D(anchors * 4, 1)(d)
        c = L.Conv2D(anchors * classes, 1)(d)
        boxes.append(L.Reshape((h * w * anchors, 4))(b))
        scores.append(L.Reshape((h * w * anchors, classes))(c))
    box = L.Concatenate(axis=1)(boxes)
    cls = L.Concatenate(axis=1)(scores)
    cls = L.Activation("sigmoid")(cls)
    return _randomize(tf.keras.Model(inp, [box, cls]))


def odd_stage(input_shape=(37, 41, 3)):
    """A first stage of awkward geometry for patch-based inference: odd sizes, VALID and
    SAME padding, a 5x5 stride-2 filter, dilation, max and average pooling, channel counts
    that are not multiples of 4; then a small head."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(12, 5, strides=2, padding="valid", activation="relu")(inp)
    x = L.DepthwiseConv2D(3, padding="same", dilation_rate=2)(x)
    x = L.MaxPooling2D(3, strides=2, padding="same")(x)
    x = L.Conv2D(10, 3, padding="same")(x)
    x = L.ReLU(6.0)(x)
    x = L.AveragePooling2D(2)(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
    x = L.Conv2D(6, 1)(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(4)(x)
    return _randomize(tf.keras.Model(inp, x))


def cached_tflite(name: str, make: Callable[..., bytes], **kwargs: Any) -> Path:
    """Path of the .tflite bytes make(**kwargs) returns, built once per cache key like `cached_model`."""
    key_src = json.dumps({"v": CACHE_VERSION, "name": name, "src": inspect.getsource(make), "k": kwargs},
                         sort_keys=True, default=str)
    path = cache_dir() / f"{name}-{hashlib.sha256(key_src.encode()).hexdigest()[:16]}.tflite"
    if path.is_file():
        return path
    _silence_tf()
    data = make(**kwargs)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def int8_lstm(timesteps=8, features=4, units=8, classes=3, seed=0, batch=1, time_major=False,
              softmax=False, int16_activations=False) -> bytes:
    """An int8 UNIDIRECTIONAL_SEQUENCE_LSTM (static batch and sequence length) and a dense head.

    Keras 3's LSTM exports as a WHILE loop; the converter fuses an LSTM only from a function
    that declares the Keras 2 `standard_lstm` interface (api_implements "lstm_*", the
    arguments inputs, init_h, init_c, kernel, recurrent_kernel, bias and five results), so
    the layer is written as such a function. Its quantized form has five intermediates of
    shape [0], empty by design. time_major: the input is [timesteps, batch, features];
    softmax: class probabilities instead of logits (a keyword-spotting head);
    int16_activations: the 16x8 form (int16 activations and cell, int8 weights)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    in_shape = [timesteps, batch, features] if time_major else [batch, timesteps, features]

    def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        h, c = init_h, init_c
        outs = []
        for t in range(timesteps):
            step = inputs[t] if time_major else inputs[:, t, :]
            z = tf.matmul(step, kernel) + tf.matmul(h, recurrent_kernel) + bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            outs.append(h)
        return h, tf.stack(outs, axis=0 if time_major else 1), h, c, tf.constant(1.0)

    lstm = tf.function(standard_lstm, autograph=False, experimental_attributes={
        "api_implements": f"lstm_mcugen_test_{seed}", "api_preferred_device": "CPU",
        "time_major": time_major, "go_backwards": False})

    class Classifier(tf.Module):
        def __init__(self):
            self.kernel = tf.Variable(rng.normal(0, 0.5, (features, 4 * units)).astype(np.float32))
            self.recurrent = tf.Variable(rng.normal(0, 0.5, (units, 4 * units)).astype(np.float32))
            self.bias = tf.Variable(rng.normal(0, 0.2, (4 * units,)).astype(np.float32))
            self.dense = tf.Variable(rng.normal(0, 0.5, (units, classes)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec(in_shape, tf.float32)])
        def __call__(self, x):
            zeros = tf.zeros([batch, units])
            # tensors, not variables: the converter needs the weights' static shapes
            last, *_ = lstm(x, zeros, zeros, tf.identity(self.kernel), tf.identity(self.recurrent),
                            tf.identity(self.bias))
            logits = tf.matmul(last, self.dense)
            return tf.nn.softmax(logits) if softmax else logits

    return _module_int8(Classifier(), in_shape, rng, int16_activations)


def _module_int8(module, in_shape, rng, int16_activations=False) -> bytes:
    """A tf.Module with a signature __call__ as a full-int8 .tflite, or 16x8 with
    int16_activations (16 uniform [-1, 1] inputs as the representative data)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as saved:
        tf.saved_model.save(module, saved, signatures=module.__call__.get_concrete_function())
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)

        def representative():
            for _ in range(16):
                yield [rng.uniform(-1, 1, size=in_shape).astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        if int16_activations:
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        else:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = tf.int16 if int16_activations else tf.int8
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
        return converter.convert()


def audio_cnn16(input_shape=(49, 40, 1), classes=12):
    """A small keyword-spotting CNN on a spectrogram (49 frames x 40 mel bins), meant for
    16x8 quantization (quantize(int16_activations=True)): a strided conv, two depthwise-
    separable blocks (one with a residual ADD), a flatten (RESHAPE), a dense layer and a
    softmax."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(16, (5, 3), strides=2, padding="same", activation="relu")(inp)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    y = L.Conv2D(16, 1)(y)
    x = L.ReLU()(L.Add()([x, y]))
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
    x = L.Conv2D(24, 1, activation="relu")(x)
    x = L.Flatten()(x)
    x = L.Dense(classes)(x)
    x = L.Softmax()(x)
    return _randomize(tf.keras.Model(inp, x))


def gru_from_ops(timesteps=8, features=10, units=16, classes=4, seed=0) -> bytes:
    """A GRU keyword classifier written with plain ops, unrolled over `timesteps` (the
    state starts at 0 on every invoke: no variable tensor): per step three gates of
    FULLY_CONNECTED, LOGISTIC/TANH, MUL, SUB (1 - z) and ADD, the last state into a dense
    layer and a softmax. The int8 converter keeps these ops as they are (no fused GRU)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    in_shape = [1, timesteps, features]

    def weights(*shape, scale=0.5):
        return tf.Variable(rng.normal(0, scale, shape).astype(np.float32))

    class Gru(tf.Module):
        def __init__(self):
            self.w = [weights(features, units) for _ in range(3)]
            self.u = [weights(units, units) for _ in range(3)]
            self.b = [weights(units, scale=0.2) for _ in range(3)]
            self.dense = weights(units, classes)

        @tf.function(input_signature=[tf.TensorSpec(in_shape, tf.float32)])
        def __call__(self, x):
            h = tf.zeros([1, units])
            for t in range(timesteps):
                step = x[:, t, :]
                z = tf.sigmoid(tf.matmul(step, self.w[0]) + tf.matmul(h, self.u[0]) + self.b[0])
                r = tf.sigmoid(tf.matmul(step, self.w[1]) + tf.matmul(h, self.u[1]) + self.b[1])
                n = tf.tanh(tf.matmul(step, self.w[2]) + r * tf.matmul(h, self.u[2]) + self.b[2])
                h = (1.0 - z) * n + z * h
            return tf.nn.softmax(tf.matmul(h, self.dense))

    return _module_int8(Gru(), in_shape, rng)
