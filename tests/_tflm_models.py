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


def detection_postprocess(anchors=12, classes=3, max_detections=5, seed=0, regular_nms=False, score_threshold=0.3,
                          iou_threshold=0.5, classes_per_detection=1, detections_per_class=100, background=True,
                          box_values=4, anchor_data=None, scales=(10.0, 10.0, 5.0, 5.0)) -> bytes:
    """int8 box encodings and class scores -> DEQUANTIZE -> TFLite_Detection_PostProcess (TFLM's
    custom op, fast NMS unless regular_nms) -> four float outputs (boxes, classes, scores, count),
    written with TensorFlow's schema object API and the op's flexbuffer options. background: one
    more score column than classes; box_values: values per box encoding (4, or more as some
    exporters write); anchor_data: [anchors, 4] (ycenter, xcenter, h, w), random by default."""
    import flatbuffers
    from flatbuffers import flexbuffers
    from tensorflow.lite.python import schema_py_generated as s

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.1, 0.9, size=(anchors, 2))
    sizes = rng.uniform(0.1, 0.4, size=(anchors, 2))
    if anchor_data is None:
        anchor_data = np.concatenate([centres, sizes], axis=1)  # ycenter, xcenter, h, w
    anchor_data = np.asarray(anchor_data, dtype=np.float32)
    anchors = anchor_data.shape[0]
    rows = max_detections * classes_per_detection
    model = s.ModelT()
    model.version = 3
    codes = []
    for builtin, custom in ((s.BuiltinOperator.DEQUANTIZE, None), (s.BuiltinOperator.CUSTOM,
                                                                     "TFLite_Detection_PostProcess")):
        code = s.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = builtin
        code.version = 1
        code.customCode = custom
        codes.append(code)
    model.operatorCodes = codes
    buffers = [s.BufferT()]

    def tensor(name, shape, ttype, quant=None, data=None):
        t = s.TensorT()
        t.name, t.shape, t.type = name, np.array(shape, dtype=np.int32), ttype
        b = s.BufferT()
        if data is not None:
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
        buffers.append(b)
        t.buffer = len(buffers) - 1
        if quant:
            q = s.QuantizationParametersT()
            q.scale = np.array([quant[0]], dtype=np.float32)
            q.zeroPoint = np.array([quant[1]], dtype=np.int64)
            t.quantization = q
        return t

    f32, i8 = s.TensorType.FLOAT32, s.TensorType.INT8
    tensors = [
        tensor("box_encodings", [1, anchors, box_values], i8, (0.05, 0)),
        tensor("class_scores", [1, anchors, classes + int(background)], i8, (1.0 / 256, -128)),
        tensor("boxes_f", [1, anchors, box_values], f32),
        tensor("scores_f", [1, anchors, classes + int(background)], f32),
        tensor("anchors", [anchors, 4], f32, None, anchor_data),
        tensor("detection_boxes", [1, rows, 4], f32),
        tensor("detection_classes", [1, rows], f32),
        tensor("detection_scores", [1, rows], f32),
        tensor("num_detections", [1], f32),
    ]

    def op(code, ins, outs, options=None):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code, np.array(ins, dtype=np.int32), np.array(outs, dtype=np.int32)
        if options is not None:
            o.customOptions = np.frombuffer(bytes(options), dtype=np.uint8)
        return o

    options = flexbuffers.Dumps({
        "max_detections": max_detections, "max_classes_per_detection": classes_per_detection,
        "detections_per_class": detections_per_class, "use_regular_nms": regular_nms,
        "nms_score_threshold": score_threshold, "nms_iou_threshold": iou_threshold, "num_classes": classes,
        "y_scale": scales[0], "x_scale": scales[1], "h_scale": scales[2], "w_scale": scales[3]})
    sg = s.SubGraphT()
    sg.tensors = tensors
    sg.inputs, sg.outputs = np.array([0, 1], dtype=np.int32), np.array([5, 6, 7, 8], dtype=np.int32)
    sg.operators = [op(0, [0], [2]), op(0, [1], [3]), op(1, [2, 3, 4], [5, 6, 7, 8], options)]
    sg.name = "main"
    model.subgraphs = [sg]
    model.buffers = buffers
    model.description = "mcugen test: TFLite_Detection_PostProcess"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def while_loop(body_op: str = "ADD") -> bytes:
    """An int8 WHILE loop (three subgraphs: main, cond, body): y = x doubled three times by the body's
    ADD (or `body_op`, to put an op TFLM does not register in a body), the counter a constant.
    Written with TensorFlow's schema object API (the converter's int8 WHILE keeps its loop-carried
    tensors float)."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as s

    m = s.ModelT(); m.version = 3
    codes = []
    for b in (s.BuiltinOperator.WHILE, s.BuiltinOperator.LESS, getattr(s.BuiltinOperator, body_op)):
        c = s.OperatorCodeT(); c.builtinCode = c.deprecatedBuiltinCode = b; c.version = 1; codes.append(c)
    m.operatorCodes = codes
    bufs = [s.BufferT()]
    def T(name, shape, tt, q=None, data=None):
        t = s.TensorT(); t.name = name; t.shape = np.array(shape, dtype=np.int32); t.type = tt
        b = s.BufferT()
        if data is not None: b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
        bufs.append(b); t.buffer = len(bufs) - 1
        if q:
            qq = s.QuantizationParametersT(); qq.scale = np.array([q[0]], np.float32); qq.zeroPoint = np.array([q[1]], np.int64); t.quantization = qq
        return t
    I8, I32, B = s.TensorType.INT8, s.TensorType.INT32, s.TensorType.BOOL
    def op(code, ins, outs, ot=None, o=None):
        x = s.OperatorT(); x.opcodeIndex = code; x.inputs = np.array(ins, np.int32); x.outputs = np.array(outs, np.int32)
        if ot: x.builtinOptionsType = ot; x.builtinOptions = o
        return x
    def sg(tensors, ins, outs, ops, name):
        g = s.SubGraphT(); g.tensors = tensors; g.inputs = np.array(ins, np.int32); g.outputs = np.array(outs, np.int32); g.operators = ops; g.name = name; return g
    # main: x int8 [1,5] -> WHILE(i=0 counter input, x) -> y
    wo = s.WhileOptionsT(); wo.condSubgraphIndex = 1; wo.bodySubgraphIndex = 2
    main = sg([T("x", [1, 5], I8, (0.1, 3)), T("i0", [1], I32, None, np.array([0], np.int32)), T("i_out", [1], I32), T("y", [1, 5], I8, (0.1, 3))],
              [0], [3], [op(0, [1, 0], [2, 3], s.BuiltinOptions.WhileOptions, wo)], "main")
    cond = sg([T("ci", [1], I32), T("cx", [1, 5], I8, (0.1, 3)), T("limit", [1], I32, None, np.array([3], np.int32)), T("c", [1], B)],
              [0, 1], [3], [op(1, [0, 2], [3])], "cond")
    ao = s.AddOptionsT()
    body = sg([T("bi", [1], I32), T("bx", [1, 5], I8, (0.1, 3)), T("one", [1], I32, None, np.array([1], np.int32)),
               T("bi2", [1], I32), T("bx2", [1, 5], I8, (0.1, 3))],
              [0, 1], [3, 4], [op(2, [0, 2], [3], s.BuiltinOptions.AddOptions, ao), op(2, [1, 1], [4], s.BuiltinOptions.AddOptions, s.AddOptionsT())], "body")
    m.subgraphs = [main, cond, body]; m.buffers = bufs
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def ssd_heads(size=64, classes=4, anchors=96, sigmoid=True):
    """A tiny SSD exported without its post-processing (as the SSDLite family ships): a conv
    backbone and two heads, raw box encodings [1, anchors, 4] and sigmoid class scores
    [1, anchors, classes + 1] (background first) as the model's outputs; sigmoid=False: raw logits
    (TF's raw_outputs/class_predictions)."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = tf.keras.Input(shape=(size, size, 3), batch_size=1)
    x = L.Conv2D(8, 3, strides=4, padding="same", activation="relu")(inp)
    x = L.Conv2D(8, 3, strides=4, padding="same", activation="relu")(x)
    x = L.Flatten()(x)
    boxes = L.Reshape((anchors, 4), name="box_encodings")(L.Dense(anchors * 4)(x))
    logits = L.Dense(anchors * (classes + 1), activation="sigmoid" if sigmoid else None)(x)
    scores = L.Reshape((anchors, classes + 1), name="class_scores")(logits)
    return tf.keras.Model(inp, [boxes, scores])


def with_detection_postprocess(model: bytes, anchors, **options) -> bytes:
    """The .tflite with TFLite_Detection_PostProcess appended to its two outputs (the one whose
    last dimension is 4 holds the boxes) through DEQUANTIZE, as TF's SSD export writes it: the
    anchors a constant [N, 4] (ycenter, xcenter, h, w), the op's four float outputs the model's."""
    import flatbuffers
    from flatbuffers import flexbuffers
    from tensorflow.lite.python import schema_py_generated as s

    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(model, 0))
    sg = m.subgraphs[0]

    def code(builtin, custom=None):
        c = s.OperatorCodeT()
        c.builtinCode = c.deprecatedBuiltinCode = builtin
        c.version, c.customCode = 1, custom
        m.operatorCodes.append(c)
        return len(m.operatorCodes) - 1

    def tensor(name, shape, ttype=s.TensorType.FLOAT32, data=None):
        t = s.TensorT()
        t.name, t.shape, t.type = name, np.array(shape, dtype=np.int32), ttype
        b = s.BufferT()
        if data is not None:
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
        m.buffers.append(b)
        t.buffer = len(m.buffers) - 1
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    def op(index, ins, outs, custom=None):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = index, np.array(ins, dtype=np.int32), np.array(outs, dtype=np.int32)
        if custom is not None:
            o.customOptions = np.frombuffer(bytes(custom), dtype=np.uint8)
        sg.operators.append(o)

    outs = [int(i) for i in sg.outputs]
    box = next(i for i in outs if list(sg.tensors[i].shape)[-1] == 4)
    score = next(i for i in outs if i != box)
    deq = code(s.BuiltinOperator.DEQUANTIZE)
    det = code(s.BuiltinOperator.CUSTOM, "TFLite_Detection_PostProcess")
    fb = tensor("boxes_f", list(sg.tensors[box].shape))
    fs = tensor("scores_f", list(sg.tensors[score].shape))
    op(deq, [box], [fb])
    op(deq, [score], [fs])
    anchors = np.asarray(anchors, dtype=np.float32)
    a = tensor("anchors", list(anchors.shape), data=anchors)
    rows = options["max_detections"] * options["max_classes_per_detection"]
    results = [tensor("detection_boxes", [1, rows, 4]), tensor("detection_classes", [1, rows]),
               tensor("detection_scores", [1, rows]), tensor("num_detections", [1])]
    op(det, [fb, fs, a], results, flexbuffers.Dumps(options))
    sg.outputs = np.array(results, dtype=np.int32)
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
