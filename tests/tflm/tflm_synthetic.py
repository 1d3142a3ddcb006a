"""Small synthetic int8 Keras models for the TFLM arena and code-size checks.

Each model exercises a different mix of operators and of the kernel paths whose
scratch buffers differ between CMSIS-NN and the reference kernels (im2col for
3x3 convolutions, 1x1 convolutions without one, depthwise 3x3 vs 5x5 vs depth
multiplier 2, average pooling, fully connected on 4-D input). Full-integer
quantization with a representative dataset, int8 input and output unless the
model says otherwise (float_io_mix: float in/out; int16_activations: 16x8). Built
once per machine into the mcugen cache (tensorflow is slow to import).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _convert(model, input_shape, io: str = "int8") -> bytes:
    """io: "int8" (int8 in/out), "float" (float in/out, QUANTIZE/DEQUANTIZE at the edges),
    "int16" (16x8: int16 activations, int8 weights)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)

    def representative():
        for _ in range(16):
            yield [rng.uniform(-1, 1, size=(1, *input_shape)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    if io == "int16":
        # CMSIS-NN's int16 FULLY_CONNECTED has no per-channel path (its Prepare fails).
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io == "int8":
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def _models():
    import tensorflow as tf

    L = tf.keras.layers

    def conv_net():
        inp = tf.keras.Input((32, 32, 3), batch_size=1)
        x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
        x = L.Conv2D(16, 1, activation="relu6")(x)
        x = L.AveragePooling2D(2)(x)
        x = L.Flatten()(x)
        x = L.Dense(10)(x)
        out = L.Softmax()(x)
        return tf.keras.Model(inp, out), (32, 32, 3), "int8"

    def residual():
        inp = tf.keras.Input((24, 24, 8), batch_size=1)
        a = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        b = L.Conv2D(8, 3, padding="same")(a)
        x = L.Add()([inp, b])
        x = L.MaxPooling2D(2)(x)
        x = L.Conv2D(16, 3, strides=2, padding="valid", activation="relu")(x)
        x = L.GlobalAveragePooling2D()(x)
        out = L.Dense(4)(x)
        return tf.keras.Model(inp, out), (24, 24, 8), "int8"

    def depthwise_variants():
        inp = tf.keras.Input((20, 20, 6), batch_size=1)
        x = L.DepthwiseConv2D(5, padding="same")(inp)  # CMSIS-NN opt path: scratch
        x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="valid")(x)  # no scratch
        x = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu")(x)
        x = L.Conv2D(12, (1, 5), padding="same")(x)
        x = L.AveragePooling2D(3, strides=2)(x)
        x = L.Reshape((-1,))(x)
        out = L.Dense(3, activation="softmax")(x)
        return tf.keras.Model(inp, out), (20, 20, 6), "int8"

    def dense_only():
        inp = tf.keras.Input((64,), batch_size=1)
        x = L.Dense(48, activation="relu")(inp)
        x = L.Dense(32, activation="relu")(x)
        x = L.Dense(16)(x)
        out = L.Softmax()(x)
        return tf.keras.Model(inp, out), (64,), "int8"

    def float_io_mix():
        inp = tf.keras.Input((16, 16, 4), batch_size=1)
        x = L.Conv2D(8, 3, strides=2, padding="same")(inp)
        y = L.Conv2D(8, 1)(x)
        x = L.Concatenate()([x, y])
        x = L.Multiply()([x, x])
        x = L.ZeroPadding2D(1)(x)
        x = L.Conv2D(4, 3)(x)
        x = L.Dense(6)(x)  # fully connected on 4-D input (CMSIS-NN conv 1x1 path)
        x = L.Reshape((8 * 8 * 6,))(x)
        out = L.Dense(5, activation="sigmoid")(x)
        return tf.keras.Model(inp, out), (16, 16, 4), "float"

    def int16_activations():
        inp = tf.keras.Input((12, 12, 4), batch_size=1)
        x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)  # CMSIS-NN s16 im2col
        x = L.DepthwiseConv2D(3, padding="same")(x)
        x = L.AveragePooling2D(2)(x)
        x = L.Flatten()(x)
        x = L.Dense(10)(x)
        out = L.Softmax()(x)  # int16 softmax: two 513-entry LUTs in the arena
        return tf.keras.Model(inp, out), (12, 12, 4), "int16"

    def misc_ops():
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
        out = L.Dense(3)(x)
        return tf.keras.Model(inp, out), (10, 10, 6), "int8"

    def elementwise():
        inp = tf.keras.Input((8, 8, 4), batch_size=1)
        x = L.Reshape((16, 16, 1))(inp)
        a = L.ReLU()(x)
        b = L.ReLU(max_value=6.0)(L.Reshape((16, 16, 1))(inp))
        x = L.Maximum()([a, b])
        y = L.Minimum()([a, b])
        x = L.Concatenate()([x, y])
        x = L.Conv2D(4, 3, strides=2)(x)
        out = L.Reshape((7 * 7 * 4,))(x)
        return tf.keras.Model(inp, out), (8, 8, 4), "int8"

    return {f.__name__: f for f in (conv_net, residual, depthwise_variants, dense_only, float_io_mix,
                                     int16_activations, misc_ops, elementwise)}


def build_synthetic_models(out_dir: Path) -> dict[str, Path]:
    """Write every synthetic model as <name>.tflite into out_dir (reused when present)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    builders = None
    for name in ("conv_net", "residual", "depthwise_variants", "dense_only", "float_io_mix",
                 "int16_activations", "misc_ops", "elementwise"):
        path = out_dir / f"{name}.tflite"
        if not path.is_file():
            if builders is None:
                import tensorflow as tf

                tf.keras.utils.set_random_seed(0)
                builders = _models()
            model, shape, io = builders[name]()
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(_convert(model, shape, io))
            tmp.replace(path)
        paths[name] = path
    return paths
