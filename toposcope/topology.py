"""Betti numbers and persistence diagrams of point clouds.

The default recipe is that of Naitzat, Zhitnikov & Lim (JMLR 2020): join every
point to its nearest neighbours, measure distance as the number of hops in that
graph, and read the Betti numbers of the Vietoris-Rips (flag) complex at a fixed
number of hops.  Measuring in hops makes the recipe blind to the overall size of
a cloud, which changes a lot from one layer of a network to the next.

Homology is computed by ripser (scikit-tda).  The fixed-scale methods build a
sparse matrix that holds only the edges the complex at that scale can use, so no
full filtration is ever built, and large complexes are first shrunk by exact edge
collapses (gudhi; :mod:`toposcope.complexes`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from sklearn.neighbors import radius_neighbors_graph

from .clouds import DEFAULT_MAX_POINTS, SAMPLINGS, SmallCloudWarning, prepare
from .complexes import ENGINES, check_complex_memory, flag_complex_betti, graph_betti, ripser_diagrams
from .complexes import check_maxdim as _check_maxdim
from .hops import (
    DEFAULT_HOPS,
    DEFAULT_K,
    KD_TREE_MAX_DIM,
    _check_k,
    _hop_graph,
    _hop_matrix,
    _whole,
    knn_hop_graph,
    knn_hop_matrix,
)
from .memory import check_ripser_memory, clique_bound
from .neighbours import knn_indices

__all__ = [
    "BettiResult",
    "betti_curve",
    "betti_numbers",
    "flag_complex_betti",
    "knn_hop_graph",
    "knn_hop_matrix",
    "persistence",
]

METHODS = ("knn", "rips", "persistence")


@dataclass(frozen=True)
class BettiResult:
    """Betti numbers of one point cloud and how they were computed.

    Attributes
    ----------
    betti : tuple of int
        ``betti[d]`` is the Betti number in dimension ``d``, for ``d = 0..maxdim``.
    method : str
        ``"knn"``, ``"rips"`` or ``"persistence"``.
    params : dict
        The parameters of the method (``k``, ``scale``, ``min_persistence``,
        ``sampling``, ``seed``...).
    n_points : int
        Points the homology was computed on: distinct points, after subsampling.
    n_input : int
        Points in the cloud as given.
    """

    betti: tuple[int, ...]
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    n_points: int = 0
    n_input: int = 0

    def __getitem__(self, dim: int) -> int:
        return self.betti[dim]

    def __iter__(self):
        return iter(self.betti)

    def __len__(self) -> int:
        return len(self.betti)


def _check_dense_memory(arr: np.ndarray, maxdim: int, thresh: float = math.inf) -> None:
    """The memory guard for ripser on points (a dense distance matrix), up to ``thresh``."""
    n = len(arr)
    if math.isinf(thresh):
        degrees = np.full(n, n - 1)
    else:
        degrees = cKDTree(arr).query_ball_point(arr, thresh, return_length=True) - 1
    top = (math.comb(n, maxdim + 1) if math.isinf(thresh) else clique_bound(degrees, maxdim + 1)) if maxdim >= 2 else 0
    check_ripser_memory(n, degrees.sum() / 2, top, maxdim, dense=True)


def _warn_if_small(n_points: int, b0: int, k: int, hops: int) -> None:
    """:class:`SmallCloudWarning` when the components hold too few points for loops to show (see its rule)."""
    need = 1.5 * hops * (k - 1)
    if n_points / max(b0, 1) < need:
        warnings.warn(
            f"{n_points} points in {b0} component(s): {n_points / max(b0, 1):.0f} per component, fewer than "
            f"1.5 * hops * (k - 1) = {need:.0f}, so the kNN recipe cannot show loops here; "
            "use more points or a smaller k (see toposcope.SmallCloudWarning)",
            SmallCloudWarning,
            stacklevel=3,
        )


def _check_options(maxdim: int, max_points: int | None, sampling: str, engine: str) -> int:
    """Check the options every Betti computation shares; return ``maxdim`` as an int."""
    maxdim = _check_maxdim(maxdim)
    if max_points is not None and max_points < 2:
        raise ValueError(f"max_points must be at least 2 or None; got {max_points}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}; got {sampling!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}")
    return maxdim


def betti_numbers(
    X: Any,
    maxdim: int = 1,
    method: str = "knn",
    *,
    k: int = DEFAULT_K,
    scale: float | None = None,
    min_persistence: float | None = None,
    max_points: int | None = DEFAULT_MAX_POINTS,
    sampling: str = "maxmin",
    seed: int = 0,
    engine: str = "auto",
) -> BettiResult:
    """Betti numbers ``b0..b_maxdim`` of a point cloud.

    Parameters
    ----------
    X : (n, d) array or tensor
        The point cloud, one point per row.  Duplicate points are merged first.
    maxdim : int, default 1
        Highest homology dimension (2 gives voids; it costs more).
    method : {"knn", "rips", "persistence"}, default "knn"
        ``"knn"``: Naitzat et al.'s recipe.  Build the graph joining each point to
        its ``k`` nearest neighbours (itself counted), measure distance in hops,
        and count the homology classes of the Rips complex at ``scale`` hops
        (default 2).  ``"rips"``: the Euclidean Rips complex at radius ``scale``
        (required).  ``"persistence"``: full Euclidean Rips persistence; count
        the bars longer than ``min_persistence`` (required), infinite bars
        included.
    k : int, default 14
        Neighbours per point for ``"knn"``.
    scale : float, optional
        Hops (``"knn"``, a positive integer, default 2) or Euclidean distance
        (``"rips"``).
    min_persistence : float, optional
        Bar length threshold for ``"persistence"``.
    max_points : int or None, default 12000
        Clouds with more distinct points are subsampled to this many, with a
        :class:`SubsampleWarning`.  ``None`` never subsamples (beware: the cost
        grows quickly with the number of points).
    sampling : {"maxmin", "random"}, default "maxmin"
        How to subsample (see :func:`subsample`).
    seed : int, default 0
        Seed of the subsample.
    engine : {"auto", "ripser", "gudhi"}, default "auto"
        How the fixed-scale methods reduce their complex (same answer; see
        :func:`toposcope.complexes.flag_complex_betti`): ``"gudhi"`` collapses
        edges first, which is several times faster on large complexes.

    Returns
    -------
    BettiResult

    Raises
    ------
    TypeError, ValueError
        On a cloud that is not 2-D, not finite, or has fewer than 2 points, and
        on parameters that do not fit the method.

    Notes
    -----
    Fixed-scale Betti numbers depend on sampling density: an evenly sampled
    shape gives its true Betti numbers over a wide range of ``k``; a sparse or
    uneven random sample of a surface can show spurious small loops and voids.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    maxdim = _check_options(maxdim, max_points, sampling, engine)
    params: dict[str, Any] = {"maxdim": maxdim, "max_points": max_points, "sampling": sampling, "seed": seed}

    if method == "knn":
        hops = DEFAULT_HOPS if scale is None else scale
        if not _whole(hops) or hops < 1:
            raise ValueError(f"scale for method 'knn' is a number of hops, a positive integer; got {scale!r}")
        if not _whole(k) or k < 2:
            raise ValueError(f"k (neighbours per point, the point itself counted) must be an integer >= 2; got {k!r}")
        params.update(k=int(k), scale=int(hops))
    elif method == "rips":
        if scale is None or not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"method 'rips' needs a positive, finite scale (a Euclidean radius); got {scale}")
        params.update(scale=float(scale))
    elif min_persistence is None or not (np.isfinite(min_persistence) and min_persistence >= 0):
        raise ValueError(f"method 'persistence' needs min_persistence, a bar length >= 0; got {min_persistence}")
    else:
        params.update(min_persistence=float(min_persistence))

    arr, n_input, unit = prepare(X, max_points, sampling, seed)
    if len(arr) == 1:  # every point was mapped to the same place: a single point
        betti = (1,) + (0,) * maxdim
    elif method == "knn":
        params["k"] = _check_k(k, len(arr))
        betti = graph_betti(_hop_graph(arr, params["k"], params["scale"]), maxdim, engine)
        if maxdim >= 1:
            _warn_if_small(len(arr), betti[0], params["k"], params["scale"])
    elif method == "rips":
        edges = radius_neighbors_graph(arr, radius=scale / unit, mode="connectivity", include_self=False).tocoo()
        betti = flag_complex_betti(edges, maxdim, engine)
    else:
        _check_dense_memory(arr, maxdim)
        dgms = ripser_diagrams(arr, maxdim)
        betti = tuple(int(np.sum(d[:, 1] - d[:, 0] > min_persistence / unit)) for d in dgms)
    return BettiResult(betti=betti, method=method, params=params, n_points=len(arr), n_input=n_input)


