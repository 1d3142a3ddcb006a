"""Validation figures against numpy on known inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcugen.metrics import compare, dequantize


def test_identical_outputs():
    rng = np.random.default_rng(0)
    ref = [rng.normal(size=10) for _ in range(5)]
    m = compare(ref, ref)
    assert m.cos == 1.0 and m.rmse == 0.0 and m.mae == 0.0 and m.l2r == 0.0 and m.nse == 1.0
    assert m.acc == 1.0 and m.samples == 5


def test_known_offset():
    ref = [np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, -1.0, 5.0, 2.0])]
    pred = [r + 0.25 for r in ref]
    m = compare(pred, ref)
    assert m.rmse == pytest.approx(0.25) and m.mae == pytest.approx(0.25)
    assert m.mean == pytest.approx(0.25) and m.std == pytest.approx(0.0, abs=1e-12)
    r = np.concatenate(ref)
    assert m.l2r == pytest.approx(np.linalg.norm(np.full(8, 0.25)) / np.linalg.norm(r))
    assert m.nse == pytest.approx(1 - 8 * 0.0625 / np.sum((r - r.mean()) ** 2))
    p = r + 0.25
    assert m.cos == pytest.approx(p @ r / (np.linalg.norm(p) * np.linalg.norm(r)))


def test_accuracy_counts_argmax_agreement():
    ref = [np.array([0.1, 0.9]), np.array([0.8, 0.2]), np.array([0.3, 0.7]), np.array([0.6, 0.4])]
    pred = [np.array([0.2, 0.8]), np.array([0.4, 0.6]), np.array([0.1, 0.9]), np.array([0.9, 0.1])]
    assert compare(pred, ref).acc == 0.75
    assert compare([np.zeros((4, 4, 3))], [np.zeros((4, 4, 3))]).acc is None  # not a classifier


def test_opposite_vectors_and_dequantize():
    m = compare([np.array([1.0, -2.0])], [np.array([-1.0, 2.0])])
    assert m.cos == pytest.approx(-1.0)
    q = dequantize(np.array([-128, 0, 127], dtype=np.int8), 0.5, -128)
    assert list(q) == [0.0, 64.0, 127.5]
    assert math.isinf(compare([np.array([1.0])], [np.array([0.0])]).l2r)


def test_mismatched_inputs_raise():
    with pytest.raises(ValueError):
        compare([np.zeros(2)], [])
    with pytest.raises(ValueError):
        compare([np.zeros(2)], [np.zeros(3)])
