"""Cats vs dogs: the Kaggle / Microsoft Asirra photographs, grayscale and small, in a balanced seeded split.

Two folder layouts are read: Kaggle's ``train/`` folder of ``cat.N.jpg`` and
``dog.N.jpg`` files (any folder holding such files works), and class sub-folders
``cats/``, ``dogs/`` (or ``Cat/``, ``Dog/``, as in Microsoft's
``kagglecatsanddogs_5340.zip``, under ``PetImages/``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import TensorDataset

from .archives import Archive, data_folder, extract, fetch

__all__ = ["CATS_VS_DOGS_ARCHIVE", "PET_CLASSES", "cats_vs_dogs", "download_cats_vs_dogs", "find_pet_images"]

PET_CLASSES = ("cat", "dog")
"""The two classes of :func:`cats_vs_dogs`, in label order (cat 0, dog 1)."""
CATS_VS_DOGS_ARCHIVE = Archive(
    url="https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
    digest="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
    algorithm="sha256",
    filename="kagglecatsanddogs_5340.zip",
)
"""Microsoft's archive of the Kaggle competition's 25,000 photos (about 787 MB) and its SHA-256."""
_SUFFIXES = (".jpg", ".jpeg", ".png")
_HINT = ("Get the Kaggle 'dogs-vs-cats' train.zip (https://www.kaggle.com/c/dogs-vs-cats) or Microsoft's "
         f"{CATS_VS_DOGS_ARCHIVE.filename} and unpack it there, or pass download=True where a network is "
         "available.")  # fmt: skip


def find_pet_images(root: str | os.PathLike) -> dict[str, list[Path]]:
    """The image files of each class under ``root``, sorted by name: ``{"cat": [...], "dog": [...]}``.

    Looks for ``cat.*`` / ``dog.*`` files in ``root``, ``root/train`` and
    ``root/PetImages``, and for class sub-folders (``cat``, ``cats``, ``Cat``...)
    there; the first place holding both classes wins.
    """
    root = Path(root)
    for place in (root, root / "train", root / "PetImages"):
        if not place.is_dir():
            continue
        files = [p for p in place.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES]
        found = {c: sorted(p for p in files if p.name.lower().startswith(c + ".")) for c in PET_CLASSES}
        if all(found.values()):
            return found
        subdirs = {p.name.lower().rstrip("s"): p for p in place.iterdir() if p.is_dir()}
        if all(c in subdirs for c in PET_CLASSES):
            return {c: sorted(p for p in subdirs[c].iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
                    for c in PET_CLASSES}  # fmt: skip
    raise FileNotFoundError(f"no cat and dog images found in {root} (nor in its train/ or PetImages/). {_HINT}")


def _read(path: Path, size: int) -> np.ndarray:
    """One image as a ``(size, size)`` uint8 grayscale array (BT.601 luma, bilinear resize).

    8-bit and palette images go through Pillow's luma conversion (a palette by its
    colours); 16- and 32-bit integer grayscale images are scaled by their true
    range (0-65535 for 16 bits), not clipped at 255 (which turned them white).
    """
    try:
        with Image.open(path) as img:
            if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                depth = 65535.0 if img.mode.startswith("I;16") or np.asarray(img).max() > 255 else 255.0
                pixels = np.asarray(img, dtype=np.float32) * (255.0 / depth)
                small = Image.fromarray(pixels, mode="F").resize((size, size), Image.BILINEAR)
                return np.clip(np.rint(np.asarray(small)), 0, 255).astype(np.uint8)
            return np.asarray(img.convert("L").resize((size, size), Image.BILINEAR), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path}: cannot read this image ({err})") from None


def _take(files: list[Path], order: np.ndarray, count: int, size: int,
          skip: bool) -> tuple[list[np.ndarray], int, set[int]]:  # fmt: skip
    """Read images in ``order`` until ``count`` are read; skip unreadable ones if ``skip`` (count them).

    Returns the images, the number skipped, and the indices of the files read.
    """
    images, skipped, used = [], 0, set()
    for i in order:
        if len(images) == count:
            break
        try:
            images.append(_read(files[i], size))
        except ValueError:
            if not skip:
                raise
            skipped += 1
            continue
        used.add(int(i))
    if len(images) < count:
        raise ValueError(f"only {len(images)} readable images of {count} needed in {files[0].parent}")
    return images, skipped, used


def download_cats_vs_dogs(root: str | os.PathLike, archive: Archive = CATS_VS_DOGS_ARCHIVE, *,
                          progress: bool = True) -> Path:  # fmt: skip
    """Fetch Microsoft's archive into ``root``, verify its SHA-256, unpack the images; return ``root``."""
    path = fetch(archive, root, progress=progress)
    extract(path, root, keep=lambda p: p.suffix.lower() in _SUFFIXES)
    return Path(root)


