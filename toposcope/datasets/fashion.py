"""Fashion-MNIST from local IDX files (the Debian package, or the four official .gz files, downloaded and checked)."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from .archives import Archive, fetch

__all__ = [
    "DEBIAN_FASHION_MNIST",
    "FASHION_MNIST_ARCHIVES",
    "FASHION_MNIST_CLASSES",
    "download_fashion_mnist",
    "fashion_mnist",
    "read_idx",
]

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
"""Fashion-MNIST's class names, in label order (0-9)."""
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_FASHION_MEAN, _FASHION_STD = 0.2860, 0.3530  # of the training images scaled to [0, 1]
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's package ``dataset-fashion-mnist`` puts the four IDX files."""
_FASHION_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
FASHION_MNIST_ARCHIVES = tuple(
    Archive(_FASHION_URL + name, md5, "md5", name)
    for name, md5 in (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
)
"""The four official files and the MD5 checksums Zalando Research publishes for them."""
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


def download_fashion_mnist(root: str | os.PathLike, archives: tuple[Archive, ...] = FASHION_MNIST_ARCHIVES, *,
                           progress: bool = True) -> Path:  # fmt: skip
    """Fetch the four official ``.gz`` files into ``root``, each checked against its published MD5; return ``root``.

    Files already there with the right checksum are kept.  Raises
    :class:`~toposcope.datasets.ChecksumError` (and keeps nothing) on a mismatch,
    ``OSError`` without a network.
    """
    for archive in archives:
        fetch(archive, root, progress=progress)
    return Path(root)


def fashion_mnist(
    root: str | os.PathLike | None = None,
    split: str = "train",
    *,
    normalize: bool = True,
    limit: int | None = None,
    download: bool = False,
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
    download : bool, default False
        If the files are not found, fetch them into ``root`` (or
        ``$TOPOSCOPE_DATA/fashion-mnist``) with :func:`download_fashion_mnist`.

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
    found = [(_find_idx(f, image_stem), _find_idx(f, label_stem)) for f in candidates]
    found = [pair for pair in found if all(pair)]
    if not found and download:
        if root is None and not os.environ.get("TOPOSCOPE_DATA"):
            raise ValueError("download=True needs a folder: pass root=... or set TOPOSCOPE_DATA")
        folder = download_fashion_mnist(candidates[-1], FASHION_MNIST_ARCHIVES)
        found = [(_find_idx(folder, image_stem), _find_idx(folder, label_stem))]
    if found:
        images, labels = found[0]
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
    if len(y) and (int(y.max()) >= len(FASHION_MNIST_CLASSES) or int(y.min()) < 0):
        bad = int(y.max()) if int(y.max()) >= len(FASHION_MNIST_CLASSES) else int(y.min())
        raise ValueError(f"{labels} holds label {bad}; Fashion-MNIST labels are 0-9")
    if limit is not None:
        X, y = X[:limit], y[:limit]
    # pixels stored as bytes are 0-255; an IDX file of floats holds them on their own scale already
    x = torch.from_numpy(X.astype(np.float32) / (255.0 if X.dtype == np.uint8 else 1.0)).unsqueeze(1)
    if normalize:
        x = (x - _FASHION_MEAN) / _FASHION_STD
    return TensorDataset(x, torch.from_numpy(y.astype(np.int64)))
