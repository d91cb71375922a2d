"""Naitzat, Zhitnikov & Lim's own geometry of the nine rings (D-II) and nine spheres (D-III).

The paper replicated here trains on "the nine ring and nine sphere data sets used
in" Naitzat et al. (JMLR 2020).  Their public generator builds them as follows
(re-implemented here from that description, not copied):

* **Centres.**  Nine groups, at the origin and at the eight corners ``(±3, ±3, ±3)``.
* **D-II rings.**  In each group one class is two concentric circles of radii 2.5
  and 2.2 in the xy-plane centred at ``(+2.2, 0, 0)`` from the group's centre; the
  other class is two concentric circles of radii 2.5 and 2.2 in the xz-plane
  centred at the group's centre, so each xz band passes through the xy band's
  disc (a Hopf link).  The xy circles are class 1 in the groups at
  ``(-3,-3,3), (3,-3,-3), (3,3,-3), (3,-3,3)`` and class 0 in the other five.
  Points are equally spaced in angle, the same number per circle, then *every*
  coordinate gets independent uniform noise in ``[-0.7, 0.7]``: the two circles of
  a class merge into one thick band (one loop) and neighbouring groups come close.
* **D-III spheres.**  Class 0 is two Fibonacci-lattice spheres of radii 1 and 1.05
  per group (one thick shell: ``(9, 0, 9)`` over the nine groups); class 1 is two
  spheres of radii 2 and 2.05 plus one of radius 0.5 (``(18, 0, 18)``); every
  sphere gets the same number of points, and no noise.
* **Scaling.**  Every coordinate is divided by its largest absolute value over the
  whole set (scikit-learn's ``MaxAbsScaler``).

Differences from the ``"clean"`` geometry of :mod:`~toposcope.datasets.synthetic`:
there the rings are thin (one circle of radius 1 per class and group, Gaussian
jitter 5% of the radius) and the spheres single (radii 0.5, 1, 2, each lattice at
a random rotation, 1% radial jitter), both divided by one common factor.
"""

from __future__ import annotations

import numpy as np

from ..shapes import sphere

__all__ = [
    "CENTRES",
    "RING_NOISE",
    "XY_IS_CLASS_1",
    "max_abs_scale",
    "near_equal_counts",
    "ring_groups",
    "rings_points",
    "spheres_points",
]

CENTRES = np.array([[0, 0, 0]] + [[x, y, z] for x in (-3, 3) for y in (-3, 3) for z in (-3, 3)], dtype=float)
"""The nine group centres: the origin and the corners of ``[-3, 3]^3``."""

XY_IS_CLASS_1 = {(-3, -3, 3), (3, -3, -3), (3, 3, -3), (3, -3, 3)}
"""Groups whose xy-plane band is class 1 (class 0 in the other five)."""

RING_NOISE = 0.7
"""Half-width of the uniform noise added to every coordinate of the rings."""

_RING_RADII = (2.5, 2.2)
_SPHERE_RADII = ((1.0, 1.05), (2.0, 2.05, 0.5))  # class 0, class 1


def near_equal_counts(total: int, parts: int) -> np.ndarray:
    """Split ``total`` into ``parts`` near-equal integer counts (the larger ones first)."""
    base, extra = divmod(total, parts)
    return np.array([base + (i < extra) for i in range(parts)])


def max_abs_scale(X: np.ndarray) -> np.ndarray:
    """Divide every column by its largest absolute value (scikit-learn's ``MaxAbsScaler``)."""
    return X / np.abs(X).max(axis=0)


def ring_groups(total: int) -> np.ndarray:
    """The group (index into :data:`CENTRES`) of each of the ``total`` points of :func:`rings_points`."""
    return np.repeat(np.arange(9), near_equal_counts(total, 36).reshape(9, 4).sum(axis=1))


def rings_points(total: int, noise: float, rng: np.random.Generator, *, scale: bool = True
                 ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``total`` points of the D-II rings and their labels (36 circles, near-equal counts).

    Points are listed group by group (the order of :data:`CENTRES`); ``scale=False``
    skips the max-abs scaling.
    """
    points, labels = [], []
    counts = near_equal_counts(total, 36).reshape(9, 2, 2)
    for centre, per_class in zip(CENTRES, counts, strict=True):
        xy_label = int(tuple(centre.astype(int)) in XY_IS_CLASS_1)
        for plane, per_circle in enumerate(per_class):  # plane 0: xy band, plane 1: xz band
            for r, count in zip(_RING_RADII, per_circle, strict=True):
                t = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
                a, b = r * np.cos(t), r * np.sin(t)
                if plane == 0:
                    xyz = np.stack([a + 2.2, b, np.zeros(count)], axis=1)
                else:
                    xyz = np.stack([a, np.zeros(count), b], axis=1)
                points.append(centre + xyz + rng.uniform(-noise, noise, size=(count, 3)))
                labels.append(np.full(count, xy_label if plane == 0 else 1 - xy_label))
    X = np.concatenate(points)
    return (max_abs_scale(X) if scale else X), np.concatenate(labels)


def spheres_points(total: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``total`` points of the D-III spheres and their labels (45 spheres, near-equal counts).

    ``noise`` (0 in the original) jitters every radius by Gaussian noise of that
    relative standard deviation.
    """
    points, labels = [], []
    counts = near_equal_counts(total, 45).reshape(9, 5)
    radii = [(label, r) for label, group in enumerate(_SPHERE_RADII) for r in group]
    for centre, per_sphere in zip(CENTRES, counts, strict=True):
        for (label, r), count in zip(radii, per_sphere, strict=True):
            unit = sphere(count)
            scale = r * (1.0 + noise * rng.normal(size=(count, 1))) if noise else r
            points.append(centre + unit * scale)
            labels.append(np.full(count, label))
    return max_abs_scale(np.concatenate(points)), np.concatenate(labels)
