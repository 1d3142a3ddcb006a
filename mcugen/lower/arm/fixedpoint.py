"""TFLM's requantization arithmetic in Python integers, and its fast Cortex-M7 form.

`mbqm` is firmware/kernels/mcu_fixedpoint.h's mcu_mul_by_quantized_mult (TFLM's
double-rounding MultiplyByQuantizedMultiplier, int32 wrap-around included), used
to build lookup tables at generation time. `fast_requant` is what the Cortex-M7
kernels compute (firmware/kernels/arm/mcu_arm_requant.h); `fold_channel` decides,
per output channel, whether the fast form is provably identical for every
accumulator the channel can produce, and returns its table row.
"""

from __future__ import annotations

from dataclasses import dataclass

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def wrap32(x: int) -> int:
    """x modulo 2^32 as a signed int32."""
    return ((x + 2**31) % 2**32) - 2**31


def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul (mcu_srdhm)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else (1 - (1 << 30))
    q = abs(ab + nudge) >> 31  # C division truncates toward zero
    return q if ab + nudge >= 0 else -q


def rdbpot(x: int, exponent: int) -> int:
    """RoundingDivideByPOT (mcu_rdbpot), 0 <= exponent <= 31."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier (mcu_mul_by_quantized_mult): wrapping left shift,
    rounding doubling high multiply, rounding right shift."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rdbpot(srdhm(wrap32(x << left), multiplier), right)


def smmlar(a: int, b: int, c: int) -> int:
    """SMMLAR: bits 63:32 of (c << 32) + a * b + 2^31."""
    total = ((c << 32) + a * b + 0x80000000) % 2**64
    return wrap32(total >> 32)


def fast_requant(a: int, mult: int, add: int, shift: int) -> int:
    """mcu_arm_requant_fast before its SSAT: a is twice TFLM's accumulator."""
    t = wrap32(smmlar(a, mult, add) + (a >> 31))
    return t >> shift


@dataclass(frozen=True)
class FoldedChannel:
    """One row of an mcu_arm_requant table (bias, mult, add, shift) and whether it is
    in the fast form (False: TFLM's multiplier and exponent, for the exact path)."""

    bias: int
    mult: int
    add: int
    shift: int
    fast: bool


def fold_channel(bias: int, multiplier: int, shift: int, output_offset: int, acc_bound: int) -> FoldedChannel | None:
    """The table row for a channel whose TFLM accumulator `acc` satisfies |acc| <= acc_bound
    and starts at `bias` (input_offset * sum(filter) already folded in).

    The kernels accumulate a = 2 * acc, so |acc| < 2^30 is needed in every form (None
    otherwise). The fast form also needs an exponent <= -1 (or a zero multiplier), and
    |x| + |add| + 1 < 2^31 for x = SRDHM(acc, multiplier), |x| <= |acc| + 1.
    """
    if acc_bound >= 2**30 or abs(bias) >= 2**30:
        return None
    if multiplier == 0:
        add = 2 * output_offset + 1
        return FoldedChannel(2 * bias, 0, add, 1, True)
    if -31 <= shift <= -1:
        r = -shift
        add = (1 << (r - 1)) + output_offset * (1 << r)
        if acc_bound + 1 + abs(add) + 1 < 2**31 and multiplier < 2**31:
            return FoldedChannel(2 * bias, multiplier, add, r, True)
    return FoldedChannel(2 * bias, multiplier, 0, shift, False)


def fold_channels(biases: list[int], multipliers: list[int], shifts: list[int], output_offset: int,
                  acc_bounds: list[int]) -> tuple[list[tuple[int, int, int, int]], bool] | None:
    """Rows for a layer and whether it needs the exact path (then every row is in TFLM form).
    None when some accumulator could reach 2^30 (no Cortex-M7 variant then)."""
    folded = [fold_channel(b, m, s, output_offset, bound)
              for b, m, s, bound in zip(biases, multipliers, shifts, acc_bounds)]
    if any(f is None for f in folded):
        return None
    if all(f.fast for f in folded):  # type: ignore[union-attr]
        return [(f.bias, f.mult, f.add, f.shift) for f in folded], False  # type: ignore[union-attr]
    return [(2 * b, m, 0, s) for b, m, s in zip(biases, multipliers, shifts)], True
