"""Writers of the image sets' on-disk formats: CIFAR-10 binary batches and folders of cat/dog photos.

For converting one's own images to a format the loaders read, and for small
stand-in files where the real sets cannot be downloaded (the tests and the
book's CNN chapter use them to exercise the loaders' code paths).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["write_cifar10_batch", "write_cifar10_folder", "write_pet_images"]


def write_cifar10_batch(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write ``uint8`` images ``(n, 3, 32, 32)`` and labels 0-9 as one CIFAR-10 binary batch file.

    Each record is the label byte, then the red, green and blue planes, row-major.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.shape[1:] != (3, 32, 32) or len(images) != len(labels):
        raise ValueError(f"need uint8 images (n, 3, 32, 32) and n labels; got {images.dtype} {images.shape}, "
                         f"{labels.shape}")  # fmt: skip
    if len(labels) and not (0 <= labels.min() and labels.max() <= 9):
        raise ValueError("CIFAR-10 labels are 0-9")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    path.write_bytes(records.tobytes())
    return path


def write_pet_images(folder: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> list[Path]:
    """Write ``uint8`` RGB images ``(n, H, W, 3)`` as Kaggle-style ``cat.N.jpg`` / ``dog.N.jpg`` (0 cat, 1 dog)."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or len(images) != len(labels):
        raise ValueError(f"need uint8 images (n, H, W, 3) and n labels; got {images.dtype} {images.shape}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths, counts = [], [0, 0]
    for img, label in zip(images, labels, strict=True):
        path = folder / f"{('cat', 'dog')[int(label)]}.{counts[int(label)]}.jpg"  # numbered per class, as Kaggle's
        counts[int(label)] += 1
        Image.fromarray(img).save(path, quality=95)
        paths.append(path)
    return paths


def write_cifar10_folder(root: str | os.PathLike, per_batch: int = 20, seed: int = 0) -> Path:
    """Write random stand-in images in CIFAR-10's binary layout: ``root/cifar-10-batches-bin/`` with the five
    training batches and the test batch, ``per_batch`` images each (random pixels, random labels 0-9).

    For exercising a loader where the real set cannot be downloaded.  Returns ``root``.
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-bin"
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        pixels = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        write_cifar10_batch(folder / name, pixels, rng.integers(0, 10, per_batch))
    return Path(root)
