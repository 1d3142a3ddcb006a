"""Single-operator Keras models for the data-movement kernels (resize, concat, split,
slice, pack/unpack, gather, depth/space): the companion of tests/tfops.py, in a module of
its own so that the element-wise ops' builders (tests/tfops.py) and these merge apart.

`CASES` lists (id, builder, kwargs, expected opcode) as tfops.CASES does; `CHECKS` says
what each case must hold (the option or shape that makes it awkward), so that a converter
that quietly produced another variant fails the test instead of passing it.
"""

from __future__ import annotations

from typing import Any, Callable

Case = tuple[str, Callable[..., Any], dict[str, Any], str]


def _model(input_shapes, fn):
    import tensorflow as tf

    ins = [tf.keras.Input(shape=s, batch_size=1) for s in input_shapes]
    out = tf.keras.layers.Lambda(fn)(ins if len(ins) > 1 else ins[0])
    return tf.keras.Model(ins if len(ins) > 1 else ins[0], out)


def resize(input_shape=(5, 7, 3), size=(9, 12), method="bilinear", align_corners=False, half_pixel=False):
    """RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR with the v1 API's explicit modes."""
    import tensorflow as tf

    fn = (tf.compat.v1.image.resize_bilinear if method == "bilinear"
          else tf.compat.v1.image.resize_nearest_neighbor)
    return _model([input_shape], lambda x: fn(x, size, align_corners=align_corners, half_pixel_centers=half_pixel))


def concat(shapes=((3, 5, 2), (1, 5, 2), (4, 5, 2)), axis=-3):
    import tensorflow as tf

    return _model(shapes, lambda xs: tf.concat(xs, axis=axis))


def split(input_shape=(4, 6, 9), num=3, axis=-1):
    import tensorflow as tf

    return _model([input_shape], lambda x: tf.split(x, num, axis=axis))


def split_v(input_shape=(7, 3, 4), sizes=(2, -1, 1), axis=1):
    import tensorflow as tf

    return _model([input_shape], lambda x: tf.split(x, list(sizes), axis=axis))


def slice_(input_shape=(7, 6, 5), begin=(0, 2, 1, 1), size=(1, 3, -1, 3)):
    import tensorflow as tf

    return _model([input_shape], lambda x: tf.slice(x, list(begin), list(size)))


def strided(input_shape=(9, 8, 5), kind="steps"):
    """STRIDED_SLICE with begin/end masks, negative strides and a shrunk axis."""
    def fn(x):
        if kind == "steps":
            return x[:, 1:8:3, ::-2, 1:]
        if kind == "shrink":
            return x[:, -2, 1:-1, :]
        return x[:, ::-1, 5:1:-2, -4:-1]  # reversed and backwards with negative indices

    return _model([input_shape], fn)


def pack(shapes=((3, 5), (3, 5), (3, 5)), axis=2):
    import tensorflow as tf

    return _model(shapes, lambda xs: tf.stack(xs, axis=axis))


def unpack(input_shape=(3, 4, 5), axis=-2):
    import tensorflow as tf

    return _model([input_shape], lambda x: tf.unstack(x, axis=axis))


def gather(input_shape=(6, 5, 4), indices=(4, 0, 4, 2, 5), axis=1, batch_dims=0):
    import tensorflow as tf

    return _model([input_shape], lambda x: tf.gather(x, list(indices), axis=axis, batch_dims=batch_dims))


def depth_space(input_shape=(3, 5, 12), block=2, kind="d2s"):
    import tensorflow as tf

    fn = tf.nn.depth_to_space if kind == "d2s" else tf.nn.space_to_depth
    return _model([input_shape], lambda x: fn(x, block))


