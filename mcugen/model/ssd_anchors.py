"""The SSD anchor table, as the TensorFlow Object Detection API's `ssd_anchor_generator`
builds it (anchor_generators/multiple_grid_anchor_generator.py, create_ssd_anchors, and
grid_anchor_generator.py, tile_anchors), in the (ycenter, xcenter, h, w) form the
TFLite_Detection_PostProcess op takes, for a unit image (normalized coordinates).

Per layer k of num_layers: scale s_k = min_scale + (max_scale - min_scale) * k / (num_layers - 1)
(and s_num_layers = 1); the boxes of a cell are one per aspect ratio a (h = s / sqrt(a),
w = s * sqrt(a)) plus, when interpolated_scale_aspect_ratio > 0, one of scale sqrt(s_k * s_k+1)
at that ratio; layer 0 with reduce_boxes_in_lowest_layer has (0.1, 1), (s_0, 2), (s_0, 0.5)
instead. A layer's grid of H x W cells has its centres at (i + 0.5) / H, (j + 0.5) / W; the
anchors run row by row, cell by cell, box by box (TF's tile_anchors order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The defaults of TF's create_ssd_anchors / the ssd_anchor_generator proto.
DEFAULT_MIN_SCALE = 0.2
DEFAULT_MAX_SCALE = 0.95
DEFAULT_ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)
SSD_FEATURE_STRIDES = (16, 32, 64, 128, 256, 512)  # MobileNet SSD heads: layer 15, 19 and four extra layers


@dataclass(frozen=True)
class SsdAnchorParams:
    feature_maps: tuple[tuple[int, int], ...]  # (height, width) of each head's grid, first layer first
    min_scale: float = DEFAULT_MIN_SCALE
    max_scale: float = DEFAULT_MAX_SCALE
    aspect_ratios: tuple[float, ...] = DEFAULT_ASPECT_RATIOS
    interpolated_scale_aspect_ratio: float = 1.0
    reduce_boxes_in_lowest_layer: bool = True


def default_feature_maps(height: int, width: int) -> tuple[tuple[int, int], ...]:
    """The grids of a MobileNet SSD on a height x width input: ceil(size / stride) for strides
    16 to 512 (19x19, 10x10, 5x5, 3x3, 2x2, 1x1 on 300 x 300)."""
    return tuple((math.ceil(height / s), math.ceil(width / s)) for s in SSD_FEATURE_STRIDES)


def _layer_boxes(p: SsdAnchorParams) -> list[list[tuple[float, float]]]:
    """(scale, aspect ratio) of each box of a cell, per layer (create_ssd_anchors)."""
    n = len(p.feature_maps)
    if n == 1:
        scales = [p.min_scale]
    else:
        scales = [p.min_scale + (p.max_scale - p.min_scale) * i / (n - 1) for i in range(n)]
    scales.append(1.0)
    layers = []
    for k in range(n):
        if k == 0 and p.reduce_boxes_in_lowest_layer:
            layers.append([(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)])
            continue
        boxes = [(scales[k], a) for a in p.aspect_ratios]
        if p.interpolated_scale_aspect_ratio > 0.0:
            boxes.append((math.sqrt(scales[k] * scales[k + 1]), p.interpolated_scale_aspect_ratio))
        layers.append(boxes)
    return layers


def ssd_anchors(p: SsdAnchorParams) -> np.ndarray:
    """The anchors, [N, 4] float32 (ycenter, xcenter, h, w), in TF's order."""
    rows = []
    for (gh, gw), boxes in zip(p.feature_maps, _layer_boxes(p)):
        sizes = np.array([(s / math.sqrt(a), s * math.sqrt(a)) for s, a in boxes])  # (h, w) per box
        ys = (np.arange(gh) + 0.5) / gh
        xs = (np.arange(gw) + 0.5) / gw
        cy, cx, k = np.meshgrid(ys, xs, np.arange(len(boxes)), indexing="ij")
        rows.append(np.stack([cy.ravel(), cx.ravel(), sizes[k.ravel(), 0], sizes[k.ravel(), 1]], axis=1))
    return np.concatenate(rows).astype(np.float32)


def anchors_per_layer(p: SsdAnchorParams) -> list[int]:
    return [gh * gw * len(boxes) for (gh, gw), boxes in zip(p.feature_maps, _layer_boxes(p))]


__all__ = ["SsdAnchorParams", "anchors_per_layer", "default_feature_maps", "ssd_anchors"]
