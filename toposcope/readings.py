"""Readings of a layer's clouds that can move, and the nulls they are judged against.

A fixed-scale Betti number of a CNN layer reads either ``(1, 0)`` (a large ``k``)
or the gaps of a sparse sample (a small ``k``, growing with the number of images).
The readings here are made to move with the data, not with the sample:

* :func:`long_bars` -- persistence bars longer than ``tau`` times the cloud's own
  nearest-neighbour scale: a scale-free count, stable in the number of points on
  evenly sampled shapes (a circle has one long H1 bar at 100 points as at 1,000);
* :func:`cross_class_share` -- the share of kNN edges that join different classes
  (0: classes apart; the share of the other classes' points when they are mixed);
* :func:`~toposcope.linkage.merge_scale` -- how long the classes stay apart: the
  union's H0 read class by class (the median scale at which a point's class stops
  being the majority of its single-linkage component), in units of the within-class
  nearest-neighbour spacing;
* :func:`class_components` -- the components of all classes' points together at
  ``tau`` times the within-class nearest-neighbour scale (the paper's goal: as many
  components as classes, no holes);
* :func:`gaussian_null` and :func:`shuffled_labels` -- the nulls: a Gaussian cloud
  with the layer's mean and covariance and as many points, and the same cloud
  with its labels shuffled.  A reading counts as topology only where it differs
  from its null.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.neighbors import radius_neighbors_graph

from .clouds import as_point_cloud, check_labels, normalise
from .complexes import ripser_diagrams
from .linkage import check_classes, merge_scale_from, spanning_tree
from .memory import check_ripser_memory
from .neighbours import knn_indices, pairwise_distances

__all__ = [
    "class_components",
    "cross_class_share",
    "gaussian_null",
    "layer_readings",
    "long_bars",
    "nn_scale",
    "shuffled_labels",
]


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


def _class_neighbours(X: Any, y: Any, k: int, device: Any) -> tuple[np.ndarray, np.ndarray]:
    """(labels, each point's ``k`` nearest other points) of a checked cloud."""
    cloud = as_point_cloud(X)
    labels = check_labels(y, len(cloud))
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < len(cloud):
        raise ValueError(f"k must be an integer from 1 to {len(cloud) - 1}; got {k!r}")
    return labels, knn_indices(normalise(cloud)[0], int(k) + 1, device=device or "cpu", dtype=torch.float32,
                               check_finite=False)[:, 1:]


def _share(labels: np.ndarray, neighbours: np.ndarray) -> float:
    return float(np.mean(labels[neighbours] != labels[:, None]))


def cross_class_share(X: Any, y: Any, k: int = 10, *, device: Any = None) -> float:
    """Share of the (directed) ``k``-nearest-neighbour edges whose ends carry different labels.

    ``device``: where the neighbour search runs (:func:`toposcope.neighbours.knn_indices`,
    float32; default the CPU).  Its null (the same graph, labels shuffled) is near
    ``1 - sum(share_c ** 2)`` for classes of shares ``share_c``.
    """
    return _share(*_class_neighbours(X, y, k, device))


def class_components(X: Any, y: Any, tau: float = 3.0) -> int:
    """Components of all classes' points together, joined within ``tau`` times the within-class spacing.

    The spacing is the median over classes of each class's :func:`nn_scale`, so
    classes that stay apart at their own spacing read as separate components (the
    paper's target: the number of classes), and classes that touch read fewer.
    """
    cloud = as_point_cloud(X)
    labels = check_labels(y, len(cloud))
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


def _nested_subsets(labels: np.ndarray, sizes: Sequence[int], seed: int) -> dict[int, np.ndarray]:
    """For each size ``n``, sorted indices of ``n`` points of each class; the smaller draws inside the larger."""
    rng = np.random.default_rng(seed)
    orders = {c: rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)}
    return {n: np.sort(np.concatenate([order[:n] for order in orders.values()])) for n in sizes}