CASES: list[Case] = [
    ("resize_bilinear", resize, {}, "RESIZE_BILINEAR"),
    ("resize_bilinear_align", resize, {"align_corners": True, "size": (13, 4)}, "RESIZE_BILINEAR"),
    ("resize_bilinear_half", resize, {"half_pixel": True, "size": (10, 15)}, "RESIZE_BILINEAR"),
    ("resize_bilinear_down_half", resize, {"half_pixel": True, "input_shape": (11, 9, 2), "size": (4, 5)},
     "RESIZE_BILINEAR"),
    ("resize_nearest", resize, {"method": "nearest"}, "RESIZE_NEAREST_NEIGHBOR"),
    ("resize_nearest_align", resize, {"method": "nearest", "align_corners": True, "size": (13, 4)},
     "RESIZE_NEAREST_NEIGHBOR"),
    # 2 -> 3 and 6 -> 11 with align_corners put source positions on .5: TFLM rounds them away from zero
    ("resize_nearest_align_ties", resize, {"method": "nearest", "align_corners": True, "input_shape": (2, 6, 3),
                                           "size": (3, 11)}, "RESIZE_NEAREST_NEIGHBOR"),
    ("resize_nearest_half", resize, {"method": "nearest", "half_pixel": True, "size": (10, 15)},
     "RESIZE_NEAREST_NEIGHBOR"),
    ("resize_nearest_down_half", resize, {"method": "nearest", "half_pixel": True, "input_shape": (11, 9, 2),
                                          "size": (4, 5)}, "RESIZE_NEAREST_NEIGHBOR"),
    ("concat_axis_neg3", concat, {}, "CONCATENATION"),
    ("concat_axis0_batch", concat, {"shapes": ((3, 2), (3, 2)), "axis": 0}, "CONCATENATION"),
    ("concat_axis2_4d", concat, {"shapes": ((2, 3, 1, 3), (2, 3, 4, 3)), "axis": -2}, "CONCATENATION"),
    ("split_last", split, {}, "SPLIT"),
    ("split_axis1", split, {"input_shape": (6, 5, 3), "num": 2, "axis": 1}, "SPLIT"),
    ("split_v_neg1", split_v, {}, "SPLIT_V"),
    ("split_v_last", split_v, {"input_shape": (3, 10), "sizes": (3, 1, 6), "axis": -1}, "SPLIT_V"),
    ("slice", slice_, {}, "SLICE"),
    ("strided_steps", strided, {}, "STRIDED_SLICE"),
    ("strided_shrink", strided, {"kind": "shrink"}, "STRIDED_SLICE"),
    ("strided_reverse", strided, {"kind": "reverse"}, "STRIDED_SLICE"),
    ("pack_axis2", pack, {}, "PACK"),
    ("pack_axis0", pack, {"shapes": ((7,), (7,)), "axis": 0}, "PACK"),
    ("unpack_neg2", unpack, {}, "UNPACK"),
    ("unpack_last", unpack, {"input_shape": (5, 3), "axis": -1}, "UNPACK"),
    ("gather_axis1", gather, {"indices": (3, 0, 3, 1, 4, 4, 2)}, "GATHER"),
    ("gather_axis_last", gather, {"indices": (3, 0, 1), "axis": -1}, "GATHER"),
    ("depth_to_space", depth_space, {}, "DEPTH_TO_SPACE"),
    ("depth_to_space_b3", depth_space, {"input_shape": (2, 3, 18), "block": 3}, "DEPTH_TO_SPACE"),
    ("space_to_depth", depth_space, {"input_shape": (6, 10, 3), "kind": "s2d"}, "SPACE_TO_DEPTH"),
    # other I/O types: float and uint8 model edges (QUANTIZE/DEQUANTIZE around the op), 16x8 (int16 copies)
    ("resize_bilinear_float_io", resize, {"half_pixel": True, "q_input_type": "float32", "q_output_type": "float32"},
     "RESIZE_BILINEAR"),
    ("split_v_uint8_io", split_v, {"q_input_type": "uint8", "q_output_type": "uint8"}, "SPLIT_V"),
    ("split_int16", split, {"q_int16_activations": True, "q_input_type": "int16", "q_output_type": "int16"}, "SPLIT"),
    ("strided_reverse_int16", strided, {"kind": "reverse", "q_int16_activations": True, "q_input_type": "int16",
                                        "q_output_type": "int16"}, "STRIDED_SLICE"),
    ("pack_int16", pack, {"q_int16_activations": True, "q_input_type": "int16", "q_output_type": "int16"}, "PACK"),
    ("unpack_int16", unpack, {"q_int16_activations": True, "q_input_type": "int16", "q_output_type": "int16"},
     "UNPACK"),
    ("resize_nearest_int16", resize, {"method": "nearest", "half_pixel": True, "q_int16_activations": True,
                                      "q_input_type": "int16", "q_output_type": "int16"}, "RESIZE_NEAREST_NEIGHBOR"),
]


def _opt(name: str, value: Any) -> Callable[[Any, Any], bool]:
    return lambda g, op: op.option(name) == value


