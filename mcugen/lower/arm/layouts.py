"""Weight layouts of the Cortex-M7 kernels: numpy -> numpy, computed at generation time.

Each function turns a filter as the model stores it into the exact byte or word
order the kernel's inner loop reads (firmware/kernels/arm/*.c documents the same
layouts from the C side). Nothing here depends on the graph: tests call these
directly on random arrays.
"""

from __future__ import annotations

import numpy as np

STEP = 4  # depth elements per inner-loop step (one int8 word)


def ceil_to(n: int, m: int) -> int:
    return (n + m - 1) // m * m


def pad_depth(w2d: np.ndarray, depth: int) -> np.ndarray:
    """[out_c, K] -> [out_c, depth] with zeros appended (depth >= K)."""
    out_c, k = w2d.shape
    out = np.zeros((out_c, depth), dtype=w2d.dtype)
    out[:, :k] = w2d
    return out


def pair_interleave(w2d: np.ndarray) -> np.ndarray:
    """[out_c, steps * 4] int8 -> the matrix kernels' filter stream (mcu_arm_mat_mult_s8.c):
    for each channel pair (2j, 2j+1), for each step, channel 2j's 4 bytes then 2j+1's;
    an odd last channel follows alone, step after step. Bytes stay in natural order:
    SXTB16 / SXTB16 ROR 8 give {k0, k2} / {k1, k3}, the lane order of the expanded inputs."""
    out_c, depth = w2d.shape
    if depth % STEP:
        raise ValueError(f"depth {depth} is not a multiple of {STEP}")
    steps = depth // STEP
    words = np.asarray(w2d, dtype=np.int8).reshape(out_c, steps, STEP)
    pairs = out_c // 2
    parts = [words[: 2 * pairs].reshape(pairs, 2, steps, STEP).transpose(0, 2, 1, 3).reshape(-1)]
    if out_c % 2:
        parts.append(words[-1].reshape(-1))
    return np.concatenate(parts).astype(np.int8)


