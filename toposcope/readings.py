"""Readings of a layer's clouds that can move, and the nulls they are judged against.

A fixed-scale Betti number of a CNN layer reads either ``(1, 0)`` (a large ``k``)
or the gaps of a sparse sample (a small ``k``, growing with the number of images).
The readings here are made to move with the data, not with the sample:

* :func:`long_bars` -- persistence bars longer than ``tau`` times the cloud's own
  nearest-neighbour scale: a scale-free count, stable in the number of points on
  evenly sampled shapes (a circle has one long H1 bar at 100 points as at 1,000);
* :func:`cross_class_share` -- the share of kNN edges that join different classes
  (0: classes apart; the share of the other classes' points when they are mixed);
* :func:`class_components` -- the components of all classes' points together at
  ``tau`` times the within-class nearest-neighbour scale (the paper's goal: as many
  components as classes, no holes);
* :func:`gaussian_null` and :func:`shuffled_labels` -- the nulls: a Gaussian cloud
  with the layer's mean and covariance and as many points, and the same cloud
  with its labels shuffled.  A reading counts as topology only where it differs
  from its null.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors, radius_neighbors_graph

from .clouds import as_point_cloud, normalise
from .complexes import ripser_diagrams
from .memory import check_ripser_memory

__all__ = ["class_components", "cross_class_share", "gaussian_null", "long_bars", "nn_scale", "shuffled_labels"]


def _labels(y: Any, n: int) -> np.ndarray:
    labels = np.asarray(y)
    if labels.shape != (n,):
        raise ValueError(f"need one label per point: {n} points, labels of shape {labels.shape}")
    return labels


def nn_scale(X: Any) -> float:
    """The cloud's own spacing: the median distance from a point to its nearest other point."""
    cloud = as_point_cloud(X)
    distances, _ = cKDTree(cloud).query(cloud, k=2)
    return float(np.median(distances[:, 1]))


def long_bars(X: Any, tau: float = 3.0, maxdim: int = 1) -> tuple[int, ...]:
    """Persistence bars longer than ``tau`` times the cloud's nearest-neighbour scale, per dimension.

    A bar counts if it lives at least ``tau * s`` (``s`` = :func:`nn_scale`) in the
    Euclidean Rips filtration, which is computed up to ``3 tau s`` (so a bar born
    by ``2 tau s`` and still alive there counts; H0: a component that stays apart
    that long, the one component that never dies included).  The count does not
    change when the cloud is scaled, and on an evenly sampled shape it does not
    change with the number of points (the spacing shrinks with the sample).

    Returns
    -------
    tuple of int
        ``(long H0, long H1, ...)`` up to ``maxdim``.
    """
    if not (isinstance(tau, int | float) and np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive number; got {tau!r}")
    cloud, _ = normalise(as_point_cloud(X))
    length = tau * nn_scale(cloud)
    reach = 3 * length  # the filtration stops there: a bar born before 2 * length and alive at 3 * length is long
    degrees = cKDTree(cloud).query_ball_point(cloud, reach, return_length=True) - 1
    check_ripser_memory(len(cloud), degrees.sum() / 2, 0.0 if maxdim < 2 else float(degrees.sum()) ** 1.5, maxdim,
                        dense=True)  # fmt: skip
    dgms = ripser_diagrams(cloud, maxdim, thresh=reach)
    return tuple(int(np.sum(np.minimum(d[:, 1], reach) - d[:, 0] >= length)) for d in dgms)


def cross_class_share(X: Any, y: Any, k: int = 10) -> float:
    """Share of the (directed) ``k``-nearest-neighbour edges whose ends carry different labels."""
    cloud = as_point_cloud(X)
    labels = _labels(y, len(cloud))
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < len(cloud):
        raise ValueError(f"k must be an integer from 1 to {len(cloud) - 1}; got {k!r}")
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(cloud).kneighbors(cloud)
    return float(np.mean(labels[neighbours[:, 1:]] != labels[:, None]))


def class_components(X: Any, y: Any, tau: float = 3.0) -> int:
    """Components of all classes' points together, joined within ``tau`` times the within-class spacing.

    The spacing is the median over classes of each class's :func:`nn_scale`, so
    classes that stay apart at their own spacing read as separate components (the
    paper's target: the number of classes), and classes that touch read fewer.
    """
    cloud = as_point_cloud(X)
    labels = _labels(y, len(cloud))
    spacing = np.median([nn_scale(cloud[labels == c]) for c in np.unique(labels) if (labels == c).sum() >= 2])
    graph = radius_neighbors_graph(cloud, radius=tau * spacing, mode="connectivity", include_self=False)
    return int(connected_components(graph, directed=False)[0])


def gaussian_null(X: Any, seed: int = 0) -> np.ndarray:
    """A Gaussian cloud with the mean and covariance of ``X`` and as many points: the null of no shape."""
    cloud = as_point_cloud(X)
    rng = np.random.default_rng(seed)
    centred = cloud - cloud.mean(0)
    # the covariance's square root through the points themselves: works when dimensions outnumber points
    return cloud.mean(0) + rng.standard_normal((len(cloud), len(cloud))) @ centred / np.sqrt(len(cloud) - 1)


def shuffled_labels(y: Any, seed: int = 0) -> np.ndarray:
    """The labels in a seeded random order: the null of a reading that depends on which point is which class."""
    return np.random.default_rng(seed).permutation(np.asarray(y))
