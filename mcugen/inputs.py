"""Model inputs from files (.npy, .npz, .bin, .bmp) and seeded random inputs.

A sample is one array per model input, in the model's input order, with the
model's dtype and shape. Files that do not match say so clearly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from mcugen.errors import McugenError
from mcugen.model.graph import NUMPY_DTYPES, Graph, Tensor

Sample = list[np.ndarray]


class InputError(McugenError):
    """An input file does not fit the model."""


def _expect(t: Tensor) -> str:
    return f"{t.dtype} {list(t.shape)} ({t.nbytes} bytes)"


def _coerce(array: np.ndarray, t: Tensor, source: str) -> np.ndarray:
    dtype = NUMPY_DTYPES[t.dtype]
    if array.size != t.size:
        raise InputError(
            f"{source}: {array.size} values for input '{t.name}', which takes {_expect(t)}.",
            hint="Give an array of the input's shape (mcugen inspect MODEL shows it).",
        )
    if array.dtype != dtype:
        if array.dtype.kind == "f" and np.dtype(dtype).kind != "f":
            raise InputError(
                f"{source}: float values for the quantized input '{t.name}' ({t.dtype}).",
                hint="Quantize them first: q = round(x / scale) + zero_point (scale and zero point from mcugen inspect).",
            )
        info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
        if info is not None and (array.min() < info.min or array.max() > info.max):
            raise InputError(f"{source}: values outside the range of {t.dtype} for input '{t.name}'.")
        array = array.astype(dtype)
    return np.ascontiguousarray(array.reshape(t.shape))


def read_bmp(path: Path, t: Tensor) -> np.ndarray:
    """An 8-bit indexed BMP whose pixel bytes are the model's input values (rows bottom-up)."""
    data = path.read_bytes()
    if data[:2] != b"BM" or len(data) < 54:
        raise InputError(f"{path}: not a BMP file.")
    offset = int.from_bytes(data[10:14], "little")
    width = int.from_bytes(data[18:22], "little", signed=True)
    height = int.from_bytes(data[22:26], "little", signed=True)
    bits = int.from_bytes(data[28:30], "little")
    if bits != 8:
        raise InputError(f"{path}: a {bits}-bit BMP; mcugen reads 8-bit indexed images whose bytes are the input values.")
    row = (width + 3) // 4 * 4
    rows = abs(height)
    if offset + row * rows > len(data):
        raise InputError(f"{path}: the pixel data is truncated.")
    pixels = np.frombuffer(data[offset : offset + row * rows], dtype=np.uint8).reshape(rows, row)[:, :width]
    if height > 0:
        pixels = pixels[::-1]  # BMP stores rows bottom-up unless the height is negative
    if t.dtype == "int8":
        pixels = pixels.view(np.int8)  # the bytes are two's complement input values
    return _coerce(np.ascontiguousarray(pixels), t, str(path))


def read_input_file(path: str | Path, graph: Graph) -> Sample:
    """One sample from a file: .npy (single input), .npz (one array per input, in order),
    .bin/.raw (the raw bytes of all inputs, concatenated) or .bmp (single image input)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Input file '{path}' does not exist.")
    inputs = graph.input_tensors
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            if len(inputs) != 1:
                raise InputError(f"{path}: the model has {len(inputs)} inputs; give a .npz with one array each.")
            return [_coerce(np.load(path, allow_pickle=False), inputs[0], str(path))]
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                arrays = [z[k] for k in z.files]
            if len(arrays) != len(inputs):
                raise InputError(f"{path}: {len(arrays)} arrays for a model with {len(inputs)} inputs.")
            return [_coerce(a, t, f"{path}[{i}]") for i, (a, t) in enumerate(zip(arrays, inputs))]
        if suffix == ".bmp":
            if len(inputs) != 1:
                raise InputError(f"{path}: a BMP can only feed a single-input model.")
            return [read_bmp(path, inputs[0])]
        if suffix in (".bin", ".raw"):
            data = path.read_bytes()
            need = sum(t.nbytes for t in inputs)
            if len(data) != need:
                raise InputError(
                    f"{path}: {len(data)} bytes; the model's inputs take {need} bytes "
                    f"({', '.join(_expect(t) for t in inputs)})."
                )
            sample, pos = [], 0
            for t in inputs:
                sample.append(np.frombuffer(data[pos : pos + t.nbytes], dtype=NUMPY_DTYPES[t.dtype]).reshape(t.shape).copy())
                pos += t.nbytes
            return sample
    except (ValueError, OSError) as exc:
        raise InputError(f"Cannot read input file '{path}': {exc}.") from exc
    raise InputError(
        f"Input file '{path}' has an unknown type '{suffix}'.",
        hint="Use .npy, .npz, .bin (raw bytes) or an 8-bit .bmp whose bytes are the input values.",
    )


def random_sample(graph: Graph, rng: np.random.Generator) -> Sample:
    """Uniform over each input's integer range; floats spread over the range the
    input's QUANTIZE maps onto int8 (so every code path gets exercised)."""
    sample = []
    for t in graph.input_tensors:
        dtype = NUMPY_DTYPES[t.dtype]
        if np.dtype(dtype).kind in "iu":
            info = np.iinfo(dtype)
            sample.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True, dtype=dtype))
        else:
            lo, hi = _float_range(graph, t)
            sample.append(rng.uniform(lo, hi, size=t.shape).astype(dtype))
    return sample


def _float_range(graph: Graph, t: Tensor) -> tuple[float, float]:
    for op in graph.operators:
        if op.opcode == "QUANTIZE" and op.inputs and op.inputs[0] == t.index:
            out = graph.tensors[op.outputs[0]]
            if out.quant:
                scale, zp = out.quant.scale[0], out.quant.zero_point[0]
                info = np.iinfo(NUMPY_DTYPES[out.dtype])
                return (info.min - zp) * scale, (info.max - zp) * scale
    return -1.0, 1.0


def make_samples(graph: Graph, files: Sequence[str | Path] = (), random: int = 0, seed: int = 0) -> list[Sample]:
    """The given files first, then `random` seeded random samples."""
    samples = [read_input_file(f, graph) for f in files]
    rng = np.random.default_rng(seed)
    samples += [random_sample(graph, rng) for _ in range(random)]
    return samples
