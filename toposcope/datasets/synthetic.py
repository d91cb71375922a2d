"""The synthetic data sets: nine rings and nine spheres, in two geometries.

``geometry="clean"`` (the default) is a teaching version of Naitzat, Zhitnikov &
Lim's (JMLR 2020) data sets D-II and D-III: thin rings and single spheres, points
placed *evenly* (equally spaced angles, Fibonacci spheres) and lightly jittered,
so that the fixed-scale Betti numbers of :func:`toposcope.betti_numbers` read the
true topology of every class.  ``geometry="naitzat"`` is their own geometry
(:mod:`toposcope.datasets.naitzat`): thick, noisy bands of two circles and doubled
spheres, harder to classify and harder to read.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import TensorDataset

from ..shapes import sphere
from . import naitzat

__all__ = ["GEOMETRIES", "Split", "nine_rings", "nine_spheres"]

GEOMETRIES = ("clean", "naitzat")
"""The geometries of :func:`nine_rings` and :func:`nine_spheres`."""

# Centres of the nine groups: the origin and the eight corners of a cube.
_CORNERS = np.array([[0, 0, 0]] + [[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)


class Split(NamedTuple):
    """A train/test pair of ``TensorDataset`` objects holding ``(X, y)``."""

    train: TensorDataset
    test: TensorDataset


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


def _check_geometry(geometry: str, noise: float | None, **clean_only: float | None) -> None:
    if geometry not in GEOMETRIES:
        raise ValueError(f"unknown geometry {geometry!r}; choose from {GEOMETRIES}")
    if noise is not None:
        _check_positive(noise=noise)
    given = [name for name, value in clean_only.items() if value is not None]
    if geometry == "naitzat" and given:
        raise ValueError(f"{', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to geometry='clean'; "
                         "the 'naitzat' geometry has fixed radii and centres")  # fmt: skip


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def nine_rings(
    n_train: int = 16_000,
    n_test: int = 2_000,
    *,
    geometry: str = "clean",
    radius: float | None = None,
    noise: float | None = None,
    spacing: float | None = None,
    seed: int = 0,
) -> Split:
    """Nine pairs of interlocked rings in 3-D, one ring (or band) of each pair per class.

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

    ``geometry="naitzat"`` builds Naitzat et al.'s D-II instead (see
    :mod:`toposcope.datasets.naitzat`): each class of a pair is a thick band made
    of two concentric circles (radii 2.5 and 2.2) with uniform noise of half-width
    ``noise`` (0.7) on every coordinate, scaled per coordinate to ``[-1, 1]``.  Its
    nominal topology is also ``(9, 9)`` per class, but at the default noise the bands
    of one class in neighbouring pairs touch, so no fixed scale reads nine of them
    (see :func:`toposcope.experiments.geometry.band_gaps`).

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two splits (the paper's 16,000 and 2,000 by default).  All
        points are drawn together and split at random.
    geometry : {"clean", "naitzat"}, default "clean"
        ``"clean"`` reads its true Betti numbers with the default recipe and teaches
        well; ``"naitzat"`` is the data the paper trained on.
    radius, spacing : float, optional
        Ring radius (1.0) and distance of the cube corners (3.0); ``"clean"`` only.
    noise : float, optional
        Relative Gaussian jitter (``"clean"``, default 0.05) or half-width of the
        uniform noise (``"naitzat"``, default 0.7).
    seed : int
        Seed of the jitter and of the split: the same seed gives the same data.

    Returns
    -------
    Split
        ``(train, test)``, each a ``TensorDataset`` of float32 points ``(n, 3)``
        and int64 labels ``(n,)``.
    """
    _check_sizes(n_train, n_test, 36 * 3)
    _check_geometry(geometry, noise, radius=radius, spacing=spacing)
    rng = np.random.default_rng(seed)
    if geometry == "naitzat":
        X, y = naitzat.rings_points(n_train + n_test, naitzat.RING_NOISE if noise is None else noise, rng)
        return _split(X, y, n_train, n_test, rng)
    radius = 1.0 if radius is None else radius
    noise = 0.05 if noise is None else noise
    spacing = 3.0 if spacing is None else spacing
    _check_positive(radius=radius, spacing=spacing)
    if radius <= 0:
        raise ValueError(f"radius must be positive; got {radius}")
    points, labels = [], []
    counts = naitzat.near_equal_counts(n_train + n_test, 18).reshape(9, 2)
    for pair, (count_a, count_b) in enumerate(counts):
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
    geometry: str = "clean",
    radii: tuple[float, float, float] | None = None,
    noise: float | None = None,
    spacing: float | None = None,
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

    ``geometry="naitzat"`` builds Naitzat et al.'s D-III instead (see
    :mod:`toposcope.datasets.naitzat`): the middle and outer spheres are doubled
    (radii 1 and 1.05, 2 and 2.05), so class 0 holds 2/5 of the points; the
    lattices are not rotated nor jittered (``noise`` 0 by default) and every
    coordinate is scaled to ``[-1, 1]``.  Betti numbers are the same.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two splits (16,000 and 2,000 by default), drawn together
        and split at random.
    geometry : {"clean", "naitzat"}, default "clean"
    radii : (float, float, float), optional
        Inner, middle and outer radius, increasing (0.5, 1, 2); ``"clean"`` only.
    noise : float, optional
        Relative radial jitter (0.01 for ``"clean"``, 0 for ``"naitzat"``).
    spacing : float, optional
        Distance of the cube corners (3.0); ``"clean"`` only.
    seed : int
        Seed of rotations, jitter and split.

    Returns
    -------
    Split
        ``(train, test)`` ``TensorDataset`` objects of float32 points ``(n, 3)``
        and int64 labels.
    """
    _check_sizes(n_train, n_test, 45 * 4)
    _check_geometry(geometry, noise, radii=radii, spacing=spacing)
    rng = np.random.default_rng(seed)
    if geometry == "naitzat":
        X, y = naitzat.spheres_points(n_train + n_test, noise or 0.0, rng)
        return _split(X, y, n_train, n_test, rng)
    radii = (0.5, 1.0, 2.0) if radii is None else radii
    noise = 0.01 if noise is None else noise
    spacing = 3.0 if spacing is None else spacing
    _check_positive(spacing=spacing)
    if not (0 < radii[0] < radii[1] < radii[2]):
        raise ValueError(f"radii must be positive and increasing; got {radii}")
    points, labels = [], []
    for group, counts in enumerate(naitzat.near_equal_counts(n_train + n_test, 27).reshape(9, 3)):
        centre = _CORNERS[group] * spacing
        for shell, (r, count) in enumerate(zip(radii, counts, strict=True)):
            unit = sphere(count, rotation=_rotation(rng))
            rad = r * (1.0 + noise * rng.normal(size=(count, 1)))
            points.append(centre + unit * rad)
            labels.append(np.full(count, 0 if shell == 1 else 1))
    X = np.concatenate(points) / (spacing + radii[2])
    return _split(X, np.concatenate(labels), n_train, n_test, rng)
