"""Data sets: the synthetic nine rings and nine spheres, Fashion-MNIST, CIFAR-10 and cats vs dogs.

* :mod:`~toposcope.datasets.synthetic` -- :func:`nine_rings`, :func:`nine_spheres`, clean or in
  Naitzat et al.'s geometry (:mod:`~toposcope.datasets.naitzat`).
* :mod:`~toposcope.datasets.fashion` -- :func:`fashion_mnist` from IDX files (Debian package or download).
* :mod:`~toposcope.datasets.cifar` -- :func:`cifar10` from the binary distribution.
* :mod:`~toposcope.datasets.pets` -- :func:`cats_vs_dogs` from the Kaggle / Microsoft photos.
* :mod:`~toposcope.datasets.archives` -- data folders, checksummed downloads, safe unpacking.

Image sets are read from a ``root`` folder, else from ``$TOPOSCOPE_DATA/<name>``;
``download=True`` fetches an official archive where a network exists, checks the
publisher's checksum before unpacking, and never unpacks outside the folder.
"""

from .archives import Archive, ChecksumError
from .cifar import CIFAR10_CLASSES, cifar10, download_cifar10, read_cifar_bin
from .fashion import (
    DEBIAN_FASHION_MNIST,
    FASHION_MNIST_ARCHIVES,
    FASHION_MNIST_CLASSES,
    download_fashion_mnist,
    fashion_mnist,
    read_idx,
)
from .pets import PET_CLASSES, cats_vs_dogs, download_cats_vs_dogs
from .synthetic import GEOMETRIES, Split, nine_rings, nine_spheres

__all__ = [
    "CIFAR10_CLASSES",
    "DEBIAN_FASHION_MNIST",
    "FASHION_MNIST_ARCHIVES",
    "FASHION_MNIST_CLASSES",
    "GEOMETRIES",
    "PET_CLASSES",
    "Archive",
    "ChecksumError",
    "Split",
    "cats_vs_dogs",
    "cifar10",
    "download_cats_vs_dogs",
    "download_cifar10",
    "download_fashion_mnist",
    "fashion_mnist",
    "nine_rings",
    "nine_spheres",
    "read_cifar_bin",
    "read_idx",
]
