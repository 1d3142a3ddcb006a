"""Single-operator Keras models of the element-wise and reduction kernels (issue 16):
SUB, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, PRELU, ABS, TANH, LEAKY_RELU, RSQRT,
REDUCE_MAX, SUM, ARG_MAX, with awkward shapes, broadcasting and negative axes.

Beside tests/tfops.py (same conventions: builders return Keras models, kwargs starting
with q_ go to the quantizer); `ELEM_CASES` lists (id, builder, kwargs, expected opcode).
"""

from __future__ import annotations

import numpy as np

from tfops import Case


def binary_op(kind="sub", shape_a=(5, 7, 3), shape_b=(5, 7, 3), activation=None, const_b=False):
    """Two model inputs (or an input and a constant) combined by SUB, MAXIMUM, MINIMUM or
    SQUARED_DIFFERENCE, with numpy broadcasting."""
    import tensorflow as tf

    L = tf.keras.layers
    fns = {"sub": lambda a, b: a - b, "max": tf.maximum, "min": tf.minimum,
           "sqdiff": tf.math.squared_difference}
    fn = fns[kind]
    a = tf.keras.Input(shape=shape_a, batch_size=1)
    if const_b:
        rng = np.random.default_rng(3)
        c = tf.constant(rng.uniform(-0.8, 0.8, size=shape_b).astype(np.float32))
        x = L.Lambda(lambda t: fn(t, c))(a)
        ins = [a]
    else:
        b = tf.keras.Input(shape=shape_b, batch_size=1)
        x = L.Lambda(lambda t: fn(t[0], t[1]))([a, b])
        ins = [a, b]
    if activation == "relu":
        x = L.ReLU()(x)
    return tf.keras.Model(ins, x)


def unary_op(kind="abs", input_shape=(3, 5, 7), alpha=0.3):
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    if kind == "abs":
        x = L.Lambda(tf.abs)(inp)
    elif kind == "tanh":
        x = L.Activation("tanh")(inp)
    elif kind == "leaky_relu":  # tf.nn's takes any alpha (Keras' layer refuses a negative one)
        x = L.Lambda(lambda t: tf.nn.leaky_relu(t, alpha=alpha))(inp)
    elif kind == "rsqrt":
        x = L.Lambda(tf.math.rsqrt)(inp)
    else:
        raise ValueError(kind)
    return tf.keras.Model(inp, x)


def prelu(input_shape=(5, 6, 7), shared_axes=None, seed=4):
    """PReLU with random alphas of both signs (one per channel, or shared over axes)."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    layer = L.PReLU(shared_axes=shared_axes)
    x = layer(inp)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.6, 0.9, w.shape).astype(np.float32) for w in layer.get_weights()])
    return tf.keras.Model(inp, x)


def reduce_op(kind="max", input_shape=(4, 5, 6), axis=(1,), keepdims=False):
    """REDUCE_MAX, SUM (tf.reduce_*) or ARG_MAX (int32 indices, one axis)."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    if kind == "max":
        x = L.Lambda(lambda t: tf.reduce_max(t, axis=list(axis), keepdims=keepdims))(inp)
    elif kind == "sum":
        x = L.Lambda(lambda t: tf.reduce_sum(t, axis=list(axis), keepdims=keepdims))(inp)
    elif kind == "argmax":
        x = L.Lambda(lambda t: tf.math.argmax(t, axis=axis[0], output_type=tf.int32))(inp)
    else:
        raise ValueError(kind)
    return tf.keras.Model(inp, x)


def elem_mix(shape_a=(5, 6, 4), shape_b=(1, 6, 1)):
    """Every family of the element-wise and reduction kernels in one two-input model with
    three outputs (REDUCE_MAX, SUM, ARG_MAX int32): for the qemu-m7 sample."""
    import tensorflow as tf

    L = tf.keras.layers
    a = tf.keras.Input(shape=shape_a, batch_size=1)
    b = tf.keras.Input(shape=shape_b, batch_size=1)
    x = L.Lambda(lambda t: t[0] - t[1])([a, b])
    x = L.Lambda(lambda t: tf.maximum(t[0], t[1]))([x, a])
    x = L.Lambda(lambda t: tf.math.squared_difference(t[0], t[1]))([x, b])
    x = L.Activation("tanh")(L.Lambda(lambda t: t - 0.5)(x))
    x = L.Lambda(lambda t: tf.nn.leaky_relu(t, alpha=0.3))(x)
    x = L.Lambda(lambda t: tf.minimum(tf.abs(t), 0.8))(x)
    layer = L.PReLU(shared_axes=[1, 2])
    y = layer(L.Lambda(lambda t: t - 0.4)(x))
    layer.set_weights([np.linspace(-0.5, 0.9, shape_a[-1]).reshape(1, 1, -1).astype(np.float32)])
    outs = [L.Lambda(lambda t: tf.reduce_max(t, axis=-1))(y),
            L.Lambda(lambda t: tf.reduce_sum(t, axis=[1], keepdims=True))(y),
            L.Lambda(lambda t: tf.math.argmax(t, axis=-1, output_type=tf.int32))(y)]
    return tf.keras.Model([a, b], outs)


