"""Small synthetic Keras models for the TFLM arena and code-size checks.

Each model exercises a different mix of operators and of the kernel paths whose
scratch buffers differ between CMSIS-NN and the reference kernels (im2col for
3x3 convolutions, 1x1 convolutions without one, depthwise 3x3 vs 5x5 vs depth
multiplier 2, average pooling, fully connected on 4-D input, int16 activations).
Full-integer quantization with a representative dataset and the on-disk cache
come from the project's tests/tfmodels.py; int8 input and output unless the
model says otherwise (float_io_mix: float in/out; int16_activations: 16x8).
"""

from __future__ import annotations

from pathlib import Path

from tfmodels import cached_model


def _layers():
    import tensorflow as tf

    return tf, tf.keras.layers


def conv_net():
    tf, L = _layers()
    inp = tf.keras.Input((32, 32, 3), batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
    x = L.Conv2D(16, 1, activation="relu6")(x)
    x = L.AveragePooling2D(2)(x)
    x = L.Flatten()(x)
    x = L.Dense(10)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def residual():
    tf, L = _layers()
    inp = tf.keras.Input((24, 24, 8), batch_size=1)
    a = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    b = L.Conv2D(8, 3, padding="same")(a)
    x = L.Add()([inp, b])
    x = L.MaxPooling2D(2)(x)
    x = L.Conv2D(16, 3, strides=2, padding="valid", activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inp, L.Dense(4)(x))


def depthwise_variants():
    tf, L = _layers()
    inp = tf.keras.Input((20, 20, 6), batch_size=1)
    x = L.DepthwiseConv2D(5, padding="same")(inp)  # CMSIS-NN opt path: scratch
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="valid")(x)  # no scratch
    x = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu")(x)
    x = L.Conv2D(12, (1, 5), padding="same")(x)
    x = L.AveragePooling2D(3, strides=2)(x)
    x = L.Reshape((-1,))(x)
    return tf.keras.Model(inp, L.Dense(3, activation="softmax")(x))


def dense_only():
    tf, L = _layers()
    inp = tf.keras.Input((64,), batch_size=1)
    x = L.Dense(48, activation="relu")(inp)
    x = L.Dense(32, activation="relu")(x)
    x = L.Dense(16)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def float_io_mix():
    tf, L = _layers()
    inp = tf.keras.Input((16, 16, 4), batch_size=1)
    x = L.Conv2D(8, 3, strides=2, padding="same")(inp)
    y = L.Conv2D(8, 1)(x)
    x = L.Concatenate()([x, y])
    x = L.Multiply()([x, x])
    x = L.ZeroPadding2D(1)(x)
    x = L.Conv2D(4, 3)(x)
    x = L.Dense(6)(x)  # fully connected on 4-D input (CMSIS-NN conv 1x1 path)
    x = L.Reshape((8 * 8 * 6,))(x)
    return tf.keras.Model(inp, L.Dense(5, activation="sigmoid")(x))


def int16_activations():
    tf, L = _layers()
    inp = tf.keras.Input((12, 12, 4), batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)  # CMSIS-NN s16 im2col
    x = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.AveragePooling2D(2)(x)
    # No Dense: CMSIS-NN's int16 FULLY_CONNECTED has no per-channel path (Prepare fails).
    x = L.Conv2D(10, 1)(x)
    x = L.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inp, L.Softmax()(x))  # int16 softmax: two 513-entry LUTs


def misc_ops():
    tf, L = _layers()
    inp = tf.keras.Input((10, 10, 6), batch_size=1)
    x = L.ZeroPadding2D(((1, 0), (2, 1)))(inp)
    x = L.Conv2D(8, 3, activation="tanh")(x)
    a = L.LeakyReLU(0.1)(x)
    b = L.Activation("hard_swish")(x)
    x = L.Subtract()([a, b])
    x = L.Permute((2, 1, 3))(x)
    x = L.Cropping2D(((1, 1), (0, 2)))(x)
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.ReLU()(x)
    x = L.GlobalMaxPooling2D()(x)
    return tf.keras.Model(inp, L.Dense(3)(x))


def elementwise():
    tf, L = _layers()
    inp = tf.keras.Input((8, 8, 4), batch_size=1)
    a = L.ReLU()(L.Reshape((16, 16, 1))(inp))
    b = L.ReLU(max_value=6.0)(L.Reshape((16, 16, 1))(inp))
    x = L.Concatenate()([L.Maximum()([a, b]), L.Minimum()([a, b])])
    x = L.Conv2D(4, 3, strides=2)(x)
    return tf.keras.Model(inp, L.Reshape((7 * 7 * 4,))(x))


_QUANTIZATION = {
    "float_io_mix": {"q_input_type": "float32", "q_output_type": "float32"},
    "int16_activations": {"q_input_type": "int16", "q_output_type": "int16", "q_int16_activations": True},
}
BUILDERS = (conv_net, residual, depthwise_variants, dense_only, float_io_mix, int16_activations,
            misc_ops, elementwise)


def build_synthetic_models() -> dict[str, Path]:
    """Every synthetic model as a .tflite path (built once per machine, then cached)."""
    return {b.__name__: cached_model(f"tflm-{b.__name__}", b, **_QUANTIZATION.get(b.__name__, {}))
            for b in BUILDERS}
