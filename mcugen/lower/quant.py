"""The prepare-step arithmetic of TFLM, reproduced in Python for generation time.

Each function computes a requantization parameter exactly as TensorFlow Lite
Micro's kernel prepare code does (double precision where it uses double,
float32 where it multiplies or divides floats, std::round semantics), so that
the generated C, fed these numbers, gives TFLM's outputs bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT16_MIN, INT16_MAX = -32768, 32767
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

TYPE_RANGES = {
    "int8": (INT8_MIN, INT8_MAX),
    "uint8": (0, 255),
    "int16": (INT16_MIN, INT16_MAX),
    "int32": (INT32_MIN, INT32_MAX),
}


class PrepareError(ValueError):
    """The op's quantization parameters are outside what TFLM accepts."""


def f32(x: float) -> np.float32:
    return np.float32(x)


def round_half_away(x: float) -> float:
    """std::round / roundf: halves away from zero."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplier (double rounding build): (Q0.31 multiplier, exponent)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(round_half_away(q * (1 << 31)))
    if q_fixed > (1 << 31):
        raise PrepareError(f"multiplier {real} does not normalize")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    if not (0.0 < real < 1.0):
        raise PrepareError(f"multiplier {real} is not in (0, 1)")
    m, s = quantize_multiplier(real)
    if s > 0:
        raise PrepareError(f"multiplier {real} has a positive shift")
    return m, s


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    if not real > 1.0:
        raise PrepareError(f"multiplier {real} is not greater than 1")
    m, s = quantize_multiplier(real)
    if s < 0:
        raise PrepareError(f"multiplier {real} has a negative shift")
    return m, s


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """kernel_util Quantize(): zero_point + (int)round(value / scale) in float32."""
    return int(zero_point) + int(round_half_away(float(f32(value) / f32(scale))))


def activation_range(activation: str, dtype: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for the fused activation of an op."""
    qmin, qmax = TYPE_RANGES[dtype]
    if activation in ("NONE", None):
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return (
            max(qmin, quantize_value(0.0, scale, zero_point)),
            min(qmax, quantize_value(6.0, scale, zero_point)),
        )
    if activation == "RELU_N1_TO_1":
        return (
            max(qmin, quantize_value(-1.0, scale, zero_point)),
            min(qmax, quantize_value(1.0, scale, zero_point)),
        )
    raise PrepareError(f"fused activation {activation} is not supported for quantized ops")


def conv_per_channel(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: one multiplier/shift per output channel,
    broadcasting a per-tensor filter scale; products and quotient in double."""
    mults, shifts = [], []
    for c in range(channels):
        fs = filter_scales[c] if len(filter_scales) > 1 else filter_scales[0]
        m, s = quantize_multiplier(float(input_scale) * float(fs) / float(output_scale))
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def fc_per_tensor(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler: the input x filter product is a float32 product."""
    product = float(f32(input_scale) * f32(filter_scale))
    return quantize_multiplier(product / float(output_scale))


def padding(stride: int, dilation: int, in_size: int, kernel: int, padding_kind: str) -> tuple[int, int]:
    """(output size, leading padding) as ComputePaddingHeightWidth."""
    effective = (kernel - 1) * dilation + 1
    if padding_kind == "SAME":
        out = (in_size + stride - 1) // stride
    elif padding_kind == "VALID":
        out = (in_size + stride - effective) // stride
    else:
        raise PrepareError(f"padding {padding_kind!r}")
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


EXPLICIT = "EXPLICIT"


def op_padding(op, axis: str, stride: int, dilation: int, in_size: int, kernel: int,
               default: str = "SAME") -> tuple[int, int]:
    """(output size, leading padding) of a windowed op along axis "h" or "w".

    padding "EXPLICIT" is mcugen's own: the tiles of a patch-based stage (mcugen.patch)
    carry their output size and leading padding as options (explicit_out_h, explicit_pad_h, ...);
    the padding after the tile stays implicit, as in TFLM, through the input's bounds."""
    kind = op.option("padding", default)
    if kind == EXPLICIT:
        return int(op.option(f"explicit_out_{axis}")), int(op.option(f"explicit_pad_{axis}"))
    return padding(stride, dilation, in_size, kernel, kind)


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    value = (
        1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
        / math.ldexp(1.0, input_left_shift)
    )
    return int(math.floor(value))


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) for int8-input softmax."""
    scaled_diff_integer_bits = 5
    real = min(float(beta) * float(input_scale) * float(1 << (31 - scaled_diff_integer_bits)), float((1 << 31) - 1))
    mult, shift = quantize_multiplier_greater_than_one(real)
    diff_min = -calculate_input_radius(scaled_diff_integer_bits, shift)
    return mult, shift, diff_min


def logistic_params(input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, input_range_radius) for int8 logistic."""
    input_integer_bits = 4
    real = float(input_scale) * float(1 << (31 - input_integer_bits))
    q, shift = math.frexp(real)
    mult = int(round_half_away(q * (1 << 31)))
    if mult >= (1 << 31):  # static_cast<int32_t> of 2^31: wraps on the targets TFLM runs on
        mult -= 1 << 32
    radius = calculate_input_radius(input_integer_bits, shift, 31)
    return mult, shift, radius