ELEM_CASES: list[Case] = [
    # SUB
    ("sub", binary_op, {"kind": "sub"}, "SUB"),
    ("sub_relu", binary_op, {"kind": "sub", "activation": "relu"}, "SUB"),
    ("sub_broadcast_rows", binary_op, {"kind": "sub", "shape_a": (5, 1, 7), "shape_b": (1, 3, 1),
                                       "q_rep_range": (-0.2, 1.0)}, "SUB"),
    ("sub_const_channels", binary_op, {"kind": "sub", "shape_b": (3,), "const_b": True}, "SUB"),
    ("sub_broadcast_5d", binary_op, {"kind": "sub", "shape_a": (2, 3, 1, 5), "shape_b": (1, 3, 4, 1)}, "SUB"),
    # above 1024 elements SUB and SQUARED_DIFFERENCE tabulate each input's scaling
    ("sub_tables", binary_op, {"kind": "sub", "shape_a": (9, 13, 11), "shape_b": (13, 1), "activation": "relu",
                               "q_rep_range": (-0.5, 1.5)}, "SUB"),
    # MAXIMUM / MINIMUM
    ("maximum", binary_op, {"kind": "max"}, "MAXIMUM"),
    ("maximum_broadcast", binary_op, {"kind": "max", "shape_a": (4, 1, 3), "shape_b": (5, 1)}, "MAXIMUM"),
    ("minimum", binary_op, {"kind": "min", "shape_a": (9,), "shape_b": (9,)}, "MINIMUM"),
    ("minimum_const", binary_op, {"kind": "min", "shape_a": (3, 4, 5), "shape_b": (1, 4, 1), "const_b": True},
     "MINIMUM"),
    # SQUARED_DIFFERENCE
    ("sqdiff", binary_op, {"kind": "sqdiff"}, "SQUARED_DIFFERENCE"),
    ("sqdiff_broadcast", binary_op, {"kind": "sqdiff", "shape_a": (3, 1, 6), "shape_b": (4, 6)},
     "SQUARED_DIFFERENCE"),
    ("sqdiff_tables", binary_op, {"kind": "sqdiff", "shape_a": (1100,), "shape_b": (1100,),
                                  "q_rep_range": (-1.3, 0.7)}, "SQUARED_DIFFERENCE"),
    # PRELU
    ("prelu_channels", prelu, {"shared_axes": [1, 2], "q_rep_range": (-1.0, 0.4)}, "PRELU"),
    ("prelu_shared_h", prelu, {"input_shape": (3, 7, 5), "shared_axes": [1]}, "PRELU"),
    ("prelu_full", prelu, {"input_shape": (2, 3, 5), "shared_axes": None, "seed": 7}, "PRELU"),
    # unary
    ("abs", unary_op, {"kind": "abs", "q_rep_range": (-0.4, 1.3)}, "ABS"),
    ("tanh", unary_op, {"kind": "tanh", "q_rep_range": (-3.0, 3.0)}, "TANH"),
    ("tanh_narrow", unary_op, {"kind": "tanh", "input_shape": (13,), "q_rep_range": (-0.4, 0.7)}, "TANH"),
    ("leaky_relu", unary_op, {"kind": "leaky_relu", "q_rep_range": (-1.5, 0.5)}, "LEAKY_RELU"),
    ("leaky_relu_steep", unary_op, {"kind": "leaky_relu", "alpha": 1.7, "input_shape": (11, 3)}, "LEAKY_RELU"),
    ("leaky_relu_negative_alpha", unary_op, {"kind": "leaky_relu", "alpha": -0.45}, "LEAKY_RELU"),
    # above 512 elements the kernels go through a 256-entry table in their scratch
    ("tanh_table", unary_op, {"kind": "tanh", "input_shape": (9, 11, 8), "q_rep_range": (-2.5, 3.5)}, "TANH"),
    ("leaky_relu_table", unary_op, {"kind": "leaky_relu", "alpha": -0.2, "input_shape": (513,),
                                    "q_rep_range": (-1.0, 2.0)}, "LEAKY_RELU"),
    ("abs_table", unary_op, {"kind": "abs", "input_shape": (4, 160), "q_rep_range": (-1.1, 0.6)}, "ABS"),
    # reductions
    ("reduce_max", reduce_op, {"kind": "max", "q_rep_range": (-0.3, 1.1)}, "REDUCE_MAX"),
    ("reduce_max_neg_axes_keepdims", reduce_op, {"kind": "max", "axis": (-1, 1), "keepdims": True}, "REDUCE_MAX"),
    ("sum", reduce_op, {"kind": "sum", "axis": (2,), "q_rep_range": (-1.2, 0.3)}, "SUM"),
    ("sum_keepdims_two_axes", reduce_op, {"kind": "sum", "axis": (1, -1), "keepdims": True,
                                          "input_shape": (3, 7, 5)}, "SUM"),
    ("arg_max_last", reduce_op, {"kind": "argmax", "axis": (-1,), "input_shape": (5, 9)}, "ARG_MAX"),
    ("arg_max_middle", reduce_op, {"kind": "argmax", "axis": (2,), "input_shape": (3, 4, 6)}, "ARG_MAX"),
]
