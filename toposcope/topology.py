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
from ripser import ripser
from scipy import sparse
from scipy.sparse.csgraph import shortest_path
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors, radius_neighbors_graph

from .clouds import DEFAULT_MAX_POINTS, SAMPLINGS, SmallCloudWarning, as_point_cloud, normalise, prepare
from .complexes import ENGINES, check_complex_memory, flag_complex_betti, graph_betti
from .complexes import check_maxdim as _check_maxdim
from .memory import check_hop_graph_memory, check_ripser_memory, clique_bound

__all__ = [
    "BettiResult",
    "betti_numbers",
    "flag_complex_betti",
    "knn_hop_graph",
    "knn_hop_matrix",
    "persistence",
]

METHODS = ("knn", "rips", "persistence")
DEFAULT_K = 14
DEFAULT_HOPS = 2
KD_TREE_MAX_DIM = 32


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


def _check_k(k: int, n: int) -> int:
    if int(k) != k or k < 2:
        raise ValueError(f"k (neighbours per point, the point itself counted) must be an integer >= 2; got {k}")
    if k > n:
        warnings.warn(f"k={k} is more than the {n} points of the cloud: using k={n}", stacklevel=4)
    return int(min(k, n))


def _knn_graph(X: np.ndarray, k: int) -> sparse.csr_matrix:
    """The symmetric k-nearest-neighbour graph with a loop at every point (non-zero pattern; values arbitrary).

    Two points are joined when either is among the other's ``k - 1`` nearest
    neighbours.  The loops make the pattern of the ``j``-th matrix power the pairs
    at most ``j`` hops apart.
    """
    n = len(X)
    if not 2 <= k <= n:  # the CSR arrays below are trusted: an index out of range would corrupt memory
        raise ValueError(f"k must be between 2 and the {n} points; got {k}")
    if X.shape[1] <= KD_TREE_MAX_DIM:  # a k-d tree, up to a few dozen dimensions (scipy's: the fastest here)
        _, idx = cKDTree(X).query(X, k=k)  # distinct points: each point is its own first neighbour
        if idx.max() >= n:  # "no neighbour" (an infinite distance): never let it into the CSR arrays
            raise ValueError("the k-d tree found no neighbour for some point: distances overflow; normalise the cloud")
        S = sparse.csr_matrix((np.ones(n * k, np.float32), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    else:  # brute force (a chunked matrix product) in high dimensions
        S = NearestNeighbors(n_neighbors=k - 1, algorithm="brute").fit(X).kneighbors_graph(mode="connectivity")
        S = (S + sparse.identity(n, format="csr")).astype(np.float32)
    return (S + S.T).tocsr()


def _check_hops(hops: int, name: str) -> int:
    if int(hops) != hops or hops < 1:
        raise ValueError(f"{name} must be a positive integer; got {hops}")
    return int(hops)


def _next_hop(R: sparse.csr_matrix, S: sparse.csr_matrix, hops: int) -> sparse.csr_matrix:
    """``R @ S`` as a 0/1 pattern: the pairs one hop farther than ``R``'s, ``hops`` apart at most.

    Its memory is checked first: the walks of one more hop bound the pairs it can hold.
    """
    n = S.shape[0]
    degrees = np.diff(S.indptr)
    check_hop_graph_memory(n, min(float(n) ** 2, float(degrees[R.indices].sum())), hops)
    R = R @ S
    R.data[:] = 1  # keep the pattern, not the walk counts
    return R


def _reach(S: sparse.csr_matrix, hops: int) -> sparse.csr_matrix:
    """The pairs at most ``hops`` apart in the looped graph ``S``, as a pattern (the diagonal included)."""
    R = S
    for hop in range(2, hops + 1):
        R = _next_hop(R, S, hop)
    return R


def knn_hop_graph(X: np.ndarray, k: int = DEFAULT_K, hops: int = DEFAULT_HOPS) -> sparse.coo_matrix:
    """The graph joining the points of a cloud at most ``hops`` hops apart in its kNN graph.

    Its flag complex is the complex whose Betti numbers :func:`betti_numbers`
    reads with ``method="knn"`` (the same pattern as ``knn_hop_matrix(X, k,
    hops)``, built without the hop counts).

    Parameters
    ----------
    X : (n, d) array or tensor
        Distinct points (see :func:`betti_numbers`, which merges duplicates first).
    k : int
        Neighbours per point, the point itself counted (more than ``n``: ``n``,
        with a warning).
    hops : int
        The scale, a positive integer.

    Returns
    -------
    scipy.sparse.coo_matrix
        ``(n, n)``, the upper triangle (``row < col``) of the edges, float32 ones.

    Raises
    ------
    TypeError, ValueError
        On a cloud that is not 2-D, not finite, or has fewer than 2 points, and
        on ``k < 2`` or a ``hops`` that is not a positive integer.
    MemoryError
        When the graph could outgrow :mod:`toposcope.memory`'s budget.
    """
    hops = _check_hops(hops, "hops")
    X, _ = normalise(as_point_cloud(X))  # neighbours do not change; distances cannot overflow
    return _hop_graph(X, _check_k(k, len(X)), hops)


def _hop_graph(X: np.ndarray, k: int, hops: int) -> sparse.coo_matrix:
    """:func:`knn_hop_graph` of a checked, normalised cloud (:func:`toposcope.clouds.prepare`'s output)."""
    R = sparse.triu(_reach(_knn_graph(X, k), hops), k=1).tocoo()
    R.data[:] = 1
    return R


def knn_hop_matrix(X: np.ndarray, k: int = DEFAULT_K, max_hops: int | None = DEFAULT_HOPS) -> sparse.coo_matrix:
    """Hop distances in the symmetric k-nearest-neighbour graph of a cloud.

    Parameters
    ----------
    X : (n, d) array or tensor
        Distinct points.
    k : int
        Neighbours per point, the point itself counted (so ``k - 1`` others;
        more than ``n``: ``n``, with a warning).  Two points are joined when
        either is among the other's neighbours.
    max_hops : int or None
        Keep only pairs at most this many hops apart (``None``: all connected
        pairs).  The matrix then holds exactly the edges that the Rips complex at
        ``max_hops`` can use.

    Returns
    -------
    scipy.sparse.coo_matrix
        ``(n, n)``, symmetric, ``D[i, j]`` = hops from ``i`` to ``j`` (absent:
        farther than ``max_hops`` or disconnected; the diagonal is empty).

    Raises
    ------
    TypeError, ValueError
        As :func:`knn_hop_graph`.
    MemoryError
        When the matrix could outgrow :mod:`toposcope.memory`'s budget.

    See Also
    --------
    knn_hop_graph : the pairs within a number of hops, without their distances (faster).
    """
    if max_hops is not None:
        max_hops = _check_hops(max_hops, "max_hops")
    X, _ = normalise(as_point_cloud(X))  # neighbours do not change; distances cannot overflow
    return _hop_matrix(X, _check_k(k, len(X)), max_hops)


def _hop_matrix(X: np.ndarray, k: int, max_hops: int | None) -> sparse.coo_matrix:
    """:func:`knn_hop_matrix` of a checked, normalised cloud."""
    n = len(X)
    S = _knn_graph(X, k)
    if max_hops is None:
        check_hop_graph_memory(n, 2.0 * n**2, None)  # a dense n x n matrix, then its entries' indices
        D = shortest_path(S, method="D", unweighted=True, directed=False)
        i, j = np.nonzero(np.isfinite(D) & (D > 0))
        return sparse.coo_matrix((D[i, j], (i, j)), shape=(n, n))
    # A pair j hops apart is in the patterns of S^j .. S^max_hops: its hop
    # distance is max_hops + 1 minus the number of patterns it is in.
    S.data[:] = 1
    R, counts = S, S
    for hop in range(2, max_hops + 1):
        R = _next_hop(R, S, hop)
        counts = counts + R
    counts = counts.tocoo()
    keep = counts.row != counts.col
    hops = max_hops + 1 - counts.data[keep].astype(np.float64)
    return sparse.coo_matrix((hops, (counts.row[keep], counts.col[keep])), shape=(n, n))


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
    maxdim = _check_maxdim(maxdim)
    if max_points is not None and max_points < 2:
        raise ValueError(f"max_points must be at least 2 or None; got {max_points}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}; got {sampling!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}")
    params: dict[str, Any] = {"maxdim": maxdim, "max_points": max_points, "sampling": sampling, "seed": seed}

    if method == "knn":
        hops = DEFAULT_HOPS if scale is None else scale
        if int(hops) != hops or hops < 1:
            raise ValueError(f"scale for method 'knn' is a number of hops, a positive integer; got {scale}")
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
        dgms = ripser(arr, maxdim=maxdim)["dgms"]
        betti = tuple(int(np.sum(d[:, 1] - d[:, 0] > min_persistence / unit)) for d in dgms)
    return BettiResult(betti=betti, method=method, params=params, n_points=len(arr), n_input=n_input)


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
        return [d * unit for d in ripser(arr, maxdim=maxdim, thresh=thresh / unit)["dgms"]]
    k = _check_k(k, len(arr))
    max_hops = None if math.isinf(thresh) else max(1, math.floor(thresh))
    D = _hop_matrix(arr, k, max_hops)
    check_complex_memory(D, maxdim)
    return ripser(D, maxdim=maxdim, distance_matrix=True, thresh=thresh)["dgms"]