CHECKS: dict[str, Callable[[Any, Any], bool]] = {
    "resize_bilinear": lambda g, op: not op.option("align_corners") and not op.option("half_pixel_centers"),
    "resize_bilinear_align": _opt("align_corners", True),
    "resize_bilinear_half": _opt("half_pixel_centers", True),
    "resize_bilinear_down_half": _opt("half_pixel_centers", True),
    "resize_nearest": lambda g, op: not op.option("align_corners") and not op.option("half_pixel_centers"),
    "resize_nearest_align": _opt("align_corners", True),
    "resize_nearest_half": _opt("half_pixel_centers", True),
    "resize_nearest_down_half": _opt("half_pixel_centers", True),
    "concat_axis_neg3": lambda g, op: len(op.inputs) == 3,
    "split_last": lambda g, op: len(op.outputs) == 3,
    "split_v_neg1": lambda g, op: len(op.outputs) == 3,
    "strided_steps": lambda g, op: bool(op.option("begin_mask") or op.option("end_mask")),
    "strided_shrink": lambda g, op: bool(op.option("shrink_axis_mask")),
    "strided_reverse": lambda g, op: (g.tensors[op.inputs[3]].data < 0).any(),
    "unpack_neg2": lambda g, op: len(op.outputs) == 4,
    "gather_axis1": lambda g, op: g.tensors[op.inputs[1]].data is not None,
    "resize_bilinear_float_io": lambda g, op: g.tensors[g.inputs[0]].dtype == "float32",
    "split_v_uint8_io": lambda g, op: g.tensors[g.inputs[0]].dtype == "uint8",
    "split_int16": lambda g, op: g.tensors[op.inputs[1]].dtype == "int16",
    "strided_reverse_int16": lambda g, op: g.tensors[op.inputs[0]].dtype == "int16",
    "pack_int16": lambda g, op: g.tensors[op.inputs[0]].dtype == "int16",
    "unpack_int16": lambda g, op: g.tensors[op.inputs[0]].dtype == "int16",
    "resize_nearest_int16": lambda g, op: g.tensors[op.inputs[0]].dtype == "int16",
}


def yolo_head(input_shape=(9, 9, 3)):
    """A detection-neck-like net: convolution, SPLIT_V into three branches (logistic; bilinear
    upsample then a stride-2 convolution; a reversed STRIDED_SLICE), CONCATENATION, a 1x1
    convolution and DEPTH_TO_SPACE: multi-output ops inside the graph, feeding other ops."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Conv2D(12, 3, padding="same", activation="relu")(inp)
    a, b, c = L.Lambda(lambda t: tf.split(t, [4, 2, 6], axis=-1))(x)
    a = L.Activation("sigmoid")(a)
    b = L.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (18, 18), half_pixel_centers=True))(b)
    b = L.Conv2D(2, 3, strides=2, padding="same")(b)
    c = L.Lambda(lambda t: t[:, ::-1, :, 1:5])(c)
    x = L.Concatenate(axis=-1)([a, b, c])
    x = L.Conv2D(8, 1)(x)
    x = L.Lambda(lambda t: tf.nn.depth_to_space(t, 2))(x)
    return tf.keras.Model(inp, x)


def shuffle_net(input_shape=(6, 10, 4)):
    """SPACE_TO_DEPTH, SPLIT, UNPACK and PACK (a channel shuffle), GATHER, SLICE and a
    nearest-neighbour upsample between convolutions, with two model outputs."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    x = L.Lambda(lambda t: tf.nn.space_to_depth(t, 2))(inp)  # (3, 5, 16)
    x = L.Conv2D(8, 1, activation="relu")(x)
    p, q = L.Lambda(lambda t: tf.split(t, 2, axis=-1))(x)
    x = L.Lambda(lambda ts: tf.stack(tf.unstack(ts[0], axis=-1) + tf.unstack(ts[1], axis=-1)[::-1], axis=-1))([p, q])
    x = L.Lambda(lambda t: tf.gather(t, [4, 0, 4, 2, 1], axis=2))(x)  # (3, 5, 8)
    y = L.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (7, 9), align_corners=True))(x)
    y = L.Conv2D(3, 3)(y)
    z = L.Lambda(lambda t: tf.slice(t, [0, 1, 1, 2], [1, 2, 3, -1]))(x)
    return tf.keras.Model(inp, [y, z])