def betti_curve(
    X: Any,
    ks: Any,
    maxdim: int = 1,
    *,
    scale: int | None = None,
    device: Any = None,
    max_points: int | None = DEFAULT_MAX_POINTS,
    sampling: str = "maxmin",
    seed: int = 0,
    engine: str = "auto",
) -> list[BettiResult]:
    """The kNN recipe's Betti numbers at several ``k``, from one neighbour search.

    The same numbers as ``[betti_numbers(X, maxdim, k=k, scale=scale, ...) for k in ks]``
    (ties between equally distant neighbours aside), at the cost of one search for
    the ``max(ks)`` nearest neighbours: the ``k`` nearest are its first ``k``.  The
    search runs on ``device`` (blocked matrix products in torch,
    :func:`toposcope.neighbours.knn_indices`), so a model on a GPU reads its
    layers' neighbours there.

    Parameters
    ----------
    X : (n, d) array or tensor
    ks : sequence of int
        Neighbours per point (each an integer >= 2).
    maxdim : int, default 1
    scale : int, optional
        Hops (default 2).
    device : str or torch.device, optional
        Where the neighbour search runs.  Default: a k-d tree on the CPU up to 32
        dimensions, torch on the CPU above.
    max_points, sampling, seed, engine
        As in :func:`betti_numbers`.

    Returns
    -------
    list of BettiResult
        One per ``k``, in the order of ``ks``.
    """
    ks = list(ks) if not isinstance(ks, str) and hasattr(ks, "__iter__") else None
    if not ks:
        raise ValueError("ks must be a non-empty sequence of integers >= 2")
    for k in ks:
        if not _whole(k) or k < 2:
            raise ValueError(f"each k (neighbours per point, the point itself counted) must be an integer >= 2; "
                             f"got {k!r}")  # fmt: skip
    hops = DEFAULT_HOPS if scale is None else scale
    if not _whole(hops) or hops < 1:
        raise ValueError(f"scale is a number of hops, a positive integer; got {scale!r}")
    maxdim = _check_options(maxdim, max_points, sampling, engine)
    arr, n_input, _ = prepare(X, max_points, sampling, seed)
    base = {"maxdim": maxdim, "max_points": max_points, "sampling": sampling, "seed": seed, "scale": int(hops)}
    if len(arr) == 1:
        return [BettiResult((1,) + (0,) * maxdim, "knn", {**base, "k": int(k)}, 1, n_input) for k in ks]
    used = [_check_k(k, len(arr)) for k in ks]
    if device is None and arr.shape[1] <= KD_TREE_MAX_DIM:
        neighbours = cKDTree(arr).query(arr, k=max(used))[1].reshape(len(arr), -1)
    else:
        neighbours = knn_indices(arr, max(used), device=device or "cpu", check_finite=False)  # prepare checked it
    results = []
    for k in used:
        betti = graph_betti(_hop_graph(arr, k, int(hops), neighbours), maxdim, engine)
        if maxdim >= 1:
            _warn_if_small(len(arr), betti[0], k, int(hops))
        results.append(BettiResult(betti, "knn", {**base, "k": k}, len(arr), n_input))
    return results


