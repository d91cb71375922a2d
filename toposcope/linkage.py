"""Single linkage of labelled clouds: the minimum spanning tree and how long classes stay apart along it.

:func:`merge_scale` reads the union's H0 class by class (issue 27's "persistence of the
union's H0, in units of the within-class spacing"); :func:`toposcope.layer_readings`
reads it for every layer from one distance matrix through :func:`merge_scale_from`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from .clouds import as_point_cloud, check_labels, normalise
from .neighbours import pairwise_distances

__all__ = ["check_classes", "merge_scale", "merge_scale_from", "spanning_tree"]


def check_classes(labels: np.ndarray) -> np.ndarray:
    """``labels`` if they hold at least two classes of at least two points each; else a ``ValueError``."""
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        raise ValueError("need at least two classes of at least two points each; got counts "
                         f"{dict(zip(classes.tolist(), counts.tolist(), strict=True))}")  # fmt: skip
    return labels


def merge_scale(X: Any, y: Any, *, device: Any = None) -> float:
    """How long the classes stay apart, in units of the within-class spacing: the union's H0 read class by class.

    Grow the single-linkage (Rips H0) filtration of all points together.  A point's
    class *merges* at the first scale where it is no longer the strict majority of
    the point's component (a point alone is its own majority; two points of
    different classes are none).  The reading is the median over points of that
    scale, divided by the within-class spacing (the median over classes of each
    class's :func:`nn_scale`).  Classes mixed together merge at about one spacing,
    as does any cloud with its labels shuffled; classes apart merge at their gap; a
    few stray points of another class inside a class's cluster merge at once but do
    not move the median.  Points of a class that holds a strict majority of every
    point never merge and count at the last scale, where everything is joined.

    Parameters
    ----------
    X : (n, d) array or tensor
        The points of every class.
    y : (n,) array
        Their labels: at least two classes of at least two points each.
    device : str or torch.device, optional
        Where the distance matrix is computed and held (default the CPU; it takes
        ``4 n^2`` bytes).

    Returns
    -------
    float
        The median merging scale over the within-class spacing; NaN, with a warning,
        where that spacing is 0 (most points of a class repeated).
    """
    cloud = as_point_cloud(X)
    labels = check_classes(check_labels(y, len(cloud)))
    distances = pairwise_distances(normalise(cloud)[0], device=device or "cpu").fill_diagonal_(torch.inf)
    return merge_scale_from(distances, spanning_tree(distances), labels, labels)


def merge_scale_from(distances: torch.Tensor, tree: tuple[np.ndarray, ...], labels: np.ndarray,
                 spacing_labels: np.ndarray) -> float:  # fmt: skip
    """:func:`merge_scale` from a distance matrix with an infinite diagonal and its :func:`spanning_tree`, for
    labels already checked (:func:`check_classes`).

    The spacing is read with ``spacing_labels`` (a null with shuffled labels keeps the true classes' spacing).
    """
    spacing = float(np.median([np.median(distances[idx][:, idx].min(1).values.cpu().numpy())
                               for idx in (torch.from_numpy(np.flatnonzero(spacing_labels == c))
                                           for c in np.unique(spacing_labels))]))  # fmt: skip
    if spacing == 0:
        warnings.warn("the within-class spacing is 0 (repeated points): the merge scale is undefined", stacklevel=3)
        return float("nan")
    return _median_merge(*tree, labels) / spacing


def spanning_tree(distances: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The minimum spanning tree of a dense distance matrix (Prim's algorithm, on its device): ends, ends, lengths.

    Its ``n - 1`` edge lengths are where the H0 bars of the Rips filtration end.
    """
    n = len(distances)
    on = distances.device
    best, nearest = distances[0].clone(), torch.zeros(n, dtype=torch.long, device=on)
    done = torch.zeros(n, dtype=torch.bool, device=on)
    done[0] = True
    best[0] = torch.inf
    picked, parents, lengths = (torch.empty(n - 1, dtype=dtype, device=on)
                                for dtype in (torch.long, torch.long, distances.dtype))  # fmt: skip
    for i in range(n - 1):
        j = torch.argmin(best)
        picked[i], parents[i], lengths[i] = j, nearest[j], best[j]
        done[j] = True
        row = distances[j]
        nearest = torch.where(row < best, j, nearest)
        best = torch.minimum(best, row).masked_fill_(done, torch.inf)
    return picked.cpu().numpy(), parents.cpu().numpy(), lengths.cpu().numpy()


def _median_merge(a: np.ndarray, b: np.ndarray, lengths: np.ndarray, labels: np.ndarray) -> float:
    """The tree's edges added shortest first: the median over points of the length where their class merges."""
    classes, codes = np.unique(labels, return_inverse=True)
    counts = np.zeros((len(labels), len(classes)), dtype=np.int64)
    counts[np.arange(len(labels)), codes] = 1
    waiting = counts.copy()  # per component: its points whose class has not merged yet, by class
    root = np.arange(len(labels))
    times, weights = [], []

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for edge in np.argsort(lengths, kind="stable"):
        top, other = find(a[edge]), find(b[edge])
        root[other] = top
        counts[top] += counts[other]
        waiting[top] += waiting[other]
        major = int(np.argmax(counts[top]))
        kept = waiting[top, major] if 2 * counts[top, major] > counts[top].sum() else 0
        if waiting[top].sum() > kept:
            times.append(lengths[edge])
            weights.append(waiting[top].sum() - kept)
            waiting[top] = 0
            waiting[top, major] = kept
    times.append(lengths.max())  # the majority of every point, if one class holds it, never merges
    weights.append(len(labels) - sum(weights))
    return float(np.median(np.repeat(times, weights)))
