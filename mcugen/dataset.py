"""Labelled data for `validate --dataset`: accuracy on the user's own data.

A dataset is an .npz with `x` (one sample per row, float or already of the input's type)
and `y` (class indices, or one-hot rows), or a folder with one sub-folder per class (sorted
names are the class indices) of input files mcugen reads (.npy, .bin, .bmp). Float samples
are quantized with the model's input scale and zero point, as the application would.
`score` gives top-1/top-5 of any set of outputs, the confusion matrix of the top-1 answers
and the samples where two sets of answers disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mcugen.errors import McugenError
from mcugen.inputs import read_input_file
from mcugen.model.graph import Graph

INPUT_SUFFIXES = (".npy", ".bin", ".bmp")


@dataclass(frozen=True)
class Dataset:
    samples: list[list[np.ndarray]]  # per sample, its one input in the model's type and shape
    labels: np.ndarray  # class index per sample
    names: tuple[str, ...]  # per sample, where it came from
    classes: tuple[str, ...]  # class names (folder names, or the indices)


def _quantized(x: np.ndarray, graph: Graph) -> np.ndarray:
    t = graph.input_tensors[0]
    dtype = np.dtype(t.dtype)
    if np.issubdtype(x.dtype, np.floating) and np.issubdtype(dtype, np.integer):
        q = t.quant
        if q is None or len(q.scale) != 1:
            raise McugenError(f"Input '{t.name}' has no single scale: float samples cannot be quantized.",
                              hint="Give the samples in the input's own type.")
        info = np.iinfo(dtype)
        x = np.clip(np.round(x / q.scale[0]) + q.zero_point[0], info.min, info.max)
    return x.astype(dtype).reshape(t.shape)


def load_dataset(path: str | Path, graph: Graph) -> Dataset:
    """The labelled samples at `path` (see the module doc) for `graph`'s single input."""
    path = Path(path)
    if len(graph.input_tensors) != 1:
        raise McugenError("--dataset takes models with one input.", hint="Use --inputs for this model.")
    if path.is_dir():
        return _from_folder(path, graph)
    if path.suffix != ".npz" or not path.is_file():
        raise McugenError(f"--dataset {path}: neither a folder of class folders nor an .npz file.",
                          hint="An .npz with arrays x (samples) and y (labels), or DIR/<class>/<input files>.")
    with np.load(path) as data:
        if "x" not in data or "y" not in data:
            raise McugenError(f"{path} has no arrays 'x' and 'y' (it has {', '.join(data.files) or 'none'}).",
                              hint="np.savez(path, x=samples, y=labels)")
        x, y = np.asarray(data["x"]), np.asarray(data["y"])
    if y.ndim == 2:  # one-hot
        y = y.argmax(axis=1)
    if len(x) != len(y) or len(x) == 0:
        raise McugenError(f"{path}: {len(x)} samples but {len(y)} labels.", hint="One label per sample.")
    size = int(np.prod(graph.input_tensors[0].shape))
    if int(np.prod(x.shape[1:])) != size:
        raise McugenError(f"{path}: samples of shape {list(x.shape[1:])}, the model's input has {size} values.",
                          hint=f"Reshape x to (N, {', '.join(map(str, graph.input_tensors[0].shape[1:]))}).")
    samples = [[_quantized(row, graph)] for row in x]
    n_classes = int(y.max()) + 1
    return Dataset(samples, y.astype(np.int64), tuple(f"{path.name}[{i}]" for i in range(len(x))),
                   tuple(str(c) for c in range(n_classes)))


def _from_folder(root: Path, graph: Graph) -> Dataset:
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    samples, labels, names = [], [], []
    for k, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() in INPUT_SUFFIXES:
                samples.append(read_input_file(f, graph))
                labels.append(k)
                names.append(f"{name}/{f.name}")
    if not samples:
        raise McugenError(f"--dataset {root}: no class folders with {'/'.join(INPUT_SUFFIXES)} files.",
                          hint="DIR/<class name>/<sample files>, one folder per class.")
    return Dataset(samples, np.array(labels, dtype=np.int64), tuple(names), classes)


def scores(outputs: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """The first output of each sample as one row of class scores (float, for ranking)."""
    return np.stack([np.asarray(o[0], dtype=np.float64).reshape(-1) for o in outputs])


def top_k(outputs: Sequence[Sequence[np.ndarray]], labels: np.ndarray, k: int) -> float:
    s = scores(outputs)
    k = min(k, s.shape[1])
    best = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return float(np.mean([labels[i] in best[i] for i in range(len(labels))]))


def score(dataset: Dataset, device: Sequence[Sequence[np.ndarray]], reference: Sequence[Sequence[np.ndarray]],
          floats: Sequence[Sequence[np.ndarray]] | None = None) -> dict[str, Any]:
    """Top-1/top-5 of the device, the reference and the float model; the device's confusion
    matrix (rows: label, columns: answer); the samples where device and reference disagree."""
    labels = dataset.labels
    result: dict[str, Any] = {"samples": len(labels), "classes": list(dataset.classes)}
    for name, outs in (("device", device), ("reference", reference), ("float_model", floats)):
        result[name] = None if outs is None else {"top1": top_k(outs, labels, 1), "top5": top_k(outs, labels, 5)}
    answers = scores(device).argmax(axis=1)
    ref_answers = scores(reference).argmax(axis=1)
    n = max(int(labels.max()), int(answers.max())) + 1
    confusion = np.zeros((n, n), dtype=np.int64)
    for truth, answer in zip(labels, answers):
        confusion[truth, answer] += 1
    result["confusion"] = confusion.tolist()
    result["disagreements"] = [{"sample": dataset.names[i], "label": int(labels[i]), "device": int(answers[i]),
                                "reference": int(ref_answers[i])}
                               for i in np.flatnonzero(answers != ref_answers)]
    return result
