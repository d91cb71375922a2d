"""kNN hop graphs: the pairs of a point cloud within a few hops of its k-nearest-neighbour graph.

Naitzat et al.'s recipe (:func:`toposcope.betti_numbers`, ``method="knn"``) reads
the flag complex of the pairs at most ``hops`` apart; :func:`knn_hop_graph` builds
that graph as the pattern of a sparse matrix power, :func:`knn_hop_matrix` the hop
distances themselves (the filtration :func:`toposcope.persistence` reads with
``metric="knn"``).  Both check their memory before a product is formed
(:func:`toposcope.memory.check_hop_graph_memory`).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import shortest_path
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors

from .clouds import as_point_cloud, normalise
from .memory import check_hop_graph_memory

__all__ = ["DEFAULT_HOPS", "DEFAULT_K", "knn_hop_graph", "knn_hop_matrix"]

DEFAULT_K = 14
DEFAULT_HOPS = 2
KD_TREE_MAX_DIM = 32


def _whole(value: object) -> bool:
    """A whole number (numpy ones too), not a boolean, NaN or infinity."""
    return (not isinstance(value, bool | np.bool_) and isinstance(value, int | float | np.integer | np.floating)
            and np.isfinite(value) and int(value) == value)  # fmt: skip


def _check_k(k: int, n: int) -> int:
    if not _whole(k) or k < 2:
        raise ValueError(f"k (neighbours per point, the point itself counted) must be an integer >= 2; got {k}")
    if k > n:
        warnings.warn(f"k={k} is more than the {n} points of the cloud: using k={n}", stacklevel=3)
    return int(min(k, n))


def _knn_graph(X: np.ndarray, k: int, neighbours: np.ndarray | None = None) -> sparse.csr_matrix:
    """The symmetric k-nearest-neighbour graph with a loop at every point (non-zero pattern; values arbitrary).

    Two points are joined when either is among the other's ``k - 1`` nearest
    neighbours.  The loops make the pattern of the ``j``-th matrix power the pairs
    at most ``j`` hops apart.  ``neighbours``: each point's nearest points, itself
    first, at least ``k`` of them (:func:`toposcope.neighbours.knn_indices`), already
    found; default: search here.
    """
    n = len(X)
    if not 2 <= k <= n:  # the CSR arrays below are trusted: an index out of range would corrupt memory
        raise ValueError(f"k must be between 2 and the {n} points; got {k}")
    if neighbours is not None:
        if neighbours.ndim != 2 or neighbours.shape[0] != n or neighbours.shape[1] < k:
            raise ValueError(f"need at least {k} neighbours for each of the {n} points; got shape {neighbours.shape}")
        idx = np.ascontiguousarray(neighbours[:, :k], dtype=np.int64)
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"neighbour indices must lie in 0..{n - 1}")
        S = sparse.csr_matrix((np.ones(n * k, np.float32), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    elif X.shape[1] <= KD_TREE_MAX_DIM:  # a k-d tree, up to a few dozen dimensions (scipy's: the fastest here)
        _, idx = cKDTree(X).query(X, k=k)  # distinct points: each point is its own first neighbour
        if idx.max() >= n:  # "no neighbour" (an infinite distance): never let it into the CSR arrays
            raise ValueError("the k-d tree found no neighbour for some point: distances overflow; normalise the cloud")
        S = sparse.csr_matrix((np.ones(n * k, np.float32), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    else:  # brute force (a chunked matrix product) in high dimensions
        S = NearestNeighbors(n_neighbors=k - 1, algorithm="brute").fit(X).kneighbors_graph(mode="connectivity")
        S = (S + sparse.identity(n, format="csr")).astype(np.float32)
    return (S + S.T).tocsr()


def _check_hops(hops: int, name: str) -> int:
    if not _whole(hops) or hops < 1:
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
    """The pairs at most ``hops`` apart in the looped graph ``S``, as a pattern (the diagonal included).

    Stops once a hop adds no pair (every component's diameter reached), so a huge
    ``hops`` costs no more than the diameter.
    """
    R = S
    for hop in range(2, hops + 1):
        grown = _next_hop(R, S, hop)
        if grown.nnz == R.nnz:
            break
        R = grown
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


def _hop_graph(X: np.ndarray, k: int, hops: int, neighbours: np.ndarray | None = None) -> sparse.coo_matrix:
    """:func:`knn_hop_graph` of a checked, normalised cloud (:func:`toposcope.clouds.prepare`'s output)."""
    R = sparse.triu(_reach(_knn_graph(X, k, neighbours), hops), k=1).tocoo()
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
        grown = _next_hop(R, S, hop)
        if grown.nnz == R.nnz:  # the diameter is reached: the remaining hops add the same pattern each
            counts = counts + R * (max_hops + 1 - hop)
            break
        R = grown
        counts = counts + R
    counts = counts.tocoo()
    keep = counts.row != counts.col
    hops = max_hops + 1 - counts.data[keep].astype(np.float64)
    return sparse.coo_matrix((hops, (counts.row[keep], counts.col[keep])), shape=(n, n))