def random_slice_params(rng, shape, count):
    """`count` random STRIDED_SLICE parameter sets on `shape` (begin, end, strides, begin/end/
    shrink masks) whose results are not empty, each with numpy's own result for it (numpy's
    slicing is TensorFlow's), so that the shape rule is checked against an independent one."""
    import numpy as np

    x = np.arange(int(np.prod(shape))).reshape(shape)
    found = []
    while len(found) < count:
        rank = len(shape)
        begin = [int(v) for v in rng.integers(-9, 9, rank)]
        end = [int(v) for v in rng.integers(-9, 9, rank)]
        strides = [int(v) for v in rng.choice([-3, -2, -1, 1, 1, 2, 3], rank)]
        bmask, emask = int(rng.integers(0, 1 << rank)), int(rng.integers(0, 1 << rank))
        smask = int(rng.integers(0, 1 << rank)) & int(rng.integers(0, 1 << rank)) & int(rng.integers(0, 1 << rank))
        index = []
        for k in range(rank):
            if smask & (1 << k):
                # a shrunk axis needs a valid begin; a negative stride there makes TFLM write
                # nothing (refused: test_shrink_with_negative_stride_is_refused)
                strides[k] = abs(strides[k])
                if not -shape[k] <= begin[k] < shape[k]:
                    break
                index.append(begin[k])
                continue
            index.append(slice(None if bmask & (1 << k) else begin[k], None if emask & (1 << k) else end[k],
                               strides[k]))
        else:
            expected = x[tuple(index)]
            if expected.size:
                found.append(((begin, end, strides, bmask, emask, smask), expected))
    return found


def strided_slices_model(shape=(2, 5, 6, 7), count=12, seed=0):
    """One int8 input, `count` random STRIDED_SLICE ops on it, each a model output: one
    compile and one reference run check many mask and stride combinations at once. Built
    with TensorFlow's schema object API (no converter decides the options)."""
    import flatbuffers
    import numpy as np
    from tensorflow.lite.python import schema_py_generated as s

    rng = np.random.default_rng(seed)
    cases = random_slice_params(rng, shape, count)
    model = s.ModelT()
    model.version = 3
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.STRIDED_SLICE
    code.version = 4
    model.operatorCodes = [code]
    buffers = [s.BufferT()]
    tensors = []

    def tensor(name, shp, ttype, arr=None, quant=True):
        b = s.BufferT()
        if arr is not None:
            b.data = np.frombuffer(np.ascontiguousarray(arr).tobytes(), dtype=np.uint8)
        buffers.append(b)
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, np.array(shp, dtype=np.int32), ttype, len(buffers) - 1
        if quant:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = np.array([0.05], dtype=np.float32), np.array([-3], dtype=np.int64)
            t.quantization = q
        tensors.append(t)
        return len(tensors) - 1

    x = tensor("input", shape, s.TensorType.INT8)
    ops, outs = [], []
    for k, ((begin, end, strides, bmask, emask, smask), expected) in enumerate(cases):
        ins = [x] + [tensor(f"{what}{k}", [len(shape)], s.TensorType.INT32, np.array(v, dtype=np.int32), False)
                     for what, v in (("begin", begin), ("end", end), ("strides", strides))]
        outs.append(tensor(f"slice{k}", list(expected.shape), s.TensorType.INT8))
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = 0, np.array(ins, dtype=np.int32), np.array([outs[-1]], dtype=np.int32)
        op.builtinOptionsType = s.BuiltinOptions.StridedSliceOptions
        opts = s.StridedSliceOptionsT()
        opts.beginMask, opts.endMask, opts.shrinkAxisMask = bmask, emask, smask
        op.builtinOptions = opts
        ops.append(op)
    sg = s.SubGraphT()
    sg.tensors, sg.operators, sg.name = tensors, ops, "main"
    sg.inputs, sg.outputs = np.array([x], dtype=np.int32), np.array(outs, dtype=np.int32)
    model.subgraphs, model.buffers = [sg], buffers
    model.description = f"mcugen test: {count} random strided slices of {list(shape)}"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), cases


