"""Models with operators mcugen has no precise model of (issue 16: the tflm style runs any
model TFLM runs), built with TensorFlow, plus an edit that turns one operator into a custom
op TFLM does not register (for the "neither style runs it" message)."""

from __future__ import annotations

import numpy as np


def unmodelled_mix(input_shape=(5, 7, 3)):
    """A Keras model whose middle ops mcugen has no precise entry or cubeai kernel for:
    MIRROR_PAD (reflect), L2_NORMALIZATION, RESIZE_BILINEAR (half-pixel centres), SQUARED_DIFFERENCE,
    around a supported conv; odd sizes on purpose."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(4, 3, padding="same")(inp)
    x = L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 1], [0, 0]], mode="REFLECT"))(x)
    x = L.Lambda(lambda t: tf.math.l2_normalize(t, axis=-1))(x)
    up = L.Lambda(lambda t: tf.image.resize(t, (11, 13), method="bilinear"))(x)
    near = L.Lambda(lambda t: tf.image.resize(t, (11, 13), method="nearest"))(x)
    y = L.Lambda(lambda ab: tf.math.squared_difference(ab[0], ab[1]))([up, near])
    y = L.Conv2D(2, 1)(y)
    return tf.keras.Model(inp, y)


def with_custom_op(model: bytes, opcode: str, custom_code: str) -> bytes:
    """The model with every operator of builtin `opcode` turned into the custom op `custom_code`
    (TensorFlow's schema object API: decode, edit the operator code, re-encode)."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as s

    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(model, 0))
    code_of = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    edited = 0
    for code in m.operatorCodes:
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        if code_of.get(builtin) == opcode:
            code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
            code.customCode = custom_code
            edited += 1
    assert edited, f"no {opcode} in the model"
    for sg in m.subgraphs:
        for op in sg.operators:
            if m.operatorCodes[op.opcodeIndex].customCode == custom_code:
                op.builtinOptionsType, op.builtinOptions = 0, None
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


__all__ = ["np", "unmodelled_mix", "with_custom_op"]
