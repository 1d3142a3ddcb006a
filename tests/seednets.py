"""Seed-size networks for the external-memory tests: MnasNet-A1 0.75 224 and SSDLite
MobileNetV2 300, written in Keras from their papers (MobileNet V2 1.0 224 is
tfops.mobilenet_v2_flat), random weights, quantized and cached by tfmodels.cached_model
(the cache key holds the builder's source).

Facts: MnasNet-A1, Tan et al. 2019, "MnasNet: Platform-Aware Neural Architecture Search
for Mobile", figure 7(a) (stages, kernels, expansions, squeeze-and-excitation with
ratio 0.25 of the block's input channels), channels times the depth multiplier rounded
to a multiple of 8 (never below 90 %), the 1280-channel head kept. SSDLite: Sandler et
al. 2018, "MobileNetV2", section 6.2 (SSDLite: the prediction layers as depthwise-
separable convolutions; the first feature map the expansion of block 13, 19x19x576 at
300x300, the second the last 1x1 conv, 10x10x1280, then extra layers down to 1x1 with
512, 256, 256, 128 channels), 3 anchors on the first map and 6 on the others, 91 classes
(COCO's 90 and the background). The detection post-processing (a custom TFLite operator)
is left out: the outputs are the boxes and the class logits."""

from __future__ import annotations

from typing import Any


def _channels(c: int, multiplier: float, divisor: int = 8) -> int:
    scaled = c * multiplier
    out = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * scaled else out


def mnasnet_a1(input_shape=(224, 224, 3), alpha=0.75, classes=1000) -> Any:
    import tensorflow as tf

    from tfmodels import _randomize

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)

    def bn_relu(x, relu=True):
        x = L.BatchNormalization()(x)
        return L.ReLU()(x) if relu else x

    def se(x, in_ch):
        s = L.GlobalAveragePooling2D(keepdims=True)(x)
        s = L.Conv2D(max(1, int(in_ch * 0.25)), 1, activation="relu")(s)
        s = L.Conv2D(x.shape[-1], 1, activation="sigmoid")(s)
        return L.Multiply()([x, s])

    def mbconv(x, out_ch, expand, kernel, stride, use_se):
        in_ch = x.shape[-1]
        y = bn_relu(L.Conv2D(in_ch * expand, 1, use_bias=False)(x))
        y = bn_relu(L.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False)(y))
        if use_se:
            y = se(y, in_ch)
        y = bn_relu(L.Conv2D(out_ch, 1, use_bias=False)(y), relu=False)
        return L.Add()([x, y]) if stride == 1 and in_ch == out_ch else y

    x = bn_relu(L.Conv2D(_channels(32, alpha), 3, strides=2, padding="same", use_bias=False)(inp))
    x = bn_relu(L.DepthwiseConv2D(3, padding="same", use_bias=False)(x))
    x = bn_relu(L.Conv2D(_channels(16, alpha), 1, use_bias=False)(x), relu=False)
    # (channels, expansion, kernel, first stride, repeats, squeeze-and-excitation)
    for ch, expand, kernel, stride, repeats, use_se in (
        (24, 6, 3, 2, 2, False), (40, 3, 5, 2, 3, True), (80, 6, 3, 2, 4, False),
        (112, 6, 3, 1, 2, True), (160, 6, 5, 2, 3, True), (320, 6, 3, 1, 1, False),
    ):
        for i in range(repeats):
            x = mbconv(x, _channels(ch, alpha), expand, kernel, stride if i == 0 else 1, use_se)
    x = bn_relu(L.Conv2D(1280, 1, use_bias=False)(x))
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(classes)(x)
    return _randomize(tf.keras.Model(inp, x))


def ssdlite_mobilenet_v2(input_shape=(300, 300, 3), classes=91) -> Any:
    import tensorflow as tf

    from tfmodels import _randomize

    L = tf.keras.layers
    inp = tf.keras.Input(shape=input_shape, batch_size=1)
    backbone = tf.keras.applications.MobileNetV2(input_tensor=inp, alpha=1.0, weights=None, include_top=False)
    features = [backbone.get_layer("block_13_expand_relu").output, backbone.get_layer("out_relu").output]
    x = features[-1]
    for ch in (512, 256, 256, 128):  # the extra layers: 1x1 to half, then a separable 3x3 stride 2
        x = L.ReLU(6.0)(L.BatchNormalization()(L.Conv2D(ch // 2, 1, use_bias=False)(x)))
        x = L.ReLU(6.0)(L.BatchNormalization()(L.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)))
        x = L.ReLU(6.0)(L.BatchNormalization()(L.Conv2D(ch, 1, use_bias=False)(x)))
        features.append(x)

    def head(f, outputs):
        y = L.ReLU(6.0)(L.BatchNormalization()(L.DepthwiseConv2D(3, padding="same", use_bias=False)(f)))
        return L.Conv2D(outputs, 1)(y)

    boxes, scores = [], []
    for i, f in enumerate(features):
        anchors = 3 if i == 0 else 6
        boxes.append(L.Reshape((-1, 4))(head(f, anchors * 4)))
        scores.append(L.Reshape((-1, classes))(head(f, anchors * classes)))
    out = [L.Concatenate(axis=1)(boxes), L.Concatenate(axis=1)(scores)]
    return _randomize(tf.keras.Model(inp, out))