def _pack16(bottom: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Two int16 values per int32 word, bottom in bits 15:0."""
    word = (np.asarray(bottom, dtype=np.int64) & 0xFFFF) | ((np.asarray(top, dtype=np.int64) & 0xFFFF) << 16)
    return ((word + 2**31) % 2**32 - 2**31).astype(np.int32)


def _words(b: np.ndarray) -> np.ndarray:
    """int8 bytes (a multiple of 4) -> little-endian int32 words."""
    return np.ascontiguousarray(np.asarray(b, dtype=np.int8)).view("<i4").astype(np.int32)


def wide_words(w2d: np.ndarray) -> np.ndarray:
    """[out_c, steps * 4] int8 -> [out_c, steps, 2] int32: per step {2 w0, 2 w2}, {2 w1, 2 w3}
    (int16 halves, bottom first): the SXTB16 lane order, doubled."""
    out_c, depth = w2d.shape
    q = 2 * np.asarray(w2d, dtype=np.int64).reshape(out_c, depth // STEP, STEP)
    return np.stack([_pack16(q[..., 0], q[..., 2]), _pack16(q[..., 1], q[..., 3])], axis=-1)


def mm_stream(w2d: np.ndarray, rows: np.ndarray, wide: bool = False) -> np.ndarray:
    """The matrix kernels' filter stream (mcu_arm_kernels.h, mcu_arm_mat_mult_s8.c), int32
    words, from filters w2d [out_c, steps * 4] (int8, depth already padded) and requant
    rows [out_c, 4] = (bias, mult, add, shift): per channel pair, both biases, then per
    step the two channels' filter words, then mult[2], add[2], shift[2]; an odd last
    channel as bias, its words, mult, add, shift. A channel's words for a step: its 4 int8
    as one word, or (wide) the two words of `wide_words`."""
    out_c, depth = w2d.shape
    if depth % STEP:
        raise ValueError(f"depth {depth} is not a multiple of {STEP}")
    steps = depth // STEP
    if wide:
        words = wide_words(w2d).reshape(out_c, steps, 2)
    else:
        words = _words(np.asarray(w2d, dtype=np.int8).reshape(-1)).reshape(out_c, steps, 1)
    rows = np.asarray(rows, dtype=np.int64).reshape(out_c, 4).astype(np.int32)
    parts = []
    for j in range(0, out_c - 1, 2):
        parts += [rows[j : j + 2, 0], words[j : j + 2].transpose(1, 0, 2).reshape(-1), rows[j : j + 2, 1],
                  rows[j : j + 2, 2], rows[j : j + 2, 3]]
    if out_c % 2:
        parts += [rows[-1:, 0], words[-1].reshape(-1), rows[-1, 1:4]]
    return np.concatenate(parts).astype(np.int32)


def conv1x1_filter(filt: np.ndarray) -> np.ndarray:
    """CONV_2D 1x1 filter [out_c, 1, 1, in_c] (or FULLY_CONNECTED [units, depth]) ->
    depth padded to a multiple of 4, channel pairs interleaved."""
    out_c = filt.shape[0]
    w2d = np.asarray(filt, dtype=np.int8).reshape(out_c, -1)
    return pair_interleave(pad_depth(w2d, ceil_to(w2d.shape[1], STEP)))


def conv_row_len(k_w: int, in_c: int) -> int:
    """Depth of one filter row in the general convolution's im2col: kw * in_c rounded up to 4."""
    return ceil_to(k_w * in_c, STEP)


def conv_filter_rows(filt: np.ndarray) -> np.ndarray:
    """CONV_2D filter [out_c, kh, kw, in_c] -> [out_c, kh * row_len]: each filter row's
    kw * in_c values padded with zeros to row_len (mcu_conv2d_s8_arm.c's im2col order)."""
    out_c, k_h, k_w, in_c = filt.shape
    rlen = conv_row_len(k_w, in_c)
    rows = pad_depth(np.asarray(filt, dtype=np.int8).reshape(out_c * k_h, k_w * in_c), rlen)
    return rows.reshape(out_c, k_h * rlen)


def conv_filter(filt: np.ndarray) -> np.ndarray:
    """CONV_2D filter [out_c, kh, kw, in_c] -> the general convolution's filter order
    (rows padded, channel pairs interleaved)."""
    return pair_interleave(conv_filter_rows(filt))


def conv1x1_depth(filt: np.ndarray) -> np.ndarray:
    """[out_c, ..., K] (CONV_2D 1x1 or FULLY_CONNECTED) -> [out_c, K rounded up to 4]."""
    out_c = filt.shape[0]
    w2d = np.asarray(filt, dtype=np.int8).reshape(out_c, -1)
    return pad_depth(w2d, ceil_to(w2d.shape[1], STEP))


def depthwise_as_conv(filt: np.ndarray) -> np.ndarray:
    """DEPTHWISE_CONV_2D filter [1, kh, kw, out_c] of a 1-input-channel layer -> the
    equivalent CONV_2D filter [out_c, kh, kw, 1]."""
    return np.ascontiguousarray(np.transpose(np.asarray(filt), (3, 1, 2, 0)))


# Depthwise kernels: taps in raster order (tap = ky * kw + kx), paired (0, 1), (2, 3), ...;
# an odd last tap is alone. For 3x3: (0, 1), (2, 3), (4, 5), (6, 7) and 8.
DW3X3_GROUP_WEIGHT_WORDS = 18
DW3X3_GROUP_WORDS = 16 + DW3X3_GROUP_WEIGHT_WORDS


def dw_filter(filt: np.ndarray) -> np.ndarray:
    """DEPTHWISE_CONV_2D filter [1, kh, kw, C] (C % 4 == 0) -> [C / 4, words] int32: per
    group of 4 channels, for each tap pair (ta, tb) the words {2 w[ta][c], 2 w[tb][c]}
    (int16 halves, ta in the bottom) for c = 0..3, then for an odd last tap t the words
    {2 w[t][0], 2 w[t][2]} and {2 w[t][1], 2 w[t][3]}. Doubled: the kernels accumulate
    twice TFLM's sum."""
    _, k_h, k_w, channels = filt.shape
    if channels % 4:
        raise ValueError(f"channels {channels} are not a multiple of 4")
    n = k_h * k_w
    taps = 2 * np.asarray(filt, dtype=np.int32).reshape(n, channels // 4, 4)  # [tap, group, c]
    words = [_pack16(taps[t], taps[t + 1]) for t in range(0, n - 1, 2)]      # [group, 4] each
    if n % 2:
        last = taps[n - 1]
        words.append(np.stack([_pack16(last[:, 0], last[:, 2]), _pack16(last[:, 1], last[:, 3])], axis=1))
    return np.concatenate(words, axis=1).astype(np.int32)


def dw3x3_filter(filt: np.ndarray) -> np.ndarray:
    """DEPTHWISE_CONV_2D 3x3 filter [1, 3, 3, C] -> [C / 4, 18] int32 (`dw_filter`)."""
    if tuple(filt.shape[1:3]) != (3, 3):
        raise ValueError(f"expected a [1, 3, 3, 4n] filter, got {list(filt.shape)}")
    return dw_filter(filt)


def dw_packed(filt: np.ndarray, rq_rows: np.ndarray) -> np.ndarray:
    """The depthwise kernels' stream, per group of 4 channels in the order the loop reads
    it: bias[4], the weight words (`dw_filter`), then shift[0], shift[1], (mult, add) of
    channels 0 and 1, shift[2], shift[3], (mult, add) of channels 2 and 3."""
    weights = dw_filter(filt)
    groups = weights.shape[0]
    rq = np.asarray(rq_rows, dtype=np.int64).reshape(groups, 4, 4)   # [group, channel, field]
    bias = rq[:, :, 0]
    tail = np.concatenate([rq[:, 0:2, 3], rq[:, 0:2, 1:3].reshape(groups, 4),
                           rq[:, 2:4, 3], rq[:, 2:4, 1:3].reshape(groups, 4)], axis=1)
    return np.concatenate([bias, weights, tail], axis=1).astype(np.int32).reshape(-1)


dw3x3_packed = dw_packed