def random_resizes_model(shape=(1, 5, 7, 3), count=16, seed=0):
    """One int8 input, `count` RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR ops on it with random
    output sizes 1..24 (up and down, 1-pixel edges) and random modes, each a model output."""
    import flatbuffers
    import numpy as np
    from tensorflow.lite.python import schema_py_generated as s

    rng = np.random.default_rng(seed)
    model = s.ModelT()
    model.version = 3
    codes = []
    for builtin in (s.BuiltinOperator.RESIZE_BILINEAR, s.BuiltinOperator.RESIZE_NEAREST_NEIGHBOR):
        code = s.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = builtin
        code.version = 3
        codes.append(code)
    model.operatorCodes = codes
    buffers, tensors = [s.BufferT()], []

    def tensor(name, shp, ttype, arr=None, quant=True):
        b = s.BufferT()
        if arr is not None:
            b.data = np.frombuffer(np.ascontiguousarray(arr).tobytes(), dtype=np.uint8)
        buffers.append(b)
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, np.array(shp, dtype=np.int32), ttype, len(buffers) - 1
        if quant:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = np.array([0.02], dtype=np.float32), np.array([5], dtype=np.int64)
            t.quantization = q
        tensors.append(t)
        return len(tensors) - 1

    x = tensor("input", shape, s.TensorType.INT8)
    ops, outs, modes = [], [], []
    for k in range(count):
        bilinear = k % 2 == 0
        oh, ow = (int(v) for v in rng.integers(1, 25, 2))
        mode = ("asymmetric", "align_corners", "half_pixel")[k // 2 % 3]
        modes.append((bilinear, mode, oh, ow))
        size = tensor(f"size{k}", [2], s.TensorType.INT32, np.array([oh, ow], dtype=np.int32), False)
        outs.append(tensor(f"resized{k}", [shape[0], oh, ow, shape[3]], s.TensorType.INT8))
        op = s.OperatorT()
        op.opcodeIndex = 0 if bilinear else 1
        op.inputs, op.outputs = np.array([x, size], dtype=np.int32), np.array([outs[-1]], dtype=np.int32)
        if bilinear:
            op.builtinOptionsType = s.BuiltinOptions.ResizeBilinearOptions
            opts = s.ResizeBilinearOptionsT()
        else:
            op.builtinOptionsType = s.BuiltinOptions.ResizeNearestNeighborOptions
            opts = s.ResizeNearestNeighborOptionsT()
        opts.alignCorners, opts.halfPixelCenters = mode == "align_corners", mode == "half_pixel"
        op.builtinOptions = opts
        ops.append(op)
    sg = s.SubGraphT()
    sg.tensors, sg.operators, sg.name = tensors, ops, "main"
    sg.inputs, sg.outputs = np.array([x], dtype=np.int32), np.array(outs, dtype=np.int32)
    model.subgraphs, model.buffers = [sg], buffers
    model.description = f"mcugen test: {count} random resizes of {list(shape)}"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), modes


def gather_model(shape=(3, 4, 5), positions=((2, 0), (3, 3), (1, 2)), axis=1, batch_dims=1):
    """One int8 GATHER with constant positions, any batch_dims (Keras's batch-1 inputs cannot
    give a batch dimension that matters), built with TensorFlow's schema object API."""
    import flatbuffers
    import numpy as np
    from tensorflow.lite.python import schema_py_generated as s

    pos = np.asarray(positions, dtype=np.int32)
    a = axis + len(shape) if axis < 0 else axis
    bd = batch_dims + pos.ndim if batch_dims < 0 else batch_dims
    out_shape = list(shape[:a]) + list(pos.shape[bd:]) + list(shape[a + 1:])
    model = s.ModelT()
    model.version = 3
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.GATHER
    code.version = 2
    model.operatorCodes = [code]
    buffers, tensors = [s.BufferT()], []
    for name, shp, ttype, arr, quant in (("input", list(shape), s.TensorType.INT8, None, True),
                                         ("positions", list(pos.shape), s.TensorType.INT32, pos, False),
                                         ("output", out_shape, s.TensorType.INT8, None, True)):
        b = s.BufferT()
        if arr is not None:
            b.data = np.frombuffer(arr.tobytes(), dtype=np.uint8)
        buffers.append(b)
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, np.array(shp, dtype=np.int32), ttype, len(buffers) - 1
        if quant:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = np.array([0.1], dtype=np.float32), np.array([0], dtype=np.int64)
            t.quantization = q
        tensors.append(t)
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, np.array([0, 1], dtype=np.int32), np.array([2], dtype=np.int32)
    op.builtinOptionsType = s.BuiltinOptions.GatherOptions
    opts = s.GatherOptionsT()
    opts.axis, opts.batchDims = axis, batch_dims
    op.builtinOptions = opts
    sg = s.SubGraphT()
    sg.tensors, sg.operators, sg.name = tensors, [op], "main"
    sg.inputs, sg.outputs = np.array([0], dtype=np.int32), np.array([2], dtype=np.int32)
    model.subgraphs, model.buffers = [sg], buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