def cats_vs_dogs(
    root: str | os.PathLike | None = None,
    split: str = "train",
    *,
    size: int = 32,
    n_train: int = 8000,
    n_test: int = 2000,
    seed: int = 0,
    normalize: bool = True,
    skip_unreadable: bool = False,
    download: bool = False,
) -> TensorDataset:
    """Cats vs dogs as in the paper: grayscale ``size`` x ``size`` images, 8,000 train / 2,000 test, balanced.

    Parameters
    ----------
    root : path, optional
        Folder of the photos (see :func:`find_pet_images` for the layouts read).
        Default ``$TOPOSCOPE_DATA/cats_vs_dogs``.
    split : {"train", "test"}
    size : int, default 32
        Side of the square images (bilinear resize, aspect ratio not kept).
    n_train, n_test : int, default 8000, 2000
        Even sizes: half cats, half dogs.  Each class's files are shuffled with
        ``seed``; training takes the first ``n_train / 2`` of the shuffled order,
        testing the last ``n_test / 2``, so the two splits never share a photo
        (with ``skip_unreadable``, both splits' readings are checked, and a split
        that unreadable files push into the other's photos is refused).
    seed : int, default 0
    normalize : bool, default True
        ``(x - 0.5) / 0.25`` of the [0, 1] pixel values (a fixed map); ``False`` keeps [0, 1].
    skip_unreadable : bool, default False
        Skip files Pillow cannot read (Microsoft's archive holds a few), with a
        warning; the next photo in the shuffled order takes their place.  By
        default an unreadable file is an error naming it.
    download : bool, default False
        Fetch and unpack Microsoft's archive into ``root`` first when no photos
        are there (:func:`download_cats_vs_dogs`; SHA-256 checked first).

    Returns
    -------
    TensorDataset
        Images float32 ``(n, 1, size, size)``, labels int64 (cat 0, dog 1), cats first.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    for name, value in (("size", size), ("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2 or (value % 2 and name != "size"):
            raise ValueError(f"{name} must be an integer >= 2{', even (half cats, half dogs)' * (name != 'size')}; "
                             f"got {value!r}")  # fmt: skip
    folder = data_folder("cats_vs_dogs", root, _HINT)
    if download:
        try:
            find_pet_images(folder)
        except FileNotFoundError:
            download_cats_vs_dogs(folder)
    files = find_pet_images(folder)
    half_train, half_test = n_train // 2, n_test // 2
    rng = np.random.default_rng(seed)
    images, labels, skipped = [], [], 0
    for label, cls in enumerate(PET_CLASSES):
        order = rng.permutation(len(files[cls]))
        if len(order) < half_train + half_test:
            raise ValueError(f"{len(order)} {cls} images in {folder}, fewer than the {half_train + half_test} "
                             f"needed for n_train={n_train}, n_test={n_test}")  # fmt: skip
        # training reads from the front of the shuffled order, testing from the back: disjoint unless skipped
        # files push one split into the other's photos, which is checked against the other split's reading
        sides = {"train": (order, half_train), "test": (order[::-1], half_test)}
        read, n_skipped, used = _take(files[cls], *sides[split], size, skip_unreadable)
        if skip_unreadable:
            other = "test" if split == "train" else "train"
            overlap = used & _take(files[cls], *sides[other], size, skip_unreadable)[2]
            if overlap:
                raise ValueError(f"unreadable {cls} images push the train and test splits into each other "
                                 f"({len(overlap)} photos shared, e.g. {files[cls][min(overlap)].name}): lower "
                                 "n_train or n_test, or remove the unreadable files")  # fmt: skip
        images += read
        labels += [label] * len(read)
        skipped += n_skipped
    if skipped:
        warnings.warn(f"skipped {skipped} unreadable image(s) in {folder}", stacklevel=2)
    x = torch.from_numpy(np.stack(images)[:, None].astype(np.float32) / 255.0)
    if normalize:
        x = (x - 0.5) / 0.25
    return TensorDataset(x, torch.tensor(labels, dtype=torch.long))
