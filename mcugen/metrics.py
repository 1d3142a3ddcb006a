"""ST-style validation figures per output, in the float domain.

P is the prediction (mcugen's output), R the reference (TFLM, or the float
model). Quantized outputs are dequantized with their scale and zero point first,
so figures compare real values, as X-CUBE-AI's validate does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OutputMetrics:
    acc: float | None  # share of samples with the same argmax (classifier outputs only)
    rmse: float
    mae: float
    l2r: float  # ||P - R|| / ||R||
    mean: float  # mean of P - R
    std: float  # standard deviation of P - R
    nse: float  # 1 - sum (R - P)^2 / sum (R - mean R)^2
    cos: float  # cosine similarity of P and R, flattened
    samples: int

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("acc", "rmse", "mae", "l2r", "mean", "std", "nse", "cos", "samples")}


def dequantize(values: np.ndarray, scale: float | None, zero_point: int | None) -> np.ndarray:
    if scale is None or values.dtype.kind == "f":
        return values.astype(np.float64)
    return (values.astype(np.float64) - (zero_point or 0)) * scale


def _safe_div(a: float, b: float, if_zero: float) -> float:
    return float(a / b) if b != 0 else if_zero


def compare(predicted: list[np.ndarray], reference: list[np.ndarray], classifier: bool | None = None) -> OutputMetrics:
    """Figures over a list of samples of one output (each sample one array, same shape)."""
    if len(predicted) != len(reference) or not predicted:
        raise ValueError("need the same, non-zero number of predicted and reference samples")
    p = np.stack([np.asarray(x, dtype=np.float64) for x in predicted])
    r = np.stack([np.asarray(x, dtype=np.float64) for x in reference])
    if p.shape != r.shape:
        raise ValueError(f"shapes differ: {p.shape} vs {r.shape}")
    diff = p - r
    flat_p, flat_r = p.reshape(-1), r.reshape(-1)
    identical = bool(np.array_equal(flat_p, flat_r))
    norm_r = float(np.linalg.norm(flat_r))
    norm_p = float(np.linalg.norm(flat_p))
    denom_nse = float(np.sum((flat_r - flat_r.mean()) ** 2))
    if classifier is None:
        # A classifier output: one row of scores per sample, at least two classes.
        classifier = p.shape[-1] >= 2 and int(np.prod(p.shape[1:])) == p.shape[-1]
    acc = None
    if classifier:
        acc = float(np.mean(p.reshape(len(p), -1).argmax(1) == r.reshape(len(r), -1).argmax(1)))
    return OutputMetrics(
        acc=acc,
        rmse=float(np.sqrt(np.mean(diff**2))),
        mae=float(np.mean(np.abs(diff))),
        l2r=0.0 if identical else _safe_div(float(np.linalg.norm(diff)), norm_r, float("inf")),
        mean=float(diff.mean()),
        std=float(diff.std()),
        nse=1.0 if identical else _safe_div(-float(np.sum(diff**2)), denom_nse, float("-inf")) + 1.0,
        cos=1.0 if identical else _safe_div(float(flat_p @ flat_r), norm_p * norm_r, 0.0),
        samples=len(p),
    )