def downscale_multiplier_to_int16(m32: int) -> int:
    if m32 >= INT32_MAX - (1 << 15):
        return INT16_MAX
    return (m32 + (1 << 15)) >> 16


def hard_swish_params(input_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """(reluish_multiplier_q15, reluish_exponent, output_multiplier_q15, output_exponent)."""
    hires_input_scale = f32(1.0 / 128.0) * f32(input_scale)
    reluish_scale = f32(3.0) / f32(32768.0)
    out_m32, out_exp = quantize_multiplier(float(hires_input_scale / f32(output_scale)))
    if out_exp > 0:
        raise PrepareError("HARD_SWISH output multiplier exponent must not be positive")
    rel_m32, rel_exp = quantize_multiplier(float(hires_input_scale / reluish_scale))
    return downscale_multiplier_to_int16(rel_m32), rel_exp, downscale_multiplier_to_int16(out_m32), out_exp


def mean_multiplier(input_scale: float, output_scale: float, num_elements: int) -> tuple[int, int]:
    """QuantizedMeanOrSum: in/out multiplier with 1/num_elements folded in."""
    mult, shift = quantize_multiplier(float(input_scale) / float(output_scale))
    if num_elements <= 0:
        return mult, shift
    extra = num_elements.bit_length() - 1  # 63 - clz64(n)
    extra = min(extra, 32)
    extra = min(extra, 31 + shift)
    mult = (mult << extra) // num_elements
    return int(mult), shift - extra


def add_params(s1: float, s2: float, so: float, left_shift: int = 20) -> dict[str, int]:
    twice_max = 2.0 * float(max(f32(s1), f32(s2)))
    m1, sh1 = quantize_multiplier_smaller_than_one(float(s1) / twice_max)
    m2, sh2 = quantize_multiplier_smaller_than_one(float(s2) / twice_max)
    mo, sho = quantize_multiplier_smaller_than_one(twice_max / (float(1 << left_shift) * float(so)))
    return {
        "left_shift": left_shift,
        "input1_multiplier": m1, "input1_shift": sh1,
        "input2_multiplier": m2, "input2_shift": sh2,
        "output_multiplier": mo, "output_shift": sho,
    }


def relu_params(input_scale: float, output_scale: float, output_zero_point: int, dtype: str) -> tuple[int, int, int, int]:
    """CalculateReluOpData: (multiplier, shift, act_min, act_max)."""
    mult, shift = quantize_multiplier(float(f32(input_scale) / f32(output_scale)))
    qmin, qmax = TYPE_RANGES[dtype]
    act_min = max(qmin, output_zero_point + int(round_half_away(float(f32(0.0) / f32(output_scale)))))
    return mult, shift, act_min, qmax


def relu6_bounds(scale: float, zero_point: int, dtype: str) -> tuple[int, int]:
    """Relu6Prepare: zero point and FloatToQuantizedType(6.0)."""
    qmin, qmax = TYPE_RANGES[dtype]
    six = int(round_half_away(float(f32(6.0) / f32(scale)))) + zero_point
    return zero_point, max(qmin, min(qmax, six))


def sub_params(s1: float, s2: float, so: float, left_shift: int = 20) -> dict[str, int]:
    """CalculateOpDataSub: Add's parameters, but computed in float32 where Sub's prepare
    divides floats (twice the larger scale, each ratio, the output's)."""
    twice_max = f32(2.0) * max(f32(s1), f32(s2))
    m1, sh1 = quantize_multiplier_smaller_than_one(float(f32(s1) / twice_max))
    m2, sh2 = quantize_multiplier_smaller_than_one(float(f32(s2) / twice_max))
    mo, sho = quantize_multiplier_smaller_than_one(float(twice_max / (f32(1 << left_shift) * f32(so))))
    return {
        "left_shift": left_shift,
        "input1_multiplier": m1, "input1_shift": sh1,
        "input2_multiplier": m2, "input2_shift": sh2,
        "output_multiplier": mo, "output_shift": sho,
    }


def squared_difference_params(s1: float, s2: float, so: float, left_shift: int = 7) -> dict[str, int]:
    """SquaredDifference's PrepareQuantized (int8: left shift 7): input ratios to twice the
    larger scale in double, the output's from its square over 2^(2 * left_shift) * scale."""
    twice_max = 2.0 * float(max(f32(s1), f32(s2)))
    m1, sh1 = quantize_multiplier_smaller_than_one(float(f32(s1)) / twice_max)
    m2, sh2 = quantize_multiplier_smaller_than_one(float(f32(s2)) / twice_max)
    mo, sho = quantize_multiplier((twice_max * twice_max) / float(f32(1 << (left_shift * 2)) * f32(so)))
    return {
        "left_shift": left_shift,
        "input1_multiplier": m1, "input1_shift": sh1,
        "input2_multiplier": m2, "input2_shift": sh2,
        "output_multiplier": mo, "output_shift": sho,
    }


def leaky_relu_params(input_scale: float, output_scale: float, alpha: float) -> tuple[int, int, int, int]:
    """CalculateOpDataLeakyRelu: (identity multiplier, shift, alpha multiplier, shift), the
    products and ratios in float32 as its prepare computes them."""
    mi, si = quantize_multiplier(float(f32(input_scale) / f32(output_scale)))
    ma, sa = quantize_multiplier(float(f32(input_scale) * f32(alpha) / f32(output_scale)))
    if ma <= INT32_MIN or ma > INT32_MAX:
        raise PrepareError(f"alpha multiplier of {alpha} does not fit in int32")
    return mi, si, ma, sa


def prelu_params(input_scale: float, alpha_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """PreluPrepare: (multiplier 1, shift 1, multiplier 2, shift 2) in double."""
    m1, s1 = quantize_multiplier(float(f32(input_scale)) / float(f32(output_scale)))
    m2, s2 = quantize_multiplier(float(f32(input_scale)) * float(f32(alpha_scale)) / float(f32(output_scale)))
    return m1, s1, m2, s2


def abs_params(input_scale: float, output_scale: float) -> tuple[bool, int, int]:
    """Abs's prepare: (needs rescale, multiplier, shift); the ratio in float32."""
    if f32(input_scale) == f32(output_scale):
        return False, 0, 0
    m, s = quantize_multiplier(float(f32(input_scale) / f32(output_scale)))
    return True, m, s


def rsqrt_params(input_scale: float, output_scale: float) -> tuple[int, int]:
    """SetRsqrtOutputMultiplier: 1 / (sqrt(input scale) * output scale), the product in float32."""
    m, s = quantize_multiplier(1.0 / float(np.sqrt(f32(input_scale)) * f32(output_scale)))
    if s - 20 < -31 or s + 20 > 31:
        raise PrepareError(f"rsqrt multiplier exponent {s} is outside what TFLM's shifts allow")
    return m, s