def layer_readings(acts: Mapping[str, Any], y: Any, *, sizes: Sequence[int], k: int = 10, tau: float = 3.0,
                   bar_points: int | Sequence[int] = 100, pairs: Sequence[tuple[int, int]] = (), seed: int = 0,
                   device: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    """The readings that can move, with their nulls, for every layer of one set of inputs.

    For each layer (its outputs in ``acts``, one row per input, labels ``y``), on
    ``n`` inputs of each class for each ``n`` in ``sizes`` (the smaller draws
    nested in the larger, so that a reading's change with ``n`` is the sample's),
    for all classes (class ``"all"``) and for each pair of classes in ``pairs``
    (class ``"a-b"``, the binary tasks of the paper):

    * ``"cross_share"``: :func:`cross_class_share` at ``k``; its null reads the
      same graph with the labels shuffled;
    * ``"merge_scale"``: :func:`~toposcope.linkage.merge_scale`; its null, the same tree with the
      labels shuffled (in the true classes' spacing);

    and per class, for each ``n`` in ``bar_points`` (nested draws):

    * ``"long_h0"``, ``"long_h1"``: :func:`long_bars` at ``tau`` on ``n`` inputs
      of the class; its null is :func:`gaussian_null` of the same points.

    One distance matrix per layer (of the largest draw, computed on ``device``)
    serves every size and group; it takes ``4 (classes * max(sizes))^2`` bytes.

    Parameters
    ----------
    acts : mapping of str to (n, d) array or tensor
        Each layer's outputs for the same inputs, in the same order.
    y : (n,) array or tensor
        Integer class labels.
    sizes : sequence of int
        Inputs per class for the separation readings; classes with fewer use all they have.
    k, tau, seed
        The readings' parameters and the seed of the draws and nulls.
    bar_points : int or sequence of int, default 100
        Inputs per class for the long bars.
    pairs : sequence of (int, int), optional
        Pairs of classes whose separation to read on their own.
    device : str or torch.device, optional
        Where the distances are computed.

    Returns
    -------
    list of dict
        Rows ``layer, reading, class, n, value, null``.
    """
    labels = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if not sizes or any(isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in sizes):
        raise ValueError(f"sizes must be integers >= 2 (inputs per class); got {sizes!r}")
    points = [bar_points] if isinstance(bar_points, int | np.integer) else list(bar_points)
    if not points or any(isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 3 for n in points):
        raise ValueError(f"bar_points must be integers >= 3; got {bar_points!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    missing = sorted({c for pair in pairs for c in pair} - set(np.unique(labels).tolist()))
    if missing:
        raise ValueError(f"pairs name classes {missing} that the labels do not hold")
    subsets = _nested_subsets(labels, sorted(set(sizes)), seed)
    largest = subsets[max(subsets)]
    bars = _nested_subsets(labels, sorted({int(n) for n in points}), seed + 1)
    rows: list[dict[str, Any]] = []
    for layer, out in acts.items():
        cloud = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
        cloud = cloud.reshape(len(cloud), -1)
        check_labels(labels, len(cloud))
        distances = pairwise_distances(normalise(as_point_cloud(cloud[largest]))[0],
                                       device=device or "cpu").fill_diagonal_(torch.inf)  # fmt: skip
        for n, idx in subsets.items():
            groups = [("all", idx)] + [(f"{a}-{b}", idx[np.isin(labels[idx], (a, b))]) for a, b in pairs]
            for name, part in groups:
                rows += _separation_rows(distances, np.searchsorted(largest, part), labels[part], k, seed,
                                         {"layer": layer, "class": name, "n": n})  # fmt: skip
        for chosen in bars.values():
            for c in np.unique(labels[chosen]).tolist():
                own = cloud[chosen[labels[chosen] == c]]
                if len(np.unique(own, axis=0)) < 3:
                    continue
                value, null = long_bars(own, tau), long_bars(gaussian_null(own, seed), tau)
                for dim in (0, 1):
                    rows.append({"layer": layer, "reading": f"long_h{dim}", "class": c, "n": len(own),
                                 "value": value[dim], "null": null[dim]})  # fmt: skip
    return rows


def _separation_rows(distances: torch.Tensor, at: np.ndarray, labels: np.ndarray, k: int, seed: int,
                     keys: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    """The ``cross_share`` and ``merge_scale`` rows of the points at rows ``at`` of ``distances``."""
    if not k < len(at):
        raise ValueError(f"k must be below the {len(at)} points of {keys['class']} at n = {keys['n']}; got {k}")
    part = distances if len(at) == len(distances) else distances[torch.from_numpy(at)][:, torch.from_numpy(at)]
    neighbours = torch.topk(part, k, dim=1, largest=False).indices.cpu().numpy()
    check_classes(labels)
    shuffled = shuffled_labels(labels, seed)
    tree = spanning_tree(part)
    return [{**keys, "reading": "cross_share", "value": _share(labels, neighbours),
             "null": _share(shuffled, neighbours)},
            {**keys, "reading": "merge_scale", "value": merge_scale_from(part, tree, labels, labels),
             "null": merge_scale_from(part, tree, shuffled, labels)}]  # fmt: skip
