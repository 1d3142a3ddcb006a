"""Input files and random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_person_bmp
from mcugen.inputs import InputError, make_samples, read_input_file
from mcugen.model.load import load_model


def test_bmp_gives_the_model_input(person_detect, models_dir):
    g = load_model(person_detect)
    (x,) = read_input_file(models_dir / "person.bmp", g)
    assert x.dtype == np.int8 and x.shape == (1, 96, 96, 1)
    assert np.array_equal(x, read_person_bmp(models_dir / "person.bmp"))


def test_npy_npz_bin(tmp_path, person_detect):
    g = load_model(person_detect)
    arr = np.arange(9216, dtype=np.int64).reshape(1, 96, 96, 1) % 256 - 128
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "a.npz", arr)
    (tmp_path / "a.bin").write_bytes(arr.astype(np.int8).tobytes())
    for name in ("a.npy", "a.npz", "a.bin"):
        (x,) = read_input_file(tmp_path / name, g)
        assert x.dtype == np.int8 and np.array_equal(x, arr.astype(np.int8)), name


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("short.bin", b"\x00" * 10, "10 bytes; the model's inputs take 9216"),
        ("x.txt", b"hello", "unknown type"),
        ("bad.npy", b"not numpy", "Cannot read"),
    ],
)
def test_bad_input_files(tmp_path, person_detect, name, content, message):
    g = load_model(person_detect)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_input_file(tmp_path / name, g)


def test_wrong_shape_and_float_values(tmp_path, person_detect):
    g = load_model(person_detect)
    np.save(tmp_path / "small.npy", np.zeros((1, 10), dtype=np.int8))
    with pytest.raises(InputError, match="10 values"):
        read_input_file(tmp_path / "small.npy", g)
    np.save(tmp_path / "f.npy", np.zeros((1, 96, 96, 1), dtype=np.float32))
    with pytest.raises(InputError, match="float values for the quantized input"):
        read_input_file(tmp_path / "f.npy", g)
    with pytest.raises(InputError, match="does not exist"):
        read_input_file(tmp_path / "none.npy", g)


def test_random_samples_are_seeded_and_cover_the_range(person_detect):
    g = load_model(person_detect)
    a = make_samples(g, random=3, seed=7)
    b = make_samples(g, random=3, seed=7)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    assert not np.array_equal(a[0][0], a[1][0])
    assert a[0][0].min() == -128 and a[0][0].max() == 127
