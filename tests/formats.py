"""Small files in the true formats of the image data sets, written by the tests themselves."""

import numpy as np

from toposcope.datasets.formats import write_pet_images


def cifar_records(labels, seed=0):
    """CIFAR-10 binary records built by hand: label byte, then the R, G and B planes (32 x 32 each)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    raw = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], pixels.reshape(len(labels), -1)], axis=1)
    return raw.tobytes(), pixels


def write_cifar(root, per_batch=4):
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    pixels = []
    for i in range(1, 6):
        raw, px = cifar_records([(i + j) % 10 for j in range(per_batch)], seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(raw)
        pixels.append(px)
    raw, _ = cifar_records([3, 5, 3, 5, 1, 2], seed=9)  # classes the training batches hold (fit refuses others)
    (folder / "test_batch.bin").write_bytes(raw)
    return folder, np.concatenate(pixels)


def write_pets(root, n=6, layout="kaggle", size=(40, 30)):
    """n dark cats and n light dogs, in Kaggle's flat layout or Microsoft's PetImages/Cat, PetImages/Dog."""
    rng = np.random.default_rng(0)
    shades = np.repeat([60, 200], n)
    images = np.clip(rng.normal(shades[:, None, None, None], 5, size=(2 * n, size[1], size[0], 3)), 0, 255)
    images, labels = images.astype(np.uint8), np.repeat([0, 1], n)
    if layout == "kaggle":
        write_pet_images(root, images, labels)
        return
    for cls, label in (("Cat", 0), ("Dog", 1)):
        paths = write_pet_images(root / "PetImages" / cls, images[labels == label], labels[labels == label])
        for path in paths:  # Microsoft's names: N.jpg
            path.rename(path.with_name(path.name.split(".", 1)[1]))