def persistence(
    X: Any,
    maxdim: int = 1,
    metric: str = "euclidean",
    *,
    k: int = DEFAULT_K,
    thresh: float = math.inf,
    max_points: int | None = DEFAULT_MAX_POINTS,
    sampling: str = "maxmin",
    seed: int = 0,
) -> list[np.ndarray]:
    """Persistence diagrams of the Rips filtration of a point cloud.

    Parameters
    ----------
    X : (n, d) array or tensor
    maxdim : int, default 1
    metric : {"euclidean", "knn"}, default "euclidean"
        ``"knn"`` filters by hop distance in the k-nearest-neighbour graph (the
        filtration whose slice at 2 hops gives the default Betti numbers).
    k : int, default 14
        Neighbours per point for ``metric="knn"``.
    thresh : float, default inf
        Stop the filtration at this scale (bars still alive get death ``inf``).
    max_points, sampling, seed
        As in :func:`betti_numbers`.

    Returns
    -------
    list of (m, 2) arrays
        ``dgms[d]`` holds the (birth, death) pairs in dimension ``d``: the format
        of ``ripser(...)["dgms"]``, ready for ``persim.plot_diagrams``.
    """
    if metric not in ("euclidean", "knn"):
        raise ValueError(f"metric must be 'euclidean' or 'knn'; got {metric!r}")
    maxdim = _check_maxdim(maxdim)
    if not (thresh > 0):  # also catches NaN
        raise ValueError(f"thresh must be positive (inf for the whole filtration); got {thresh}")
    arr, _, unit = prepare(X, max_points, sampling, seed)
    if metric == "euclidean":
        _check_dense_memory(arr, maxdim, thresh / unit)
        return [d * unit for d in ripser_diagrams(arr, maxdim, thresh=thresh / unit)]
    k = _check_k(k, len(arr))
    max_hops = None if math.isinf(thresh) else max(1, math.floor(thresh))
    D = _hop_matrix(arr, k, max_hops)
    check_complex_memory(D, maxdim)
    return ripser_diagrams(D, maxdim, distance_matrix=True, thresh=thresh)
