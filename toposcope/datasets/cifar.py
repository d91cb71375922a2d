"""CIFAR-10 from its binary distribution (``cifar-10-batches-bin``), never from the pickled one.

The binary files are fixed-length records: one label byte (0-9), then 3,072 pixel
bytes, the red, green and blue 32 x 32 planes in row-major order.  Reading them
runs no code from the file, unlike unpickling the Python version.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from .archives import Archive, data_folder, extract, fetch

__all__ = ["CIFAR10_ARCHIVE", "CIFAR10_CLASSES", "cifar10", "download_cifar10", "read_cifar_bin", "to_grayscale"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
"""CIFAR-10's class names, in label order (0-9)."""
CIFAR10_ARCHIVE = Archive(
    url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    digest="c32a1d4ab5d03f1284b67883e8d87530",  # the MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html
    algorithm="md5",
    filename="cifar-10-binary.tar.gz",
)
"""The official binary archive (162 MB) and its published MD5."""
_FOLDER = "cifar-10-batches-bin"
_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
_RECORD = 1 + 3 * 32 * 32
_HINT = ("Get the binary version (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html "
         "and unpack it there, or pass download=True where a network is available.")  # fmt: skip
LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 weights of red, green and blue: what Pillow's ``convert("L")`` uses."""


def read_cifar_bin(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch file; return ``(images uint8 (n, 3, 32, 32), labels uint8 (n,))``.

    Raises
    ------
    ValueError
        If the file is empty, not a whole number of 3,073-byte records, or holds
        a label outside 0-9 (the message names the file).
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(
            f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records ({_RECORD} bytes each: 1 label "
            f"byte + 3072 pixel bytes); the file is truncated or not a CIFAR-10 binary batch"
        )
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0]
    if labels.max() >= len(CIFAR10_CLASSES):
        bad = int(np.argmax(labels >= len(CIFAR10_CLASSES)))
        raise ValueError(f"{path}: record {bad} has label {labels[bad]}; CIFAR-10 labels are 0-9")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def to_grayscale(images: np.ndarray) -> np.ndarray:
    """``(n, 3, H, W)`` RGB values to ``(n, 1, H, W)`` float32 luma (BT.601), in the input's units."""
    weights = np.asarray(LUMA, dtype=np.float32).reshape(1, 3, 1, 1)
    return (images.astype(np.float32) * weights).sum(axis=1, keepdims=True)


def _class_indices(classes: Sequence[str | int]) -> list[int]:
    out = []
    for c in classes:
        if isinstance(c, str) and c in CIFAR10_CLASSES:
            out.append(CIFAR10_CLASSES.index(c))
        elif isinstance(c, int | np.integer) and not isinstance(c, bool) and 0 <= c < len(CIFAR10_CLASSES):
            out.append(int(c))
        else:
            raise ValueError(f"unknown CIFAR-10 class {c!r}; classes are {CIFAR10_CLASSES} or their indices 0-9")
    if len(set(out)) != len(out) or len(out) < 2:
        raise ValueError(f"classes must name at least two different classes; got {list(classes)}")
    return out


def download_cifar10(root: str | os.PathLike, archive: Archive = CIFAR10_ARCHIVE, *, progress: bool = True) -> Path:
    """Fetch the binary archive into ``root``, verify its checksum, unpack its ``.bin`` files; return their folder."""
    path = fetch(archive, root, progress=progress)
    extract(path, root, keep=lambda p: p.suffix in (".bin", ".txt") and p.parts[0] == _FOLDER)
    return Path(root) / _FOLDER


def cifar10(
    root: str | os.PathLike | None = None,
    split: str = "train",
    *,
    grayscale: bool = True,
    classes: Sequence[str | int] | None = None,
    normalize: bool = True,
    limit: int | None = None,
    download: bool = False,
) -> TensorDataset:
    """CIFAR-10 (Krizhevsky 2009) from the binary distribution.

    Parameters
    ----------
    root : path, optional
        Folder holding ``cifar-10-batches-bin/`` (or that folder itself).
        Default ``$TOPOSCOPE_DATA/cifar10``.
    split : {"train", "test"}
        The 50,000 training images (``data_batch_1..5.bin``) or the 10,000 test
        images (``test_batch.bin``).
    grayscale : bool, default True
        One luma channel (BT.601), as the paper converts every image set; ``False``
        keeps the three colour channels.
    classes : sequence of names or indices, optional
        Keep only these classes, relabelled 0, 1, ... in the order given:
        ``classes=("cat", "dog")`` is the binary cat-vs-dog task (cat 0, dog 1).
    normalize : bool, default True
        Map pixel values from [0, 1] to ``(x - 0.5) / 0.25`` (a fixed map, about
        zero mean and unit spread; no statistics of the data).  ``False`` keeps [0, 1].
    limit : int, optional
        Keep only the first ``limit`` images (after the class filter).
    download : bool, default False
        Fetch the official archive into ``root`` first if its files are missing
        (:func:`download_cifar10`: MD5 checked before anything is unpacked).

    Returns
    -------
    TensorDataset
        Images float32 ``(n, 1 or 3, 32, 32)``, labels int64 ``(n,)``.

    Raises
    ------
    FileNotFoundError
        When the files are missing, saying where to get them.
    ValueError
        On a malformed file (named in the message) or bad arguments.
    """
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None; got {limit!r}")
    wanted = _class_indices(classes) if classes is not None else None
    base = data_folder("cifar10", root, _HINT)
    folder = base if base.name == _FOLDER else base / _FOLDER
    if download and not all((folder / name).is_file() for name in _FILES[split]):
        folder = download_cifar10(base)
    missing = [name for name in _FILES[split] if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 {split} files {missing} not found in {folder}. {_HINT}")
    parts = [read_cifar_bin(folder / name) for name in _FILES[split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    if wanted is not None:
        keep = np.isin(labels, wanted)
        images, labels = images[keep], _remap(labels[keep], wanted)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = to_grayscale(images) if grayscale else images.astype(np.float32)
    x = torch.from_numpy(x / 255.0)
    if normalize:
        x = (x - 0.5) / 0.25
    return TensorDataset(x.float(), torch.from_numpy(labels))


def _remap(labels: np.ndarray, wanted: list[int]) -> np.ndarray:
    """Labels of the kept classes as their positions in ``wanted``."""
    lookup = np.full(len(CIFAR10_CLASSES), -1, dtype=np.int64)
    lookup[wanted] = np.arange(len(wanted))
    return lookup[labels]
