"""Single-operator Keras models for the compute kernels of issue 16 (TRANSPOSE_CONV, grouped
CONV_2D, BATCH_MATMUL) and the tiny U-Net: the companion of tests/tfops.py, in a module of its
own so that it merges apart from the other op families.

`CASES` lists (id, builder, kwargs, expected opcode) as tfops.CASES does; `CHECKS` says what
each case must hold (the option or shape that makes it awkward), so that a converter that
quietly produced another variant fails the test instead of passing it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from tfops import conv2d, depthwise

Case = tuple[str, Callable[..., Any], dict[str, Any], str]


def _randomize_biases(model: Any, seed: int = 1) -> Any:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights and any(w.ndim == 1 for w in weights):
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) if w.ndim == 1 else w for w in weights])
    return model


def transpose_conv(input_shape=(5, 7, 3), filters=4, kernel=3, strides=2, padding="same", use_bias=True,
                   activation=None, output_padding=None):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2DTranspose(filters, kernel, strides=strides, padding=padding, use_bias=use_bias,
                          activation=activation, output_padding=output_padding)(inp)
    return _randomize_biases(tf.keras.Model(inp, x))


def batch_matmul(shape_a=(3, 5, 4), shape_b=(3, 4, 6), adj_x=False, adj_y=False, const_b=False, seed=2):
    """tf.matmul of two inputs (or of an input and a constant) with broadcast batch dimensions."""
    import tensorflow as tf

    a = tf.keras.Input(shape=shape_a, batch_size=1, name="bmm_a")
    if const_b:
        w = tf.constant(np.random.default_rng(seed).normal(0, 0.5, (1, *shape_b)).astype(np.float32))
        out = tf.keras.layers.Lambda(lambda t: tf.matmul(t, w, adjoint_a=adj_x, adjoint_b=adj_y))(a)
        return tf.keras.Model(a, out)
    b = tf.keras.Input(shape=shape_b, batch_size=1, name="bmm_b")  # the converter orders inputs by name
    out = tf.keras.layers.Lambda(lambda t: tf.matmul(t[0], t[1], adjoint_a=adj_x, adjoint_b=adj_y))([a, b])
    return tf.keras.Model([a, b], out)


def _opt(name, value):
    return lambda g, op: op.option(name) == value


def _tconv_out(shape):
    return lambda g, op: tuple(g.tensors[op.outputs[0]].shape) == shape


def _grouped(k):
    """The CONV_2D's filter depth is the input's over k groups (TF's Conv2D(groups=k))."""
    return lambda g, op: g.tensors[op.inputs[0]].shape[3] == k * g.tensors[op.inputs[1]].shape[3]


def _dw_mult(m):
    return lambda g, op: g.tensors[op.outputs[0]].shape[3] == m * g.tensors[op.inputs[0]].shape[3]


CASES: list[Case] = [
    ("tconv_s2_same", transpose_conv, {}, "TRANSPOSE_CONV"),
    ("tconv_s1_valid_nobias", transpose_conv, {"strides": 1, "padding": "valid", "use_bias": False},
     "TRANSPOSE_CONV"),
    ("tconv_s2_valid_odd", transpose_conv, {"padding": "valid", "input_shape": (5, 4, 6), "filters": 5},
     "TRANSPOSE_CONV"),
    ("tconv_s2_same_outpad", transpose_conv, {"input_shape": (4, 5, 3), "output_padding": 0}, "TRANSPOSE_CONV"),
    ("tconv_k4_s2_relu", transpose_conv, {"kernel": 4, "activation": "relu", "filters": 7}, "TRANSPOSE_CONV"),
    ("tconv_per_tensor", transpose_conv, {"q_per_channel": False, "kernel": 2, "filters": 3}, "TRANSPOSE_CONV"),
    ("tconv_s3x1_k5x2", transpose_conv, {"strides": (3, 1), "kernel": (5, 2), "input_shape": (3, 6, 2)},
     "TRANSPOSE_CONV"),
    ("tconv_depth8_k3_s2", transpose_conv, {"input_shape": (4, 5, 8), "filters": 5}, "TRANSPOSE_CONV"),
    ("tconv_depth4_k4_s2_valid", transpose_conv, {"input_shape": (3, 6, 4), "filters": 6, "kernel": 4,
                                                  "padding": "valid"}, "TRANSPOSE_CONV"),
    ("tconv_s2_valid_k1", transpose_conv, {"kernel": 1, "padding": "valid", "input_shape": (4, 3, 5)},
     "TRANSPOSE_CONV"),
]

# grouped CONV_2D and DEPTHWISE_CONV_2D with a depth multiplier (the builders of tests/tfops.py)
CASES += [
    ("gconv_g2", conv2d, {"input_shape": (7, 9, 6), "filters": 4, "groups": 2}, "CONV_2D"),
    ("gconv_g3_s2_valid", conv2d, {"input_shape": (11, 8, 9), "filters": 6, "groups": 3, "strides": 2,
                                   "padding": "valid", "activation": "relu"}, "CONV_2D"),
    ("gconv_g4_per_tensor_nobias", conv2d, {"input_shape": (6, 5, 8), "filters": 12, "groups": 4,
                                            "use_bias": False, "q_per_channel": False}, "CONV_2D"),
    ("gconv_one_channel_groups", conv2d, {"input_shape": (5, 6, 5), "filters": 10, "groups": 5, "kernel": 2,
                                          "dilation": 2}, "CONV_2D"),
    # filter depths >= 4: the Cortex-M7 variant's SMLAD words (and its scalar tail: 5, 6)
    ("gconv_g2_depth8_odd_groups", conv2d, {"input_shape": (6, 7, 16), "filters": 6, "groups": 2}, "CONV_2D"),
    ("gconv_g3_depth5_s2_same", conv2d, {"input_shape": (9, 8, 15), "filters": 9, "groups": 3, "strides": 2,
                                         "kernel": 4}, "CONV_2D"),
    ("dw_mult2_s2_valid_odd", depthwise, {"input_shape": (9, 7, 3), "depth_multiplier": 2, "strides": 2,
                                          "padding": "valid"}, "DEPTHWISE_CONV_2D"),
    ("dw_mult4_one_channel", depthwise, {"input_shape": (6, 6, 1), "depth_multiplier": 4, "kernel": 5},
     "DEPTHWISE_CONV_2D"),
    ("dw_mult3_dilation2_relu6", depthwise, {"input_shape": (8, 9, 5), "depth_multiplier": 3, "dilation": 2,
                                             "activation": "relu6"}, "DEPTHWISE_CONV_2D"),
]

CASES += [
    ("bmm", batch_matmul, {}, "BATCH_MATMUL"),
    ("bmm_adj_x", batch_matmul, {"shape_a": (2, 7, 3), "shape_b": (2, 7, 5), "adj_x": True}, "BATCH_MATMUL"),
    ("bmm_adj_y", batch_matmul, {"shape_a": (4, 9), "shape_b": (6, 9), "adj_y": True}, "BATCH_MATMUL"),
    ("bmm_adj_xy_broadcast", batch_matmul, {"shape_a": (2, 1, 5, 3), "shape_b": (1, 3, 4, 5), "adj_x": True,
                                            "adj_y": True}, "BATCH_MATMUL"),
    ("bmm_broadcast_rank", batch_matmul, {"shape_a": (3, 2, 6, 5), "shape_b": (5, 7)}, "BATCH_MATMUL"),
    ("bmm_const_rhs", batch_matmul, {"shape_a": (3, 4, 6), "shape_b": (3, 6, 5), "const_b": True},
     "BATCH_MATMUL"),
]

CHECKS: dict[str, Callable[[Any, Any], bool]] = {
    "bmm_adj_x": _opt("adj_x", True),
    "bmm_adj_y": _opt("adj_y", True),
    "bmm_adj_xy_broadcast": lambda g, op: op.option("adj_x") and op.option("adj_y")
    and g.tensors[op.inputs[0]].shape[:-2] != g.tensors[op.inputs[1]].shape[:-2],
    "bmm_broadcast_rank": lambda g, op: len(g.tensors[op.inputs[0]].shape) != len(g.tensors[op.inputs[1]].shape),
    "bmm_const_rhs": lambda g, op: g.tensors[op.inputs[1]].is_constant,
    "gconv_g2": _grouped(2),
    "gconv_g2_depth8_odd_groups": _grouped(2),
    "gconv_g3_depth5_s2_same": _grouped(3),
    "tconv_depth8_k3_s2": _tconv_out((1, 8, 10, 5)),
    "tconv_depth4_k4_s2_valid": _tconv_out((1, 8, 14, 6)),
    "gconv_g3_s2_valid": _grouped(3),
    "gconv_g4_per_tensor_nobias": lambda g, op: _grouped(4)(g, op) and len(g.tensors[op.inputs[1]].quant.scale) == 1,
    "gconv_one_channel_groups": lambda g, op: _grouped(5)(g, op) and op.option("dilation_h_factor") == 2,
    "dw_mult2_s2_valid_odd": _dw_mult(2),
    "dw_mult4_one_channel": _dw_mult(4),
    "dw_mult3_dilation2_relu6": _dw_mult(3),
    "tconv_s2_same": _tconv_out((1, 10, 14, 4)),
    "tconv_s1_valid_nobias": lambda g, op: len(op.inputs) < 4 or op.inputs[3] < 0,
    "tconv_s2_valid_odd": _tconv_out((1, 11, 9, 5)),
    "tconv_s2_same_outpad": _tconv_out((1, 7, 9, 4)),
    "tconv_k4_s2_relu": _opt("fused_activation_function", "RELU"),
    "tconv_per_tensor": lambda g, op: len(g.tensors[op.inputs[1]].quant.scale) == 1,
    "tconv_s3x1_k5x2": lambda g, op: (op.option("stride_h"), op.option("stride_w")) == (3, 1),
    "tconv_s2_valid_k1": _tconv_out((1, 8, 6, 4)),  # Keras: rows past the last tap get only the bias
}


def tiny_unet(input_shape=(32, 32, 3), classes=2):
    """A tiny U-Net: convolutions down (one grouped, one depthwise with a depth multiplier),
    transpose convolutions up, a bilinear resize, skip connections concatenated; per-pixel
    class logits."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    c1 = L.Conv2D(8, 3, padding="same", activation="relu")(inp)                     # 32x32x8
    d1 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(c1)          # 16x16x16
    g1 = L.Conv2D(16, 3, padding="same", groups=4, activation="relu")(d1)           # 16x16x16, grouped
    d2 = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu")(g1)  # 8x8x32
    b = L.Conv2D(32, 1, activation="relu")(d2)                                      # 8x8x32
    u1 = L.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(b)  # 16x16x16
    m1 = L.Concatenate()([u1, g1])                                                  # 16x16x32
    c3 = L.Conv2D(16, 3, padding="same", activation="relu")(m1)                     # 16x16x16
    u2 = L.Conv2DTranspose(8, 2, strides=2, padding="same")(c3)                     # 32x32x8
    r = L.UpSampling2D(2, interpolation="bilinear")(c3)                             # 32x32x16
    m2 = L.Concatenate()([u2, r, c1])                                               # 32x32x32
    out = L.Conv2D(classes, 1)(m2)
    return _randomize_biases(tf.keras.Model(inp, out))


def attention_block(tokens=16, dim=32, heads=2):
    """Self-attention over tokens: per head Q K^T (BATCH_MATMUL, adj_y), softmax, P V (BATCH_MATMUL);
    the projections are FULLY_CONNECTED. Ranks <= 4 (TFLM's CMSIS-NN BATCH_MATMUL takes no more)."""
    import tensorflow as tf

    L = tf.keras.layers
    head = dim // heads
    inp = tf.keras.Input(shape=(tokens, dim), batch_size=1)

    def split(t):
        return tf.transpose(tf.reshape(t, (1, tokens, heads, head)), (0, 2, 1, 3))  # [1, heads, tokens, head]

    q, k, v = (L.Lambda(split)(L.Dense(dim)(inp)) for _ in range(3))
    scores = L.Lambda(lambda t: tf.matmul(t[0], t[1], transpose_b=True) * (head ** -0.5))([q, k])
    p = L.Softmax()(scores)
    ctx = L.Lambda(lambda t: tf.matmul(t[0], t[1]))([p, v])
    merged = L.Lambda(lambda t: tf.reshape(tf.transpose(t, (0, 2, 1, 3)), (1, tokens, dim)))(ctx)
    out = L.Dense(dim)(merged)
    return _randomize_biases(tf.keras.Model(inp, out))
