import dataclasses
import gzip
import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import toposcope as ts
from toposcope.datasets import DEBIAN_FASHION_MNIST, read_idx

ROOT = Path(__file__).resolve().parents[1]


def _class_cloud(split, c):
    X, y = split.train.tensors
    return X[y == c]


def test_nine_rings_sizes_and_balance():
    s = ts.nine_rings()
    X, y = s.train.tensors
    assert X.shape == (16_000, 3) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert len(s.test) == 2_000
    assert set(y.tolist()) == {0, 1}
    assert X.abs().max() <= 1.1


@pytest.mark.parametrize("c", [0, 1])
def test_nine_rings_topology_per_class(c):
    r = ts.betti_numbers(_class_cloud(ts.nine_rings(), c))
    assert r.betti == (9, 9)


@pytest.mark.parametrize(("c", "expected"), [(0, (9, 0, 9)), (1, (18, 0, 18))])
def test_nine_spheres_topology_per_class(c, expected):
    r = ts.betti_numbers(_class_cloud(ts.nine_spheres(), c), maxdim=2)
    assert r.betti == expected


@pytest.mark.parametrize("make", [ts.nine_rings, ts.nine_spheres])
def test_same_seed_same_data(make):
    a, b, c = make(600, 60, seed=1), make(600, 60, seed=1), make(600, 60, seed=2)
    for t1, t2 in zip(a.train.tensors + a.test.tensors, b.train.tensors + b.test.tensors, strict=True):
        assert torch.equal(t1, t2)
    assert not torch.equal(a.train.tensors[0], c.train.tensors[0])


@pytest.mark.parametrize("name", ["nine_rings", "nine_spheres"])
def test_recorded_defaults_regenerate(name):
    # data/datasets.json records the parameters and a fingerprint of every default data set.
    record = json.loads((ROOT / "data" / "datasets.json").read_text())[name]
    split = getattr(ts, name)(**record["parameters"])
    X = split.train.tensors[0].double()
    assert X.sum().item() == pytest.approx(record["train_coordinate_sum"], abs=1e-3)
    assert split.train.tensors[1].sum().item() == record["train_label_sum"]


def test_synthetic_bad_sizes():
    with pytest.raises(ValueError, match="at least"):
        ts.nine_rings(10, 0)
    with pytest.raises(ValueError, match="radii"):
        ts.nine_spheres(radii=(1.0, 0.5, 2.0))


def _write_idx(path: Path, array: np.ndarray) -> None:
    code = {np.uint8: 0x08, np.int8: 0x09, np.float32: 0x0D}[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


def test_fashion_mnist_float_images_are_not_rescaled_and_labels_are_checked(tmp_path):
    """IDX float pixels are already on their own scale (they were divided by 255 twice); label -1 is refused."""
    images = np.random.default_rng(0).random((4, 28, 28)).astype(np.float32)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3], dtype=np.uint8))
    x = ts.fashion_mnist(tmp_path, split="test", normalize=False).tensors[0]
    assert torch.allclose(x[:, 0], torch.from_numpy(images))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([0, -1, 2, 3], dtype=np.int8))
    with pytest.raises(ValueError, match="holds label -1; Fashion-MNIST labels are 0-9"):
        ts.fashion_mnist(tmp_path, split="test")


def test_fashion_mnist_reads_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    ds = ts.fashion_mnist(tmp_path, split="test", normalize=False)
    x, y = ds.tensors
    assert x.shape == (7, 1, 28, 28) and x.dtype == torch.float32
    assert torch.allclose(x[:, 0] * 255, torch.from_numpy(images).float())
    assert y.tolist() == labels.tolist()
    monkeypatch.setenv("TOPOSCOPE_DATA", str(tmp_path))
    assert len(ts.fashion_mnist(split="test", limit=3)) == 3


def _published(tmp_path):
    """Four small IDX files standing in for the official ones, and archives that point at them by file:// URL."""
    from toposcope.datasets import Archive

    source = tmp_path / "server"
    source.mkdir()
    rng = np.random.default_rng(1)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte.gz": rng.integers(0, 10, size=5, dtype=np.uint8),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, size=3, dtype=np.uint8)}  # fmt: skip
    archives = []
    for name, array in arrays.items():
        _write_idx(source / name, array)
        md5 = hashlib.md5((source / name).read_bytes()).hexdigest()
        archives.append(Archive((source / name).as_uri(), md5, "md5", name))
    return tuple(archives)


def test_fashion_mnist_download_checks_every_file(tmp_path, monkeypatch):
    from toposcope.datasets import FASHION_MNIST_ARCHIVES, ChecksumError, download_fashion_mnist, fashion

    assert FASHION_MNIST_ARCHIVES[0].digest == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"  # Zalando's MD5
    archives = _published(tmp_path)
    root = tmp_path / "data"
    bad = (*archives[:3], dataclasses.replace(archives[3], digest="0" * 32))
    with pytest.raises(ChecksumError, match="does not match"):
        download_fashion_mnist(root, bad, progress=False)
    assert not (root / "t10k-labels-idx1-ubyte.gz").exists() and not list(root.glob(".*.part"))
    monkeypatch.setattr(fashion, "FASHION_MNIST_ARCHIVES", archives)
    test = ts.fashion_mnist(root, split="test", download=True)
    assert len(test) == 3 and len(ts.fashion_mnist(root, split="train")) == 5
    with pytest.raises(ValueError, match="needs a folder"):
        monkeypatch.delenv("TOPOSCOPE_DATA", raising=False)
        monkeypatch.setattr(fashion, "DEBIAN_FASHION_MNIST", tmp_path / "absent")
        ts.fashion_mnist(download=True)


def test_fashion_mnist_missing_files_explain(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        ts.fashion_mnist(tmp_path)
    with pytest.raises(ValueError, match="split"):
        ts.fashion_mnist(tmp_path, split="val")


def test_read_idx_rejects_garbage(tmp_path):
    bad = tmp_path / "x.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"not an idx file")
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad)
    short = tmp_path / "y.gz"
    with gzip.open(short, "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"abc")
    with pytest.raises(ValueError, match="announces 10 bytes"):
        read_idx(short)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_real_files():
    ds = ts.fashion_mnist(split="test")
    x, y = ds.tensors
    assert x.shape == (10_000, 1, 28, 28) and len(y) == 10_000
    assert sorted(torch.bincount(y).tolist()) == [1000] * 10
    assert abs(x.mean().item()) < 0.05
