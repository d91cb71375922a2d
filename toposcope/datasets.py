"""Datasets: the synthetic nine rings and nine spheres, and Fashion-MNIST.

The synthetic sets follow the geometry of Naitzat, Zhitnikov & Lim (JMLR 2020),
data sets D-II and D-III, re-implemented from their description: points are
placed *evenly* (equally spaced angles, Fibonacci spheres) and then jittered, so
that the fixed-scale Betti numbers of :func:`toposcope.betti_numbers` resolve
the true topology of every class.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import TensorDataset

from .shapes import sphere

__all__ = [
    "FASHION_MNIST_CLASSES",
    "Split",
    "fashion_mnist",
    "nine_rings",
    "nine_spheres",
    "read_idx",
]

# Centres of the nine groups: the origin and the eight corners of a cube.
_CORNERS = np.array([[0, 0, 0]] + [[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)


class Split(NamedTuple):
    """A train/test pair of ``TensorDataset`` objects holding ``(X, y)``."""

    train: TensorDataset
    test: TensorDataset


def _counts(total: int, parts: int) -> np.ndarray:
    """Split ``total`` into ``parts`` near-equal integer counts."""
    base, extra = divmod(total, parts)
    return np.array([base + (i < extra) for i in range(parts)])


def _split(X: np.ndarray, y: np.ndarray, n_train: int, n_test: int, rng: np.random.Generator) -> Split:
    order = rng.permutation(len(X))
    X = torch.as_tensor(X[order], dtype=torch.float32)
    y = torch.as_tensor(y[order], dtype=torch.long)
    return Split(TensorDataset(X[:n_train], y[:n_train]), TensorDataset(X[n_train:], y[n_train:]))


def _check_sizes(n_train: int, n_test: int, minimum: int) -> None:
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an integer; got {value!r}")
    if n_train < 1 or n_test < 0:
        raise ValueError(f"n_train must be positive and n_test non-negative; got {n_train}, {n_test}")
    if n_train + n_test < minimum:
        raise ValueError(f"need at least {minimum} points in all to draw every shape; got {n_train + n_test}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float | np.floating | np.integer) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def nine_rings(
    n_train: int = 16_000,
    n_test: int = 2_000,
    *,
    radius: float = 1.0,
    noise: float = 0.05,
    spacing: float = 3.0,
    seed: int = 0,
) -> Split:
    """Nine pairs of interlocked rings in 3-D, one ring of each pair per class.

    Geometry: nine pairs centred at the origin and at the corners of the cube
    ``[-spacing, spacing]^3``.  In a pair, ring A lies in the xy-plane centred at
    ``(-radius/2, 0, 0)`` and ring B in the xz-plane centred at ``(+radius/2, 0, 0)``
    (relative to the pair's centre): each ring passes through the other's disc, as
    in a Hopf link.  Class 0 takes ring A in pairs 0, 2, 4, 6, 8 and ring B in the
    others; class 1 the remaining rings.  Each class is nine disjoint loops:
    Betti numbers ``(b0, b1) = (9, 9)``.  The two classes cannot be separated by
    any homeomorphism of R^3 that keeps them apart, so a network must change
    topology to classify them.

    Points are equally spaced in angle (the same number per ring) and jittered by
    isotropic Gaussian noise of standard deviation ``noise * radius``.  All
    coordinates are finally divided by ``spacing + 1.5 * radius`` so that they lie
    in about ``[-1, 1]``.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two splits (the paper's 16,000 and 2,000 by default).  All
        points are drawn together and split at random.
    radius, noise, spacing : float
        Ring radius, relative jitter and distance of the cube corners.
    seed : int
        Seed of the jitter and of the split: the same seed gives the same data.

    Returns
    -------
    Split
        ``(train, test)``, each a ``TensorDataset`` of float32 points ``(n, 3)``
        and int64 labels ``(n,)``.
    """
    _check_sizes(n_train, n_test, 18 * 3)
    _check_positive(radius=radius, noise=noise, spacing=spacing)
    if radius <= 0:
        raise ValueError(f"radius must be positive; got {radius}")
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for pair, (count_a, count_b) in enumerate(_counts(n_train + n_test, 18).reshape(9, 2)):
        centre = _CORNERS[pair] * spacing
        for ring, count in enumerate((count_a, count_b)):
            t = np.linspace(0.0, 2 * np.pi, count, endpoint=False) + rng.uniform(0, 2 * np.pi)
            circle = radius * np.stack([np.cos(t), np.sin(t)], axis=1)
            if ring == 0:  # ring A: xy-plane, shifted left
                xyz = np.stack([circle[:, 0] - radius / 2, circle[:, 1], np.zeros(count)], axis=1)
            else:  # ring B: xz-plane, shifted right
                xyz = np.stack([circle[:, 0] + radius / 2, np.zeros(count), circle[:, 1]], axis=1)
            points.append(centre + xyz + rng.normal(scale=noise * radius, size=(count, 3)))
            labels.append(np.full(count, (ring + pair) % 2))
    X = np.concatenate(points) / (spacing + 1.5 * radius)
    return _split(X, np.concatenate(labels), n_train, n_test, rng)


def nine_spheres(
    n_train: int = 16_000,
    n_test: int = 2_000,
    *,
    radii: tuple[float, float, float] = (0.5, 1.0, 2.0),
    noise: float = 0.01,
    spacing: float = 3.0,
    seed: int = 0,
) -> Split:
    """Nine groups of three concentric spheres in 3-D.

    Geometry: nine groups centred at the origin and at the corners of the cube
    ``[-spacing, spacing]^3``; each group holds three concentric spheres of
    ``radii`` (inner, middle, outer).  Class 0 is the nine middle spheres: Betti
    numbers ``(b0, b1, b2) = (9, 0, 9)``.  Class 1 is the eighteen inner and outer
    spheres: ``(18, 0, 18)``.  Each middle sphere separates an inner sphere from
    its outer sphere, so again no homeomorphism can pull the classes apart.

    Every sphere gets the same number of points, laid out on a Fibonacci lattice
    (near-even spacing) at a random rotation, then jittered radially by Gaussian
    noise of standard deviation ``noise`` times the sphere's radius.  Coordinates
    are divided by ``spacing + radii[2]`` to lie in about ``[-1, 1]``.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two splits (16,000 and 2,000 by default), drawn together
        and split at random.
    radii : (float, float, float)
        Inner, middle and outer radius, increasing.
    noise, spacing : float
        Relative radial jitter and distance of the cube corners.
    seed : int
        Seed of rotations, jitter and split.

    Returns
    -------
    Split
        ``(train, test)`` ``TensorDataset`` objects of float32 points ``(n, 3)``
        and int64 labels.
    """
    _check_sizes(n_train, n_test, 27 * 4)
    _check_positive(noise=noise, spacing=spacing)
    if not (0 < radii[0] < radii[1] < radii[2]):
        raise ValueError(f"radii must be positive and increasing; got {radii}")
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for group, counts in enumerate(_counts(n_train + n_test, 27).reshape(9, 3)):
        centre = _CORNERS[group] * spacing
        for shell, (r, count) in enumerate(zip(radii, counts, strict=True)):
            unit = sphere(count, rotation=_rotation(rng))
            rad = r * (1.0 + noise * rng.normal(size=(count, 1)))
            points.append(centre + unit * rad)
            labels.append(np.full(count, 0 if shell == 1 else 1))
    X = np.concatenate(points) / (spacing + radii[2])
    return _split(X, np.concatenate(labels), n_train, n_test, rng)


# ----------------------------------------------------------------------------- Fashion-MNIST

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_FASHION_MEAN, _FASHION_STD = 0.2860, 0.3530  # of the training images scaled to [0, 1]
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not.

    Raises
    ------
    ValueError
        If the file is not a valid IDX file (bad magic number or size).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"{path} is truncated or not a valid gzip file ({err}); download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header announces {expected} bytes of data, file holds {len(raw) - offset}")
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(dims)


def _find_idx(root: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (root / name).is_file():
            return root / name
    return None


def fashion_mnist(
    root: str | os.PathLike | None = None,
    split: str = "train",
    *,
    normalize: bool = True,
    limit: int | None = None,
) -> TensorDataset:
    """Fashion-MNIST (Xiao et al. 2017) from local IDX files.

    Parameters
    ----------
    root : path, optional
        Folder holding ``train-images-idx3-ubyte(.gz)`` and the three other
        standard files.  Default: ``$TOPOSCOPE_DATA`` if set (the files directly
        in it or in its ``fashion-mnist/`` subfolder), else
        ``/usr/share/datasets/fashion-mnist`` (Debian package
        ``dataset-fashion-mnist``).
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    normalize : bool, default True
        Scale to [0, 1], then standardise with the training set's mean 0.2860 and
        standard deviation 0.3530.  ``False`` keeps [0, 1].
    limit : int, optional
        Keep only the first ``limit`` images.

    Returns
    -------
    TensorDataset
        Images as float32 ``(n, 1, 28, 28)`` and labels as int64 ``(n,)``.

    Raises
    ------
    FileNotFoundError
        When the files are nowhere to be found, with instructions to get them.
    """
    if split not in _FASHION_FILES:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None; got {limit!r}")
    if root is not None:
        candidates = [Path(root)]
    elif os.environ.get("TOPOSCOPE_DATA"):
        env = Path(os.environ["TOPOSCOPE_DATA"])
        candidates = [env, env / "fashion-mnist"]
    else:
        candidates = [DEBIAN_FASHION_MNIST]
    image_stem, label_stem = _FASHION_FILES[split]
    for folder in candidates:
        images, labels = _find_idx(folder, image_stem), _find_idx(folder, label_stem)
        if images and labels:
            break
    else:
        looked = ", ".join(str(c) for c in candidates)
        raise FileNotFoundError(
            f"Fashion-MNIST {split} files ({image_stem}.gz, {label_stem}.gz) not found in {looked}. "
            "Install them with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download the "
            "four .gz files from https://github.com/zalandoresearch/fashion-mnist and pass root=... "
            "or set TOPOSCOPE_DATA to their folder."
        )
    X = read_idx(images)
    y = read_idx(labels)
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"unexpected shapes in {images} {X.shape} and {labels} {y.shape}")
    if len(y) and int(y.max()) >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f"{labels} holds label {int(y.max())}; Fashion-MNIST labels are 0-9")
    if limit is not None:
        X, y = X[:limit], y[:limit]
    x = torch.from_numpy(X.astype(np.float32) / 255.0).unsqueeze(1)
    if normalize:
        x = (x - _FASHION_MEAN) / _FASHION_STD
    return TensorDataset(x, torch.from_numpy(y.astype(np.int64)))
