"""TFLM's prepare-step arithmetic for 16x8 quantization (int16 activations, int8
weights) that mcugen.lower.quant does not already hold: the int16 softmax's input
scaling and the interpolated 513-entry tables of LUTPopulate<int16_t>.

LUTPopulate runs in float32 (TFLM's `LUTPopulateInt16<float>`): every product, sum
and quotient below is a numpy float32 operation, rounded as TfLiteRound (halves away
from zero), so that the tables equal TFLM's bit for bit.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from mcugen.lower import quant as Q

TABLES_PATH = Path(__file__).resolve().parent.parent / "data" / "tflm_tables.json"

LUT_SIZE = 513  # 512 segments indexed by the high 9 bits, one more for the last slope
_STEPS = 512
_F = np.float32


def _round(v: np.float32) -> np.float32:
    """TfLiteRound on a float: halves away from zero (exact for any float32)."""
    return _F(math.copysign(math.floor(abs(float(v)) + 0.5), float(v)))


def lut_int16(transform: Callable[[np.float32], np.float32], input_scale: float, input_zero_point: int,
              output_scale: float, output_zero_point: int) -> np.ndarray:
    """LUTPopulate<int16_t>: 513 samples of transform over the input's int16 range, each
    corrected by half the interpolation error at its segment's midpoint."""
    in_scale, out_scale = _F(input_scale), _F(output_scale)
    input_min = in_scale * _F(-32768 - input_zero_point)
    input_max = in_scale * _F(32767 - input_zero_point)
    output_min = out_scale * _F(-32768 - output_zero_point)
    output_max = out_scale * _F(32767 - output_zero_point)
    step = (input_max - input_min) / _F(_STEPS)
    half_step = step / _F(2)
    inv = _F(65536) / (output_max - output_min)
    lo, hi = _F(-32768), _F(32767)
    lut = np.zeros(LUT_SIZE, dtype=np.int16)
    for i in range(_STEPS):
        at = input_min + _F(i) * step
        val = transform(at)
        val_mid = transform(at + half_step)
        val_next = transform(input_min + _F(i + 1) * step)
        sample = _round(val * inv)
        interp = _round((val_next * inv + _round(val * inv)) / _F(2))
        mid = _round(val_mid * inv)
        bias = _round((interp - mid) / _F(2))
        lut[i] = int(min(max(sample - bias, lo), hi))
    lut[_STEPS] = int(min(max(_round(transform(input_max) * inv), lo), hi))
    return lut


def _expf(v: np.float32) -> np.float32:
    """std::exp on a float (glibc expf: the double exp rounded to float)."""
    return _F(math.exp(float(v)))


def _one_over_one_plus_x(v: np.float32) -> np.float32:
    return _F(1) / (_F(1) + v)


_RANGE = 65535  # int16 max - min, an int in TFLM's prepare


def softmax_luts() -> tuple[np.ndarray, np.ndarray]:
    """(exp table on [-10, 0], 1/(1+x) table on [0, 1]) of the int16 softmax; the same for
    every softmax, as TFLM's InitializeLutForInt16 fills them."""
    exp_lut = lut_int16(_expf, float(_F(10.0) / _F(_RANGE)), 32767, float(_F(2.0) / _F(_RANGE)), 0)
    recip_lut = lut_int16(_one_over_one_plus_x, float(_F(1.0) / _F(_RANGE)), -32768, float(_F(2.0) / _F(_RANGE)), 0)
    return exp_lut, recip_lut


def softmax16_params(beta: float, input_scale: float) -> tuple[int, int]:
    """(input_multiplier, input_shift): the input difference scaled so that [-65535, 0]
    covers [-10, 0], in double as CalculateSoftmaxParams."""
    real = float(_F(input_scale)) * float(_F(beta)) / (10.0 / 65535.0)
    return Q.quantize_multiplier(real)


@lru_cache(maxsize=None)
def sigmoid_table() -> np.ndarray:
    """TFLM's sigmoid_table_uint16 (sigmoid(i/24), unsigned Q0.16, 256 entries), from the data
    mcugen.calibrate.tflm_tables extracted from the pinned tree."""
    values = json.loads(TABLES_PATH.read_text())["tables"]["sigmoid_table_uint16"]
    return np.asarray(values, dtype=np.uint16)


def _checked_log2(x: float) -> tuple[bool, int]:
    """CheckedLog2: (whether x is a power of two within 1e-3 in the exponent, the rounded
    exponent), in float32 as TFLM computes it."""
    x_log2 = _F(np.log(_F(x))) * (_F(1.0) / _F(np.log(_F(2.0))))
    rounded = _round(x_log2)
    return bool(abs(x_log2 - rounded) < _F(1e-3)), int(rounded)


def sigmoid16_params(input_scale: float, output_scale: float, tanh: bool) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) of the int16 LOGISTIC (tanh=False) or TANH:
    0 and the shift for an input scale of 2^-12 (LOGISTIC) or 2^-12 / 2^-11 (TANH), else the
    input scale x 3 x 4096 doubled until it exceeds 32767 / 2, truncated (their prepare)."""
    pot, log2 = _checked_log2(input_scale)
    shift = 12 + log2
    pot = pot and (shift in (0, 1) if tanh else shift == 0)
    if pot:
        mult = 0
    else:
        multiplier = float(_F(input_scale)) * 4096.0 * 3.0
        shift = 0
        while multiplier <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            multiplier *= 2.0
        mult = int(multiplier)
    if mult > 32767:
        raise Q.PrepareError(f"input scale {input_scale} gives a multiplier above 32767")
    out_pot, out_log2 = _checked_log2(output_scale)
    if not (out_pot and out_log2 == -15):
        raise Q.PrepareError(f"int16 {'TANH' if tanh else 'LOGISTIC'} output scale must be 2^-15")
    return mult, shift


__all__ = ["LUT_SIZE", "TABLES_PATH", "lut_int16", "sigmoid16_params", "sigmoid_table", "softmax16_params",
           "softmax_luts"]
